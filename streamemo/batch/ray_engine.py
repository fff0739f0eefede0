"""The Ray engine: the same files on a Ray cluster. One actor per worker holds the
models (``num_cpus=1`` each, ``num_gpus`` when asked); the driver sends each file's
bytes (the nodes need not share a disk) and writes the results itself, exactly as the
local engine's driver does. An actor that dies (its node lost, its process killed) is
replaced and its file given to the new one, up to ``RETRIES`` times.

The driver joins the cluster as a node does (``HOST:6379``, the head's GCS, from a node
of the cluster) or through Ray Client (``ray://HOST:10001``, from anywhere else)."""

from __future__ import annotations

import logging
import os
import socket
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from streamemo.batch.engine import Job, Report
from streamemo.batch.worker import Setup
from streamemo.errors import InputError, StreamemoError, one_line

log = logging.getLogger("streamemo")
RETRIES = 3  # deaths of a file's actor before the file counts as failed
CONNECT_TIMEOUT_S = 5.0
IN_FLIGHT = 2  # files queued on each actor at once


def check_ray(address: str | None) -> None:
    """Ray is installed and the address answers (one line, before any model loads)."""
    try:
        import ray  # noqa: F401
    except ImportError:
        raise InputError(
            "--engine ray needs Ray: pip install 'streamemo[ray]' (or 'ray[default]>=2.9')"
        ) from None
    if not address or address == "auto":
        return
    hostport = address.removeprefix("ray://")
    host, _, port = hostport.rpartition(":")
    if not host or not port.isdigit():
        raise InputError(
            f"--address {address!r}: give HOST:PORT (the head's GCS, e.g. 10.0.0.5:6379) "
            "or ray://HOST:PORT (Ray Client, e.g. ray://10.0.0.5:10001)"
        )
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise InputError(
            f"--address {address!r}: no Ray cluster answers there ({exc.strerror or exc}): "
            "start one with `ray start --head` or check the address"
        ) from None


class RayEngine:
    def __init__(self, setup: Setup, workers: int, address: str | None, num_gpus: float = 0):
        self.setup = setup
        self.workers = workers
        self.address = address
        self.num_gpus = num_gpus

    def __call__(self, jobs: list[Job], report: Report) -> None:
        import ray

        from streamemo.batch.worker import Worker

        _connect(ray, self.address)
        actor_class = ray.remote(num_cpus=1, num_gpus=self.num_gpus, max_restarts=0)(Worker)
        actors: list[Any] = []
        try:
            self._run(ray, actor_class, actors, jobs, report)
        finally:
            for actor in actors:
                ray.kill(actor)
            ray.shutdown()

    def _run(self, ray, actor_class, actors: list, jobs: list[Job], report: Report) -> None:
        from ray.exceptions import ActorDiedError, RayActorError, RayTaskError

        waiting = list(reversed(jobs))  # pop() takes the first
        running: dict[Any, tuple[Any, Job]] = {}

        def start(n: int) -> list[Any]:
            """``n`` new actors, loading their models side by side."""
            new = [actor_class.remote(self.setup) for _ in range(n)]
            try:
                pids = ray.get([actor.pid.remote() for actor in new])
            except (RayActorError, ActorDiedError, RayTaskError) as exc:
                raise StreamemoError(f"a Ray worker could not start: {_cause(exc)}") from None
            for actor, pid in zip(new, pids, strict=True):
                actors.append(actor)
                log.info("ray worker %d ready: pid %d", len(actors), pid)
            return new

        def fill(actor: Any) -> None:
            """Up to ``IN_FLIGHT`` files queued on the actor: the next one is there when it
            finishes this one, not a round trip to the driver later."""
            mine = sum(1 for owner, _ in running.values() if owner is actor)
            for _ in range(IN_FLIGHT - mine):
                if not waiting:
                    return
                job = waiting.pop()
                job.attempts += 1
                data = ray.put(job.path.read_bytes())
                running[actor.analyse_bytes.remote(job.path.name, data)] = (actor, job)
                report.started(job)

        for actor in start(min(self.workers, len(jobs))):
            fill(actor)
        while running:
            ready, _ = ray.wait(list(running), num_returns=1, timeout=0.5)
            for ref in ready:
                actor, job = running.pop(ref)
                try:
                    result = ray.get(ref)
                except (RayActorError, ActorDiedError) as exc:
                    if job.attempts >= RETRIES:
                        report.failed(job, f"its Ray worker died {job.attempts} times")
                    else:
                        log.info("ray: a worker died (%s): %s again", _cause(exc), job.path.name)
                        waiting.append(job)
                    if actor not in actors:
                        continue  # its other file: the replacement is already at work
                    actors.remove(actor)
                    (actor,) = start(1)
                except RayTaskError as exc:
                    report.failed(job, _cause(exc))
                else:
                    report.done(job, result)
                fill(actor)


def _connect(ray: Any, address: str | None) -> None:
    """``ray.init``, with a failed connection as one line. Ray's C++ client logs a line a
    second while it retries (20-30 s), so its stderr is held until it is through."""
    if address:
        log.info("ray: connecting to %s", address)
    with _held_stderr():
        try:
            ray.init(
                address=address,
                logging_level=logging.WARNING,
                log_to_driver=False,
                configure_logging=False,
                **({} if address else {"include_dashboard": False}),
            )
        except Exception as exc:  # ConnectionError, RuntimeError, ValueError: Ray's choice
            if address and address.startswith("ray://"):
                hint = (
                    "no Ray Client server answers there: give the head's client port "
                    "(10001 unless `ray start --ray-client-server-port` set another)"
                )
            else:
                hint = (
                    "could not join that Ray cluster: give the head's GCS port (6379 unless "
                    "`ray start --port` set another) on a node of the cluster, or "
                    "ray://HEAD:10001 from outside it"
                )
            raise InputError(f"--address {address!r}: {hint} ({one_line(exc)})") from None


@contextmanager
def _held_stderr() -> Iterator[None]:
    """File descriptor 2 into a temporary file (Ray's native code writes there, past
    ``sys.stderr``), written out when the block ends well, dropped when it raises."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as spool:
        os.dup2(spool.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
        spool.seek(0)
        sys.stderr.write(spool.read().decode(errors="replace"))
        sys.stderr.flush()


def _cause(exc: BaseException) -> str:
    cause = getattr(exc, "cause", None)
    from streamemo.batch.worker import reason

    return reason(cause) if isinstance(cause, BaseException) else one_line(exc).split("\n")[0]
