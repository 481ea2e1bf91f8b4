"""Claims room, criteria: how a claim is judged, part by part (the verdicts: claims.verdicts).

Built from `below`, `above`, `between`, `within` and `&` (all must hold). Each part compares an
arm's values (one per seed) with a number or, paired by seed, with another arm, either seed by
seed ("in at least 80% of seeds") or on the mean's 95% interval. Verdicts:

reproduced when every part holds, not reproduced when some part clearly fails, inconclusive on too
few seeds or an interval that straddles the threshold, failed when the run did not produce what
the criterion needs; a check (exact or deterministic) holds or fails instead.

A diverged run fails every part that reads it, whatever the part's direction: a NaN seed (of a
reproduction, also a non-finite one) is never inside a band, a paired difference with a NaN side
is NaN, and a mean with a diverged seed has no interval (the part is "not reproduced"). Where
divergence is itself the outcome (Pascanu's stability, Britz's encoders), a claim reads an explicit
0/1 divergence arm instead.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from repro.claims.stats import fmt, interval, wilson_interval
from repro.claims.verdicts import Domains, Evaluation, Verdict, worst


class Criterion:
    """A pass criterion. Combine parts with `&`; every part must hold."""

    def evaluate(
        self,
        values: Mapping[str, Sequence[float]],
        domains: Domains | None = None,
        exact: bool = False,
    ) -> Evaluation:
        """Judge `values` (arm -> one value per seed); `domains`: arm -> domain (which interval
        the mean gets); `exact`: a check, whose values are measurements, not a sample."""
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError

    def arms(self) -> tuple[str, ...]:
        raise NotImplementedError

    def __and__(self, other: Criterion) -> AllOf:
        left = self.parts if isinstance(self, AllOf) else (self,)
        right = other.parts if isinstance(other, AllOf) else (other,)
        return AllOf(left + right)

    def __str__(self) -> str:
        return self.describe()


@dataclass(frozen=True)
class AllOf(Criterion):
    parts: tuple[Criterion, ...]

    def evaluate(
        self,
        values: Mapping[str, Sequence[float]],
        domains: Domains | None = None,
        exact: bool = False,
    ) -> Evaluation:
        evals = [p.evaluate(values, domains, exact) for p in self.parts]
        return Evaluation(worst([e.verdict for e in evals]), "\n".join(e.detail for e in evals))

    def describe(self) -> str:
        hows = {p.how() for p in self.parts if isinstance(p, Band)}
        if len(hows) == 1 and all(isinstance(p, Band) for p in self.parts):
            return "; and ".join(p.core() for p in self.parts) + f", each {hows.pop()}"
        return "; and ".join(p.describe() for p in self.parts)

    def arms(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(a for p in self.parts for a in p.arms()))


@dataclass(frozen=True)
class Band(Criterion):
    """`arm` compared with a band [lo, hi] (either end may be open), or paired with another arm.

    - `lo`/`hi`: numbers, or (for one-sided comparisons only) the name of another arm: the test
      is then made seed by seed on `value - factor * other` (paired, same seeds).
    - `seeds`: None judges the mean's 95% interval (inside the band: reproduced; wholly outside:
      not reproduced; straddling: inconclusive; one seed: its value). A fraction such as 0.8 judges
      seed by seed: at least ceil(0.8 n) seeds must fall inside ("4 of 5").
    - `min_seeds`: fewer seeds than this is inconclusive, whatever the values.
    - `label`: how to name the reference in the description (e.g. "ln of the float32 max").
    """

    arm: str
    lo: float | str | None = None
    hi: float | str | None = None
    factor: float = 1.0
    seeds: float | None = None
    min_seeds: int = 1
    label: str = ""

    def __post_init__(self) -> None:
        if self.lo is None and self.hi is None:
            raise ValueError("a criterion needs a lower or an upper bound")
        if isinstance(self.lo, str) and isinstance(self.hi, str):
            raise ValueError("compare with one other arm at a time")
        if (isinstance(self.lo, str) or isinstance(self.hi, str)) and None not in (
            self.lo,
            self.hi,
        ):
            raise ValueError("a comparison with another arm is one-sided (below or above)")
        if self.seeds is not None and not 0.0 < self.seeds <= 1.0:
            raise ValueError(f"seeds is a fraction in (0, 1], got {self.seeds}")

    def arms(self) -> tuple[str, ...]:
        other = [b for b in (self.lo, self.hi) if isinstance(b, str)]
        return (self.arm, *other)

    def _ref(self) -> str | None:
        return next((b for b in (self.lo, self.hi) if isinstance(b, str)), None)

    def describe(self) -> str:
        return f"{self.core()} ({self.how()})"

    def core(self) -> str:
        """What is compared, without how it is judged: "tcn < 0.05"."""

        def num(b: float | str) -> str:
            if isinstance(b, str):
                return f"{fmt(self.factor)} × {b}" if self.factor != 1.0 else b
            return fmt(b)

        label = f" ({self.label})" if self.label else ""
        if self.lo is not None and self.hi is not None:
            what = f"within [{num(self.lo)}, {num(self.hi)}]{label}"
        elif self.hi is not None:
            what = f"< {num(self.hi)}{label}"
        else:
            what = f"> {num(self.lo)}{label}"
        return f"{self.arm} {what}"

    def how(self) -> str:
        """How it is judged: "on the 95% interval of the mean", "in at least 80% of seeds"."""
        if self.seeds is None:
            paired = ", paired by seed" if self._ref() else ""
            text = f"on the 95% interval of the mean{paired}"
        else:
            text = f"in at least {round(self.seeds * 100)}% of seeds"
        if self.min_seeds > 1:
            text += f", needs ≥ {self.min_seeds} seeds"
        return text

    @staticmethod
    def _clean(xs: Sequence[float], exact: bool) -> list[float]:
        """Floats; a reproduction's non-finite value (a diverged run) becomes NaN. A check keeps
        its infinities: an IEEE limit is a measurement there."""
        out = [float(x) for x in xs]
        return out if exact else [x if math.isfinite(x) else math.nan for x in out]

    def compared(
        self, values: Mapping[str, Sequence[float]], exact: bool = False
    ) -> tuple[list[float], float | None, float | None] | str:
        """What this part compares, one value per seed (the arm, or its paired difference with
        the other arm), and the band it must fall in; a string saying why it cannot."""
        for a in self.arms():
            if a not in values or len(values[a]) == 0:
                return f"arm '{a}' has no values"
        xs = self._clean(values[self.arm], exact)
        ref = self._ref()
        if ref is None:
            return xs, self.lo, self.hi  # type: ignore[return-value]
        ys = self._clean(values[ref], exact)
        if len(ys) != len(xs):
            return (
                f"arms '{self.arm}' and '{ref}' have different seed counts ({len(xs)} vs {len(ys)})"
            )
        xs = [x - self.factor * y for x, y in zip(xs, ys)]  # NaN on either side: NaN
        return xs, *((0.0, None) if isinstance(self.lo, str) else (None, 0.0))

    def share(self, values: Mapping[str, Sequence[float]]) -> tuple[int, int]:
        """(seeds inside the band, seeds): how far the part is from holding, at any scale."""
        got = self.compared(values)
        if isinstance(got, str):
            return 0, 0
        xs, lo, hi = got
        return sum(_inside(x, lo, hi) for x in xs), len(xs)

    def evaluate(
        self,
        values: Mapping[str, Sequence[float]],
        domains: Domains | None = None,
        exact: bool = False,
    ) -> Evaluation:
        got = self.compared(values, exact)
        if isinstance(got, str):
            return Evaluation(Verdict.FAILED, f"{self.describe()}: {got}")
        xs, lo, hi = got
        paired = self._ref() is not None
        domain = "real" if paired else (domains or {}).get(self.arm, "real")
        n = len(xs)
        inside = [_inside(x, lo, hi) for x in xs]
        head = self.describe()
        if n < self.min_seeds:
            return Evaluation(
                Verdict.INCONCLUSIVE, f"{head}: only {n} seed(s), needs {self.min_seeds}"
            )
        if self.seeds is not None:
            k = sum(inside)
            need = math.ceil(self.seeds * n - 1e-9)
            wlo, whi = wilson_interval(k, n)
            verdict = Verdict.REPRODUCED if k >= need else Verdict.NOT_REPRODUCED
            return Evaluation(
                verdict,
                f"{head}: {k}/{n} seeds pass (need {need}; Wilson 95% {wlo:.2f}–{whi:.2f})"
                f" → {verdict}",
            )
        diverged = [i for i, x in enumerate(xs) if math.isnan(x)]
        if diverged and not exact:
            # A diverged seed fails the part whatever its direction: a mean with a NaN has no
            # interval, and reading the other seeds alone would select seeds.
            verdict = Verdict.NOT_REPRODUCED
            shown = ", ".join(fmt(x) for x in xs)
            return Evaluation(
                verdict,
                f"{head}: {len(diverged)} of {n} seed(s) diverged (NaN): {shown} → {verdict}",
            )
        exact_values = exact and (n == 1 or len(set(xs)) == 1)
        if exact_values or n == 1 or not all(math.isfinite(x) for x in xs):
            # A check's exact measurement or one value: an interval is exact or undefined;
            # decide on the values themselves. (Identical values of a reproduction are a
            # sample, judged on their interval below: never treated as exact.)
            if all(inside):
                verdict = Verdict.REPRODUCED
            elif not any(inside):
                verdict = Verdict.NOT_REPRODUCED
            else:
                verdict = Verdict.INCONCLUSIVE
            shown = ", ".join(fmt(x) for x in xs)
            return Evaluation(verdict, f"{head}: value(s) {shown} → {verdict}")
        if domain == "proportion":  # 0/1 outcomes: the Wilson interval of k/n
            mean = sum(xs) / n
            mlo, mhi = wilson_interval(round(sum(xs)), n)
        else:
            mean, mlo, mhi = interval(xs, domain)
        if _inside(mlo, lo, hi) and _inside(mhi, lo, hi):
            verdict = Verdict.REPRODUCED
        elif (hi is not None and mlo >= hi) or (lo is not None and mhi <= lo):
            verdict = Verdict.NOT_REPRODUCED
        else:
            verdict = Verdict.INCONCLUSIVE
        return Evaluation(
            verdict, f"{head}: mean {fmt(mean)} [{fmt(mlo)}, {fmt(mhi)}] (n={n}) → {verdict}"
        )


def _inside(x: float, lo: float | None, hi: float | None) -> bool:
    if math.isnan(x):
        return False
    return (lo is None or x > lo) and (hi is None or x < hi)
