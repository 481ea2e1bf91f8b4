"""Claims room, bands: the parts a card writes its criteria with (combined with `&`).

    below("tcn", 0.05, seeds=0.8)        tcn < 0.05 in at least 80% of seeds
    above("gap_7", "gap_1")              gap_7 > gap_1 on the paired differences' 95% interval
    between("ratio", 0.5, 2.0)           0.5 < ratio < 2 on the mean's 95% interval
    within("log_max", 88.72, 0.01)       |log_max - 88.72| < 0.01

How a part is judged, and why a diverged run fails it whatever its direction: repro.claims.criteria.
"""

from __future__ import annotations

from repro.claims.criteria import Band
from repro.claims.stats import fmt


def below(
    arm: str,
    ref: float | str,
    *,
    factor: float = 1.0,
    seeds: float | None = None,
    min_seeds: int = 1,
    label: str = "",
) -> Band:
    """`arm` < ref (a number, or `factor` × another arm paired by seed)."""
    return Band(arm, None, ref, factor, seeds, min_seeds, label)


def above(
    arm: str,
    ref: float | str,
    *,
    factor: float = 1.0,
    seeds: float | None = None,
    min_seeds: int = 1,
    label: str = "",
) -> Band:
    """`arm` > ref (a number, or `factor` × another arm paired by seed)."""
    return Band(arm, ref, None, factor, seeds, min_seeds, label)


def between(
    arm: str,
    lo: float,
    hi: float,
    *,
    seeds: float | None = None,
    min_seeds: int = 1,
    label: str = "",
) -> Band:
    """lo < `arm` < hi."""
    if not lo < hi:
        raise ValueError(f"empty band [{lo}, {hi}]")
    return Band(arm, lo, hi, 1.0, seeds, min_seeds, label)


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
