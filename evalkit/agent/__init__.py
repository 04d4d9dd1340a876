"""Agents, where Inspect AI keeps them: ``from evalkit.agent import react``.

In evalkit an agent is a solver: ``react(...)`` goes straight into
``Task(solver=...)`` or a chain, and ``as_solver`` (kept for task files written
for Inspect) returns it unchanged.
"""

from ..solver import AgentAttempts, AgentPrompt, AgentSubmit, Solver, react


def as_solver(agent: Solver) -> Solver:
    """``agent`` itself: evalkit's agents are solvers already."""
    return agent


__all__ = ["AgentAttempts", "AgentPrompt", "AgentSubmit", "as_solver", "react"]
