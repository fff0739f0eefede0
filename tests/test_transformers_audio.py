"""The ``transformers`` audio analyser on tiny wav2vec2 and HuBERT checkpoints built here
(tests/tiny_ser.py), loaded through the users' paths: a folder, the CLI, an offline HF cache.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from streamemo.default_plugins.transformers_audio import TransformersVoiceEmotion
from streamemo.errors import ConfigError, ModelNotFoundError
from streamemo.testing.audio import speechlike
from tests import tiny_ser

RATE = 16000
OPTIONS = {"window_s": 4.0, "hop_s": 2.0, "label_map": None, "max_batch": 16, "device": "auto"}
ARCHS = ("wav2vec2", "hubert", "whisper")


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("ser")
    return {arch: tiny_ser.build(root / arch, arch) for arch in ARCHS}


@pytest.fixture(scope="module", params=ARCHS[:2])
def analyser(request: pytest.FixtureRequest, folders: dict[str, Path]) -> TransformersVoiceEmotion:
    return TransformersVoiceEmotion(model=str(folders[request.param]))


def _by_hand(folder: Path, chunks: list[np.ndarray]) -> np.ndarray:
    """Each window's softmax from transformers called directly, one window at a time."""
    import torch
    from transformers import AutoFeatureExtractor, AutoModelForAudioClassification

    extractor = AutoFeatureExtractor.from_pretrained(folder)
    model = AutoModelForAudioClassification.from_pretrained(folder).eval()
    out = []
    with torch.no_grad():
        for chunk in chunks:
            inputs = extractor(chunk, sampling_rate=RATE, return_tensors="pt")
            out.append(torch.softmax(model(**inputs).logits, -1)[0])
    return torch.stack(out).numpy()


def _two_voices() -> np.ndarray:
    """10 s whose last 4 s sound unlike the first 6 s."""
    return np.concatenate([speechlike(6, pitch=100, seed=1), speechlike(4, pitch=260, seed=2)])


def test_ten_seconds_are_four_windows_and_their_mean(analyser: TransformersVoiceEmotion) -> None:
    audio = _two_voices()
    result = analyser.analyse(audio)
    assert result.windows == 4  # 0-4, 2-6, 4-8, 6-10 s
    assert list(result.scores) == tiny_ser.SUPERB_LABELS
    assert sum(result.scores.values()) == pytest.approx(1.0, abs=1e-9)
    floats = audio.astype(np.float32) / 32768
    chunks = [floats[s * RATE : (s + 4) * RATE] for s in (0, 2, 4, 6)]
    want = _by_hand(Path(analyser.name), chunks).mean(axis=0)
    np.testing.assert_allclose(list(result.scores.values()), want, atol=1e-5)
    assert result.model == analyser.name


def test_the_last_window_ends_flush_with_the_utterance(analyser: TransformersVoiceEmotion) -> None:
    audio = speechlike(11, seed=3)  # 0, 2, 4, 6 and 7-11 s: every sample is read
    result = analyser.analyse(audio)
    assert result.windows == 5
    floats = audio.astype(np.float32) / 32768
    chunks = [floats[s * RATE : s * RATE + 4 * RATE] for s in (0, 2, 4, 6, 7)]
    want = _by_hand(Path(analyser.name), chunks).mean(axis=0)
    np.testing.assert_allclose(list(result.scores.values()), want, atol=1e-5)


def test_many_utterances_are_one_forward_and_equal_one_by_one(
    analyser: TransformersVoiceEmotion,
) -> None:
    audios = [_two_voices(), speechlike(5, pitch=200, seed=4), speechlike(2.5, seed=5)]
    calls: list[int] = []
    hook = analyser.model.register_forward_hook(lambda module, args, out: calls.append(1))
    try:
        together = analyser.analyse_many(audios)
        passes = len(calls)
        alone = [analyser.analyse(audio) for audio in audios]
    finally:
        hook.remove()
    # 4 + 2 full 4 s windows and one of 2.5 s: one pass where padding is masked (wav2vec2
    # here), else one per length (HuBERT's group norm takes no mask)
    assert passes == (1 if analyser.mixed else 2)
    assert analyser.mixed == (type(analyser.model).__name__.startswith("Wav2Vec2"))
    assert [r.windows for r in together] == [4, 2, 1]
    for got, want in zip(together, alone, strict=True):
        np.testing.assert_allclose(list(got.scores.values()), list(want.scores.values()), atol=1e-5)
    # and the utterances read differently: equal results are not a model that reads nothing
    first, last = (list(r.scores.values()) for r in (together[0], together[2]))
    assert not np.allclose(first, last, atol=1e-3)
    assert analyser.analyse_many([]) == []


def test_a_whisper_encoder_checkpoint_batches_too(folders: dict[str, Path]) -> None:
    """Whisper's extractor pads every window to 30 s: windows of any length share a pass.
    (Its mean over 30 s of mostly padding reads these inputs almost alike: not compared.)"""
    whisper = TransformersVoiceEmotion(model=str(folders["whisper"]))
    audios = [_two_voices(), speechlike(2.5, seed=5)]
    calls: list[int] = []
    whisper.model.register_forward_hook(lambda module, args, out: calls.append(1))
    together = whisper.analyse_many(audios)
    assert (len(calls), [r.windows for r in together]) == (1, [4, 1])
    floats = audios[0].astype(np.float32) / 32768
    chunks = [floats[s * RATE : (s + 4) * RATE] for s in (0, 2, 4, 6)]
    want = _by_hand(folders["whisper"], chunks).mean(axis=0)
    np.testing.assert_allclose(list(together[0].scores.values()), want, atol=1e-5)
    alone = whisper.analyse(audios[1]).scores
    np.testing.assert_allclose(list(together[1].scores.values()), list(alone.values()), atol=1e-5)


def test_max_batch_splits_the_windows_into_passes(folders: dict[str, Path]) -> None:
    small = TransformersVoiceEmotion(model=str(folders["wav2vec2"]), max_batch=2)
    calls: list[int] = []
    small.model.register_forward_hook(lambda module, args, out: calls.append(1))
    result = small.analyse(_two_voices())
    assert (result.windows, len(calls)) == (4, 2)


def test_a_partial_reads_the_newest_window_only(analyser: TransformersVoiceEmotion) -> None:
    audio = _two_voices()
    latest = analyser.analyse_latest(audio)
    assert latest.windows == 1
    floats = audio.astype(np.float32) / 32768
    want = _by_hand(Path(analyser.name), [floats[-4 * RATE :], floats[: 4 * RATE]])
    np.testing.assert_allclose(list(latest.scores.values()), want[0], atol=1e-5)
    assert not np.allclose(want[0], want[1], atol=1e-3)  # the first window reads otherwise
    short = analyser.analyse_latest(speechlike(1.5, seed=6))  # a partial shorter than a window
    assert short.windows == 1 and sum(short.scores.values()) == pytest.approx(1.0)


def test_safetensors_first_and_a_bin_alone_loads(folders: dict[str, Path], tmp_path: Path) -> None:
    """Beside safetensors a pytorch_model.bin is not read (here it holds other weights); a
    folder with only the .bin (as superb/wav2vec2-base-superb-er's main branch) loads."""
    import torch
    from safetensors.torch import load_file

    audio = speechlike(5, seed=7)
    want = list(
        TransformersVoiceEmotion(model=str(folders["hubert"])).analyse(audio).scores.values()
    )
    state = load_file(folders["hubert"] / "model.safetensors")
    both = shutil.copytree(folders["hubert"], tmp_path / "both")
    torch.save({k: v + 0.5 for k, v in state.items()}, both / "pytorch_model.bin")
    got = TransformersVoiceEmotion(model=str(both)).analyse(audio).scores.values()
    np.testing.assert_allclose(list(got), want, atol=1e-6)
    alone = shutil.copytree(folders["hubert"], tmp_path / "bin")
    (alone / "model.safetensors").unlink()
    torch.save(state, alone / "pytorch_model.bin")
    got = TransformersVoiceEmotion(model=str(alone)).analyse(audio).scores.values()
    np.testing.assert_allclose(list(got), want, atol=1e-6)


def test_label_map_renames_and_generic_labels_need_one(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    renamed = {"neu": "neutral", "hap": "joy", "ang": "anger", "sad": "sadness"}
    mapped = TransformersVoiceEmotion(model=str(folders["hubert"]), label_map=renamed)
    assert list(mapped.analyse(speechlike(3)).scores) == list(renamed.values())
    generic = shutil.copytree(folders["hubert"], tmp_path / "generic")
    tiny_ser.edit_json(generic / "config.json", id2label={str(i): f"LABEL_{i}" for i in range(4)})
    with pytest.raises(ModelNotFoundError) as info:
        TransformersVoiceEmotion.preflight(model=str(generic), **OPTIONS)
    assert "\n" not in str(info.value) and "audio.label_map" in str(info.value)
    names = {f"LABEL_{i}": name for i, name in enumerate(renamed.values())}
    loaded = TransformersVoiceEmotion(model=str(generic), label_map=names)
    assert loaded.labels == list(renamed.values())
    with pytest.raises(ConfigError, match="'angry', not a label of"):
        TransformersVoiceEmotion.preflight(
            model=str(folders["hubert"]), **{**OPTIONS, "label_map": {"angry": "anger"}}
        )
    with pytest.raises(ConfigError, match="the same name"):
        TransformersVoiceEmotion(model=str(folders["hubert"]), label_map={"neu": "sad"})


def test_another_sampling_rate_or_bad_windows_are_refused(
    folders: dict[str, Path], tmp_path: Path
) -> None:
    folder = shutil.copytree(folders["hubert"], tmp_path / "8k")
    tiny_ser.edit_json(folder / "preprocessor_config.json", sampling_rate=8000)
    with pytest.raises(ConfigError, match="expects 8000 Hz audio"):
        TransformersVoiceEmotion.preflight(model=str(folder), **OPTIONS)
    with pytest.raises(ConfigError, match=r"audio\.hop_s must be"):
        TransformersVoiceEmotion.preflight(model=str(folder), **{**OPTIONS, "hop_s": 5.0})
    with pytest.raises(ConfigError, match=r"audio\.device must be"):
        TransformersVoiceEmotion.preflight(model=str(folder), **{**OPTIONS, "device": "gpu"})
    with pytest.raises(ConfigError, match="reads at most 30 s at once"):  # Whisper's input
        TransformersVoiceEmotion.preflight(
            model=str(folders["whisper"]), **{**OPTIONS, "window_s": 40.0, "hop_s": 20.0}
        )
