"""The training loop: clipping after backward, grad norms before clipping, divergence as data."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from repro.kit import device as placement
from repro.kit import train as train_mod
from repro.kit.device import seed_everything
from repro.kit.train import History, layer_grad_norms, train


def regression(seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    x = torch.randn(32, 3, generator=gen)  # (N, D)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5]])  # (N, 1)
    return x, y


def mse(model: nn.Module, batch) -> torch.Tensor:
    x, y = batch
    return ((model(x) - y) ** 2).mean()


def fit(seed: int = 0, steps: int = 30, lr: float = 0.1, **kw) -> tuple[nn.Module, History]:
    seed_everything(seed)
    model = nn.Linear(3, 1)
    batch = regression(seed)
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    return model, train(model, lambda step: batch, mse, opt, steps, progress=False, **kw)


def test_history_records_every_step_and_learns():
    _, h = fit(steps=40)
    assert h.steps == len(h.grad_norm) == 40
    assert h.loss[-1] < 0.1 * h.loss[0]
    assert not h.diverged and h.diverged_step is None
    assert h.final_loss() == h.loss[-1] and h.wall_time_s > 0
    d = h.to_dict(every=10)
    assert len(d["loss"]) == 4 and d["steps"] == 40


def test_batches_can_be_an_iterable():
    seed_everything(0)
    model = nn.Linear(3, 1)
    batch = regression()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    h = train(model, [batch] * 5, mse, opt, 5, progress=False)
    assert h.steps == 5


def test_grad_norm_is_measured_before_clipping_and_clipping_acts_after_backward():
    clip, lr = 1e-3, 0.5
    seed_everything(0)
    model = nn.Linear(3, 1)
    before = [p.detach().clone() for p in model.parameters()]
    batch = regression()
    # The unclipped gradient, computed by hand on a copy.
    twin = nn.Linear(3, 1)
    twin.load_state_dict(model.state_dict())
    mse(twin, batch).backward()
    raw = torch.sqrt(sum((p.grad**2).sum() for p in twin.parameters())).item()

    opt = torch.optim.SGD(model.parameters(), lr=lr)
    h = train(model, lambda s: batch, mse, opt, 1, clip=clip, progress=False)
    assert h.grad_norm[0] == pytest.approx(raw, rel=1e-5)  # before clipping
    assert raw > clip and h.clipped == 1
    step = torch.sqrt(sum(((p - b) ** 2).sum() for p, b in zip(model.parameters(), before)))
    # The update used the clipped gradient: its norm is lr * clip (clipping after backward;
    # clipping before backward, as in some reference code, would leave lr * raw).
    assert step.item() == pytest.approx(lr * clip, rel=1e-3)


def test_divergence_is_recorded_not_raised():
    _, h = fit(lr=1e6, steps=50)
    assert h.diverged and h.diverged_step is not None and h.diverged_step < 50
    assert "nan" in h.reason or "inf" in h.reason
    assert not math.isfinite(h.loss[-1]) or not math.isfinite(h.grad_norm[-1])
    assert math.isnan(h.final_loss())  # a value a claim can judge, not an exception


def test_loss_threshold_counts_as_divergence():
    _, h = fit(lr=0.1, steps=10, diverge_above=1e-9)
    assert h.diverged and h.diverged_step == 0 and "above" in h.reason


def test_loss_threshold_applies_from_diverge_after_on():
    _, h = fit(lr=0.1, steps=10, diverge_above=1e-9, diverge_after=3)
    assert h.diverged and h.diverged_step == 3 and h.steps == 4 and "above" in h.reason


def test_nan_loss_stops_at_once():
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def nan_loss(m, b):
        return m(b[0]).sum() * math.nan

    h = train(model, lambda s: regression(), nan_loss, opt, 10, progress=False)
    assert h.diverged_step == 0 and h.steps == 1 and h.reason == "loss is nan"


def test_same_seed_twice_gives_identical_numbers():
    _, a = fit(seed=3)
    _, b = fit(seed=3)
    _, c = fit(seed=4)
    assert a.loss == b.loss and a.grad_norm == b.grad_norm
    assert a.loss != c.loss


def test_probes_and_evals_land_on_their_steps():
    _, h = fit(
        steps=10,
        probe=lambda step, m: layer_grad_norms([m]),
        probe_every=4,
        eval_fn=lambda m: 1.0,
        eval_every=5,
    )
    assert [s for s, _ in h.probes] == [0, 4, 8, 9]
    assert all(len(v) == 1 and v[0] > 0 for _, v in h.probes)
    assert [s for s, _ in h.evals] == [5, 10]


def test_on_step_is_called_once_per_update_and_its_learning_rate_applies_at_once():
    """The hook sees every step that updates the model, in order, with what the loss function
    reported beside the loss; a rate it sets applies to that same step's update (a warm-up)."""
    seed_everything(0)
    model = nn.Linear(3, 1)
    batch = regression()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    calls, rates = [], []

    def loss_fn(m, b):
        loss = mse(m, b)
        return loss, {"twice": 2 * loss.item()}

    def on_step(step, m, optimizer, loss, stats):
        assert m is model and optimizer is opt and stats["twice"] == pytest.approx(2 * loss)
        calls.append(step)
        if step == 2:
            for group in optimizer.param_groups:
                group["lr"] = 0.0  # from step 2 on, the updates stop
        rates.append(optimizer.param_groups[0]["lr"])

    def weights(step, m):
        return [p.detach().clone() for p in m.parameters()]

    h = train(
        model,
        lambda s: batch,
        loss_fn,
        opt,
        5,
        probe=weights,
        probe_every=1,
        on_step=on_step,
        progress=False,
    )
    assert calls == [0, 1, 2, 3, 4] and rates == [0.1, 0.1, 0.0, 0.0, 0.0]
    before = {step: w for step, w in h.probes}  # weights before each step's update
    assert not torch.equal(before[1][0], before[2][0])  # step 1 updated at lr 0.1
    assert all(torch.equal(a, b) for a, b in zip(before[2], before[4]))  # step 2 at lr 0
    assert h.loss[0] > h.loss[2] == h.loss[4]


def test_a_diverged_step_calls_no_hook():
    calls = []
    _, h = fit(
        lr=0.1,
        steps=10,
        diverge_above=1e-9,
        diverge_after=3,
        on_step=lambda step, *rest: calls.append(step),
    )
    assert calls == [0, 1, 2] and h.diverged_step == 3


def test_progress_bar_only_on_a_terminal(monkeypatch, capsys):
    assert train_mod._progress_enabled(None) is False  # pytest's stderr is not a TTY
    monkeypatch.setattr(train_mod.sys.stderr, "isatty", lambda: True, raising=False)
    assert train_mod._progress_enabled(None) is True
    monkeypatch.setenv("REPRO_QUIET", "1")
    assert train_mod._progress_enabled(None) is False
    assert train_mod._progress_enabled(True) is True


def test_device_choice(monkeypatch):
    monkeypatch.setenv("REPRO_DEVICE", "cpu")
    assert placement.choose().type == "cpu"
    monkeypatch.setenv("REPRO_DEVICE", "tpu")
    with pytest.raises(RuntimeError, match="auto, cpu or cuda"):
        placement.choose()
    monkeypatch.setenv("REPRO_DEVICE", "auto")
    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert placement.choose().type == expected


def test_progress_helper_passes_items_through():
    assert list(train_mod.progress(range(3), desc="x")) == [0, 1, 2]
