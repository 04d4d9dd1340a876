"""Sandboxes: where tools run commands and keep files, one per sample.

A sandbox *type* is a :class:`SandboxEnvironment` subclass registered under a
name with ``@sandboxenv``; ``local`` (a temporary directory on this machine)
is built in. The runner only ever talks to this interface, so another type
(a container, a remote machine) is added by registering it, not by changing
the runner.
"""

from __future__ import annotations

import abc
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Literal, TypeVar, overload

import anyio

from ..dataset._sample import SandboxSpec
from ..errors import UsageError


@dataclass(frozen=True)
class ExecResult:
    """How a command ended: its exit code, stdout and stderr."""

    returncode: int | None
    """None when the command timed out; negative when a signal ended it."""
    stdout: str
    """At most MAX_TOOL_OUTPUT bytes; the middle of longer output is cut."""
    stderr: str = ""
    timed_out: bool = False

    @property
    def success(self) -> bool:
        return self.returncode == 0

    @property
    def output(self) -> str:
        """stdout followed by stderr."""
        return self.stdout + self.stderr


class SandboxEnvironment(abc.ABC):
    """One sample's sandbox: run commands, read and write files in it.

    A sandbox type implements the three methods and the two lifecycle hooks,
    and registers itself with ``@sandboxenv(name=...)``.
    """

    @classmethod
    @abc.abstractmethod
    async def sample_init(cls, config: str | None = None) -> SandboxEnvironment:
        """A new sandbox for one sample (``config``: the type's config file, if any)."""

    @abc.abstractmethod
    async def sample_cleanup(self) -> None:
        """Release what the sandbox holds; called once when the sample ends, however."""

    @abc.abstractmethod
    async def exec(
        self,
        cmd: list[str],
        input: str | bytes | None = None,
        cwd: str | None = None,
        env: dict[str, str] | None = None,
        user: str | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 -- a timed-out command is a result
    ) -> ExecResult:
        """Run ``cmd`` (no shell); a timeout returns a result with ``timed_out`` set."""

    @overload
    async def read_file(self, file: str, text: Literal[True] = True) -> str: ...

    @overload
    async def read_file(self, file: str, text: Literal[False]) -> bytes: ...

    @abc.abstractmethod
    async def read_file(self, file: str, text: bool = True) -> str | bytes:
        """The contents of ``file`` (UTF-8 text, or bytes with ``text=False``)."""

    @abc.abstractmethod
    async def write_file(self, file: str, contents: str | bytes) -> None:
        """Write ``file``, making its parent directories."""


_SandboxType = TypeVar("_SandboxType", bound=type[SandboxEnvironment])
_TYPES: dict[str, type[SandboxEnvironment]] = {}


def sandboxenv(name: str) -> Callable[[_SandboxType], _SandboxType]:
    """Register a SandboxEnvironment subclass as the sandbox type ``name``."""

    def register(cls: _SandboxType) -> _SandboxType:
        _TYPES[name] = cls
        return cls

    return register


def sandbox_type(spec: SandboxSpec | None) -> tuple[type[SandboxEnvironment], str | None]:
    """The registered class and config file of ``spec`` (None: ``local``).

    UsageError naming the types that exist for one that does not.
    """
    from . import _local_sandbox  # noqa: F401  # registers "local"

    name, config = ("local", None) if spec is None else (
        (spec, None) if isinstance(spec, str) else spec)
    if name not in _TYPES:
        known = ", ".join(repr(each) for each in sorted(_TYPES))
        hint = (" evalkit has no container support yet;" if name in ("docker", "k8s")
                else "")
        raise UsageError(
            f"sandbox {name!r} is not available:{hint} the sandbox types are {known}. "
            "Use sandbox='local' (commands run on this machine in a temporary directory, "
            "not isolated), or register a type with @sandboxenv."
        )
    return _TYPES[name], config


_current: ContextVar[SandboxEnvironment | None] = ContextVar("evalkit_sandbox", default=None)


@asynccontextmanager
async def sandbox_context(spec: SandboxSpec | None = None) -> AsyncIterator[SandboxEnvironment]:
    """A new sandbox of type ``spec`` (default ``local``), bound for the tools run inside.

    The runner enters one around each sample (setup, solver and scorers); the
    sandbox is cleaned up on exit, also when the sample is cancelled.
    """
    kind, config = sandbox_type(spec)
    active = await kind.sample_init(config)
    token = _current.set(active)
    try:
        yield active
    finally:
        _current.reset(token)
        with anyio.CancelScope(shield=True):  # clean up even when the sample is cancelled
            await active.sample_cleanup()


def sandbox() -> SandboxEnvironment:
    """The sandbox of the sample running now."""
    current = _current.get()
    if current is None:
        raise UsageError(
            "no sandbox is active: tools get one per sample when run by evalkit; "
            "elsewhere wrap the call in `async with sandbox_context():`."
        )
    return current


@asynccontextmanager
async def sandbox_for_call() -> AsyncIterator[SandboxEnvironment]:
    """The active sandbox, or a throwaway one for a tool run outside a sample."""
    current = _current.get()
    if current is not None:
        yield current
        return
    async with sandbox_context() as throwaway:
        yield throwaway
