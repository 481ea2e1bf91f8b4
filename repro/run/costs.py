"""Run room, costs: what a paper's full run costs, read from its committed provenance.

Nothing here is typed by hand: `repro list`, the pool's longest-first order and the warning for
a run that costs far more than the last one all read the committed result's provenance
(`cpu_time_s` summed over units on one thread each, `peak_memory_mb` of one worker, the machine
and the date). A card may declare `MEMORY_MB`, a cap on one worker's peak memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from repro.claims import Record, ResultError, load_record

OVER = 1.5  # a run that costs more than this times the last committed one gets a warning


@dataclass(frozen=True)
class Cost:
    """A full run's measured cost: CPU seconds (one thread per unit), peak MB, where, when."""

    cpu_s: float
    memory_mb: float
    machine: str
    date: str

    def __str__(self) -> str:
        minutes = self.cpu_s / 60
        cpu = f"{minutes:.0f} CPU min" if minutes >= 1 else f"{self.cpu_s:.0f} CPU s"
        return f"{cpu}, {self.memory_mb:.0f} MB (measured {self.date[:10]}, {self.machine})"


def quiet_load(results: Path, key: str) -> Record | None:
    """The stored record, or None when there is none or it cannot be read (`repro check`
    reports unreadable ones)."""
    try:
        return load_record(results, key)
    except ResultError:
        return None


def measured(record: Record | None) -> Cost | None:
    """The cost a record's provenance measured; None without a record or its CPU time."""
    prov = record.provenance if record is not None else {}
    if "cpu_time_s" not in prov:
        return None
    return Cost(
        float(prov["cpu_time_s"]),
        float(prov.get("peak_memory_mb", 0.0)),
        str(prov.get("device", "unknown machine")),
        str(prov.get("date", "")),
    )


def unit_costs(*records: Record | None) -> dict[str, float]:
    """Each unit's CPU seconds in the first record that has them: the pool starts the longest
    first, so no core idles at the end."""
    for record in records:
        costs = record.provenance.get("unit_cpu_s") if record is not None else None
        if costs:
            return dict(costs)
    return {}


def warnings(last: Cost | None, cpu_s: float, memory_mb: float, cap_mb: float | None) -> list[str]:
    """What went far over the last committed run's cost, or over the card's memory cap."""
    out = []
    if last is not None and cpu_s > OVER * last.cpu_s:
        out.append(
            f"CPU time {cpu_s:.0f} s, {cpu_s / last.cpu_s:.1f}x the last committed run's "
            f"{last.cpu_s:.0f} s ({last.date[:10]}, {last.machine})"
        )
    if cap_mb is not None and memory_mb > cap_mb:
        out.append(f"peak memory {memory_mb:.0f} MB over the card's MEMORY_MB cap of {cap_mb:.0f}")
    return out
