"""Chang et al. 2017, the memory capacity (Section 4, not verified): the recurrent length d(n),
the fewest recurrent edges on a path from the input at time i to the top layer at time i + n,
counted as shortest paths on a stack's graph, checked against closed forms and against the torch
model.

Dilated stack (lags 1, 2, ..., 2^(L-1)): d(n) = n // m + popcount(n mod m), m = 2^(L-1), mean
over spans 1..m (L - 1)/2 + 1/m; no dilations: d(n) = n, mean (m + 1)/2. Regular skips of one
fixed length s in every layer (edges 1 and s): d(n) = n // s + n mod s, whatever the depth.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from repro.chang2017dilated.figures import lengths_figure, skip_figure
from repro.chang2017dilated.model import DilatedRNN
from repro.claims import Result

LENGTH_ARMS = (  # the recurrent-length check's values
    "dilated",
    "flat",
    "dilated_formula_error",
    "flat_formula_error",
    "log_excess",
    "model_error",
)
SKIP_ARMS = ("dilated", "regular_best", "regular_copy", "flat", "margin", "skip_formula_error")


@dataclass(frozen=True)
class Graph:
    """The recurrent-length checks (Section 4, not verified): shortest paths on each graph."""

    model_check_layers: int = 6  # d(n) read off the torch model for L = 1..6 (flat: n <= 32;
    # float64 holds the 1e-5^32 a flat path then weighs)


def dilations(n_layers: int, dilated: bool = True) -> list[int]:
    return [2**i if dilated else 1 for i in range(n_layers)]


def recurrent_lengths(dils: Sequence[int | tuple[int, ...]], m: int) -> np.ndarray:
    """d(n) for n = 1..m: fewest recurrent edges on a path from the input at time i to the top
    layer at time i + n, climbing layers for free (a shortest path on the stack's graph). A
    layer is its lag s (dilated: h_t <- h_{t-s}) or a tuple of lags (regular skip: (1, s)).
    Paths only run forward in time, so every start i gives the same value: max_i is exact."""
    big = 10**9
    lags = [(d,) if isinstance(d, int) else tuple(d) for d in dils]
    dist = np.full((len(lags) + 1, m + 1), big, dtype=np.int64)  # (layer, t - i)
    dist[0, 0] = 0
    for t in range(m + 1):
        for layer, ss in enumerate(lags, start=1):
            via = min((dist[layer, t - s] + 1 for s in ss if t >= s), default=big)
            dist[layer, t] = min(dist[layer - 1, t], via)
    return dist[-1, 1:]  # (m,)


def skip_lengths(s: int, m: int) -> np.ndarray:
    """Regular skips of length s (edges 1 and s in every layer): d(n) = n // s + n % s."""
    ns = np.arange(1, m + 1)
    return ns // s + ns % s


def best_skip(m: int) -> tuple[int, float]:
    """The fixed skip length s of least mean recurrent length over spans 1..m (smallest s on a
    tie), and that mean."""
    means = [skip_lengths(s, m).mean() for s in range(1, m + 1)]
    s = int(np.argmin(means)) + 1
    return s, float(means[s - 1])


def closed_form(n_layers: int) -> tuple[np.ndarray, float]:
    """d(n) = n // m + popcount(n % m), and the mean (L - 1)/2 + 1/m, m = 2^(L-1)."""
    m = 2 ** (n_layers - 1)
    ns = np.arange(1, m + 1)
    d = ns // m + np.array([bin(n % m).count("1") for n in ns])
    return d, (n_layers - 1) / 2 + 1 / m


def model_lengths(dils: Sequence[int], m: int, eps: tuple[float, float] = (1e-4, 1e-5)):
    """d(n) read off the real DilatedRNN: one unit per layer, input weight 1, recurrent weight
    eps, zero biases. At the zero state tanh' = 1, so an impulse's response at lag n is the sum
    over paths of eps^(recurrent edges) = c eps^d (1 + O(eps)); two eps give d."""
    responses = []
    for e in eps:
        net = DilatedRNN(1, 1, len(dils), "rnn", dilations=list(dils)).double()
        with torch.no_grad():
            for layer in net.layers:
                layer.rnn.weight_ih_l0.fill_(1.0)
                layer.rnn.weight_hh_l0.fill_(e)
                layer.rnn.bias_ih_l0.zero_()
                layer.rnn.bias_hh_l0.zero_()
            x = torch.zeros(1, m + 1, 1, dtype=torch.float64)  # (B, T, C)
            x[0, 0, 0] = 1e-30  # an impulse small enough that tanh is linear to 1e-60
            responses.append(net(x)[0, 1:, 0] / 1e-30)  # (m,)
    ratio = torch.log(responses[0] / responses[1]) / math.log(eps[0] / eps[1])
    return ratio.round().long().numpy()  # (m,)


def recurrent_length(claim_id: str, depth: int, model_check_layers: int) -> Result:
    """Dilated against flat stacks of L = 1..depth layers: graph, closed form, torch model."""
    errors = {"dilated": 0.0, "flat": 0.0}
    log_excess, model_error, table = -math.inf, 0.0, []
    for n_layers in range(1, depth + 1):
        m = 2 ** (n_layers - 1)
        d_dil = recurrent_lengths(dilations(n_layers), m)
        d_flat = recurrent_lengths(dilations(n_layers, dilated=False), m)
        d_form, mean_form = closed_form(n_layers)
        assert (d_dil == d_form).all(), f"L = {n_layers}: shortest paths differ from d(n)"
        errors["dilated"] = max(errors["dilated"], abs(d_dil.mean() - mean_form))
        errors["flat"] = max(errors["flat"], abs(d_flat.mean() - (m + 1) / 2))
        ns = np.arange(1, m + 1)
        log_excess = max(log_excess, float((d_dil - (np.floor(np.log2(ns)) + 1)).max()))
        if n_layers <= model_check_layers:
            for dils, d in ((dilations(n_layers), d_dil), (dilations(n_layers, False), d_flat)):
                model_error = max(model_error, float(np.abs(model_lengths(dils, m) - d).max()))
        table.append((n_layers, m, float(d_dil.mean()), float(d_flat.mean())))
        curve = (d_dil.tolist(), d_flat.tolist())  # the deepest stack's, kept for the figure
    L, m, dil_mean, flat_mean = table[-1]
    measured = (dil_mean, flat_mean, errors["dilated"], errors["flat"], log_excess, model_error)
    result = Result(
        claim_id,
        {arm: [v] for arm, v in zip(LENGTH_ARMS, measured, strict=True)},
        notes=[
            f"L = {L} (dilations 1..{m}): mean recurrent length {dil_mean:.6g} dilated, "
            f"{flat_mean:.6g} flat; deterministic, so one value per arm",
            "per L: " + "; ".join(f"L={a}: {b:.4g} vs {c:.4g}" for a, _, b, c in table),
        ],
        extra={"table": table, "d_dilated": curve[0], "d_flat": curve[1]},
    )
    result.add_figure(
        "lengths",
        lengths_figure(curve, table),
        "Fewest recurrent edges between times t and t + n (left) and the mean recurrent length "
        "against depth (right).",
    )
    return result


def recurrent_length_skip(claim_id: str, depth: int, copy_skip: int) -> Result:
    """Mean recurrent length of dilated against regular-skip stacks, L = 1..depth."""
    rows, formula_error = [], 0.0
    for n_layers in range(1, depth + 1):
        m = 2 ** (n_layers - 1)
        dil = recurrent_lengths(dilations(n_layers), m).mean()
        s_best, reg_best = best_skip(m)
        for s in sorted({s_best, min(copy_skip, m), m}):  # the graph = the formula
            graph = recurrent_lengths([(1, s)] * n_layers, m)
            formula_error = max(formula_error, float(np.abs(graph - skip_lengths(s, m)).max()))
        reg_copy = skip_lengths(copy_skip, m).mean()
        rows.append((n_layers, m, float(dil), reg_best, s_best, float(reg_copy), (m + 1) / 2))
    L, m, dil, reg_best, s_best, reg_copy, flat = rows[-1]
    margin = min(r[3] - r[2] for r in rows if r[0] >= 3)
    measured = (dil, reg_best, reg_copy, flat, margin, formula_error)
    result = Result(
        claim_id,
        {arm: [v] for arm, v in zip(SKIP_ARMS, measured, strict=True)},
        notes=[
            f"L = {L} (m = {m}): dilated {dil:.4g}, regular skip at its best s = {s_best} "
            f"{reg_best:.4g}, at s = {copy_skip} {reg_copy:.4g}, no skips {flat:.4g}; "
            "deterministic, one value per arm",
            "equal parameters: a regular-skip layer has two recurrent matrices (U, V), so the "
            "dilated stack's L matrices buy L/2 regular-skip layers of the same width, or L "
            "narrower ones; d(n) of a regular-skip stack does not depend on its depth",
            "per L (dilated / best regular (s) / flat): "
            + "; ".join(f"L={r[0]}: {r[2]:.4g} / {r[3]:.4g} ({r[4]}) / {r[6]:.4g}" for r in rows),
        ],
        extra={"rows": rows},
    )
    ns = np.arange(1, m + 1)
    d_skip, d_dil = skip_lengths(s_best, m), recurrent_lengths(dilations(L), m)
    result.add_figure(
        "skip",
        skip_figure(rows, copy_skip, ns, d_skip, d_dil),
        "Mean recurrent length against the period at the same number of recurrent weight "
        "matrices (left): dilated stack, regular skip connections of one fixed length (at its "
        "best length, and at the copy arm's), no skips; the fewest edges per span at L = "
        f"{L} (right).",
    )
    return result
