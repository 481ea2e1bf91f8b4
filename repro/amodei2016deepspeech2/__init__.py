"""Amodei et al. 2016: Deep Speech 2, end-to-end speech recognition in English and Mandarin.

Claims (arXiv v1, Section 3): (1) at a fixed parameter budget, sequence-wise batch normalization
helps deep stacks of bidirectional simple RNNs trained with CTC and the benefit grows with depth
(Table 1: BN hurts at one recurrent layer, helps most at seven); (2) SortaGrad, a first epoch
in increasing utterance length, lowers the error, most of all without BN (Table 2); (3) GRUs
beat simple RNNs at the same parameter count (Table 3). The tables' values and the section
pinpoints are our reading of arXiv v1, not verified (no stored copy of its full text).

Key equation (Section 3.2): a bidirectional recurrent layer l at time t, BN B on the shared
input-to-hidden term only, statistics over the minibatch AND the valid time steps, running
averages at evaluation, the two directions' states summed:

    ->h^l_t = f(B(W^l h^{l-1}_t) + ->U^l ->h^l_{t-1}),
    <-h^l_t = f(B(W^l h^{l-1}_t) + <-U^l <-h^l_{t+1}),
    h^l_t = ->h^l_t + <-h^l_t,   f(x) = min(max(x, 0), 20).

Departures, one per line:
- data: digit strings synthesised by eSpeak NG (kit.speech), not people's speech (12,000 h);
- size: about 90,000 parameters per net (paper: 38M), widths solved per depth for the budget;
- front end: one 1-D convolution over time, stride 2 (paper: 1-3 2-D convolutions);
- no fully connected layers between the recurrent stack and the softmax (paper: to 5/7/9 total);
- GRU candidate uses tanh and r * (U h) (the paper's exact GRU variant not verified);
- budget: 250 SGD steps of 16 from length buckets (paper: 20 epochs of 512);
- metric: greedy CER and CTC loss on held-out speakers (paper: WER; ours in the notes).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from repro.amodei2016deepspeech2 import figures
from repro.amodei2016deepspeech2.config import SORTA, Depth, Gru, Net, SortaGrad, Speech, Training
from repro.amodei2016deepspeech2.data import describe, stats
from repro.amodei2016deepspeech2.model import Arm
from repro.amodei2016deepspeech2.runs import depth_unit, sorta_unit
from repro.claims import Claim, Registration, Result, above, below
from repro.kit.units import Unit, grid, series

KEY = "amodei2016deepspeech2"
# The paper's numbers (arXiv v1, 38M parameters per net, WER %): our reading, not verified.
UNVERIFIED = "; values, table and section not verified: no stored copy of the paper's full text"
PAPER_T1 = {  # recurrent layers: (hidden units, dev WER no BN, dev WER BN), Table 1
    1: (2400, 13.55, 14.40),
    3: (1880, 11.61, 10.56),
    5: (1510, 10.77, 9.78),
    7: (1280, 10.83, 9.52),
}
PAPER_T2 = "dev WER, 7 RNN: sorted 10.83 vs not sorted 11.96 (no BN); 9.52 vs 9.78 (BN)"
PAPER_T3 = {1: (14.40, 10.53), 3: (10.56, 8.00), 5: (9.78, 7.79), 7: (9.52, 8.19)}  # RNN, GRU
PAPER_BN = "; ".join(f"{d} RNN {p[1]} vs {p[2]}" for d, p in PAPER_T1.items())


@dataclass(frozen=True)
class Config:
    """One section per table and per part the tables share (fields and their reasons in
    `repro.amodei2016deepspeech2.config`); `--set depth.depths=1,3` reaches a field."""

    speech: Speech = field(default_factory=Speech)  # the corpus: digit strings, eSpeak NG
    net: Net = field(default_factory=Net)  # front end, budget: shared by all tables
    training: Training = field(default_factory=Training)  # SGD, shared by all tables
    depth: Depth = field(default_factory=Depth)  # Table 1
    sortagrad: SortaGrad = field(default_factory=SortaGrad)  # Table 2
    gru: Gru = field(default_factory=Gru)  # Table 3

    @classmethod
    def quick(cls) -> Config:
        # Every depth of Tables 1 and 3 at a tenth of the parameters, 60 steps of 8 on a corpus
        # of 250 utterances (synthesised in about 2 s, so the tests need no cache): seconds
        return cls(
            speech=Speech(n_train=200, n_test=50, max_digits=2, eval_size=50),
            net=Net(conv=8, params=9000),
            training=Training(batch=8, steps=150),
            sortagrad=SortaGrad(pool=96, steps=48),
        )

    @classmethod
    def paper(cls) -> Config:
        # The paper's depths with wider nets, a corpus the size of TIDIGITS' training set and
        # 10x the steps; the speech stays synthesised.
        return cls(
            speech=Speech(n_train=8600, n_test=1000, eval_size=1000),
            net=Net(params=400_000),
            training=Training(batch=64, steps=3000),
            gru=Gru(depths=(1, 3, 5, 7)),
            sortagrad=SortaGrad(depth=7, pool=6400),
        )


CLAIMS = [
    Claim(
        id="amodei2016deepspeech2.bn-depth-gap",
        title="Batch norm helps more at 7 layers than at 1",
        domain="real",
        setup="paper: dev WER, 38M parameters, 1-7 bidirectional RNN layers after 1 convolution "
        "| ours: held-out CTC loss, ~90k parameters, the same depths, synthesised digit strings",
        statement="At a fixed parameter budget, the benefit of sequence-wise BN grows with depth: "
        "the no-BN minus BN gap at 7 recurrent layers exceeds the gap at 1 layer, paired by seed.",
        paper_value=PAPER_BN + " (no BN vs BN): gap -0.85 at 1 layer, +1.31 at 7",
        where="Table 1 (arXiv v1, Section 3.2)" + UNVERIFIED,
        metric="gap_d = held-out CTC loss without BN minus with BN at d recurrent layers, by seed",
        # From the paper's table: the gap at 7 above the gap at 1 in every seed.
        criterion=above("gap_7", "gap_1", seeds=1.0),
    ),
    Claim(
        id="amodei2016deepspeech2.bn-gap-both-train",
        title="Batch norm helps more at 3 layers than at 1",
        domain="real",
        setup="paper: dev WER, 1 and 3 RNN layers | ours: held-out CTC loss, 1 and 3 layers, "
        "where the no-BN arms leave the blank plateau too",
        statement="The same growth of BN's benefit between 1 and 3 recurrent layers, where both "
        "arms train: the no-BN minus BN gap at 3 layers exceeds the gap at 1, paired by seed.",
        paper_value="gap -0.85 WER points at 1 layer (13.55 vs 14.40), +1.05 at 3 (11.61 vs 10.56)",
        where="Table 1 (arXiv v1, Section 3.2)" + UNVERIFIED,
        metric="gap_d = held-out CTC loss without BN minus with BN at d recurrent layers, by seed",
        # Where both arms train: the 5- and 7-layer no-BN arms stay on the blank plateau.
        criterion=above("gap_3", "gap_1", seeds=1.0),
    ),
    Claim(
        id="amodei2016deepspeech2.bn-deep",
        title="Batch norm lowers the error of deep stacks",
        domain="probability",
        setup="paper: dev WER | ours: greedy CER on held-out speakers' digit strings",
        statement="BN lowers the final error of the deep nets: at 3, 5 and 7 recurrent layers "
        "the held-out character error rate with BN is below the one without, in every seed.",
        paper_value=PAPER_BN,
        where="Table 1 (arXiv v1, Section 3.2)" + UNVERIFIED,
        metric="greedy-decoded character error rate on held-out utterances, eval mode (BN "
        "running statistics)",
        criterion=below("rnn3_bn", "rnn3", seeds=1.0)
        & below("rnn5_bn", "rnn5", seeds=1.0)
        & below("rnn7_bn", "rnn7", seeds=1.0),
    ),
    Claim(
        id="amodei2016deepspeech2.sortagrad",
        title="SortaGrad beats shuffled batches, with batch norm",
        domain="nonnegative",
        setup="paper: dev WER, 7 RNN layers | ours: held-out CTC loss, 3 layers, with BN",
        statement="With BN, SortaGrad (first epoch in increasing utterance length, then "
        "shuffled) is lower than shuffled minibatches after the first epoch and at the end of "
        "the budget (same minibatches, initialization and later epochs, paired by seed).",
        paper_value=PAPER_T2,
        where="Table 2 (arXiv v1, Section 3.3)" + UNVERIFIED,
        metric="held-out CTC loss (eval mode) after epoch 1 (epoch1_*) and at the end",
        criterion=below("epoch1_sortagrad_bn", "epoch1_shuffled_bn", seeds=1.0)
        & below("sortagrad_bn", "shuffled_bn"),
    ),
    Claim(
        id="amodei2016deepspeech2.sortagrad-no-bn",
        title="SortaGrad beats shuffled batches, without batch norm",
        domain="nonnegative",
        setup="paper: dev WER, 7 RNN layers | ours: held-out CTC loss, 3 layers, no BN",
        statement="Without BN, SortaGrad is lower than shuffled minibatches after the first "
        "epoch and at the end of the budget, paired by seed.",
        paper_value=PAPER_T2,
        where="Table 2 (arXiv v1, Section 3.3)" + UNVERIFIED,
        metric="held-out CTC loss (eval mode) after epoch 1 (epoch1_*) and at the end",
        criterion=below("epoch1_sortagrad", "epoch1_shuffled", seeds=1.0)
        & below("sortagrad", "shuffled"),
    ),
    Claim(
        id="amodei2016deepspeech2.sortagrad-larger-without-bn",
        title="SortaGrad helps more without batch norm",
        domain="real",
        setup="paper: dev WER | ours: held-out CTC loss at the end of the budget",
        statement="SortaGrad's gain (shuffled minus sorted) at the end of training is larger "
        "without BN than with it (paired mean difference above 0 on its 95% interval).",
        paper_value="gain 1.13 WER points without BN, 0.26 with BN (Table 2)",
        where="Table 2 (arXiv v1, Section 3.3)" + UNVERIFIED,
        metric="gain = final held-out CTC loss shuffled minus SortaGrad, per seed",
        criterion=above("gain", "gain_bn"),
    ),
    Claim(
        id="amodei2016deepspeech2.gru",
        title="A GRU stack beats a simple-RNN stack of the same size",
        domain="probability",
        setup="paper: dev WER, 1-7 recurrent layers, BN, 38M parameters | ours: held-out CER, "
        "1 and 3 layers, BN, the same ~90k parameter budget as the simple RNNs",
        statement="At the same parameter count and depth, a GRU stack ends with a lower "
        "held-out error than a simple-RNN stack (both with BN), in every seed.",
        paper_value="; ".join(f"{d} RNN: simple {r} vs GRU {g}" for d, (r, g) in PAPER_T3.items()),
        where="Table 3 (arXiv v1, Section 3.4)" + UNVERIFIED,
        metric="greedy-decoded character error rate on held-out utterances, eval mode",
        criterion=below("gru1_bn", "rnn1_bn", seeds=1.0) & below("gru3_bn", "rnn3_bn", seeds=1.0),
    ),
]

REGISTRATION = Registration(
    exploration=(0, 1, 2, 3, 4, 5, 10, 11, 20, 200, 201, 202, 203, 204, 1000, 1001),
    confirmation=(300, 301, 302, 303, 304),
    note=(
        "On synthesised speech (kit.speech): the corpus, the 90k budget, the stride, the "
        "length-bucketed batches and 250 steps were set from cost probes, then each arm's rate "
        "from the grid in the Config on seed 20 alone (one full pass of the grid); the criteria "
        "are the synthetic-spectra card's, unchanged, and every claim is confirmed on fresh "
        "seeds 300-304. Seeds 200-204 confirmed the synthetic-spectra card (retired: its "
        "verdicts are in each claim's history)."
    ),
    quick=(0,),
)

MEMORY_MB = 490.0  # one worker's peak at full scale: 488.8 MB (the committed run's provenance)


def depth_arms(config: Config) -> dict[str, Arm]:
    """The nets of Tables 1 and 3 by name: simple RNNs with and without BN, GRUs with BN."""
    nets = [Arm("rnn", d, bn) for d in config.depth.depths for bn in (False, True)]
    nets += [Arm("gru", d, True) for d in config.gru.depths]
    return {a.name: a for a in nets}


def rate(config: Config, arm: Arm) -> float:
    return dict(config.depth.lr + config.gru.lr)[arm.name]


def arms(config: Config) -> dict[str, tuple[str, ...]]:
    """Claim id -> the arms its Result holds at `config` (combine builds them from this)."""
    nets = tuple(depth_arms(config))
    gaps = tuple(f"gap_{d}" for d in config.depth.depths)
    paired = tuple(f"{c}{d}_bn" for d in config.gru.depths for c in ("rnn", "gru"))

    def cells(bn: str) -> tuple[str, ...]:
        return tuple(k for a in ("sortagrad", "shuffled") for k in (f"{a}{bn}", f"epoch1_{a}{bn}"))

    return {
        f"{KEY}.bn-depth-gap": gaps + nets,  # held-out CTC losses
        f"{KEY}.bn-gap-both-train": gaps + nets,
        f"{KEY}.bn-deep": nets,  # held-out CERs
        f"{KEY}.sortagrad": cells("_bn"),  # held-out CTC losses
        f"{KEY}.sortagrad-no-bn": cells(""),
        f"{KEY}.sortagrad-larger-without-bn": ("gain", "gain_bn"),
        f"{KEY}.gru": paired,  # held-out CERs
    }


def units(config: Config, seeds: Sequence[int]) -> list[Unit]:
    return grid("depth", depth_arms(config), seeds) + grid("sortagrad", SORTA, seeds)


def unit(config: Config, u: Unit) -> dict:
    # The runner's one CPU thread per unit matters: these loops of tiny ops ran 5x slower on two.
    shared = config.speech, config.net, config.training
    if u.part == "depth":
        arm = depth_arms(config)[u.arm]
        return depth_unit(*shared, arm, rate(config, arm), u.seed)
    sorted_first, bn = SORTA[u.arm]
    arm, table = Arm("rnn", config.sortagrad.depth, bn), config.sortagrad
    lr = rate(config, arm)
    return sorta_unit(*shared, arm, lr, table.pool, table.steps, sorted_first, u.seed)


def combine(config: Config, seeds: Sequence[int], done: Mapping[Unit, dict]) -> list[Result]:
    nets = depth_arms(config)
    out = {a: series(done, "depth", a, seeds) for a in nets}
    loss = {a: [o["loss"] for o in rows] for a, rows in out.items()}
    cer = {a: [o["cer"] for o in rows] for a, rows in out.items()}
    for d in config.depth.depths:  # plain differences: a diverged arm's NaN stays NaN
        loss[f"gap_{d}"] = [x - y for x, y in zip(loss[f"rnn{d}"], loss[f"rnn{d}_bn"])]
    sorta = {a: series(done, "sortagrad", a, seeds) for a in SORTA}
    table2 = {a: [o["final"] for o in rows] for a, rows in sorta.items()}
    table2 |= {f"epoch1_{a}": [o["epoch1"] for o in rows] for a, rows in sorta.items()}
    for bn in ("", "_bn"):
        table2[f"gain{bn}"] = [
            x - y for x, y in zip(table2[f"shuffled{bn}"], table2[f"sortagrad{bn}"])
        ]
    wer = {a: sum(o["wer"] for o in rows) / len(rows) for a, rows in out.items()}
    depth_notes = [
        f"{a}: {rows[0]['hidden']} units per layer, {rows[0]['params']} parameters, "
        f"lr {rate(config, nets[a]):g}, held-out WER {wer[a]:.3f} (mean)"
        for a, rows in out.items()
    ]
    sorta_notes = [
        f"{a} seed {s} diverged {o['diverged']}"
        for a, rows in sorta.items()
        for s, o in zip(seeds, rows)
        if o["diverged"]
    ]
    source = {"bn-depth-gap": loss, "bn-gap-both-train": loss, "bn-deep": cer, "gru": cer}
    results = {}
    for cid, declared in arms(config).items():
        slug = cid.removeprefix(f"{KEY}.")
        values = source.get(slug, table2)
        notes = depth_notes if slug in source else sorta_notes
        results[slug] = Result(cid, {a: values[a] for a in declared}, notes=list(notes))
    corpus = stats(config.speech)  # the corpus as measured, for the page
    results["bn-deep"].notes.append(describe(corpus))
    results["bn-deep"].extra["corpus"] = corpus
    lo, hi = config.depth.depths[0], config.depth.depths[-1]
    shown = [f"rnn{lo}", f"rnn{lo}_bn", f"rnn{hi}", f"rnn{hi}_bn"]
    curves = {a: [o["curve"] for o in out[a]] for a in shown}
    results["bn-depth-gap"].add_figure(*figures.bn_curves(curves, lo, hi, config.training.every))
    rnn = {a: cer[a] for a, arm in nets.items() if arm.cell == "rnn"}
    results["bn-deep"].add_figure(*figures.bn_cer(rnn, config.speech.eval_size))
    n_batches = -(-config.sortagrad.pool // config.training.batch)
    evals = {a: [o["evals"] for o in rows] for a, rows in sorta.items()}
    results["sortagrad"].add_figure(
        *figures.sortagrad_curves(evals, n_batches, config.sortagrad.depth)
    )
    return list(results.values())
