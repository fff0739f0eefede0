"""The streamemo plugin contract: every hook a plugin may implement.

Plugin authors import ``hookimpl`` (and everything else) from ``streamemo.api``; the
guide is docs/plugins/, one page per stage kind and docs/plugins/hooks.md for the hooks.

Stage hooks follow llm's ``register_*(register)`` style: call ``register(name, factory)``
once per stage you provide (``preflight=check`` adds a cheap start-up check of the
options). A factory takes the stage's options as keyword arguments (the config section
of its kind, ``[sink.NAME]`` for a sink) and returns the stage object, which must meet
the contract of its kind (``streamemo.stages``): it is checked at start-up, before audio
flows. Stage hooks are called once per process, when the registry is collected.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("streamemo")
hookimpl = pluggy.HookimplMarker("streamemo")


@hookspec
def register_sources(register):
    """Register sources (``streamemo.api.Source``): where audio comes from (a file, a
    microphone, a network stream). Selected with ``[source] name``; one per stream."""


@hookspec
def register_segmenters(register):
    """Register segmenters (``streamemo.api.Segmenter``) that cut a stream into
    utterances and partials. Selected with ``[segmenter] name``; one per stream."""


@hookspec
def register_transcribers(register):
    """Register speech-to-text engines (``streamemo.api.Transcriber``). Selected with
    ``[transcriber] name``; shared by every stream under ``serve``."""


@hookspec
def register_text_analysers(register):
    """Register text-emotion analysers (``streamemo.api.TextAnalyser``). Selected with
    ``[text] name``; shared by every stream under ``serve``."""


@hookspec
def register_audio_analysers(register):
    """Register analysers of the voice's emotion (``streamemo.api.AudioAnalyser``).
    Selected with ``[audio] name``; shared by every stream under ``serve``."""


@hookspec
def register_fusers(register):
    """Register fusers (``streamemo.api.Fuser``) that combine the text's and the voice's
    emotion into one. Selected with ``[fuser] name``; shared under ``serve``."""


@hookspec
def register_sinks(register):
    """Register sinks (``streamemo.api.Sink``) that receive events: a console, files,
    servers. Selected with ``sinks = [...]`` or ``--sink NAME[:TARGET]``."""


@hookspec
def streamemo_startup(run):
    """Called once a stream is built, before audio flows; ``run`` is a
    ``streamemo.api.Run`` (stream, config, counters, stop()). Under ``serve``, once per
    stream."""


@hookspec
def streamemo_shutdown(run):
    """Called after the last event has been delivered to every sink; ``run`` is the
    same ``streamemo.api.Run`` that ``streamemo_startup`` received."""


@hookspec
def streamemo_event(event):
    """Observe every event (``streamemo.api.Event``) as it is emitted, on the emitting
    thread: keep it quick. One that raises is reported once and counted; the other
    observers and the sinks still get the event."""
