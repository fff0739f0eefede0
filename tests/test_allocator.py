"""streamemo.allocator: big freed blocks stay in the heap, so using one again faults no
pages in. Each case runs in a fresh interpreter (malloc's settings are process-wide),
which takes and frees a 64 MB block five times, as Whisper's encoder does its attention
buffers, and counts the page faults of the last four."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux") or not os.confstr("CS_GNU_LIBC_VERSION"),
    reason="the tuning is glibc's (Linux); elsewhere keep_big_buffers() is a no-op",
)

CHILD = """
import ctypes, json, resource, sys
tuned = None
if sys.argv[1] == "direct":
    from streamemo.allocator import keep_big_buffers
    tuned = keep_big_buffers()
elif sys.argv[1] == "pipeline":  # the tuning as every run gets it: building the analysers
    from streamemo import allocator
    from streamemo.config import load_config
    from streamemo.loading import Analysers
    from streamemo.plugins import Registry, get_plugin_manager
    off = ["transcriber.enabled=false", "audio.enabled=false"]  # no models: only the call
    Analysers.build(load_config(None, off), Registry.collect(get_plugin_manager()))
    tuned = allocator._done  # set by the build's own call; None if it never made one
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
size = 64 << 20
faults = []
for _ in range(5):
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    block = libc.malloc(size)
    ctypes.memset(block, 1, size)  # touch every page, as a tensor's writes do
    libc.free(block)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
print(json.dumps({"tuned": tuned, "faults": sum(faults[1:])}))
"""


def run_child(how: str, **env: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", CHILD, how],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture(scope="module")
def untuned_faults() -> int:
    """glibc's defaults: each 64 MB block is mapped anew, 16384 pages of 4 KB each time."""
    faults = run_child("none")["faults"]
    if faults < 4 * 4096:
        pytest.skip(f"this kernel faults big blocks in few pages ({faults}): nothing to compare")
    return faults


def test_a_freed_big_block_is_used_again_without_page_faults(untuned_faults):
    result = run_child("direct")
    assert result["tuned"] is True
    assert result["faults"] < untuned_faults / 20, (result, untuned_faults)


def test_building_the_analysers_tunes_the_process(untuned_faults):
    result = run_child("pipeline")
    assert result["tuned"] is True
    assert result["faults"] < untuned_faults / 20, (result, untuned_faults)


@pytest.mark.parametrize(
    "env",
    [{"STREAMEMO_MALLOC": "system"}, {"MALLOC_TRIM_THRESHOLD_": "131072"}],
    ids=["opted-out", "users-own-setting"],
)
def test_left_alone_when_asked(untuned_faults, env):
    result = run_child("direct", **env)
    assert result["tuned"] is False
    assert result["faults"] > untuned_faults / 2, (result, untuned_faults)
