"""Goodfellow, Bengio & Courville 2016, Deep Learning, chapter 4 (Numerical computation).

Claim: the softmax computed as written, exp(x_i) / sum_j exp(x_j), is undefined in floating
point at both ends. In float32, exp overflows to inf once x passes ln(FLT_MAX) ~ 88.72 (the
lecture slides: "float32: 89 overflows"), so the output is inf / inf = NaN; when every logit is
very negative, every exp underflows to 0 and the output is 0 / 0 = NaN. Subtracting the largest
logit first cures both: the largest term becomes exp(0) = 1, so the denominator lies in [1, n].

Key equations (Section 4.1):
    softmax(x) = softmax(z),  z = x - max_i x_i
    log sum_i exp(x_i) = m + log sum_i exp(x_i - m),  m = max_i x_i

We measure, by bisection over float32 values, the smallest logit c at which softmax([c, 0])
overflows and the largest c at which softmax([c, c]) underflows to NaN, and compare them with
ln(FLT_MAX) and ln(2^-150) (below half the smallest subnormal, exp rounds to 0); then check the
max-shifted softmax and log-sum-exp against float64 on logits swept far past both limits.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import torch

from repro.claims import Claim, Result, below, between, within
from repro.kit import rng
from repro.kit.device import current
from repro.kit.figures import new_figure

F32 = torch.finfo(torch.float32)
LN_MAX = math.log(F32.max)  # 88.7228: exp(x) > FLT_MAX beyond this
LN_HALF_SUBNORMAL = -150 * math.log(2)  # -103.97: exp(x) rounds to 0 below this (IEEE)
LN_MIN_NORMAL = math.log(F32.tiny)  # -87.34: where exp hits 0 if subnormals are flushed
TOL = 1e-5  # 100 float32 ulps of 1: a correct float32 result is far inside, NaN is far outside

CLAIMS = [
    Claim(
        id="goodfellow2016deep.softmax-overflow",
        title="Naive softmax overflows to NaN past ln(FLT_MAX)",
        kind="check",
        domains={"shifted softmax error": "nonnegative", "shifted logsumexp error": "nonnegative"},
        statement=(
            "In float32 the naive softmax returns NaN once the largest logit exceeds "
            "ln(FLT_MAX) ≈ 88.72, while the max-shifted softmax and log-sum-exp stay finite "
            "and accurate."
        ),
        paper_value="exp overflows in float32 near x = 89; softmax(x − max x) avoids it",
        where="Section 4.1 (Overflow and underflow); chapter-4 lecture slides",
        metric=(
            "smallest float32 logit c where softmax([c, 0]) is non-finite (bisection); max error "
            "of the shifted softmax and log-sum-exp vs float64 on logits up to ±sweep_max"
        ),
        criterion=(
            within("naive overflow at", LN_MAX, 0.01, label="ln of the float32 max")
            & below("shifted softmax error", TOL)
            & below("shifted logsumexp error", TOL)
        ),
    ),
    Claim(
        id="goodfellow2016deep.softmax-underflow",
        title="Naive softmax underflows to 0/0 for very negative logits",
        kind="check",
        domains={"shifted softmax error": "nonnegative"},
        statement=(
            "When every logit is very negative, each exp underflows to 0 and the naive softmax "
            "returns 0/0 = NaN, while the max-shifted softmax is exact."
        ),
        paper_value="all x_i = c, c very negative: the denominator underflows to 0, undefined",
        where="Section 4.1 (Overflow and underflow)",
        metric=(
            "largest float32 c where softmax([c, c]) is NaN (bisection); max error of the "
            "shifted softmax vs float64 on all-negative logits down to −sweep_max"
        ),
        criterion=(
            between(
                "naive underflow at",
                LN_HALF_SUBNORMAL - 0.01,
                LN_MIN_NORMAL + 0.01,
                label="ln 2^−150 with subnormals, ln of the smallest normal if flushed",
            )
            & below("shifted softmax error", TOL)
        ),
    ),
]


@dataclass(frozen=True)
class Config:
    n_classes: int = 10  # logits per test vector; any n > 1 shows the effect
    sweep_points: int = 100_000  # test vectors per sign; cheap, and covers the range densely
    sweep_max: float = 1e4  # largest |centre| swept: far past both limits (the book gives none)
    offset_std: float = 5.0  # spread of logits around each centre, so classes differ
    figure_points: int = 400  # points per curve in the figures

    @classmethod
    def quick(cls) -> Config:
        return cls(sweep_points=2_000, figure_points=100)

    @classmethod
    def paper(cls) -> Config:
        return cls()  # the book has no experiment sizes: same as full


def softmax_naive(x: torch.Tensor) -> torch.Tensor:
    e = torch.exp(x)  # (..., n): inf beyond ln FLT_MAX, 0 below ln 2^-150
    return e / e.sum(-1, keepdim=True)  # (..., n)


def softmax_shifted(x: torch.Tensor) -> torch.Tensor:
    z = x - x.max(-1, keepdim=True).values  # (..., n): all <= 0, the largest exactly 0
    e = torch.exp(z)  # (..., n): in (0, 1], one entry is 1
    return e / e.sum(-1, keepdim=True)  # (..., n): denominator in [1, n]


def logsumexp_shifted(x: torch.Tensor) -> torch.Tensor:
    m = x.max(-1).values  # (...,)
    return m + torch.log(torch.exp(x - m.unsqueeze(-1)).sum(-1))  # (...,)


def first_true(pred: Callable[[float], bool], lo: float, hi: float) -> float:
    """The smallest float32 x in [lo, hi] (0 <= lo < hi) with pred(x) true, for pred false at lo
    and true at hi and monotone: bisection on the bit patterns, which order positive floats."""
    if lo < 0 or pred(lo) or not pred(hi):
        raise ValueError("need 0 <= lo, pred(lo) false and pred(hi) true")
    a = torch.tensor(lo, dtype=torch.float32).view(torch.int32).item()
    b = torch.tensor(hi, dtype=torch.float32).view(torch.int32).item()
    while b - a > 1:
        mid = (a + b) // 2
        if pred(torch.tensor(mid, dtype=torch.int32).view(torch.float32).item()):
            b = mid
        else:
            a = mid
    return torch.tensor(b, dtype=torch.int32).view(torch.float32).item()


def _broken(p: torch.Tensor) -> bool:
    return not bool(torch.isfinite(p).all())


def overflow_at(dev: torch.device) -> float:
    """Smallest float32 c for which softmax([c, 0]) is non-finite."""
    return first_true(
        lambda c: _broken(softmax_naive(torch.tensor([c, 0.0], device=dev))), 1.0, 1000.0
    )


def underflow_at(dev: torch.device) -> float:
    """Largest float32 c (negative) for which softmax([c, c]) is NaN."""
    return -first_true(
        lambda m: _broken(softmax_naive(torch.tensor([-m, -m], device=dev))), 1.0, 1000.0
    )


def sweep(config: Config, seed: int, sign: float, dev: torch.device) -> dict[str, float]:
    """Errors of the shifted forms vs float64 on test vectors with centres 0 .. sign * sweep_max.

    The reference is computed in float64 from the same float32 inputs, so the error measured is
    the algorithm's, not the rounding of the inputs. NaN if any output is non-finite.
    """
    g = rng.stream(seed, "sweep")  # the same test vectors for both signs
    centres = torch.linspace(0.0, sign * config.sweep_max, config.sweep_points)  # (P,)
    offsets = torch.randn(config.sweep_points, config.n_classes, generator=g)  # (P, n)
    x = (centres[:, None] + config.offset_std * offsets).to(dev)  # (P, n) float32
    ref_p = softmax_shifted(x.double())  # (P, n)
    ref_lse = torch.logsumexp(x.double(), -1)  # (P,)

    def err(a: torch.Tensor, b: torch.Tensor, scale: torch.Tensor | float = 1.0) -> float:
        if _broken(a):
            return math.nan
        return float(((a.double() - b).abs() / scale).max())

    naive = softmax_naive(x)  # (P, n)
    naive_ok = torch.isfinite(naive).all(-1) & ((naive.double() - ref_p).abs().max(-1).values < TOL)
    return {
        "shifted softmax error": err(softmax_shifted(x), ref_p),
        "shifted logsumexp error": err(logsumexp_shifted(x), ref_lse, ref_lse.abs().clamp(min=1)),
        "naive broken share": float((~naive_ok).double().mean()),
    }


def _figure(kind: str, limit: float, config: Config, dev: torch.device):
    """Left: float32 exp(c) (log scale) hitting inf or 0; right: naive vs shifted softmax."""
    over = kind == "overflow"
    lo, hi = (70.0, 95.0) if over else (-115.0, -80.0)
    c = torch.linspace(lo, hi, config.figure_points, device=dev)  # (F,)
    x = torch.stack([c, torch.zeros_like(c)] if over else [c, c], -1)  # (F, 2)
    exp_c = torch.exp(c).cpu()  # (F,)
    naive = softmax_naive(x)[:, 0].cpu()  # (F,)
    shifted = softmax_shifted(x)[:, 0].cpu()  # (F,)
    c = c.cpu()
    fig, (ax1, ax2) = new_figure(width=7.0, height=2.8, ncols=2)
    ok = torch.isfinite(exp_c) & (exp_c > 0)
    ax1.semilogy(c[ok], exp_c[ok], color="#0072B2")
    ax1.axvline(limit, color="#D55E00", ls="--", lw=1)
    ax1.set_title("float32 exp(c): " + ("inf beyond" if over else "0 below") + f" c = {limit:.2f}")
    if not over:
        ax1.axvspan(LN_HALF_SUBNORMAL, LN_MIN_NORMAL, color="0.5", alpha=0.12)
        ax1.text(LN_MIN_NORMAL - 0.5, 1e-44, "subnormal", ha="right", color="0.35")
    ax1.set_xlim(lo, hi)
    ax1.set_xlabel("c")
    ax2.plot(c, shifted, color="#009E73", lw=3, alpha=0.5, label="shifted")
    good = torch.isfinite(naive)
    ax2.plot(c[good], naive[good], color="#0072B2", lw=1, label="naive")
    span = (limit, hi) if over else (lo, limit)
    ax2.axvspan(*span, color="#D55E00", alpha=0.12)
    ax2.text(
        0.97 if over else 0.03,
        0.8,
        "naive: NaN",
        transform=ax2.transAxes,
        ha="right" if over else "left",
        color="#D55E00",
    )
    ax2.set_ylim(0, 1.1)
    ax2.set_xlabel("c")
    ax2.set_title("softmax([c, 0])₀" if over else "softmax([c, c])₀")
    ax2.legend(frameon=False, loc="lower left" if over else "lower right")
    return fig


SWEPT = ("shifted softmax error", "shifted logsumexp error", "naive broken share")


def arms(config: Config) -> dict[str, tuple[str, ...]]:
    """Each check: the bisected limit, then what the sweep measured on its side of zero."""
    return {
        CLAIMS[0].id: ("naive overflow at", *SWEPT),
        CLAIMS[1].id: ("naive underflow at", SWEPT[0], SWEPT[2]),
    }


def run(config: Config, seeds: Sequence[int]) -> list[Result]:
    dev = current()
    up, down = overflow_at(dev), underflow_at(dev)
    pos = [sweep(config, s, +1.0, dev) for s in seeds]
    neg = [sweep(config, s, -1.0, dev) for s in seeds]
    limits = {"naive overflow at": up, "naive underflow at": down}
    declared = arms(config)

    def values(claim: Claim, rows: list[dict[str, float]]) -> dict[str, list[float]]:
        return {
            a: [limits[a]] * len(seeds) if a in limits else [r[a] for r in rows]
            for a in declared[claim.id]
        }

    overflow = Result(
        CLAIMS[0].id,
        values(CLAIMS[0], pos),
        notes=[f"ln(FLT_MAX) = {LN_MAX:.6f}; measured on {dev.type}"],
        extra={"ln_max": LN_MAX, "overflow_at": up},
    )
    overflow.add_figure(
        "curves",
        _figure("overflow", up, config, dev),
        "Naive float32 softmax turns NaN where exp(c) overflows; the shifted one does not.",
    )
    flushed = down > LN_HALF_SUBNORMAL + 1.0
    underflow = Result(
        CLAIMS[1].id,
        values(CLAIMS[1], neg),
        notes=[
            f"ln 2^-150 = {LN_HALF_SUBNORMAL:.6f}, ln FLT_MIN = {LN_MIN_NORMAL:.6f}; "
            + ("subnormals are flushed to zero here" if flushed else "subnormals are kept (IEEE)")
        ],
        extra={"ln_half_subnormal": LN_HALF_SUBNORMAL, "underflow_at": down},
    )
    underflow.add_figure(
        "curves",
        _figure("underflow", down, config, dev),
        "When every exp underflows, the naive softmax is 0/0 = NaN; the shifted one stays 1/n.",
    )
    return [overflow, underflow]


__all__ = ["CLAIMS", "Config", "logsumexp_shifted", "run", "softmax_naive", "softmax_shifted"]
