"""Replay metadata for the log header: versions, git state, hashes, host."""

from __future__ import annotations

import platform
import socket
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from .._util._hash import sha256_file

_PACKAGES = ("evalkit", "pydantic", "anyio", "httpx", "zstandard")


def replay_metadata(task_file: str | None, seed: int | None, command: str | None) -> dict[str, Any]:
    """What is needed to reproduce a run, as far as it can be known cheaply."""
    data: dict[str, Any] = {
        "python": platform.python_version(),
        "evalkit": _version("evalkit"),
        "packages": {name: _version(name) for name in _PACKAGES},
        "host": socket.gethostname(),
        "platform": sys.platform,
        "command": command,
        "seed": seed,
    }
    if task_file and Path(task_file).is_file():
        data["task_file_sha256"] = sha256_file(task_file)
        data["git"] = git_state(Path(task_file).parent)
    return {key: value for key, value in data.items() if value is not None}


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def git_state(directory: Path) -> dict[str, Any] | None:
    """Commit, dirty flag and origin of the git repository holding ``directory``."""
    commit = _git(directory, "rev-parse", "HEAD")
    if commit is None:
        return None
    status = _git(directory, "status", "--porcelain", "--untracked-files=no")
    return {
        "commit": commit,
        "dirty": bool(status),
        "origin": _git(directory, "remote", "get-url", "origin"),
    }


def _git(directory: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(directory), *args], capture_output=True,
                              text=True, timeout=5, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None
