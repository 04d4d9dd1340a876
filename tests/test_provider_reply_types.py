"""Replies that break their protocol's types are malformed replies, never answers (issue 13.8)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anyio
import pytest

from evalkit import Task, eval
from evalkit.dataset import Sample
from evalkit.errors import ModelTransientError
from evalkit.log import read_eval_log_samples
from evalkit.model import GenerateConfig, get_model
from evalkit.scorer import includes
from evalkit.testing import Fault, ProviderServer
from evalkit.testing._provider_replies import anthropic_reply, openai_reply

pytest_plugins = ["provider_fixtures"]
pytestmark = pytest.mark.usefixtures("fake_keys", "fast_retries", "no_proxy_settings")
Edit = Callable[[dict[str, Any]], None]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _set(path: str, value: Any) -> Edit:
    """An edit setting the value at ``path`` (dot-separated keys and list indices)."""
    def edit(reply: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = reply
        for key in parents:
            target = target[int(key)] if isinstance(target, list) else target[key]
        target[int(last) if isinstance(target, list) else last] = value
    return edit


OPENAI_BREAKAGES: dict[str, Edit] = {
    "content-is-a-number": _set("choices.0.message.content", 12),
    "content-part-text-is-a-number": _set("choices.0.message.content", [{"type": "text",
                                                                         "text": 12}]),
    "choices-is-an-object": _set("choices", {"0": {}}),
    "message-is-a-string": _set("choices.0.message", "12"),
    "finish-reason-is-a-number": _set("choices.0.finish_reason", 1),
    "prompt-tokens-is-a-string": _set("usage.prompt_tokens", "12"),
    "usage-is-a-list": _set("usage", [1, 2]),
    "tool-call-name-is-a-number": _set("choices.0.message.tool_calls",
                                       [{"id": "c", "function": {"name": 5, "arguments": "{}"}}]),
}
ANTHROPIC_BREAKAGES: dict[str, Edit] = {
    "text-is-a-number": _set("content.0.text", 12),
    "content-is-a-string": _set("content", "12"),
    "block-is-a-number": _set("content.0", 12),
    "stop-reason-is-a-number": _set("stop_reason", 1),
    "input-tokens-is-a-string": _set("usage.input_tokens", "12"),
    "tool-use-id-is-a-number": _set("content", [{"type": "tool_use", "id": 3, "name": "add",
                                                 "input": {}}]),
}
CASES = [("openai", name, edit) for name, edit in OPENAI_BREAKAGES.items()] + [
    ("anthropic", name, edit) for name, edit in ANTHROPIC_BREAKAGES.items()]


def broken_reply(provider: str, edit: Edit) -> str:
    """A reply of ``provider`` answering "12", with one value of the wrong type."""
    make = openai_reply if provider == "openai" else anthropic_reply
    reply = copy.deepcopy(make({"model": "m", "messages": []}, "12"))
    edit(reply)
    return json.dumps(reply)


def base_url(server: ProviderServer, provider: str) -> str:
    return server.openai_base_url if provider == "openai" else server.anthropic_base_url


@pytest.mark.parametrize(("provider", "name", "edit"), CASES, ids=[f"{p}-{n}" for p, n, _ in CASES])
@pytest.mark.anyio
async def test_wrongly_typed_reply_is_malformed_and_retried(
    provider_server: ProviderServer, provider: str, name: str, edit: Edit
) -> None:
    """A reply with a value of the wrong type is retried as malformed, never returned as an answer."""
    provider_server.inject(Fault.raw(200, broken_reply(provider, edit)))
    model = get_model(f"{provider}/m", base_url=base_url(provider_server, provider))
    try:
        with anyio.fail_after(10):
            output = await model.generate("fine")
    finally:
        await model.aclose()
    assert output.completion == "FINE"
    assert model.retries == 1


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
@pytest.mark.anyio
async def test_persistently_wrong_types_end_as_a_transient_error(
    provider_server: ProviderServer, provider: str
) -> None:
    """Past the retries, a reply whose content is a number is a transient "unexpected reply shape"."""
    edit = OPENAI_BREAKAGES["content-is-a-number"] if provider == "openai" else (
        ANTHROPIC_BREAKAGES["text-is-a-number"])
    provider_server.inject_always(Fault.raw(200, broken_reply(provider, edit)))
    model = get_model(f"{provider}/m", base_url=base_url(provider_server, provider),
                      config=GenerateConfig(max_retries=1))
    try:
        with pytest.raises(ModelTransientError, match=r"unexpected reply shape.*not a string"):
            await model.generate("x")
    finally:
        await model.aclose()
    assert len(provider_server.requests) == 2


@pytest.mark.parametrize("provider", ["openai", "anthropic"])
def test_numeric_content_is_a_model_error_never_a_scored_answer(
    provider_server: ProviderServer, provider: str, tmp_path: Path
) -> None:
    """In an eval, replies whose content is the number 12 error (phase model); none is scored."""
    edit = OPENAI_BREAKAGES["content-is-a-number"] if provider == "openai" else (
        ANTHROPIC_BREAKAGES["text-is-a-number"])
    provider_server.inject_always(Fault.raw(200, broken_reply(provider, edit)))
    task = Task(dataset=[Sample(input=f"q{i}", target="12") for i in range(3)], scorer=includes())
    [log] = eval(task, model=f"{provider}/m", model_base_url=base_url(provider_server, provider),
                 log_dir=str(tmp_path), fail_on_error=False, max_retries=1, display="none")
    assert log.results is not None
    assert (log.results.errored_samples, log.results.completed_samples) == (3, 0)
    samples = list(read_eval_log_samples(log.location))
    assert [sample.error.phase for sample in samples if sample.error] == ["model"] * 3
    assert [sample.scores for sample in samples if sample.scores] == []
