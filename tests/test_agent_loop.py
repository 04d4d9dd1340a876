"""The agent loop: generate() runs the tools the model asks for, in a per-sample sandbox."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any

import pytest
from conftest import require_tool

from evalkit import Task, eval
from evalkit._transcript import ToolEvent, Transcript, bind_transcript
from evalkit.dataset import Sample, Target
from evalkit.log import EvalLog, EvalSample, read_eval_log
from evalkit.model import (
    ChatCompletionChoice,
    ChatMessage,
    ChatMessageAssistant,
    ChatMessageTool,
    ChatMessageUser,
    GenerateConfig,
    Model,
    ModelOutput,
    ToolCall,
    ToolChoice,
    ToolInfo,
)
from evalkit.model._mock import MockLLM
from evalkit.scorer import CORRECT, INCORRECT, Score, accuracy, scorer
from evalkit.solver import SampleLimits, TaskState, generate, generate_loop, use_tools
from evalkit.tool import Tool, ToolError, bash, python, sandbox, tool

MOCK = "mockllm/model"


@tool
def add() -> Tool:
    async def execute(x: int, y: int) -> int:
        """Add two whole numbers.

        Args:
            x: The first number.
            y: The second number.
        """
        return x + y

    return execute


@tool
def lookup() -> Tool:
    async def execute(key: str) -> str:
        """Look a key up.

        Args:
            key: The key to find.
        """
        if key == "bug":
            raise KeyError(key)
        raise ToolError(f"no entry for {key!r}; try 'a'")

    return execute


def call(function: str, **arguments: Any) -> ModelOutput:
    return ModelOutput.for_tool_call(MOCK, function, arguments)


def answer(text: str) -> ModelOutput:
    return ModelOutput.from_content(MOCK, text)


def calls(*requests: tuple[str, dict[str, Any]]) -> ModelOutput:
    """One assistant message asking for several tool calls at once."""
    tool_calls = [ToolCall(id=f"call_{i}", function=name, arguments=args)
                  for i, (name, args) in enumerate(requests)]
    message = ChatMessageAssistant(content="", tool_calls=tool_calls)
    return ModelOutput(model=MOCK, choices=[ChatCompletionChoice(message=message,
                                                                 stop_reason="tool_calls")])


def run(task: Task, outputs: Any, **options: Any) -> tuple[EvalLog, list[EvalSample]]:
    """Run ``task`` with the mock model answering ``outputs``; the log and its samples."""
    options.setdefault("max_samples", 1)
    [log] = eval(task, model=MOCK, display="none", model_args={"custom_outputs": outputs},
                 **options)
    assert log.location is not None
    return log, list(read_eval_log(log.location).samples or [])


def agent(*tools: Tool, target: str = "5", samples: int = 1, **options: Any) -> Task:
    dataset = [Sample(id=i, input=f"task {i}", target=target) for i in range(1, samples + 1)]
    return Task(dataset=dataset, solver=[use_tools(*tools), generate(**options)])


def tool_messages(record: EvalSample) -> list[ChatMessageTool]:
    return [m for m in record.messages if isinstance(m, ChatMessageTool)]


def tool_events(record: EvalSample) -> list[ToolEvent]:
    return [e for e in record.events if isinstance(e, ToolEvent)]


# -- the loop --------------------------------------------------------------------------


def test_loop_runs_the_tool_and_calls_the_model_again() -> None:
    """Model asks for add(2, 3), gets 5 back, answers 5: scored correct."""
    log, [record] = run(agent(add()), [call("add", x=2, y=3), answer("5")])
    assert [m.role for m in record.messages] == ["user", "assistant", "tool", "assistant"]
    [result] = tool_messages(record)
    assert (result.content, result.function, result.tool_call_id, result.error) == (
        "5", "add", "call_add", None)
    [event] = tool_events(record)
    assert (event.function, event.arguments, event.result) == ("add", {"x": 2, "y": 3}, "5")
    assert record.output is not None and record.output.completion == "5"
    assert record.scores is not None and record.scores["match"].value == CORRECT
    assert log.status == "success"


class RecordingAPI(MockLLM):
    """The mock model, remembering the tools and messages of each call."""

    def __init__(self, outputs: list[ModelOutput]) -> None:
        super().__init__("model", custom_outputs=outputs)
        self.seen: list[tuple[list[str], int]] = []

    async def generate(self, input: list[ChatMessage], tools: list[ToolInfo],
                       tool_choice: ToolChoice | None, config: GenerateConfig) -> ModelOutput:
        self.seen.append(([info.name for info in tools], len(input)))
        return await super().generate(input, tools, tool_choice, config)


@pytest.mark.anyio
async def test_model_is_shown_the_tools_and_the_growing_conversation() -> None:
    """Each call gets the tool schemas and every message so far."""
    api = RecordingAPI([call("add", x=1, y=1), call("add", x=2, y=2), answer("4")])
    state = TaskState(model=MOCK, sample_id=1, epoch=1, input="q", target=Target("4"),
                      messages=[ChatMessageUser(content="q")])
    state.tools = [add(), lookup()]
    with bind_transcript(Transcript()):
        await generate_loop(state, Model(MOCK, api, GenerateConfig()), SampleLimits())
    assert api.seen == [(["add", "lookup"], 1), (["add", "lookup"], 3), (["add", "lookup"], 5)]
    assert [m.content for m in state.messages if isinstance(m, ChatMessageTool)] == ["2", "4"]


def test_several_tool_calls_in_one_message_run_in_order() -> None:
    """An assistant message with two calls gets two tool messages, in call order."""
    _, [record] = run(agent(add()), [calls(("add", {"x": 1, "y": 2}), ("add", {"x": 3, "y": 4})),
                                     answer("5")])
    assert [(m.content, m.tool_call_id) for m in tool_messages(record)] == [
        ("3", "call_0"), ("7", "call_1")]


def test_tool_calls_single_runs_tools_once() -> None:
    """generate(tool_calls='single') runs one round of tools and returns."""
    _, [record] = run(agent(add(), tool_calls="single"), [call("add", x=2, y=3)])
    assert [m.role for m in record.messages] == ["user", "assistant", "tool"]
    assert record.error is None


def test_tool_calls_none_runs_no_tools() -> None:
    """generate(tool_calls='none') returns the model's tool call without running it."""
    _, [record] = run(agent(add(), tool_calls="none"), [call("add", x=2, y=3)])
    assert [m.role for m in record.messages] == ["user", "assistant"]
    assert tool_events(record) == []


def test_without_tools_the_model_is_called_once() -> None:
    """No tools: one model call, its answer scored."""
    _, [record] = run(Task(dataset=[Sample(input="q", target="hi")]), [answer("hi")])
    assert [m.role for m in record.messages] == ["user", "assistant"]
    assert record.scores is not None and record.scores["match"].value == CORRECT


# -- bad input from the model ----------------------------------------------------------


def test_unknown_tool_is_told_to_the_model() -> None:
    """A call to a tool that does not exist gets an error result; the run goes on."""
    _, [record] = run(agent(add()), [call("subtract", x=1, y=2), answer("5")])
    [result] = tool_messages(record)
    assert result.error == "unknown tool 'subtract'; available tools: 'add'"
    assert result.content == result.error
    assert record.error is None
    assert record.scores is not None and record.scores["match"].value == CORRECT


def test_arguments_that_do_not_fit_the_schema_are_told_to_the_model() -> None:
    """Wrong argument types and missing arguments are tool results, not sample errors."""
    _, [record] = run(agent(add()), [call("add", x="two"), answer("5")])
    [result] = tool_messages(record)
    assert result.error is not None
    assert result.error.startswith("invalid arguments for tool 'add': ")
    assert "missing required argument 'y'" in result.error
    assert "argument 'x' must be integer" in result.error
    assert record.error is None


def test_tool_error_is_told_to_the_model() -> None:
    """A ToolError is the model's to fix: its message is the result and the run goes on."""
    _, [record] = run(agent(lookup()), [call("lookup", key="z"), answer("5")])
    [result] = tool_messages(record)
    assert result.error == "no entry for 'z'; try 'a'"
    assert record.error is None


def test_tool_that_raises_errs_the_sample() -> None:
    """Any other exception from a tool is a sample error, phase tool; the eval goes on."""
    log, records = run(agent(lookup(), samples=2), [call("lookup", key="bug"), answer("5")],
                       fail_on_error=False)
    first = next(r for r in records if r.id == 1)
    assert first.error is not None
    assert (first.error.phase, first.error.kind) == ("tool", "KeyError")
    assert first.error.message == "ToolCallError: tool 'lookup' raised KeyError: 'bug'"
    assert [m.role for m in first.messages] == ["user", "assistant"]
    assert [e.error for e in tool_events(first)] == [first.error.message.split(": ", 1)[1]]
    assert first.scores is None
    second = next(r for r in records if r.id == 2)
    assert second.error is None
    assert log.results is not None and log.results.errored_samples == 1


def test_tool_that_hangs_times_out_and_the_run_goes_on() -> None:
    """bash(timeout=0.5) running `sleep 30` is stopped; the model is told and answers."""
    require_tool("bash")
    started = time.monotonic()
    _, [record] = run(agent(bash(timeout=0.5)), [call("bash", command="sleep 30"), answer("5")])
    assert time.monotonic() - started < 10
    [result] = tool_messages(record)
    assert result.error == "timed out after 0.5s"
    assert record.error is None
    assert record.output is not None and record.output.completion == "5"


# -- the sandbox -----------------------------------------------------------------------


@pytest.fixture
def sandboxes_made(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The sandbox directories created during the test."""
    made: list[str] = []
    real = tempfile.mkdtemp

    def recording_mkdtemp(suffix: str | None = None, prefix: str | None = None,
                          dir: str | None = None) -> str:
        path = real(suffix, prefix, dir)
        if (prefix or "").startswith("evalkit-sandbox"):
            made.append(path)
        return path

    monkeypatch.setattr(tempfile, "mkdtemp", recording_mkdtemp)
    return made


def test_tools_of_one_sample_share_a_fresh_directory_removed_afterwards(
    sandboxes_made: list[str],
) -> None:
    """bash and python calls of a sample share files; samples do not; all is removed."""
    require_tool("bash")
    script = [call("bash", command="echo hello > note.txt && pwd"),
              call("python", code="print(open('note.txt').read().strip() + ' again')"),
              answer("5")]
    outputs = iter(script + script)
    log, records = run(agent(bash(), python(), samples=2), lambda messages: next(outputs))
    assert log.status == "success"
    assert len(sandboxes_made) == 2  # one per sample, not one per call
    directories = set()
    for record in records:
        pwd, again = (m.content for m in tool_messages(record))
        assert again == "hello again\n"
        directories.add(Path(pwd.strip()).resolve())
    assert directories == {Path(made).resolve() for made in sandboxes_made}
    assert not any(directory.exists() for directory in directories)


def test_samples_without_tool_calls_make_no_sandbox(sandboxes_made: list[str]) -> None:
    """No tool call, no directory: evals without tools pay nothing."""
    log, _ = run(agent(bash(), samples=3), lambda messages: answer("5"))
    assert log.status == "success"
    assert sandboxes_made == []


def test_sandbox_is_removed_when_the_sample_errs(sandboxes_made: list[str]) -> None:
    """A sample that errs after using its sandbox still has it removed."""
    require_tool("bash")
    _, [record] = run(agent(bash(), lookup()),
                      [call("bash", command="touch left.txt"), call("lookup", key="bug")])
    assert record.error is not None and record.error.phase == "tool"
    [made] = sandboxes_made
    assert not Path(made).exists()


def test_scorer_reads_the_sample_sandbox() -> None:
    """The sandbox lives through scoring, so a scorer can check the files a tool wrote."""
    require_tool("bash")

    @scorer(metrics=[accuracy()])
    def file_written() -> Any:
        async def score(state: TaskState, target: Target) -> Score:
            result = await sandbox().exec(["cat", "answer.txt"])
            return Score(value=CORRECT if result.output.strip() == target.text else INCORRECT)

        return score

    task = Task(dataset=[Sample(input="write 5", target="5")],
                solver=[use_tools(bash()), generate()], scorer=file_written())
    _, [record] = run(task, [call("bash", command="echo 5 > answer.txt"), answer("done")])
    assert record.scores is not None and record.scores["file_written"].value == CORRECT
