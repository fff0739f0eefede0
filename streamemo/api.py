"""Everything a streamemo plugin needs, in one module: ``from streamemo.api import ...``.

A plugin is a module (a file in ``--plugins-dir``, or a ``streamemo`` entry point) with
functions marked ``@hookimpl``. The guide with a complete example per kind is
docs/plugins/; the test helpers are in ``streamemo.testing``.

**Hooks** (``streamemo.hookspecs``). Stage hooks: ``register(name, factory)`` once per
stage, in ``register_sources``, ``register_segmenters``, ``register_transcribers``,
``register_text_analysers``, ``register_audio_analysers``, ``register_fusers``,
``register_sinks``. The factory takes the stage's options as keyword arguments (its
config section, ``[sink.NAME]`` for a sink, ``-o kind.key=value``) and returns the stage.
Observers: ``streamemo_startup(run)`` before audio flows, ``streamemo_shutdown(run)``
after the last event reached the sinks (``run`` is a ``Run``), ``streamemo_event(event)``
inline for every event.

**Stage kinds**, one base class each (subclass it; duck typing works too): ``Source``
(audio in), ``Segmenter`` (audio -> ``Utterance``/``Partial``), ``Transcriber``
(audio -> ``Transcript``), ``TextAnalyser`` (text -> ``TextEmotion``), ``AudioAnalyser``
(audio -> ``AudioEmotion``), ``Fuser`` (both -> ``Emotion``), ``Sink`` (events out).
Every stage is checked at start-up (``conform``): a missing method is one line.

**Types**: audio is ``int16`` numpy arrays, 16 kHz (``SAMPLE_RATE``) mono. Frames:
``Block``, ``Notice``, ``Utterance``, ``Partial``, ``Pause``, ``Span``, ``Cut``, ``Transcript``.
Results: ``TextEmotion``, ``SentenceEmotion``, ``AudioEmotion``, ``Emotion``. Events:
``UtteranceEvent``, ``PartialEvent``, ``StatusEvent``, ``LevelEvent`` (``Event`` is any
of them; ``event_to_dict``/``event_to_json`` give their JSON form).

**Threads** (``streamemo run``): source "source", segmenter "segmenter", transcriber
"hearing", audio analyser "voice" (``analyse``) and "partials" (``analyse_latest``), text
analyser and fuser "reading", each sink its own. Under ``serve`` sources and segmenters
are per stream; transcriber, analysers, fuser and the ``[serve] sinks`` are shared.

**Errors**: raise ``ConfigError`` (bad option), ``ModelNotFoundError``, ``InputError``
or any ``StreamemoError`` with one line the user can act on; ``PluginError`` is what a
broken contract raises.

**Confidence** (``streamemo.scores``): every result carries ``confidence`` in [0, 1], how
far its scores are from flat (``confidence(scores)``; computed when the result is made,
unless the analyser gives its own). Under ``UNSURE_BELOW`` a result is shown as unsure;
``confidence_of``, ``sure`` and ``disagree`` read results and their JSON dicts alike.
"""

from streamemo.contract import conform
from streamemo.errors import (
    ConfigError,
    InputError,
    ModelNotFoundError,
    StreamemoError,
)
from streamemo.events import (
    AudioEmotion,
    Emotion,
    Event,
    LevelEvent,
    PartialEvent,
    SentenceEmotion,
    StatusEvent,
    TextEmotion,
    UtteranceEvent,
    event_to_dict,
    event_to_json,
)
from streamemo.frames import (
    SAMPLE_RATE,
    Block,
    Cut,
    Notice,
    Partial,
    Pause,
    Span,
    Transcript,
    Utterance,
)
from streamemo.hookspecs import hookimpl
from streamemo.lifecycle import Run
from streamemo.plugins import PluginError
from streamemo.scores import UNSURE_BELOW, canonical, confidence, confidence_of, disagree, sure
from streamemo.stages import (
    AudioAnalyser,
    Fuser,
    Segmenter,
    Sink,
    Source,
    TextAnalyser,
    Transcriber,
)

__all__ = [
    "SAMPLE_RATE",
    "UNSURE_BELOW",
    "AudioAnalyser",
    "AudioEmotion",
    "Block",
    "ConfigError",
    "Cut",
    "Emotion",
    "Event",
    "Fuser",
    "InputError",
    "LevelEvent",
    "ModelNotFoundError",
    "Notice",
    "Partial",
    "PartialEvent",
    "Pause",
    "PluginError",
    "Run",
    "Segmenter",
    "SentenceEmotion",
    "Sink",
    "Source",
    "Span",
    "StatusEvent",
    "StreamemoError",
    "TextAnalyser",
    "TextEmotion",
    "Transcriber",
    "Transcript",
    "Utterance",
    "UtteranceEvent",
    "canonical",
    "confidence",
    "confidence_of",
    "conform",
    "disagree",
    "event_to_dict",
    "event_to_json",
    "hookimpl",
    "sure",
]
