"""The streamemo plugin contract: every hook a plugin may implement.

Stage hooks follow llm's ``register_*(register)`` style: call
``register(name, factory)`` once per stage you provide. A factory takes the
stage's options (keyword arguments from the config section) and returns the
stage object; ``streamemo.stages`` describes what each stage object must do.
"""

from __future__ import annotations

import pluggy

hookspec = pluggy.HookspecMarker("streamemo")
hookimpl = pluggy.HookimplMarker("streamemo")


@hookspec
def register_sources(register):
    """Register audio sources (file, microphone, network) by name."""


@hookspec
def register_segmenters(register):
    """Register segmenters that cut the audio stream into utterances."""


@hookspec
def register_transcribers(register):
    """Register speech-to-text engines."""


@hookspec
def register_text_analysers(register):
    """Register text-emotion analysers."""


@hookspec
def register_audio_analysers(register):
    """Register voice-emotion analysers."""


@hookspec
def register_fusers(register):
    """Register fusers that combine text and voice results into one emotion."""


@hookspec
def register_sinks(register):
    """Register sinks that receive events (console, files, servers...)."""


@hookspec
def streamemo_startup(run):
    """Called once the stream is built, before audio flows; ``run`` is a
    ``streamemo.lifecycle.Run`` (stream, config, counters, stop())."""


@hookspec
def streamemo_shutdown(run):
    """Called after the last event has been delivered to every sink; ``run`` is the
    same ``streamemo.lifecycle.Run`` that ``streamemo_startup`` received."""


@hookspec
def streamemo_event(event):
    """Observe every event as it is emitted; keep it quick, it runs inline."""
