"""sounddevice (PortAudio), imported lazily, with its failures as one-line errors."""

from __future__ import annotations

from typing import Any

from streamemo.api import InputError, StreamemoError


class PortAudioMissing(StreamemoError):
    """The PortAudio C library is not installed."""


def sounddevice() -> Any:
    try:
        import sounddevice as sd
    except OSError as exc:  # raised at import when libportaudio cannot be found or loaded
        detail = "" if str(exc) == "PortAudio library not found" else f" ({exc})"
        raise PortAudioMissing(
            f"PortAudio library not found{detail}: install it, e.g. apt-get install libportaudio2"
        ) from None
    return sd


def input_device(device: str | int | None) -> dict[str, Any]:
    """The input device ``device`` names (index, or a name matched as sounddevice does)."""
    sd = sounddevice()
    if isinstance(device, str) and device.strip().isdigit():
        device = int(device)
    try:
        info = sd.query_devices(device, "input")
    except ValueError as exc:  # "No input device matching 'x'" and friends
        raise InputError(f"{exc}: list the devices with `streamemo devices`") from None
    except sd.PortAudioError as exc:  # "Error querying device -1": there is no device at all
        raise InputError(
            f"no audio capture device found ({exc}): connect a microphone, or check that "
            "PulseAudio/PipeWire is running; `streamemo devices` lists what PortAudio sees"
        ) from None
    return dict(info)


def input_devices() -> list[dict[str, Any]]:
    """Every device that can capture, each with ``default`` set for the default input."""
    sd = sounddevice()
    try:
        default = sd.default.device[0]
        if default is None or default < 0:
            default = sd.query_devices(kind="input")["index"]
    except sd.PortAudioError:
        default = None
    return [
        {**dict(d), "default": d["index"] == default}
        for d in sd.query_devices()
        if d["max_input_channels"] > 0
    ]
