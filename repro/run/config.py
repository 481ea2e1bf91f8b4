"""Run room, configs: scales, command-line overrides checked against the Config dataclass, seeds.

An unknown field or a value of the wrong type is an error (`UsageError`), never silently ignored.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from repro.run.errors import UsageError

SCALES = ("quick", "full", "paper")
DEFAULT_SCALE = "full"


# ---- config overrides -----------------------------------------------------------------------

_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off"}


def parse_overrides(items: Sequence[str]) -> dict[str, str]:
    """["steps=200", "lr=0.01"] -> {"steps": "200", "lr": "0.01"} (typed by apply_overrides)."""
    out: dict[str, str] = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            raise UsageError(f"--set expects FIELD=VALUE, got '{item}'")
        out[name.strip()] = value.strip()
    return out


def apply_overrides(config: Any, overrides: Mapping[str, Any], key: str = "") -> Any:
    """A copy of `config` with `overrides`, each checked against the dataclass field's type.

    A Config is nested frozen dataclasses, one section per task or table: a dotted name reaches
    into a section (`copy.T=100`). Strings are parsed ("200" for an int, "true" for a bool, "1,2"
    for a tuple); other values must already have the right type (an int is accepted for a
    float, a bool never for an int).
    """
    where = f"{key}: " if key else ""
    nested: dict[str, dict[str, Any]] = {}
    flat: dict[str, Any] = {}
    for name, value in overrides.items():
        head, dot, rest = name.partition(".")
        if dot:
            nested.setdefault(head, {})[rest] = value
        else:
            flat[name] = value
    fields = {f.name: f for f in dataclasses.fields(config)}
    hints = typing.get_type_hints(type(config))
    changes = {}
    for name, value in flat.items():
        if name not in fields:
            raise UsageError(f"{where}unknown config field '{name}' (fields: {_names(config)})")
        if dataclasses.is_dataclass(getattr(config, name)):
            raise UsageError(
                f"{where}'{name}' is a section; set one of its fields ({_names(config, name)})"
            )
        try:
            changes[name] = _coerce(value, hints[name])
        except (TypeError, ValueError) as exc:
            raise UsageError(f"{where}config field '{name}': {exc}") from None
    for head, sub in nested.items():
        section = getattr(config, head, None) if head in fields else None
        if not dataclasses.is_dataclass(section):
            raise UsageError(f"{where}no config section '{head}' (fields: {_names(config)})")
        inner = {f"{head}.{k}": v for k, v in sub.items()}
        try:
            changes[head] = apply_overrides(section, sub)
        except UsageError as exc:
            raise UsageError(f"{where}{exc} (in {', '.join(inner)})") from None
    try:
        return dataclasses.replace(config, **changes)
    except (TypeError, ValueError) as exc:  # the Config's own __post_init__ checks
        raise UsageError(f"{where}config rejected {dict(changes)}: {exc}") from None


def _names(config: Any, section: str = "") -> str:
    """Every overridable name of `config` (or of one section), dotted for nested sections."""
    target = getattr(config, section) if section else config
    out = []
    for f in dataclasses.fields(target):
        value = getattr(target, f.name)
        prefix = f"{section}.{f.name}" if section else f.name
        if dataclasses.is_dataclass(value):
            out += [f"{prefix}.{g.name}" for g in dataclasses.fields(value)]
        else:
            out.append(prefix)
    return ", ".join(out)


def _type_name(tp: Any) -> str:
    return getattr(tp, "__name__", None) or str(tp).replace("typing.", "")


def _coerce(value: Any, tp: Any) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None or (isinstance(value, str) and value.lower() == "none"):
            if type(None) in args:
                return None
        errors = []
        for arg in (a for a in args if a is not type(None)):
            try:
                return _coerce(value, arg)
            except (TypeError, ValueError) as exc:
                errors.append(str(exc))
        raise ValueError(" / ".join(errors))
    if origin is typing.Literal:
        for option in args:
            if value == option or (isinstance(value, str) and value == str(option)):
                return option
        raise ValueError(f"expected one of {list(args)}, got {value!r}")
    if origin is tuple:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            raise TypeError(f"expected a tuple, got {type(value).__name__} {value!r}")
        items = [i.strip() if isinstance(i, str) else i for i in items if i != ""]
        if len(args) == 2 and args[1] is Ellipsis:
            return tuple(_coerce(i, args[0]) for i in items)
        if len(items) != len(args):
            raise ValueError(f"expected {len(args)} items, got {len(items)}")
        return tuple(_coerce(i, a) for i, a in zip(items, args))
    if tp is bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise ValueError(f"expected a bool (true/false), got {value!r}")
    if tp is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, str):
            try:
                return int(value)
            except ValueError:
                pass
        raise ValueError(f"expected an int, got {value!r}")
    if tp is float:
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value)
            except ValueError:
                pass
        raise ValueError(f"expected a float, got {value!r}")
    if tp is str:
        if isinstance(value, str):
            return value
        raise ValueError(f"expected a str, got {value!r}")
    raise TypeError(f"fields of type {_type_name(tp)} cannot be overridden")


# ---- seeds ----------------------------------------------------------------------------------


def parse_seeds(text: str) -> int | list[int]:
    """'5' -> 5 (a count: seeds 0..4); '7,8,9' -> [7, 8, 9] (an explicit list)."""
    text = text.strip()
    try:
        if "," not in text:
            n = int(text)
            if n < 1:
                raise ValueError
            return n
        seeds = [int(s) for s in text.split(",") if s.strip() != ""]
    except ValueError:
        raise UsageError(
            "--seeds: expected a positive count (5) or a comma-separated list (7,8,9), "
            f"got '{text}'"
        ) from None
    if not seeds or any(s < 0 for s in seeds):
        raise UsageError(f"--seeds: seeds must be non-negative integers, got '{text}'")
    if len(set(seeds)) != len(seeds):
        raise UsageError(f"--seeds: repeated seed in '{text}'")
    return seeds


def resolve_seeds(spec: int | Sequence[int] | None, default: Sequence[int]) -> list[int]:
    if spec is None:
        return list(default)
    if isinstance(spec, int):
        return list(range(spec))
    return [int(s) for s in spec]
