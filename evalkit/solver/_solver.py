"""The solver protocol, ``@solver`` and ``chain``."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal, Protocol, TypeVar, cast, overload

from ..model import GenerateConfig
from ._state import TaskState

ToolCalls = Literal["loop", "single", "none"]


class Generate(Protocol):
    """What the runner hands every solver: call the model on the state."""

    async def __call__(
        self,
        state: TaskState,
        tool_calls: ToolCalls = "loop",
        config: GenerateConfig | None = None,
    ) -> TaskState: ...


class Solver(Protocol):
    async def __call__(self, state: TaskState, generate: Generate) -> TaskState: ...


SolverFactory = TypeVar("SolverFactory", bound=Callable[..., Solver])


@overload
def solver(factory: SolverFactory) -> SolverFactory: ...


@overload
def solver(*, name: str | None = None) -> Callable[[SolverFactory], SolverFactory]: ...


def solver(
    factory: SolverFactory | None = None, *, name: str | None = None
) -> SolverFactory | Callable[[SolverFactory], SolverFactory]:
    """Mark a factory of solvers; the solvers it returns carry its name."""

    def decorate(inner: SolverFactory) -> SolverFactory:
        solver_name = name or inner.__name__

        @functools.wraps(inner)
        def make(*args: Any, **kwargs: Any) -> Solver:
            made = inner(*args, **kwargs)
            made.__evalkit_name__ = solver_name  # type: ignore[attr-defined]  # tag for logs
            return made

        return cast(SolverFactory, make)

    return decorate(factory) if factory is not None else decorate


def chain(*solvers: Solver | list[Solver]) -> Solver:
    """One solver that runs ``solvers`` in order, stopping once a state is completed."""
    flat: list[Solver] = []
    for item in solvers:
        flat.extend(item if isinstance(item, list) else [item])

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        for step in flat:
            state = await step(state, generate)
            if state.completed:
                break
        return state

    return solve
