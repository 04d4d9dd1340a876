"""ToolDef (a tool described in code) and the think() tool."""

from __future__ import annotations

from typing import Any

import pytest

from evalkit import Task, eval
from evalkit.dataset import Sample
from evalkit.errors import UsageError
from evalkit.log import read_eval_log
from evalkit.model import ModelOutput
from evalkit.solver import generate, use_tools
from evalkit.tool import Tool, ToolDef, think, tool, tool_info

MOCK = "mockllm/model"


async def lookup(key: str, exact: bool = False) -> str:
    return f"value of {key}" + (" (exact)" if exact else "")


def test_tooldef_describes_an_undocumented_function() -> None:
    """name, description and parameter texts come from ToolDef; types from the hints."""
    defined = ToolDef(lookup, name="find", description="Find a value.",
                      parameters={"key": "The key.", "exact": "Match exactly."})
    info = tool_info(defined.as_tool())
    assert (info.name, info.description) == ("find", "Find a value.")
    assert info.parameters["properties"]["key"] == {"type": "string", "description": "The key."}
    assert info.parameters["properties"]["exact"]["default"] is False
    assert info.parameters["required"] == ["key"]


def test_tooldef_without_descriptions_is_refused() -> None:
    """An undocumented parameter is still an error: the model could not use it well."""
    with pytest.raises(UsageError, match="'exact' not described"):
        ToolDef(lookup, description="Find a value.", parameters={"key": "The key."})
    with pytest.raises(UsageError, match="no parameter 'nope'"):
        ToolDef(lookup, description="d", parameters={"key": "k", "exact": "e", "nope": "x"})


@tool
def shout() -> Tool:
    async def execute(text: str) -> str:
        """Say it loudly.

        Args:
            text: What to say.
        """
        return text.upper()

    return execute


def test_tooldef_renames_an_existing_tool_without_changing_it() -> None:
    """A ToolDef over a @tool keeps its schema, overrides what it is given; the original stays."""
    original = shout()
    renamed = ToolDef(original, name="yell", parameters={"text": "Words."}).as_tool()
    assert tool_info(renamed).name == "yell"
    assert tool_info(renamed).parameters["properties"]["text"]["description"] == "Words."
    assert tool_info(original).name == "shout"
    assert tool_info(original).parameters["properties"]["text"]["description"] == "What to say."


def test_use_tools_accepts_a_tooldef_and_the_model_calls_it() -> None:
    """use_tools(ToolDef(...)) and think(): the model calls both; think returns ''."""
    outputs: list[Any] = [
        ModelOutput.for_tool_call(MOCK, "think", {"thought": "look it up first"}),
        ModelOutput.for_tool_call(MOCK, "find", {"key": "k"}),
        ModelOutput.from_content(MOCK, "done"),
    ]
    task = Task(dataset=[Sample(input="go")],
                solver=[use_tools(think(), ToolDef(lookup, name="find", description="Find.",
                                                   parameters={"key": "k", "exact": "e"})),
                        generate()])
    [log] = eval(task, model=MOCK, display="none", model_args={"custom_outputs": outputs})
    assert log.location is not None
    [record] = read_eval_log(log.location).samples or []
    assert [m.content for m in record.messages if m.role == "tool"] == ["", "value of k"]


def test_think_has_one_thought_parameter_and_custom_descriptions() -> None:
    """think()'s schema is {thought: string}; both descriptions can be replaced."""
    info = tool_info(think(description="Reason here.", thought_description="The idea."))
    assert (info.name, info.description) == ("think", "Reason here.")
    assert info.parameters["properties"] == {
        "thought": {"type": "string", "description": "The idea."}}
    assert tool_info(think()).description.startswith("Write down your reasoning")
