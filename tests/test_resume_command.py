"""The printed resume command runs where it is pasted: `evalkit ...` or `python -m evalkit ...`
as evalkit was started, with this interpreter's path when nothing on PATH runs it."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO

TASK_FILE = REPO / "tests" / "retry_tasks" / "slow_planning.py"
BIN = Path(sys.executable).parent
"""Where this interpreter (and, when installed, the `evalkit` script) lives."""


def failed_eval(command: list[str], tmp_path: Path, path: str) -> str:
    """Run an eval whose sample 3 fails; the resume command it printed."""
    done = subprocess.run(
        [*command, "eval", str(TASK_FILE), "--model", "mockllm/model", "--log-dir",
         str(tmp_path / "logs"), "--display", "none"], capture_output=True, text=True,
        timeout=60, cwd=tmp_path, env={**os.environ, "PATH": path, "PLANNING_FAIL_IDS": "3"})
    assert done.returncode == 1, done.stderr
    [line] = [line for line in done.stderr.splitlines() if line.startswith("resume with: ")]
    return line.removeprefix("resume with: ")


def run_pasted(command: str, tmp_path: Path, path: str) -> subprocess.CompletedProcess[str]:
    """Run ``command`` through a shell, as a user pasting it would (the failure now fixed)."""
    return subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True,
                          timeout=60, cwd=tmp_path, env={**os.environ, "PATH": path})


def only_log(tmp_path: Path) -> Path:
    [log] = (tmp_path / "logs").glob("*.jsonl.zst")
    return log


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell")
def test_started_as_python_m_the_resume_command_says_python_m(tmp_path: Path) -> None:
    """`python -m evalkit eval ...` prints `python -m evalkit eval-retry LOG`, and it runs."""
    if not (BIN / "python").exists():
        pytest.skip("this interpreter has no `python` beside it (not a virtualenv)")
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    resume = failed_eval([str(BIN / "python"), "-m", "evalkit"], tmp_path, path)

    assert resume == f"python -m evalkit eval-retry {shlex.quote(str(only_log(tmp_path)))}"
    assert run_pasted(resume, tmp_path, path).returncode == 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell")
def test_with_nothing_on_path_the_resume_command_names_this_interpreter(tmp_path: Path) -> None:
    """No `evalkit` and no matching `python` on PATH: the command names this interpreter
    by its full path, and it runs."""
    path = str(tmp_path / "empty")  # not even /usr/bin: no other python to pick up
    resume = failed_eval([sys.executable, "-m", "evalkit"], tmp_path, path)

    log = shlex.quote(str(only_log(tmp_path)))
    assert resume == f"{shlex.quote(sys.executable)} -m evalkit eval-retry {log}"
    assert run_pasted(resume, tmp_path, path).returncode == 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX shell")
def test_started_as_the_evalkit_script_the_resume_command_says_evalkit(tmp_path: Path) -> None:
    """The `evalkit` script, found on PATH, prints `evalkit eval-retry LOG`, and it runs."""
    script = BIN / "evalkit"
    if not script.exists():
        pytest.skip("evalkit is installed without its console script here")
    path = f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"
    resume = failed_eval([str(script)], tmp_path, path)

    assert resume == f"evalkit eval-retry {shlex.quote(str(only_log(tmp_path)))}"
    assert run_pasted(resume, tmp_path, path).returncode == 0
