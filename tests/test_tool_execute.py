"""execute_tools: results, model-visible errors, sample errors, timeouts, events."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import anyio
import pytest

from evalkit._transcript import ToolEvent, Transcript, bind_transcript
from evalkit.errors import LimitExceeded, ToolCallError, UsageError
from evalkit.model import ToolCall
from evalkit.tool import MAX_TOOL_OUTPUT, Tool, ToolError, ToolResult, execute_tools, tool


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def events() -> Iterator[Transcript]:
    with bind_transcript(Transcript()) as active:
        yield active


@tool
def add() -> Tool:
    async def execute(x: int, y: float = 0.5, mode: Literal["sum", "max"] = "sum") -> float:
        """Add or take the larger of two numbers.

        Args:
            x: The first number.
            y: The second number.
            mode: What to compute.
        """
        return x + y if mode == "sum" else max(x, y)

    return execute


@tool
def read_file() -> Tool:
    async def execute(path: str) -> str:
        """Read a file.

        Args:
            path: The file to read.
        """
        raise ToolError(f"no such file: {path}")

    return execute


@tool
def broken() -> Tool:
    async def execute() -> str:
        """Fail with a bug."""
        raise KeyError("missing")

    return execute


@tool
def hang() -> Tool:
    async def execute() -> str:
        """Never return."""
        await anyio.sleep_forever()
        return ""

    return execute


@tool
def produce() -> Tool:
    async def execute(kind: str) -> ToolResult:
        """Return a value of some kind.

        Args:
            kind: Which value.
        """
        values: dict[str, ToolResult] = {"none": None, "list": [1, "a"], "big": "x" * 100_000}
        return values[kind]

    return execute


def call(function: str, call_id: str = "c1", **arguments: object) -> ToolCall:
    return ToolCall(id=call_id, function=function, arguments=arguments)


@pytest.mark.anyio
async def test_result_message_carries_id_function_and_text(events: Transcript) -> None:
    """A successful call gives a tool message with the id, function and result text, in call order."""
    messages = await execute_tools(
        [call("add", "a", x=2, y=3), call("add", "b", x=2, y=3, mode="max")], [add()]
    )
    assert [(m.tool_call_id, m.function, m.content, m.error) for m in messages] == [
        ("a", "add", "5", None),
        ("b", "add", "3", None),
    ]


@pytest.mark.anyio
async def test_result_values_become_text(events: Transcript) -> None:
    """None becomes empty text, a list becomes JSON."""
    messages = await execute_tools(
        [call("produce", kind="none"), call("produce", kind="list")], [produce()]
    )
    assert [m.content for m in messages] == ["", '[1, "a"]']


@pytest.mark.anyio
async def test_long_result_is_truncated(events: Transcript) -> None:
    """Any tool's result is cut to MAX_TOOL_OUTPUT bytes with a marker."""
    [message] = await execute_tools([call("produce", kind="big")], [produce()])
    assert len(message.content.encode()) <= MAX_TOOL_OUTPUT
    assert "[output truncated: " in message.content
    assert message.error is None


@pytest.mark.anyio
async def test_unknown_tool_lists_available(events: Transcript) -> None:
    """An unknown tool name gives an error message listing the tools there are."""
    [message] = await execute_tools([call("subtract", x=1)], [add(), read_file()])
    assert message.error == "unknown tool 'subtract'; available tools: 'add', 'read_file'"
    assert message.content == message.error
    assert message.tool_call_id == "c1"


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({}, "missing required argument 'x'"),
        ({"x": "two"}, "argument 'x' must be integer, got string \"two\""),
        ({"x": True}, "argument 'x' must be integer, got boolean true"),
        ({"x": 1, "z": 2}, "unexpected argument 'z' (parameters: 'x', 'y', 'mode')"),
        (
            {"x": 1, "mode": "min"},
            'argument \'mode\' must be one of "sum", "max", got string "min"',
        ),
    ],
)
async def test_bad_arguments_are_model_errors(
    events: Transcript, arguments: dict[str, object], expected: str
) -> None:
    """Arguments that do not fit the schema give an error message naming the problem."""
    [message] = await execute_tools(
        [ToolCall(id="c1", function="add", arguments=arguments)], [add()]
    )
    assert message.error == f"invalid arguments for tool 'add': {expected}"


@pytest.mark.anyio
async def test_int_accepted_for_float(events: Transcript) -> None:
    """A JSON integer fits a float parameter."""
    [message] = await execute_tools([call("add", x=1, y=2)], [add()])
    assert (message.content, message.error) == ("3", None)


@pytest.mark.anyio
async def test_parse_error_is_model_error(events: Transcript) -> None:
    """A call whose arguments were not valid JSON gives an error message quoting the parse error."""
    bad = ToolCall(id="c1", function="add", parse_error="Expecting value: line 1 column 6")
    [message] = await execute_tools([bad], [add()])
    assert (
        message.error
        == "the arguments of 'add' are not valid JSON: Expecting value: line 1 column 6"
    )


@pytest.mark.anyio
async def test_tool_error_reaches_the_model(events: Transcript) -> None:
    """ToolError's message becomes the tool message's error and content, and later calls still run."""
    messages = await execute_tools(
        [call("read_file", path="/nope"), call("add", "c2", x=1)], [read_file(), add()]
    )
    assert messages[0].error == "no such file: /nope"
    assert messages[0].content == "no such file: /nope"
    assert messages[1].content == "1.5"


@pytest.mark.anyio
async def test_other_exception_raises_tool_call_error(events: Transcript) -> None:
    """Any other exception raises ToolCallError from it, and the call is still recorded."""
    with pytest.raises(ToolCallError) as caught:
        await execute_tools([call("broken")], [broken()])
    assert str(caught.value) == "tool 'broken' raised KeyError: 'missing'"
    assert isinstance(caught.value.__cause__, KeyError)
    [event] = events.events
    assert isinstance(event, ToolEvent)
    assert event.error == "tool 'broken' raised KeyError: 'missing'"


@pytest.mark.anyio
async def test_evalkit_errors_pass_through(events: Transcript) -> None:
    """An evalkit error from a tool (a limit) propagates unchanged for the runner to classify."""

    @tool
    def limited() -> Tool:
        async def execute() -> str:
            """Hit a limit."""
            raise LimitExceeded("time", 1.0)

        return execute

    with pytest.raises(LimitExceeded):
        await execute_tools([call("limited")], [limited()])


@pytest.mark.anyio
async def test_hanging_tool_times_out(events: Transcript) -> None:
    """A call over the timeout gives a 'timed out' error message and the next call runs."""
    with anyio.fail_after(5):
        messages = await execute_tools(
            [call("hang"), call("add", "c2", x=1)], [hang(), add()], timeout=0.05
        )
    assert messages[0].error == "timed out after 0.05s"
    assert messages[1].content == "1.5"


@pytest.mark.anyio
async def test_tool_events_recorded(events: Transcript) -> None:
    """Each call adds a ToolEvent with its function, arguments, result or error, and duration."""
    await execute_tools([call("add", x=1), call("read_file", "c2", path="a")], [add(), read_file()])
    recorded = [e for e in events.events if isinstance(e, ToolEvent)]
    assert [(e.function, e.arguments, e.result, e.error) for e in recorded] == [
        ("add", {"x": 1}, "1.5", None),
        ("read_file", {"path": "a"}, None, "no such file: a"),
    ]
    assert all(e.duration is not None and e.duration >= 0 for e in recorded)


@pytest.mark.anyio
async def test_duplicate_tool_names_rejected(events: Transcript) -> None:
    """Two tools with one name raise UsageError naming it."""
    with pytest.raises(UsageError, match=r"two tools are named 'add'"):
        await execute_tools([call("add", x=1)], [add(), add()])


@pytest.mark.anyio
async def test_bound_method_tool_runs(events: Transcript) -> None:
    """A factory may return a bound async method; it is wrapped and runs."""

    class Greeter:
        async def greet(self, name: str) -> str:
            """Greet someone.

            Args:
                name: Who to greet.
            """
            return f"hello {name}"

    @tool
    def greet() -> Tool:
        return Greeter().greet

    [message] = await execute_tools([call("greet", name="ada")], [greet()])
    assert message.content == "hello ada"
