"""Deep Speech 2's stand-in for speech: synthetic label sequences rendered as spectrum-like
frames, for CTC (no corpus is downloaded), and SortaGrad's minibatch order (Section 3.3).

Every draw takes an explicit `torch.Generator`; the task itself (each label's spectrum and the
held-out utterances) comes from named streams that no run's seed changes.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F

from repro.amodei2016deepspeech2.config import Speech
from repro.kit import rng
from repro.kit.device import to_device


@dataclass(frozen=True)
class SpeechBatch:
    features: torch.Tensor  # (B, T_max, n_features) spectrogram-like frames, zero-padded
    feature_lengths: torch.Tensor  # (B,) valid frames per utterance
    targets: torch.Tensor  # (B, S_max) label ids in 1..n_labels (0 is CTC's blank), zero-padded
    target_lengths: torch.Tensor  # (B,)


def speech_spectra(n_labels: int, n_features: int, gen: torch.Generator) -> torch.Tensor:
    """One spectrum-like template per label: a few Gaussian bumps over the frequency axis."""
    freqs = torch.arange(n_features, dtype=torch.float32)  # (F,)
    centres = torch.rand(n_labels, 3, generator=gen) * n_features  # (K, 3) formant-like peaks
    widths = 1.0 + 2.0 * torch.rand(n_labels, 3, generator=gen)  # (K, 3)
    bumps = torch.exp(
        -((freqs[None, None, :] - centres[..., None]) ** 2) / (2 * widths[..., None] ** 2)
    )
    return bumps.sum(dim=1)  # (K, F)


def speech(
    batch: int,
    spectra: torch.Tensor,
    gen: torch.Generator,
    min_labels: int = 3,
    max_labels: int = 8,
    min_frames: int = 2,
    max_frames: int = 5,
    blur: int = 3,
    noise: float = 0.3,
) -> SpeechBatch:
    """Label sequences rendered as frames: each label's spectrum for a random duration, blurred
    in time between neighbours, plus noise. The alignment is unknown to the model: CTC's job."""
    n_labels, n_features = spectra.shape
    lengths = torch.randint(min_labels, max_labels + 1, (batch,), generator=gen)  # (B,)
    utterances, targets = [], []
    for n in lengths.tolist():
        labels = torch.randint(0, n_labels, (n,), generator=gen)  # (S,)
        durations = torch.randint(min_frames, max_frames + 1, (n,), generator=gen)  # (S,)
        frames = spectra[labels].repeat_interleave(durations, dim=0)  # (T, F)
        utterances.append(frames)
        targets.append(labels + 1)  # shift: 0 is the CTC blank
    feature_lengths = torch.tensor([u.shape[0] for u in utterances])  # (B,)
    t_max = int(feature_lengths.max())
    features = torch.zeros(batch, t_max, n_features)  # (B, T_max, F)
    for i, u in enumerate(utterances):
        features[i, : u.shape[0]] = u
    if blur > 1:  # moving average along time smears each label into its neighbours
        kernel = torch.ones(n_features, 1, blur) / blur
        features = F.conv1d(features.transpose(1, 2), kernel, padding=blur // 2, groups=n_features)
        features = features.transpose(1, 2)[:, :t_max]  # (B, T_max, F)
    features = features + noise * torch.randn(features.shape, generator=gen)
    valid = torch.arange(t_max)[None, :] < feature_lengths[:, None]  # (B, T_max)
    features = features * valid[..., None]
    padded = torch.zeros(batch, int(lengths.max()), dtype=torch.long)  # (B, S_max)
    for i, t in enumerate(targets):
        padded[i, : t.shape[0]] = t
    return SpeechBatch(features, feature_lengths, padded, lengths)


def spectra(task: Speech) -> torch.Tensor:
    """The labels' spectra: the task's "language", one for every seed, so runs on different
    seeds learn the same problem (the paper's nets all learn one language)."""
    return speech_spectra(task.labels, task.features, rng.stream(0, "spectra"))


def held_out(task: Speech) -> SpeechBatch:
    """One held-out set for every seed, as the paper scores every net on one development set:
    the spread over seeds is then that of training alone (initial weights, minibatches)."""
    return to_device(speech(task.eval_size, spectra(task), rng.stream(0, "held-out")))


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
