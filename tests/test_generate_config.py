"""GenerateConfig fields: each reaches the wire in its provider's shape, or warns once."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli

from evalkit import Task, eval, eval_retry
from evalkit.dataset import Sample
from evalkit.errors import UsageError
from evalkit.log import read_eval_log_header
from evalkit.model import GenerateConfig, ResponseSchema, get_model
from evalkit.model._providers._unsupported import forget_warnings
from evalkit.testing import ProviderServer

pytest_plugins = ["provider_fixtures"]
pytestmark = pytest.mark.usefixtures("fake_keys")

SCHEMA = ResponseSchema(name="answer", description="The answer.", strict=True, json_schema={
    "type": "object", "properties": {"value": {"type": "number"}}, "required": ["value"]})
EVERY_FIELD: dict[str, Any] = dict(
    max_tokens=50, temperature=0.25, top_p=0.9, top_k=40, stop_seqs=["END", "STOP"], seed=7,
    frequency_penalty=0.5, presence_penalty=-0.5, logprobs=True, top_logprobs=3,
    num_choices=2, reasoning_effort="low", reasoning_tokens=1024,
    system_message="Be terse.", response_schema=SCHEMA, max_connections=3,
    max_retries=2, timeout=30.0,
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(autouse=True)
def fresh_warnings() -> Iterator[None]:
    forget_warnings()
    yield
    forget_warnings()


async def _one_call(server: ProviderServer, provider: str, config: GenerateConfig,
                    name: str = "test-model") -> dict[str, Any]:
    base_url = server.openai_base_url if provider == "openai" else server.anthropic_base_url
    model = get_model(f"{provider}/{name}", base_url=base_url, config=config)
    try:
        await model.generate("What is 1+2?")
    finally:
        await model.aclose()
    return server.requests[-1].json  # type: ignore[no-any-return]


@pytest.mark.anyio
async def test_openai_request_carries_every_field(provider_server: ProviderServer) -> None:
    """Every field OpenAI supports is in the Chat Completions body under its API name."""
    with pytest.warns(UserWarning, match="is not sent to") as caught:
        body = await _one_call(provider_server, "openai", GenerateConfig(**EVERY_FIELD))
    assert body == {
        "model": "test-model",
        "messages": [{"role": "system", "content": "Be terse."},
                     {"role": "user", "content": "What is 1+2?"}],
        "max_tokens": 50, "temperature": 0.25, "top_p": 0.9, "stop": ["END", "STOP"],
        "seed": 7, "frequency_penalty": 0.5, "presence_penalty": -0.5, "logprobs": True,
        "top_logprobs": 3, "n": 2, "reasoning_effort": "low",
        "response_format": {"type": "json_schema", "json_schema": {
            "name": "answer", "schema": SCHEMA.json_schema, "description": "The answer.",
            "strict": True}},
    }
    messages = sorted(str(warning.message) for warning in caught)
    assert len(messages) == 2
    assert "GenerateConfig.reasoning_tokens is not sent to OpenAI" in messages[0]
    assert "GenerateConfig.top_k is not sent to OpenAI" in messages[1]


@pytest.mark.anyio
async def test_openai_top_logprobs_turns_on_logprobs(provider_server: ProviderServer) -> None:
    """top_logprobs alone sends logprobs=true, which OpenAI requires with it."""
    body = await _one_call(provider_server, "openai", GenerateConfig(top_logprobs=5))
    assert body["logprobs"] is True and body["top_logprobs"] == 5


@pytest.mark.anyio
async def test_anthropic_request_carries_every_field(provider_server: ProviderServer) -> None:
    """Anthropic gets its own shape: thinking budget, top_k, stop_sequences, system."""
    config = GenerateConfig(**{**EVERY_FIELD, "reasoning_tokens": None})
    with pytest.warns(UserWarning, match="is not sent to") as caught:
        body = await _one_call(provider_server, "anthropic", config)
    assert body == {
        "model": "test-model", "max_tokens": 50, "system": "Be terse.",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "What is 1+2?"}]}],
        "temperature": 0.25, "top_p": 0.9, "top_k": 40, "stop_sequences": ["END", "STOP"],
    }
    unsent = sorted(str(warning.message).split()[0] for warning in caught)
    assert unsent == [f"GenerateConfig.{name}" for name in sorted(
        ["seed", "frequency_penalty", "presence_penalty", "logprobs", "top_logprobs",
         "num_choices", "response_schema", "reasoning_effort"])]
    assert all("is not sent to Anthropic" in str(warning.message) for warning in caught)


@pytest.mark.anyio
async def test_anthropic_reasoning_tokens_enable_thinking(provider_server: ProviderServer) -> None:
    """reasoning_tokens becomes the thinking budget, added to max_tokens; temperature and
    top_k, which the API refuses while thinking, are left out with a warning."""
    config = GenerateConfig(max_tokens=100, reasoning_tokens=2000, temperature=0.5, top_k=5)
    with pytest.warns(UserWarning, match="not allowed with extended thinking"):
        body = await _one_call(provider_server, "anthropic", config)
    assert body["thinking"] == {"type": "enabled", "budget_tokens": 2000}
    assert body["max_tokens"] == 2100
    assert "temperature" not in body and "top_k" not in body


@pytest.mark.anyio
async def test_unsupported_field_warns_once(provider_server: ProviderServer) -> None:
    """A field a provider cannot take is warned about once per process, not per call."""
    config = GenerateConfig(seed=3)
    with pytest.warns(UserWarning, match="GenerateConfig.seed is not sent to Anthropic"):
        await _one_call(provider_server, "anthropic", config)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        body = await _one_call(provider_server, "anthropic", config)
    assert "seed" not in body


def test_bad_values_are_refused_in_one_line() -> None:
    """An out-of-range field or unknown effort is a UsageError naming its flag."""
    with pytest.raises(UsageError, match="--top-logprobs"):
        eval(Task(dataset=[Sample(input="a")]), model="mockllm/model", top_logprobs=50,
             display="none")
    with pytest.raises(UsageError, match="--reasoning-effort"):
        eval(Task(dataset=[Sample(input="a")]), model="mockllm/model",
             reasoning_effort="huge", display="none")


TASK = '''
from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.scorer import includes

@task
def ask():
    return Task(dataset=[Sample(id=1, input="What is 1+2?", target="3")], scorer=includes())
'''


def test_cli_flags_reach_the_request(tmp_path: Path, provider_server: ProviderServer) -> None:
    """Each generate flag sets the field of the same name, sent to the provider."""
    (tmp_path / "tasks.py").write_text(TASK)
    done = run_cli(
        "eval", "tasks.py", "--model", "openai/test-model", "--model-base-url",
        provider_server.openai_base_url, "--display", "none", "--max-tokens", "40",
        "--temperature", "0.3", "--top-p", "0.8", "--stop-seqs", "END,STOP", "--seed", "5",
        "--frequency-penalty", "0.1", "--presence-penalty", "0.2", "--logprobs",
        "--top-logprobs", "2", "--num-choices", "1", "--reasoning-effort", "high",
        "--system-message", "Be terse.", cwd=tmp_path, env={"OPENAI_API_KEY": "k"})
    assert done.returncode == 0, done.stderr
    body = provider_server.requests[-1].json
    assert body["messages"][0] == {"role": "system", "content": "Be terse."}
    assert {key: body[key] for key in (
        "max_tokens", "temperature", "top_p", "stop", "seed", "frequency_penalty",
        "presence_penalty", "logprobs", "top_logprobs", "n", "reasoning_effort")} == {
        "max_tokens": 40, "temperature": 0.3, "top_p": 0.8, "stop": ["END", "STOP"],
        "seed": 5, "frequency_penalty": 0.1, "presence_penalty": 0.2, "logprobs": True,
        "top_logprobs": 2, "n": 1, "reasoning_effort": "high"}


def test_every_field_round_trips_through_the_header(
    tmp_path: Path, provider_server: ProviderServer
) -> None:
    """eval(**fields) records each field exactly; a retry sends the same request."""
    (tmp_path / "tasks.py").write_text(TASK)
    fields = {**EVERY_FIELD, "reasoning_tokens": None}
    with pytest.warns(UserWarning, match="top_k is not sent to OpenAI"):
        [first] = eval(str(tmp_path / "tasks.py"), model="openai/test-model",
                       model_base_url=provider_server.openai_base_url, display="none",
                       log_dir=str(tmp_path / "logs"), **fields)
    header = read_eval_log_header(str(first.location)).eval
    # seed, max_connections, max_retries and timeout are eval options: in the config.
    options = ("seed", "max_connections", "max_retries", "timeout")
    expected = GenerateConfig(**fields).model_dump(mode="json", exclude_none=True,
                                                   exclude=set(options))
    assert header.generate_config == expected
    assert {name: header.config[name] for name in options} == {
        name: fields[name] for name in options}
    sent = provider_server.requests[-1].json
    [again] = eval_retry(str(first.location), display="none", sample_id=None)
    assert read_eval_log_header(str(again.location)).eval.generate_config == expected
    assert again.eval.retry_of == first.eval.run_id
    assert provider_server.requests[-1].json == sent
