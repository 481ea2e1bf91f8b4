"""Our training step against the reference implementations', side by side in one run.

    python benchmarks/peers.py --peer locuslab-tcn=DIR --peer zalando-drnn=DIR \
        --peer locuslab-music=DIR [--repeats 7]

DIR is a local checkout of https://github.com/locuslab/TCN (its TCN/tcn.py; for locuslab-music its
TCN/poly_music/model.py, which imports TCN.tcn from DIR) or of
https://github.com/zalandoresearch/pytorch-dilated-rnn (its drnn.py); nothing of theirs is part of
this project, and a peer not given is skipped with a message. One step is what `step_speed.py`
times (zero grads, forward, loss, backward, clip, Adam), on the same batch, one thread, same sizes
and the same read-out on both sides, models interleaved round by round so load hits both alike.
The figure is ours / theirs in ms per step (below 1: ours is faster), the median over rounds
of each round's ratio (repro.kit.timing).

Configs (those of the speed issue): TCN copy memory T = 100 (6 levels x 10 channels, k = 4) and
T = 1000 (8 x 10, k = 8), batch 32; dilated tanh RNN 7 x 20 at T = 50 and dilated GRU 9 x 10 at
T = 1000, batch 32, on copy-memory inputs (10 one-hot tokens, length T + 20); the polyphonic-music
TCN of bai2018tcn's JSB row (k = 3, 2 levels of 150, dropout 0.5: supplement Table 2) against
locuslab's poly_music model, one piece of 100 frames per step as their script trains, each side
with its own NLL (theirs: the trace of two L x L products of their script; ours: kit.music's
frame NLL).
"""

from __future__ import annotations

import argparse
import importlib.util
import platform
import statistics
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE.parent), str(HERE)]

from step_speed import Case, measure  # noqa: E402

from repro.bai2018tcn.music import TCNMusic  # noqa: E402
from repro.bai2018tcn.tcn import TCN  # noqa: E402
from repro.chang2017dilated.model import DilatedRNN  # noqa: E402
from repro.kit import rng, tasks, timing  # noqa: E402
from repro.kit.copymem import N_TOKENS, copy_loss  # noqa: E402
from repro.kit.music import KEYS as N_KEYS  # noqa: E402
from repro.kit.music import frame_nll  # noqa: E402

PEERS = {
    "locuslab-tcn": "TCN/tcn.py",
    "zalando-drnn": "drnn.py",
    "locuslab-music": "TCN/poly_music/model.py",
}


def load_peer(name: str, folder: Path):
    path = folder / PEERS[name]
    if not path.exists():
        raise SystemExit(f"--peer {name}={folder}: no {PEERS[name]} there")
    if str(folder) not in sys.path:  # their poly_music model imports TCN.tcn from the checkout
        sys.path.append(str(folder))
    spec = importlib.util.spec_from_file_location(f"peer_{name.replace('-', '_')}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class Ours(nn.Module):
    """Our TCN or dilated stack over one-hot tokens with a linear read-out: (B, L) -> logits."""

    def __init__(self, body: nn.Module, width: int, conv: bool):
        super().__init__()
        self.body, self.conv, self.head = body, conv, nn.Linear(width, N_TOKENS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, L)
        h = F.one_hot(x, N_TOKENS).float()  # (B, L, N)
        h = self.body(h.transpose(1, 2)).transpose(1, 2) if self.conv else self.body(h)
        return self.head(h)  # (B, L, N)


class TheirTCN(nn.Module):
    def __init__(self, peer, channels: list[int], kernel: int):
        super().__init__()
        self.body = peer.TemporalConvNet(N_TOKENS, channels, kernel_size=kernel, dropout=0.0)
        self.head = nn.Linear(channels[-1], N_TOKENS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, L)
        h = self.body(F.one_hot(x, N_TOKENS).float().transpose(1, 2))  # (B, C, L)
        return self.head(h.transpose(1, 2))  # (B, L, N)


class TheirDRNN(nn.Module):
    def __init__(self, peer, hidden: int, n_layers: int, cell: str):
        super().__init__()
        self.body = peer.DRNN(N_TOKENS, hidden, n_layers, cell_type=cell.upper(), batch_first=True)
        self.head = nn.Linear(hidden, N_TOKENS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, L)
        h, _ = self.body(F.one_hot(x, N_TOKENS).float())  # (B, L, H)
        return self.head(h)  # (B, L, N)


def their_music_nll(model: nn.Module, batch: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """locuslab's poly_music script's loss of one piece, as it computes it (B = 1)."""
    x, y, _ = batch  # (1, L, 88) each
    p = model(x)[0]  # (L, 88), float64 probabilities
    t = y[0]  # (L, 88)
    return -torch.trace(t @ torch.log(p).float().t() + (1 - t) @ torch.log(1 - p).float().t())


def music_cases(peer) -> tuple[Case, Case]:
    roll = (torch.rand(101, N_KEYS, generator=rng.stream(0, "test")) < 0.05).float()  # (T, 88)
    batch = (roll[None, :-1], roll[None, 1:], torch.ones(1, 100))  # one piece, 100 frames
    out = []
    for side, model, loss in (
        ("ours", TCNMusic(150, 2, 3, 0.5), frame_nll),
        ("locuslab", peer.TCN(N_KEYS, N_KEYS, [150] * 2, 3, 0.5), their_music_nll),
    ):
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        name = f"music TCN 2x150 k=3 {side}"
        out.append(Case(name, model, batch, loss, opt, 0.4, "B=1, L=100"))
    return out[0], out[1]


def case(name: str, model: nn.Module, T: int, batch: int = 32) -> Case:
    data = tasks.copy_memory(batch, T, rng.stream(0, "test"))
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    return Case(name, model, data, copy_loss, opt, 1.0, f"B={batch}, L={T + 20}")


def pairs(peers: dict[str, object]) -> list[tuple[Case, Case]]:
    out = []
    tcn = peers.get("locuslab-tcn")
    if tcn is not None:
        for T, levels, kernel in ((100, 6, 4), (1000, 8, 8)):
            label = f"TCN {levels}x10 k={kernel}, T={T}"
            ours = Ours(TCN(N_TOKENS, [10] * levels, kernel), 10, conv=True)
            theirs = TheirTCN(tcn, [10] * levels, kernel)
            out.append((case(f"{label} ours", ours, T), case(f"{label} locuslab", theirs, T)))
    drnn = peers.get("zalando-drnn")
    if drnn is not None:
        for cell, hidden, n_layers, T in (("rnn", 20, 7, 50), ("gru", 10, 9, 1000)):
            label = f"dilated {cell.upper()} {n_layers}x{hidden}, T={T}"
            ours = Ours(DilatedRNN(N_TOKENS, hidden, n_layers, cell), hidden, conv=False)
            theirs = TheirDRNN(drnn, hidden, n_layers, cell)
            out.append((case(f"{label} ours", ours, T), case(f"{label} zalando", theirs, T)))
    music = peers.get("locuslab-music")
    if music is not None:
        out.append(music_cases(music))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--peer",
        action="append",
        default=[],
        metavar="NAME=DIR",
        help=f"a local checkout of a reference ({', '.join(PEERS)})",
    )
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)
    peers = {}
    for item in args.peer:
        name, _, folder = item.partition("=")
        if name not in PEERS or not folder:
            parser.error(f"--peer {item!r}: expected NAME=DIR with NAME one of {', '.join(PEERS)}")
        peers[name] = load_peer(name, Path(folder).expanduser())
    for name in PEERS:
        if name not in peers:
            print(f"skipped: {name} (no --peer {name}=DIR given)")
    if not peers:
        return 0
    torch.set_num_threads(1)
    torch.manual_seed(0)
    matched = pairs(peers)
    print(
        f"torch {torch.__version__}, {platform.machine()}, 1 thread; {args.warmup} warm-up "
        f"steps, then {args.repeats} rounds x {args.steps} steps per model, interleaved"
    )
    rates = measure([c for p in matched for c in p], args.repeats, args.steps, args.warmup)
    print(f"{'config':<32} {'ours ms':>8} {'theirs ms':>10} {'ratio':>6}  params ours/theirs")
    for ours, theirs in matched:
        a = 1000 / statistics.median(rates[ours.name])
        b = 1000 / statistics.median(rates[theirs.name])
        # the ratio: median over rounds of each round's ours/theirs (repro.kit.timing)
        ratio = timing.median_ratio(rates, theirs.name, ours.name)  # rates: steps/s, inverted
        label = ours.name.removesuffix(" ours")
        print(f"{label:<32} {a:>8.1f} {b:>10.1f} {ratio:>6.2f}  {ours.params}/{theirs.params}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
