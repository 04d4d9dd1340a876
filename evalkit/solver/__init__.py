"""Solvers: the steps that turn a sample into a model's answer."""

from ..dataset import Target
from ._basic import generate, system_message, use_tools
from ._basic_agent import basic_agent
from ._choices import Choice, Choices, answer_character, answer_index
from ._critique import self_critique
from ._limits import SampleLimits, solve_within_limits
from ._loop import generate_loop, make_generate
from ._multiple_choice import MultipleChoiceTemplate, multiple_choice
from ._prompt import assistant_message, chain_of_thought, prompt_template, user_message
from ._react import AgentAttempts, AgentPrompt, AgentSubmit, react
from ._solver import Generate, Solver, ToolCalls, chain, solver
from ._state import TaskState
from ._store import Store

__all__ = [
    "AgentAttempts",
    "AgentPrompt",
    "AgentSubmit",
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
    "basic_agent",
    "chain",
    "chain_of_thought",
    "generate",
    "generate_loop",
    "make_generate",
    "multiple_choice",
    "prompt_template",
    "react",
    "self_critique",
    "solve_within_limits",
    "solver",
    "system_message",
    "use_tools",
    "user_message",
]
