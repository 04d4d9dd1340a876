"""Run the tool calls a model asked for, and say how each went."""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import anyio

from .._transcript import ToolEvent, transcript
from ..errors import EvalkitError, ToolCallError, UsageError
from ..model import ChatMessageTool, ToolCall
from ._output import truncate_output
from ._tool import Tool, ToolError, registered_info, timeout_message
from ._validate import argument_errors


async def execute_tools(
    calls: list[ToolCall],
    tools: Sequence[Tool],
    *,
    timeout: float | None = None,  # noqa: ASYNC109 -- per call, and a timeout is a message, not a raise
) -> list[ChatMessageTool]:
    """Run ``calls`` in order; one tool message per call.

    Mistakes the model can fix (an unknown tool, bad arguments, a
    :class:`ToolError`, a call over ``timeout`` seconds) become tool messages
    with ``error`` set. Any other exception from a tool raises
    :class:`~evalkit.errors.ToolCallError`; evalkit's own errors pass through
    unchanged. Each call is recorded as a ToolEvent.
    """
    by_name = _tools_by_name(tools)
    return [await _execute_call(call, by_name, timeout) for call in calls]


def _tools_by_name(tools: Sequence[Tool]) -> dict[str, Tool]:
    by_name: dict[str, Tool] = {}
    for tool in tools:
        name = registered_info(tool).name
        if name in by_name:
            raise UsageError(
                f"two tools are named {name!r}; give one another name with @tool(name=...)."
            )
        by_name[name] = tool
    return by_name


async def _execute_call(
    call: ToolCall, tools: dict[str, Tool], call_timeout: float | None
) -> ChatMessageTool:
    event = ToolEvent(function=call.function, arguments=call.arguments)
    started = time.perf_counter()
    try:
        event.result, event.error = await _run_call(call, tools, call_timeout)
    except BaseException as exc:  # recorded, then raised: a sample error or a cancellation
        event.error = str(exc) if isinstance(exc, Exception) else "cancelled"
        raise
    finally:
        event.duration = time.perf_counter() - started
        transcript().add(event)
    return ChatMessageTool(
        content=event.error if event.error is not None else event.result or "",
        tool_call_id=call.id,
        function=call.function,
        error=event.error,
    )


async def _run_call(
    call: ToolCall, tools: dict[str, Tool], call_timeout: float | None
) -> tuple[str | None, str | None]:
    """``(result, None)``, or ``(None, error)`` for an error the model should see."""
    tool = tools.get(call.function)
    if tool is None:
        available = ", ".join(repr(name) for name in tools) or "none"
        return None, f"unknown tool {call.function!r}; available tools: {available}"
    if call.parse_error is not None:
        return None, f"the arguments of {call.function!r} are not valid JSON: {call.parse_error}"
    problems = argument_errors(call.arguments, registered_info(tool).parameters)
    if problems:
        return None, f"invalid arguments for tool {call.function!r}: " + "; ".join(problems)
    with anyio.move_on_after(call_timeout):
        try:
            value = await tool(**call.arguments)
        except ToolError as exc:
            return None, exc.message
        except EvalkitError:
            raise  # already classified (a model error, a limit); the runner handles it
        except Exception as exc:
            raise ToolCallError(
                f"tool {call.function!r} raised {type(exc).__name__}: {exc}"
            ) from exc
        return truncate_output(_as_text(value)), None
    return None, timeout_message(call_timeout or 0)


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, dict)):
        return json.dumps(value, default=str)
    return str(value)
