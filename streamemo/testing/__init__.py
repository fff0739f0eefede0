"""Test helpers for plugin authors, as datasette's and llm's: run your stage the way
streamemo runs it, against synthetic audio and events, in a few lines and milliseconds.

    from streamemo.testing import run_sink, synthetic_events

    def test_my_sink(tmp_path):
        result = run_sink(MySink(tmp_path / "out.txt"), synthetic_events())
        assert result.failed == 0 and result.finished

- audio (``int16``, 16 kHz mono): ``silence``, ``tone``, ``speechlike``, ``utterances``
- events: ``synthetic_events``, ``make_utterance_event``, ``make_partial_event``,
  ``make_status_event``, ``make_text_emotion``, ``make_audio_emotion``
- ``check_stage(kind, obj)``: the start-up contract check; ``run_stage``: a stage's calls
- ``run_sink(sink, events)``: through the real sink runner (its own thread, then close)
- ``run_pipeline(audio=MyAnalyser(), ...)``: a real pipeline, fakes for the other stages
  (``streamemo.testing.fakes``)
"""

from streamemo.testing.audio import silence, speechlike, tone, utterances
from streamemo.testing.events import (
    make_audio_emotion,
    make_partial_event,
    make_status_event,
    make_text_emotion,
    make_utterance_event,
    synthetic_events,
)
from streamemo.testing.runners import (
    PipelineRun,
    SinkRun,
    check_stage,
    run_pipeline,
    run_sink,
    run_stage,
)

__all__ = [
    "PipelineRun",
    "SinkRun",
    "check_stage",
    "make_audio_emotion",
    "make_partial_event",
    "make_status_event",
    "make_text_emotion",
    "make_utterance_event",
    "run_pipeline",
    "run_sink",
    "run_stage",
    "silence",
    "speechlike",
    "synthetic_events",
    "tone",
    "utterances",
]
