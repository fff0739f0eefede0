"""The code is lint-clean: CI's ruff check, run as a test so that CI is just the README's
two commands."""

import subprocess
import sys

from tests.conftest import REPO

LINTED = ("streamemo", "tests", "plugins", "benchmarks")


def test_ruff_check_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", *LINTED],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
