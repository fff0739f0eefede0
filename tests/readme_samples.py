"""The README's sample outputs, made by real runs of the current code.

Each sample in README.md is the fenced block right after a marker line
``<!-- sample: NAME -->``. tests/test_readme.py compares each one with a fresh run and
ignores only what depends on the machine's speed: load times, latencies and stage
timings, the order in which models that load side by side report, and how many partials
a file run had time to analyse.

    python -m tests.readme_samples            # run them all, say which samples differ
    python -m tests.readme_samples --update   # and rewrite those blocks in README.md
"""

from __future__ import annotations

import argparse
import json
import re
import shlex
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from tests.conftest import REPO, SHARED, run_cli

README = REPO / "README.md"
# The README's main job, exactly as it shows it; the samples come from this command.
MAIN_JOB = "streamemo run --input ../shared/audio/en/en_diary.wav"
# The seed's Korean hub setup on a machine with no hub: every missing model, in one line.
HUB_ERROR = (
    "HF_HUB_OFFLINE=1 streamemo run --config configs/seed-ko.toml "
    "--input ../shared/audio/ko_diary_48k.wav"
)
EVENT_INDEX = 5  # the README's example event: the sixth utterance ("...new puppy...")
# The live view, recorded in a real terminal from the same file played at speaking pace.
LIVE_VIEW = "streamemo run --input ../shared/audio/en/en_diary.wav --realtime"
LIVE_VIEW_ROWS = 2  # the sample: the screen with this many utterances in, the next one spoken
REGENERATE = "README samples are stale: run `python -m tests.readme_samples --update`"

_MARKER = re.compile(r"^<!-- sample: ([\w-]+) -->$")


# -- the README's blocks ---------------------------------------------------------------


def blocks(text: str) -> dict[str, tuple[int, int]]:
    """Each sample's name -> the (start, end) line numbers of its block's contents."""
    lines = text.splitlines()
    found = {}
    for i, line in enumerate(lines):
        if match := _MARKER.match(line):
            fence = i + 1
            if not lines[fence].startswith("```"):
                raise ValueError(f"README line {i + 1}: a sample marker not followed by ```")
            end = lines.index("```", fence + 1)
            found[match[1]] = (fence + 1, end)
    return found


def read_samples(text: str | None = None) -> dict[str, str]:
    text = README.read_text(encoding="utf-8") if text is None else text
    lines = text.splitlines()
    return {name: "\n".join(lines[a:b]) for name, (a, b) in blocks(text).items()}


def replace_samples(text: str, new: dict[str, str]) -> str:
    lines = text.splitlines()
    for name, (a, b) in sorted(blocks(text).items(), key=lambda item: -item[1][0]):
        if name in new:
            lines[a:b] = new[name].splitlines()
    return "\n".join(lines) + "\n"


# -- real runs -------------------------------------------------------------------------


def _args(command: str) -> tuple[dict[str, str], list[str]]:
    """A README command line: its VAR=value prefix, and its arguments after `streamemo`,
    with ../shared pointing at the shared data wherever it is."""
    words = shlex.split(command)
    env = {}
    while "=" in words[0]:
        key, _, value = words.pop(0).partition("=")
        env[key] = value
    assert words[0] == "streamemo", command
    return env, [w.replace("../shared", str(SHARED)) for w in words[1:]]


def run_readme_command(command: str, *extra: str, hf_home: Path) -> subprocess.CompletedProcess:
    """The command as a user on a fresh machine runs it: no model hub (HF_HUB_OFFLINE=1),
    an empty Hugging Face cache."""
    env, args = _args(command)
    return run_cli(*args, *extra, env={"HF_HUB_OFFLINE": "1", "HF_HOME": str(hf_home), **env})


def run_main_job(jsonl: Path, hf_home: Path) -> subprocess.CompletedProcess:
    """The README's main job; ``console`` is its only sink, so adding it by name and a jsonl
    file beside it changes nothing on the console and also gives the events."""
    return run_readme_command(
        MAIN_JOB, "--sink", "console", "--sink", f"jsonl:{jsonl}", hf_home=hf_home
    )


# -- samples from runs -----------------------------------------------------------------


def main_job_sample(result: subprocess.CompletedProcess) -> str:
    """What the main job prints (piped): its log lines on stderr, then the console's lines."""
    log = [line for line in result.stderr.splitlines() if line.startswith("streamemo:")]
    return "\n".join([*log, *result.stdout.splitlines()])


def _rounded(value):
    if isinstance(value, float):
        return round(value, 2)
    if isinstance(value, dict):
        return {k: _rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rounded(v) for v in value]
    return value


def event_sample(events: list[dict]) -> str:
    """One utterance event as the jsonl sink writes it, numbers rounded to 2 places, one
    field per line (the nested emotion fields one key per line)."""
    event = _rounded([e for e in events if e["type"] == "utterance"][EVENT_INDEX])
    lines = []
    for key, value in event.items():
        if key in ("text_emotion", "audio_emotion", "emotion") and isinstance(value, dict):
            inner = [
                f"    {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}"
                for k, v in value.items()
            ]
            lines.append(f"  {json.dumps(key)}: {{\n" + ",\n".join(inner) + "\n  }")
        else:
            lines.append(f"  {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)}")
    return "{\n" + ",\n".join(lines) + "\n}"


def hub_error_sample(hf_home: Path) -> str:
    result = run_readme_command(HUB_ERROR, hf_home=hf_home)
    # the empty cache of this run stands for a user's own, at its usual place
    out = result.stderr.strip().replace(str(hf_home), "~/.cache/huggingface")
    return f"$ {HUB_ERROR}\n{out}"


_ROW = re.compile(r"^\s*\d+\.\d–\s*\d+\.\ds\s+│")  # a table row: "   0.8–   4.3s  │ ..."


def live_view_rows(screen: str) -> list[str]:
    return [line for line in screen.splitlines() if _ROW.match(line)]


def live_view_ready(screen: str) -> bool:
    """Two utterances in, and the next one being spoken, with the voice's reading of it."""
    return (
        len(live_view_rows(screen)) >= LIVE_VIEW_ROWS
        and "● speaking" in screen
        and "voice now  -" not in screen
    )


def live_view_from(screen: str) -> str:
    """The view on a terminal's screen: from its state line to its last row."""
    lines = [line.rstrip() for line in screen.splitlines()]
    first = next(i for i, line in enumerate(lines) if line[:1] in "●○■")
    last = max(i for i, line in enumerate(lines) if _ROW.match(line))
    return "\n".join(lines[first : last + 1])


def live_view_sample() -> str:
    from tests.terminal import Terminal

    _env, args = _args(LIVE_VIEW)
    terminal = Terminal("streamemo-readme-sample")
    try:
        terminal.type(
            f"cd {shlex.quote(str(REPO))} && "
            f"{shlex.join([sys.executable, '-m', 'streamemo', *args])}",
            "Enter",
        )
        screen = terminal.wait_for(live_view_ready, timeout=180)
        terminal.type("C-c")
        return live_view_from(screen)
    finally:
        terminal.close()


def devices_sample() -> str:
    """`streamemo devices` with the virtual microphone of ../shared/tools/vmic.sh."""
    from tests.test_mic import VirtualMic

    mic = VirtualMic(16000)
    try:
        return run_cli("devices", env=mic.client_env).stdout.rstrip()
    finally:
        mic.stop()


# -- what may differ between runs ------------------------------------------------------

_LOAD_TIME = re.compile(r"( in )\d+(\.\d+)? s\b")
_PARTIALS = re.compile(r"\b(partials|partials_skipped)=\d+")


# A few of Whisper's words and the second decimal of a score depend on the CPU: the
# int8 kernels of CTranslate2 differ between instruction sets (AVX2, AVX-512 VNNI). The
# utterances, their times (the segmenter's) and the lines' shape do not, nor the labels
# of an utterance heard with the same words (a word heard otherwise may change them:
# "... frightened me" was "... fried and meat" on an AMD EPYC with AVX-512).
_TRANSCRIPT = re.compile(r'"[^"]*"$')
_SCORE = re.compile(r"\b\d\.\d\d\b")
_VERDICT = re.compile(r"\].*(?=\"[^\"]*\"$)")  # the labels between the times and the words


def comparable_text(sample: str, words: bool = False) -> tuple[list[str], list[str]]:
    """Log lines (any order: models load side by side) and the other lines (in order),
    with load times, partial counts, and an utterance line's scores (and unless
    ``words``, its words) blanked."""
    log, rest = [], []
    for line in sample.splitlines():
        line = _PARTIALS.sub(r"\1=#", _LOAD_TIME.sub(r"\1# s", line))
        if line.startswith("["):  # [  0.78 →  4.26]  neutral 0.37  text ...  "words"
            line = _SCORE.sub("#", line if words else _TRANSCRIPT.sub('"…"', line))
        (log if line.startswith("streamemo: loaded") else rest).append(line)
    return sorted(log), rest


def comparable_pair(sample: str, fresh: str) -> tuple[object, object]:
    """Two outputs of one run, comparable (``comparable_text``), except that an utterance
    heard with other words in each may have other labels as well."""
    (log_a, a), (log_b, b) = comparable_text(sample, True), comparable_text(fresh, True)
    if len(a) == len(b):
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            heard_x, heard_y = _TRANSCRIPT.search(x), _TRANSCRIPT.search(y)
            if heard_x and heard_y and heard_x[0] != heard_y[0]:
                a[i], b[i] = _VERDICT.sub("] … ", x), _VERDICT.sub("] … ", y)
    blank = [[_TRANSCRIPT.sub('"…"', line) if line.startswith("[") else line for line in lines]
             for lines in (a, b)]  # fmt: skip
    return (log_a, blank[0]), (log_b, blank[1])


def comparable_event(sample: str) -> dict:
    """The event without its wall-clock fields."""
    event = json.loads(sample)
    event.pop("latency_ms", None)
    event.pop("timing", None)
    return event


def comparable_live_view(sample: str) -> list[str]:
    """The table (its header and rows): the state, level and "voice now" lines above it
    change ten times a second."""
    lines = sample.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("time "))
    # the oldest rows come first: a screen caught a moment late has one more at the end
    return lines[header : header + 2] + live_view_rows(sample)[:LIVE_VIEW_ROWS]


def same(sample: str) -> str:
    return sample


def each(comparable: Callable[[str], object]) -> Callable[[str, str], tuple[object, object]]:
    """A pair compared by what each of the two is alone."""
    return lambda sample, fresh: (comparable(sample), comparable(fresh))


# the README's sample and a fresh one -> the two as compared
COMPARE: dict[str, Callable[[str, str], tuple[object, object]]] = {
    "main-job": comparable_pair,
    "event": each(comparable_event),
    "hub-error": each(comparable_text),
    "devices": each(same),
    "live-view": each(comparable_live_view),
}


def differs(name: str, sample: str | None, fresh: str) -> bool:
    """Whether the README's sample (None: none there) differs from a fresh one."""
    try:
        if sample is None:
            return True
        old, new = COMPARE[name](sample, fresh)
        return old != new
    except (ValueError, StopIteration):  # not even the sample's shape: an empty block, say
        return True


def fresh_samples() -> dict[str, str]:
    with tempfile.TemporaryDirectory(prefix="streamemo-readme-") as tmp:
        tmp = Path(tmp)
        (tmp / "hf").mkdir()
        result = run_main_job(tmp / "out.jsonl", tmp / "hf")
        if result.returncode != 0:
            raise SystemExit(f"the main job failed:\n{result.stderr}")
        events = [json.loads(line) for line in (tmp / "out.jsonl").read_text().splitlines()]
        return {
            "main-job": main_job_sample(result),
            "event": event_sample(events),
            "hub-error": hub_error_sample(tmp / "hf"),
            "devices": devices_sample(),
            "live-view": live_view_sample(),
        }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.readme_samples", description=__doc__)
    parser.add_argument("--update", action="store_true", help="rewrite README.md's samples")
    update = parser.parse_args().update
    text = README.read_text(encoding="utf-8")
    old, new = read_samples(text), fresh_samples()
    stale = [name for name in new if differs(name, old.get(name), new[name])]
    for name in stale:
        print(f"--- sample {name!r} in README.md\n{old.get(name)}\n+++ now\n{new[name]}\n")
    if update:
        README.write_text(replace_samples(text, new), encoding="utf-8")
        print(f"README.md: {len(new)} samples rewritten ({len(stale)} had changed)")
        return 0
    print(f"{len(stale)} of {len(new)} samples differ" + (": rerun with --update" if stale else ""))
    return 1 if stale else 0


if __name__ == "__main__":
    sys.exit(main())
