"""A throwaway project with one tiny paper module, for testing the claims framework.

`make_project(root)` writes repro/fake2020paper.py (two arms trained with repro.train: one
converges, one diverges on purpose; plus a claim whose criterion is not yet specified), its test
file, a note page and a refs.bib entry, so the runner, the CLI, the blocks and the joins checker
all see a complete paper. Config.mode lets tests make run() raise or be interrupted.
"""

from __future__ import annotations

from pathlib import Path

KEY = "fake2020paper"

MODULE = '''\
"""Fake 2020: a tiny regression; a sane learning rate converges, an absurd one diverges."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from repro.claims import Claim, Registration, Result, above, below
from repro.kit import rng
from repro.kit.figures import arm_values
from repro.kit.train import train

CLAIMS = [
    Claim(
        id="fake2020paper.works",
        statement="A sane learning rate converges; an absurd one diverges.",
        paper_value="loss 0.01 vs divergence",
        where="Table 1",
        metric="final training loss",
        # Divergence is the outcome here, so the claim reads it as a 0/1 arm: a diverged run
        # (NaN) fails every part that reads its loss.
        criterion=below("good", 1.0, seeds=0.5) & above("bad diverged", 0.5, seeds=0.5),
    ),
    Claim(
        id="fake2020paper.later",
        statement="Something to be specified.",
        paper_value="?",
        where="Figure 2",
        metric="m",
        criterion=None,
    ),
]

REGISTRATION = Registration(
    exploration=(7, 8), confirmation=(0, 1, 2, 3, 4), note="explored on 7-8", quick=(7, 8)
)


@dataclass(frozen=True)
class Config:
    steps: int = 20  # enough for the good arm to drop well below 1
    lr: float = 0.05  # the sane rate
    bad_lr: float = 1e6  # absurd: the loss overflows within a few steps
    mode: str = "ok"  # "raise" and "interrupt" make run() fail, for tests
    sizes: tuple[int, ...] = (4,)  # input size(s); a tuple to test override parsing

    @classmethod
    def quick(cls) -> Config:
        return cls(steps=10)

    @classmethod
    def paper(cls) -> Config:
        return cls(steps=30)


def fit(lr: float, seed: int, steps: int, n_in: int):
    x = torch.randn(64, n_in, generator=rng.stream(seed, "data"))  # (N, D)
    y = x.sum(1, keepdim=True)  # (N, 1)
    with rng.scope(seed, "init"):
        model = torch.nn.Linear(n_in, 1)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    return train(
        model, lambda step: (x, y), lambda m, b: ((m(b[0]) - b[1]) ** 2).mean(), opt, steps,
        progress=False,
    )


def run(config: Config, seeds) -> list[Result]:
    if config.mode == "raise":
        raise RuntimeError("boom")
    if config.mode == "interrupt":
        raise KeyboardInterrupt
    good = [fit(config.lr, s, config.steps, config.sizes[0]) for s in seeds]
    bad = [fit(config.bad_lr, s, config.steps, config.sizes[0]) for s in seeds]
    values = {"good": [h.final_loss() for h in good], "bad": [h.final_loss() for h in bad]}
    values["bad diverged"] = [float(h.diverged) for h in bad]
    result = Result(
        "fake2020paper.works",
        values,
        notes=[f"bad seed {s} diverged at step {h.diverged_step}" for s, h in zip(seeds, bad)],
        extra={"good": [h.to_dict() for h in good]},
    )
    result.add_figure("values", arm_values({"good": values["good"]}), "Final loss per seed.")
    return [result, Result("fake2020paper.later", {"x": [1.0] * len(seeds)})]
'''

NOTE = f"""\
# Fake 2020

A fake paper [@{KEY}].

## Reproduction

{{{{ claims {KEY} }}}}
"""

BIB = f"""\
@article{{{KEY},
  author = {{Doe, Jane}},
  title = {{A Fake Paper}},
  journal = {{Journal of Tests}},
  year = {{2020}},
  doi = {{10.0000/fake}},
}}
"""


def make_project(root: Path, module: str = MODULE) -> Path:
    """Write the fake project under `root` and return `root`."""
    (root / "repro").mkdir(parents=True, exist_ok=True)
    (root / "repro" / f"{KEY}.py").write_text(module)
    (root / "tests").mkdir(exist_ok=True)
    (root / "tests" / f"test_{KEY}.py").write_text("")
    (root / "docs" / "papers").mkdir(parents=True, exist_ok=True)
    (root / "docs" / "papers" / f"{KEY}.md").write_text(NOTE)
    (root / "refs.bib").write_text(BIB)
    return root
