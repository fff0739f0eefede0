"""Whether the words heard so far end a sentence or trail off: the adaptive hangover's cue."""

from __future__ import annotations

from typing import Literal

# a sentence does not end on these, whatever punctuation Whisper put after them
TRAILING_WORDS = frozenset("and but so because or um uh the a an to of with".split())


def ending(text: str) -> Literal["ends", "trails"] | None:
    """``"ends"``: the text ends a sentence (a final ``.``, ``?`` or ``!`` after a word
    that can end one); ``"trails"``: it trails off (a comma, an ellipsis, a trailing word
    like "and"); None: neither (no words, no punctuation, or ``;`` / ``:``). tiny.en often
    leaves out a sentence's last period ("... sent me a letter"): no punctuation is no
    cue either way, and gets the usual hangover."""
    text = text.strip()
    words = text.split()
    if not words:
        return None
    last = words[-1].strip(".,;:!?\"'…-").lower()
    if last in TRAILING_WORDS or text.endswith(("...", "…", ",")):
        return "trails"
    if text.endswith((".", "?", "!")):
        return "ends"
    return None
