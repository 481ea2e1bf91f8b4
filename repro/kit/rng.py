"""Kit room, random streams: every random draw of a card comes from a named stream of its seed.

The runner seeds the global generators once per unit (`repro.kit.device.seed_everything`). A card
that needs more than one stream (training data, test data, the initial weights shared by the arms
of a seed) asks for it by name:

    data = rng.stream(seed, "train")            # a torch.Generator of its own
    test = rng.stream(seed, "test", T)          # one stream per (seed, "test", T)
    with rng.scope(seed, "init"):               # global draws (nn.Module init, dropout) in it
        model = Net(...)                        # come from the named stream

A stream's seed is a hash of (seed, *names) cut to 32 bits: torch's CPU generator keeps only the
low 32 bits of a seed, so offsets such as `10_000 * seed + T` wrapped or collided for the audit's
seeds (up to 2e9), and two names never share a stream by arithmetic accident.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
from collections.abc import Iterator

import numpy as np
import torch

__all__ = ["derive", "scope", "stream"]


def derive(seed: int, *names: object) -> int:
    """A 32-bit seed for the stream named (seed, *names): the first 4 bytes of a SHA-256."""
    text = "/".join(str(part) for part in (int(seed), *names))
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:4], "little")


def stream(seed: int, *names: object, device: torch.device | str = "cpu") -> torch.Generator:
    """A fresh generator for the stream (seed, *names); never the global one."""
    return torch.Generator(device=device).manual_seed(derive(seed, *names))


@contextlib.contextmanager
def scope(seed: int, *names: object) -> Iterator[None]:
    """Global draws inside the block (weight init, dropout) come from the stream (seed, *names);
    the global generators are restored afterwards, so what follows does not depend on the block."""
    s = derive(seed, *names)
    devices = [torch.cuda.current_device()] if torch.cuda.is_available() else []
    state = random.getstate(), np.random.get_state()
    with torch.random.fork_rng(devices=devices):
        random.seed(s)
        np.random.seed(s)
        torch.manual_seed(s)
        try:
            yield
        finally:
            random.setstate(state[0])
            np.random.set_state(state[1])
