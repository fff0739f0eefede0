"""Unsure readings and disagreements in real headless Chromium: the live dashboard (its
utterance rows and its "now" panel, for events with and without a confidence) and the
diary view (entries kept before results carried one)."""

import json
import re

import pytest

from streamemo.api import AudioEmotion, TextEmotion
from streamemo.diary.store import Diary
from streamemo.events import event_to_dict
from streamemo.scores import CANONICAL, UNSURE_BELOW
from streamemo.serving.event_server import EventServer
from streamemo.serving.options import ServerOptions
from streamemo.testing.events import make_partial_event, make_utterance_event
from tests.conftest import REPO
from tests.test_diary_browser import DiaryServe
from tests.ws_helpers import ARTIFACTS, chromium_page

SEED = ["HAPPY", "SAD", "ANGRY", "ANXIOUS", "SURPRISE", "FEAR"]
FLAT = dict.fromkeys(SEED, 1 / 6)
SURE_SAD = {label: (0.9 if label == "SAD" else 0.02) for label in SEED}
UNSURE_TEXT = {"joy": 0.3, "sadness": 0.25, "fear": 0.25, "neutral": 0.2}
PAGE = REPO / "streamemo" / "web" / "dashboard.html"

ROWS = """(list) => [...document.querySelectorAll(list + ' .utt')].map(r => ({
  text: r.querySelector('.text').textContent,
  fused: r.querySelector('.chip')?.textContent ?? null,
  textUnsure: r.querySelector('.side-text h3 .unsure') !== null,
  voiceUnsure: r.querySelector('.side-voice h3 .unsure') !== null,
  voiceBars: r.querySelectorAll('.side-voice .bar').length,
  disagree: r.querySelector('.disagree')?.textContent ?? null,
}))"""


def _event(id: int, text: str, voice: dict, text_scores: dict | None = None) -> dict:
    event = make_utterance_event(text, id=id, start=2.0 * id, end=2.0 * id + 1.5)
    event.audio_emotion = AudioEmotion(voice, 2, "seed-like")
    if text_scores is not None:
        event.text_emotion = TextEmotion(text_scores, [], "t")
        event.emotion.label, event.emotion.score = "joy", 0.3
        event.emotion.scores, event.emotion.confidence = dict(text_scores), 0.02
    return event_to_dict(event)


def _older(data: dict) -> dict:
    for key in ("text_emotion", "audio_emotion", "emotion"):
        data[key].pop("confidence", None)
    return data


def test_the_page_uses_the_same_threshold_and_emotion_names_as_python():
    page = PAGE.read_text(encoding="utf-8")
    assert float(re.search(r"const UNSURE_BELOW = ([\d.]+);", page)[1]) == UNSURE_BELOW
    table = re.search(r"const CANON = \{(.*?)\};", page, re.S)[1]
    pairs = dict(re.findall(r'"?([^\s":,]+)"?:\s*"([^"]+)"', table))
    assert pairs == CANONICAL


@pytest.fixture(scope="module")
def live_page(pw, tmp_path_factory):
    server = EventServer(ServerOptions(port=0))
    server.start()
    try:
        with chromium_page(pw, tmp_path_factory.mktemp("chromium")) as page:
            page.goto(server.url("/"))
            page.wait_for_selector("#conn.connected", timeout=20_000)
            yield page
    finally:
        server.close()


def test_dashboard_rows_say_unsure_and_flag_only_two_sure_sides(live_page):
    page = live_page
    events = [
        _event(1, "sure words, a flat voice", FLAT),
        _event(2, "sure words, a sure voice that hears sadness", SURE_SAD),
        _older(_event(3, "an older event: a flat voice, no confidence field", FLAT)),
        _older(_event(4, "an older event, both sure and apart", SURE_SAD)),
        _event(5, "unsure words, a sure voice", SURE_SAD, UNSURE_TEXT),
        _event(6, "a voice of another kind: no verdict", {"excited": 0.95, "calm": 0.05}),
    ]
    for event in events:
        page.evaluate("(ev) => onEvent(ev)", json.loads(json.dumps(event)))
    rows = list(reversed(page.evaluate(ROWS, "#utterances")))  # newest first on the page
    assert [r["text"].strip("“”") for r in rows] == [e["text"] for e in events]
    assert [r["voiceUnsure"] for r in rows] == [True, False, True, False, False, False]
    assert [r["textUnsure"] for r in rows] == [False, False, False, False, True, False]
    assert [r["disagree"] for r in rows] == [
        None, "text joy ≠ voice SAD", None, "text joy ≠ voice SAD", None, None,
    ]  # fmt: skip
    # what an unsure model said stays readable: its bars are still there
    assert [r["voiceBars"] for r in rows] == [3, 3, 3, 3, 3, 2]
    assert rows[4]["fused"] == "unsure" and rows[0]["fused"] == "joy 0.80"
    assert page.errors == []


def test_the_now_panel_says_unsure_for_a_voice_that_cannot_tell(live_page):
    page = live_page
    # id 7: the utterances above took 1-6, and a partial of an ended utterance is ignored
    partial = make_partial_event(stream="test", id=7, start=12.0, end=13.0)
    partial.audio_emotion = AudioEmotion(FLAT, 1, "seed-like")
    page.evaluate("(ev) => onEvent(ev)", event_to_dict(partial))
    big = page.text_content("#now .big")
    assert big == "unsure" and "confidence 0.00" in page.text_content("#now")
    partial.audio_emotion = AudioEmotion(SURE_SAD, 1, "seed-like")
    page.evaluate("(ev) => onEvent(ev)", event_to_dict(partial))
    assert page.text_content("#now .big") == "SAD 0.90"
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard-unsure.png"), full_page=True)
    assert page.errors == []


def test_the_diary_view_says_unsure_for_entries_kept_without_a_confidence(pw, tmp_path):
    db = tmp_path / "diary.db"
    with Diary(db) as diary:
        entry = diary.begin_entry("mic", 1_772_482_500.0)  # 2 Mar 2026
        diary.add_utterance(entry, _older(_event(1, "a flat voice", FLAT)))
        diary.add_utterance(entry, _older(_event(2, "a sure voice, another emotion", SURE_SAD)))
        diary.finish_entry(entry, 1_772_482_510.0)
    served = DiaryServe("--db", str(db))
    try:
        with chromium_page(pw, tmp_path / "chromium") as page:
            page.goto(served.base + "/#diary")
            page.wait_for_function("() => window.streamemoDiary && window.streamemoDiary.ready")
            page.wait_for_selector("#diary-utterances[data-entry='1']")
            rows = page.evaluate(ROWS, "#diary-utterances")
            assert [r["voiceUnsure"] for r in rows] == [True, False]
            assert [r["disagree"] for r in rows] == [None, "text joy ≠ voice SAD"]
            assert page.errors == []
    finally:
        served.stop()
