"""Unsure readings and disagreements as every text display shows them: the console's
plain lines and live view, ``diary show`` and ``diary record``'s summary; and on the
shared English recording, the seed's voice model shown unsure with nothing flagged."""

import io
import json
import re

from rich.console import Console

from streamemo.api import AudioAnalyser, AudioEmotion, TextEmotion
from streamemo.default_plugins.console import ConsoleSink
from streamemo.default_plugins.console.live_view import LiveView
from streamemo.diary.entry_summary import summary_lines
from streamemo.diary.store import Diary
from streamemo.events import event_to_dict
from streamemo.scores import UNSURE_BELOW, confidence
from streamemo.testing import run_pipeline, run_sink
from streamemo.testing.events import make_partial_event, make_utterance_event
from streamemo.testing.fakes import FixedTextAnalyser
from tests.conftest import run_cli
from tests.readme_samples import live_view_rows

SEED = ["HAPPY", "SAD", "ANGRY", "ANXIOUS", "SURPRISE", "FEAR"]
FLAT = dict.fromkeys(SEED, 1 / 6)
SURE_SAD = {label: (0.9 if label == "SAD" else 0.02) for label in SEED}
SURE_HAPPY = {label: (0.9 if label == "HAPPY" else 0.02) for label in SEED}
UNSURE_TEXT = {"joy": 0.3, "sadness": 0.25, "fear": 0.25, "neutral": 0.2}


def _event(voice: dict, text: dict | None = None, id: int = 1):
    event = make_utterance_event(id=id, start=2.0 * id, end=2.0 * id + 1.5)
    event.audio_emotion = AudioEmotion(voice, 2, "seed-like")
    if text is not None:
        event.text_emotion = TextEmotion(text, [], "t")
    return event


CASES = [  # (voice, text or None: joy 0.8), what the line shows, whether ≠ marks it
    (FLAT, None, "text joy 0.80  voice unsure", False),
    (SURE_SAD, None, "text joy 0.80 ≠ voice SAD 0.90", True),
    (SURE_HAPPY, None, "text joy 0.80  voice HAPPY 0.90", False),  # joy = HAPPY
    (SURE_SAD, UNSURE_TEXT, "text unsure  voice SAD 0.90", False),
]


def test_plain_lines_say_unsure_and_flag_only_two_sure_sides_that_differ():
    out = io.StringIO()
    events = [_event(voice, text, i) for i, (voice, text, _, _) in enumerate(CASES, 1)]
    run_sink(ConsoleSink(stream=out, live=False), events)
    lines = out.getvalue().splitlines()
    for line, (_, _, shown, flagged) in zip(lines, CASES, strict=True):
        assert shown in line, line
        assert ("≠" in line) == flagged, line
    # a partial ("speaking") with a voice that cannot tell
    partial = make_partial_event()
    partial.audio_emotion = AudioEmotion(FLAT, 1, "seed-like")
    assert ConsoleSink(stream=io.StringIO(), live=False).format(partial).endswith("voice unsure")


def _screen(view: LiveView) -> str:
    console = Console(record=True, width=140, file=io.StringIO())
    console.print(view.render())
    return console.export_text()


def test_the_live_view_says_unsure_for_the_voice_now_and_in_its_table():
    view = LiveView(io.StringIO())
    try:
        for i, (voice, text, _, _) in enumerate(CASES, 1):
            view.update(_event(voice, text, i))
        partial = make_partial_event(id=9)
        partial.audio_emotion = AudioEmotion(FLAT, 1, "seed-like")
        view.update(partial)
        screen = _screen(view)
        assert re.search(r"voice now\s+unsure", screen), screen
        rows = live_view_rows(screen)
        assert len(rows) == len(CASES), screen
        for row, (_, _, _, flagged) in zip(rows, CASES, strict=True):
            assert ("≠" in row) == flagged, row
        assert "unsure" in rows[0] and "SAD 0.90" in rows[1] and "HAPPY 0.90" in rows[2]
        assert rows[3].count("unsure") == 1  # the text
        sure_partial = make_partial_event(id=10)
        sure_partial.audio_emotion = AudioEmotion(SURE_SAD, 1, "seed-like")
        view.update(sure_partial)
        assert re.search(r"voice now\s+SAD 0\.90", _screen(view))
    finally:
        view.close()


def _older(event) -> dict:
    """An event as a diary from before results carried a confidence holds it."""
    data = event_to_dict(event)
    for key in ("text_emotion", "audio_emotion", "emotion"):
        data[key].pop("confidence")
    return data


def test_diary_show_and_the_record_summary_say_unsure_for_older_entries_too(tmp_path):
    db = tmp_path / "diary.db"
    unsure_fused = _event(FLAT, UNSURE_TEXT, 2)
    unsure_fused.emotion.scores = dict(UNSURE_TEXT)
    unsure_fused.emotion.label, unsure_fused.emotion.score = "joy", 0.3
    events = [
        _older(_event(FLAT, None, 1)),
        _older(unsure_fused),
        _older(_event(SURE_SAD, None, 3)),
    ]
    assert confidence(events[1]["emotion"]["scores"]) < UNSURE_BELOW
    with Diary(db) as diary:
        entry = diary.begin_entry("mic", 1_770_000_000.0)
        for event in events:
            diary.add_utterance(entry, event)
        diary.finish_entry(entry, 1_770_000_010.0)
        found, stored = diary.entry(entry)
    shown = run_cli("diary", "show", "1", "--db", str(db))
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()[1:]
    assert "text joy 0.80  voice unsure" in lines[0] and "≠" not in lines[0]
    assert re.search(r"\]  unsure  text unsure  voice unsure", lines[1]), lines[1]
    assert "text joy 0.80 ≠ voice SAD 0.90" in lines[2]
    summary = summary_lines(found, stored, "streamemo diary show 1")
    positive = next(line for line in summary if "most positive" in line)
    # the most positive moment is the sure joy (0.8) of the first line, not the unsure one
    assert "joy (mood +0.80)" in positive
    for other in (stored[0], stored[2]):
        other["emotion"] = stored[1]["emotion"]  # now only unsure joy is pleasant
    positive = summary_lines(found, stored, "x")[2]
    assert "]  unsure (mood +0.30)" in positive, positive


class _SureVoice(AudioAnalyser):
    """A confident voice model that hears sadness in everything."""

    def analyse(self, audio):
        return AudioEmotion(dict(SURE_SAD), 1, "sure-sad")


def test_a_run_with_a_sure_text_and_a_sure_voice_that_differ_flags_them():
    out = io.StringIO()
    labels = ["joy", "sadness", "anger", "fear", "surprise", "neutral"]
    run = run_pipeline(
        text=FixedTextAnalyser("joy", 0.9),
        audio=_SureVoice(),
        fuser="weighted",
        sinks=[ConsoleSink(stream=out, live=False)],
        options={"fuser": {"labels": labels, "audio_map": {"SAD": "sadness", "HAPPY": "joy"}}},
    )
    lines = [line for line in out.getvalue().splitlines() if line.startswith("[")]
    assert len(lines) == len(run.utterances) == 3
    assert all("text joy 0.90 ≠ voice SAD 0.90" in line for line in lines), lines


def test_on_the_english_diary_the_seed_voice_is_unsure_and_nothing_is_flagged(main_job):
    result, events = main_job
    utterances = [e for e in events if e["type"] == "utterance"]
    lines = [line for line in result.stdout.splitlines() if line.startswith("[")]
    assert len(lines) == len(utterances) == 10
    voice_unsure = [line for line in lines if "  voice unsure  " in line]
    assert len(voice_unsure) >= 0.9 * len(lines), lines
    assert not any("≠" in line for line in lines), lines
    # the events say why: the seed's voice is about 0.002 from flat; the text, mostly sure
    for event in utterances:
        assert event["audio_emotion"]["confidence"] < UNSURE_BELOW
        assert (
            0
            <= event["emotion"]["confidence"]
            <= max(event["text_emotion"]["confidence"], event["audio_emotion"]["confidence"])
        )
    sure_texts = sum(e["text_emotion"]["confidence"] >= UNSURE_BELOW for e in utterances)
    assert sure_texts >= 7, json.dumps([e["text_emotion"] for e in utterances])[:2000]
