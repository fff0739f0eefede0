"""Speculation: hear an utterance while its hangover runs, before the segmenter ends it.

A segmenter's ``Pause`` is the utterance as it would be if speech stopped there. The
thread "speculating" hears and reads it at once (``Analysis``); when the ``Utterance``
that comes equals it (``Pause.matches``), those events are its events, and the hangover
no longer waits for Whisper. Speech that resumes makes a newer Pause, or an utterance
that differs: the old work is dropped, never emitted (``speculations_dropped``). What
was heard also goes to the segmenter's optional ``hint(id, end, text)`` (adaptive
hangover). Only the newest Pause is heard; one that waited while an older one was being
heard and was overtaken is simply forgotten (no work was done on it).

A guess's calls are background work (``streamemo.priority``): a shared model that is
busy with other streams' finished utterances (``serve``) runs them last; the utterance
that ends promotes them, and speech that resumes withdraws those still queued, so a
busy server spends nothing on guesses nobody waits for. ``spare`` (when given) says
whether a guess may start now at all: under ``serve``, only while the shared Whisper has
room (a guess that runs holds it up for the others' finished utterances); one that may
not is skipped (``speculations_skipped``) and the utterance is heard as usual.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from streamemo.analysis import Analysis, Heard
from streamemo.emission import Emission
from streamemo.frames import Pause, Utterance
from streamemo.priority import Urgency, working_as


class Guess:
    """One Pause being heard; ``done`` once ``heard`` is set (None: it failed)."""

    def __init__(self, pause: Pause):
        self.pause = pause
        self.heard: Heard | None = None
        self.done = threading.Event()
        self.urgency = Urgency()  # background until its utterance ends


class Speculator:
    """The speculations of one stream: ``offer`` and ``claim`` on the segmenter's
    thread, ``run`` on its own."""

    def __init__(
        self,
        analysis: Analysis,
        out: Emission,
        hint: Callable[[int, int, str], None] | None = None,
        spare: Callable[[], bool] | None = None,
    ):
        self.analysis = analysis
        self.out = out
        self.hint = hint
        self.spare = spare
        self._lock = threading.Condition()
        self._waiting: Pause | None = None  # the newest Pause, not started yet
        self._running: Guess | None = None  # the guess heard last (or now), even if dropped
        self._current: Guess | None = None  # the one started last, unclaimed
        self._closed = False
        self.busy = threading.Event()  # hearing a Pause now (live words give way)

    def offer(self, pause: Pause) -> None:
        with self._lock:
            self._waiting = pause
            self._drop_current_before(pause)
            self._lock.notify()

    def claim(self, utt: Utterance) -> Guess | None:
        """The speculation that foresaw ``utt``, if one did (it may still be running);
        one that did not is dropped."""
        with self._lock:
            if self._waiting is not None and self._waiting.id <= utt.id:
                self._waiting = None  # never started: the utterance is heard as usual
            guess = self._current
            if guess is None or guess.pause.id > utt.id:
                return None
            self._current = None
        if guess.pause.matches(utt):
            guess.urgency.promote()  # wanted now: no longer behind other streams' work
            self.out.count("speculations_used")
            return guess
        guess.urgency.withdraw()
        self.out.count("speculations_dropped")
        return None

    def words_of(self, id: int, timeout: float) -> str | None:
        """The words of the guess now heard on utterance ``id`` once it is done (waiting
        at most ``timeout`` s); None if none is, it failed or it takes longer. A partial
        that comes while its utterance's pause is heard takes these words: Whisper on the
        full window has just heard the speech so far, and no draft need wait for it."""
        with self._lock:  # one dropped as speech resumed still heard the words till then
            guess = next(
                (g for g in (self._current, self._running) if g is not None and g.pause.id == id),
                None,
            )
        if guess is None or not guess.done.wait(timeout):
            return None
        heard = guess.heard  # the guess object stays valid even if a newer pause drops it
        return heard.texts[0] if heard is not None else None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._lock.notify()

    def run(self) -> None:
        while True:
            with self._lock:
                while self._waiting is None and not self._closed:
                    self._lock.wait()
                if self._waiting is None:
                    return
                pause, self._waiting = self._waiting, None
                if self.spare is not None and not self.spare():
                    self.out.count("speculations_skipped")
                    continue
                guess = self._current = self._running = Guess(pause)
            self._hear(guess)

    def _drop_current_before(self, pause: Pause) -> None:
        """A newer pause of the same utterance: speech resumed, the older one is moot."""
        if self._current is not None and self._current.pause.id == pause.id:
            self._current.urgency.withdraw()
            self._current = None
            self.out.count("speculations_dropped")

    def _hear(self, guess: Guess) -> None:
        self.busy.set()
        try:
            with working_as(guess.urgency):
                self._hear_as_guessed(guess)
        except Exception:  # Withdrawn (nobody waits for it) or a failure: heard as usual
            guess.heard = None  # and an utterance that fails fails there
        finally:
            self.busy.clear()
            guess.done.set()

    def _hear_as_guessed(self, guess: Guess) -> None:
        heard = self.analysis.hear([guess.pause.as_utterance()])
        text = heard.texts[0]
        if self.hint is not None and text is not None:
            try:
                self.hint(guess.pause.id, guess.pause.end, text)
            except Exception as exc:  # a plugin's hint must not end the run
                self.out.report_error("segmenter hint", exc)
        self.analysis.read(heard, early=True)  # Withdrawn if the voice was withdrawn
        guess.heard = heard
