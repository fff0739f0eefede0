"""The diary benchmark (python -m benchmarks diary) runs end to end on 30 generated days, so
it cannot rot: every command ran in-process and as the CLI, the writes were timed, and the
table names each goal. Nothing about speed is asserted here."""

import json
import subprocess
import sys

from benchmarks.diary_report import END, START, update_readme
from tests.conftest import REPO


def test_the_quick_run_reports_every_command_both_ways_and_the_writes(tmp_path):
    got = subprocess.run(
        [sys.executable, "-m", "benchmarks", "diary", "--quick", "--out", str(tmp_path)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert got.returncode == 0, got.stderr[-3000:]
    (file,) = tmp_path.glob("*-diary-quick.json")
    r = json.loads(file.read_text())
    assert r["load"]["entries"] == 30 and r["load"]["utterances"] > 2000
    assert set(r["commands"]) >= {"list", "summary --month", "search today (common)",
                                  "search zeppelin (rare)", "plot --out x.png"}  # fmt: skip
    for name, timing in r["commands"].items():
        assert timing["in_process"]["median"] > 0 and timing["cli"]["median"] > 0, name
    assert r["startup"]["median"] > 0
    assert r["write"]["n"] == 50 and 0 < r["write"]["ms"]["p50"] <= r["write"]["ms"]["p99"]
    assert "| `diary summary --month` |" in got.stdout and "p95 < 5 ms" in got.stdout


def test_the_readme_part_is_replaced_between_its_markers_only(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"before\n{START}\nold table\n{END}\nafter\n")
    update_readme(readme, "new table")
    assert readme.read_text() == f"before\n{START}\nnew table\n{END}\nafter\n"
