"""Kit room, tasks: every dataset the reproductions use, generated, never downloaded.

Every generator takes an explicit `torch.Generator`, so a seed fixes the data exactly and no task
touches the global random state. Tasks whose classes have a fixed "look" (image prototypes, the
spectra of speech labels) build it from their own `task_seed`, so training and test batches drawn
with different generators share the same underlying problem.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F


def generator(seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """A fresh generator for one stream of data (seeded explicitly, never the global one)."""
    return torch.Generator(device=device).manual_seed(seed)


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


# ---- image-like classification (stand-in for CIFAR-10 in He et al. 2016) -------------------


def smooth_prototypes(
    n_classes: int, shape: tuple[int, int, int], task_seed: int, smoothness: int = 3
) -> torch.Tensor:
    """n_classes smooth random fields (C, H, W), unit variance: the "look" of each class."""
    gen = generator(task_seed)
    c, h, w = shape
    raw = torch.randn(n_classes, c, h, w, generator=gen)  # (K, C, H, W)
    kernel = torch.ones(c, 1, smoothness, smoothness) / smoothness**2
    smooth = F.conv2d(F.pad(raw, [smoothness // 2] * 4, mode="circular"), kernel, groups=c)
    return (smooth - smooth.mean()) / smooth.std()  # (K, C, H, W)


def prototype_images(
    batch: int, prototypes: torch.Tensor, gen: torch.Generator, noise: float = 1.0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Labelled images: a class prototype plus Gaussian noise of standard deviation `noise`."""
    labels = torch.randint(0, prototypes.shape[0], (batch,), generator=gen)  # (B,)
    eps = torch.randn(batch, *prototypes.shape[1:], generator=gen)  # (B, C, H, W)
    return prototypes[labels] + noise * eps, labels


# ---- synthetic transcription for CTC (stand-in for speech in Amodei et al. 2016) -----------


@dataclass(frozen=True)
class SpeechBatch:
    features: torch.Tensor  # (B, T_max, n_features) spectrogram-like frames, zero-padded
    feature_lengths: torch.Tensor  # (B,) valid frames per utterance
    targets: torch.Tensor  # (B, S_max) label ids in 1..n_labels (0 is CTC's blank), zero-padded
    target_lengths: torch.Tensor  # (B,)


def speech_spectra(n_labels: int, n_features: int, task_seed: int) -> torch.Tensor:
    """One spectrum-like template per label: a few Gaussian bumps over the frequency axis."""
    gen = generator(task_seed)
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


# ---- temporal order (Hochreiter & Schmidhuber 1997; Pascanu et al. 2013, Section 4.1.1) -----

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


# ---- latch and 2-sequence problems (Bengio, Simard & Frasconi 1994) ------------------------
# Two classes whose class is set by the first L inputs only; T - L Gaussian noise inputs follow;
# one unit x_t = tanh(w x_{t-1} + v u_t + b), x_0 = 0, must end at x_T = -0.8 / +0.8 (class 0 / 1).
# Layout: (N trials, 2 classes, B sequences, T). Latch: the L prefix inputs are free parameters,
# theta = (w, h_0[:L], h_1[:L]), v = 1, b = 0. 2-sequence (our reading): prefix -1/+1, (w, v, b).

SPAN_TARGETS = (-0.8, 0.8)  # x_T's target for class 0 and class 1


def span_noise(n: int, batch: int, steps: int, std: float, gen: torch.Generator) -> torch.Tensor:
    """The irrelevant inputs: i.i.d. Gaussian of standard deviation `std`, (N, 2, B, steps)."""
    return std * torch.randn(n, 2, batch, steps, generator=gen, dtype=torch.float64)


def one_unit_final(w, v, b, u: torch.Tensor) -> torch.Tensor:
    """x_T of x_t = tanh(w x_{t-1} + v u_t + b): u (N, 2, B, T) -> (N, 2, B); w, v, b (N,)."""
    w, v, b = (torch.as_tensor(p, dtype=u.dtype).reshape(-1, 1, 1) for p in (w, v, b))
    x = torch.zeros(u.shape[:3], dtype=u.dtype)  # (N, 2, B)
    for u_t in u.unbind(dim=-1):  # unbind, not u[..., t]: its backward would cost O(T^2)
        x = torch.tanh(w * x + v * u_t + b)  # (N, 2, B)
    return x


def latch_inputs(theta: torch.Tensor, noise: torch.Tensor) -> torch.Tensor:
    """Class c's sequences: its trainable prefix h_c, then noise (N, 2, B, T - L): (N, 2, B, T)."""
    n, _, batch, _ = noise.shape
    h = theta[:, 1:].reshape(n, 2, 1, -1).expand(n, 2, batch, -1)  # (N, 2, B, L)
    return torch.cat([h, noise], dim=-1)


def two_sequence_inputs(relevant: int, noise: torch.Tensor) -> torch.Tensor:
    """Class c's sequences: L inputs of -1 (c = 0) or +1 (c = 1), then the noise: (N, 2, B, T)."""
    n, _, batch, _ = noise.shape
    sign = torch.tensor([-1.0, 1.0], dtype=noise.dtype).reshape(1, 2, 1, 1)
    return torch.cat([sign.expand(n, 2, batch, relevant), noise], dim=-1)


def span_final(task: str, theta: torch.Tensor, noise: torch.Tensor, relevant: int) -> torch.Tensor:
    """x_T for every trial's parameters theta (N, d) on `noise` (N, 2, B, T - L): (N, 2, B)."""
    if task == "latch":
        return one_unit_final(theta[:, 0], 1.0, 0.0, latch_inputs(theta, noise))
    return one_unit_final(*theta.unbind(dim=1), two_sequence_inputs(relevant, noise))


def span_scores(task: str, theta, noise, relevant: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Per trial: x_T's mean squared error and accuracy (x_T with its target's sign): (N,), (N,)."""
    x = span_final(task, theta, noise, relevant)  # (N, 2, B)
    target = torch.tensor(SPAN_TARGETS, dtype=x.dtype).reshape(1, 2, 1)
    correct = (x.sign() == target.sign()).to(x.dtype)  # (N, 2, B)
    return ((x - target) ** 2).mean(dim=(1, 2)), correct.mean(dim=(1, 2))


def span_init(task: str, n: int, relevant: int, w0: float, gen: torch.Generator) -> torch.Tensor:
    """Starting points of n trials: w = w0, every other parameter N(0, 0.1^2): (N, d)."""
    d = 1 + 2 * relevant if task == "latch" else 3
    theta = 0.1 * torch.randn(n, d, generator=gen, dtype=torch.float64)  # (N, d)
    theta[:, 0] = w0
    return theta


def span_oracle(task: str, relevant: int) -> torch.Tensor:
    """Hand-set weights (d,): the prefix (h = -+1, or v = 1 on the fixed -+1) takes x to -+0.76;
    w = 4 then holds it near -+0.999, which only a noise beyond 2.9 (6.5 std at 0.447) flips."""
    if task == "latch":
        return torch.tensor([4.0] + [-1.0] * relevant + [1.0] * relevant, dtype=torch.float64)
    return torch.tensor([4.0, 1.0, 0.0], dtype=torch.float64)


def span_train(hp, task: str, algo: str, theta, T: int, std: float, gen) -> torch.Tensor:
    """`hp.steps` updates of all trials' theta (N, d) at once, each on fresh noise (`hp.batch` per
    class). "gd": gradient descent (rate `hp.lr`, BPTT). "sa": simulated annealing (Gaussian moves
    of scale `hp.sa_step`, Metropolis acceptance at a temperature cooled geometrically from
    `hp.sa_temp` by `hp.sa_cooling`). "mgrs": multi-grid random search (uniform moves in a box of
    half-width `hp.mg_box`, halved at each of `hp.mg_levels` levels, kept when better). A move is
    judged on the same batch as the current point (common random numbers)."""
    n, d = theta.shape
    for step in range(hp.steps):
        noise = span_noise(n, hp.batch, T - hp.relevant, std, gen)  # (N, 2, B, T - L)
        if algo == "gd":
            theta = theta.detach().requires_grad_()
            loss = span_scores(task, theta, noise, hp.relevant)[0].sum()  # trials independent
            theta = (theta - hp.lr * torch.autograd.grad(loss, [theta])[0]).detach()
            continue
        if algo == "sa":
            move = hp.sa_step * torch.randn(n, d, generator=gen, dtype=theta.dtype)
        else:
            box = hp.mg_box / 2 ** (step * hp.mg_levels // hp.steps)
            move = box * (2 * torch.rand(n, d, generator=gen, dtype=theta.dtype) - 1)
        pair = torch.cat([theta, theta + move])  # (2N, d)
        mse = span_scores(task, pair, torch.cat([noise, noise]), hp.relevant)[0]  # (2N,)
        keep = mse[n:] < mse[:n]
        if algo == "sa":
            temp = hp.sa_temp * hp.sa_cooling ** (step / hp.steps)
            u = torch.rand(n, generator=gen, dtype=theta.dtype)
            keep |= u < torch.exp((mse[:n] - mse[n:]) / temp)
        theta = torch.where(keep[:, None], theta + move, theta)
    return theta
