"""Replay metadata for the log header: versions, git state, hashes, seed, host.

Everything here is what someone needs to rerun an eval and expect the same
result: which code (task file hash, git commit and whether the tree was
dirty), which libraries, which seed, which command. It is gathered once per
run and must stay cheap: a few ``git`` calls and no network.
"""

from __future__ import annotations

import ast
import platform
import shlex
import socket
import subprocess
import sys
from collections.abc import Iterable
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .._util._hash import sha256_file
from .._util._secrets import redact_command

# evalkit's own dependencies: they shape requests, parsing and the log itself.
CORE_PACKAGES = ("pydantic", "anyio", "aiohttp", "zstandard")
_GIT_TIMEOUT = 5.0


def replay_metadata(
    task_file: str | None, seed: int | None, command: str | None, secrets: Iterable[str] = ()
) -> dict[str, Any]:
    """What is needed to reproduce a run, as far as it can be known cheaply.

    ``command`` is the ``evalkit ...`` command line; for ``eval()`` called from
    Python it is None and the interpreter's own argv is recorded instead. Either
    way credentials in it (``-M api_key=...``, URL userinfo, the literal
    ``secrets``) are masked.
    """
    data: dict[str, Any] = {
        "evalkit": _version("evalkit"),
        "python": platform.python_version(),
        "python_implementation": platform.python_implementation(),
        "platform": sys.platform,
        "host": socket.gethostname(),
        "command": redact_command(command or _interpreter_command(), secrets),
        "seed": seed,
    }
    packages = {name: _version(name) for name in CORE_PACKAGES}
    if task_file and Path(task_file).is_file():
        path = Path(task_file).resolve()
        data["task_file_sha256"] = sha256_file(path)
        packages.update(task_package_versions(path))
        data["git"] = git_state(path)
    data["packages"] = {name: version for name, version in sorted(packages.items()) if version}
    return {key: value for key, value in data.items() if value is not None}


def _interpreter_command() -> str:
    """``python script.py ...`` (or a notebook kernel's argv) when not run by the CLI."""
    return shlex.join([Path(sys.executable).name, *sys.argv])


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def task_package_versions(task_file: Path) -> dict[str, str]:
    """Versions of the installed distributions the task file imports.

    Standard-library modules and modules sitting next to the task file (the
    user's own helpers, covered by the git state) are left out.
    """
    versions: dict[str, str] = {}
    for module in sorted(imported_modules(task_file)):
        if module in sys.stdlib_module_names or _is_local(module, task_file.parent):
            continue
        for distribution in _distributions_of(module):
            version = _version(distribution)
            if version:
                versions[distribution] = version
    return versions


def imported_modules(task_file: Path) -> set[str]:
    """Top-level names of the absolute imports in ``task_file`` (read, never run)."""
    try:
        tree = ast.parse(task_file.read_bytes(), filename=str(task_file))
    except (OSError, SyntaxError, ValueError):
        return set()
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _is_local(module: str, directory: Path) -> bool:
    return (directory / f"{module}.py").exists() or (directory / module).is_dir()


def _distributions_of(module: str) -> list[str]:
    # Most distributions are named like their module: one cheap lookup. The
    # full module-to-distribution map scans every installed package (~0.1 s),
    # so it is built only for the odd one out (``import yaml`` is PyYAML).
    if _version(module) is not None:
        return [module]
    return _module_distributions().get(module, [])


@lru_cache(maxsize=1)
def _module_distributions() -> dict[str, list[str]]:
    return dict(metadata.packages_distributions())


def git_state(task_file: Path) -> dict[str, Any] | None:
    """Commit, dirty flag and origin of the git repository holding ``task_file``.

    ``dirty`` means tracked files differ from the commit; ``task_file_status``
    says whether the task file itself is ``clean``, ``modified`` or
    ``untracked`` (an untracked task file is not in the commit at all).
    """
    directory = task_file.parent
    head = _git(directory, "rev-parse", "HEAD", "--show-toplevel")
    if head is None or len(head.splitlines()) != 2:
        return None  # not in a repository, no commit yet, or no git installed
    commit, root = head.splitlines()
    changes = _git(directory, "status", "--porcelain", "--untracked-files=no") or ""
    state: dict[str, Any] = {
        "commit": commit,
        "dirty": bool(changes.strip()),
        "origin": _without_credentials(_git(directory, "remote", "get-url", "origin")),
        "task_file": _relative_to(task_file, Path(root)),
        "task_file_status": _file_status(directory, task_file),
    }
    return {key: value for key, value in state.items() if value is not None}


def _file_status(directory: Path, task_file: Path) -> str:
    status = _git(directory, "status", "--porcelain", "--ignored", "--", task_file.name) or ""
    code = status[:2]
    if not code:
        return "clean"
    if code in ("??", "!!"):
        return "untracked"
    return "modified"


def _without_credentials(url: str | None) -> str | None:
    """``https://user:token@host/repo`` without ``user:token@``: logs get shared."""
    if url is None:
        return None
    parts = urlsplit(url)
    if "@" not in parts.netloc or (parts.scheme not in ("http", "https") and not parts.password):
        return url  # a path, scp-like ``git@host:repo`` or ssh user: no secret in it
    host = parts.netloc.rsplit("@", 1)[1]
    return urlunsplit(parts._replace(netloc=host))


def _relative_to(path: Path, root: Path) -> str | None:
    try:
        return path.relative_to(root.resolve()).as_posix()
    except ValueError:
        return None


def _git(directory: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(directory), *args], capture_output=True,
                              text=True, timeout=_GIT_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.rstrip("\n") if done.returncode == 0 else None
