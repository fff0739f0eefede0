"""The local engine: worker processes (spawned, not forked: no torch or CTranslate2
state copied half-way), each loading the models once, then taking files from one queue.
A worker that dies takes only its file with it; Ctrl-C kills them all (the driver keeps
what was finished)."""

from __future__ import annotations

import multiprocessing
import queue
import signal
from typing import Any

from streamemo.batch.engine import Job, Report
from streamemo.batch.worker import Setup, reason
from streamemo.errors import StreamemoError


def _work(setup: Setup, wid: int, tasks: Any, results: Any) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the driver's to handle
    try:
        from streamemo.batch.worker import Worker

        worker = Worker(setup)
    except BaseException as exc:
        results.put(("fatal", wid, reason(exc)))
        return
    results.put(("ready", wid, worker.pid()))
    while (task := tasks.get()) is not None:
        index, path = task
        results.put(("started", wid, index))
        try:
            results.put(("done", wid, index, worker.analyse(path)))
        except Exception as exc:
            results.put(("failed", wid, index, reason(exc)))


class LocalEngine:
    def __init__(self, setup: Setup, workers: int):
        self.setup = setup
        self.workers = workers

    def __call__(self, jobs: list[Job], report: Report) -> None:
        ctx = multiprocessing.get_context("spawn")
        tasks, results = ctx.Queue(), ctx.Queue()
        by_index = {job.index: job for job in jobs}
        for job in jobs:
            tasks.put((job.index, str(job.path)))
        count = min(self.workers, len(jobs))
        for _ in range(count):
            tasks.put(None)
        procs = [
            ctx.Process(target=_work, args=(self.setup, wid, tasks, results), name=f"batch-{wid}")
            for wid in range(count)
        ]
        for p in procs:
            p.start()
        holding: dict[int, int] = {}  # worker -> the file it analyses
        left, fatal = set(by_index), []
        try:
            while left:
                try:
                    message = results.get(timeout=0.5)
                except queue.Empty:
                    self._reap(procs, holding, left, by_index, report)
                    if left and not any(p.is_alive() for p in procs):
                        if fatal:
                            message = f"the workers could not start: {fatal[0]}"
                            raise StreamemoError(message) from None
                        for index in sorted(left):
                            report.failed(by_index[index], "no worker left to analyse it")
                        left.clear()
                    continue
                kind, wid = message[0], message[1]
                if kind == "fatal":
                    fatal.append(message[2])
                elif kind == "started":
                    holding[wid] = message[2]
                    report.started(by_index[message[2]])
                elif kind in ("done", "failed"):
                    holding.pop(wid, None)
                    index = message[2]
                    left.discard(index)
                    job = by_index[index]
                    report.done(job, message[3]) if kind == "done" else report.failed(
                        job, message[3]
                    )
            for p in procs:
                p.join(timeout=10)
        finally:
            for p in procs:
                if p.is_alive():
                    p.kill()
            for p in procs:
                p.join()

    @staticmethod
    def _reap(procs, holding, left, by_index, report: Report) -> None:
        """A worker that died (killed, out of memory, a crash in native code) fails its
        file, once; the others go on."""
        for wid, p in enumerate(procs):
            if p.exitcode is not None and p.exitcode != 0 and wid in holding:
                index = holding.pop(wid)
                if index in left:
                    left.discard(index)
                    report.failed(by_index[index], f"its worker died (exit code {p.exitcode})")
