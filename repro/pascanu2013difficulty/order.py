"""Pascanu et al. 2013, Section 4.1.1 and Figure 7: MSGD, MSGD-C and MSGD-CR on the temporal
order problem, one run per (initialisation, length, seed), and the claim's Result."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import torch

from repro.claims import Result
from repro.claims.stats import wilson_interval
from repro.kit import rng
from repro.kit.figures import PALETTE, new_figure
from repro.kit.units import Unit, series
from repro.pascanu2013difficulty.tasks import temporal_order
from repro.pascanu2013difficulty.tempnet import omega, to_bptt, to_errors, to_init

ALGOS = ("msgd", "msgd-c", "msgd-cr")  # Section 4.1.1: plain, clipped, clipped + Omega
INITS = ("sigmoid", "basic-tanh", "smart-tanh")  # Section 4.1.1's three initialisations
PART = "temporal-order"


def order_run(
    init: str,
    T: int,
    seed: int,
    *,
    hidden: int,
    batch: int,
    threshold: float,
    lr: float,
    alpha: float,
    steps: int,
    check_every: int,
    val_size: int,
    test_size: int,
    curve_every: int,
) -> dict:
    """MSGD, MSGD-C and MSGD-CR from the same initial weights on the same sequences, stacked."""
    base = to_init(init, hidden, rng.stream(seed, "init"))
    R = len(ALGOS)
    P = {k: v.expand(R, *v.shape).clone().requires_grad_() for k, v in base.items()}
    clip = torch.tensor([math.inf, threshold, threshold])  # (R,)
    alphas = torch.tensor([0.0, 0.0, alpha])  # (R,)
    data = rng.stream(seed, "train", T)
    x_val, y_val, _ = temporal_order(val_size, T, rng.stream(seed, "val", T))
    active = torch.ones(R, dtype=torch.bool)
    solved: list[int | None] = [None] * R
    diverged: list[int | None] = [None] * R
    loss_curve: list[list[float]] = []
    for step in range(steps):
        x, y, _ = temporal_order(batch, T, data)  # (B, T, 6), (B,)
        ce, g, g_states, states = to_bptt(P, x, y, init)  # (R,), {name: (R, ...)}
        om = omega(P["W_hh"], states, g_states, init)  # (R,)
        g["W_hh"] = g["W_hh"] + torch.autograd.grad((alphas * om).sum(), P["W_hh"])[0]
        norm = torch.stack([v.flatten(1).pow(2).sum(1) for v in g.values()]).sum(0).sqrt()
        for r in torch.nonzero(active & ~torch.isfinite(norm)).flatten().tolist():
            diverged[r], active[r] = step, False  # a NaN/inf gradient: the run failed
        scale = lr * torch.where(norm > clip, clip / norm, 1.0)  # (R,) Algorithm 1
        with torch.no_grad():
            for k, v in P.items():
                step_k = scale.view(-1, *[1] * (v.dim() - 1)) * g[k]  # (R, ...)
                v -= torch.where(active.view(-1, *[1] * (v.dim() - 1)), step_k, 0.0)
        if step % curve_every == 0:
            loss_curve.append(ce.detach().tolist())
        if (step + 1) % check_every == 0:
            for r in torch.nonzero(active & (to_errors(P, x_val, y_val, init) == 0)).flatten():
                solved[int(r)], active[int(r)] = step + 1, False  # the authors' early stop
            if not active.any():
                break
    x_test, y_test, _ = temporal_order(test_size, T, rng.stream(seed, "test", T))
    test_error = to_errors(P, x_test, y_test, init).tolist()  # (R,)
    return {
        "success": [float(e < 0.01 and d is None) for e, d in zip(test_error, diverged)],
        "test_error": test_error,
        "solved_step": solved,
        "diverged_step": diverged,
        "steps": step + 1,
        "loss": [list(c) for c in zip(*loss_curve)],  # per algorithm
    }


def order_values(
    done: Mapping[Unit, dict], seeds: Sequence[int], lengths: Sequence[int], long_from: int
) -> dict[str, list[float]]:
    """The claim's arms: each algorithm's 0/1 successes over every run at the longer lengths
    (initialisation, length, seed), and c_lost, paired run by run."""
    runs = [
        o for i in INITS for T in lengths if T >= long_from for o in series(done, PART, i, seeds, T)
    ]
    values = {a: [o["success"][r] for o in runs] for r, a in enumerate(ALGOS)}
    values["c_lost"] = [float(m > c) for m, c in zip(values["msgd"], values["msgd-c"])]
    return values


def temporal_order_result(
    done: Mapping[Unit, dict],
    seeds: Sequence[int],
    *,
    lengths: Sequence[int],
    long_from: int,
    test_size: int,
) -> Result:
    runs = {(i, T): series(done, PART, i, seeds, T) for i in INITS for T in lengths}
    rates = {
        k: [sum(o["success"][r] for o in outs) for r in range(len(ALGOS))]
        for k, outs in runs.items()
    }
    notes = []
    for (i, T), outs in runs.items():
        wins = ", ".join(f"{a} {n:.0f}" for a, n in zip(ALGOS, rates[(i, T)]))
        errs = ", ".join(
            f"{np.median([o['test_error'][r] for o in outs]):.3f}" for r in range(len(ALGOS))
        )
        notes.append(
            f"{i}, T = {T}: successes out of {len(seeds)}: {wins}; median test error {errs}"
        )
    successes = [{"init": i, "T": T, **dict(zip(ALGOS, n))} for (i, T), n in rates.items()]
    values = order_values(done, seeds, lengths, long_from)
    result = Result(
        "pascanu2013difficulty.temporal-order", values, notes=notes, extra={"successes": successes}
    )
    fig, axes = new_figure(width=9.0, height=3.0, ncols=len(INITS))
    n = len(seeds)
    for ax, init in zip(axes, INITS):
        for r, (algo, color) in enumerate(zip(ALGOS, PALETTE)):
            k = [rates[(init, T)][r] for T in lengths]
            lo, hi = zip(*(wilson_interval(round(v), n) for v in k))
            p = np.asarray(k) / n
            Ts = np.asarray(lengths) + (r - 1) * 0.6  # side by side
            err = [p - lo, np.asarray(hi) - p]
            ax.errorbar(
                Ts, p, yerr=err, color=color, marker="o", ms=4, capsize=2, label=algo.upper()
            )
        ax.set(title=init.replace("-", " "), xlabel="sequence length", ylim=(-0.05, 1.05))
    axes[0].set(ylabel="rate of success")
    axes[0].legend(frameon=False)
    result.add_figure(
        "success",
        fig,
        f"Figure 7's axes: rate of success out of {n} runs (Wilson 95% intervals) against "
        "sequence length, per initialisation; success = under 1% errors on "
        f"{test_size} fresh sequences.",
    )
    return result
