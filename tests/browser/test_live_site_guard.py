"""A browser test that fails while the live server is stopped does not fail the next ones."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = Path(__file__).with_name("guard_scenario.py")


@pytest.mark.slow
def test_a_test_failing_with_the_server_stopped_leaves_it_up_for_the_next() -> None:
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(SCENARIO.relative_to(ROOT)),
            "-p",
            "no:cacheprovider",
            "-q",
            "-rA",
        ],
        cwd=ROOT,
        env=os.environ.copy(),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    out = run.stdout + run.stderr
    scenario = "tests/browser/guard_scenario.py::"
    assert f"FAILED {scenario}test_fails_while_the_server_is_stopped" in out, out
    assert f"PASSED {scenario}test_a_later_test_finds_the_server_up" in out, out
    assert "1 failed, 1 passed" in out, out
