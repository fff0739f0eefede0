"""Emission (streamemo.emission) with real sink runners and fake sinks and observers:
every event reaches every sink and observer, one that fails costs only itself, and the
end-of-run report names what was lost. Under a second."""

from __future__ import annotations

import io

from streamemo import hookspecs
from streamemo.emission import Emission
from streamemo.events import StatusEvent
from streamemo.sink_runner import SinkRunner, close_all
from tests.engine_fakes import Collect, Seen, bare_pm


class Raises:
    """An observer plugin that fails on every event."""

    @hookspecs.hookimpl
    def streamemo_event(self, event):
        raise RuntimeError("observer bug")


def emission_with(*sinks, observers=()) -> tuple[Emission, io.StringIO]:
    pm = bare_pm()
    for observer in observers:
        pm.register(observer)
    stderr = io.StringIO()
    out = Emission("test", pm, stderr)
    out.sinks = [SinkRunner(sink, f"sink{i}", out.sink_error) for i, sink in enumerate(sinks)]
    for runner in out.sinks:
        runner.start()
    return out, stderr


def finish(out: Emission, drain_s: float = 5.0) -> int:
    return out.report_losses(close_all(out.sinks, drain_s), drain_s)


def test_every_event_reaches_every_sink_and_observer_in_order():
    a, b, seen = Collect(), Collect(), Seen()
    out, stderr = emission_with(a, b, observers=[seen])
    events = [StatusEvent("test", f"s{i}") for i in range(5)]
    for event in events:
        out.emit(event)
    assert finish(out) == 0 and out.events_lost == 0
    assert a.events == b.events == seen.events == events
    assert a.closed and b.closed and stderr.getvalue() == ""


def test_a_raising_observer_stops_neither_the_others_nor_the_sinks():
    sink, seen = Collect(), Seen()
    out, stderr = emission_with(sink, observers=[Raises(), seen])
    for i in range(4):
        out.emit(StatusEvent("test", f"s{i}"))
    assert finish(out) == 4  # the raising observer missed all four
    assert len(seen.events) == len(sink.events) == 4
    assert out.counters["errors"] == 4
    [line] = stderr.getvalue().splitlines()
    assert "streamemo_event observer" in line and "failed on 4 of 4 events" in line


def test_a_raising_sink_says_so_once_and_counts_the_rest():
    bad, good = Collect(fail=True), Collect()
    out, stderr = emission_with(bad, good)
    for i in range(3):
        out.emit(StatusEvent("test", f"s{i}"))
    assert finish(out) == 3 and len(good.events) == 3
    lines = stderr.getvalue().splitlines()
    assert lines == [
        "streamemo: sink 'sink0' failed: OSError: disk full (further failures are counted)",
        "streamemo: sink 'sink0' lost 3 events (3 writes failed)",
    ]
    assert out.counters["errors"] == 1  # the first failure; the rest are in the line above


def test_a_sink_that_cannot_drain_in_time_is_named_with_what_it_did_not_get():
    slow = Collect(delay_s=0.2)
    out, stderr = emission_with(slow)
    for i in range(10):
        out.emit(StatusEvent("test", f"s{i}"))
    lost = finish(out, drain_s=0.3)
    assert 0 < lost < 10 and lost + len(slow.events) in (10, 11)  # one may be mid-write
    assert "sink 'sink0' did not finish" in stderr.getvalue()
    assert "pipeline.drain_s" in stderr.getvalue()


def test_report_error_counts_and_emits_one_error_status():
    sink = Collect()
    out, _ = emission_with(sink)
    out.report_error("text analyser (utterance 7)", ValueError("bad text"))
    out.report_error("quiet", ValueError("not sent"), emit=False)
    finish(out)
    [status] = sink.events
    assert status.state == "error"
    assert status.message == "text analyser (utterance 7): ValueError: bad text"
    assert out.counters["errors"] == 2


def test_counts_of_seconds_stay_rounded():
    out, _ = emission_with()
    for _ in range(3):
        out.count("skipped_no_speech_s", 0.1)
    assert out.counters["skipped_no_speech_s"] == 0.3
