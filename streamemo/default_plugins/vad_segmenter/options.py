"""The segmenters' options that their signatures cannot say: ranges and webrtcvad's choices
(Silero's are checked in ``silero.py``)."""

from __future__ import annotations

import math

from streamemo.api import ConfigError


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _check_db(option: str, value: object, *, above_zero: bool) -> None:
    if not _is_number(value) or not (value > 0 if above_zero else value >= 0):
        least = "above 0" if above_zero else "0 or more"
        raise ConfigError(f"segmenter.{option} must be a number of dB, {least}, not {value!r}")


def _check_ms(option: str, value: object) -> None:
    if not _is_number(value) or value <= 0:  # type: ignore[operator]
        raise ConfigError(f"segmenter.{option} must be a number of ms above 0, not {value!r}")


def check_webrtcvad(*, aggressiveness: object, frame_ms: object) -> None:
    """One ``ConfigError`` line for a webrtcvad option out of its range."""
    if frame_ms not in (10, 20, 30):
        raise ConfigError(f"segmenter.frame_ms must be 10, 20 or 30 (webrtcvad), not {frame_ms}")
    if aggressiveness not in (0, 1, 2, 3):
        raise ConfigError(f"segmenter.aggressiveness must be 0-3, not {aggressiveness}")


def check(
    *,
    min_utterance_ms: float,
    max_utterance_s: float,
    end_drop_db: object,
    end_snr_db: object,
    cut_search_s: object,
    cut_context_s: object,
    **_other: object,
) -> None:
    """One ``ConfigError`` line for the first shared option out of its range."""
    if max_utterance_s * 1000 <= min_utterance_ms:
        raise ConfigError("segmenter.max_utterance_s must be longer than min_utterance_ms")
    _check_db("end_drop_db", end_drop_db, above_zero=True)
    _check_db("end_snr_db", end_snr_db, above_zero=False)
    for option, value in (("cut_search_s", cut_search_s), ("cut_context_s", cut_context_s)):
        if not _is_number(value) or value < 0:
            raise ConfigError(f"segmenter.{option} must be a number of seconds, 0 or more")
    if "partial_first_s" in _other:
        first = _other["partial_first_s"]
        if not _is_number(first) or first <= 0:  # type: ignore[operator]
            raise ConfigError(f"segmenter.partial_first_s must be seconds above 0, not {first!r}")
    if "pause_ms" in _other:
        _check_ms("pause_ms", _other["pause_ms"])
    adaptive = ("adaptive_hangover", "hangover_short_ms", "hangover_long_ms")
    if all(name in _other for name in adaptive):
        check_adaptive(**{name: _other[name] for name in adaptive})


def check_adaptive(
    *, adaptive_hangover: object, hangover_short_ms: object, hangover_long_ms: object
) -> None:
    """One ``ConfigError`` line for a bad adaptive hangover option."""
    if not isinstance(adaptive_hangover, bool):
        raise ConfigError(
            f"segmenter.adaptive_hangover must be true or false, not {adaptive_hangover!r}"
        )
    _check_ms("hangover_short_ms", hangover_short_ms)
    _check_ms("hangover_long_ms", hangover_long_ms)
    if hangover_short_ms > hangover_long_ms:  # type: ignore[operator]
        raise ConfigError(
            f"segmenter.hangover_short_ms ({hangover_short_ms}) must not be longer than "
            f"hangover_long_ms ({hangover_long_ms})"
        )
