"""What ``diary record`` and ``diary reanalyse`` need beside ``run``'s machinery: the
diary's path checked before anything is created, a source whose blocks are also kept
as audio, and a sink that holds a new analysis until it is whole."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from streamemo.diary.kept_audio import KeptAudio
from streamemo.diary.store import Diary, DiaryError, default_path
from streamemo.events import Event, event_to_dict
from streamemo.frames import Block, Notice
from streamemo.paths import cannot_create
from streamemo.stages import Sink, Source

log = logging.getLogger("streamemo")


def db_path(db: str | None) -> Path:
    return Path(db).expanduser() if db else default_path()


def check_db(path: Path) -> None:
    """Before anything loads, and without creating anything: an existing file must be a
    diary this streamemo reads, a new one must be creatable (one line otherwise)."""
    if path.exists():
        Diary(path, create=False).close()  # a folder, not a diary, a newer schema: one line
        return
    if why := cannot_create(path):
        raise DiaryError(
            f"cannot create the diary {str(path)!r}: {why}; give a --db path in a folder you "
            "can write"
        )


class KeepingSource(Source):
    """Another source's items, unchanged, its blocks also written to ``path`` (FLAC) in
    the order the segmenter gets them: sample 0 of the file is second 0 of the stream,
    so the utterances' times hold for the file. A file that cannot be written is one
    warning: the dictation goes on without it."""

    def __init__(self, inner: Source):
        self.inner = inner
        self.name = inner.name
        self.live = inner.live
        self.path: Path | None = None  # set before the run starts (it needs the entry's id)

    @property
    def counters(self) -> Mapping[str, int]:
        return self.inner.counters

    def blocks(self) -> Iterator[Block | Notice]:
        kept = self._open()
        try:
            for item in self.inner.blocks():
                if kept is not None and isinstance(item, Block):
                    kept = self._write(kept, item)
                yield item
        finally:
            if kept is not None:
                kept.close()

    def stop(self) -> None:
        self.inner.stop()

    def _open(self) -> KeptAudio | None:
        if self.path is None:
            return None
        try:
            return KeptAudio(self.path)
        except Exception as exc:
            log.warning("cannot keep the audio in %s (%s): recording without it", self.path, exc)
            return None

    def _write(self, kept: KeptAudio, block: Block) -> KeptAudio | None:
        try:
            kept.write(block.samples)
            return kept
        except Exception as exc:  # a full disk, say: the text and emotions still count
            log.warning("kept audio %s stopped at %d samples (%s)", kept.path, kept.samples, exc)
            try:
                kept.close()
            except Exception:
                pass
            return None


class Collect(Sink):
    """Every utterance event, kept in memory (as dicts) until the run is over."""

    event_types = frozenset({"utterance"})

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []

    def write(self, event: Event) -> None:
        self.events.append(event_to_dict(event))
