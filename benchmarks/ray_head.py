"""A Ray head on this machine for the Ray engine's benchmark and tests: its node at
127.0.0.1, no dashboard, no usage stats, stopped again with ``ray stop --force``."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def ray_cli() -> str:
    """The ``ray`` command of this environment (beside its python), else the PATH's."""
    found = Path(sys.executable).with_name("ray")
    return str(found) if found.exists() else shutil.which("ray") or "ray"


@contextmanager
def local_ray_head(temp: Path, cpus: int = 2, client_port: int = 0) -> Iterator[str]:
    """HOST:PORT of a fresh head with ``cpus`` CPUs (its files in ``temp``) while inside
    the ``with``; RuntimeError with Ray's output when it does not start. Its Ray Client
    server listens on ``client_port`` (0: a free one; Ray's 10001 may be taken)."""
    port = free_port()
    client_port = client_port or free_port()
    started = subprocess.run(
        [
            ray_cli(), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}",
            f"--ray-client-server-port={client_port}", f"--num-cpus={cpus}",
            "--include-dashboard=false", "--disable-usage-stats",
        ],
        capture_output=True, text=True, timeout=120, env={**os.environ, "RAY_TMPDIR": str(temp)},
    )  # fmt: skip
    try:
        if started.returncode != 0:
            raise RuntimeError(f"ray start failed: {started.stdout}{started.stderr}")
        yield f"127.0.0.1:{port}"
    finally:
        subprocess.run([ray_cli(), "stop", "--force"], capture_output=True, timeout=120)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
