"""Deep Speech 2's data: spoken digit strings synthesised offline (kit.speech: eSpeak NG voices,
accents, rates, pitches and noise; test speakers disjoint from training), as padded CTC batches,
and SortaGrad's minibatch order (Section 3.3).

Log-mel frames are normalised per band by the training split's mean and standard deviation; the
held-out set is the test split's first `eval_size` utterances, the same for every seed (the paper
scores every net on one development set), so the spread over seeds is that of training alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import torch

from repro.amodei2016deepspeech2.config import Speech
from repro.kit import speech as corpus_room
from repro.kit.device import to_device

BUCKET = 4  # a minibatch's utterances come from 4 x batch neighbours in length (`sample`)


@dataclass(frozen=True)
class SpeechBatch:
    features: torch.Tensor  # (B, T_max, n_mels) normalised log-mel frames, zero-padded
    feature_lengths: torch.Tensor  # (B,) valid frames per utterance
    targets: torch.Tensor  # (B, S_max) character ids (1 = space, 2.. = a-z; 0 is CTC's blank)
    target_lengths: torch.Tensor  # (B,)


@cache
def corpus(task: Speech) -> dict[str, tuple[list[torch.Tensor], list[torch.Tensor]]]:
    """split -> (features, targets): each utterance's normalised frames (T_i, n_mels) and its
    character ids (S_i,), from the cached corpus of the task's recipe."""
    c = corpus_room.load(task.recipe())
    mean, std = corpus_room.feature_stats(c)  # (n_mels,) each, training split only
    out = {}
    for name, s in c.splits.items():
        feats = [torch.from_numpy((f - mean) / std) for f in s.features]  # each (T_i, n_mels)
        out[name] = (feats, [torch.from_numpy(t) for t in s.targets])
    return out


def stats(task: Speech) -> dict[str, object]:
    """The corpus as measured (utterances, hours, voices, frames, SNRs), for the page."""
    return corpus_room.stats(corpus_room.load(task.recipe()))


def describe(st: dict) -> str:
    """One line of `stats` for a result's notes."""
    tr, te = st["train"], st["test"]
    return (
        f"corpus: {tr['utterances']} / {te['utterances']} utterances (train / held-out "
        f"speakers), {tr['hours']:.2f} / {te['hours']:.2f} h, {tr['voices']} / {te['voices']} "
        f"voices, {tr['frames'][0]}-{tr['frames'][2]} frames of 10 ms, SNR "
        + "/".join(f"{k:g}" for k in sorted(tr["snrs"]))
        + " dB"
    )


def collate(feats: list[torch.Tensor], targets: list[torch.Tensor]) -> SpeechBatch:
    """Utterances padded into one batch."""
    lengths = torch.tensor([len(f) for f in feats])  # (B,)
    target_lengths = torch.tensor([len(t) for t in targets])  # (B,)
    features = torch.zeros(len(feats), int(lengths.max()), feats[0].shape[1])  # (B, T, F)
    padded = torch.zeros(len(feats), int(target_lengths.max()), dtype=torch.long)  # (B, S)
    for i, (f, t) in enumerate(zip(feats, targets, strict=True)):
        features[i, : len(f)] = f
        padded[i, : len(t)] = t
    return SpeechBatch(features, lengths, padded, target_lengths)


def pick(task: Speech, split: str, idx: torch.Tensor) -> SpeechBatch:
    feats, targets = corpus(task)[split]
    return collate([feats[i] for i in idx.tolist()], [targets[i] for i in idx.tolist()])


@cache
def by_length(task: Speech) -> torch.Tensor:
    """Training utterance indices in increasing length (ties in index order), (n_train,)."""
    lengths = torch.tensor([len(f) for f in corpus(task)["train"][0]])  # (N,)
    return torch.argsort(lengths, stable=True)


def sample(task: Speech, batch: int, gen: torch.Generator) -> SpeechBatch:
    """A minibatch from a length bucket: a window of BUCKET * batch neighbours in length, drawn
    at random, and `batch` distinct utterances from it. Every utterance is as likely as any
    other (but those at the two ends of the length order slightly less); the padding, which the
    recurrent loop pays for, is small."""
    order, width = by_length(task), min(BUCKET * batch, task.n_train)
    start = int(torch.randint(0, task.n_train - width + 1, (1,), generator=gen))
    pick_ = torch.randperm(width, generator=gen)[:batch]  # (B,)
    return pick(task, "train", order[start + pick_])


def pool(task: Speech, n: int, gen: torch.Generator) -> SpeechBatch:
    """`n` distinct training utterances, the fixed pool of Table 2's epochs."""
    return pick(task, "train", torch.randperm(task.n_train, generator=gen)[:n])


@cache
def held_out(task: Speech) -> SpeechBatch:
    """The test split's first `eval_size` utterances (speakers never heard in training)."""
    return to_device(pick(task, "test", torch.arange(task.eval_size)))


def minibatches(pool: SpeechBatch, size: int) -> list[SpeechBatch]:
    """The pool cut into minibatches of similar lengths (sorted, then chunked), padding trimmed;
    returned in increasing order of their longest utterance."""
    order = torch.argsort(pool.feature_lengths, stable=True)  # (N,)
    out = []
    for idx in order.split(size):
        t, s = int(pool.feature_lengths[idx].max()), int(pool.target_lengths[idx].max())
        out.append(
            SpeechBatch(
                pool.features[idx, :t],  # (b, t, F)
                pool.feature_lengths[idx],
                pool.targets[idx, :s],  # (b, s)
                pool.target_lengths[idx],
            )
        )
    return out


def schedule(n_batches: int, steps: int, sorted_first: bool, gen: torch.Generator) -> list[int]:
    """Minibatch index per step: epoch 1 in increasing length (SortaGrad) or shuffled; every
    later epoch shuffled. The later epochs' permutations are the same for both arms."""
    perms = [
        torch.randperm(n_batches, generator=gen).tolist() for _ in range(steps // n_batches + 1)
    ]
    if sorted_first:
        perms[0] = list(range(n_batches))
    return [i for p in perms for i in p][:steps]
