"""Per-sample limits: max_messages, token_limit, time_limit at their exact boundaries."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import anyio
import pytest
from conftest import run_cli

from evalkit import Task, eval
from evalkit._transcript import LimitEvent, ToolEvent
from evalkit.dataset import Sample
from evalkit.errors import LimitExceeded, UsageError
from evalkit.log import EvalLog, EvalSample, read_eval_log
from evalkit.model import ChatMessage, ChatMessageUser, ModelOutput, ModelUsage, ToolCall, get_model
from evalkit.scorer import CORRECT, Score, Target, accuracy, scorer
from evalkit.solver import (
    Generate,
    SampleLimits,
    Solver,
    TaskState,
    generate,
    solver,
    system_message,
    use_tools,
)
from evalkit.tool import Tool, tool

MOCK = "mockllm/model"


@tool
def echo() -> Tool:
    async def execute(text: str) -> str:
        """Repeat the text.

        Args:
            text: What to repeat.
        """
        return text

    return execute


@tool
def nap() -> Tool:
    async def execute(seconds: float) -> str:
        """Sleep for a while.

        Args:
            seconds: How long.
        """
        await anyio.sleep(seconds)
        return "awake"

    return execute


def tool_call(tokens: int | None = None, name: str = "echo", **arguments: Any) -> ModelOutput:
    """An output asking for ``name``, using ``tokens`` tokens if given."""
    output = ModelOutput.for_tool_call(MOCK, name, arguments or {"text": "again"})
    if tokens is not None:
        output.usage = ModelUsage(input_tokens=tokens - 1, output_tokens=1, total_tokens=tokens)
    return output


def always_call_tool(messages: list[ChatMessage]) -> ModelOutput:
    """A model that never stops calling the echo tool."""
    return tool_call()


@scorer(metrics=[accuracy()])
def always_correct() -> Any:
    async def score(state: TaskState, target: Target) -> Score:
        return Score(value=CORRECT, answer=state.output.completion)

    return score


def agent_task(limit_options: dict[str, Any] | None = None, samples: int = 1,
               solvers: Sequence[Solver] = ()) -> Task:
    """A task whose solver gives the model the echo and nap tools and runs the loop."""
    dataset = [Sample(id=i, input=f"task {i}", target="x") for i in range(1, samples + 1)]
    return Task(dataset=dataset, solver=[*solvers, use_tools(echo(), nap()), generate()],
                scorer=always_correct(), **(limit_options or {}))


def run(task: Task, outputs: Any = always_call_tool, **options: Any
        ) -> tuple[EvalLog, list[EvalSample]]:
    """Run ``task`` on the mock model answering ``outputs``; the log and its samples."""
    options.setdefault("max_samples", 1)
    [log] = eval(task, model=MOCK, display="none", model_args={"custom_outputs": outputs},
                 **options)
    assert log.location is not None
    return log, list(read_eval_log(log.location).samples or [])


def roles(record: EvalSample) -> list[str]:
    return [message.role for message in record.messages]


def model_calls(record: EvalSample) -> int:
    return sum(1 for event in record.events if event.event == "model")


def limit_events(record: EvalSample) -> list[LimitEvent]:
    return [event for event in record.events if isinstance(event, LimitEvent)]


# -- refusing bad limits ---------------------------------------------------------------


@pytest.mark.parametrize("options", [
    {"max_messages": -3}, {"max_messages": 2.5}, {"token_limit": 0},
    {"token_limit": -1}, {"time_limit": 0}, {"time_limit": -0.5}, {"time_limit": float("nan")},
    {"message_limit": 0}, {"max_messages": True},
])
def test_task_refuses_bad_limits(options: dict[str, Any]) -> None:
    """Task refuses a limit of 0, a negative, a non-number or a fraction of a message."""
    with pytest.raises(UsageError, match=r"must be (a whole number >= 1|a number of seconds)"):
        Task(dataset=[Sample(input="x")], **options)


def test_task_refuses_max_messages_zero() -> None:
    """Task(max_messages=0) is refused, not read as no limit."""
    with pytest.raises(UsageError):
        Task(dataset=[Sample(input="x")], max_messages=0)


@pytest.mark.parametrize("options", [{"max_messages": 0}, {"token_limit": -5},
                                     {"time_limit": 0}])
def test_eval_refuses_bad_limits(options: dict[str, Any]) -> None:
    """eval() refuses a limit <= 0 naming the option and its flag, before writing a log."""
    name = next(iter(options))
    with pytest.raises(UsageError, match=f"{name} \\(--{name.replace('_', '-')}\\)"):
        eval(agent_task(), model=MOCK, display="none", **options)
    assert not Path("logs").exists()


def test_sample_limits_refuse_strings() -> None:
    """SampleLimits refuses a limit given as text (e.g. from a config file)."""
    with pytest.raises(UsageError, match=r"max_messages .* got '5'"):
        SampleLimits(messages="5")  # type: ignore[arg-type]  # the mistake under test


def test_cli_refuses_zero_limit_in_one_line(tmp_path: Path) -> None:
    """CLI: --max-messages 0 exits 2 with one line and no traceback."""
    (tmp_path / "task.py").write_text(
        "from evalkit import Task, task\nfrom evalkit.dataset import Sample\n\n"
        "@task\ndef one():\n    return Task(dataset=[Sample(input='hi')])\n")
    done = run_cli("eval", "task.py", "--model", MOCK, "--max-messages", "0", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "evalkit: error: bad value for max_messages (--max-messages): Value error, "
        "must be at least 1, got 0"]


# -- max_messages ----------------------------------------------------------------------


def test_max_messages_seven_with_a_model_that_always_calls_a_tool() -> None:
    """max_messages=7: exactly 7 messages, the limit and its event recorded, the sample scored."""
    log, [record] = run(agent_task({"max_messages": 7}))
    assert len(record.messages) == 7
    assert roles(record) == ["user", "assistant", "tool", "assistant", "tool", "assistant",
                             "tool"]
    assert record.limit is not None
    assert (record.limit.type, record.limit.limit) == ("messages", 7)
    [event] = limit_events(record)
    assert (event.type, event.limit) == ("messages", 7)
    assert model_calls(record) == 3
    assert record.error is None
    assert record.scores is not None and record.scores["always_correct"].value == CORRECT
    assert log.status == "success"
    assert log.results is not None
    assert (log.results.completed_samples, log.results.limited_samples,
            log.results.errored_samples) == (1, 1, 0)


def test_max_messages_ending_on_an_assistant_message() -> None:
    """max_messages=6: the 6th message is the model's; its tool call is not run."""
    _, [record] = run(agent_task({"max_messages": 6}))
    assert roles(record) == ["user", "assistant", "tool", "assistant", "tool", "assistant"]
    assert sum(1 for event in record.events if event.event == "tool") == 2
    assert record.limit is not None and record.limit.limit == 6


def test_no_tool_runs_without_room_for_its_result() -> None:
    """Two tool calls in one message with room for one result: the second never runs."""
    both = ModelOutput.for_tool_call(MOCK, "echo", {"text": "one"}, tool_call_id="a")
    both.message.tool_calls = [*(both.message.tool_calls or []),
                               ToolCall(id="b", function="echo", arguments={"text": "two"})]
    _, [record] = run(agent_task({"max_messages": 3}), outputs=[both])
    assert roles(record) == ["user", "assistant", "tool"]
    assert [e.arguments for e in record.events if isinstance(e, ToolEvent)] == [{"text": "one"}]
    assert record.limit is not None and record.limit.limit == 3


@pytest.mark.parametrize(("limit", "hit"), [(4, False), (3, True)])
def test_max_messages_boundary_of_a_natural_ending(limit: int, hit: bool) -> None:
    """A 4-message conversation fits max_messages=4 with no limit; 3 cuts it before the answer."""
    outputs = [tool_call(), ModelOutput.from_content(MOCK, "done")]
    _, [record] = run(agent_task({"max_messages": limit}), outputs=outputs)
    assert len(record.messages) == limit
    assert (record.limit is not None) is hit
    assert record.output is not None
    assert record.output.completion == ("" if hit else "done")
    assert model_calls(record) == (1 if hit else 2)


def test_every_message_counts_including_system() -> None:
    """System, user, assistant and tool messages all count towards max_messages."""
    task = agent_task({"max_messages": 4}, solvers=[system_message("You are terse.")])
    _, [record] = run(task)
    assert roles(record) == ["system", "user", "assistant", "tool"]
    assert record.limit is not None


def test_conversation_already_at_the_limit_never_calls_the_model() -> None:
    """When the input alone fills max_messages the model is not called; the sample is scored."""
    _, [record] = run(agent_task({"max_messages": 1}))
    assert roles(record) == ["user"]
    assert model_calls(record) == 0
    assert record.output is None
    assert record.limit is not None and record.limit.type == "messages"
    assert record.scores is not None


def test_message_limit_alias_on_task() -> None:
    """Task(message_limit=5) is max_messages=5."""
    _, [record] = run(agent_task({"message_limit": 5}))
    assert len(record.messages) == 5
    assert record.limit is not None and record.limit.limit == 5


@pytest.mark.parametrize(("task_limit", "eval_limit", "expected"),
                         [(3, 5, 5), (5, 3, 3), (None, 4, 4), (6, None, 6)])
def test_eval_max_messages_overrides_task(task_limit: int | None, eval_limit: int | None,
                                          expected: int) -> None:
    """eval(max_messages=...) replaces the Task's limit; None keeps it."""
    options = {} if eval_limit is None else {"max_messages": eval_limit}
    task = agent_task({} if task_limit is None else {"max_messages": task_limit})
    _, [record] = run(task, **options)
    assert len(record.messages) == expected
    assert record.limit is not None and record.limit.limit == expected


def test_message_limit_alias_on_eval() -> None:
    """eval(message_limit=5) is eval(max_messages=5)."""
    _, [record] = run(agent_task(), message_limit=5)
    assert len(record.messages) == 5


@solver
def ask_again(turns: int = 100) -> Solver:
    """A multi-turn solver: append a user message, then generate, over and over."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        for turn in range(turns):
            state.messages.append(ChatMessageUser(content=f"and then? ({turn})"))
            state = await generate(state)
        return state

    return solve


def grow(how: str) -> Solver:
    """A solver that only grows ``state.messages`` (200 times, in the way named ``how``)."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        for turn in range(200):
            message = ChatMessageUser(content=f"note {turn}")
            if how == "append":
                state.messages.append(message)
            elif how == "assign":
                state.messages = state.messages + [message]  # noqa: RUF005  # the shape users write
            elif how == "iadd":
                state.messages += [message]
            elif how == "extend":
                state.messages.extend([message, message])
            elif how == "insert":
                state.messages.insert(0, message)
            elif how == "slice":
                state.messages[len(state.messages):] = [message]
        return state

    return solve


@pytest.mark.parametrize("limit", [2, 3, 4, 5, 6, 7])
@pytest.mark.parametrize("system", [False, True])
def test_max_messages_holds_when_a_solver_appends_then_generates(limit: int,
                                                                 system: bool) -> None:
    """Appending a user message and then calling generate() never takes the
    conversation past max_messages; the limit and its event are recorded."""
    solvers = [system_message("Be brief.")] if system else []
    task = Task(dataset=[Sample(id=1, input="hi", target="x")],
                solver=[*solvers, ask_again()], scorer=always_correct(), max_messages=limit)
    log, [record] = run(task, outputs=lambda messages: ModelOutput.from_content(MOCK, "ok"))
    assert len(record.messages) == limit
    assert record.limit is not None
    assert (record.limit.type, record.limit.limit) == ("messages", limit)
    assert [(e.type, e.limit) for e in limit_events(record)] == [("messages", limit)]
    assert record.error is None and record.scores is not None
    assert log.results is not None and log.results.limited_samples == 1


@pytest.mark.parametrize("how", ["append", "assign", "iadd", "extend", "insert", "slice"])
def test_a_solver_that_only_grows_the_conversation_is_limited(how: str) -> None:
    """However a solver grows state.messages, it stops at max_messages and records the limit."""
    task = Task(dataset=[Sample(id=1, input="hi", target="x")], solver=grow(how),
                scorer=always_correct(), max_messages=5)
    log, [record] = run(task)
    assert len(record.messages) <= 5
    assert len(record.messages) >= 4  # extend adds two at a time: 1 + 2 + 2 would be 5
    assert record.limit is not None
    assert (record.limit.type, record.limit.limit) == ("messages", 5)
    assert len(limit_events(record)) == 1
    assert model_calls(record) == 0
    assert record.error is None and record.scores is not None
    assert log.status == "success"


def test_a_limit_a_solver_catches_is_still_recorded() -> None:
    """A solver that swallows LimitExceeded and returns normally still records the limit."""

    @solver
    def stubborn() -> Solver:
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            for turn in range(10):
                with contextlib.suppress(LimitExceeded):
                    state.messages.append(ChatMessageUser(content=f"more {turn}"))
            return state

        return solve

    task = Task(dataset=[Sample(id=1, input="hi", target="x")], solver=stubborn(),
                scorer=always_correct(), max_messages=3)
    _, [record] = run(task)
    assert len(record.messages) == 3
    assert record.limit is not None and record.limit.limit == 3


def test_a_limit_reached_inside_a_solver_task_group_is_a_limit_not_an_error() -> None:
    """Growing the conversation past the limit from a task the solver started is a limit hit."""

    @solver
    def in_a_task_group() -> Solver:
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            async with anyio.create_task_group() as group:
                group.start_soon(grow("append"), state, generate)
            return state

        return solve

    task = Task(dataset=[Sample(id=1, input="hi", target="x")], solver=in_a_task_group(),
                scorer=always_correct(), max_messages=4)
    _, [record] = run(task)
    assert record.error is None
    assert len(record.messages) == 4
    assert record.limit is not None and record.limit.limit == 4


def test_max_messages_does_not_apply_to_scoring() -> None:
    """A scorer may add to state.messages beyond max_messages; no limit is recorded."""

    @scorer(metrics=[accuracy()])
    def chatty_grader() -> Any:
        async def score(state: TaskState, target: Target) -> Score:
            state.messages.extend(ChatMessageUser(content="grading") for _ in range(5))
            return Score(value=CORRECT, answer=str(len(state.messages)))

        return score

    task = Task(dataset=[Sample(id=1, input="hi", target="x")], scorer=chatty_grader(),
                max_messages=2)
    _, [record] = run(task, outputs=["answer"])
    assert record.limit is None
    assert record.scores is not None and record.scores["chatty_grader"].answer == "7"


# -- token_limit -----------------------------------------------------------------------


@pytest.mark.parametrize(("limit", "calls"), [(30, 3), (31, 4), (29, 3), (10, 1)])
def test_token_limit_boundary(limit: int, calls: int) -> None:
    """10 tokens a call: token_limit=30 allows 3 calls, 31 allows a 4th; none after reaching it."""
    _, [record] = run(agent_task({"token_limit": limit}),
                      outputs=lambda messages: tool_call(tokens=10))
    assert model_calls(record) == calls
    assert record.limit is not None
    assert (record.limit.type, record.limit.limit) == ("tokens", limit)
    assert record.model_usage[MOCK].total_tokens == 10 * calls
    # The call that reached the limit is kept; its tool calls are not run.
    assert roles(record)[-1] == "assistant"
    assert record.scores is not None


def test_token_limit_not_reached_is_not_recorded() -> None:
    """A sample that finishes under token_limit records no limit."""
    outputs = [tool_call(tokens=10), ModelOutput.from_content(
        MOCK, "done", usage=ModelUsage(input_tokens=9, output_tokens=1, total_tokens=10))]
    _, [record] = run(agent_task({"token_limit": 21}), outputs=outputs)
    assert record.limit is None
    assert record.output is not None and record.output.completion == "done"


def test_eval_token_limit_overrides_task() -> None:
    """eval(token_limit=20) replaces the Task's 50."""
    _, [record] = run(agent_task({"token_limit": 50}), token_limit=20,
                      outputs=lambda messages: tool_call(tokens=10))
    assert model_calls(record) == 2
    assert record.limit is not None and record.limit.limit == 20


def test_token_limit_does_not_apply_to_scoring() -> None:
    """A scorer's own model calls are not stopped by the sample's token_limit."""

    @scorer(metrics=[accuracy()])
    def grader() -> Any:
        async def score(state: TaskState, target: Target) -> Score:
            model = get_model(MOCK, custom_outputs=[ModelOutput.from_content(
                MOCK, "C", usage=ModelUsage(input_tokens=99, output_tokens=1,
                                            total_tokens=100))])
            verdict = await model.generate("grade it")
            return Score(value=verdict.completion)

        return score

    task = Task(dataset=[Sample(input="q", target="x")], scorer=grader(), token_limit=5)
    _, [record] = run(task, outputs=[ModelOutput.from_content(
        MOCK, "a", usage=ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2))])
    assert record.limit is None
    assert record.scores is not None and record.scores["grader"].value == "C"


# -- time_limit ------------------------------------------------------------------------


def test_time_limit_against_a_tool_that_sleeps() -> None:
    """time_limit stops a solver stuck in a sleeping tool; the sample is scored, not errored."""
    started = time.monotonic()
    log, [record] = run(agent_task({"time_limit": 0.3}),
                        outputs=[tool_call(name="nap", seconds=60)])
    assert time.monotonic() - started < 10
    assert record.limit is not None
    assert (record.limit.type, record.limit.limit) == ("time", 0.3)
    assert [(e.type, e.limit) for e in limit_events(record)] == [("time", 0.3)]
    assert record.error is None
    assert record.scores is not None
    assert roles(record) == ["user", "assistant"]  # the tool never returned
    assert log.status == "success"


def test_time_limit_does_not_apply_to_scoring() -> None:
    """A scorer slower than time_limit still scores; no limit is recorded."""

    @scorer(metrics=[accuracy()])
    def slow() -> Any:
        async def score(state: TaskState, target: Target) -> Score:
            await anyio.sleep(0.3)
            return Score(value=CORRECT)

        return score

    task = Task(dataset=[Sample(input="q", target="x")], scorer=slow(), time_limit=0.05)
    _, [record] = run(task, outputs=["quick answer"])
    assert record.limit is None
    assert record.scores is not None and record.scores["slow"].value == CORRECT


def test_eval_time_limit_overrides_task() -> None:
    """eval(time_limit=0.2) replaces the Task's hour."""
    _, [record] = run(agent_task({"time_limit": 3600}), time_limit=0.2,
                      outputs=[tool_call(name="nap", seconds=60)])
    assert record.limit is not None and record.limit.limit == 0.2


# -- limits and errors together --------------------------------------------------------


@solver
def fail_on(sample_id: int) -> Solver:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if state.sample_id == sample_id:
            raise RuntimeError(f"sample {sample_id} broke")
        return state

    return solve


def test_a_limit_and_an_error_in_the_same_run() -> None:
    """One sample hits max_messages, one errs, one completes: each counted apart."""
    task = agent_task({"max_messages": 3, "fail_on_error": False}, samples=3,
                      solvers=[fail_on(2)])
    outputs = [tool_call(), ModelOutput.from_content(MOCK, "x")]

    def model(messages: list[ChatMessage]) -> ModelOutput:
        return outputs[1] if "task 3" in messages[0].content else outputs[0]

    log, records = run(task, outputs=model)
    by_id = {record.id: record for record in records}
    assert by_id[1].limit is not None and by_id[1].error is None
    assert by_id[2].error is not None and by_id[2].limit is None
    assert by_id[2].error.phase == "solver"
    assert by_id[3].limit is None and by_id[3].error is None
    assert log.status == "success"
    assert log.results is not None
    r = log.results
    assert (r.total_samples, r.completed_samples, r.errored_samples, r.limited_samples,
            r.cancelled_samples) == (3, 2, 1, 1, 0)
    assert r.scores[0].scored_samples == 2


def test_limit_hits_never_fail_the_eval() -> None:
    """Every sample hitting its limit is still success under fail_on_error=True."""
    log, records = run(agent_task({"max_messages": 3}, samples=3))
    assert log.status == "success"
    assert all(record.limit is not None for record in records)
    assert log.results is not None and log.results.limited_samples == 3


def test_cli_max_messages(tmp_path: Path) -> None:
    """CLI: --max-messages 2 stops a sample whose system + user messages fill it."""
    (tmp_path / "task.py").write_text(
        "from evalkit import Task, task\n"
        "from evalkit.dataset import Sample\n"
        "from evalkit.solver import generate, system_message\n\n"
        "@task\ndef agent():\n"
        "    return Task(dataset=[Sample(input='hi', target='x')],\n"
        "                solver=[system_message('Be brief.'), generate()])\n")
    done = run_cli("eval", "task.py", "--model", MOCK, "--max-messages", "2", "--display",
                   "none", "--log-dir", "logs", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    [path] = (tmp_path / "logs").iterdir()
    log = read_eval_log(path)
    assert log.eval.config["max_messages"] == 2
    [record] = log.samples or []
    assert [m.role for m in record.messages] == ["system", "user"]
    assert record.limit is not None and record.limit.type == "messages"
