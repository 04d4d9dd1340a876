"""``bash`` and ``python``: run code the model writes in the sample's sandbox."""

from __future__ import annotations

import shlex
import sys

from ._sandbox import ExecResult, sandbox_for_call
from ._tool import Tool, ToolError, timeout_message, tool


@tool
def bash(timeout: float | None = 60, user: str | None = None) -> Tool:
    """A tool that runs bash commands in the sample's sandbox directory.

    Args:
        timeout: Seconds a command may run before it is killed (None: no limit).
        user: The user to run commands as (a sandbox type with users only).
    """

    async def execute(command: str) -> str:
        """Run a bash command and return its output (stdout and stderr combined).

        Commands run in a working directory whose files persist between calls.
        Processes left running in the background are stopped when the command
        returns.

        Args:
            command: The bash command to run.
        """
        async with sandbox_for_call() as box:
            # stderr joins stdout in the shell, so the model sees them in the order written.
            result = await box.exec(["bash", "-c", "exec 2>&1\n" + command], user=user,
                                    timeout=timeout)
        return _result_text(result, timeout)

    return execute


@tool
def python(timeout: float | None = 60, user: str | None = None) -> Tool:
    """A tool that runs Python code in the sample's sandbox directory.

    Args:
        timeout: Seconds the code may run before it is killed (None: no limit).
        user: The user to run the code as (a sandbox type with users only).
    """

    async def execute(code: str) -> str:
        """Run Python code as a script and return its output (stdout and stderr combined).

        Each call starts a new interpreter, so use print() to see values.
        The code runs in a working directory whose files persist between calls.

        Args:
            code: The Python code to run.
        """
        async with sandbox_for_call() as box:
            # The code on stdin rather than `-c`: no argument-length limit. -u and
            # stderr joined to stdout keep prints and tracebacks in the order they happened.
            script = f"exec 2>&1; exec {shlex.quote(sys.executable)} -u -"
            result = await box.exec(["bash", "-c", script], input=code, user=user,
                                    timeout=timeout)
        return _result_text(result, timeout)

    return execute


def _result_text(result: ExecResult, timeout: float | None) -> str:
    """The output, with a non-zero exit code noted; a timeout is an error the model sees."""
    if result.timed_out:
        before = f"; output before the timeout:\n{result.output}" if result.output else ""
        raise ToolError(timeout_message(timeout or 0) + before)
    if result.returncode == 0:
        return result.output
    newline = "" if not result.output or result.output.endswith("\n") else "\n"
    return f"{result.output}{newline}[exit code: {result.returncode}]"
