"""Shared fixtures: the anyio backend, a log directory, the CLI in a subprocess."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from evalkit._util._invocation import command_for
from evalkit.errors import LogError
from evalkit.log import iter_sample_lines

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"
EVALKIT_FROM_MODULE = command_for(started_as_module=True)
"""How a process started as `python -m evalkit` (as run_cli does) begins a printed command."""
RETRY_FROM_MODULE = f"{EVALKIT_FROM_MODULE} eval-retry"
"""... and so its resume command."""
RETRY_FROM_SCRIPT = f"{command_for(started_as_module=False)} eval-retry"
"""How any other process (the `evalkit` script, a script calling eval()) prints it."""


def samples_in_live_log(log_dir: Path) -> int:
    """Samples in the one log another process is writing in ``log_dir``, so far; 0
    while it is created but its header not yet written (an empty file reads as
    "not an evalkit log")."""
    logs = list(log_dir.glob("*.jsonl.zst"))
    try:
        return sum(1 for _ in iter_sample_lines(logs[0])) if logs else 0
    except LogError:
        return 0


@pytest.fixture
def anyio_backend() -> str:
    """Run every async test on asyncio (the loop evalkit's users run)."""
    return "asyncio"


@pytest.fixture
def log_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty log directory, also set as $EVALKIT_LOG_DIR."""
    directory = tmp_path / "logs"
    monkeypatch.setenv("EVALKIT_LOG_DIR", str(directory))
    return directory


@pytest.fixture(autouse=True)
def _isolated_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Tests run in a temporary directory so ./logs never lands in the repo."""
    monkeypatch.chdir(tmp_path)
    return


def require_tool(name: str) -> str:
    """The path of a command-line tool; skip (or fail in CI) when it is missing."""
    path = shutil.which(name)
    if path is None:
        if os.environ.get("EVALKIT_REQUIRE_CLI_TOOLS"):
            pytest.fail(f"{name} is required in CI; .ci/run installs it")
        pytest.skip(f"{name} is not installed")
    return path


def run_cli(*args: str, cwd: Path | None = None, timeout: float = 60,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run ``evalkit ARGS`` in a real subprocess and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "evalkit", *args], capture_output=True, text=True,
        timeout=timeout, cwd=cwd, env={**os.environ, **(env or {})}, check=False,
    )
