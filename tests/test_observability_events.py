"""Per-sample events in the log: model calls (raw output, retries), tools, info, limits, errors."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from evalkit import Task, eval
from evalkit._transcript import (
    RAW_OUTPUT_LIMIT,
    ErrorEvent,
    InfoEvent,
    LimitEvent,
    ModelEvent,
    ScoreEvent,
    ToolEvent,
)
from evalkit.dataset import Sample
from evalkit.log import EvalSample, read_eval_log, transcript
from evalkit.model import ModelOutput
from evalkit.scorer import Score, Target, accuracy, includes, scorer
from evalkit.solver import Generate, TaskState, generate, solver, use_tools
from evalkit.testing import Fault, ProviderServer
from evalkit.tool import Tool, ToolError, tool


def _only_sample(task: Task, log_dir: Path, **options: Any) -> EvalSample:
    [log] = eval(task, model=options.pop("model", "mockllm/model"), log_dir=str(log_dir),
                 display="none", **options)
    assert log.location is not None
    samples = read_eval_log(log.location).samples
    assert samples is not None and len(samples) == 1
    return samples[0]


def _events(sample: EvalSample, kind: type[Any]) -> list[Any]:
    return [event for event in sample.events if isinstance(event, kind)]


def test_model_event_records_output_raw_usage_latency(log_dir: Path) -> None:
    """A mock call's event: output text, raw response JSON, usage, latency, input size."""
    sample = _only_sample(Task(dataset=[Sample(input="hello there", target="x")]), log_dir,
                          model_args={"default_output": "general kenobi"})
    [event] = _events(sample, ModelEvent)
    assert event.model == "mockllm/model"
    assert event.input_messages == 1
    assert event.output == "general kenobi"
    assert event.raw is not None and event.truncated is False
    assert json.loads(event.raw)["choices"][0]["message"]["content"] == "general kenobi"
    assert event.usage == {"input_tokens": 2, "output_tokens": 2, "total_tokens": 4}
    assert event.latency is not None and 0 <= event.latency < 5
    assert event.retries == [] and event.error is None


def test_long_raw_output_is_truncated_with_flag(log_dir: Path) -> None:
    """Raw text beyond RAW_OUTPUT_LIMIT characters is cut and flagged; the output is whole."""
    long_text = "x" * (RAW_OUTPUT_LIMIT * 2)
    sample = _only_sample(Task(dataset=[Sample(input="go")]), log_dir,
                          model_args={"default_output": long_text})
    [event] = _events(sample, ModelEvent)
    assert event.truncated is True
    assert event.raw is not None and len(event.raw) == RAW_OUTPUT_LIMIT
    assert event.output == long_text


@pytest.fixture
def provider(monkeypatch: pytest.MonkeyPatch) -> Iterator[ProviderServer]:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-test")
    monkeypatch.setattr("evalkit.model._retry.BACKOFF_BASE", 0.001)
    with ProviderServer(answer=lambda prompt: f"echo: {prompt}") as server:
        yield server


def test_provider_raw_response_retries_and_seed(provider: ProviderServer, log_dir: Path) -> None:
    """openai/: the raw reply body is in the event, the 429 retry has its reason, seed is sent."""
    provider.inject(Fault.rate_limit(retry_after=0))
    sample = _only_sample(Task(dataset=[Sample(input="ping")]), log_dir, model="openai/test-model",
                          model_base_url=provider.openai_base_url, seed=7)
    [event] = _events(sample, ModelEvent)
    assert event.output == "echo: ping"
    assert event.raw is not None
    assert json.loads(event.raw)["choices"][0]["message"]["content"] == "echo: ping"
    assert len(event.retries) == 1 and "429" in event.retries[0]
    assert [request.json["seed"] for request in provider.requests] == [7, 7]


@tool
def add() -> Tool:
    async def execute(x: int, y: int) -> int:
        """Add two numbers.

        Args:
            x: The first number.
            y: The second number.
        """
        return x + y

    return execute


@tool
def refuse() -> Tool:
    async def execute(reason: str) -> str:
        """Always refuse.

        Args:
            reason: Why the call is made.
        """
        raise ToolError(f"refused: {reason}")

    return execute


def test_tool_events_record_arguments_result_error_duration(log_dir: Path) -> None:
    """Each tool call: function, arguments, result or error, duration; in call order."""
    outputs = [
        ModelOutput.for_tool_call("mockllm/model", "add", {"x": 2, "y": 3}, "call_1"),
        ModelOutput.for_tool_call("mockllm/model", "refuse", {"reason": "test"}, "call_2"),
        "the sum is 5",
    ]
    task = Task(dataset=[Sample(input="add 2 and 3", target="5")],
                solver=[use_tools(add(), refuse()), generate()], scorer=includes())
    sample = _only_sample(task, log_dir, model_args={"custom_outputs": outputs})
    added, refused = _events(sample, ToolEvent)
    assert (added.function, added.arguments, added.result, added.error) == (
        "add", {"x": 2, "y": 3}, "5", None)
    assert (refused.function, refused.result, refused.error) == ("refuse", None, "refused: test")
    assert added.duration is not None and added.duration >= 0
    kinds = [event.event for event in sample.events]
    assert kinds == ["model", "tool", "model", "tool", "model", "score"]
    model_events = _events(sample, ModelEvent)
    assert [event.input_messages for event in model_events] == [1, 3, 5]
    assert model_events[-1].output == "the sum is 5"


@solver
def noting() -> Any:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        transcript().info({"step": "before"}, source="noting")
        transcript().info(object())  # not JSON: kept as its str()
        return await generate(state)

    return solve


def test_info_events_from_a_solver(log_dir: Path) -> None:
    """transcript().info(...) from evalkit.log lands in the sample's events, in order."""
    sample = _only_sample(Task(dataset=[Sample(input="hi")], solver=noting()), log_dir)
    first, second = _events(sample, InfoEvent)
    assert (first.data, first.source) == ({"step": "before"}, "noting")
    assert isinstance(second.data, str) and second.data.startswith("<object object")
    assert [event.event for event in sample.events][:3] == ["info", "info", "model"]


def test_limit_event_recorded(log_dir: Path) -> None:
    """A message limit hit leaves a limit event with its type and value."""
    outputs = [ModelOutput.for_tool_call("mockllm/model", "add", {"x": 1, "y": 1})] * 3
    task = Task(dataset=[Sample(input="loop")], solver=[use_tools(add()), generate()],
                max_messages=3)
    sample = _only_sample(task, log_dir, model_args={"custom_outputs": outputs})
    [limit] = _events(sample, LimitEvent)
    assert (limit.type, limit.limit) == ("messages", 3)
    assert sample.limit is not None and sample.limit.limit == 3


@scorer(metrics=[accuracy()])
def broken() -> Any:
    async def score(state: TaskState, target: Target) -> Score:
        raise ValueError("scorer bug")

    return score


def test_error_event_for_a_failing_scorer(log_dir: Path) -> None:
    """A scorer that raises: an error event with phase 'scorer', after the model event."""
    sample = _only_sample(Task(dataset=[Sample(input="hi")], scorer=broken()), log_dir,
                          fail_on_error=False)
    [error] = _events(sample, ErrorEvent)
    assert error.phase == "scorer"
    assert "scorer bug" in error.message
    assert [event.event for event in sample.events] == ["model", "error"]


def test_score_event_carries_value(log_dir: Path) -> None:
    """Each scorer leaves a score event with its name and value."""
    sample = _only_sample(Task(dataset=[Sample(input="hi", target="Default")], scorer=includes()),
                          log_dir)
    [score] = _events(sample, ScoreEvent)
    assert (score.scorer, score.value) == ("includes", "C")


def test_events_timestamps_are_ordered(log_dir: Path) -> None:
    """Events are appended as they happen: timestamps never go backwards."""
    sample = _only_sample(Task(dataset=[Sample(input="hi")], solver=noting()), log_dir)
    stamps = [event.timestamp for event in sample.events]
    assert len(stamps) == 4
    assert stamps == sorted(stamps)


def test_transcript_outside_a_sample_drops_events() -> None:
    """Outside a running sample, transcript() accepts events but keeps none (no leak)."""
    for _ in range(3):
        transcript().info("ignored")
    assert transcript().events == []
