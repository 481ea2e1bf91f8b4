"""Bai, Kolter & Koltun 2018: An Empirical Evaluation of Generic Convolutional and Recurrent
Networks for Sequence Modeling.

Claim: a generic temporal convolutional network (TCN) of comparable size remembers further back
than canonical recurrent nets. Table 1's synthetic rows: on copy memory the TCN's loss goes to
about zero while an LSTM, a GRU and a vanilla RNN stay at the memoryless baseline; on the adding
problem the TCN and the GRU solve the task while the LSTM and the RNN stay at the trivial MSE;
the memory study (Section 5.4 and Figure 5: copy memory at several T, models of 10K
parameters) finds the TCN recalling at lengths where the LSTM and the GRU fall to chance; and on
real music, Table 1's JSB Chorales row (music.py: Bach's chorales from music21 rendered with JSB's
recipe) orders TCN < GRU, LSTM < RNN in test NLL per frame; on real MNIST digits read one pixel
per step (mnist.py), Table 1's sequential and permuted rows order TCN > GRU > LSTM > RNN.

Key equations. A causal dilated convolution F(s) = sum_{i=0}^{k-1} f(i) x_{s - d i}; n residual
blocks of two such convolutions with dilations 1, 2, ..., 2^(n-1) see

    r = 1 + 2 (k - 1)(2^n - 1)   input steps   (tcn.tcn_receptive_field).

Copy memory (T blanks between 10 symbols from 8 and their recall): a model that predicts the blanks
and guesses the symbols uniformly scores 10 ln 8 / (T + 20) per step. Adding problem (sum of two
marked U(0, 1) values): predicting 1 scores Var(u1 + u2) = 2 / 12 = 1/6 = 0.1667 (the paper's text
says 0.1767; 1/6 is the exact value, and the measured `predict_one` arm confirms it).

Departures, each measured and flagged in Config: shorter T (paper: 1000 and 600), about 4K
parameters per arm (paper: 16K and 70K), a fixed step budget (the paper's Figures 2 and 4 plot
about 7000 and 3000 iterations), Adam for every arm on both tasks (paper, supplement Table 2: the
TCN on copy memory with RMSprop 5e-4), clipping on the adding problem too (Table 2: none there),
and torch's default TCN init, which the reference code ran (paper: N(0, 0.01), supplement A.1).
On JSB: 361 music21 chorales split by piece (not the benchmark's 382 and split), recurrent arms
of two layers at the TCN's 270K (Table 3: the LSTM 2 x 200), Adam 2e-3 for all, batches of 8.
On MNIST: 5,000 digits (4,000 to train), 14x14 = 196 steps, 17K parameters, 400 steps of 64.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from torch import nn

from repro.bai2018tcn import mnist, music
from repro.bai2018tcn.adding import PREDICT_ONE, Adding, adding_result, adding_unit, predict_one
from repro.bai2018tcn.memory import Memory, memory_result, reach_arms
from repro.bai2018tcn.model import Row, build
from repro.claims import Claim, Registration, Result, above, below, within
from repro.kit import rng
from repro.kit.copymem import copy_arms, copy_result, copy_unit
from repro.kit.units import Unit, grid

COPY_BASELINE_1000 = 10 * math.log(8) / 1020  # the memoryless loss at the paper's T = 1000
RECURRENT = ("lstm", "gru", "rnn")
ARMS = ("tcn", *RECURRENT)  # every arm of Table 1's synthetic rows
ADDING_ARMS = (*ARMS, PREDICT_ONE)  # and the trivial predictor the adding row is judged against
MEMORY_ARMS = ("tcn", "lstm", "gru")  # the memory study's arms
COPY, ADDING = "copy", "adding"  # the units' parts: one task each, its length the unit's T

CLAIMS = [
    Claim(
        id="bai2018tcn.copy-memory",
        title="A TCN solves copy memory; LSTM, GRU and RNN do not",
        domain="nonnegative",
        domains={f"{a}_acc": "probability" for a in ARMS},
        setup="paper: T = 1000, 16K parameters | ours: T = 40, about 4.5K, loss / baseline",
        statement="On copy memory a TCN of comparable size drives the loss to about zero while an "
        "LSTM, a GRU and a vanilla RNN trained alike stay at the memoryless baseline "
        "10 ln 8 / (T + 20).",
        paper_value="T = 1000: TCN 3.5e-5, LSTM 0.0204, GRU 0.0197, RNN 0.0202 (baseline "
        "0.0204), about 16K parameters each",
        where="Table 1 (copy memory row)",
        # Table 1's losses at T = 1000 over that T's memoryless baseline 10 ln 8 / 1020 = 0.02039
        paper_arms={
            "tcn": 3.5e-5 / COPY_BASELINE_1000,
            "lstm": 0.0204 / COPY_BASELINE_1000,
            "gru": 0.0197 / COPY_BASELINE_1000,
            "rnn": 0.0202 / COPY_BASELINE_1000,
        },
        paper_arms_from="Table 1's loss at T = 1000 divided by 10 ln 8 / 1020 = 0.0204",
        metric="test cross-entropy per step over all T + 20 positions divided by the memoryless "
        "baseline (1 = knows nothing about the symbols); *_acc: accuracy on the 10 recalled "
        "positions only (chance 1/8)",
        criterion=below("tcn", 0.05, seeds=0.8)
        & above("lstm", 0.9, seeds=0.8)
        & above("gru", 0.9, seeds=0.8)
        & above("rnn", 0.9, seeds=0.8),
    ),
    Claim(
        id="bai2018tcn.adding-row",
        title="TCN and GRU solve the adding problem; LSTM and RNN do not",
        domain="nonnegative",
        setup="paper: T = 600, 70K parameters | ours: T = 50, about 4.5K, a short budget",
        statement="On the adding problem the TCN and the GRU solve the task (test MSE two orders "
        "of magnitude below the trivial 1/6) while the LSTM and the vanilla RNN stay near 1/6; "
        "predicting 1 scores 1/6, not the 0.1767 of the paper's text.",
        paper_value="T = 600: TCN 5.8e-5, GRU 5.3e-5, LSTM 0.164, RNN 0.177; trivial predictor "
        "0.1767 (text), about 70K parameters each",
        where="Table 1 (adding problem row) and Section 4's task description",
        paper_arms={"tcn": 5.8e-5, "gru": 5.3e-5, "lstm": 0.164, "rnn": 0.177},
        paper_arms_from="Table 1's test MSE at T = 600 as printed",
        metric="test MSE on 1000 fresh sequences per seed; predict_one: MSE of always "
        "predicting 1, on 100,000 other fresh sequences per seed",
        criterion=below("tcn", 1 / 600, seeds=0.8, label="1/6 ÷ 100")
        & below("gru", 1 / 600, seeds=0.8, label="1/6 ÷ 100")
        & above("lstm", 1 / 12, seeds=0.8, label="1/6 ÷ 2")
        & above("rnn", 1 / 12, seeds=0.8, label="1/6 ÷ 2")
        & within("predict_one", 1 / 6, 0.005, label="1/6"),
    ),
    Claim(
        id="bai2018tcn.memory",
        title="A TCN remembers over longer spans than an LSTM or a GRU",
        setup="paper: Figure 5's range of T, 10K parameters | ours: T in {10, 20, 40}, about 4.5K",
        statement="On copy memory at growing T, the longest T at which a TCN still recalls the "
        "symbols is longer than for an LSTM and a GRU of comparable size, which fall to chance.",
        paper_value="TCN 100% recall at every T tried; LSTM and GRU fall to random guessing as T "
        "grows, the LSTM below 20% for T < 50 and the GRU below 20% for T < 200; models of 10K "
        "parameters",
        where="Section 5.4 and Figure 5 (copy-memory accuracy on the 10 recalled symbols "
        "against T)",
        metric="per seed, the largest T of the grid at which the arm's recall accuracy on the "
        "10 recalled positions is at least 0.5 (0 where it reaches it at no T; chance 1/8)",
        criterion=below("lstm_reach", "tcn_reach", seeds=0.8)
        & below("gru_reach", "tcn_reach", seeds=0.8),
    ),
    music.JSB_CLAIM,
    *mnist.MNIST_CLAIMS,
]

# Fixed before the confirmation run (seeds 300-304, never looked at before): what was explored.
REGISTRATION = Registration(
    exploration=(0, 1, 2, 3, 4, 5, 1887443294, 1382599469, 1468350333, 846785323, 452548711),
    confirmation=(300, 301, 302, 303, 304),
    quick=(0,),
    note=(
        "MNIST rows: criterion Table 1's order, from the paper; probes on seeds 0-2 set the "
        "budget (sequential, 400 steps: TCN 0.92-0.95, LSTM 0.53, GRU 0.32-0.43, RNN 0.10); an "
        "RMSprop rate grid {1e-3, 3e-3} on seed 0 (GRU 0.43 / 0.46, LSTM 0.53 / 0.44) kept "
        "Table 3's 1e-3. JSB row: probes on the whole data set (batch order seed 0) set its "
        "epochs, patience and rate (Adam 5e-3 against 2e-3 for the recurrent arms: no earlier "
        "escape from the plateau), then its criterion was fixed before its one run on 300-304. "
        "Single-run probes on seeds 0-1 set the lengths, steps and TCN depth; the recurrent "
        "learning-rate grid {1e-3, 3e-3, 1e-2} ran on seed 5 (1e-2 won for every recurrent arm on "
        "both tasks); the criteria were then fixed and the full scale run once on seeds 0-4. "
        "Confirmed on 200-204 at 400 copy steps (copy memory reproduced); an audit on five fresh "
        "seeds (1887443294, 1382599469, 1468350333, 846785323, 452548711) found the TCN still "
        "mid-descent at step 400 on 2 of 5 (loss/baseline 0.38, 0.13), so the copy steps became "
        "800 and those seeds count as exploration; criteria unchanged, confirmed again on fresh "
        "seeds 300-304."
    ),
)

MEMORY_MB = 800  # one worker's peak at full scale: 787 MB with the MNIST rows (300-304)


@dataclass(frozen=True)
class Copy(Row):
    """Table 1's copy-memory row (task: Section 4): T blanks between 10 symbols and their recall."""

    T: int = 40  # paper: 1000. Probes, 300-400 steps, seeds 0-1: the TCN recalled 0.52-0.97
    # of the symbols at T = 40 and 0.17-0.19 at T = 80; the LSTM, GRU and RNN stayed at chance
    # even at T = 10
    steps: int = 800  # the same for every arm. 400 fit a 480 CPU s budget, but on 2 of 5 fresh
    # seeds the TCN had only begun to leave the plateau by then (the note); 800 is twice the
    # latest escape seen (a TCN step costs ~25 ms, a GRU step at T = 40 ~28 ms)
    levels: int = 5  # receptive field 1 + 2*3*31 = 187 >= every T + 20
    channels: int = 10  # 4.3K parameters (paper, Figure 4 at T = 1000 and the reference code:
    # 8 levels x 10 channels, k = 8, 13K; Table 1: about 16K)
    lstm_hidden: int = 27  # hidden sizes matched to the TCN's parameters within 10% (test)
    gru_hidden: int = 31
    rnn_hidden: int = 56
    tcn_lr: float = 5e-3  # Adam (departure: the paper's TCN used RMSprop at 5e-4 here, supplement
    # Table 2, over the 3000 iterations of Figure 4); 5e-3 left the plateau within the CPU budget
    # Recurrent rates: the best of the declared grid {1e-3, 3e-3, 1e-2} (Adam, these steps) on
    # exploration seed 5; copy loss / baseline: LSTM 1.72, 1.12, 1.005; GRU 1.07, 1.008, 0.995;
    # RNN 1.46, 1.007, 1.003 (1e-2 lowest for all three)
    lstm_lr: float = 1e-2
    gru_lr: float = 1e-2
    rnn_lr: float = 1e-2


@dataclass(frozen=True)
class Config:
    copy: Copy = field(default_factory=Copy)
    adding: Adding = field(default_factory=Adding)
    memory: Memory = field(default_factory=Memory)
    music: music.Music = field(default_factory=music.Music)
    pixels: mnist.Pixels = field(default_factory=mnist.Pixels)
    kernel: int = 4  # the TCN's kernel on both tasks (paper code: 8 at T = 1000)
    tcn_init: str = "torch"  # "torch": torch's default conv init, which is what the reference
    # code ran (its deprecated weight_norm hook overwrote the N(0, 0.01) it set); "paper": the
    # stated N(0, 0.01) (kit.layers), under which the TCN sat on both baselines for longer than
    # the CPU budget (5 exploratory runs)
    batch: int = 32  # the reference code's batch
    clip: float = 1.0  # after backward, both tasks. Paper (supplement Table 2): 1.0 on copy
    # memory, no clipping on the adding problem (a departure there)
    test_size: int = 1000  # fresh test sequences per seed
    curve_every: int = 10  # loss curves kept every this many steps

    def __post_init__(self) -> None:
        if self.tcn_init not in ("torch", "paper"):
            raise ValueError(f"tcn_init must be 'torch' or 'paper', not {self.tcn_init!r}")

    @classmethod
    def quick(cls) -> Config:
        # Seconds, one seed: at T = 10 the TCN recalls within 250 steps; adding at T = 20;
        # JSB on 24 pieces a split, 20 epochs of 6 steps; MNIST 7x7 pixels, 100 steps of 32.
        return cls(
            copy=Copy(T=10, steps=250),
            adding=Adding(T=20, steps=200),
            memory=Memory(lengths=(10,)),
            music=music.Music(pieces=24, batch=4, max_epochs=20, patience=20),
            pixels=mnist.Pixels(side=7, batch=32, steps=100, evals=2),
            test_size=500,
        )

    @classmethod
    def paper(cls) -> Config:
        # The paper's lengths and about its sizes: T = 1000 copy memory with Figure 4's TCN and the
        # reference code's 8 x 10, k = 8 (13.2K here; Table 1: about 16K), T = 600 adding (70K);
        # Adam 2e-3 for the TCN (the paper's default; on copy memory it used RMSprop 5e-4, Table 2).
        both = {"steps": 20_000, "levels": 8, "tcn_lr": 2e-3}
        return cls(
            copy=Copy(T=1000, lstm_hidden=51, gru_hidden=60, rnn_hidden=105, **both),
            adding=Adding(
                T=600, channels=24, lstm_hidden=131, gru_hidden=152, rnn_hidden=263, **both
            ),
            memory=Memory(lengths=(100, 200, 400, 600, 800, 1000)),
            music=music.Music(max_epochs=100),  # the reference code's epochs on JSB
            pixels=mnist.Pixels.paper(),
            kernel=8,
        )


def arms(config: Config) -> dict[str, tuple[str, ...]]:
    """Claim id -> every arm its Result carries (the same at every scale)."""
    return {
        "bai2018tcn.copy-memory": copy_arms(ARMS),
        "bai2018tcn.adding-row": ADDING_ARMS,
        "bai2018tcn.memory": reach_arms(MEMORY_ARMS),
        music.JSB_CLAIM.id: (*music.JSB_ARMS, *music.BASELINES),
    } | {claim.id: mnist.MNIST_ARMS for claim in mnist.MNIST_CLAIMS}


def model(config: Config, task: str, arm: str) -> nn.Module:
    """Arm `arm` of `task` ("copy", "adding" or "jsb") at this config's sizes."""
    if task == music.JSB:
        return music.jsb_model(config.music, arm)
    row = config.copy if task == COPY else config.adding
    return build(task, arm, row, config.kernel, config.tcn_init)


def units(config: Config, seeds: Sequence[int]) -> list[Unit]:
    c = config
    more = [T for T in c.memory.lengths if T != c.copy.T]  # copy.T's runs serve both claims
    return (
        grid(COPY, ARMS, seeds, Ts=(c.copy.T,))
        + grid(ADDING, ADDING_ARMS, seeds, Ts=(c.adding.T,))
        + grid(COPY, MEMORY_ARMS, seeds, Ts=more)
        + music.jsb_units(c.music, seeds)
        + mnist.mnist_units(seeds)
    )


def unit(config: Config, u: Unit) -> dict:
    c, task = config, (config.copy if u.part == COPY else config.adding)
    if u.part == music.JSB:
        return music.jsb_unit(c.music, u)
    if u.part in mnist.MNIST_PARTS:
        return mnist.mnist_unit(c.pixels, u)
    if u.arm == PREDICT_ONE:
        return predict_one(u.seed, u.T, c.adding.baseline_size)
    with rng.scope(u.seed, "init"):  # every task, length and arm of a seed: one init stream
        net = model(c, u.part, u.arm)
    run = copy_unit if u.part == COPY else adding_unit
    kw = {"batch": c.batch, "clip": c.clip, "test_size": c.test_size, "curve_every": c.curve_every}
    desc = f"{u.part} T={u.T} {u.arm} seed {u.seed}"
    return run(net, u.seed, T=u.T, steps=task.steps, lr=task.lr(u.arm), desc=desc, **kw)


def combine(config: Config, seeds: Sequence[int], done: Mapping[Unit, dict]) -> list[Result]:
    c, kw = config, {"seeds": seeds, "done": done, "curve_every": config.curve_every}
    caption = (
        f"Copy memory, T = {c.copy.T}: training loss relative to 10 ln 8 / (T + 20), one line "
        "per seed."
    )
    copy = copy_result("bai2018tcn.copy-memory", ARMS, **kw, part=COPY, T=c.copy.T, caption=caption)
    adding = adding_result("bai2018tcn.adding-row", ADDING_ARMS, **kw, part=ADDING, T=c.adding.T)
    m = c.memory
    memory = memory_result(
        "bai2018tcn.memory", MEMORY_ARMS, seeds, done, COPY, m.lengths, m.acc, c.copy.steps
    )
    return [
        copy,
        adding,
        memory,
        music.jsb_result(c.music, seeds, done),
        *mnist.mnist_results(seeds, done),
    ]
