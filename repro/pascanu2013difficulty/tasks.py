"""Pascanu et al. 2013, Section 4.1.1: the temporal order problem (Hochreiter & Schmidhuber 1997),
laid out as the authors' code lays it out. Every draw takes an explicit `torch.Generator`."""

from __future__ import annotations

import torch
import torch.nn.functional as F

TEMPORAL_ORDER_SYMBOLS = 6  # tokens 0, 1 = A, B (the relevant pair); 2..5 = c, d, e, f
TEMPORAL_ORDER_CLASSES = ("AA", "AB", "BA", "BB")  # the paper's four classes, in its order


def temporal_order_label(tokens: torch.Tensor) -> torch.Tensor:
    """The class of each sequence from its tokens alone: 2 * first + second, where first and
    second are the two A/B tokens (A = 0, B = 1) in order of position; every other token is
    ignored. tokens: (B, T) long; exactly two A/B tokens per row, else ValueError."""
    relevant = tokens < 2  # (B, T)
    if not bool((relevant.sum(dim=1) == 2).all()):
        raise ValueError("each temporal-order sequence needs exactly two A/B symbols")
    first = relevant.int().argmax(dim=1)  # (B,) position of the first A/B
    second = tokens.shape[1] - 1 - relevant.flip(1).int().argmax(dim=1)  # (B,) the last one
    rows = torch.arange(tokens.shape[0])
    return 2 * tokens[rows, first] + tokens[rows, second]  # (B,) in 0..3


def temporal_order(
    batch: int, T: int, gen: torch.Generator
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Classify the order of two A/B symbols hidden in a stream of distractors.

    Section 4.1.1: "a long stream of discrete symbols. At the beginning and middle of the
    sequence a symbol within {A, B} is emitted. The task consists in classifying the order
    (either AA, AB, BA, BB) at the end of the sequence." Where exactly, from the authors' code
    (footnote 3, trainingRNNs/tempOrder.py): six one-hot symbols; the first A/B uniform in
    [T/10, 2T/10), the second in [5T/10, 6T/10); distractors uniform over {c, d, e, f}
    elsewhere (its docstring says [1, T/10] for the first window, its code draws [T/10,
    2T/10)). No start/end markers, unlike Hochreiter & Schmidhuber's original (not verified).
    Returns one-hot inputs (B, T, 6), the classes (B,) (AA 0, AB 1, BA 2, BB 3: the paper's
    order; the code's first + 2 second is a relabelling) and the tokens (B, T).
    """
    width = int(T * 0.1)
    if width < 1:
        raise ValueError(f"temporal order needs T >= 10 (got {T})")
    tokens = torch.randint(2, 6, (batch, T), generator=gen)  # (B, T) distractors c..f
    rows = torch.arange(batch)
    p0 = width + torch.randint(0, width, (batch,), generator=gen)  # (B,) in [T/10, 2T/10)
    p1 = int(T * 0.5) + torch.randint(0, width, (batch,), generator=gen)  # (B,) [5T/10, 6T/10)
    tokens[rows, p0] = torch.randint(0, 2, (batch,), generator=gen)  # A or B
    tokens[rows, p1] = torch.randint(0, 2, (batch,), generator=gen)
    x = F.one_hot(tokens, TEMPORAL_ORDER_SYMBOLS).float()  # (B, T, 6)
    return x, temporal_order_label(tokens), tokens
