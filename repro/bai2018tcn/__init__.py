"""Bai, Kolter & Koltun 2018: An Empirical Evaluation of Generic Convolutional and Recurrent
Networks for Sequence Modeling.

Claim: a generic temporal convolutional network (TCN) of comparable size remembers further back
than canonical recurrent nets. Table 1's synthetic rows: on copy memory the TCN's loss goes to
about zero while an LSTM, a GRU and a vanilla RNN stay at the memoryless baseline; on the adding
problem the TCN and the GRU solve the task while the LSTM and the RNN stay at the trivial MSE;
and the memory study (Section 5, copy memory at several T, models of about 10K parameters) finds
the TCN recalling at lengths where the LSTM and the GRU fall to chance.

Key equations. A causal dilated convolution F(s) = sum_{i=0}^{k-1} f(i) x_{s - d i}; n residual
blocks of two such convolutions with dilations 1, 2, ..., 2^(n-1) see

    r = 1 + 2 (k - 1)(2^n - 1)   input steps   (layers.tcn_receptive_field).

Copy memory (T blanks between 10 symbols from 8 and their recall): a model that predicts the blanks
and guesses the symbols uniformly scores 10 ln 8 / (T + 20) per step. Adding problem (sum of two
marked U(0, 1) values): predicting 1 scores Var(u1 + u2) = 2 / 12 = 1/6 = 0.1667 (the paper's text
says 0.1767; 1/6 is the exact value, and the measured `predict_one` arm confirms it).

Departures, each measured (see Config): copy T = 40 and T in {10, 20, 40} for the memory study
(paper: 1000, and lengths up to about 1000); adding T = 50 (paper: 600); 3.9K-4.5K parameters
per arm (paper: 16K and 70K); 800 (copy) and 500 (adding) Adam steps per arm (paper: until
convergence); the TCN starts from torch's default conv init, which is what the reference code
ran, not the stated N(0, 0.01).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from repro.claims import Claim, Registration, Result, above, below, within
from repro.kit import layers, tasks
from repro.kit.copymem import N_TOKENS, copy_result
from repro.kit.copymem import copy_unit as copy_memory_unit
from repro.kit.device import to_device
from repro.kit.figures import PALETTE, loss_curves, new_figure
from repro.kit.train import train
from repro.kit.units import Budget, Unit, grid

COPY_BASELINE_1000 = 10 * math.log(8) / 1020  # the memoryless loss at the paper's T = 1000
RECURRENT = ("lstm", "gru", "rnn")
ARMS = ("tcn", *RECURRENT)  # every arm of Table 1's synthetic rows
MEMORY_ARMS = ("tcn", "lstm", "gru")  # the memory study's arms

CLAIMS = [
    Claim(
        id="bai2018tcn.copy-memory",
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
        setup="paper: T up to about 1000, 10K parameters | ours: T in {10, 20, 40}, about 4.5K",
        statement="On copy memory at growing T, the longest T at which a TCN still recalls the "
        "symbols is longer than for an LSTM and a GRU of comparable size, which fall to chance.",
        paper_value="TCN near 100% recall at every T tried; LSTM and GRU fall to random "
        "guessing (1/8) as T grows; models of about 10K parameters",
        where="Section 5, the memory-size study (copy-memory accuracy against T; figure number "
        "not verified)",
        metric="per seed, the largest T of the grid at which the arm's recall accuracy on the "
        "10 recalled positions is at least 0.5 (0 where it reaches it at no T; chance 1/8)",
        criterion=below("lstm_reach", "tcn_reach", seeds=0.8)
        & below("gru_reach", "tcn_reach", seeds=0.8),
    ),
]

# Fixed before the confirmation run (seeds 300-304, never looked at before): what was explored.
AUDIT_2026_12_02 = (1887443294, 1382599469, 1468350333, 846785323, 452548711)  # see the note
REGISTRATION = Registration(
    exploration=(0, 1, 2, 3, 4, 5, *AUDIT_2026_12_02),
    confirmation=(300, 301, 302, 303, 304),
    note=(
        "Single-run probes on seeds 0-1 set the lengths, steps and TCN depth; the recurrent "
        "learning-rate grid {1e-3, 3e-3, 1e-2} ran on seed 5 (1e-2 won for every recurrent arm on "
        "both tasks); the criteria were then fixed and the full scale run once on seeds 0-4. "
        "Confirmed on 200-204 at 400 copy steps (copy memory reproduced); its audit on fresh seeds "
        "AUDIT_2026_12_02 found the TCN still mid-descent at step 400 on 2 of 5 (loss/baseline "
        "0.38, 0.13), so copy_steps became 800 and those seeds count as exploration; criteria "
        "unchanged, confirmed again on fresh seeds 300-304."
    ),
)

# Full scale on the default seeds, one thread per unit: CPU time summed over units; peak RSS of
# one worker. Measured on exploration seeds 0-4 (provenance cpu_time_s 523, peak_memory_mb 595):
# about 10% over the 480 s; the memory study's extra lengths are 150 s of it.
BUDGET = Budget(cpu_s=800, memory_mb=600, measured="full run, seeds 300-304, 2 cores: 786 CPU s")


@dataclass(frozen=True)
class Config:
    seeds: int = 5  # quick and paper scale; full scale confirms on REGISTRATION
    copy_T: int = 40  # paper: 1000. Probes, 300-400 steps, seeds 0-1: the TCN recalled 0.52-0.97
    # of the symbols at T = 40 and 0.17-0.19 at T = 80; the LSTM, GRU and RNN stayed at chance
    # even at T = 10
    memory_T: tuple[int, ...] = (10, 20, 40)  # the memory study's lengths (paper: up to ~1000);
    # 40 is copy_T, whose runs are shared with the copy-memory claim
    memory_acc: float = 0.5  # "recalls": halfway from the TCN's ~100% to chance (1/8), paper Sec 5
    tcn_levels: int = 5  # receptive field 1 + 2*3*31 = 187 >= every T + 20
    tcn_channels: int = 10  # 4.3K parameters (paper: 8 levels x 10 channels, k = 8, T = 1000)
    tcn_kernel: int = 4
    tcn_init: str = "torch"  # "torch": torch's default conv init, which is what the reference
    # code ran (its deprecated weight_norm hook overwrote the N(0, 0.01) it set); "paper": the
    # stated N(0, 0.01) (layers.py), under which the TCN sat on both baselines for longer than
    # the CPU budget (explored earlier, 5 runs)
    lstm_hidden: int = 27  # hidden sizes matched to the TCN's parameters within 10% (test)
    gru_hidden: int = 31
    rnn_hidden: int = 56
    copy_steps: int = 800  # the same for every arm. 400 fit the ~480 CPU s budget, but on 2 of
    # 5 fresh seeds the TCN had only begun to leave the plateau by then (the note); 800 is twice
    # the latest escape seen (a TCN step costs ~25 ms, a GRU step at T = 40 ~28 ms)
    batch: int = 32  # the reference code's batch
    tcn_lr: float = 5e-3  # Adam (paper: 2e-3 for the TCN at 20K+ steps); 5e-3 left the plateau
    # within the CPU budget
    # Recurrent rates: the best of the declared grid {1e-3, 3e-3, 1e-2} (Adam, these steps) on
    # exploration seed 5; copy loss / baseline: LSTM 1.72, 1.12, 1.005; GRU 1.07, 1.008, 0.995;
    # RNN 1.46, 1.007, 1.003 (1e-2 lowest for all three)
    lstm_lr: float = 1e-2
    gru_lr: float = 1e-2
    rnn_lr: float = 1e-2
    clip: float = 1.0  # the upper end of the paper's [0.3, 1]; applied after backward
    test_size: int = 1000  # fresh test sequences per seed
    baseline_size: int = 100_000  # sequences for the predict-1 MSE: standard error 0.0006
    add_T: int = 50  # paper: 600; a TCN of 5 blocks reaches 1.6e-3-1e-2 here in 500 steps
    # (probe, seeds 0-1)
    add_channels: int = 10
    add_levels: int = 5  # receptive field 187 >= add_T; 3.9K parameters
    add_lstm_hidden: int = 30
    add_gru_hidden: int = 35
    add_rnn_hidden: int = 61
    add_steps: int = 500  # the same for every arm
    add_tcn_lr: float = 5e-3  # as on copy memory
    # Adding grid, same seed and rates; test MSE: LSTM 0.172, 0.172, 0.0044; GRU 0.169, 0.0078,
    # 0.0019; RNN 0.176, 0.177, 0.170 (1e-2 lowest for all three)
    add_lstm_lr: float = 1e-2
    add_gru_lr: float = 1e-2
    add_rnn_lr: float = 1e-2
    curve_every: int = 10  # loss curves kept every this many steps

    @classmethod
    def quick(cls) -> Config:
        # Seconds, one seed: at T = 10 the TCN recalls within 250 steps; adding at T = 20.
        return cls(
            seeds=1,
            copy_T=10,
            memory_T=(10,),
            copy_steps=250,
            add_T=20,
            add_steps=200,
            test_size=500,
        )

    @classmethod
    def paper(cls) -> Config:
        # Table 1's sizes: T = 1000 copy memory (16K; the reference code's 8 x 10, k = 8, is
        # 13.2K here), T = 600 adding (70K); Adam 2e-3 for the TCN.
        return cls(
            copy_T=1000,
            memory_T=(100, 200, 400, 600, 800, 1000),
            tcn_levels=8,
            tcn_kernel=8,
            lstm_hidden=51,
            gru_hidden=60,
            rnn_hidden=105,
            copy_steps=20_000,
            add_T=600,
            add_channels=24,
            add_levels=8,
            add_lstm_hidden=131,
            add_gru_hidden=152,
            add_rnn_hidden=263,
            add_steps=20_000,
            **{f: 2e-3 for f in ("tcn_lr", "add_tcn_lr")},
        )

    def __post_init__(self) -> None:
        if self.tcn_init not in ("torch", "paper"):
            raise ValueError(f"tcn_init must be 'torch' or 'paper', not {self.tcn_init!r}")

    def rate(self, task: str, arm: str) -> float:
        return getattr(self, f"{'add_' if task == 'adding' else ''}{arm}_lr")

    def hidden(self, task: str, arm: str) -> int:
        return getattr(self, f"{'add_' if task == 'adding' else ''}{arm}_hidden")


# ---- models ---------------------------------------------------------------------------------


class TCNSeq(nn.Module):
    """TCN over one-hot tokens, a linear read-out at every step: (B, L) -> (B, L, N_TOKENS)."""

    def __init__(self, channels: int, levels: int, kernel: int):
        super().__init__()
        self.tcn = layers.TCN(N_TOKENS, [channels] * levels, kernel)
        self.head = nn.Linear(channels, N_TOKENS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, L) tokens
        h = self.tcn(F.one_hot(x, N_TOKENS).float().transpose(1, 2))  # (B, C, L)
        return self.head(h.transpose(1, 2))  # (B, L, N_TOKENS)


CELLS = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}  # nn.RNN: the vanilla tanh RNN


class RNNSeq(nn.Module):
    """LSTM, GRU or tanh RNN over one-hot tokens, a linear read-out at every step."""

    def __init__(self, cell: str, hidden: int):
        super().__init__()
        self.rnn = CELLS[cell](N_TOKENS, hidden, batch_first=True)
        self.head = nn.Linear(hidden, N_TOKENS)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, L) tokens
        out, _ = self.rnn(F.one_hot(x, N_TOKENS).float())  # (B, L, H)
        return self.head(out)  # (B, L, N_TOKENS)


class AddingTCN(nn.Module):
    def __init__(self, channels: int, levels: int, kernel: int):
        super().__init__()
        self.tcn = layers.TCN(2, [channels] * levels, kernel)
        self.head = nn.Linear(channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, T, 2)
        h = self.tcn(x.transpose(1, 2))  # (B, C, T)
        return self.head(h[:, :, -1]).squeeze(-1)  # (B,): read at the last step


class AddingRNN(nn.Module):
    def __init__(self, cell: str, hidden: int):
        super().__init__()
        self.rnn = CELLS[cell](2, hidden, batch_first=True)
        self.head = nn.Linear(hidden, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (B, T, 2)
        out, _ = self.rnn(x)  # (B, T, H)
        return self.head(out[:, -1]).squeeze(-1)  # (B,)


def torch_init(model: nn.Module) -> nn.Module:
    """Redraw every TCN convolution with torch's default init, keeping weight normalization
    (g = ||v||): the weights the reference code actually started from."""
    for m in model.modules():
        if isinstance(m, layers.CausalConv1d):
            w = m.conv.parametrizations.weight
            fresh = nn.Conv1d(w.original1.shape[1], w.original1.shape[0], w.original1.shape[2])
            with torch.no_grad():
                w.original1.copy_(fresh.weight)  # v: (C_out, C_in, k)
                w.original0.copy_(fresh.weight.norm(dim=(1, 2), keepdim=True))  # g: (C_out, 1, 1)
    return model


def copy_model(config: Config, arm: str) -> nn.Module:
    if arm == "tcn":
        tcn = TCNSeq(config.tcn_channels, config.tcn_levels, config.tcn_kernel)
        return torch_init(tcn) if config.tcn_init == "torch" else tcn
    return RNNSeq(arm, config.hidden("copy", arm))


def adding_model(config: Config, arm: str) -> nn.Module:
    if arm == "tcn":
        tcn = AddingTCN(config.add_channels, config.add_levels, config.tcn_kernel)
        return torch_init(tcn) if config.tcn_init == "torch" else tcn
    return AddingRNN(arm, config.hidden("adding", arm))


# ---- claims 1 and 3: copy memory, at copy_T and at the memory study's lengths ------------------


def copy_unit(config: Config, arm: str, seed: int, T: int) -> dict:
    return copy_memory_unit(
        copy_model(config, arm),
        seed,
        T=T,
        steps=config.copy_steps,
        lr=config.rate("copy", arm),
        batch=config.batch,
        clip=config.clip,
        test_size=config.test_size,
        curve_every=config.curve_every,
        desc=f"copy T={T} {arm} seed {seed}",
    )


def copy_run(done: Mapping[Unit, dict], config: Config, T: int, arm: str, seed: int) -> dict:
    part = "copy-memory" if T == config.copy_T else f"memory-T{T}"
    return done[Unit(part, arm, seed)]


def copy_memory(config: Config, seeds: Sequence[int], done: Mapping[Unit, dict]) -> Result:
    return copy_result(
        "bai2018tcn.copy-memory",
        ARMS,
        seeds,
        lambda arm, seed: copy_run(done, config, config.copy_T, arm, seed),
        T=config.copy_T,
        curve_every=config.curve_every,
        caption=f"Copy memory, T = {config.copy_T}: training loss relative to "
        "10 ln 8 / (T + 20), one line per seed.",
    )


def memory(config: Config, seeds: Sequence[int], done: Mapping[Unit, dict]) -> Result:
    """Recall accuracy against T per arm (the paper's memory figure) and each seed's reach."""
    acc = {a: {T: [copy_run(done, config, T, a, s)["acc"] for s in seeds] for T in config.memory_T}
           for a in MEMORY_ARMS}  # fmt: skip
    values = {
        f"{a}_reach": [
            float(max((T for T in config.memory_T if acc[a][T][i] >= config.memory_acc), default=0))
            for i in range(len(seeds))
        ]
        for a in MEMORY_ARMS
    }
    notes = [
        f"{a} T = {T}: recall accuracy per seed " + ", ".join(f"{v:.2f}" for v in acc[a][T])
        for a in MEMORY_ARMS
        for T in config.memory_T
    ]
    result = Result(
        "bai2018tcn.memory",
        values,
        notes=notes,
        extra={"acc": {a: {str(T): v for T, v in d.items()} for a, d in acc.items()}},
    )
    fig, (ax,) = new_figure(width=5.0)
    for i, a in enumerate(MEMORY_ARMS):
        for j in range(len(seeds)):
            ys = [acc[a][T][j] for T in config.memory_T]
            ax.plot(config.memory_T, ys, "o-", color=PALETTE[i], alpha=0.5, lw=1,
                    label=a if j == 0 else None)  # fmt: skip
    ax.axhline(1 / 8, color="0.4", ls=":", lw=1, label="chance (1/8)")
    ax.axhline(config.memory_acc, color="0.4", ls="--", lw=1, label="recalls")
    ax.set(xlabel="T (blank steps)", ylabel="recall accuracy", ylim=(0, 1.05))
    ax.legend(frameon=False)
    result.add_figure(
        "memory",
        fig,
        "Copy memory: accuracy on the 10 recalled symbols against T, one line per seed "
        f"({config.copy_steps} steps per run), as in the paper's memory-size figure.",
    )
    return result


# ---- claim 2: adding problem ----------------------------------------------------------------


def adding_loss(model: nn.Module, batch: tuple[torch.Tensor, torch.Tensor]) -> torch.Tensor:
    x, y = batch
    return ((model(x) - y) ** 2).mean()


def adding_unit(config: Config, arm: str, seed: int) -> dict:
    """One arm's test MSE and curve for one seed; arm "predict_one" scores the constant 1."""
    if arm == "predict_one":
        _, y_big = tasks.adding(
            config.baseline_size, config.add_T, tasks.generator(2 * 10**6 + seed)
        )
        return {"mse": ((1.0 - y_big) ** 2).mean().item()}  # (N,) -> MSE
    test = tasks.adding(config.test_size, config.add_T, tasks.generator(10**6 + seed))
    x_test, y_test = to_device(test)  # (N, T, 2), (N,)
    model = adding_model(config, arm)
    data = tasks.generator(seed)
    hist = train(
        model,
        lambda _: tasks.adding(config.batch, config.add_T, data),
        adding_loss,
        torch.optim.Adam(model.parameters(), lr=config.rate("adding", arm)),
        config.add_steps,
        clip=config.clip,
        desc=f"adding {arm} seed {seed}",
    )
    model.eval()
    with torch.no_grad():
        mse = math.nan if hist.diverged else adding_loss(model, (x_test, y_test)).item()
    return {"mse": mse, "curve": hist.loss[:: config.curve_every], "params": layers.n_params(model)}


def adding(config: Config, seeds: Sequence[int], done: Mapping[Unit, dict]) -> Result:
    values: dict[str, list[float]] = {a: [] for a in (*ARMS, "predict_one")}
    curves: dict[str, list[list[float]]] = {a: [] for a in ARMS}
    params = {}
    for seed in seeds:
        values["predict_one"].append(done[Unit("adding", "predict_one", seed)]["mse"])
        for arm in ARMS:
            out = done[Unit("adding", arm, seed)]
            params[arm] = out["params"]
            values[arm].append(out["mse"])
            curves[arm].append(out["curve"])
    notes = [
        f"T = {config.add_T}; parameters " + ", ".join(f"{a} {n}" for a, n in params.items()),
        "predicting 1 scores E[(u1 + u2 - 1)^2] = 1/6 = 0.1667 for U(0, 1) values; the paper's "
        "text says 0.1767",
    ]
    result = Result(
        "bai2018tcn.adding-row", values, notes=notes, extra={"params": params, "curves": curves}
    )
    result.add_figure(
        "curves",
        loss_curves(
            curves,
            every=config.curve_every,
            ylabel="training MSE",
            baseline=1 / 6,
            baseline_label="predict 1 (1/6)",
        ),
        f"Adding problem, T = {config.add_T}: training MSE, one line per seed.",
    )
    return result


# ---- units: one arm of one claim for one seed -----------------------------------------------


def units(config: Config, seeds: Sequence[int]) -> list[Unit]:
    memory_units = [
        u
        for T in config.memory_T
        if T != config.copy_T
        for u in grid(f"memory-T{T}", MEMORY_ARMS, seeds)
    ]
    return (
        grid("copy-memory", ARMS, seeds)
        + grid("adding", (*ARMS, "predict_one"), seeds)
        + memory_units
    )


def unit(config: Config, u: Unit) -> dict:
    if u.part == "adding":
        return adding_unit(config, u.arm, u.seed)
    T = config.copy_T if u.part == "copy-memory" else int(u.part.removeprefix("memory-T"))
    return copy_unit(config, u.arm, u.seed, T)


def combine(config: Config, seeds: Sequence[int], done: Mapping[Unit, dict]) -> list[Result]:
    return [
        copy_memory(config, seeds, done),
        adding(config, seeds, done),
        memory(config, seeds, done),
    ]
