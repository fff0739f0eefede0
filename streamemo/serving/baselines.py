"""A ``serve`` stream's own voice baseline: the hello's ``"baseline"``.

A baseline is part of the audio analyser (its mean and std are applied to every frame),
and the analyser is shared by every stream. So a stream that names another baseline
gets another instance of the ``[audio]`` stage, built with ``baseline=`` that one, once
per baseline and then shared by every stream that names it (the seed's model is 600 KB
and loads in a fraction of a second). All instances take turns with the shared one: one
voice call at a time in all, as before.

What a client may name: ``male``, ``female`` (the model's presets), ``personal`` and
the names of baselines stored by ``streamemo calibrate --name NAME``, all in the
server's data folder. Never a path: a name has no separators or dots, and the analyser
is handed the stored file's absolute path, so a client can make the server read only
files that its owner stored there.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from typing import Any

from streamemo.default_plugins.voice_emotion.baselines import PRESETS, stored_file
from streamemo.errors import StreamemoError, one_line
from streamemo.factory_options import declared_options
from streamemo.loading import Analysers, build_stage
from streamemo.plugins import Registry
from streamemo.serving.broadcast import INVALID
from streamemo.serving.wire import WireError

log = logging.getLogger("streamemo")


class StreamBaselines:
    """The analysers of the streams that name a baseline, built when first named."""

    def __init__(self, config: dict[str, Any], registry: Registry):
        self.config = config
        self.registry = registry
        self._built: dict[tuple[str, int], asyncio.Future[Any]] = {}  # loop thread only

    def _option(self, name: str) -> tuple[str, int]:
        """What the audio stage gets for ``name`` (a preset, or a stored file's absolute
        path), and the file's mtime (a new calibration builds a new analyser)."""
        audio = self.config.get("audio") or {}
        if audio.get("enabled", True) is False:
            raise WireError(INVALID, "baseline: this server analyses no voice (audio.enabled)")
        entry = self.registry.get("audio", audio.get("name"))
        declared = declared_options(entry.factory)
        if declared is not None and "baseline" not in declared[0] and not declared[1]:
            raise WireError(
                INVALID, f"baseline: the server's audio analyser {entry.name!r} has none"
            )
        if name in PRESETS:
            return name, 0
        path = stored_file(name)
        if path is None:
            raise WireError(
                INVALID,
                f"unknown baseline {name!r}: male, female, personal or a name stored with "
                "streamemo calibrate --name",
            )
        return str(path.resolve()), path.stat().st_mtime_ns

    async def analysers(self, name: str, shared: Analysers | None) -> Analysers:
        """The stream's analysers: the shared ones, with the audio analyser of ``name``."""
        if shared is None:  # only an AudioStreams built without them (tests)
            raise WireError(INVALID, "baseline: this server builds no shared analysers")
        option, mtime = self._option(name)
        configured = (self.config.get("audio") or {}).get("baseline", "male")
        if option == configured:
            return shared
        key = (option, mtime)
        if key not in self._built:
            for old in [k for k in self._built if k[0] == option]:  # from before a recalibration
                del self._built[old]  # (streams that have it keep it)
            log.info("baseline %r: loading an audio analyser of its own", name)
            self._built[key] = asyncio.ensure_future(asyncio.to_thread(self._build, option))
        try:
            audio = await self._built[key]
        except StreamemoError as exc:
            self._built.pop(key, None)  # the next client tries again (after a fix, say)
            log.warning("baseline %r: %s", name, one_line(exc))
            why = f"baseline {name!r} cannot be used (see the server's log)"
            raise WireError(INVALID, why) from None
        twin = shared.audio.like(audio) if hasattr(shared.audio, "like") else audio
        return Analysers(shared.transcriber, shared.text, twin, shared.fuser)

    def _build(self, option: str) -> Any:
        config = copy.deepcopy(self.config)
        config["audio"]["baseline"] = option
        return build_stage(config, self.registry, "audio")
