"""How many real-time streams one `streamemo serve` sustains on this machine.

Starts `streamemo serve` with the offline English config, then for N = 1, 2, 3, ...
runs N clients at once, each streaming en_diary.wav (44 s, 10 utterances) to /audio at
real speed in 100 ms chunks, and reads its events back. Client i starts i * 4.4 / N s
after the first, so utterance ends are spread out as independent speakers' would be
(--together starts them all at once: everyone stops talking at the same moment), and it
plays the file rotated to begin with sentence i mod 10 (cut in the pause before it), so
at any moment the streams say different sentences, as independent speakers do:
--same-audio plays it unrotated to every client (then several streams say the same
sentence within a second, and Whisper, hearing one sentence repeated in its packed
window, takes it for a repetition loop and hears each alone again).

A round is sustained when every utterance of every stream comes back, the end-of-speech
latency (the events' latency_ms: last voiced audio received -> event sent) has a p95
under --max-p95 s, and it does not grow over the recording (the last third's median is
at most 1 s above the first third's): the server keeps up instead of building a backlog.

    python benchmarks/serve_streams.py --streams 1 2 3 4 5 6

--against KEY=VALUE starts a second server with those overrides as well (say
serve.batch_max=1: no batching across streams) and runs every N on both, one after the
other, so the two are compared on the same machine in the same minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from websockets.asyncio.client import connect

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STREAMEMO_SHARED", REPO.parent / "shared")).resolve()
CHUNK_S = 0.1


def start_server(audio_model: Path, overrides: list[str]) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "streamemo",
            "serve",
            "--config",
            str(REPO / "configs" / "offline-en.toml"),
            "-o",
            f"audio.model={audio_model}",
            "-o",
            "serve.max_streams=64",
            *(arg for item in overrides for arg in ("-o", item)),
            "--port",
            "0",
        ],
        cwd=REPO,
        stderr=subprocess.PIPE,
        text=True,
    )
    for line in proc.stderr:
        found = re.search(r"serving on http://([^/]+)/", line)
        if found:
            # keep draining stderr so the server never blocks on a full pipe; its
            # closing lines say how the shared models batched (printed at the end)
            proc.log = []
            proc.drainer = threading.Thread(target=_drain, args=(proc,), daemon=True)
            proc.drainer.start()
            return proc, found.group(1)
    raise SystemExit("streamemo serve did not start")


def _drain(proc) -> None:
    for line in proc.stderr:
        proc.log.append(line.rstrip())


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def client(base: str, name: str, audio: bytes, delay: float) -> list[dict]:
    await asyncio.sleep(delay)
    events: list[dict] = []
    step = int(16000 * CHUNK_S) * 2
    async with connect(f"ws://{base}/audio", max_size=None, close_timeout=120) as ws:
        hello = {"type": "hello", "name": name, "events": ["utterance", "status"]}
        await ws.send(json.dumps(hello))

        async def send() -> None:
            started = time.monotonic()
            for n, i in enumerate(range(0, len(audio), step)):
                await asyncio.sleep(max(0.0, started + n * CHUNK_S - time.monotonic()))
                await ws.send(audio[i : i + step])
            await ws.send(json.dumps({"type": "end"}))

        sender = asyncio.create_task(send())
        async for message in ws:  # until the server closes after the last event
            events.append(json.loads(message))
        await sender
    return events


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def rotated(samples, truth: list[dict], first: int) -> bytes:
    """The recording begun at sentence ``first``, cut in the pause before it, the rest
    after it: the same sentences and pauses, another order."""
    if first == 0:
        return samples.astype("<i2").tobytes()
    cut = int((truth[first - 1]["end"] + truth[first]["start"]) / 2 * 16000)
    return samples[cut:].astype("<i2").tobytes() + samples[:cut].astype("<i2").tobytes()


async def round_of(base: str, n: int, audios: list[bytes], together: bool) -> list[list[dict]]:
    delays = [0.0 if together else i * 4.4 / n for i in range(n)]
    return await asyncio.gather(
        *(client(base, f"bench{n}-{i}", audios[i % len(audios)], d) for i, d in enumerate(delays))
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 2, 3, 4, 5, 6])
    parser.add_argument("--audio-model", type=Path, default=SHARED / "models" / "todai-audio-v1")
    parser.add_argument("--audio", type=Path, default=SHARED / "audio" / "en" / "en_diary.wav")
    parser.add_argument("--together", action="store_true", help="start every client at once")
    parser.add_argument(
        "--same-audio",
        action="store_true",
        help="every client plays the file from its start (default: client i from sentence i)",
    )
    parser.add_argument("--max-p95", type=float, default=3.0, help="seconds (default 3)")
    parser.add_argument(
        "--against",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="also run every N on a second server with these overrides (the baseline)",
    )
    parser.add_argument(
        "-o",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="passed on to streamemo serve, e.g. -o transcriber.num_workers=2",
    )
    args = parser.parse_args()

    sys.path.insert(0, str(REPO))
    from streamemo.audio_io import read_all

    samples = read_all(args.audio)
    truth = json.loads(args.audio.with_suffix(".json").read_text())["utterances"]
    expected = len(truth)
    firsts = [0] if args.same_audio else range(expected)
    audio = [rotated(samples, truth, first) for first in firsts]
    servers = [("", *start_server(args.audio_model, args.overrides))]
    if args.against:
        servers.append(("  " + " ".join(args.against), *start_server(
            args.audio_model, args.overrides + args.against
        )))  # fmt: skip
    order = "from its start" if args.same_audio else "client i from sentence i"
    print(
        f"# {os.cpu_count()} CPUs, {len(samples) / 16000:.0f} s of {args.audio.name} per stream"
        f" ({order})"
    )
    if args.overrides:
        print(f"# -o {' -o '.join(args.overrides)}")
    print(
        "streams  utterances  latency p50  p95     first→last third  CPU (cores)  sustained"
        "  words shed/partials  guesses skipped"
    )
    try:
        for n in args.streams:
            for label, proc, base in servers:
                row = measure(proc, base, n, audio, expected, args)
                print(row + label, flush=True)
    finally:
        for _, proc, _ in servers:
            proc.send_signal(signal.SIGINT)
        for label, proc, _ in servers:
            proc.wait(60)
            proc.drainer.join(5)
            for line in proc.log:
                if "transcriber:" in line:  # serve's summary of the shared models' batches
                    print(f"# {label.strip() or 'server'}: {line}")


def measure(proc, base: str, n: int, audio: list[bytes], expected: int, args) -> str:
    """One round of ``n`` streams on one server, as a table row."""
    cpu0, wall0 = cpu_seconds(proc.pid), time.monotonic()
    results = asyncio.run(round_of(base, n, audio, args.together))
    cpu = (cpu_seconds(proc.pid) - cpu0) / (time.monotonic() - wall0)
    got = [[e for e in events if e["type"] == "utterance"] for events in results]
    complete = all(len(u) == expected for u in got)
    latencies = [e["latency_ms"] / 1000 for u in got for e in u]
    third = max(1, expected // 3)
    early = statistics.median(e["latency_ms"] / 1000 for u in got for e in u[:third])
    late = statistics.median(e["latency_ms"] / 1000 for u in got for e in u[-third:])
    p50, p95 = percentile(latencies, 50), percentile(latencies, 95)
    ok = complete and p95 <= args.max_p95 and late <= early + 1.0
    # the streams' own counters, from their last status: what a busy Whisper made them shed
    counted: dict[str, int] = {}
    for events in results:
        last = [e for e in events if e["type"] == "status" and e.get("counters")]
        for key, value in (last[-1]["counters"] if last else {}).items():
            if isinstance(value, int):
                counted[key] = counted.get(key, 0) + value
    shed = (
        f"{counted.get('live_words_skipped', 0)}/{counted.get('partials', 0)}"
        f"  {counted.get('speculations_skipped', 0)}"
    )
    return (
        f"{n:>7}  {sum(map(len, got)):>4}/{expected * n:<5}  {p50:9.2f} s  {p95:5.2f} s"
        f"  {early:5.2f} → {late:5.2f} s   {cpu:8.2f}     {'yes' if ok else 'NO ':<3}"
        f"  {shed:>13}"
    )


if __name__ == "__main__":
    main()
