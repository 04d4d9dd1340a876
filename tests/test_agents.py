"""basic_agent and react: the submit tool ends the loop, attempts, continue messages, limits."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import EXAMPLES

from evalkit import Task, eval
from evalkit.agent import AgentAttempts, AgentSubmit, as_solver, react
from evalkit.dataset import Sample
from evalkit.log import EvalSample, read_eval_log
from evalkit.model import ChatMessageTool, ModelOutput
from evalkit.scorer import CORRECT, INCORRECT, match
from evalkit.solver import TaskState, basic_agent
from evalkit.tool import Tool, tool

MOCK = "mockllm/model"


def call(function: str, **arguments: Any) -> ModelOutput:
    return ModelOutput.for_tool_call(MOCK, function, arguments)


def text(content: str) -> ModelOutput:
    return ModelOutput.from_content(MOCK, content)


@tool
def double() -> Tool:
    async def execute(x: int) -> int:
        """Double a number.

        Args:
            x: The number.
        """
        return 2 * x

    return execute


def run(task: Task | str, outputs: list[ModelOutput], **options: Any) -> EvalSample:
    """Run one sample with the mock model answering ``outputs``, in order; its record."""
    [log] = eval(task, model=MOCK, display="none", model_args={"custom_outputs": outputs},
                 **options)
    assert log.location is not None
    [record] = read_eval_log(log.location).samples or []
    return record


def task_of(solver: Any, target: str = "10", **options: Any) -> Task:
    return Task(dataset=[Sample(input="What is double 5?", target=target)], solver=solver,
                scorer=match(), **options)


def value(record: EvalSample) -> Any:
    assert record.scores is not None, record.error
    return record.scores["match"].value


def roles(record: EvalSample) -> list[str]:
    return [message.role for message in record.messages]


# -- the example ------------------------------------------------------------------------

STOCKROOM = str(EXAMPLES / "stockroom.py")


@pytest.mark.parametrize(("answer", "expected"), [("852", 1.0), ("850", 0.0)])
def test_stockroom_example_scores_the_submitted_answer(answer: str, expected: float) -> None:
    """The react example: two lookups, then submit; 1.0 when right and 0.0 when wrong."""
    outputs = [call("stock_level", item="Hex bolt M6"), call("stock_level", item="hex nut m6"),
               call("think", thought="340 + 512"), call("submit", answer=answer)]
    [log] = eval(STOCKROOM, model=MOCK, display="none", sample_id=["bolts-and-nuts"],
                 model_args={"custom_outputs": outputs})
    assert log.results is not None
    assert log.results.scores[0].metrics["accuracy"].value == expected
    assert log.location is not None
    [record] = read_eval_log(log.location).samples or []
    results = [m.content for m in record.messages if isinstance(m, ChatMessageTool)]
    assert results == ["340", "512", "", answer]
    assert record.output is not None and record.output.completion == answer


def test_stockroom_tool_errors_are_shown_to_the_model() -> None:
    """An unknown item is a tool error the model sees (listing the items), not a sample error."""
    record = run(STOCKROOM, [call("stock_level", item="sprocket"), call("submit", answer="0")],
                 sample_id=["plugs"])
    tool_message = record.messages[3]
    assert isinstance(tool_message, ChatMessageTool) and tool_message.error is not None
    assert "hex bolt m6" in tool_message.error and value(record) == CORRECT


# -- basic_agent ------------------------------------------------------------------------


def test_submit_ends_the_sample_and_later_outputs_are_never_asked_for() -> None:
    """After submit() the agent stops: no further model call, the answer is the completion."""
    outputs = [call("double", x=5), call("submit", answer="10"), text("never used")]
    record = run(task_of(basic_agent(tools=[double()])), outputs)
    assert roles(record) == ["system", "user", "assistant", "tool", "assistant", "tool"]
    assert record.messages[3].content == "10"
    assert value(record) == CORRECT and record.output is not None
    assert record.output.completion == "10"


def test_a_wrong_submission_is_retried_while_attempts_remain() -> None:
    """max_attempts=2: a wrong answer gets incorrect_message, the second answer is scored."""
    outputs = [call("submit", answer="11"), call("submit", answer="10")]
    record = run(task_of(basic_agent(tools=[double()], max_attempts=2,
                                     incorrect_message="Wrong, try again.")), outputs)
    users = [m.content for m in record.messages if m.role == "user"]
    assert users[-1] == "Wrong, try again."
    assert value(record) == CORRECT


def test_one_attempt_ends_on_a_wrong_submission() -> None:
    """With max_attempts=1 a wrong answer is final and scored incorrect."""
    outputs = [call("submit", answer="11"), call("submit", answer="10")]
    record = run(task_of(basic_agent(tools=[double()])), outputs)
    assert value(record) == INCORRECT and roles(record)[-1] == "tool"


def test_attempts_run_out() -> None:
    """Three wrong answers with max_attempts=3: three submissions, then the last is scored."""
    outputs = [call("submit", answer=str(n)) for n in (1, 2, 3, 4)]
    record = run(task_of(basic_agent(max_attempts=3)), outputs)
    submitted = [m.content for m in record.messages if isinstance(m, ChatMessageTool)]
    assert submitted == ["1", "2", "3"] and value(record) == INCORRECT


def test_a_reply_without_tool_calls_gets_the_continue_message() -> None:
    """No tool call: continue_message (with the submit name) is sent and the loop goes on."""
    outputs = [text("thinking..."), call("finish", answer="10")]
    record = run(task_of(basic_agent(continue_message="Go on, then {submit}().",
                                     submit_name="finish")), outputs)
    assert record.messages[3].content == "Go on, then finish()."
    assert value(record) == CORRECT


def test_basic_agent_message_limit_is_a_recorded_limit() -> None:
    """A model that never submits stops at message_limit; the sample is scored, not errored."""
    record = run(task_of(basic_agent(tools=[double()], message_limit=6)),
                 [call("double", x=1)] * 10)
    assert record.error is None and record.limit is not None
    assert (record.limit.type, record.limit.limit) == ("messages", 6)
    assert len(record.messages) == 6 and value(record) == INCORRECT


def test_basic_agent_token_limit_is_a_recorded_limit() -> None:
    """token_limit stops the agent once the sample's model calls used that many tokens."""
    record = run(task_of(basic_agent(tools=[double()], token_limit=5)), [call("double", x=1)] * 10)
    assert record.limit is not None and record.limit.type == "tokens"


def test_task_max_messages_stops_an_agent() -> None:
    """The sample's own max_messages (DESIGN §6) holds inside the agent loop too."""
    record = run(task_of(react(tools=[double()]), max_messages=5), [call("double", x=1)] * 10)
    assert record.limit is not None and (record.limit.type, record.limit.limit) == ("messages", 5)
    assert len(record.messages) == 5


def test_init_and_a_tools_solver_are_used() -> None:
    """init replaces the default system message; tools may be a solver (use_tools)."""
    from evalkit.solver import system_message, use_tools

    record = run(task_of(basic_agent(init=system_message("Be brief."), tools=use_tools(double()))),
                 [call("double", x=5), call("submit", answer="10")])
    assert record.messages[0].content == "Be brief." and record.messages[3].content == "10"


# -- react ------------------------------------------------------------------------------


def test_react_appends_the_answer_to_the_model_text_unless_answer_only() -> None:
    """The completion is the model's text, a blank line, the answer; answer_only gives it alone."""
    with_text = ModelOutput.for_tool_call(MOCK, "submit", {"answer": "10"}, content="Done.")
    record = run(task_of(react()), [with_text])
    assert record.output is not None and record.output.completion == "Done.\n\n10"
    record = run(task_of(react(submit=AgentSubmit(answer_only=True))), [with_text])
    assert record.output is not None and record.output.completion == "10"
    assert record.messages[-2].content == "Done."  # the conversation keeps what the model said


def test_react_without_submit_ends_when_the_model_stops_calling_tools() -> None:
    """submit=False: no submit tool; the first reply without tool calls is the answer."""
    record = run(task_of(react(tools=[double()], submit=False)), [call("double", x=5), text("10")])
    assert value(record) == CORRECT and roles(record)[-1] == "assistant"
    assert "submit" not in (record.messages[0].content or "")


def test_react_attempts_and_custom_submit_name() -> None:
    """AgentAttempts(2) with a renamed submit tool: wrong, told so, then right."""
    outputs = [call("answer", answer="3"), call("answer", answer="10")]
    record = run(task_of(react(attempts=AgentAttempts(2, incorrect_message="No."),
                               submit=AgentSubmit(name="answer"))), outputs)
    assert [m.content for m in record.messages if m.role == "user"][-1] == "No."
    assert value(record) == CORRECT
    assert "answer()" in (record.messages[0].content or "")


def test_react_on_continue_callable_can_stop_the_agent() -> None:
    """on_continue returning False ends the loop on a reply without tool calls."""
    seen: list[int] = []

    async def stop(state: TaskState) -> bool:
        seen.append(len(state.messages))
        return False

    record = run(task_of(react(on_continue=stop)), [text("10"), call("submit", answer="1")])
    assert seen == [3] and value(record) == CORRECT


def test_react_is_a_solver_and_as_solver_returns_it() -> None:
    """react() goes into Task(solver=...) directly; as_solver() keeps Inspect files working."""
    agent = react(prompt="Double things.", tools=[double()])
    assert as_solver(agent) is agent
    record = run(task_of([as_solver(agent)]), [call("double", x=5), call("submit", answer="10")])
    assert record.messages[0].content.startswith("Double things.")
    assert value(record) == CORRECT


def test_react_prompt_parts_make_one_system_message() -> None:
    """AgentPrompt parts left as None are dropped; {submit} names the submit tool."""
    from evalkit.agent import AgentPrompt

    prompt = AgentPrompt(instructions="Count things.", assistant_prompt=None,
                         submit_prompt="Finish with {submit}().")
    record = run(task_of(react(prompt=prompt, submit=AgentSubmit(name="done"))),
                 [call("done", answer="10")])
    assert record.messages[0].content == "Count things.\n\nFinish with done()."
    record = run(task_of(react(prompt=None)), [call("submit", answer="10")])
    assert roles(record)[0] == "user"


def test_a_right_submission_ends_the_attempts_early() -> None:
    """max_attempts=3, right on the second try: no third submission is asked for."""
    outputs = [call("submit", answer="11"), call("submit", answer="10"),
               call("submit", answer="12")]
    record = run(task_of(basic_agent(max_attempts=3)), outputs)
    submitted = [m.content for m in record.messages if isinstance(m, ChatMessageTool)]
    assert submitted == ["11", "10"] and value(record) == CORRECT


def test_score_value_decides_what_counts_as_right() -> None:
    """A score_value that reads every value as 1.0 accepts the first (wrong) submission."""
    outputs = [call("submit", answer="11"), call("submit", answer="10")]
    record = run(task_of(basic_agent(max_attempts=2, score_value=lambda value: 1.0)), outputs)
    submitted = [m.content for m in record.messages if isinstance(m, ChatMessageTool)]
    assert submitted == ["11"] and value(record) == INCORRECT


PLANS = {  # question start -> items to look up, right answer
    "How many hex bolts": (["hex bolt m6", "hex nut m6"], "852"),
    "A cabinet needs 4 hinges": (["hinge 75mm"], "9"),
    "How many 6mm wall plugs": (["wall plug 6mm"], "0"),
    "What is the total stock": (["washer m6", "wood screw 4x40"], "1275"),
}


def stockroom_agent(right: bool) -> Any:
    """A scripted model: look up each item of the question, then submit (off by one if wrong)."""

    def reply(messages: list[Any]) -> ModelOutput:
        question = next(m.content for m in messages if m.role == "user")
        [(items, answer)] = [plan for start, plan in PLANS.items() if question.startswith(start)]
        looked_up = sum(1 for m in messages if isinstance(m, ChatMessageTool))
        if looked_up < len(items):
            return call("stock_level", item=items[looked_up])
        return call("submit", answer=answer if right else str(int(answer) + 1))

    return reply


@pytest.mark.parametrize(("right", "expected"), [(True, 1.0), (False, 0.0)])
def test_stockroom_example_whole_dataset(right: bool, expected: float) -> None:
    """Every stockroom question: accuracy 1.0 when the agent is right, 0.0 when wrong."""
    [log] = eval(STOCKROOM, model=MOCK, display="none",
                 model_args={"custom_outputs": stockroom_agent(right)})
    assert log.status == "success" and log.results is not None
    assert log.results.scores[0].metrics["accuracy"].value == expected
    assert log.results.completed_samples == 4 and log.results.limited_samples == 0
