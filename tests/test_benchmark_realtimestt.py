"""benchmarks/realtimestt_compare.py without the RealtimeSTT venv: its one-line refusal
when the venv is missing, and its scoring of a real RealtimeSTT run (the child's own JSON
lines, kept in the committed results file) against the shared diary's truth."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.realtimestt_compare import rstt_texts, score
from tests.conftest import shared

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "2026-12-02-vm-realtimestt-a.json"


def test_a_missing_realtimestt_venv_is_one_line_before_anything_starts(tmp_path):
    nowhere = tmp_path / "no-venv" / "bin" / "python"
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks", "realtimestt", "--rstt-python", str(nowhere)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("benchmarks realtimestt: error: no RealtimeSTT Python at ")
    assert str(nowhere) in lines[0] and "--rstt-python" in lines[0]
    assert done.stdout == ""
    assert time.monotonic() - started < 60  # no virtual mic, no model was started


def _real_run() -> tuple[dict, list[dict]]:
    truth = json.loads(shared("audio/en/en_diary.json").read_text())["utterances"]
    results = json.loads(RESULTS.read_text())
    first = results["compare"]["rounds"][0]["RealtimeSTT"]
    return first, truth


def test_each_realtimestt_text_is_paired_with_the_recording_it_transcribed():
    run, truth = _real_run()
    records = run["records"]
    kinds = [r["kind"] for r in records]
    # what the real run shows: a text often arrives after the next recording has started,
    # so pairing a text with the latest *start* would shift every text by one sentence
    late = [
        i
        for i, k in enumerate(kinds)
        if k == "text"
        and [k for k in kinds[:i] if k.startswith("recording_")][-1:] == ["recording_start"]
    ]
    assert late, "the recorded run no longer shows a text after the next recording's start"
    began = run["began"]
    texts = rstt_texts(records, began)
    assert len(texts) == kinds.count("text")
    for t in texts:  # every span ends before its text arrived, and holds what it says
        assert t["end"] < t["unix"] - began
    scored = score(texts, truth, began, 0.0)
    for row in scored["rows"]:
        said = set(row["text"].lower().replace(".", "").split())
        for i in row["sentences"]:
            words = set(truth[i]["text"].lower().replace(".", "").split())
            assert len(said & words) >= len(words) / 2, (row, truth[i]["text"])


def test_a_text_over_two_sentences_counts_once_from_the_second_ones_end():
    run, truth = _real_run()
    began = run["began"]
    scored = score(rstt_texts(run["records"], began), truth, began, 0.0)
    merged = [row for row in scored["rows"] if len(row["sentences"]) > 1]
    assert merged and scored["merged"] == len(merged)  # RealtimeSTT's 0.6 s joins 0.75 s gaps
    texts = {t["unix"]: t for t in rstt_texts(run["records"], began)}
    for row in merged:
        last = row["sentences"][-1]
        arrival = next(u for u, t in texts.items() if t["text"] == row["text"])
        assert abs(row["latency_ms"] - (arrival - began - truth[last]["end"]) * 1000) < 0.01
    assert len(scored["rows"]) == scored["texts"]  # every text timed once
    assert scored["latency_ms"]["n"] == len(scored["rows"])
    assert scored["wer"] == run["wer"]


def test_a_recording_that_ends_in_the_next_sentence_is_timed_from_its_own_sentence():
    # run b, round 2: RealtimeSTT's recording of "Holding the new puppy..." stopped just
    # after the next sentence began; timed from that next sentence's end it came out -1.7 s
    truth = json.loads(shared("audio/en/en_diary.json").read_text())["utterances"]
    results = json.loads(RESULTS.with_name("2026-12-02-vm-realtimestt-b.json").read_text())
    run = results["compare"]["rounds"][1]["RealtimeSTT"]
    scored = score(rstt_texts(run["records"], run["began"]), truth, run["began"], 0.0)
    puppy = next(r for r in scored["rows"] if r["text"].startswith("Holding the new puppy"))
    assert puppy["sentences"] == [5, 6]  # its span reaches into sentence 6
    assert puppy["sentence"] == 5
    assert all(r["latency_ms"] > 0 for r in scored["rows"])
