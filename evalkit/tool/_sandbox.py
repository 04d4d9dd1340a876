"""A local sandbox: a fresh working directory per sample, and commands run in it.

It is not isolation: commands run as the current user, with its environment
and network. It keeps samples from seeing each other's files and cleans up
after them. POSIX only (commands run in their own process group).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path

import anyio
from anyio.abc import Process

from ..errors import UsageError
from ._output import MAX_TOOL_OUTPUT, OutputBuffer

# Polling the exit status backs off to this interval (seconds).
_MAX_POLL_INTERVAL = 0.05


@dataclass(frozen=True)
class ExecResult:
    """How a command ended: its exit code and its stdout and stderr, interleaved."""

    returncode: int | None
    """None when the command timed out; negative when a signal ended it."""
    output: str
    """At most MAX_TOOL_OUTPUT bytes; the middle of longer output is cut."""
    timed_out: bool = False

    @property
    def success(self) -> bool:
        return self.returncode == 0


class Sandbox:
    """A temporary working directory where tools run commands.

    Without a ``directory`` one is made on first use, so a sample that runs no
    tool costs nothing more than this object.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory

    @property
    def directory(self) -> Path:
        if self._directory is None:
            self._directory = Path(tempfile.mkdtemp(prefix="evalkit-sandbox-"))
        return self._directory

    @property
    def created(self) -> bool:
        """Whether the directory exists yet (made by the first use)."""
        return self._directory is not None

    def __repr__(self) -> str:
        return f"Sandbox({str(self._directory) if self._directory else '(not created yet)'})"

    async def exec(
        self,
        command: Sequence[str],
        *,
        input: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 -- kills the command and returns a result; no raise
    ) -> ExecResult:
        """Run ``command`` in the sandbox directory, killing it after ``timeout`` seconds.

        The command and every process it starts are killed when it returns or
        times out, so nothing outlives the call.
        """
        process = await anyio.open_process(
            list(command),
            cwd=self.directory,
            stdin=subprocess.PIPE if input is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, to kill its children too
        )
        output = OutputBuffer(MAX_TOOL_OUTPUT)
        try:
            with anyio.move_on_after(timeout) as deadline:
                async with anyio.create_task_group() as group:
                    if input is not None:
                        group.start_soon(_send_input, process, input.encode())
                    group.start_soon(_read_output, process, output)
                    await _wait_for_exit(process)
                    # Background children hold the output pipe open; end them so reading ends.
                    _kill_process_group(process)
        finally:
            _kill_process_group(process)
            with anyio.CancelScope(shield=True):
                await process.aclose()
        if deadline.cancelled_caught:
            return ExecResult(returncode=None, output=output.text(), timed_out=True)
        return ExecResult(returncode=process.returncode, output=output.text())


async def _send_input(process: Process, data: bytes) -> None:
    assert process.stdin is not None
    # The command may exit without reading its input.
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
        await process.stdin.send(data)
        await process.stdin.aclose()


async def _read_output(process: Process, output: OutputBuffer) -> None:
    assert process.stdout is not None
    async for chunk in process.stdout:
        output.feed(chunk)


async def _wait_for_exit(process: Process) -> None:
    """Wait for the command itself to exit.

    Not ``process.wait()``: on asyncio it also waits for the output pipe to
    close, which a background child may hold open.
    """
    interval = 0.001
    while process.returncode is None:
        await anyio.sleep(interval)
        interval = min(interval * 2, _MAX_POLL_INTERVAL)


def _kill_process_group(process: Process) -> None:
    # ProcessLookupError: the group is gone; PermissionError: macOS, for a group of zombies.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


_current: ContextVar[Sandbox | None] = ContextVar("evalkit_sandbox", default=None)


@asynccontextmanager
async def sandbox_context() -> AsyncIterator[Sandbox]:
    """A sandbox in a fresh temporary directory, bound for the tools run inside.

    The runner enters one around each sample (solver and scorers); the directory
    is made by the first tool that uses it and removed on exit.
    """
    active = Sandbox()
    token = _current.set(active)
    try:
        yield active
    finally:
        _current.reset(token)
        if active.created:
            with anyio.CancelScope(shield=True):  # clean up even when the sample is cancelled
                await anyio.to_thread.run_sync(shutil.rmtree, active.directory, True)


def sandbox() -> Sandbox:
    """The sandbox of the sample running now."""
    current = _current.get()
    if current is None:
        raise UsageError(
            "no sandbox is active: tools get one per sample when run by evalkit; "
            "elsewhere wrap the call in `async with sandbox_context():`."
        )
    return current


@asynccontextmanager
async def sandbox_for_call() -> AsyncIterator[Sandbox]:
    """The active sandbox, or a throwaway one for a tool run outside a sample."""
    current = _current.get()
    if current is not None:
        yield current
        return
    async with sandbox_context() as throwaway:
        yield throwaway
