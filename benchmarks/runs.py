"""``streamemo run`` with the offline config, as a user runs it, observed by the probe plugin."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchmarks.common import (
    CONFIG,
    PROBE_DIR,
    Child,
    ChildResult,
    Settings,
    bench_env,
    python,
    shared_path,
)

_LOADED = re.compile(r"loaded (\w+) '([^']*)' in ([0-9.]+) s")


def overrides(settings: Settings) -> list[str]:
    """The ``-o`` options of every run: the voice weights, Whisper's thread count, and
    the command line's own ``-o``."""
    return [
        f"audio.model={shared_path('models/todai-audio-v1')}",
        f"transcriber.cpu_threads={settings.threads}",
        *settings.options,
    ]


def config_value(settings: Settings, stage: str, key: str) -> Any:
    from streamemo.config import load_config

    return load_config(str(CONFIG), overrides(settings))[stage][key]


def command(
    settings: Settings, jsonl: Path, wav: Path | None = None, realtime: bool = False
) -> list[str]:
    cmd = [python(), "-m", "streamemo", "--plugins-dir", str(PROBE_DIR), "run"]
    cmd += ["--config", str(CONFIG)]
    for item in overrides(settings):
        cmd += ["-o", item]
    if wav is not None:
        cmd += ["--input", str(wav)]
    if realtime:
        cmd.append("--realtime")
    return [*cmd, "--sink", f"jsonl:{jsonl}"]


@dataclass
class ProbeRun:
    """One streamemo process: the outside view (child) and the probe's records."""

    child: ChildResult
    records: list[dict[str, Any]]
    loads: dict[str, float] = field(default_factory=dict)  # stage -> seconds, from stderr

    def _first(self, kind: str) -> dict[str, Any] | None:
        return next((r for r in self.records if r["kind"] == kind), None)

    @property
    def startup(self) -> float:
        record = self._first("startup")
        if record is None:
            raise RuntimeError(f"{self.child.name}: the probe saw no start-up")
        return record["mono"]

    @property
    def shutdown(self) -> float:
        record = self._first("shutdown")
        if record is None:
            raise RuntimeError(f"{self.child.name}: the probe saw no shutdown")
        return record["mono"]

    @property
    def load_s(self) -> float:
        """Spawn -> audio starts to flow: interpreter, imports and every model."""
        return self.startup - self.child.started

    @property
    def process_s(self) -> float:
        """Audio starts to flow -> the last event reached every sink."""
        return self.shutdown - self.startup

    @property
    def total_s(self) -> float:
        return self.child.wall_s

    @property
    def stream_zero(self) -> float | None:
        zeros = [r["value"] for r in self.records if r["kind"] == "stream_zero"]
        return min(zeros) if zeros else None

    @property
    def lateness_ms(self) -> dict[str, float]:
        """How late blocks arrived against stream_zero + their stream time (p50, p95, max)."""
        record = self._first("source_end")
        return (record or {}).get("lateness") or {}

    @property
    def encoder(self) -> dict[str, Any]:
        return self._first("encoder") or {"calls": 0, "seconds": 0.0}

    def events(self, kind: str) -> list[dict[str, Any]]:
        """Records of events of one type; each has ``event``, ``mono`` and ``unix``."""
        return [r for r in self.records if r["kind"] == "event" and r["event"]["type"] == kind]

    def status(self, state: str) -> dict[str, Any] | None:
        return next((r for r in self.events("status") if r["event"]["state"] == state), None)


def start(
    settings: Settings,
    name: str,
    wav: Path | None = None,
    realtime: bool = False,
    rss_every_s: float | None = None,
    env: dict[str, str] | None = None,
) -> tuple[Child, Path]:
    logs = settings.work / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    probe = logs / f"{name}.probe.jsonl"
    jsonl = logs / f"{name}.events.jsonl"
    for stale in (probe, jsonl):
        stale.unlink(missing_ok=True)
    child = Child(
        name,
        command(settings, jsonl, wav, realtime),
        logs,
        env=bench_env({**(env or {}), "STREAMEMO_BENCH_PROBE": str(probe)}),
        rss_every_s=rss_every_s,
    )
    return child, probe


def read_probe(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def finish(child: Child, probe: Path, timeout: float | None = None) -> ProbeRun:
    result = child.wait(timeout).check()
    loads = {m[1]: float(m[3]) for m in _LOADED.finditer(result.stderr)}
    return ProbeRun(result, read_probe(probe), loads)


def run(
    settings: Settings,
    name: str,
    wav: Path,
    realtime: bool = False,
    rss_every_s: float | None = None,
    timeout: float | None = None,
) -> ProbeRun:
    child, probe = start(settings, name, wav, realtime, rss_every_s)
    return finish(child, probe, timeout)
