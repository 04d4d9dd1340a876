"""system_message: lenient, consistent templating with sample metadata and params."""

from __future__ import annotations

from typing import Any

import pytest

from evalkit.dataset import Target
from evalkit.model import ChatMessageSystem, ChatMessageUser
from evalkit.solver import TaskState, system_message


async def _system_text(template: str, metadata: dict[str, Any] | None = None,
                       **params: Any) -> str:
    state = TaskState(model="mockllm/model", sample_id=1, epoch=1, input="q", target=Target(""),
                      messages=[ChatMessageUser(content="q")], metadata=metadata)

    async def no_generate(state: TaskState, **_: Any) -> TaskState:
        raise AssertionError("system_message does not call the model")

    state = await system_message(template, **params)(state, no_generate)  # type: ignore[arg-type]  # unused
    [message] = [m for m in state.messages if isinstance(m, ChatMessageSystem)]
    return message.content


@pytest.mark.anyio
async def test_literal_braces_do_not_raise_when_the_sample_has_metadata() -> None:
    """JSON in a prompt stays as written; the known field is filled (was a KeyError)."""
    text = await _system_text('Answer as {"answer": "..."} about {topic}.', {"topic": "maths"})
    assert text == 'Answer as {"answer": "..."} about maths.'


@pytest.mark.anyio
async def test_unknown_fields_are_kept_as_written() -> None:
    """`{who}` with no such metadata or param stays `{who}` (was a KeyError)."""
    assert await _system_text("Hi {who}, on {topic}", {"topic": "x"}) == "Hi {who}, on x"


@pytest.mark.anyio
@pytest.mark.parametrize("metadata", [None, {"unrelated": 1}])
async def test_the_same_template_gives_the_same_text_with_or_without_metadata(
    metadata: dict[str, Any] | None,
) -> None:
    """Escaped braces and params format the same whether or not the sample has metadata
    (without metadata the template used to be left unformatted)."""
    assert await _system_text("Use {{braces}} and {x}", metadata) == "Use {braces} and {x}"
    assert await _system_text("Hello {name}", metadata, name="Ada") == "Hello Ada"


@pytest.mark.anyio
async def test_fields_take_format_specs_keys_and_attributes_and_params_win() -> None:
    """`{n:.2f}`, `{d[k]}`, `{s!r}` work as in str.format; params override metadata."""
    text = await _system_text("{n:.2f} {d[k]} {s!r} {who}",
                              {"n": 3.14159, "d": {"k": "v"}, "s": "t", "who": "meta"},
                              who="param")
    assert text == "3.14 v 't' param"
    assert await _system_text("{n:zz} {d[missing]}", {"n": 1, "d": {}}) == "{n:zz} {d[missing]}"


@pytest.mark.anyio
async def test_the_store_fills_fields_too() -> None:
    """As in Inspect, values in `state.store` are available, after metadata."""
    state = TaskState(model="mockllm/model", sample_id=1, epoch=1, input="q", target=Target(""),
                      messages=[], metadata={"who": "meta", "x": "m"})
    state.store.set("who", "store")

    async def no_generate(state: TaskState, **_: Any) -> TaskState:
        raise AssertionError("system_message does not call the model")

    state = await system_message("{who} {x}")(state, no_generate)  # type: ignore[arg-type]  # unused
    assert state.messages[0].content == "store m"
