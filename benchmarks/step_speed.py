"""Training-step speed of the reproductions' models at their full-scale sizes.

    python benchmarks/step_speed.py [--repeats 7] [--steps 5] [--warmup 3] [--threads 1]

One "step" is what `repro.train.train` does per step, minus making the batch: zero the
gradients, forward, loss, backward, clip the gradient norm, optimizer step. The batch is made
once, up front, so data generation is not timed.

The models are timed side by side in one run: after a warm-up, each of `--repeats` rounds times
`--steps` steps of every model in turn, so a change in machine load (other jobs on a shared CPU)
touches every model alike; the figure printed per model is the median over the rounds, with the
slowest and fastest round beside it.

Models (sizes from each module's full-scale `Config()`, so the figures follow the configs):
- bai2018tcn: every arm of Table 1's two synthetic rows (TCN, LSTM, GRU, vanilla RNN) on copy
  memory and on the adding problem, each with its registered learning rate;
- chang2017dilated: its copy-memory arms (the dilated tanh stack, one tanh layer, regular skips);
- he2016resnet: its plain and residual CIFAR nets (`ARMS` and the sizes of its `Config()`; SGD
  with its rate, momentum and weight decay).

One thread by default, as bai2018tcn and chang2017dilated train: on a shared 2-core machine,
2 threads stalled some rounds to under 1 step/s (the whole script then took 3 min, not 13 s).

This is a script, not a test: it asserts nothing and its numbers depend on the machine.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from repro.kit import rng, tasks, timing  # noqa: E402
from repro.kit.copymem import copy_loss, n_params  # noqa: E402


@dataclass
class Case:
    name: str
    model: nn.Module
    batch: Any  # made once
    loss: Callable[[nn.Module, Any], torch.Tensor]
    optimizer: torch.optim.Optimizer
    clip: float | None
    shape: str  # what one batch is, for the table

    def step(self) -> None:
        self.optimizer.zero_grad(set_to_none=True)
        loss = self.loss(self.model, self.batch)
        loss.backward()
        if self.clip is not None:
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.clip)
        self.optimizer.step()

    @property
    def params(self) -> int:
        return n_params(self.model)


def bai_cases() -> list[Case]:
    from repro import bai2018tcn as bai
    from repro.bai2018tcn.model import adding_loss

    c = bai.Config()
    gen = rng.stream(0, "test")
    batches = {
        "copy": (tasks.copy_memory(c.batch, c.copy.T, gen), c.copy, copy_loss),
        "adding": (tasks.adding(c.batch, c.adding.T, gen), c.adding, adding_loss),
    }
    cases = []
    for task, (batch, row, loss) in batches.items():
        length = row.T + 20 if task == "copy" else row.T
        for arm in bai.ARMS:
            model = bai.model(c, task, arm)
            opt = torch.optim.Adam(model.parameters(), lr=row.lr(arm))
            shape = f"B={c.batch}, L={length}"
            cases.append(Case(f"bai2018tcn {task} {arm}", model, batch, loss, opt, c.clip, shape))
    return cases


def chang_cases() -> list[Case]:
    from repro import chang2017dilated as chang

    c = chang.Config()
    k = c.copy
    copy = tasks.copy_memory(k.batch, k.T, rng.stream(0, "test"))
    cases = []
    for arm in chang.COPY_ARMS:
        model = chang.copy_net(c, arm)
        opt = torch.optim.Adam(model.parameters(), lr=k.lr)
        shape = f"B={k.batch}, L={k.T + 20}"
        cases.append(
            Case(f"chang2017dilated copy {arm}", model, copy, copy_loss, opt, k.clip, shape)
        )
    return cases


def he_cases() -> list[Case]:
    """The plain and residual nets of repro/he2016resnet/ at its full size."""
    from repro import he2016resnet as he

    c = he.Config()
    x = torch.randn(c.batch, 1, 8, 8)  # (B, 1, 8, 8) optdigits: content does not change the time
    y = torch.randint(0, c.classes, (c.batch,))  # (B,)
    cases = []
    for name, n, residual in he.ARMS:
        model = he.CifarNet(n, residual, c.classes, c.widths, c_in=1)
        opt = torch.optim.SGD(
            model.parameters(), lr=c.lr, momentum=c.momentum, weight_decay=c.weight_decay
        )
        cases.append(
            Case(
                f"he2016resnet {name}",
                model,
                (x, y),
                lambda m, b: torch.nn.functional.cross_entropy(m(b[0]), b[1]),
                opt,
                None,
                f"B={c.batch}, 8x8",
            )
        )
    return cases


def measure(cases: list[Case], repeats: int, steps: int, warmup: int) -> dict[str, list[float]]:
    """Steps per second of each case, one value per round: the kit's interleaved protocol
    (repro.kit.timing), which the cards that time something use too."""
    times = timing.interleaved(
        {case.name: case.step for case in cases}, rounds=repeats, calls=steps, warmup=warmup
    )
    return {name: [1 / t for t in per_round] for name, per_round in times.items()}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed rounds (median reported)")
    parser.add_argument("--steps", type=int, default=5, help="steps per model per round")
    parser.add_argument("--warmup", type=int, default=3, help="untimed steps per model first")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (default 1, as the modules train)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    cases = bai_cases() + chang_cases() + he_cases()
    print(
        f"torch {torch.__version__}, {platform.machine()}, {torch.get_num_threads()} threads; "
        f"{args.warmup} warm-up steps, then {args.repeats} rounds x {args.steps} steps per model"
    )
    rates = measure(cases, args.repeats, args.steps, args.warmup)
    width = max(len(c.name) for c in cases)
    print(f"{'model':<{width}}  {'params':>8}  {'batch':<16} {'steps/s':>8}  {'ms/step':>8}  range")
    for case in cases:
        r = rates[case.name]
        med = statistics.median(r)
        print(
            f"{case.name:<{width}}  {case.params:>8}  {case.shape:<16} {med:>8.1f}  "
            f"{1000 / med:>8.1f}  {min(r):.1f}-{max(r):.1f}"
        )


if __name__ == "__main__":
    main()
