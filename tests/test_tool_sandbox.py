"""bash and python in the local sandbox: per-sample directory, output, exit codes, timeouts."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest

from evalkit.errors import UsageError
from evalkit.tool import (
    MAX_TOOL_OUTPUT,
    ToolError,
    bash,
    python,
    sandbox,
    sandbox_context,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the local sandbox is POSIX only")


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def is_running(pid: int) -> bool:
    """Whether ``pid`` is alive; a zombie (killed, not yet reaped) counts as dead."""
    stat = Path(f"/proc/{pid}/stat")
    if stat.parent.parent.is_dir() and Path("/proc/self").exists():
        try:
            state = stat.read_text().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            return False
        return state not in ("Z", "X")
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


async def wait_until_dead(pid: int) -> None:
    with anyio.fail_after(5):
        # Polling: the death of a process we did not start has no event to wait on.
        while is_running(pid):  # noqa: ASYNC110
            await anyio.sleep(0.01)


@pytest.mark.anyio
async def test_bash_runs_in_the_sample_directory() -> None:
    """bash's working directory is the sandbox's fresh, empty directory."""
    async with sandbox_context() as box:
        output = await bash()(command="pwd; ls -A | wc -l")
        assert box is sandbox()
    lines = str(output).split()
    assert await anyio.Path(lines[0]).resolve() == await anyio.Path(box.directory).resolve()
    assert lines[1] == "0"


@pytest.mark.anyio
async def test_files_persist_within_a_sample_and_directory_removed_after() -> None:
    """Files written by one call are seen by the next (bash and python); the directory goes at the end."""
    async with sandbox_context() as box:
        await bash()(command="echo hello > note.txt")
        read_back = await python()(code="print(open('note.txt').read().upper(), end='')")
        assert read_back == "HELLO\n"
        assert (box.directory / "note.txt").read_text() == "hello\n"
    assert not box.directory.exists()


@pytest.mark.anyio
async def test_samples_get_separate_directories() -> None:
    """Two sandboxes, even nested, never share a directory."""
    async with sandbox_context() as first:
        await bash()(command="touch mine")
        async with sandbox_context() as second:
            listing = await bash()(command="ls")
        assert first.directory != second.directory
        assert listing == ""
        assert sandbox() is first


@pytest.mark.anyio
async def test_tool_outside_a_sample_uses_a_throwaway_directory() -> None:
    """Outside sandbox_context a call gets its own directory, removed right after."""
    output = await bash()(command="pwd")
    directory = anyio.Path(str(output).strip())
    assert directory.name.startswith("evalkit-sandbox-")
    assert not await directory.exists()


def test_sandbox_outside_a_sample_raises() -> None:
    """sandbox() with none active says how to get one."""
    with pytest.raises(UsageError, match=r"sandbox_context"):
        sandbox()


@pytest.mark.anyio
async def test_stdout_and_stderr_combined_and_exit_code_reported() -> None:
    """Output interleaves stdout and stderr; a non-zero exit code is noted in the result."""
    async with sandbox_context():
        output = await bash()(command="echo out; echo err >&2; exit 3")
    assert output == "out\nerr\n[exit code: 3]"


@pytest.mark.anyio
async def test_python_runs_code_and_reports_tracebacks() -> None:
    """python prints results, and an exception shows its traceback and exit code 1."""
    async with sandbox_context():
        ok = await python()(code="print(6 * 7)")
        failed = await python()(code="print('before')\nraise ValueError('bad input')")
    assert ok == "42\n"
    assert str(failed).startswith("before\nTraceback")
    assert str(failed).endswith("ValueError: bad input\n[exit code: 1]")


@pytest.mark.anyio
async def test_commands_do_not_wait_for_stdin() -> None:
    """stdin is empty, so a command that reads it ends at once."""
    with anyio.fail_after(5):
        output = await bash(timeout=30)(command="cat; echo done")
    assert output == "done\n"


@pytest.mark.anyio
async def test_long_output_truncated_with_marker() -> None:
    """Output over MAX_TOOL_OUTPUT is cut to it, with a marker counting the bytes omitted."""
    async with sandbox_context():
        output = str(await python()(code="print('a' * 100_000)"))
    assert len(output.encode()) <= MAX_TOOL_OUTPUT
    head, _, rest = output.partition("\n[output truncated: ")
    omitted, _, tail = rest.partition(" bytes omitted]\n")
    assert int(omitted) == 100_001 - len(head) - len(tail)
    assert set(head) == {"a"}


@pytest.mark.anyio
async def test_timeout_kills_the_command_and_its_children() -> None:
    """A command over its timeout is a ToolError, and the whole process group is killed."""
    async with sandbox_context() as box:
        with anyio.fail_after(5), pytest.raises(ToolError) as caught:
            await bash(timeout=0.5)(command="echo started; sleep 100 & echo $! > sleep.pid; wait")
        pid = int((box.directory / "sleep.pid").read_text())
        await wait_until_dead(pid)
    assert caught.value.message == "timed out after 0.5s; output before the timeout:\nstarted\n"


@pytest.mark.anyio
async def test_background_process_does_not_block_and_is_stopped() -> None:
    """A command that leaves a child running returns when it exits; the child is killed."""
    async with sandbox_context() as box:
        with anyio.fail_after(5):
            output = await bash(timeout=30)(command="sleep 100 & echo $! > sleep.pid; echo back")
        assert output == "back\n"
        await wait_until_dead(int((box.directory / "sleep.pid").read_text()))


@pytest.mark.anyio
async def test_cancelled_call_kills_the_process() -> None:
    """Cancelling a running command (a call timeout, a sample limit) kills it."""
    async with sandbox_context() as box:
        with anyio.move_on_after(0.5) as scope:
            await bash(timeout=None)(command="echo $$ > shell.pid; sleep 100")
        assert scope.cancelled_caught
        await wait_until_dead(int((box.directory / "shell.pid").read_text()))
