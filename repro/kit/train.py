"""Kit room, the training loop: the one loop every reproduction uses, and gradient probes.

`train()` runs `steps` optimizer steps and returns a `History`: the loss and the gradient norm at
every step, whether and when the run diverged, and the wall time. Three defects of the reference
implementations are designed out here:

- clipping happens AFTER `backward()` (clipping before it is a no-op), with
  `torch.nn.utils.clip_grad_norm_`; the gradient norm recorded is the one measured BEFORE
  clipping, so a clipped run still shows how large its gradients were;
- divergence is data: a NaN/inf loss or gradient norm, or a loss above `diverge_above`, stops the
  run and is recorded (`diverged`, `diverged_step`, `reason`) instead of raising;
- nothing is hard-wired to CUDA, and nothing silently stays on the CPU: `train()` moves the
  model and every batch to the run's device (`repro.kit.device.current()`).

A progress bar with an ETA (tqdm, on stderr) appears for runs longer than a couple of seconds,
only when stderr is a terminal and `REPRO_QUIET` is not set.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from tqdm.auto import tqdm

from repro.kit.device import note_batch, to_device

__all__ = [
    "History",
    "layer_grad_norms",
    "progress",
    "train",
]


@dataclass
class History:
    """What one training run did. Lists have one entry per step actually taken."""

    loss: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)  # total L2 norm, before clipping
    clipped: int = 0  # steps on which clipping scaled the gradient down
    diverged: bool = False
    diverged_step: int | None = None
    reason: str = ""  # why it diverged ("loss is nan", ...)
    wall_time_s: float = 0.0
    evals: list[tuple[int, Any]] = field(default_factory=list)  # (step, eval_fn(model))
    probes: list[tuple[int, Any]] = field(default_factory=list)  # (step, probe(step, model))

    @property
    def steps(self) -> int:
        return len(self.loss)

    def final_loss(self, window: int = 1) -> float:
        """Mean loss over the last `window` steps; NaN if the run diverged (data, not a crash)."""
        if self.diverged or not self.loss:
            return math.nan
        tail = self.loss[-window:]
        return float(sum(tail) / len(tail))

    def to_dict(self, every: int = 1) -> dict[str, Any]:
        """JSON-ready summary for Result.extra (curves thinned to every `every`-th step)."""
        return {
            "loss": self.loss[::every],
            "grad_norm": self.grad_norm[::every],
            "every": every,
            "steps": self.steps,
            "clipped": self.clipped,
            "diverged": self.diverged,
            "diverged_step": self.diverged_step,
            "reason": self.reason,
            "wall_time_s": round(self.wall_time_s, 3),
        }


def _progress_enabled(progress: bool | None) -> bool:
    if progress is not None:
        return progress
    if os.environ.get("REPRO_QUIET"):
        return False
    return sys.stderr.isatty()


def progress(
    items: Iterable[Any], desc: str = "", total: int | None = None, enabled: bool | None = None
) -> Iterable[Any]:
    """`items` with the same progress bar as `train()` (ETA on stderr, after 2 s, TTY only):
    for the loops of a paper module that do not go through `train()` (trials, spans, arms)."""
    return tqdm(
        items,
        desc=desc,
        total=total,
        file=sys.stderr,
        disable=not _progress_enabled(enabled),
        delay=2.0,
        leave=False,
        dynamic_ncols=True,
    )


def _total_norm(params: Sequence[nn.Parameter]) -> torch.Tensor:
    grads = [p.grad for p in params if p.grad is not None]
    if not grads:
        return torch.tensor(0.0, device=params[0].device if params else None)
    return torch.nn.utils.get_total_norm(grads, norm_type=2.0)


def train(
    model: nn.Module,
    batches: Callable[[int], Any] | Iterable[Any],
    loss_fn: Callable[[nn.Module, Any], torch.Tensor | tuple[torch.Tensor, Any]],
    optimizer: torch.optim.Optimizer,
    steps: int,
    clip: float | None = None,
    *,
    diverge_above: float | None = None,
    diverge_after: int = 0,
    scheduler: Any | None = None,
    probe: Callable[[int, nn.Module], Any] | None = None,
    probe_every: int = 0,
    eval_fn: Callable[[nn.Module], Any] | None = None,
    eval_every: int = 0,
    on_step: Callable[[int, nn.Module, torch.optim.Optimizer, float, Any], None] | None = None,
    desc: str = "train",
    progress: bool | None = None,
) -> History:
    """Train `model` for `steps` steps and return its History (never raises on divergence).

    - `batches`: a function step -> batch, or an iterable of batches.
    - `loss_fn(model, batch)`: a scalar loss tensor, or `(loss, stats)` where `stats` is
      anything the loss function measured on the batch for `on_step` (not recorded).
    - `clip`: max total gradient norm (clip_grad_norm_, after backward), or None.
    - `diverge_above`: a loss above this counts as divergence (NaN/inf always does), from step
      `diverge_after` on (a warm-up's overshoot is not a divergence).
    - `probe(step, model)`: called every `probe_every` steps after backward, before the update,
      so gradients are there (e.g. per-timestep or per-layer gradient norms for a heatmap);
      also at the last step. Its return values are kept in `History.probes`.
    - `eval_fn(model)`: called every `eval_every` steps and at the end (model in eval mode,
      no grad); kept in `History.evals`.
    - `on_step(step, model, optimizer, loss, stats)`: called once per step that updates the
      model, after backward, clipping and `probe`, just before `optimizer.step()`, so a learning
      rate it sets in `optimizer.param_groups` already applies to this step's update (a
      warm-up rule); `loss` is the batch loss (float), `stats` what `loss_fn` returned beside
      it (None when it returned the loss alone). A scheduler steps after the update, as usual.
    - `progress`: None = a tqdm bar when stderr is a terminal and REPRO_QUIET is unset.
    """
    to_device(model)  # the optimizer holds the same Parameter objects: moving keeps them
    params = [p for p in model.parameters() if p.requires_grad]
    if callable(batches):
        next_batch = batches
    else:
        stream = iter(batches)

        def next_batch(step: int) -> Any:
            return next(stream)

    hist = History()
    start = time.perf_counter()
    bar = tqdm(
        total=steps,
        desc=desc,
        file=sys.stderr,
        disable=not _progress_enabled(progress),
        delay=2.0,  # only runs longer than a couple of seconds get a bar
        leave=False,
        dynamic_ncols=True,
    )
    try:
        model.train()
        for step in range(steps):
            batch = to_device(next_batch(step))
            if step == 0:
                note_batch(batch)
            optimizer.zero_grad(set_to_none=True)
            loss, stats = _split(loss_fn(model, batch))
            value = float(loss.detach())
            hist.loss.append(value)
            if not math.isfinite(value):
                _diverge(hist, step, f"loss is {value}")
                hist.grad_norm.append(math.nan)
                break
            if diverge_above is not None and step >= diverge_after and value > diverge_above:
                _diverge(hist, step, f"loss {value:.4g} above {diverge_above:.4g}")
                hist.grad_norm.append(math.nan)
                break
            loss.backward()
            if clip is not None:
                norm = torch.nn.utils.clip_grad_norm_(params, clip, error_if_nonfinite=False)
            else:
                norm = _total_norm(params)
            gnorm = float(norm)
            hist.grad_norm.append(gnorm)
            if not math.isfinite(gnorm):
                _diverge(hist, step, f"gradient norm is {gnorm}")
                break
            if clip is not None and gnorm > clip:
                hist.clipped += 1
            last = step == steps - 1
            if probe is not None and probe_every and (step % probe_every == 0 or last):
                hist.probes.append((step, probe(step, model)))
            if on_step is not None:
                on_step(step, model, optimizer, value, stats)
            optimizer.step()
            if scheduler is not None:
                scheduler.step()
            if eval_fn is not None and eval_every and ((step + 1) % eval_every == 0 or last):
                hist.evals.append((step + 1, _evaluate(model, eval_fn)))
            bar.update(1)
            if step % max(1, steps // 100) == 0:
                bar.set_postfix_str(f"loss {value:.4g}", refresh=False)
    finally:
        bar.close()
        hist.wall_time_s = time.perf_counter() - start
    return hist


def _split(out: torch.Tensor | tuple[torch.Tensor, Any]) -> tuple[torch.Tensor, Any]:
    """(loss, stats) from what a loss function returned: a loss alone has no stats."""
    return out if isinstance(out, tuple) else (out, None)


def _diverge(hist: History, step: int, reason: str) -> None:
    hist.diverged, hist.diverged_step, hist.reason = True, step, reason


def _evaluate(model: nn.Module, eval_fn: Callable[[nn.Module], Any]) -> Any:
    model.eval()
    try:
        with torch.no_grad():
            return eval_fn(model)
    finally:
        model.train()


# ---- probes for gradient-flow figures ---------------------------------------------------------


def layer_grad_norms(layers: Iterable[nn.Module]) -> list[float]:
    """L2 norm of the gradient of each layer's parameters (after backward): one per layer."""
    out = []
    for layer in layers:
        grads = [p.grad for p in layer.parameters() if p.grad is not None]
        out.append(float(torch.nn.utils.get_total_norm(grads)) if grads else 0.0)
    return out
