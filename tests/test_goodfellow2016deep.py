"""Deep Learning, chapter 4: softmax overflow/underflow in float32 and the max-shift cure."""

from __future__ import annotations

import math

import pytest
import torch

from repro import goodfellow2016deep as g
from repro.claims import Verdict

CPU = torch.device("cpu")


def test_shifted_softmax_and_logsumexp_agree_with_torch_where_naive_is_fine():
    x = torch.randn(50, 7, generator=torch.Generator().manual_seed(0)) * 3  # (B, n)
    torch.testing.assert_close(g.softmax_shifted(x), torch.softmax(x, -1))
    torch.testing.assert_close(g.softmax_naive(x), torch.softmax(x, -1))
    torch.testing.assert_close(g.logsumexp_shifted(x), torch.logsumexp(x, -1))


def test_naive_softmax_breaks_at_both_ends_and_the_shift_does_not():
    big = torch.tensor([100.0, 0.0])  # (2,): exp(100) overflows float32
    tiny = torch.tensor([-200.0, -200.0])  # (2,): both exps underflow to 0
    assert torch.isnan(g.softmax_naive(big)).any()
    assert torch.isnan(g.softmax_naive(tiny)).all()  # 0 / 0
    torch.testing.assert_close(g.softmax_shifted(big), torch.tensor([1.0, 0.0]))
    torch.testing.assert_close(g.softmax_shifted(tiny), torch.tensor([0.5, 0.5]))


def test_bisection_finds_the_first_float32_where_a_predicate_holds():
    # Exact on a known boundary: the first float32 strictly above 1.5.
    first = g.first_true(lambda x: x > 1.5, 1.0, 2.0)
    assert first == torch.nextafter(torch.tensor(1.5), torch.tensor(2.0)).item()
    with pytest.raises(ValueError):
        g.first_true(lambda x: True, 1.0, 2.0)


def test_measured_limits_are_the_float32_format_limits():
    # Overflow: within a couple of float32 steps (~8e-6 at 88.7) of ln(FLT_MAX).
    assert g.overflow_at(CPU) == pytest.approx(g.LN_MAX, abs=2e-5)
    # Underflow: ln(2^-150) on IEEE hardware that keeps subnormals (x86 and torch's CPU exp).
    assert g.underflow_at(CPU) == pytest.approx(g.LN_HALF_SUBNORMAL, abs=1e-3)


def test_claims_reproduce_at_quick_scale(quick):
    results = quick("goodfellow2016deep").results
    assert {r.verdict for r in results.values()} == {Verdict.HOLDS}  # both are checks
    declared = g.arms(g.Config.quick())
    assert all(list(r.values) == list(declared[cid]) for cid, r in results.items())
    over = results["goodfellow2016deep.softmax-overflow"]
    # Errors of the shifted forms: float32 rounding (~1e-7), two orders below the 1e-5 band.
    assert over.values["shifted softmax error"][0] < 1e-6
    assert over.values["shifted logsumexp error"][0] < 1e-6
    # The naive form breaks on almost every swept vector (centres 0..1e4, limit ~88.7).
    assert over.values["naive broken share"][0] > 0.9
    assert all(r.figures for r in results.values())
    assert math.isclose(over.extra["ln_max"], math.log(torch.finfo(torch.float32).max))
