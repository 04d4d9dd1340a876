"""Solvers: the steps that turn a sample into a model's answer."""

from ..dataset import Target
from ._basic import generate, system_message, use_tools
from ._limits import SampleLimits, solve_within_limits
from ._loop import generate_loop, make_generate
from ._solver import Generate, Solver, ToolCalls, chain, solver
from ._state import TaskState

__all__ = [
    "Generate",
    "SampleLimits",
    "Solver",
    "Target",
    "TaskState",
    "ToolCalls",
    "chain",
    "generate",
    "generate_loop",
    "make_generate",
    "solve_within_limits",
    "solver",
    "system_message",
    "use_tools",
]
