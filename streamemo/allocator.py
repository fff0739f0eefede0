"""glibc's malloc told to keep big buffers in the heap instead of mapping each anew.

Whisper's encoder asks for a 54 MB attention buffer per layer and 30 s window (tiny.en:
six heads of 1500 x 1500 floats), then frees it. glibc serves a block that big with mmap
and returns it with munmap, so each window faults all its pages in again: 1.5 million
page faults for 20 short files, a quarter of the run spent in the kernel on 2 cores.
Served from the heap, and kept there up to ``TRIM`` bytes, they are faulted in once.
The cost is the heap's high-water mark staying mapped (some 60 MB more resident).

``STREAMEMO_MALLOC=system`` leaves glibc's defaults alone; so does a process that set
``MALLOC_MMAP_MAX_`` or ``MALLOC_TRIM_THRESHOLD_`` itself.
"""

from __future__ import annotations

import ctypes
import os
import sys

# mallopt's parameters (glibc's malloc.h)
M_TRIM_THRESHOLD = -1
M_MMAP_MAX = -4

TRIM = 256 << 20  # free memory at the heap's top beyond this goes back to the system
OPT_OUT = "STREAMEMO_MALLOC"
USERS_OWN = ("MALLOC_MMAP_MAX_", "MALLOC_TRIM_THRESHOLD_")

_done: bool | None = None


def keep_big_buffers() -> bool:
    """Tune this process's malloc, once; whether it is tuned (False: not glibc, or
    left alone on purpose). Safe to call from any thread, any number of times."""
    global _done
    if _done is None:
        _done = _tune()
    return _done


def _tune() -> bool:
    if os.environ.get(OPT_OUT) == "system" or any(k in os.environ for k in USERS_OWN):
        return False
    if not sys.platform.startswith("linux") or not _is_glibc():
        return False  # musl and macOS have no such knobs (or none worth turning)
    libc = ctypes.CDLL(None)
    # mallopt returns 1 on success; M_MMAP_MAX 0 also stops the threshold adapting
    return bool(libc.mallopt(M_MMAP_MAX, 0)) and bool(libc.mallopt(M_TRIM_THRESHOLD, TRIM))


def _is_glibc() -> bool:
    try:
        return (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")
    except (ValueError, OSError):  # no such name on this system
        return False
