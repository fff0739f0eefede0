"""``streamemo batch PATH... --out DIR``: the command, its checks and the driver that
writes what the engine's workers give back (the same for both engines)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path, PurePosixPath
from typing import Any

from streamemo.batch.engine import Job
from streamemo.batch.files import Input, audio_seconds, content_hash, find_inputs
from streamemo.batch.ledger import Ledger, check_out, settings_id
from streamemo.batch.progress import Progress, clock
from streamemo.batch.worker import Setup
from streamemo.cli_options import add_config_options
from streamemo.errors import InputError

log = logging.getLogger("streamemo")
EXIT_FAILED = 1
EXIT_INTERRUPTED = 130


def add_parser(sub: argparse._SubParsersAction) -> None:
    batch = sub.add_parser(
        "batch",
        help="analyse every audio file under folders, globs or list files: a jsonl each",
        description="Analyse many audio files with the configured pipeline (a file source, "
        "no console): one jsonl of events per input in --out, resumable by content.",
        epilog="PATH: a folder (every audio file under it), a glob ('calls/**/*.flac', "
        "quoted), a list file (.txt: a path a line) or an audio file. A re-run skips the "
        "files whose content is already done (the ledger .streamemo-batch.json in --out) "
        "unless --force. --engine ray runs the workers as actors of a Ray cluster "
        "(--address HOST:PORT, or ray://HOST:PORT through Ray Client; none: a Ray of this "
        "machine).",
    )
    batch.add_argument("paths", nargs="+", metavar="PATH", help="folders, globs, list files")
    batch.add_argument("--out", required=True, metavar="DIR", help="folder for the jsonl files")
    batch.add_argument(
        "--workers", type=int, default=1, metavar="N", help="worker processes (default 1)"
    )
    add_config_options(batch, "a TOML config, as for streamemo run", "audio.baseline=female")
    batch.add_argument(
        "--sink",
        action="append",
        default=[],
        metavar="diary[:PATH]",
        help="also make each file an entry of the voice diary",
    )
    batch.add_argument("--force", action="store_true", help="analyse files already done again")
    batch.add_argument("--engine", choices=("local", "ray"), default="local")
    batch.add_argument(
        "--address",
        metavar="HOST:PORT",
        help="the Ray cluster (--engine ray): HOST:6379 on one of its nodes, ray://HOST:10001 "
        "(Ray Client) from elsewhere",
    )
    batch.add_argument(
        "--num-gpus", type=float, default=0, metavar="G", help="GPUs per Ray worker (default 0)"
    )


def output_names(inputs: list[Input], digests: list[str]) -> list[PurePosixPath]:
    """Each input's jsonl, from its relative path (``a/b.wav`` -> ``a/b.wav.jsonl``); two
    inputs that would share one get their content's hash in the name (stable across runs)."""
    first: dict[PurePosixPath, int] = {}
    names = []
    for i, item in enumerate(inputs):
        name = PurePosixPath(f"{item.rel}.jsonl")
        if first.setdefault(name, i) != i:
            name = PurePosixPath(f"{item.rel}.{digests[i][:12]}.jsonl")
        names.append(name)
    return names


def _check_args(args: argparse.Namespace) -> list[str]:
    if args.workers < 1:
        raise InputError("--workers must be 1 or more")
    if args.address and args.engine != "ray":
        raise InputError("--address is for --engine ray")
    for spec in args.sink:
        if spec != "diary" and not spec.startswith("diary:"):
            raise InputError(
                f"--sink {spec}: batch writes a jsonl per file in --out; only diary[:PATH] "
                "can be added"
            )
    return args.sink


class Driver:
    """Writes each finished file: its jsonl (a temporary name, renamed once whole), its
    diary entry, then its ledger entry, so a file is done only when all of it is."""

    def __init__(self, out: Path, ledger: Ledger, progress: Progress, settings: str, diary=None):
        self.out, self.ledger, self.progress, self.diary = out, ledger, progress, diary
        self.settings = settings
        self.names: dict[int, PurePosixPath] = {}
        self.digests: dict[int, str] = {}
        self.seconds: dict[int, float] = {}
        self.failures: list[tuple[Path, str]] = []
        self.analysed = self.utterances = 0
        self.audio_s = 0.0

    def started(self, job: Job) -> None:
        log.debug("batch: %s started", job.path)

    def done(self, job: Job, result: dict[str, Any]) -> None:
        target = self.out / self.names[job.index]
        target.parent.mkdir(parents=True, exist_ok=True)
        temp = target.with_name(f".{target.name}.part")
        try:
            temp.write_text("".join(line + "\n" for line in result["lines"]), encoding="utf-8")
            if self.diary is not None:
                self._diary_entry(result["lines"])
            os.replace(temp, target)
        except BaseException:  # Ctrl-C mid-write, a full disk: no half file stays behind
            temp.unlink(missing_ok=True)
            raise
        entry = {
            "input": str(job.path),
            "output": str(self.names[job.index]),
            "utterances": result["utterances"],
            "audio_s": round(self.seconds[job.index], 3),
            "settings": self.settings,
        }
        self.ledger.record(self.digests[job.index], entry)
        self.analysed += 1
        self.utterances += result["utterances"]
        self.audio_s += self.seconds[job.index]
        self.progress.file_ended(self.seconds[job.index], ok=True)

    def failed(self, job: Job, message: str) -> None:
        self.failures.append((job.path, message))
        print(f"streamemo: failed: {job.path}: {message}", file=sys.stderr, flush=True)
        self.progress.file_ended(self.seconds[job.index], ok=False)

    def _diary_entry(self, lines: list[str]) -> None:
        events = [json.loads(line) for line in lines]
        stream = events[0]["stream"] if events else "batch"
        entry = self.diary.begin_entry(stream, time.time())
        for event in events:
            if event["type"] == "utterance":
                self.diary.add_utterance(entry, event)
        self.diary.finish_entry(entry, time.time())


def batch_command(args: argparse.Namespace, pm) -> int:
    from streamemo import preflight
    from streamemo.config import load_config
    from streamemo.plugins import Registry

    diary_specs = _check_args(args)
    out = Path(args.out).expanduser()
    inputs = find_inputs(args.paths)
    check_out(out)
    config = load_config(args.config, args.overrides)
    config["source"] = {"name": "file"}
    registry = Registry.collect(pm)
    preflight.check_run(config, registry, sinks=diary_specs, source=False)
    if args.engine == "ray":
        from streamemo.batch.ray_engine import check_ray

        check_ray(args.address)
    ledger = Ledger(out)
    total = len(inputs)
    digests = [content_hash(item.path) for item in inputs]
    names = output_names(inputs, digests)
    jobs: list[Job] = []
    skipped = changed = 0
    settings = settings_id(config)
    seen: dict[str, Path] = {}
    meta: dict[int, tuple[PurePosixPath, str, float]] = {}
    for i, (item, digest, name) in enumerate(zip(inputs, digests, names, strict=True)):
        if digest in seen:  # the same content twice in one run: analysed once
            log.info("batch: %s has the same content as %s: skipped", item.path, seen[digest])
            skipped += 1
            continue
        seen[digest] = item.path
        if not args.force and (entry := ledger.done(digest, out)):
            if ledger.same_settings(entry, settings):
                log.debug("batch: %s done before (%s)", item.path, entry["output"])
                skipped += 1
                continue
            changed += 1
        jobs.append(Job(i, item.path))
        meta[i] = (name, digest, audio_seconds(item.path) or 0.0)
    if skipped:
        log.info("batch: %d of %d files done before: skipped (--force: again)", skipped, total)
    if changed:
        log.info("batch: %d files were done with another config: analysed again", changed)

    cores = os.cpu_count() or 1
    setup = Setup(
        config=args.config,
        overrides=tuple(args.overrides),
        plugins_dir=args.plugins_dir,
        # a core each: the local workers share this machine, a Ray actor reserves num_cpus=1
        threads=max(1, cores // args.workers) if args.engine == "local" else 1,
    )
    progress = Progress(len(jobs), sum(m[2] for m in meta.values()))
    diary = None
    if diary_specs:
        from streamemo.diary.store import Diary, default_path

        target = diary_specs[-1].partition(":")[2]
        diary = Diary(Path(target).expanduser() if target else default_path())
    driver = Driver(out, ledger, progress, settings, diary)
    for i, (name, digest, seconds) in meta.items():
        driver.names[i], driver.digests[i], driver.seconds[i] = name, digest, seconds
    if args.engine == "ray":
        from streamemo.batch.ray_engine import RayEngine

        engine = RayEngine(setup, args.workers, args.address, args.num_gpus)
    else:
        from streamemo.batch.local import LocalEngine

        engine = LocalEngine(setup, args.workers)
    started = time.monotonic()
    interrupted = False
    try:
        if jobs:
            engine(jobs, driver)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        progress.close()
        if diary is not None:
            diary.close()
    elapsed = time.monotonic() - started
    _summary(driver, len(inputs), skipped, elapsed)
    if interrupted:
        left = len(jobs) - driver.analysed - len(driver.failures)
        print(
            f"streamemo: interrupted: {driver.analysed} files done and kept, {left} not done "
            "(run the same command again to go on)",
            file=sys.stderr,
        )
        return EXIT_INTERRUPTED
    if driver.failures:
        print(f"streamemo: {len(driver.failures)} of {total} files failed:", file=sys.stderr)
        for path, message in driver.failures:
            print(f"  {path}: {message}", file=sys.stderr)
        return EXIT_FAILED
    return 0


def _summary(driver: Driver, total: int, skipped: int, elapsed: float) -> None:
    speed = driver.audio_s / elapsed if elapsed > 0 else 0.0
    print(
        f"batch: {total} files: {driver.analysed} analysed, {skipped} done before, "
        f"{len(driver.failures)} failed; {clock(driver.audio_s)} of audio, "
        f"{driver.utterances} utterances, in {clock(elapsed)} ({speed:.1f}x real time)"
    )
