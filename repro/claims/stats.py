"""Claims room, statistics: intervals and per-arm summaries, from scipy.stats.

- `mean_interval`: the Student-t 95% interval for the mean of independent runs (scipy's t).
- `wilson_interval`: the Wilson score interval for a proportion k/n.
- `bootstrap_interval`: a percentile bootstrap interval for the mean (scipy.stats.bootstrap):
  it never leaves [min, max] of the values, so it never leaves a bounded metric's domain.
- `interval`: the interval a metric's domain calls for ("real": Student t; "nonnegative" and
  "probability": bootstrap; 0/1 outcomes: Wilson, in `summarize`).
- `summarize` / `ArmSummary`: one arm over its seeds (mean and interval, or k/n for 0/1 values).
- `fmt`: a number for people.

No torch, no matplotlib: the site and the notebook load results cheaply.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats as _st

# What a metric's values can be; an interval never leaves its domain.
DOMAINS = ("real", "nonnegative", "probability")
BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 0  # fixed: the same values always give the same interval

# ---- intervals ------------------------------------------------------------------------------


def t_quantile(p: float, df: float) -> float:
    """The p-quantile of Student's t with `df` degrees of freedom."""
    if not 0.0 < p < 1.0:
        raise ValueError(f"p must be in (0, 1), got {p}")
    return float(_st.t.ppf(p, df))


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
    """Wilson score interval for a proportion k/n (well behaved at k = 0 and k = n).

    The ends are exact there: 0 at k = 0 and 1 at k = n (the formula's center - half is 2.8e-17
    in floating point at 0 of 12, above the point estimate)."""
    if n <= 0:
        raise ValueError("n must be positive")
    if not 0 <= k <= n:
        raise ValueError(f"k must be in [0, {n}], got {k}")
    z = float(_st.norm.ppf(0.5 + level / 2.0))
    p = k / n
    denom = 1.0 + z * z / n
    center = (p + z * z / (2 * n)) / denom
    half = z / denom * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    lo = 0.0 if k == 0 else max(0.0, center - half)
    hi = 1.0 if k == n else min(1.0, center + half)
    return lo, hi


def bootstrap_interval(values: Sequence[float], level: float = 0.95) -> tuple[float, float]:
    """Percentile bootstrap interval for the mean (fixed resampling seed: deterministic).

    Identical values give the degenerate interval (v, v); one value gives (nan, nan)."""
    xs = np.asarray([float(v) for v in values], dtype=float)
    if len(xs) < 2:
        return math.nan, math.nan
    if np.all(xs == xs[0]):
        return float(xs[0]), float(xs[0])
    res = _st.bootstrap(
        (xs,),
        np.mean,
        confidence_level=level,
        n_resamples=BOOTSTRAP_RESAMPLES,
        method="percentile",
        rng=np.random.default_rng(BOOTSTRAP_SEED),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def interval(
    values: Sequence[float], domain: str = "real", level: float = 0.95
) -> tuple[float, float, float]:
    """(mean, lo, hi) with the interval the metric's domain calls for."""
    if domain not in DOMAINS:
        raise ValueError(f"unknown metric domain '{domain}' (choose from {', '.join(DOMAINS)})")
    if domain == "real":
        return mean_interval(values, level)
    xs = [float(v) for v in values]
    if not xs:
        raise ValueError("no values")
    lo, hi = bootstrap_interval(xs, level)
    return math.fsum(xs) / len(xs), lo, hi


# ---- summaries ------------------------------------------------------------------------------


def fmt(x: float | None, digits: int = 3) -> str:
    """A number for people: 3 significant digits (full precision stays in result.json)."""
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

    kind "mean": Student-t interval (a metric on the real line); "bootstrap": percentile
    bootstrap (non-negative or bounded metrics); "proportion" (0/1 outcomes, such as "diverged"):
    `k` of `n` with a Wilson interval, `mean` = k / n.
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


def summarize(
    values: Sequence[float], proportion: bool = False, domain: str = "real"
) -> ArmSummary:
    """Mean with the 95% interval of the metric's domain (k/n with a Wilson interval for 0/1
    outcomes): Student t on the real line, a percentile bootstrap for non-negative or bounded
    metrics, so that no interval leaves the domain."""
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
    mean, lo, hi = interval(finite, domain)
    if len(finite) == 1:
        lo = hi = None
    kind = "mean" if domain == "real" else "bootstrap"
    return ArmSummary(n, mean, lo, hi, n - len(finite), kind)
