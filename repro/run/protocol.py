"""Run room, the card protocol: what a paper card must declare, checked when it is imported.

A card declares CLAIMS (ids "<key>.<slug>"), a frozen Config dataclass with quick() and paper(),
either run(config, seeds) or units/unit/combine, REGISTRATION when it has reproductions, and
optionally arms(config) and MEMORY_MB (see repro.run.discover). Each problem is one phrase; the
loader joins them into one error that names the card's file.
"""

from __future__ import annotations

import dataclasses
import types

from repro.claims import Claim, Registration


def protocol_problems(module: types.ModuleType, key: str) -> list[str]:
    """What the card `module` (named `key`) lacks or gets wrong; empty when nothing."""
    problems = []
    claims = getattr(module, "CLAIMS", None)
    if not isinstance(claims, list | tuple) or not claims:
        problems.append("CLAIMS must be a non-empty list of repro.claims.Claim")
    else:
        seen = set()
        for c in claims:
            if not isinstance(c, Claim):
                problems.append(f"CLAIMS holds {type(c).__name__}, not Claim")
            elif c.key != key:
                problems.append(f"claim id '{c.id}' must start with '{key}.'")
            elif c.id in seen:
                problems.append(f"claim id '{c.id}' is defined twice")
            else:
                seen.add(c.id)
    cfg = getattr(module, "Config", None)
    if not (isinstance(cfg, type) and dataclasses.is_dataclass(cfg)):
        problems.append("Config must be a dataclass")
    else:
        if not cfg.__dataclass_params__.frozen:  # type: ignore[attr-defined]
            problems.append("Config must be frozen (@dataclass(frozen=True))")
        for scale in ("quick", "paper"):
            if not callable(getattr(cfg, scale, None)):
                problems.append(f"Config needs a classmethod {scale}()")
    trio = [callable(getattr(module, f, None)) for f in ("units", "unit", "combine")]
    if any(trio) and not all(trio):
        problems.append(
            "a card with units declares all three: units(config, seeds), "
            "unit(config, u) and combine(config, seeds, done)"
        )
    elif not any(trio) and not callable(getattr(module, "run", None)):
        problems.append("run(config, seeds) is missing (or units, unit and combine)")
    if hasattr(module, "BUDGET"):
        problems.append(
            "BUDGET is gone: costs are read from the committed run's provenance "
            "(MEMORY_MB may cap one worker's memory)"
        )
    cap = getattr(module, "MEMORY_MB", None)
    if cap is not None and not (isinstance(cap, int | float) and cap > 0):
        problems.append("MEMORY_MB must be a positive number (MB)")
    reg = getattr(module, "REGISTRATION", None)
    if reg is not None and not isinstance(reg, Registration):
        problems.append("REGISTRATION must be a repro.claims.Registration")
    elif reg is None and any(isinstance(c, Claim) and not c.is_check for c in (claims or ())):
        problems.append(
            "a paper with reproductions declares REGISTRATION = Registration(exploration=(seeds "
            "looked at while choosing configs and criteria), confirmation=(>= 5 other seeds))"
        )
    return problems
