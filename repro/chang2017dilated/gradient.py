"""Chang et al. 2017, the gradient at initialization: ||dy_T / dx_1|| of a dilated tanh stack
against the same stack, same weights, with every dilation set to 1, in float64."""

from __future__ import annotations

import copy
from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from repro.chang2017dilated.figures import gradient_figure
from repro.chang2017dilated.model import DilatedRNN
from repro.claims import Result
from repro.kit import rng, tasks
from repro.kit.copymem import N_TOKENS

JUDGED = (64, 256, 1024)  # the lengths the criterion reads
STACKS = ("dilated", "flat")
GRADIENT_ARMS = {f"{arm}_T{T}": (arm, T) for T in JUDGED for arm in STACKS}  # value -> its norm


def first_input_gradient(net: nn.Module, x: torch.Tensor) -> float:
    """||dy_T / dx_1|| (Frobenius) in one backward pass: one copy of x per output unit."""
    h = net.layers[-1].rnn.hidden_size
    xs = x.expand(h, -1, -1).clone().requires_grad_(True)  # (H, T, C)
    y_last = net(xs)[:, -1, :]  # (H, H): copy j contributes only its unit j below
    y_last.diagonal().sum().backward()
    return xs.grad[:, 0, :].norm().item()  # row j = dy_T[j] / dx_1


def gradient_at_init(
    claim_id: str, depth: int, hidden: int, lengths: Sequence[int], seeds: Sequence[int]
) -> Result:
    """Per seed: one stack of `depth` x `hidden` tanh units drawn from the seed's "init" stream,
    its dilated and flat versions, a copy-memory input of each length T (the judged ones
    always among them) from the seed's "input" stream at that T."""
    Ts = sorted({*lengths, *JUDGED})
    norms = {arm: {T: [] for T in Ts} for arm in STACKS}
    for seed in seeds:
        with rng.scope(seed, "init"):
            dilated = DilatedRNN(N_TOKENS, hidden, depth, "rnn").double()
        flat = copy.deepcopy(dilated)  # the same weights ...
        for layer in flat.layers:
            layer.dilation = 1  # ... without the skips
        for T in Ts:
            batch = tasks.copy_memory(1, T - 20, rng.stream(seed, "input", T))  # L = T
            x = F.one_hot(batch.x, N_TOKENS).double()  # (1, T, N_TOKENS)
            norms["dilated"][T].append(first_input_gradient(dilated, x))
            norms["flat"][T].append(first_input_gradient(flat, x))
    underflow = [T for T in Ts if 0.0 in norms["flat"][T]]
    result = Result(
        claim_id,
        {name: norms[arm][T] for name, (arm, T) in GRADIENT_ARMS.items()},
        notes=[
            f"{depth} layers x {hidden} tanh units, PyTorch's default init, float64",
            "flat gradient exactly 0.0 (float64 underflow) at T = "
            + (", ".join(map(str, underflow)) if underflow else "none of the lengths"),
        ],
        extra={"lengths": Ts, "norms": norms},
    )
    result.add_figure(
        "gradient",
        gradient_figure(norms, Ts),
        "Gradient of the last output with respect to the first input at initialization, same "
        "weights with and without dilations, a thin line per seed and their mean; points at "
        "1e-320 are exact float64 underflow.",
    )
    return result
