"""The ``mic`` source: live capture with sounddevice (PortAudio).

PortAudio runs in a capture process of its own (``streamemo.default_plugins.mic.capture``), whose
blocks a reader thread copies into a bounded queue, counting what did not fit;
everything else (resampling, VAD, models) runs elsewhere. A capture that stops
delivering is killed and replaced, so a PortAudio that hangs cannot hang us.
The device is opened at its own default rate and resampled to 16 kHz with
soxr (HQ): many USB microphones only do 44.1/48 kHz, asking PortAudio/ALSA for
16 kHz leaves quality to whatever converter the host has, and soxr is the
resampler librosa uses, so live audio matches what file input gives.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

import numpy as np

from streamemo.api import SAMPLE_RATE, Block, ConfigError, InputError, Notice, Source, hookimpl
from streamemo.audio_io import to_int16
from streamemo.default_plugins.mic.capture import CaptureProcess
from streamemo.default_plugins.mic.portaudio import input_device, input_devices

_FLAG_EVERY_S = 1.0  # report overflows at most once a second


class MicSource(Source):
    live = True

    @staticmethod
    def devices() -> list[dict[str, object]]:
        """``streamemo devices``: every device PortAudio can capture from."""
        found = input_devices()
        if not found:
            raise InputError(
                "no capture devices found: is PulseAudio/PipeWire running? is a microphone in?"
            )
        return [
            {
                "index": d["index"],
                "name": d["name"],
                "channels": d["max_input_channels"],
                "default rate": f"{d['default_samplerate']:.0f} Hz",
                "default": d["default"],
            }
            for d in found
        ]

    def __init__(
        self,
        device: str | int | None = None,
        samplerate: int | str = "auto",
        block_ms: int = 30,
        buffer_s: float = 30.0,
        stall_s: float = 1.5,
        retry_max_s: float = 5.0,
    ):
        self.device = device if device not in ("", "default") else None
        info = input_device(self.device)  # fails now, with one line, if there is none
        if samplerate == "auto":
            samplerate = int(info["default_samplerate"])
        if not isinstance(samplerate, int) or samplerate < 8000:
            raise ConfigError(f"source.samplerate must be auto or a rate in Hz, not {samplerate!r}")
        self.rate = samplerate
        self.name = f"mic:{info['name']}"
        self.block_frames = max(1, self.rate * block_ms // 1000)
        self.stall_s = stall_s
        self.retry_max_s = retry_max_s
        # bounded: what is accepted is kept; a full buffer rejects and counts, never blocks
        self._buffer: queue.Queue[tuple[np.ndarray, float]] = queue.Queue(
            maxsize=max(1, int(buffer_s * 1000 / block_ms))
        )
        self.counters = {"overflows": 0, "input_overflows": 0, "reconnects": 0}
        self._last_callback = 0.0
        self._stop = threading.Event()
        self._capture: CaptureProcess | None = None
        self._stopped_at = 0.0
        self.stop_wait_s = 3.0
        self._child_counts: dict[str, int] = {}

    # -- the capture process's side (its reader thread) ------------------------------
    def _on_block(self, samples: np.ndarray, arrived: float) -> None:
        self._last_callback = arrived
        try:
            self._buffer.put_nowait((samples, arrived))
        except queue.Full:
            self.counters["overflows"] += 1

    def _on_counters(self, totals: dict[str, int]) -> None:
        """Totals of one capture process, added to what earlier ones counted."""
        for key, mine in (("input_overflows", "input_overflows"), ("dropped", "overflows")):
            self.counters[mine] += totals.get(key, 0) - self._child_counts.get(key, 0)
        self._child_counts = dict(totals)

    def _open(self) -> None:
        self._child_counts = {}
        self._capture = CaptureProcess(
            self.device, self.rate, self.block_frames, self._on_block, self._on_counters
        )
        self._last_callback = time.monotonic()

    def _close(self) -> None:
        if self._capture is not None:
            self._capture.kill()  # a lost device may have left PortAudio stuck: never wait on it
            self._capture = None

    # -- the pipeline's side ---------------------------------------------------
    def blocks(self) -> Iterator[Block | Notice]:
        import soxr

        resampler = soxr.ResampleStream(self.rate, SAMPLE_RATE, 1, "float32", "HQ")
        reported = self._overflows()  # before the first yield: the caller may be slow to resume
        next_report = 0.0
        self._open()
        yield Notice(
            "listening",
            f"{self.name} at {self.rate} Hz",
            stream_start=time.time() - self.block_frames / self.rate,
        )
        try:
            while True:
                # checked on every block, not only when none comes: a capture that keeps
                # delivering (one opened as stop() came, a monitor of a busy sink) is
                # asked again, and killed after stop_wait_s, so a stop always ends this
                if self._stop.is_set():
                    if self._capture is not None:
                        self._capture.stop()
                    if self._drained() and self._buffer.empty():  # flush the filter too
                        tail = resampler.resample_chunk(np.zeros(0, np.float32), last=True)
                        if len(tail):
                            yield Block(to_int16(tail), time.monotonic())
                        return
                try:
                    samples, arrived = self._buffer.get(timeout=0.1)
                except queue.Empty:
                    if not self._stop.is_set() and not self._stream_alive():
                        yield from self._reconnect(resampler)
                    continue
                out = resampler.resample_chunk(samples)
                if len(out):
                    yield Block(to_int16(out), arrived)
                now = time.monotonic()
                if self._overflows() != reported and now >= next_report:
                    lost = self.counters["overflows"] - reported[0]
                    reported, next_report = self._overflows(), now + _FLAG_EVERY_S
                    yield Notice(
                        "overflow",
                        f"{lost} blocks not captured: analysis fell behind"
                        if lost
                        else "PortAudio reported an input overflow (audio lost before capture)",
                    )
        finally:
            self._close()

    def _overflows(self) -> tuple[int, int]:
        return self.counters["overflows"], self.counters["input_overflows"]

    def _stream_alive(self) -> bool:
        stalled = time.monotonic() - self._last_callback > self.stall_s
        return self._capture is not None and self._capture.running and not stalled

    def _drained(self) -> bool:
        """After ``stop()``: the capture process sent its last block and ended (or, stuck,
        was given ``stop_wait_s`` and then killed)."""
        capture = self._capture
        if capture is None or not capture.running:
            return True
        if time.monotonic() - self._stopped_at > self.stop_wait_s:
            self._close()
            return True
        return False

    def _reconnect(self, resampler) -> Iterator[Block | Notice]:
        """The device stopped delivering: say so, retry with back-off, fill the gap with
        silence so that stream time keeps matching wall-clock time, and go on."""
        lost_at = self._last_callback
        yield Notice("device-lost", f"{self.name} stopped delivering audio; retrying")
        self._close()
        delay = 0.25
        while not self._stop.wait(delay):
            try:
                self._open()  # a new process: PortAudio scans the devices afresh
            except InputError as exc:
                delay = min(delay * 2, self.retry_max_s)
                yield Notice(
                    "device-lost", f"still no {self.name} ({exc}); next try in {delay:.1f} s"
                )
                continue
            self.counters["reconnects"] += 1
            gap = int((time.monotonic() - lost_at) * SAMPLE_RATE)
            resampler.clear()  # no half-filtered samples from before the gap
            yield Block(np.zeros(gap, np.int16), time.monotonic())
            yield Notice("listening", f"{self.name} is back after {gap / SAMPLE_RATE:.1f} s")
            return

    def stop(self) -> None:
        self._stopped_at = time.monotonic()
        self._stop.set()
        if self._capture is not None:
            self._capture.stop()  # the last blocks still arrive, then it exits


@hookimpl
def register_sources(register):
    register("mic", MicSource)
