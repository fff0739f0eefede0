"""``streamemo diary plot`` through the real command line: the picture's file, size and
what it shows (pixels of each emotion's colour), SVG text, long spans, bad input."""

import stat
import subprocess
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta

import numpy as np
import pytest
from PIL import Image

from streamemo.diary.charts import COLOURS
from tests.conftest import REPO, run_cli
from tests.diary_data import write_diary

DAY = datetime(2026, 3, 2, 20, 15)
SVG = "{http://www.w3.org/2000/svg}"


def _mostly_joy(path):
    """Five days, each 9 s of joy to 3 s of sadness: joy has three times the share."""
    said = [("joy", 3.0, "a lovely walk"), ("sadness", 3.0, "I missed her"),
            ("joy", 3.0, "we laughed"), ("joy", 3.0, "the sun came out")]  # fmt: skip
    return write_diary(path, {DAY + timedelta(days=d): said for d in range(5)})


def _pixels(png, label: str) -> int:
    """Pixels drawn in the label's colour (antialiased edges aside)."""
    rgb = np.asarray(Image.open(png).convert("RGB")).astype(int)
    want = np.array([int(COLOURS[label][i : i + 2], 16) for i in (1, 3, 5)])
    return int((np.abs(rgb - want).max(axis=2) <= 6).sum())


def test_a_png_shows_each_emotion_in_proportion_to_its_speaking_time(tmp_path):
    db = _mostly_joy(tmp_path / "diary.db")
    out = tmp_path / "mood.png"
    result = run_cli("diary", "plot", "--db", str(db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"wrote {out}: 5 days with entries, 2026-03-02 to 2026-03-06"
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert Image.open(out).size == (1200, 675)
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    joy, sadness = _pixels(out, "joy"), _pixels(out, "sadness")
    assert sadness > 5_000, sadness  # bars, not just the legend's swatch
    assert 2.5 < joy / sadness < 3.5, (joy, sadness)
    assert all(_pixels(out, label) == 0 for label in ("anger", "fear", "surprise", "disgust"))
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".plot-")]  # no leftovers


def test_a_diary_of_sadness_only_has_no_joy_colour(tmp_path):
    said = [("sadness", 4.0, "a grey day"), ("sadness", 2.0, "nothing went right")]
    db = write_diary(tmp_path / "diary.db", {DAY: said, DAY + timedelta(days=2): said})
    out = tmp_path / "sad.png"
    result = run_cli("diary", "plot", "--db", str(db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert _pixels(out, "sadness") > 10_000
    assert _pixels(out, "joy") == 0  # (neutral's grey is also in antialiased grey text)


def test_an_svg_is_xml_with_the_legend_and_the_date_range_as_text(tmp_path):
    db = _mostly_joy(tmp_path / "diary.db")
    out = tmp_path / "mood.svg"
    result = run_cli("diary", "plot", "--db", str(db), "--out", str(out), "--since", "2026-03-03")
    assert result.returncode == 0, result.stderr
    texts = [" ".join("".join(t.itertext()).split()) for t in ET.parse(out).iter(f"{SVG}text")]
    assert "How you felt, 3 Mar 2026 – 6 Mar 2026" in texts
    assert "joy 75%" in texts and "sadness 25%" in texts, texts
    assert not any(t.startswith("anger") for t in texts)
    assert "mood" in texts and "share of speaking time" in texts
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_three_years_are_drawn_by_month(tmp_path):
    start = datetime(2024, 1, 3, 21, 0)
    days = {start + timedelta(days=d): [("joy" if d % 2 else "fear", 5.0, "a day")]
            for d in range(0, 3 * 365, 9)}  # fmt: skip
    db = write_diary(tmp_path / "diary.db", days)
    out = tmp_path / "years.svg"
    result = run_cli("diary", "plot", "--db", str(db), "--out", str(out))
    assert result.returncode == 0, result.stderr
    assert "36 months with entries, 2024-01-01 to 2026-12-31" in result.stdout, result.stdout
    texts = {"".join(t.itertext()) for t in ET.parse(out).iter(f"{SVG}text")}
    assert any("one bar per month" in t for t in texts) and "mean of 3 months" in texts
    weeks = run_cli(
        "diary", "plot", "--db", str(db), "--out", str(out), "--until", "2024-06-30"
    )  # fmt: skip
    assert "20 weeks with entries, 2024-01-01 to 2024-06-23" in weeks.stdout, weeks.stdout


@pytest.mark.parametrize(
    ("out", "message"),
    [
        ("{tmp}/mood.jpg", "the file must end in .png or .svg"),
        ("{tmp}/no-such-folder/mood.png", "does not exist; create it first"),
        ("{tmp}", "is a folder: name the picture's file"),
    ],
)
def test_a_bad_out_is_one_line_and_exit_2_before_the_diary_opens(tmp_path, out, message):
    out = out.format(tmp=tmp_path)
    result = run_cli("diary", "plot", "--db", str(tmp_path / "none.db"), "--out", out)
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line.startswith("streamemo: error: --out ") and message in line, line
    assert list(tmp_path.iterdir()) == []  # no picture, and no diary created


def test_nothing_to_plot_is_one_line_and_leaves_the_old_picture(tmp_path):
    db = _mostly_joy(tmp_path / "diary.db")
    out = tmp_path / "mood.png"
    out.write_bytes(b"yesterday's picture")
    result = run_cli("diary", "plot", "--db", str(db), "--out", str(out), "--since", "2027-01-01")
    assert result.returncode == 2
    (line,) = result.stderr.splitlines()
    assert line == (
        f"streamemo: error: nothing to plot: no diary entries since 2027-01-01 in {str(db)!r}"
    )
    assert out.read_bytes() == b"yesterday's picture"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".plot-")]


def test_other_diary_commands_do_not_import_matplotlib(tmp_path):
    db = _mostly_joy(tmp_path / "diary.db")
    code = (
        "import sys; from streamemo.cli import main; "
        f"main(['diary', 'list', '--db', {str(db)!r}]); "
        "print('matplotlib' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "False"
