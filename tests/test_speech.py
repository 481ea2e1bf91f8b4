"""repro.kit.speech: eSpeak NG digit strings as a CTC corpus (tiny recipes, about a second each)."""

from __future__ import annotations

import dataclasses
import math
import socket

import espeakng_loader
import numpy as np
import pytest

from repro.kit import speech

TINY = speech.Recipe(n_train=12, n_test=6, max_digits=4)


@pytest.fixture(scope="module")
def tiny() -> speech.Corpus:
    return speech.build(TINY)


def same_corpus(a: speech.Corpus, b: speech.Corpus) -> bool:
    """Bit-identical features, and the same texts, targets, speakers, SNRs and lengths."""
    for name in ("train", "test"):
        x, y = a.splits[name], b.splits[name]
        if (x.texts, x.speakers) != (y.texts, y.speakers) or len(x.features) != len(y.features):
            return False
        pairs = [*zip(x.features, y.features), *zip(x.targets, y.targets)]
        pairs += [(x.snrs, y.snrs), (x.samples, y.samples)]
        if not all(np.array_equal(p, q) and p.dtype == q.dtype for p, q in pairs):
            return False
    return True


def test_labels_round_trip():
    ids = speech.encode("seven oh three")
    assert 0 not in ids and speech.decode(ids) == "seven oh three"
    assert speech.decode(np.array([0, *ids, 0])) == "seven oh three"  # blanks dropped
    assert speech.ALPHABET[0] == "_" and speech.ALPHABET[1] == " " and len(speech.ALPHABET) == 28
    with pytest.raises(ValueError):
        speech.encode("7")
    with pytest.raises(ValueError):
        speech.encode("_")  # the blank is no character


def test_same_recipe_same_bits_other_seed_other_corpus(tiny):
    assert same_corpus(tiny, speech.build(TINY))
    other = speech.build(dataclasses.replace(TINY, seed=1))
    assert other.splits["train"].texts != tiny.splits["train"].texts
    assert not same_corpus(tiny, other)


def test_synthesis_does_not_depend_on_what_came_before():
    first = speech.synthesize("three eight", "en-us+f2", 160, 50)  # f2 is breathy: noise
    speech.synthesize("nine nine nine", "en-gb-scotland+m1", 130, 30)
    assert np.array_equal(first, speech.synthesize("three eight", "en-us+f2", 160, 50))
    assert first.dtype == np.float32 and 0.05 < np.abs(first).max() <= 1.0
    assert 0.3 < len(first) / speech.LIBRARY_RATE < 2.0  # two words, in seconds


def test_every_default_accent_and_variant_is_a_voice():
    waves = {
        voice: speech.synthesize("four", voice, 160, 50)  # en-us-nyc says most digits as en-us
        for voice in [f"{a}+m1" for a in speech.ACCENTS] + [f"en-us+{v}" for v in speech.VARIANTS]
    }
    assert all(len(w) > 0.1 * speech.LIBRARY_RATE for w in waves.values())
    assert len({w.tobytes() for w in waves.values()}) == len(waves)  # all of them differ


def test_unknown_voice_is_an_error():
    with pytest.raises(ValueError, match="variant"):
        speech.synthesize("one", "en-us+m99", 160, 50)  # eSpeak itself would ignore it
    with pytest.raises(ValueError, match="voice"):
        speech.synthesize("one", "xx-nowhere+m1", 160, 50)


def test_test_speakers_are_disjoint_from_train(tiny):
    recipe = speech.Recipe()
    split = speech.split_speakers(recipe)
    voices = {name: {voice for voice, _, _ in speakers} for name, speakers in split.items()}
    accents = {name: {v.split("+")[0] for v in vs} for name, vs in voices.items()}
    variants = {name: {v.split("+")[1] for v in vs} for name, vs in voices.items()}
    assert accents["test"] == set(recipe.test_accents)
    assert variants["test"] == set(recipe.test_variants)
    for held in (voices, accents, variants):
        assert not held["train"] & held["test"]
    assert (len(voices["train"]), len(voices["test"])) == (6 * 9, 2 * 3)
    assert (len(split["train"]), len(split["test"])) == (54 * 9, 6 * 9)  # x 3 rates x 3 pitches
    assert split == speech.split_speakers(recipe)  # a fixed order
    train, test = (set(tiny.splits[name].speakers) for name in ("train", "test"))
    assert not train & test
    assert {s.split("/")[0] for s in train} <= voices["train"]
    assert {s.split("/")[0] for s in test} <= voices["test"]


def test_features_and_labels_line_up(tiny):
    for s in tiny.splits.values():
        assert len(s.features) == len(s.targets) == len(s.texts) == len(s.speakers) == len(s.snrs)
        assert set(s.snrs.tolist()) <= set(TINY.snrs)
        for feats, target, text, n in zip(s.features, s.targets, s.texts, s.samples, strict=True):
            words = text.split(" ")
            assert 1 <= len(words) <= TINY.max_digits and set(words) <= set(speech.DIGIT_WORDS)
            assert speech.decode(target) == text and target.dtype == np.int64
            assert feats.dtype == np.float32 and feats.shape[1] == TINY.n_mels
            assert np.isfinite(feats).all()
            assert feats.shape[0] == 1 + (n - 400) // 160  # 25 ms window, 10 ms hop at 16 kHz
            repeats = int(np.sum(target[1:] == target[:-1]))  # CTC needs a blank between these
            assert feats.shape[0] >= len(target) + repeats
    train = tiny.splits["train"]
    voice, rate, pitch = train.speakers[0].split("/")
    wave = speech.synthesize(train.texts[0], voice, int(rate), int(pitch))  # at 22,050 Hz
    assert train.samples[0] == math.ceil(len(wave) * 16000 / 22050)  # the same audio, resampled


def test_log_mel_frames_and_filterbank():
    assert speech.log_mel(np.zeros(16000)).shape == (98, 40)  # 1 s: 1 + (16000 - 400) // 160
    assert speech.log_mel(np.zeros(100), n_mels=20).shape == (1, 20)  # padded to one window
    bank = speech.mel_filterbank(40)
    assert bank.shape == (257, 40) and bool((bank.sum(0) > 0).all())  # no empty filter
    t = np.arange(16000) / 16000
    low, high = (speech.log_mel(np.sin(2 * np.pi * f * t)).mean(0).argmax() for f in (300, 3000))
    assert low < high


def test_noise_is_at_the_requested_snr():
    wave = np.sin(np.arange(32000) / 5).astype(np.float32)
    for snr in (30.0, 10.0, 0.0):
        noisy = speech.add_noise(wave, snr, np.random.default_rng(0))
        measured = 10 * np.log10(np.mean(wave**2) / np.mean((noisy - wave) ** 2))
        assert abs(measured - snr) < 0.2 and noisy.dtype == np.float32
    rng = np.random.default_rng
    assert np.array_equal(
        speech.add_noise(wave, 10.0, rng(3)), speech.add_noise(wave, 10.0, rng(3))
    )
    assert np.array_equal(speech.add_noise(wave, math.inf, rng(0)), wave)


def test_cache_is_read_back_rebuilt_when_corrupt_and_keyed_by_recipe(tmp_path, monkeypatch, capsys):
    built = speech.load(TINY, cache=tmp_path)
    file = speech.cache_file(TINY, tmp_path)
    assert list(tmp_path.iterdir()) == [file]  # no temporary file left behind

    def refuse(recipe):
        raise AssertionError("built again instead of read from the cache")

    with monkeypatch.context() as m:
        m.setattr(speech, "build", refuse)
        assert same_corpus(speech.load(TINY, cache=tmp_path), built)
    file.write_bytes(b"not an npz file")
    assert same_corpus(speech.load(TINY, cache=tmp_path), built)
    err = capsys.readouterr().err
    assert str(file) in err and err.count("\n") == 1
    with monkeypatch.context() as m:
        m.setattr(speech, "build", refuse)
        assert same_corpus(speech.load(TINY, cache=tmp_path), built)  # the rebuilt file reads
    for change in ({"seed": 1}, {"n_mels": 20}, {"snrs": (5.0,)}, {"version": "digits-0"}):
        assert speech.cache_file(dataclasses.replace(TINY, **change), tmp_path) != file
    assert speech.cache_file(TINY, tmp_path) == file  # and the same recipe the same file
    assert speech.CACHE == speech.Path(speech.__file__).resolve().parents[2] / "scratch" / "speech"


def test_no_cache_builds_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(speech, "build", lambda recipe: "built")
    monkeypatch.setattr(speech, "CACHE", tmp_path)
    assert speech.load(TINY, cache=None) == "built"
    assert not list(tmp_path.iterdir())


def test_missing_library_is_a_clear_error(tmp_path, monkeypatch):
    missing = tmp_path / "libespeak-ng.so"
    monkeypatch.setattr(espeakng_loader, "get_library_path", lambda: str(missing))
    for call in (
        lambda: speech.synthesize("one", "en-us+m3", 160, 50),
        lambda: speech.load(TINY, cache=tmp_path),
    ):
        with pytest.raises(RuntimeError, match="pip install espeakng-loader") as err:
            call()
        assert str(missing) in str(err.value)
    missing.write_bytes(b"not a shared library")
    with pytest.raises(RuntimeError, match="pip install espeakng-loader") as err:
        speech.synthesize("one", "en-us+m3", 160, 50)
    assert str(missing) in str(err.value)
    monkeypatch.undo()
    monkeypatch.setattr(espeakng_loader, "get_data_path", lambda: str(tmp_path))  # no phontab
    with pytest.raises(RuntimeError, match="phontab"):
        speech.synthesize("one", "en-us+m3", 160, 50)


def test_no_network_during_a_build(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network access")

    for name in ("socket", "create_connection", "getaddrinfo"):
        monkeypatch.setattr(socket, name, refuse)
    corpus = speech.build(dataclasses.replace(TINY, n_train=3, n_test=2))
    assert [len(corpus.splits[name].texts) for name in ("train", "test")] == [3, 2]
