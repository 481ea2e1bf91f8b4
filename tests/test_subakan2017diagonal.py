"""Subakan & Smaragdis 2017: a diagonal layer is torch's cell with U = diag(u) (same gate
equations), its parameter count, the search's ranges, the card's declarations, and the claims'
direction at quick scale."""

from __future__ import annotations

import math

import pytest
import torch

from repro import subakan2017diagonal as paper
from repro.kit import layers, rng
from repro.kit.music import CELLS
from repro.subakan2017diagonal import search
from repro.subakan2017diagonal.model import GATES, DiagonalLayer, MusicRNN


@pytest.mark.parametrize("cell", list(GATES))
def test_diagonal_layer_is_torchs_cell_with_a_diagonal_recurrent_matrix(cell):
    torch.manual_seed(0)
    diag = DiagonalLayer(cell, 6, 5).double()
    full = CELLS[cell](6, 5, batch_first=True).double()
    with torch.no_grad():
        full.weight_ih_l0.copy_(diag.inp.weight)
        full.bias_ih_l0.copy_(diag.inp.bias)
        full.weight_hh_l0.copy_(torch.cat([torch.diag(u) for u in diag.u.chunk(GATES[cell])]))
        full.bias_hh_l0.copy_(diag.bu)
    x = torch.randn(3, 11, 6, dtype=torch.float64)  # (B, L, I)
    assert torch.allclose(diag(x), full(x)[0], atol=1e-12)


def test_diagonal_layers_have_g_h_recurrent_parameters():
    full = layers.n_params(MusicRNN("lstm", "full", 100, 1, 0.1))
    diag = layers.n_params(MusicRNN("lstm", "diag", 100, 1, 0.1))
    assert full - diag == 4 * 100 * 100 + 4 * 100 - 2 * 4 * 100  # U and b_hh vs u and its bias


def test_search_draws_inside_the_declared_ranges():
    gen = rng.stream(0, "test")
    for a in (search.draw(gen) for _ in range(200)):
        assert search.WIDTHS[0] <= a.hidden <= search.WIDTHS[1] and a.layers in search.DEPTHS
        assert 1e-4 <= a.lr <= 1e-2 and 0 <= a.momentum <= 1


def test_declared_arms_and_units():
    c = paper.Config.quick()
    assert set(paper.arms(c)) == {cl.id for cl in paper.CLAIMS}
    assert len(paper.units(c, [0, 1])) == 2 * len(paper.ARMS)


@pytest.fixture(scope="module")
def quick_record(quick):
    return quick("subakan2017diagonal")


def test_quick_direction(quick_record):
    """Quick: 24 pieces a split, 8 epochs of 6 steps, one seed, every arm at its searched
    configuration. The test-NLL claim's direction holds for all three cells (each diagonal arm,
    searched to a higher rate, leaves the plateau first: below its full arm by more than 0.5
    nats). At epoch 3 the vanilla RNNs, full and diagonal, are both still on the plateau
    (within 0.2 of each other), so only the gated cells' early parts are asserted."""
    test = {a: v[0] for a, v in quick_record.results["subakan2017diagonal.test-nll"].values.items()}
    early = {a: v[0] for a, v in quick_record.results["subakan2017diagonal.faster"].values.items()}
    assert set(test) == set(early) == set(paper.ARMS)
    assert all(math.isfinite(x) and x < 12 for x in [*test.values(), *early.values()])
    for cell in paper.CELLS:
        assert test[f"{cell}-diag"] < test[f"{cell}-full"] - 0.5, test
    for cell in ("gru", "lstm"):
        assert early[f"{cell}-diag"] < early[f"{cell}-full"], early
