"""``python -m benchmarks calibration``: the report on personal baselines runs end to end
(the real calibrate, the seed's model, the shared recordings) and says what it found."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import REPO, shared


def test_the_calibration_report_runs_and_reports_every_condition(tmp_path):
    shared("audio/en/utterances/index.json")
    shared("audio/ko_diary_16k.wav")
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks", "calibration", "--out", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    (found,) = tmp_path.glob("*-calibration.json")
    data = json.loads(found.read_text())
    english = data["results"]["en utterances"]
    assert set(english) == {"male", "female", "personal", "personal, frame std"}
    assert all(r["clips"] == 49 and r["scored"] == 35 for r in english.values())
    assert len(data["results"]["en_diary"]["personal"]["per_clip"]) == 10
    assert data["baselines"]["korean_exit"] == 2  # 4.2 s: too short to calibrate from
    assert "too little speech" in data["baselines"]["korean_refusal"]
    assert "| en utterances (49) | personal |" in result.stdout
    assert "speech 18.4 s in 27.4 s (7 utterances)" in result.stdout
