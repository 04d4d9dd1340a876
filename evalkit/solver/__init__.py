"""Solvers: the steps that turn a sample into a model's answer."""

from ..dataset import Target
from ._basic import generate, system_message, use_tools
from ._choices import Choice, Choices, answer_character, answer_index
from ._critique import self_critique
from ._limits import SampleLimits, solve_within_limits
from ._loop import generate_loop, make_generate
from ._multiple_choice import MultipleChoiceTemplate, multiple_choice
from ._prompt import assistant_message, chain_of_thought, prompt_template, user_message
from ._solver import Generate, Solver, ToolCalls, chain, solver
from ._state import TaskState
from ._store import Store

__all__ = [
    "Choice",
    "Choices",
    "Generate",
    "MultipleChoiceTemplate",
    "SampleLimits",
    "Solver",
    "Store",
    "Target",
    "TaskState",
    "ToolCalls",
    "answer_character",
    "answer_index",
    "assistant_message",
    "chain",
    "chain_of_thought",
    "generate",
    "generate_loop",
    "make_generate",
    "multiple_choice",
    "prompt_template",
    "self_critique",
    "solve_within_limits",
    "solver",
    "system_message",
    "use_tools",
    "user_message",
]
