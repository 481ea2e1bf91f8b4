"""Kit room, Bach's chorales rendered as JSB Chorales: piano rolls from music21's corpus.

JSB Chorales (Boulanger-Lewandowski, Bengio & Vincent 2012) is 382 four-part chorales, each
transposed to C major or C minor, sampled once per quarter note, each frame the set of sounding
MIDI pitches 21-108 (88 piano keys); models are scored by the negative log-likelihood of the next
frame, summed over the 88 keys and averaged over every predicted frame. That file is not in any
wheel; music21's is, with the chorales as MusicXML (`music21/corpus/bach/*.mxl`). This module
applies the same recipe to them:

- four-part scores only (a few carry a fifth, instrumental part), duplicates removed (pieces
  whose rendered rolls are identical);
- transposed by the shortest shift (-6 to +5 semitones) that takes the key music21 finds
  (`analyze("key")`) to C major or C minor;
- frame t is every pitch sounding at quarter-note time t (onset <= t < offset);
- split by piece, deterministically from the file name (SPLIT: about 60 / 20 / 20).

Not the benchmark's split and not its 382 pieces: the topic page measures how close it comes
(length, polyphony, the trivial baselines' NLL). Rendering is about 0.12 s a chorale; each roll is
cached under scratch/chorales/ named by a hash of the score's bytes, the recipe and music21's
version, so a changed file or recipe renders afresh and an unreadable cache file is rendered
again with a message. Nothing here touches the network.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import math
import os
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

RECIPE = "jsb-1"  # the rendering's version: changing it renders every chorale afresh
LOW, KEYS = 21, 88  # MIDI 21 (A0) .. 108 (C8): the piano keys of JSB's frames
SPLIT = {"train": 60, "valid": 20, "test": 20}  # percent of pieces (JSB: 229 / 76 / 77)
CACHE = Path(__file__).resolve().parents[2] / "scratch" / "chorales"


def corpus_files() -> list[Path]:
    """Every MusicXML chorale in the installed music21 wheel, sorted by name."""
    bach = importlib.resources.files("music21") / "corpus" / "bach"
    return sorted(Path(str(p)) for p in bach.iterdir() if p.name.endswith(".mxl"))


def split_of(name: str) -> str:
    """The split a piece belongs to, fixed by its name alone (never by its content or order)."""
    bucket = int(hashlib.sha256(name.encode()).hexdigest(), 16) % 100
    edge = 0
    for split, share in SPLIT.items():
        edge += share
        if bucket < edge:
            return split
    raise AssertionError("SPLIT must sum to 100")


def shift_to_c(pitch_class: int) -> int:
    """Semitones that take a tonic of this pitch class to C by the shortest way (-6 .. +5)."""
    up = (-pitch_class) % 12  # 0 .. 11
    return up - 12 if up > 5 else up


def roll_of(notes: list[tuple[float, float, int]], length: float, shift: int) -> np.ndarray:
    """Piano roll (T, 88) of (onset, offset, midi) notes sampled at every quarter note t < length,
    each pitch moved by `shift` semitones. A note sounds in frame t when onset <= t < offset."""
    T = math.ceil(length)
    roll = np.zeros((T, KEYS), dtype=np.uint8)  # (T, 88)
    for onset, offset, midi in notes:
        key = midi + shift - LOW
        if not 0 <= key < KEYS:
            raise ValueError(f"pitch {midi} + {shift} is off the 88-key range")
        first, last = math.ceil(onset), math.ceil(offset)  # frames onset <= t < offset
        roll[first : min(last, T), key] = 1
    return roll


def render(path: Path) -> tuple[np.ndarray, int, str]:
    """(roll, parts, key) of one score: the roll in C major or C minor, `parts` the number of
    parts the score has, `key` music21's key before transposition ("g minor")."""
    from music21 import converter  # imported here: parsing is the only use, and it is slow

    # music21's own pickle cache is shared by every process on the machine: two workers parsing
    # one piece read each other's half-written pickle (a CI run failed so); ours is atomic.
    score = converter.parse(path, forceSource=True, storePickle=False)
    key = score.analyze("key")
    flat = score.flatten()
    notes = [
        (float(n.offset), float(n.offset + n.duration.quarterLength), p.midi)
        for n in flat.notes
        if n.duration.quarterLength > 0  # grace notes take no time and sound in no frame
        for p in n.pitches
    ]
    roll = roll_of(notes, float(flat.highestTime), shift_to_c(key.tonic.pitchClass))
    return roll, len(score.parts), f"{key.tonic.name} {key.mode}"


def _cache_file(path: Path, cache: Path) -> Path:
    import music21

    h = hashlib.sha256(path.read_bytes())
    h.update(f"{RECIPE} music21 {music21.__version__}".encode())
    return cache / f"{path.stem}-{h.hexdigest()[:16]}.npz"


def load_one(path: Path, cache: Path = CACHE) -> tuple[np.ndarray, int, str]:
    """`render(path)` through the cache: a hit is read back, a miss or an unreadable file is
    rendered and written (the latter with a message on stderr)."""
    file = _cache_file(path, cache)
    if file.exists():
        try:
            with np.load(file) as z:
                roll, parts, key = z["roll"], int(z["parts"]), str(z["key"])
            if roll.ndim == 2 and roll.shape[1] == KEYS:
                return roll, parts, key
            problem = f"roll of shape {roll.shape}"
        except Exception as exc:  # a truncated or foreign file: any reader error means re-render
            problem = f"{type(exc).__name__}: {exc}"
        print(
            f"chorales: cache file {file} is unreadable ({problem}); rendering {path.name} again",
            file=sys.stderr,
        )
    roll, parts, key = render(path)
    cache.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f"{file.stem}.{os.getpid()}.tmp.npz")  # workers may render one piece
    np.savez_compressed(tmp, roll=roll, parts=parts, key=key)
    tmp.replace(file)  # atomic: a killed run leaves no half-written cache file
    return roll, parts, key


@dataclass(frozen=True)
class Chorales:
    """The rendered data set: per split, the pieces' names and rolls (each (T, 88), 0/1)."""

    names: dict[str, list[str]]
    rolls: dict[str, list[np.ndarray]]
    dropped: dict[str, str]  # piece -> why it is not in the data set (parts, duplicate of ...)


def load(limit: int | None = None, cache: Path = CACHE) -> Chorales:
    """The chorales, four-part and without duplicates, split by piece. `limit`: only the first
    `limit` pieces of each split in name-hash order (the quick scale's few), same recipe."""
    by_split: dict[str, list[Path]] = {s: [] for s in SPLIT}
    for path in corpus_files():
        by_split[split_of(path.stem)].append(path)
    names = {s: [] for s in SPLIT}
    rolls = {s: [] for s in SPLIT}
    dropped: dict[str, str] = {}
    seen: dict[bytes, str] = {}
    for split, paths in by_split.items():
        order = sorted(paths, key=lambda p: hashlib.sha256(p.stem.encode()).hexdigest())
        for path in order:
            if limit is not None and len(names[split]) >= limit:
                break
            roll, parts, _ = load_one(path, cache)
            digest = hashlib.sha256(roll.tobytes()).digest()
            if parts != 4:
                dropped[path.stem] = f"{parts} parts"
            elif digest in seen:
                dropped[path.stem] = f"duplicate of {seen[digest]}"
            else:
                seen[digest] = path.stem
                names[split].append(path.stem)
                rolls[split].append(roll)
    return Chorales(names, rolls, dropped)


@cache
def cached(pieces: int) -> Chorales:
    """`load` once per process (0: every piece): a worker keeps the rolls across its units."""
    return load(limit=pieces or None)


def stats(data: Chorales) -> dict[str, float]:
    """What the topic page sets beside JSB's: pieces per split, frames, mean length (quarter
    notes) and mean polyphony (sounding keys per frame with any)."""
    every = [r for split in SPLIT for r in data.rolls[split]]
    sounding = np.concatenate([r.sum(1) for r in every])  # keys down per frame
    out = {f"{s}_pieces": float(len(data.rolls[s])) for s in SPLIT}
    out |= {
        "frames": float(sum(len(r) for r in every)),
        "mean_length": float(np.mean([len(r) for r in every])),
        "mean_polyphony": float(sounding[sounding > 0].mean()),
    }
    return out
