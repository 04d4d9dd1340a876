"""Tool schemas from signatures and Google-style docstrings."""

from __future__ import annotations

from typing import Any, Literal, Optional

import pytest

from evalkit.errors import UsageError
from evalkit.tool import Tool, ToolInfo, tool, tool_info
from evalkit.tool._docstring import parse_docstring


@tool
def search() -> Tool:
    async def execute(
        query: str,
        limit: int = 10,
        threshold: float | None = None,
        exact: bool = False,
        sort: Literal["relevance", "date"] = "relevance",
        fields: list[str] | None = None,
        weights: Optional[dict[str, float]] = None,  # noqa: UP045 -- Optional[...] is what is tested
        payload: Any = None,
    ) -> str:
        """Search the documents.

        Matches are ranked by score.

        Args:
            query: The text to look for.
            limit (int): At most this many
                results are returned.
            threshold: Minimum score.
            exact: Match whole words only.
            sort: Result order.
            fields: Fields to search.
            weights: Weight per field.
            payload: Anything at all.

        Returns:
            The matches, one per line.
        """
        return query

    return execute


def test_tool_info_has_name_description_and_required() -> None:
    """The factory's name, the docstring text before its sections, and only parameters without defaults required."""
    info = tool_info(search())
    assert isinstance(info, ToolInfo)
    assert info.name == "search"
    assert info.description == "Search the documents.\n\nMatches are ranked by score."
    assert info.parameters["type"] == "object"
    assert info.parameters["required"] == ["query"]


def test_scalar_types_descriptions_and_defaults() -> None:
    """str/int/bool map to JSON types; Args text (with continuation lines) and defaults are kept."""
    properties = tool_info(search()).parameters["properties"]
    assert properties["query"] == {"type": "string", "description": "The text to look for."}
    assert properties["limit"] == {
        "type": "integer",
        "description": "At most this many results are returned.",
        "default": 10,
    }
    assert properties["exact"] == {
        "type": "boolean",
        "description": "Match whole words only.",
        "default": False,
    }


def test_optional_list_dict_and_any() -> None:
    """X | None and Optional[X] are anyOf with null; list and dict carry their item types; Any is unconstrained."""
    properties = tool_info(search()).parameters["properties"]
    assert properties["threshold"]["anyOf"] == [{"type": "number"}, {"type": "null"}]
    assert properties["fields"]["anyOf"] == [
        {"type": "array", "items": {"type": "string"}},
        {"type": "null"},
    ]
    assert properties["weights"]["anyOf"] == [
        {"type": "object", "additionalProperties": {"type": "number"}},
        {"type": "null"},
    ]
    assert properties["weights"]["default"] is None
    assert properties["payload"] == {"description": "Anything at all.", "default": None}


def test_literal_becomes_enum() -> None:
    """Literal values become an enum with their common JSON type."""
    sort = tool_info(search()).parameters["properties"]["sort"]
    assert sort["enum"] == ["relevance", "date"]
    assert sort["type"] == "string"
    assert sort["default"] == "relevance"


def test_named_tool_and_factory_arguments() -> None:
    """@tool(name=...) overrides the name; factory arguments reach the tool."""

    @tool(name="multiply_by")
    def scaler(factor: int) -> Tool:
        async def execute(x: int) -> int:
            """Multiply by a fixed factor.

            Args:
                x: The number to multiply.
            """
            return x * factor

        return execute

    made = scaler(3)
    assert tool_info(made).name == "multiply_by"
    assert tool_info(made).parameters["required"] == ["x"]


def test_tool_info_is_a_copy() -> None:
    """Changing the returned ToolInfo does not change the tool's own schema."""
    made = search()
    tool_info(made).parameters["required"].append("limit")
    assert tool_info(made).parameters["required"] == ["query"]


def test_missing_docstring_param_names_tool_and_parameter() -> None:
    """A parameter absent from Args raises UsageError naming the tool, the parameter and the fix."""

    @tool
    def lookup() -> Tool:
        async def execute(key: str, default: str = "") -> str:
            """Look a key up.

            Args:
                key: The key.
            """
            return key

        return execute

    with pytest.raises(UsageError) as caught:
        lookup()
    message = str(caught.value)
    assert message.startswith("tool 'lookup': parameter 'default' not described")
    assert "Args:\n        default: what it means." in message


def test_variadic_parameters_rejected() -> None:
    """**kwargs cannot be described to a model: UsageError naming it."""

    @tool
    def loose() -> Tool:
        async def execute(**options: str) -> str:
            """Take anything.

            Args:
                options: Anything.
            """
            return ""

        return execute

    with pytest.raises(UsageError, match=r"'loose', parameter 'options': \*args and \*\*kwargs"):
        loose()


def test_missing_docstring_raises() -> None:
    """A tool without a docstring raises UsageError asking for one."""

    @tool
    def nodoc() -> Tool:
        async def execute(x: int) -> int:
            return x

        return execute

    with pytest.raises(UsageError, match=r"'nodoc' has no description"):
        nodoc()


def test_unsupported_and_missing_annotations_raise() -> None:
    """An unannotated parameter or an unsupported type raises UsageError naming the parameter."""

    @tool
    def untyped() -> Tool:
        async def execute(x) -> str:  # type: ignore[no-untyped-def]  # the missing annotation is the point
            """Echo.

            Args:
                x: A value.
            """
            return str(x)

        return execute

    @tool
    def odd_type() -> Tool:
        async def execute(x: complex) -> str:
            """Echo.

            Args:
                x: A value.
            """
            return str(x)

        return execute

    with pytest.raises(UsageError, match=r"parameter 'x' has no type annotation"):
        untyped()
    with pytest.raises(
        UsageError, match=r"'odd_type', parameter 'x': type complex is not supported"
    ):
        odd_type()


def test_factory_must_return_async_function() -> None:
    """A factory returning a plain function raises UsageError."""

    @tool
    def sync_tool() -> Tool:
        def execute() -> str:
            """Do it."""
            return ""

        return execute  # type: ignore[return-value]  # the wrong return is the point

    with pytest.raises(UsageError, match=r"must return an `async def execute"):
        sync_tool()


def test_invalid_tool_name_rejected() -> None:
    """A name model APIs refuse raises UsageError when decorating."""
    with pytest.raises(UsageError, match=r"'has space'"):

        @tool(name="has space")
        def spaced() -> Tool:
            raise AssertionError("never called")


def test_tool_info_of_plain_function_raises() -> None:
    """tool_info on something not made by @tool says how to make a tool."""

    async def execute(x: int) -> int:
        """Nothing.

        Args:
            x: A number.
        """
        return x

    with pytest.raises(UsageError, match=r"decorated with @tool"):
        tool_info(execute)


def test_callable_object_tool() -> None:
    """An object with an async __call__ is described by that method."""

    class Counter:
        async def __call__(self, step: int = 1) -> int:
            """Count up.

            Args:
                step: How much to add.
            """
            return step

    @tool
    def counter() -> Tool:
        return Counter()

    info = tool_info(counter())
    assert info.description == "Count up."
    assert info.parameters["properties"]["step"] == {
        "type": "integer",
        "description": "How much to add.",
        "default": 1,
    }


def test_parse_docstring_stops_at_next_section() -> None:
    """Args entries end at the next section; other sections add no parameters."""
    parsed = parse_docstring(
        """Summary.

        Args:
            a (str): First
              line two.
            *rest: Others.

        Raises:
            ValueError: never.
        """
    )
    assert parsed.description == "Summary."
    assert parsed.params == {"a": "First line two.", "rest": "Others."}
