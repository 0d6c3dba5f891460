"""The command line is reachable the three ways users call it: `theraeval`, `python -m harness.cli`, `build_parser`."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from harness.cli import build_parser

COMMANDS = ("run", "stage1", "stage2", "validate", "verdicts", "leaderboard", "report", "packets", "agreement",
            "judge-agreement", "preferences", "train", "personas", "criteria", "judges", "models", "safety")


def test_every_command_group_is_registered() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert set(COMMANDS) == set(sub.choices)  # type: ignore[arg-type]


@pytest.mark.parametrize("argv", [[sys.executable, "-m", "harness.cli"], ["theraeval"]])
def test_help_lists_every_command(argv: list[str]) -> None:
    if argv == ["theraeval"] and shutil.which("theraeval") is None:
        pytest.skip("the theraeval script is not on PATH (package not installed)")
    proc = subprocess.run([*argv, "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    for cmd in COMMANDS:
        assert cmd in proc.stdout
    bad = subprocess.run([*argv, "validate", "/nonexistent.toml"], capture_output=True, text=True, timeout=60)
    assert bad.returncode == 2 and bad.stderr.startswith("error: /nonexistent.toml: path") and bad.stdout == ""
