"""Kit room, tasks: every dataset the reproductions use, generated, never downloaded.

Every task takes an explicit `torch.Generator` (a named stream, `repro.kit.rng.stream`), so a
seed fixes the data exactly and no task touches the global random state. Real data sets live in
their own rooms (kit.digits, kit.chorales).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

# ---- copy memory (Hochreiter & Schmidhuber 1997; Bai et al. 2018, Section 5) ----------------


@dataclass(frozen=True)
class CopyBatch:
    x: torch.Tensor  # (B, T + 2 * n_copy) symbols: n_copy data, blanks, delimiter, blanks
    y: torch.Tensor  # (B, T + 2 * n_copy) blanks except the last n_copy positions = the data
    recall: torch.Tensor  # (B, T + 2 * n_copy) bool, True on the positions to recall


def copy_memory(
    batch: int, T: int, gen: torch.Generator, n_symbols: int = 8, n_copy: int = 10
) -> CopyBatch:
    """Remember n_copy symbols (1..n_symbols) over T blanks, then replay them after a delimiter.

    Token 0 is the blank and token n_symbols + 1 the delimiter, as in Bai et al.'s setup; the
    sequence has T + 2 n_copy steps and the delimiter sits n_copy steps before the end.
    """
    length = T + 2 * n_copy
    data = torch.randint(1, n_symbols + 1, (batch, n_copy), generator=gen)  # (B, n_copy)
    x = torch.zeros(batch, length, dtype=torch.long)  # (B, L)
    x[:, :n_copy] = data
    x[:, -(n_copy + 1)] = n_symbols + 1
    y = torch.zeros(batch, length, dtype=torch.long)  # (B, L)
    y[:, -n_copy:] = data
    recall = torch.zeros(batch, length, dtype=torch.bool)  # (B, L)
    recall[:, -n_copy:] = True
    return CopyBatch(x, y, recall)


def copy_memory_baseline(T: int, n_symbols: int = 8, n_copy: int = 10) -> float:
    """Cross-entropy per step of the memoryless strategy: blanks right, recalled symbols guessed.

    It predicts blanks perfectly and a uniform guess over the n_symbols on the n_copy recalled
    steps: n_copy ln(n_symbols) / (T + 2 n_copy) (10 ln 8 / (T + 20) in Bai et al.).
    """
    return n_copy * math.log(n_symbols) / (T + 2 * n_copy)


# ---- adding problem (Hochreiter & Schmidhuber 1997; Pascanu et al. 2013; Bai et al. 2018) ----


def adding(
    batch: int, T: int, gen: torch.Generator, mean: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """Two channels: values U(0, 1) and a marker on two positions; the target is their sum.

    One marker falls in the first half and one in the second, so the dependency spans about T/2
    steps at least. With `mean=True` the target is the mean of the two (Pascanu et al.'s variant):
    predicting 0.5 then gives MSE 1/24; for the sum, predicting 1 gives MSE 1/6.
    """
    values = torch.rand(batch, T, generator=gen)  # (B, T)
    half = T // 2
    first = torch.randint(0, half, (batch,), generator=gen)  # (B,)
    second = torch.randint(half, T, (batch,), generator=gen)  # (B,)
    marks = torch.zeros(batch, T)  # (B, T)
    rows = torch.arange(batch)
    marks[rows, first] = 1.0
    marks[rows, second] = 1.0
    x = torch.stack([values, marks], dim=-1)  # (B, T, 2)
    y = values[rows, first] + values[rows, second]  # (B,)
    return x, (y / 2 if mean else y)
