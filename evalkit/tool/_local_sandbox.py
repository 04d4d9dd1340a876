"""The ``local`` sandbox: a fresh working directory per sample, and commands run in it.

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
from pathlib import Path
from typing import Literal, overload

import anyio
from anyio.abc import ByteReceiveStream, Process

from ..errors import UsageError
from ._output import MAX_TOOL_OUTPUT, OutputBuffer
from ._sandbox import ExecResult, SandboxEnvironment, sandboxenv

# Polling the exit status backs off to this interval (seconds).
_MAX_POLL_INTERVAL = 0.05


@sandboxenv(name="local")
class LocalSandbox(SandboxEnvironment):
    """A temporary working directory where tools run commands.

    Without a ``directory`` one is made on first use, so a sample that runs no
    tool costs nothing more than this object.
    """

    def __init__(self, directory: Path | None = None) -> None:
        self._directory = directory

    @classmethod
    async def sample_init(cls, config: str | None = None) -> LocalSandbox:
        return cls()

    async def sample_cleanup(self) -> None:
        if self.created:
            await anyio.to_thread.run_sync(shutil.rmtree, self.directory, True)

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
        return f"LocalSandbox({str(self._directory) if self._directory else '(not created yet)'})"

    async def exec(
        self,
        cmd: list[str],
        input: str | bytes | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        user: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 -- kills the command and returns a result; no raise
    ) -> ExecResult:
        """Run ``cmd`` in the sandbox directory (or ``cwd`` inside it), killing it after
        ``timeout`` seconds; the command and every process it starts end with the call."""
        if user is not None:
            raise UsageError(
                f"the local sandbox runs commands as the current user, not {user!r}; "
                "leave user= out, or use a sandbox type that has users"
            )
        data = input.encode() if isinstance(input, str) else input
        process = await anyio.open_process(
            list(cmd),
            cwd=self.resolve(cwd) if cwd is not None else self.directory,
            env={**os.environ, **env} if env else None,
            stdin=subprocess.PIPE if data is not None else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,  # its own process group, to kill its children too
        )
        stdout, stderr = OutputBuffer(MAX_TOOL_OUTPUT), OutputBuffer(MAX_TOOL_OUTPUT)
        try:
            with anyio.move_on_after(timeout) as deadline:
                async with anyio.create_task_group() as group:
                    if data is not None:
                        group.start_soon(_send_input, process, data)
                    assert process.stdout is not None and process.stderr is not None
                    group.start_soon(_read_output, process.stdout, stdout)
                    group.start_soon(_read_output, process.stderr, stderr)
                    await _wait_for_exit(process)
                    # Background children hold the output pipes open; end them so reading ends.
                    _kill_process_group(process)
        finally:
            _kill_process_group(process)
            with anyio.CancelScope(shield=True):
                await process.aclose()
        if deadline.cancelled_caught:
            return ExecResult(None, stdout.text(), stderr.text(), timed_out=True)
        return ExecResult(process.returncode, stdout.text(), stderr.text())

    @overload
    async def read_file(self, file: str, text: Literal[True] = True) -> str: ...

    @overload
    async def read_file(self, file: str, text: Literal[False]) -> bytes: ...

    async def read_file(self, file: str, text: bool = True) -> str | bytes:
        path = self.resolve(file)
        data = await anyio.Path(path).read_bytes()
        return data.decode("utf-8") if text else data

    async def write_file(self, file: str, contents: str | bytes) -> None:
        path = self.resolve(file)
        await anyio.Path(path.parent).mkdir(parents=True, exist_ok=True)
        data = contents.encode("utf-8") if isinstance(contents, str) else contents
        await anyio.Path(path).write_bytes(data)

    def resolve(self, file: str) -> Path:
        """``file`` as a host path: relative paths start at the sandbox directory.

        PermissionError for a path that leads outside it (``..``, an absolute
        path elsewhere, a symlink pointing out), so a model's tool call cannot
        read or write the host's files through these methods.
        """
        base = self.directory.resolve()
        path = (self.directory / file).resolve()
        if path != base and base not in path.parents:
            raise PermissionError(
                f"{file!r} is outside the sandbox directory: use a path inside it "
                "(relative paths start there)"
            )
        return path


async def _send_input(process: Process, data: bytes) -> None:
    assert process.stdin is not None
    # The command may exit without reading its input.
    with contextlib.suppress(anyio.BrokenResourceError, anyio.ClosedResourceError):
        await process.stdin.send(data)
        await process.stdin.aclose()


async def _read_output(stream: ByteReceiveStream, output: OutputBuffer) -> None:
    async for chunk in stream:
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
