"""Samples stopped mid-run keep everything they did, and their tokens are counted."""

from __future__ import annotations

from pathlib import Path

import anyio
import pytest

from evalkit import Task, eval, eval_async, eval_retry
from evalkit.dataset import Sample
from evalkit.errors import QuotaExhaustedError
from evalkit.log import EvalLog, EvalSample, read_eval_log
from evalkit.model import ChatMessage, ChatMessageUser, ModelOutput, ModelUsage
from evalkit.solver import Generate, Solver, TaskState, solver

MOCK = "mockllm/model"
PRICE = (1.0, 2.0)  # per million input / output tokens


OUT_OF_CREDIT = "this call runs out of credit"


def answer(messages: list[ChatMessage]) -> ModelOutput:
    """Every call: 3 input and 2 output tokens (or a quota error, when asked)."""
    if messages[-1].content == OUT_OF_CREDIT:
        raise QuotaExhaustedError("credit exhausted")
    return ModelOutput.from_content(MOCK, "ok", usage=ModelUsage(
        input_tokens=3, output_tokens=2, total_tokens=5))


def samples(count: int) -> list[Sample]:
    return [Sample(id=i, input=f"question {i}", target="ok") for i in range(1, count + 1)]


@solver
def two_turns_then_block(quota: bool = False) -> Solver:
    """Sample 1 calls the model once, waits until samples 2-4 are blocked, then fails
    (or, with ``quota``, makes a call that runs out of credit). The others call the
    model twice and wait until the run stops them."""
    blocked = 0
    others_blocked = anyio.Event()
    never = anyio.Event()

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        nonlocal blocked
        state = await generate(state)
        if state.sample_id == 1:
            await others_blocked.wait()
            if quota:
                state.messages.append(ChatMessageUser(content=OUT_OF_CREDIT))
                return await generate(state)
            raise RuntimeError("sample 1 failed")
        state.messages.append(ChatMessageUser(content="go on"))
        state = await generate(state)
        blocked += 1
        if blocked == 3:
            others_blocked.set()
        await never.wait()  # until the run's stop cancels it
        return state

    return solve


async def run(task: Task, **options: object) -> tuple[EvalLog, list[EvalSample]]:
    with anyio.fail_after(20):
        [log] = await eval_async(task, model=MOCK, display="none", max_samples=4,
                                 model_args={"custom_outputs": answer},
                                 model_cost={MOCK: PRICE}, **options)
    assert log.location is not None
    return log, list(read_eval_log(log.location).samples or [])


def assert_kept_what_it_did(record: EvalSample) -> None:
    """A sample cancelled after two model calls keeps its conversation, transcript,
    usage, timings and attempt."""
    assert record.cancelled and record.error is None and record.scores is None
    assert [m.role for m in record.messages] == ["user", "assistant", "user", "assistant"]
    assert sum(1 for event in record.events if event.event == "model") == 2
    assert record.model_usage[MOCK] == ModelUsage(input_tokens=6, output_tokens=4,
                                                  total_tokens=10)
    assert record.output is not None and record.output.completion == "ok"
    assert record.started_at is not None and record.total_time is not None
    assert record.total_time >= 0
    assert record.attempts == 1


@pytest.mark.anyio
async def test_threshold_cancelled_samples_keep_all_they_did_and_are_paid_for() -> None:
    """Samples cancelled by the threshold keep messages, events, usage, timings and
    attempts; the footer counts every token (35, not 5) and its exact cost."""
    task = Task(dataset=samples(6), solver=two_turns_then_block())
    log, records = await run(task)

    assert log.status == "error" and log.results is not None
    assert log.results.cancelled_samples == 3 and log.results.errored_samples == 1
    cancelled = [r for r in records if r.cancelled]
    assert sorted(r.id for r in cancelled) == [2, 3, 4]
    for record in cancelled:
        assert_kept_what_it_did(record)
    [failed] = [r for r in records if r.error is not None]
    assert failed.model_usage[MOCK].total_tokens == 5
    assert log.stats is not None
    assert log.stats.model_usage[MOCK] == ModelUsage(input_tokens=21, output_tokens=14,
                                                     total_tokens=35)
    assert log.stats.cost == (21 * PRICE[0] + 14 * PRICE[1]) / 1e6


@pytest.mark.anyio
async def test_threshold_message_tells_cancelled_from_never_run() -> None:
    """The threshold error counts cancelled samples apart from those that never ran."""
    task = Task(dataset=samples(6), solver=two_turns_then_block())
    log, _ = await run(task)
    assert log.error is not None
    assert ("3 samples in flight were cancelled and 2 samples did not run"
            in log.error.message)


@pytest.mark.anyio
async def test_samples_cancelled_by_a_quota_abort_keep_all_they_did() -> None:
    """A quota abort cancels the samples in flight; they keep their work, and the
    footer counts every token spent."""
    task = Task(dataset=samples(4), solver=two_turns_then_block(quota=True))
    log, records = await run(task)

    assert log.status == "error" and log.error is not None
    assert log.error.kind == "quota_exhausted"
    by_id = {record.id: record for record in records}
    for sample_id in (2, 3, 4):
        assert_kept_what_it_did(by_id[sample_id])
    assert by_id[1].cancelled and by_id[1].model_usage[MOCK].total_tokens == 5
    assert [m.role for m in by_id[1].messages] == ["user", "assistant", "user"]
    assert log.stats is not None
    assert log.stats.model_usage[MOCK].total_tokens == 35


PHASED_TASK = '''
import os

from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.errors import QuotaExhaustedError
from evalkit.solver import Generate, Solver, TaskState, solver


@solver
def phased() -> Solver:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state = await generate(state)
        phase = os.environ["PHASE"]
        if phase == "fail":
            raise RuntimeError("first run: a sample error")
        if phase == "abort":
            raise QuotaExhaustedError("second run: out of credit")
        return state

    return solve


@task
def phases():
    return Task(dataset=[Sample(id=1, input="question", target="x")], solver=phased())
'''


def test_a_cancelled_attempt_counts_in_every_later_retry(
        tmp_path: Path, log_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Errored, then cancelled by a quota abort, then completed: the final record has
    all three attempts and all three calls' tokens (the cancelled one is not dropped
    in favour of the older error)."""
    task_file = tmp_path / "phases.py"
    task_file.write_text(PHASED_TASK)
    monkeypatch.setenv("PHASE", "fail")
    [log] = eval(f"{task_file}@phases", model=MOCK, display="none", log_dir=str(log_dir))
    [first] = read_eval_log(str(log.location)).samples or []
    one_call = first.model_usage[MOCK]
    monkeypatch.setenv("PHASE", "abort")
    [log] = eval_retry(str(log.location), display="none")
    assert log.error is not None and log.error.kind == "quota_exhausted"
    monkeypatch.setenv("PHASE", "done")

    [log] = eval_retry(str(log.location), display="none")

    [record] = read_eval_log(str(log.location)).samples or []
    assert record.error is None and not record.cancelled
    assert record.attempts == 3 and len(record.error_history) == 1
    assert record.model_usage[MOCK] == one_call + one_call + one_call
    assert log.stats is not None and log.stats.model_usage[MOCK] == record.model_usage[MOCK]
