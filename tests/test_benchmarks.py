"""The benchmark scripts follow the cards: every case builds from the current configs and steps.

The scripts measure speed and assert nothing; this only keeps them from rotting when a card
changes its arms or fields (it ran into exactly that once). No timing is asserted.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parent.parent


def load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_step_speed_builds_and_steps_every_case() -> None:
    bench = load("step_speed")
    torch.manual_seed(0)
    cases = bench.bai_cases() + bench.chang_cases() + bench.he_cases()
    names = [c.name for c in cases]
    assert len(names) == len(set(names))
    assert {n.split()[0] for n in names} == {"bai2018tcn", "chang2017dilated", "he2016resnet"}
    for case in cases:
        before = [p.detach().clone() for p in case.model.parameters()]
        case.step()
        moved = any(not torch.equal(b, p) for b, p in zip(before, case.model.parameters()))
        assert moved, f"{case.name}: one step changed no parameter"
