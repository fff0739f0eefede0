"""The ``/audio`` wire format: what a connection sends, decoded into 16 kHz samples.

The wire format, per connection:

1. optionally, first, one text message with JSON
   ``{"type": "hello", "sample_rate": 48000, "name": "kitchen", "events": ["utterance"]}``
   (every key optional: rate 16000, name ``ws-N``, all event types back), and
   ``"baseline": "female"``: the voice baseline of this stream (``male``, ``female``,
   ``personal`` or a name stored by ``streamemo calibrate --name``; see baselines.py), and
   ``"live_words": false``: this stream's partials carry no words (true, the default,
   follows the server's ``[pipeline] live_words``: a stream cannot turn on what the
   server turned off);
2. binary messages of mono 16-bit little-endian PCM (``s16le``), any length (an even
   number of bytes), at 16 kHz or the declared rate (resampled here with soxr);
3. optionally a text message ``{"type": "end"}``: no more audio, but keep the
   connection open to receive the last events; the server closes it (1000) after them.
"""

from __future__ import annotations

import json
import re

import numpy as np

from streamemo.frames import SAMPLE_RATE
from streamemo.serving.broadcast import INVALID, SubscriptionError, parse_types

UNSUPPORTED = 1003  # a kind of message this endpoint does not take
MIN_RATE, MAX_RATE = 8_000, 192_000
_STREAM_KEYS = {"type", "sample_rate", "name", "events", "format", "channels"}
HELLO_KEYS = _STREAM_KEYS | {"baseline", "live_words"}
_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
_BASELINE = re.compile(r"[A-Za-z0-9_-]{1,64}")  # no dots, no separators: never a path


class WireError(Exception):
    """A message that breaks the wire format: the connection closes with ``code``."""

    def __init__(self, code: int, reason: str):
        super().__init__(reason)
        self.code = code
        self.reason = reason


class PcmDecoder:
    """Turns one connection's messages into 16 kHz int16 samples."""

    def __init__(self) -> None:
        self.sample_rate = SAMPLE_RATE
        self.name: str | None = None
        self.types: frozenset[str] | None = None
        self.baseline: str | None = None  # the hello's: which one is checked by serve
        self.live_words: bool | None = None  # the hello's; None: as the server's config
        self.started = False  # a hello or audio has arrived
        self.ended = False
        self._resampler = None

    def feed(self, message: str | bytes) -> np.ndarray | None:
        """Samples to hand on, or None for a control message."""
        if self.ended:
            return None  # after "end" nothing more is read
        if isinstance(message, str):
            self._control(message)
            return None
        if len(message) % 2:
            raise WireError(
                INVALID,
                f"audio message of {len(message)} bytes: 16-bit PCM needs an even byte count",
            )
        self.started = True
        samples = np.frombuffer(message, dtype="<i2").astype(np.int16, copy=False)
        if self._resampler is not None:
            samples = self._resampler.resample_chunk(samples)
        return samples

    def flush(self) -> np.ndarray:
        """The resampler's last samples, at the end of the stream."""
        if self._resampler is None:
            return np.zeros(0, np.int16)
        resampler, self._resampler = self._resampler, None
        return resampler.resample_chunk(np.zeros(0, np.int16), last=True)

    def _control(self, text: str) -> None:
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        except RecursionError:  # nested deeper than Python's stack: never a hello
            raise WireError(INVALID, "JSON nested too deeply: a hello is one flat object") from None
        if not isinstance(data, dict) or data.get("type") not in ("hello", "end"):
            raise WireError(
                UNSUPPORTED,
                'text messages are {"type": "hello", ...} first or {"type": "end"}; '
                "audio goes in binary messages",
            )
        if data["type"] == "end":
            self.ended = True
            return
        if self.started:
            raise WireError(UNSUPPORTED, "the hello must be the first message")
        self._hello(data)
        self.started = True

    def _hello(self, data: dict) -> None:
        unknown = sorted(set(data) - HELLO_KEYS)
        if unknown:
            raise WireError(
                INVALID,
                f"unknown hello key(s) {', '.join(unknown)}; "
                "valid: sample_rate, name, events, baseline, live_words",
            )
        rate = data.get("sample_rate", SAMPLE_RATE)
        if not isinstance(rate, int) or isinstance(rate, bool) or not MIN_RATE <= rate <= MAX_RATE:
            raise WireError(INVALID, f"sample_rate must be a whole number {MIN_RATE}-{MAX_RATE} Hz")
        if data.get("format", "s16le") != "s16le" or data.get("channels", 1) != 1:
            raise WireError(INVALID, 'only mono 16-bit little-endian PCM: "format": "s16le"')
        name = data.get("name")
        if name is not None and (not isinstance(name, str) or not _NAME.fullmatch(name)):
            raise WireError(INVALID, "name: 1-64 letters, digits, '_', '.' or '-'")
        if "events" in data:
            try:
                self.types = parse_types(data["events"])
            except SubscriptionError as exc:
                raise WireError(INVALID, str(exc)) from None
        baseline = data.get("baseline")
        if baseline is not None and not (
            isinstance(baseline, str) and _BASELINE.fullmatch(baseline)
        ):
            raise WireError(
                INVALID, "baseline: male, female, personal or a stored baseline's name (no path)"
            )
        live_words = data.get("live_words")
        if live_words is not None and not isinstance(live_words, bool):
            raise WireError(INVALID, "live_words: true or false")
        self.name = name
        self.baseline = baseline
        self.live_words = live_words
        self.sample_rate = rate
        if rate != SAMPLE_RATE:
            import soxr

            # the same resampler and quality as the file source (streamemo.audio_io)
            self._resampler = soxr.ResampleStream(rate, SAMPLE_RATE, 1, dtype="int16", quality="HQ")
