"""The microphone's capture process: PortAudio runs here, never in the pipeline's process.

Some PortAudio builds (Debian's libportaudio2 among them) can loop forever inside a call
when the sound server dies under an open stream, printing an error line per turn. In a
process of its own that bug costs a kill and a restart, not a hung pipeline and a
flooded terminal: the parent (``capture.py``) kills this process when audio stops.

Run as ``python -m streamemo.default_plugins.mic.capture_child SPEC``, SPEC being
``'{"device": ..., "rate": ..., "block": ...}'``.
It writes framed messages to stdout (see ``HEADER``) and stops when stdin closes.
"""

from __future__ import annotations

import json
import queue
import signal
import struct
import sys
import threading
import time
from typing import BinaryIO

# kind (1 byte), payload length, time.monotonic() of the event (the same clock in every
# process on one machine, so the parent can measure latency from the callback)
HEADER = struct.Struct("<cId")
AUDIO, OPENED, COUNTERS, ERROR = b"A", b"O", b"C", b"E"
_QUEUE_BLOCKS = 1000  # ~30 s of 30 ms blocks, should the parent stop reading


def write(out: BinaryIO, kind: bytes, payload: bytes, at: float | None = None) -> None:
    out.write(HEADER.pack(kind, len(payload), time.monotonic() if at is None else at))
    out.write(payload)
    out.flush()


def main(spec: dict) -> int:
    out = sys.stdout.buffer
    try:
        from streamemo.default_plugins.mic.portaudio import input_device, sounddevice

        sd = sounddevice()
        info = input_device(spec["device"])
        blocks: queue.Queue[tuple[float, bytes]] = queue.Queue(maxsize=_QUEUE_BLOCKS)
        counters = {"input_overflows": 0, "dropped": 0}

        def callback(indata, frames, time_info, status) -> None:
            arrived = time.monotonic()
            if status.input_overflow:
                counters["input_overflows"] += 1
            try:
                blocks.put_nowait((arrived, indata[:, 0].tobytes()))
            except queue.Full:  # the parent stopped reading: count, never block PortAudio
                counters["dropped"] += 1

        stream = sd.InputStream(
            device=spec["device"],
            samplerate=spec["rate"],
            channels=1,
            dtype="float32",
            blocksize=spec["block"],
            callback=callback,
        )
        stream.start()
    except Exception as exc:  # the parent shows this one line and retries
        write(out, ERROR, str(exc).encode())
        return 1
    write(out, OPENED, json.dumps({"name": info["name"], "rate": spec["rate"]}).encode())

    stopping = threading.Event()
    threading.Thread(target=lambda: (sys.stdin.buffer.read(), stopping.set()), daemon=True).start()
    sent = dict(counters)

    def send(arrived: float, samples: bytes) -> None:
        nonlocal sent
        write(out, AUDIO, samples, arrived)
        if counters != sent:
            sent = dict(counters)
            write(out, COUNTERS, json.dumps(sent).encode())

    while not stopping.is_set():
        try:
            send(*blocks.get(timeout=0.05))
        except queue.Empty:
            pass
    stream.stop()  # waits for the blocks PortAudio still holds; they are sent too
    while not blocks.empty():
        send(*blocks.get_nowait())
    stream.close()
    return 0


if __name__ == "__main__":
    # Ctrl-C in a terminal reaches the whole process group; the parent decides when to
    # stop (it closes stdin) so that the blocks this process holds are still sent.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        sys.exit(main(json.loads(sys.argv[1])))
    except BrokenPipeError:  # the parent is gone: nobody left to tell
        sys.exit(0)
