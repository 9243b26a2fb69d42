"""The `tabadol` command as the tests run it: in-process (typer's runner, fast) or as a real
process (what a person's shell runs: the entry point, exit codes, no traceback)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from tabadol.cli.main import app

runner = CliRunner()
ROOT = Path(__file__).resolve().parents[1]


def tabadol(*args: str | Path, ok: bool = True) -> tuple[str, str]:
    """Run the command in this process: (stdout, stderr). A failure is exit code 1."""
    result = runner.invoke(app, [str(a) for a in args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, (result.stdout, result.stderr)
    else:
        assert result.exit_code == 1, (result.stdout, result.stderr)
    return result.stdout, result.stderr


def tabadol_process(*args: str | Path, ok: bool = True) -> tuple[str, str]:
    """Run `python -m tabadol` as its own process, in a wide terminal (tables unwrapped):
    (stdout, stderr). A failure is exit code 1 and one line on stderr, never a traceback."""
    env = {**os.environ, "COLUMNS": "240", "PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, "-m", "tabadol", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert "Traceback" not in done.stderr, done.stderr
    if ok:
        assert done.returncode == 0, (done.stdout, done.stderr)
    else:
        assert done.returncode == 1, (done.stdout, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, done.stderr
    return done.stdout, done.stderr
