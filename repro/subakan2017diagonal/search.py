"""Subakan & Smaragdis 2017, the configuration search (the paper's protocol, scaled down): for
each arm, random configurations drawn from the reference code's ranges (narrowed, see the card),
each trained once on an exploration seed; the best by validation NLL is the arm's configuration.

    python -m repro.subakan2017diagonal.search [--configs 4] [--seed 0] [--arms rnn-full,...]

prints every configuration's validation and test NLL, then each arm's winner as a Config line.
Run on exploration seeds only: the winners are then confirmed on fresh seeds by `repro run`.
"""

from __future__ import annotations

import argparse
import math

import torch

from repro.kit import rng
from repro.subakan2017diagonal import ARMS, Arm, Config, fit_arm

WIDTHS = (50, 200)  # reference code: 50 to 300 (LSTM), 350 (GRU), 400 (RNN)
DEPTHS = (1, 2)  # reference code: 2 or 3
LOG_LR = (-4.0, -2.0)  # reference code's exponent range, RMSProp
# momentum: U(0, 1), as the reference code


def draw(gen: torch.Generator) -> Arm:
    """One random configuration."""
    u = torch.rand(4, generator=gen).tolist()
    return Arm(
        hidden=WIDTHS[0] + int(u[0] * (WIDTHS[1] - WIDTHS[0] + 1)),
        layers=DEPTHS[0] + int(u[1] * len(DEPTHS)),
        lr=round(10 ** (LOG_LR[0] + u[2] * (LOG_LR[1] - LOG_LR[0])), 6),
        momentum=round(u[3], 3),
    )


def search(arm: str, configs: int, seed: int, config: Config) -> list[tuple[Arm, float, float]]:
    """(configuration, best validation NLL, test NLL) of each drawn configuration of `arm`."""
    gen = rng.stream(seed, "search", arm)
    out = []
    for _ in range(configs):
        a = draw(gen)
        r = fit_arm(config, arm, seed, a)
        best = min(r["valid"]) if r["valid"] and math.isfinite(r["nll"]) else math.nan
        out.append((a, best, r["nll"]))
        print(
            f"{arm} {a} valid {best:.3f} test {r['nll']:.3f} epochs {len(r['valid'])}", flush=True
        )
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--configs", type=int, default=4)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--arms", default=",".join(ARMS))
    args = ap.parse_args(argv)
    torch.set_num_threads(1)
    for arm in args.arms.split(","):
        tried = search(arm, args.configs, args.seed, Config())
        finite = [t for t in tried if math.isfinite(t[1])]
        if finite:
            best = min(finite, key=lambda t: t[1])
            print(f"WINNER {arm.replace('-', '_')}: {best[0]}", flush=True)


if __name__ == "__main__":
    main()
