"""Kit room, speech: spoken digit strings synthesised offline, a stand-in for TIDIGITS.

Synthetic speech from a formant synthesiser, eSpeak NG (the `espeakng-loader` wheel, through its
C API with ctypes): robotic, far more regular than people, nobody's recording. An utterance is 1
to `max_digits` connected digits as in TIDIGITS ("zero" and "oh" both occur), its text the words
joined by spaces, said by one speaker (accent + voice variant, rate, pitch), resampled to 16 kHz,
with white noise at one of the recipe's SNRs, as log-mel frames. The test split holds out whole
accents AND whole variants (`split_speakers`): no test accent, variant or voice is heard in
training. Every draw of utterance i of a split comes from a generator seeded by (seed, split, i)
and the synthesiser repeats itself (`synthesize`): a Recipe gives bit-identical features. The
corpus is cached as scratch/speech/digits-<hash>.npz, hashing the Recipe (VERSION included) and
the engine (`cache_file`); an unreadable file is built again, with a message on stderr. Nothing
here touches the network.
"""

from __future__ import annotations

import _ctypes
import ctypes
import hashlib
import importlib.metadata
import itertools
import json
import math
import os
import sys
from ctypes import c_char_p, c_int, c_long, c_short, c_size_t, c_uint, c_void_p
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path

import numpy as np
import torch
from scipy.signal import resample_poly

from repro.kit import rng

VERSION = "digits-1"  # changing it builds every corpus afresh
CACHE = Path(__file__).resolve().parents[2] / "scratch" / "speech"
ALPHABET = "_ abcdefghijklmnopqrstuvwxyz"  # CTC labels: 0 = blank, 1 = space, 2.. = a-z
DIGIT_WORDS = ("zero", "oh", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ACCENTS = ("en-us", "en", "en-gb-x-rp", "en-us-nyc", "en-gb-x-gbclan", "en-gb-x-gbcwmd")
ACCENTS += ("en-029", "en-gb-scotland")  # en = British English; the last two: test by default
VARIANTS = ("m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1", "f2", "f3", "f4", "f5")
HINT = "pip install espeakng-loader (a wheel with libespeak-ng and its data)"
LIBRARY_RATE, RATE = 22050, 16000  # Hz: eSpeak NG's own voices; the features' (resampled)
WINDOW, HOP, N_FFT = 400, 160, 512  # log-mel frames at RATE: 25 ms Hann window every 10 ms
Speaker = tuple[str, int, int]  # (voice = accent+variant, words per minute, pitch 0-100)
_FIELDS = ("texts", "speakers", "snrs", "samples")  # a Split's fields stored as they are


def encode(text: str) -> list[int]:
    """Label ids of a text's characters (never 0, the blank); other characters are an error."""
    if any(c not in ALPHABET[1:] for c in text):
        raise ValueError(f"{text!r}: only spaces and a-z are labels")
    return [ALPHABET.index(c) for c in text]


def decode(ids: list[int] | np.ndarray) -> str:
    """The text of label ids, blanks (0) dropped; repeats are kept (no CTC collapse)."""
    return "".join(ALPHABET[int(i)] for i in ids if int(i) != 0)


_SAMPLES: list[np.ndarray] = []  # the chunks of the utterance being synthesised


@ctypes.CFUNCTYPE(c_int, ctypes.POINTER(c_short), c_int, c_void_p)  # speak_lib.h's callback
def _callback(wav, n: int, events) -> int:  # module-level: the library keeps a raw pointer
    if wav and n > 0:
        _SAMPLES.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())  # (n,) int16
    return 0  # 0 = go on


def _paths() -> tuple[Path, Path]:
    """The engine's shared library and data folder, or a RuntimeError saying how to get them."""
    try:
        espeakng_loader = importlib.import_module("espeakng_loader")
        lib, data = Path(espeakng_loader.get_library_path()), espeakng_loader.get_data_path()
    except (ImportError, RuntimeError) as err:
        raise RuntimeError(f"eSpeak NG cannot be found ({err}); {HINT}") from err
    if missing := [p for p in (lib, Path(data) / "phontab") if not p.is_file()]:
        raise RuntimeError(f"eSpeak NG cannot be loaded: {missing[0]} is missing; {HINT}")
    return lib, Path(data)


def synthesize(text: str, voice: str, rate: int, pitch: int) -> np.ndarray:
    """`text` said by eSpeak NG: (N,) float32 in [-1, 1] at LIBRARY_RATE, the same for the same
    arguments whatever came before: eSpeak keeps state across utterances in statics that
    espeak_Terminate does not reset (pitch flutter, gain control), so each call loads the library
    afresh and unloads it (~3 ms); its noise (breathy variants), seeded from the clock, is fixed."""
    lib_path, data = _paths()
    if "+" in voice and not (data / "voices" / "!v" / voice.partition("+")[2]).is_file():
        raise ValueError(f"{voice}: no such variant in {data}")  # eSpeak would ignore it
    try:
        lib = ctypes.CDLL(str(lib_path))
    except OSError as err:
        raise RuntimeError(f"eSpeak NG cannot be loaded from {lib_path} ({err}); {HINT}") from err
    lib.espeak_Initialize.argtypes = [c_int, c_int, c_char_p, c_int]  # output, buffer, path, opts
    # espeak_Synth(text, size, position, position_type, end_position, flags, unique_id, user_data)
    lib.espeak_Synth.argtypes = [c_char_p, c_size_t, c_uint, c_int, c_uint, c_uint] + [c_void_p] * 2
    lib.espeak_ng_SetRandSeed.argtypes = [c_long]
    try:  # 2 = AUDIO_OUTPUT_SYNCHRONOUS; 0x8000 = espeakINITIALIZE_DONT_EXIT (not exit(1))
        if lib.espeak_Initialize(2, 0, str(data).encode(), 0x8000) != LIBRARY_RATE:
            raise RuntimeError(f"eSpeak NG did not initialise at {LIBRARY_RATE} Hz from {data}")
        lib.espeak_SetSynthCallback(_callback)
        lib.espeak_ng_SetRandSeed(1)
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"{voice}: eSpeak NG has no such voice")
        lib.espeak_SetParameter(1, int(rate), 0)  # espeakRATE, words per minute
        lib.espeak_SetParameter(3, int(pitch), 0)  # espeakPITCH, 0-100
        raw = text.encode()
        if lib.espeak_Synth(raw, len(raw) + 1, 0, 0, 0, 0, None, None) != 0:  # 0 = CHARS_AUTO
            raise RuntimeError(f"eSpeak NG failed to synthesise {text!r} with {voice}")
        lib.espeak_Synchronize()
        wave = np.concatenate([np.zeros(0, np.int16), *_SAMPLES])  # (N,) int16
    finally:
        _SAMPLES.clear()
        lib.espeak_Terminate()
        _ctypes.dlclose(lib._handle)  # the next call loads it afresh
    return wave.astype(np.float32) / 32768.0  # (N,)


def add_noise(wave: np.ndarray, snr_db: float, gen: np.random.Generator) -> np.ndarray:
    """White Gaussian noise at `snr_db` below the whole waveform's mean power (inf: silent)."""
    scale = math.sqrt(np.mean(wave.astype(np.float64) ** 2) / 10 ** (snr_db / 10))
    return (wave + scale * gen.standard_normal(wave.shape[0])).astype(np.float32)  # (N,)


@cache
def mel_filterbank(n_mels: int, f_min: float = 20.0) -> torch.Tensor:
    """(N_FFT // 2 + 1, n_mels): unit-peak triangles equally spaced in HTK mel, f_min to RATE/2."""
    mels = np.linspace(*(2595.0 * np.log10(1.0 + np.array([f_min, RATE / 2]) / 700.0)), n_mels + 2)
    hz = 700.0 * (10 ** (mels / 2595.0) - 1.0)  # (n_mels + 2,) filter edges
    bins = np.linspace(0.0, RATE / 2, N_FFT // 2 + 1)[:, None]  # (K, 1) FFT bin frequencies
    rising = (bins - hz[None, :-2]) / (hz[1:-1] - hz[:-2])  # (K, n_mels)
    falling = (hz[None, 2:] - bins) / (hz[2:] - hz[1:-1])  # (K, n_mels)
    return torch.from_numpy(np.clip(np.minimum(rising, falling), 0.0, None).astype(np.float32))


def log_mel(wave: np.ndarray, n_mels: int = 40) -> np.ndarray:
    """Raw log-mel energies of a RATE waveform, (T, n_mels) float32, T = 1 + (N - WINDOW) // HOP
    (no centring; a short wave is padded): periodic Hann window, power, mel, log(. + 1e-6)."""
    x = torch.from_numpy(np.asarray(wave, dtype=np.float32))  # (N,)
    x = torch.nn.functional.pad(x, (0, max(WINDOW - x.shape[0], 0)))  # (N',) >= one window
    frames = x.unfold(0, WINDOW, HOP) * torch.hann_window(WINDOW)  # (T, WINDOW)
    power = torch.fft.rfft(frames, n=N_FFT).abs().square()  # (T, K), K = N_FFT // 2 + 1
    return torch.log(power @ mel_filterbank(n_mels) + 1e-6).numpy()  # (T, n_mels)


@dataclass(frozen=True)
class Recipe:
    """Every parameter that changes the corpus (all of them go into the cache file's name)."""

    n_train: int = 3000
    n_test: int = 600
    max_digits: int = 7  # an utterance says 1..max_digits digits (uniform), each uniform of 11
    snrs: tuple[float, ...] = (30.0, 20.0, 10.0)  # dB, one drawn per utterance; inf = clean
    rates: tuple[int, ...] = (130, 160, 190)  # words per minute
    pitches: tuple[int, ...] = (30, 50, 70)
    accents: tuple[str, ...] = ACCENTS
    variants: tuple[str, ...] = VARIANTS
    test_accents: tuple[str, ...] = ("en-029", "en-gb-scotland")  # Caribbean, Scottish
    test_variants: tuple[str, ...] = ("m3", "m6", "f3")
    n_mels: int = 40
    seed: int = 0
    version: str = VERSION


def split_speakers(recipe: Recipe) -> dict[str, list[Speaker]]:
    """Every (accent+variant, rate, pitch), in a fixed order, by split: train has neither a test
    accent nor a test variant, test has both, mixed voices are in neither. Id: en-us+m3/160/50."""
    out: dict[str, list[Speaker]] = {"train": [], "test": []}
    combos = itertools.product(recipe.accents, recipe.variants, recipe.rates, recipe.pitches)
    for accent, variant, rate, pitch in combos:
        held = (accent in recipe.test_accents, variant in recipe.test_variants)
        if side := {(True, True): "test", (False, False): "train"}.get(held):  # mixed: neither
            out[side].append((f"{accent}+{variant}", rate, pitch))
    if not out["train"] or not out["test"]:
        raise ValueError(f"the recipe leaves a split without speakers: {recipe}")
    return out


@dataclass(frozen=True)
class Split:
    features: list[np.ndarray]  # each (T_i, n_mels) float32, raw log-mel
    targets: list[np.ndarray]  # each (S_i,) int64 label ids (1..27, never the blank)
    texts: list[str]
    speakers: list[str]  # speaker ids, "voice/rate/pitch"
    snrs: np.ndarray  # (N,) float64 dB
    samples: np.ndarray  # (N,) int64 audio length at RATE


@dataclass(frozen=True)
class Corpus:
    recipe: Recipe
    splits: dict[str, Split]  # "train", "test"


def _split(features, texts, speakers, snrs, samples) -> Split:
    texts = [str(t) for t in texts]
    targets = [np.array(encode(t), np.int64) for t in texts]  # each (S_i,)
    snrs, samples = np.array(snrs, np.float64), np.array(samples, np.int64)  # (N,), (N,)
    return Split(list(features), targets, texts, [str(s) for s in speakers], snrs, samples)


def _utterance(recipe: Recipe, split: str, i: int, group: list[Speaker]) -> tuple:
    """Utterance i of a split: (features, text, speaker id, SNR, samples)."""
    gen = np.random.default_rng(rng.derive(recipe.seed, "speech", split, i))
    n_digits = int(gen.integers(1, recipe.max_digits + 1))
    text = " ".join(DIGIT_WORDS[w] for w in gen.integers(len(DIGIT_WORDS), size=n_digits))
    speaker = group[int(gen.integers(len(group)))]
    snr = float(recipe.snrs[int(gen.integers(len(recipe.snrs)))])
    wave = resample_poly(synthesize(text, *speaker), 320, 441)  # (N,) 22,050 -> 16,000 Hz
    wave = add_noise(wave.astype(np.float32), snr, gen)  # (N,)
    feats = log_mel(wave, recipe.n_mels)  # (T, n_mels)
    return feats, text, "/".join(map(str, speaker)), snr, wave.shape[0]


def build(recipe: Recipe) -> Corpus:
    """Synthesise, corrupt and featurise every utterance of the recipe (no cache), on one torch
    thread: tiny tensors, where threads only cost (100x on a busy machine)."""
    splits, threads = {}, torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for name, group in split_speakers(recipe).items():
            rows = [_utterance(recipe, name, i, group) for i in range(getattr(recipe, f"n_{name}"))]
            splits[name] = _split(*(zip(*rows) if rows else ([],) * 5))
    finally:
        torch.set_num_threads(threads)
    return Corpus(recipe, splits)


def cache_file(recipe: Recipe, cache: Path = CACHE) -> Path:
    """scratch/speech/digits-<hash>.npz, hashing the recipe and the engine (espeakng-loader's
    version, the sizes of the library and its phoneme data)."""
    lib, data = _paths()
    engine = [importlib.metadata.version("espeakng-loader"), lib.stat().st_size]
    engine.append((data / "phondata").stat().st_size)
    key = json.dumps({"recipe": asdict(recipe), "engine": engine}, sort_keys=True)
    return cache / f"digits-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"


def _save(corpus: Corpus, file: Path) -> Corpus:
    arrays = {"recipe": np.array(json.dumps(asdict(corpus.recipe)))}  # provenance only
    for name, s in corpus.splits.items():
        empty = np.zeros((0, corpus.recipe.n_mels), np.float32)
        arrays[f"{name}_features"] = np.concatenate([empty, *s.features])  # (sum T, n_mels)
        arrays[f"{name}_frames"] = np.array([len(f) for f in s.features], np.int64)  # (N,)
        arrays |= {f"{name}_{k}": np.asarray(getattr(s, k)) for k in _FIELDS}
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_name(f"{file.stem}.{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, file)  # atomic: a killed build leaves no half-written cache file
    return corpus


def _read(file: Path, recipe: Recipe) -> Corpus:
    with np.load(file, allow_pickle=False) as z:
        splits = {}
        for name in ("train", "test"):
            ends = np.cumsum(z[f"{name}_frames"])  # (N,)
            features = np.split(z[f"{name}_features"], ends[:-1]) if len(ends) else []
            splits[name] = _split(features, *(z[f"{name}_{k}"] for k in _FIELDS))
    return Corpus(recipe, splits)


def load(recipe: Recipe, cache: Path | None = CACHE) -> Corpus:
    """The recipe's corpus from its cache file, built and written when missing or unreadable
    (the latter with a line on stderr); `cache=None` always builds and writes nothing."""
    if cache is None:
        return build(recipe)
    file = cache_file(recipe, cache)
    if file.exists():
        try:
            return _read(file, recipe)
        except Exception as exc:  # truncated or garbage: any reader error means rebuild
            print(f"speech: cache {file} is unreadable ({exc!r:.60}); building it", file=sys.stderr)
    return _save(build(recipe), file)


def feature_stats(corpus: Corpus) -> tuple[np.ndarray, np.ndarray]:
    """Train-set mean and std per mel, each (n_mels,): normalise as (features - mean) / std."""
    frames = np.concatenate(corpus.splits["train"].features).astype(np.float64)  # (sum T, n_mels)
    return frames.mean(0).astype(np.float32), frames.std(0).astype(np.float32)


def stats(corpus: Corpus) -> dict[str, object]:
    """Per split: utterances, hours of audio, voices and speakers, frames min/mean/max, SNRs."""
    out: dict[str, object] = {"sample_rate": RATE, "cache_file": cache_file(corpus.recipe).name}
    for name, s in corpus.splits.items():
        frames = np.array([len(f) for f in s.features] or [0])
        out[name] = {
            "utterances": len(s.texts),
            "hours": float(s.samples.sum()) / RATE / 3600,
            "voices": len({sp.split("/")[0] for sp in s.speakers}),
            "speakers": len(set(s.speakers)),
            "frames": (int(frames.min()), float(frames.mean()), int(frames.max())),
            "snrs": {float(v): int(c) for v, c in zip(*np.unique(s.snrs, return_counts=True))},
        }
    return out
