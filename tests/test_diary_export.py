"""streamemo diary export through the real CLI: JSON that holds every stored event exactly
(compared with Diary.entry for every entry), CSV through the csv module, readable Markdown,
--out written 0600 and whole, bad input one line."""

import csv
import io
import json
import stat
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from streamemo.diary.store import Diary
from tests.conftest import run_cli

BERLIN = {"TZ": "Europe/Berlin"}


def _at(text: str) -> float:
    local = datetime.strptime(text, "%Y-%m-%d %H:%M")
    return local.replace(tzinfo=ZoneInfo("Europe/Berlin")).timestamp()


def _event(uid, start, text, fused=None, voice=None, **extra):
    event = {"type": "utterance", "stream": "mic", "id": uid, "start": start,
             "end": start + 2.5, "text": text, "language": "en", "latency_ms": 812.4}  # fmt: skip
    if fused:
        label = max(fused, key=fused.__getitem__)
        event["emotion"] = {"label": label, "score": fused[label], "scores": fused,
                            "sources": ["text", "audio"], "method": "w"}  # fmt: skip
        event["text_emotion"] = {"scores": fused, "sentences": [], "model": "offline-en"}
    if voice:
        event["audio_emotion"] = {"scores": voice, "windows": 2, "model": "todai"}
    return {**event, **extra}


@pytest.fixture(scope="module")
def diary_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("export") / "diary.db"
    with Diary(path) as diary:
        first = diary.begin_entry("mic", _at("2026-03-28 21:00") + 0.123456789)
        diary.add_utterance(first, _event(
            1, 0.5, 'Grüße, "ça va?" 😊\nnew line', {"joy": 0.1 + 0.2, "neutral": 0.7},
            {"neutral": 0.6, "joy": 0.4}, timing={"transcribe": 1e-7}, extra=[1, None, {}],
        ))  # fmt: skip
        diary.add_utterance(first, _event(2, 4.0, "a *bold* [link] # not a heading", None))
        diary.finish_entry(first, _at("2026-03-28 21:05"))
        second = diary.begin_entry("serve-2", _at("2026-03-30 08:00"))  # unfinished (killed)
        diary.add_utterance(second, _event(1, 1.0, None, {"sadness": 0.9, "neutral": 0.1}))
    return path


def _export(path, *args):
    return run_cli("diary", "export", "--db", str(path), *args, env=BERLIN)


def test_json_holds_every_entry_and_event_exactly_as_stored(diary_path):
    got = _export(diary_path, "--format", "json")
    assert got.returncode == 0, got.stderr
    doc = json.loads(got.stdout)
    assert (doc["format"], doc["version"], doc["since"], doc["until"]) == (
        "streamemo-diary", 1, None, None
    )  # fmt: skip
    with Diary(diary_path, create=False) as diary:
        stored = [diary.entry(e.id) for e in diary.entries()]
    assert len(doc["entries"]) == len(stored) == 2
    for exported, (entry, events) in zip(doc["entries"], stored, strict=True):
        assert exported == {"id": entry.id, "stream": entry.stream,
                            "started_at": entry.started_at, "ended_at": entry.ended_at,
                            "utterances": events}  # fmt: skip
    first = doc["entries"][0]["utterances"][0]
    assert first["text"] == 'Grüße, "ça va?" 😊\nnew line' and first["extra"] == [1, None, {}]
    assert first["emotion"]["scores"]["joy"] == 0.1 + 0.2 and first["timing"]["transcribe"] == 1e-7
    assert doc["entries"][1]["ended_at"] is None


def test_out_writes_the_same_document_to_a_file_only_its_owner_reads(diary_path, tmp_path):
    out = tmp_path / "diary.json"
    out.write_text("an older export")
    out.chmod(0o644)
    got = _export(diary_path, "--out", str(out))  # the format from the suffix
    assert (got.returncode, got.stdout) == (0, "")
    assert got.stderr == f"2 entries written to {out}\n"
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_text() == _export(diary_path, "--format", "json").stdout
    assert [p.name for p in tmp_path.iterdir()] == ["diary.json"]  # no temporary left


def test_a_span_exports_only_its_entries(diary_path):
    doc = json.loads(_export(diary_path, "--format", "json", "--since", "2026-03-29").stdout)
    assert doc["since"] == "2026-03-29"
    assert [e["stream"] for e in doc["entries"]] == ["serve-2"]


def test_csv_is_one_row_per_utterance(diary_path):
    got = _export(diary_path, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(got.stdout, newline="")))
    assert len(rows) == 3
    first, second, third = rows
    assert first["entry_id"] == "1" and first["datetime"] == "2026-03-28T21:00:00.623+01:00"
    assert (first["start"], first["end"]) == ("0.5", "3.0")
    assert first["text"] == 'Grüße, "ça va?" 😊\nnew line'  # commas, quotes, a new line
    assert (first["emotion"], float(first["emotion_score"])) == ("neutral", 0.7)
    assert (first["text_emotion"], first["voice_emotion"], first["voice_score"]) == (
        "neutral", "neutral", "0.6"
    )  # fmt: skip
    assert float(first["mood"]) == 0.0  # neutral: valence 0 x 0.7
    assert (second["emotion"], second["emotion_score"], second["mood"]) == ("", "", "")
    assert third["datetime"] == "2026-03-30T08:00:01.000+02:00" and third["text"] == ""
    assert third["emotion"] == "sadness"


def test_markdown_is_a_diary_to_read(diary_path):
    text = _export(diary_path, "--format", "md").stdout
    assert text.startswith("# Voice diary\n\n2 entries (everything).\n")
    assert "\n## Saturday 28 March 2026\n\n### 21:00, entry 1\n\n13 words, 0:05 spoken" in text
    assert "- 21:00:00 Grüße, \"ça va?\" 😊 new line *(neutral 0.70; text neutral 0.70; " \
        "voice neutral 0.60)*\n" in text  # fmt: skip
    assert "- 21:00:04 a \\*bold\\* \\[link\\] \\# not a heading\n" in text
    assert "\n## Monday 30 March 2026\n\n### 08:00, entry 2 (unfinished)\n" in text
    assert "- 08:00:01 *(no words)* *(sadness 0.90; text sadness 0.90)*" in text


@pytest.mark.parametrize(
    "args, message",
    [
        (["--out", "{tmp}/no/such/folder/d.json"], "no folder"),
        (["--out", "{tmp}"], "is a folder: give a file name"),
        (["--out", "{tmp}/d.txt"], "needs a format: give --format md, csv or json"),
        (["--format", "csv", "--until", "2026-02-30"], "--until '2026-02-30' is not a date"),
    ],
)
def test_bad_input_is_one_line_and_exit_2_with_nothing_written(diary_path, tmp_path, args, message):
    got = _export(diary_path, *[a.replace("{tmp}", str(tmp_path)) for a in args])
    assert (got.returncode, got.stdout) == (2, "")
    assert got.stderr.startswith("streamemo: error: ") and message in got.stderr
    assert got.stderr.count("\n") == 1
    assert list(tmp_path.iterdir()) == []
