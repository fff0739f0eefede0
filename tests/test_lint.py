"""The code is lint-clean and formatted: CI's ruff, run as tests so that CI is just the
README's two commands."""

import subprocess
import sys

from tests.conftest import REPO

LINTED = ("streamemo", "tests", "plugins", "benchmarks")


def _ruff(*args: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "ruff", *args]
    return subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=300)


def test_ruff_check_is_clean():
    result = _ruff("check", "--no-cache", *LINTED)
    assert result.returncode == 0, result.stdout + result.stderr


def test_ruff_format_leaves_every_file_as_it_is():
    # the whole tree, the docs' code blocks included: what a contributor's editor writes
    result = _ruff("format", "--check", "--no-cache", ".")
    assert result.returncode == 0, result.stdout + result.stderr
