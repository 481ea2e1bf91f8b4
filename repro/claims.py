"""The claim model: what a paper says, how we judge it, and what a run measured.

- `Claim`: one sentence a paper states, the paper's own value and where it is, the metric, and the
  pass `Criterion`, written in code before anything runs (never tuned after a failing run).
- `Criterion`: built from `below`, `above`, `between`, `within` and `&` (all must hold). Each part
  compares an arm's values (one per seed) with a number or, paired by seed, with another arm,
  either seed by seed ("in at least 80% of seeds") or on the mean's 95% interval. Verdicts:

  | verdict          | when                                                                   |
  |------------------|------------------------------------------------------------------------|
  | reproduced       | every part holds                                                       |
  | not reproduced   | some part clearly fails                                                |
  | inconclusive     | too few seeds, or a 95% interval straddles the threshold               |
  | failed           | the run did not produce what the criterion needs (missing arm, ...)    |

  A NaN value (a diverged run) is data, not an error: each part counts it as `nan_as`
  (+inf by default: for a loss, diverging is as bad as it gets).
- `Result`: per-seed values per arm, their summaries (mean and Student-t 95% interval; k/n and a
  Wilson interval for 0/1 outcomes), the verdict and why, notes, figures, provenance.
- `Record`: everything one run of a paper module produced (one `Result` per claim, the provenance,
  the hashes), saved as docs/results/<key>/result.json. Saving is atomic: a temp file in the same
  directory, fsync, `os.replace`; figures get content-hashed names and old ones are deleted only
  after the new result.json is in place, so a crash or a kill at any point leaves the previous
  result whole and loadable.

This module imports neither torch nor matplotlib (the site and the notebook load results cheaply).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
import re
import signal
import tempfile
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

SCHEMA = 1
RESULT_FILE = "result.json"
CLAIM_ID_RE = re.compile(r"^([a-z][a-z0-9_]*)\.([a-z0-9][a-z0-9-]*)$")
FIGURE_EXTS = (".svg", ".png")
_UMASK = os.umask(0o022)
os.umask(_UMASK)  # read once: mkstemp creates 0600 files, results should be 0644 like any other


class Verdict(StrEnum):
    REPRODUCED = "reproduced"
    NOT_REPRODUCED = "not reproduced"
    INCONCLUSIVE = "inconclusive"
    FAILED = "failed"


class ResultError(Exception):
    """A stored result that cannot be read (the message names the file)."""


# ---- intervals ------------------------------------------------------------------------------


def _betacf(a: float, b: float, x: float) -> float:
    """Continued fraction of the regularized incomplete beta function (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c, d = 1.0, 1.0 - qab * x / qap
    d = 1.0 / (d if abs(d) > tiny else tiny)
    h = d
    for m in range(1, 400):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = 1.0 / (d if abs(d) > tiny else tiny)
        c = 1.0 + aa / c if abs(1.0 + aa / c) > tiny else tiny
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-15:
            break
    return h


def _betai(a: float, b: float, x: float) -> float:
    """Regularized incomplete beta I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    ln_front = math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
    ln_front += a * math.log(x) + b * math.log1p(-x)
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(ln_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(ln_front) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """P(T <= t) for Student's t with `df` degrees of freedom."""
    tail = 0.5 * _betai(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t >= 0 else tail


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t (bisection on the CDF; exact to ~1e-12)."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    lo, hi = 0.0, 1.0
    while t_cdf(hi, df) < p:
        hi *= 2.0
    for _ in range(200):
        mid = 0.5 * (lo + hi)
        if t_cdf(mid, df) < p:
            lo = mid
        else:
            hi = mid
        if hi - lo < 1e-13 * max(1.0, hi):
            break
    return 0.5 * (lo + hi)


def mean_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float, float]:
    """(mean, lo, hi): the Student-t interval for the mean of independent runs.

    With one value the interval is undefined: (v, nan, nan). Non-finite values are not allowed
    here (summaries drop them and count them separately).
    """
    xs = [float(v) for v in values]
    n = len(xs)
    if n == 0:
        raise ValueError("no values")
    mean = math.fsum(xs) / n
    if n == 1:
        return mean, math.nan, math.nan
    var = math.fsum((x - mean) ** 2 for x in xs) / (n - 1)
    half = t_quantile(0.5 + level / 2.0, n - 1) * math.sqrt(var / n)
    return mean, mean - half, mean + half


def wilson_interval(k: int, n: int, level: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a proportion k/n (well behaved at k = 0 and k = n)."""
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= k <= n:
        raise ValueError(f"k must be in [0, {n}], got {k}")
    from statistics import NormalDist

    z = NormalDist().inv_cdf(0.5 + level / 2.0)
    p = k / n
    denom = 1.0 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return max(0.0, center - half), min(1.0, center + half)


# ---- summaries ------------------------------------------------------------------------------


def fmt(x: float | None, digits: int = 5) -> str:
    """A number for people: 5 significant digits, NaN/inf spelled out."""
    if x is None:
        return "–"
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "∞" if x > 0 else "−∞"
    return f"{x:.{digits}g}"


@dataclass(frozen=True)
class ArmSummary:
    """One arm over its seeds: mean and 95% interval of the finite values, non-finite counted.

    kind "mean": Student-t interval for the mean. kind "proportion" (0/1 outcomes, such as
    "diverged"): `k` of `n` with a Wilson interval, `mean` = k / n.
    """

    n: int
    mean: float | None
    lo: float | None
    hi: float | None
    nonfinite: int = 0
    kind: str = "mean"
    k: int | None = None

    def text(self) -> str:
        if self.kind == "proportion":
            return f"{self.k}/{self.n} [{fmt(self.lo, 2)}, {fmt(self.hi, 2)}]"
        if self.mean is None:
            return f"all {self.n} diverged (NaN/inf)" if self.n else "no values"
        if self.lo is None or math.isnan(self.lo):
            s = fmt(self.mean)
        else:
            s = f"{fmt(self.mean)} [{fmt(self.lo)}, {fmt(self.hi)}], n = {self.n - self.nonfinite}"
        if self.nonfinite:
            s += f" ({self.nonfinite} of {self.n} diverged)"
        return s

    def to_dict(self) -> dict[str, Any]:
        return {
            "n": self.n,
            "mean": self.mean,
            "lo": self.lo,
            "hi": self.hi,
            "nonfinite": self.nonfinite,
            "kind": self.kind,
            "k": self.k,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> ArmSummary:
        return cls(
            n=d.get("n", 0),
            mean=d.get("mean"),
            lo=d.get("lo"),
            hi=d.get("hi"),
            nonfinite=d.get("nonfinite", 0),
            kind=d.get("kind", "mean"),
            k=d.get("k"),
        )


def summarize(values: Sequence[float], proportion: bool = False) -> ArmSummary:
    """Mean with a Student-t 95% interval (or k/n with a Wilson interval for 0/1 outcomes)."""
    xs = [float(v) for v in values]
    n = len(xs)
    if proportion:
        if any(x not in (0.0, 1.0) for x in xs):
            raise ValueError(f"a proportion arm takes 0/1 values, got {xs}")
        k = int(sum(xs))
        lo, hi = wilson_interval(k, n) if n else (None, None)
        return ArmSummary(n, k / n if n else None, lo, hi, 0, "proportion", k)
    finite = [x for x in xs if math.isfinite(x)]
    if not finite:
        return ArmSummary(n, None, None, None, n - len(finite))
    mean, lo, hi = mean_interval(finite)
    if len(finite) == 1:
        lo = hi = None
    return ArmSummary(n, mean, lo, hi, n - len(finite))


# ---- criteria -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    verdict: Verdict
    detail: str  # why, one line per part


def _worst(verdicts: Sequence[Verdict]) -> Verdict:
    for v in (Verdict.FAILED, Verdict.NOT_REPRODUCED, Verdict.INCONCLUSIVE):
        if v in verdicts:
            return v
    return Verdict.REPRODUCED


class Criterion:
    """A pass criterion. Combine parts with `&`; every part must hold."""

    def evaluate(self, values: Mapping[str, Sequence[float]]) -> Evaluation:
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

    def evaluate(self, values: Mapping[str, Sequence[float]]) -> Evaluation:
        evals = [p.evaluate(values) for p in self.parts]
        return Evaluation(_worst([e.verdict for e in evals]), "\n".join(e.detail for e in evals))

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
    - `nan_as`: the value a NaN (diverged) seed counts as.
    - `label`: how to name the reference in the description (e.g. "ln of the float32 max").
    """

    arm: str
    lo: float | str | None = None
    hi: float | str | None = None
    factor: float = 1.0
    seeds: float | None = None
    min_seeds: int = 1
    nan_as: float = math.inf
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

    def _clean(self, xs: Sequence[float]) -> list[float]:
        return [self.nan_as if math.isnan(float(x)) else float(x) for x in xs]

    def evaluate(self, values: Mapping[str, Sequence[float]]) -> Evaluation:
        for a in self.arms():
            if a not in values or len(values[a]) == 0:
                return Evaluation(Verdict.FAILED, f"{self.describe()}: arm '{a}' has no values")
        xs = self._clean(values[self.arm])
        ref = self._ref()
        lo, hi = self.lo, self.hi
        if ref is not None:
            ys = self._clean(values[ref])
            if len(ys) != len(xs):
                return Evaluation(
                    Verdict.FAILED,
                    f"{self.describe()}: arms '{self.arm}' and '{ref}' have different seed "
                    f"counts ({len(xs)} vs {len(ys)})",
                )
            xs = [_diff(x, self.factor * y) for x, y in zip(xs, ys)]
            lo, hi = (0.0, None) if isinstance(lo, str) else (None, 0.0)
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
        if n == 1 or len(set(xs)) == 1 or not all(math.isfinite(x) for x in xs):
            # One value, identical values (a deterministic measurement), or diverged seeds: an
            # interval is either exact or undefined; decide on the values themselves.
            if all(inside):
                verdict = Verdict.REPRODUCED
            elif not any(inside):
                verdict = Verdict.NOT_REPRODUCED
            else:
                verdict = Verdict.INCONCLUSIVE
            shown = ", ".join(fmt(x) for x in xs)
            return Evaluation(verdict, f"{head}: value(s) {shown} → {verdict}")
        mean, mlo, mhi = mean_interval(xs)
        if _inside(mlo, lo, hi) and _inside(mhi, lo, hi):
            verdict = Verdict.REPRODUCED
        elif (hi is not None and mlo >= hi) or (lo is not None and mhi <= lo):
            verdict = Verdict.NOT_REPRODUCED
        else:
            verdict = Verdict.INCONCLUSIVE
        return Evaluation(
            verdict, f"{head}: mean {fmt(mean)} [{fmt(mlo)}, {fmt(mhi)}] (n={n}) → {verdict}"
        )


def _diff(x: float, y: float) -> float:
    if math.isinf(x) and math.isinf(y) and x == y:
        return math.nan  # inf - inf: both diverged, no ordering
    return x - y


def _inside(x: float, lo: float | None, hi: float | None) -> bool:
    if math.isnan(x):
        return False
    return (lo is None or x > lo) and (hi is None or x < hi)


def below(
    arm: str,
    ref: float | str,
    *,
    factor: float = 1.0,
    seeds: float | None = None,
    min_seeds: int = 1,
    nan_as: float = math.inf,
    label: str = "",
) -> Band:
    """`arm` < ref (a number, or `factor` × another arm paired by seed)."""
    return Band(arm, None, ref, factor, seeds, min_seeds, nan_as, label)


def above(
    arm: str,
    ref: float | str,
    *,
    factor: float = 1.0,
    seeds: float | None = None,
    min_seeds: int = 1,
    nan_as: float = math.inf,
    label: str = "",
) -> Band:
    """`arm` > ref (a number, or `factor` × another arm paired by seed)."""
    return Band(arm, ref, None, factor, seeds, min_seeds, nan_as, label)


def between(
    arm: str,
    lo: float,
    hi: float,
    *,
    seeds: float | None = None,
    min_seeds: int = 1,
    nan_as: float = math.nan,
    label: str = "",
) -> Band:
    """lo < `arm` < hi. A NaN seed is outside the band by default."""
    if not lo < hi:
        raise ValueError(f"empty band [{lo}, {hi}]")
    return Band(arm, lo, hi, 1.0, seeds, min_seeds, nan_as, label)


def within(
    arm: str,
    target: float,
    tol: float,
    *,
    seeds: float | None = None,
    min_seeds: int = 1,
    label: str = "",
) -> Band:
    """|`arm` - target| < tol."""
    text = f"{fmt(target, 6)} ± {fmt(tol)}" + (f", {label}" if label else "")
    return between(arm, target - tol, target + tol, seeds=seeds, min_seeds=min_seeds, label=text)


# ---- claims ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    """One claim of a paper, fixed before any run.

    id: "<bibtex key>.<slug>", e.g. "bai2018tcn.copy-memory".
    statement: the claim in one sentence, in our words.
    paper_value: the paper's number(s) as text, e.g. "LSTM 0.0204 vs TCN 3.5e-5".
    where: where the paper states it ("Table 1", "Figure 3", "Section 4.1").
    metric: what each arm's value measures.
    criterion: the pass criterion; None while the claim is not yet specified (shown as such).
    proportion: each per-seed value is a 0/1 outcome; arms are summarized as k/n (Wilson).
    """

    id: str
    statement: str
    paper_value: str
    where: str
    metric: str
    criterion: Criterion | None
    proportion: bool = False

    def __post_init__(self) -> None:
        if not CLAIM_ID_RE.match(self.id):
            raise ValueError(
                f"claim id '{self.id}' must look like '<key>.<slug>' "
                "(lowercase key, then letters, digits and dashes)"
            )

    @property
    def key(self) -> str:
        return self.id.split(".", 1)[0]

    @property
    def slug(self) -> str:
        return self.id.split(".", 1)[1]

    def evaluate(self, values: Mapping[str, Sequence[float]]) -> Evaluation | None:
        return None if self.criterion is None else self.criterion.evaluate(values)


# ---- results --------------------------------------------------------------------------------


@dataclass
class Result:
    """What one run measured for one claim.

    A paper module's `run()` fills `claim_id`, `values` (arm -> one value per seed, in seed
    order; NaN for a diverged seed), and optionally `notes` (events such as "lstm seed 3 diverged
    at step 412"), `extra` (JSON data for notebooks: curves, ...) and figures (`add_figure`).
    The runner fills the rest: summary, verdict, detail, provenance, hash.
    """

    claim_id: str
    values: dict[str, list[float]]
    notes: list[str] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    figures: list[dict[str, str]] = field(default_factory=list)  # [{"file", "caption"}]
    verdict: Verdict | None = None  # None: not evaluated, or the criterion is not yet specified
    detail: str = ""
    summary: dict[str, ArmSummary] = field(default_factory=dict)
    # Set on load from the record (not stored per result).
    provenance: dict[str, Any] = field(default_factory=dict, repr=False)
    hash: str = ""
    _pending: dict[str, tuple[bytes, str, str]] = field(default_factory=dict, repr=False)

    def add_figure(self, name: str, figure: Any, caption: str = "") -> None:
        """Attach a figure (a matplotlib Figure, or SVG/PNG bytes); written when the record is."""
        if not re.match(r"^[a-z0-9][a-z0-9-]*$", name):
            raise ValueError(f"figure name '{name}': use lowercase letters, digits and dashes")
        if isinstance(figure, bytes):
            data = figure
        else:
            from repro.figures import to_svg

            data = to_svg(figure)
        ext = ".png" if data.startswith(b"\x89PNG") else ".svg"
        self._pending[name] = (data, ext, caption)

    def finish(self, claim: Claim) -> None:
        """Summaries per arm, then the verdict from the claim's criterion (fixed beforehand)."""
        self.values = {arm: [float(v) for v in vs] for arm, vs in self.values.items()}
        self.summary = {arm: summarize(vs, claim.proportion) for arm, vs in self.values.items()}
        ev = claim.evaluate(self.values)
        if ev is None:
            self.verdict, self.detail = None, "criterion not yet specified"
        else:
            self.verdict, self.detail = ev.verdict, ev.detail

    def to_dict(self) -> dict[str, Any]:
        return {
            "claim_id": self.claim_id,
            "verdict": None if self.verdict is None else str(self.verdict),
            "detail": self.detail,
            "values": self.values,
            "summary": {arm: s.to_dict() for arm, s in self.summary.items()},
            "notes": self.notes,
            "figures": self.figures,
            "extra": self.extra,
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Result:
        verdict = d.get("verdict")
        return cls(
            claim_id=d["claim_id"],
            values={arm: [float(v) for v in vs] for arm, vs in d.get("values", {}).items()},
            notes=list(d.get("notes", [])),
            extra=dict(d.get("extra", {})),
            figures=list(d.get("figures", [])),
            verdict=None if verdict is None else Verdict(verdict),
            detail=d.get("detail", ""),
            summary={a: ArmSummary.from_dict(s) for a, s in d.get("summary", {}).items()},
        )


@dataclass
class Record:
    """One run of one paper module: a Result per claim, provenance, and the hashes it was run at.

    `hashes` has "code", "config", "env", "seeds"; `hash` combines them (the cache key). A stored
    record is stale when its code or config hash differs from the current one.
    """

    key: str
    hash: str
    hashes: dict[str, str]
    provenance: dict[str, Any]
    results: dict[str, Result]
    schema: int = SCHEMA

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "key": self.key,
            "hash": self.hash,
            "hashes": self.hashes,
            "provenance": self.provenance,
            "results": {cid: r.to_dict() for cid, r in self.results.items()},
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> Record:
        rec = cls(
            key=d["key"],
            hash=d["hash"],
            hashes=dict(d.get("hashes", {})),
            provenance=dict(d.get("provenance", {})),
            results={cid: Result.from_dict(r) for cid, r in d.get("results", {}).items()},
            schema=d.get("schema", SCHEMA),
        )
        for r in rec.results.values():
            r.provenance, r.hash = rec.provenance, rec.hash
        return rec


# ---- JSON with NaN/inf kept as data ------------------------------------------------------------

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}


def _encode(obj: Any) -> Any:
    """Strict JSON has no NaN/inf: store them as the strings "NaN", "Infinity", "-Infinity"."""
    if isinstance(obj, float) and not math.isfinite(obj):
        return "NaN" if math.isnan(obj) else ("Infinity" if obj > 0 else "-Infinity")
    if isinstance(obj, Mapping):
        return {str(k): _encode(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_encode(v) for v in obj]
    if isinstance(obj, StrEnum):
        return str(obj)
    if hasattr(obj, "item") and callable(obj.item):  # numpy / torch scalars
        return _encode(obj.item())
    return obj


def _decode(obj: Any) -> Any:
    if isinstance(obj, str) and obj in _NONFINITE:
        return _NONFINITE[obj]
    if isinstance(obj, dict):
        return {k: _decode(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_decode(v) for v in obj]
    return obj


def dumps(obj: Any) -> str:
    return json.dumps(_encode(obj), indent=2, sort_keys=False, allow_nan=False) + "\n"


def loads(text: str) -> Any:
    return _decode(json.loads(text))


# ---- atomic files ---------------------------------------------------------------------------


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C until the block is done (main thread only), then raise it."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[tuple[int, Any]] = []
    previous = signal.signal(signal.SIGINT, lambda sig, frame: caught.append((sig, frame)))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught:
            raise KeyboardInterrupt


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write `path` so that readers only ever see the old or the new content, whole.

    A temp file (a dot-file, so MkDocs ignores it) in the same directory is written, flushed and
    fsynced, then moved over `path` with `os.replace` (atomic on POSIX); the directory is fsynced
    so the rename itself survives a power cut. On any error the temp file is removed.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    with contextlib.suppress(OSError):
        dfd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)


def save_record(record: Record, results_dir: Path) -> Path:
    """Write docs-style results: <results_dir>/<key>/result.json plus its figures, atomically.

    Order: new figures (content-hashed names, so an old figure is never overwritten), then
    result.json (the commit point), then removal of figures the new record no longer uses.
    Ctrl-C during the save is held back until it is complete.
    """
    out = Path(results_dir) / record.key
    with _sigint_deferred():
        out.mkdir(parents=True, exist_ok=True)
        for result in record.results.values():
            slug = result.claim_id.split(".", 1)[1]
            named = {f["name"]: f for f in result.figures if "name" in f}
            for name, (data, ext, caption) in result._pending.items():
                digest = hashlib.sha256(data).hexdigest()[:10]
                fname = f"{slug}-{name}-{digest}{ext}"
                if not (out / fname).exists():
                    atomic_write(out / fname, data)
                named[name] = {"name": name, "file": fname, "caption": caption}
            result.figures = list(named.values())
            result._pending = {}
        path = out / RESULT_FILE
        atomic_write(path, dumps(record.to_dict()))
        keep = {f["file"] for r in record.results.values() for f in r.figures}
        for p in out.iterdir():
            # Old figures, and temp files a killed writer left (one writer at a time).
            if (p.suffix in FIGURE_EXTS and p.name not in keep) or (
                p.name.startswith(".") and p.suffix == ".tmp"
            ):
                p.unlink(missing_ok=True)
    return path


def load_record(results_dir: Path, key: str) -> Record | None:
    """The stored record for `key`, or None when there is none; ResultError if unreadable."""
    path = Path(results_dir) / key / RESULT_FILE
    if not path.exists():
        return None
    try:
        data = loads(path.read_text(encoding="utf-8"))
        if data.get("schema") != SCHEMA:
            raise ResultError(f"{path}: schema {data.get('schema')!r}, expected {SCHEMA}")
        return Record.from_dict(data)
    except (json.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResultError(f"{path}: not a valid result file ({type(exc).__name__}: {exc})") from exc


def load_all(results_dir: Path) -> dict[str, Record]:
    """Every record under results_dir (a directory per key)."""
    out: dict[str, Record] = {}
    base = Path(results_dir)
    for d in sorted(base.iterdir()) if base.is_dir() else []:
        if d.is_dir() and (d / RESULT_FILE).exists():
            rec = load_record(base, d.name)
            if rec is not None:
                out[d.name] = rec
    return out
