"""RealtimeSTT's side of benchmarks/realtimestt_compare.py, run by RealtimeSTT's own Python.

    /work/rstt-venv/bin/python benchmarks/realtimestt_child.py --model DIR

It imports nothing from streamemo (its venv has no streamemo): an ``AudioToTextRecorder``
records the default input device (the virtual microphone, by the PulseAudio client
environment it is given), and each final text is printed to stdout as one JSON line with
the wall time it arrived:

    {"kind": "ready", "unix": ...}                 the recorder is listening
    {"kind": "recording_start" | "recording_stop", "unix": ...}
    {"kind": "text", "unix": ..., "text": "..."}   recorder.text() returned
    {"kind": "settings", ...}                      what was passed (once, before "ready")

SIGINT (or SIGTERM) ends it: the recorder is shut down and the process exits 0.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
from typing import Any

_lock = threading.Lock()


def emit(kind: str, **fields: Any) -> None:
    line = json.dumps({"kind": kind, "unix": time.time(), **fields})
    with _lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", required=True, help="the CTranslate2 Whisper folder (tiny.en)")
    p.add_argument("--compute-type", default="int8", help="as streamemo on a CPU (int8)")
    p.add_argument("--language", default="en")
    args = p.parse_args(argv)

    from RealtimeSTT import AudioToTextRecorder

    # only what this machine needs and what makes both sides run the same model; every
    # other option (post_speech_silence_duration 0.6 s, Silero 'auto', beam_size 5, ...)
    # stays at RealtimeSTT's default
    settings = {
        "model": args.model,
        "device": "cpu",  # its default is cuda
        "compute_type": args.compute_type,
        "language": args.language,
        "spinner": False,  # a terminal spinner on stdout would garble the JSON lines
        "no_log_file": True,  # no realtimesst.log in the working tree
    }
    emit("settings", **settings)
    recorder = AudioToTextRecorder(
        **settings,
        on_recording_start=lambda: emit("recording_start"),
        on_recording_stop=lambda: emit("recording_stop"),
    )
    stop = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        stop.set()
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    emit(
        "ready",
        post_speech_silence_duration=recorder.post_speech_silence_duration,
        silero_backend=getattr(recorder.silero_vad_model, "backend", None),
        silero_model=getattr(recorder.silero_vad_model, "model_path", None),
    )
    try:
        while not stop.is_set():
            text = recorder.text()
            if text:
                emit("text", text=text)
    except KeyboardInterrupt:
        pass
    finally:
        recorder.shutdown()
        emit("stopped")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
