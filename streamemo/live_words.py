"""Live words: the stable prefix of the hypotheses for one utterance in progress.

Each hop, Whisper hears the utterance so far and says what it heard (a hypothesis). A
word is *stable* once two successive hypotheses agree on it and on every word before it;
from then on it never changes: later hypotheses keep it as it was, and only their words
after the stable ones are new. Words are compared without case and punctuation, so
"today" and "today," agree (the stable one keeps the form it had).
"""

from __future__ import annotations


def _plain(word: str) -> str:
    return "".join(ch for ch in word.lower() if ch.isalnum())


class StablePrefix:
    """The words so far of one utterance at a time (a new id starts afresh)."""

    def __init__(self) -> None:
        self.id: int | None = None
        self.stable: list[str] = []  # settled: never change again for this utterance
        self._last: list[str] = []  # the previous hypothesis, as shown

    def update(self, uid: int, text: str) -> tuple[list[str], int]:
        """The words to show for hypothesis ``text`` of utterance ``uid``, and how many
        of their first words are stable."""
        if uid != self.id:
            self.id, self.stable, self._last = uid, [], []
        heard = text.split()
        # the stable words stay as they are; the hypothesis supplies what follows them
        words = self.stable + heard[len(self.stable) :]
        n = len(self.stable)
        while (
            n < min(len(words), len(self._last))
            and _plain(words[n]) == _plain(self._last[n])
            and _plain(words[n])
        ):
            n += 1
        self.stable = words[:n]
        self._last = words
        return words, n

    def current(self, uid: int) -> tuple[list[str], int] | None:
        """The words last shown for utterance ``uid`` (None: none yet), unchanged."""
        return (self._last, len(self.stable)) if uid == self.id and self._last else None
