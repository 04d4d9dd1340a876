"""Stockroom: a ``react`` agent answers stock questions with a lookup tool, then submits.

    evalkit eval examples/stockroom.py --model openai/gpt-4o-mini
    evalkit eval examples/stockroom.py --model mockllm/model   # never submits: stops at the message limit

The agent must look each item up (the counts are only in data/stockroom.json),
do the arithmetic, and call ``submit()`` with the number; ``match(numeric=True)``
checks it.
"""

import json
from pathlib import Path

from evalkit import Task, task
from evalkit.agent import react
from evalkit.dataset import json_dataset
from evalkit.scorer import match
from evalkit.tool import Tool, ToolError, think, tool

DATA = Path(__file__).parent / "data"


@tool
def stock_level() -> Tool:
    inventory: dict[str, int] = json.loads((DATA / "stockroom.json").read_text())

    async def execute(item: str) -> int:
        """How many units of an item the stockroom holds.

        Args:
            item: The item's name, e.g. "hex bolt m6" (case does not matter).
        """
        key = " ".join(item.lower().split())
        if key not in inventory:
            known = ", ".join(sorted(inventory))
            raise ToolError(f"no item called {item!r}; the stockroom holds: {known}")
        return inventory[key]

    return execute


@task
def stockroom(attempts: int = 1) -> Task:
    """Stock questions answered by an agent that must look the numbers up."""
    return Task(
        dataset=json_dataset(str(DATA / "stockroom_questions.jsonl")),
        solver=react(
            prompt="You manage a hardware stockroom. Answer with a single number.",
            tools=[stock_level(), think()],
            attempts=attempts,
        ),
        scorer=match(numeric=True),
        message_limit=30,
    )
