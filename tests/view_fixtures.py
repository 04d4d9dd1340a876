"""Logs for the viewer's tests and screenshots, written with the real LogWriter.

Samples are built from the log's own record types, so every kind of thing a
page shows is present: a tool-using transcript, an errored sample with its
traceback and error history, a limit hit, a cancelled sample, a hostile
message, a retried lineage, a run still going, and a damaged file.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta, timezone
from pathlib import Path

from evalkit._transcript import (
    ErrorEvent,
    InfoEvent,
    LimitEvent,
    ModelEvent,
    ScoreEvent,
    ToolEvent,
)
from evalkit.log import (
    EvalDataset,
    EvalError,
    EvalFooter,
    EvalLimit,
    EvalMetric,
    EvalResults,
    EvalSample,
    EvalScore,
    EvalSpec,
    EvalStats,
    LogWriter,
    _writer,
    log_file_name,
)
from evalkit.model import (
    ChatMessageAssistant,
    ChatMessageSystem,
    ChatMessageTool,
    ChatMessageUser,
    ModelOutput,
    ModelUsage,
    ToolCall,
)
from evalkit.scorer import Score

MODEL = "mockllm/model"
XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'
T0 = 1_790_000_000.0


# A task whose samples after the second wait for the file GATE: a run that
# stays "running" until the test lets it finish.
GATED_TASK = '''
from pathlib import Path

import anyio

from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.solver import generate, solver


@solver
def gated():
    async def solve(state, generate):
        # Samples after the second wait until the test opens the gate.
        while int(state.sample_id) > 2 and not Path(GATE).exists():
            await anyio.sleep(0.05)
        return await generate(state)
    return solve


@task
def gated_task():
    samples = [Sample(id=n, input=f"question {n}", target="x") for n in range(1, 6)]
    return Task(dataset=samples, solver=[gated()], fail_on_error=False)
'''


def make_spec(task: str, samples: int, *, run: int = 1, retry_of: str | None = None,
              created: str = "2026-11-30T09:00:00+00:00") -> EvalSpec:
    """A header like the runner writes, for ``samples`` samples of ``task``."""
    task_id = hashlib.sha256(task.encode()).hexdigest()[:16]
    return EvalSpec(
        task=task, task_id=task_id, run_id=f"{task_id[:8]}run{run:05d}", retry_of=retry_of,
        created=created, task_file=f"/home/user/evals/{task}.py",
        task_file_relative=f"{task}.py", task_registry_name=task, task_args={"n": samples},
        model=MODEL, generate_config={"temperature": 0.0}, config={"epochs": 1, "fail_on_error": False},
        dataset=EvalDataset(name=task, samples=samples, sample_ids=list(range(1, samples + 1))),
        replay={"evalkit_version": "0.1.0", "python": "3.11.7", "seed": 7,
                "command": f"evalkit eval {task}.py --model {MODEL}"},
    )


def agent_sample(sample_id: int, *, question: str | None = None, correct: bool = True) -> EvalSample:
    """A sample whose model called a tool once, then answered."""
    a, b = sample_id * 7, sample_id * 3
    question = question or f"What is {a} * {b}? Use the calculator."
    answer = str(a * b) if correct else str(a * b + 1)
    call = ToolCall(id=f"call_{sample_id}", function="calculator", arguments={"expression": f"{a}*{b}"})
    usage = ModelUsage(input_tokens=60, output_tokens=20, total_tokens=80)
    started = T0 + sample_id
    return EvalSample(
        id=sample_id, input=question, target=str(a * b),
        messages=[
            ChatMessageSystem(content="You are a careful assistant. Use tools for arithmetic."),
            ChatMessageUser(content=question),
            ChatMessageAssistant(content="Let me compute that.", tool_calls=[call]),
            ChatMessageTool(content=str(a * b), tool_call_id=call.id, function="calculator"),
            ChatMessageAssistant(content=f"The answer is {answer}."),
        ],
        output=ModelOutput.from_content(MODEL, f"The answer is {answer}.", usage=usage),
        scores={"match": Score(value="C" if correct else "I", answer=answer,
                               explanation=f"expected {a * b}, got {answer}")},
        model_usage={MODEL: usage},
        events=[
            ModelEvent(timestamp=started, model=MODEL, input_messages=2,
                       output="Let me compute that.", latency=0.41,
                       raw='{"choices":[{"message":{"tool_calls":[...]}}]}',
                       usage={"input_tokens": 30, "output_tokens": 10}),
            ToolEvent(timestamp=started + 0.5, function="calculator",
                      arguments={"expression": f"{a}*{b}"}, result=str(a * b), duration=0.01),
            ModelEvent(timestamp=started + 0.6, model=MODEL, input_messages=4,
                       output=f"The answer is {answer}.", latency=0.35),
            ScoreEvent(timestamp=started + 1.0, scorer="match", value="C" if correct else "I"),
        ],
        started_at=started, total_time=1.02,
    )


def errored_sample(sample_id: int) -> EvalSample:
    """A sample whose solver raised, on its second attempt."""
    trace = ('Traceback (most recent call last):\n  File "agent.py", line 12, in solve\n'
             '    raise RuntimeError("sandbox unavailable")\nRuntimeError: sandbox unavailable\n')
    error = EvalError(message="RuntimeError: sandbox unavailable", traceback=trace,
                      phase="solver", kind="RuntimeError")
    return EvalSample(
        id=sample_id, input=f"question {sample_id}", target="42",
        messages=[ChatMessageUser(content=f"question {sample_id}")], error=error, attempts=2,
        events=[InfoEvent(timestamp=T0 + sample_id, data={"sandbox": "starting"}, source="agent"),
                ErrorEvent(timestamp=T0 + sample_id + 30, message=error.message, phase="solver")],
        error_history=[EvalError(message="TimeoutError: tool timed out after 30s",
                                 phase="tool", kind="TimeoutError")],
        started_at=T0 + sample_id, total_time=30.5,
    )


def limited_sample(sample_id: int) -> EvalSample:
    """A sample stopped by its message limit (a completed sample, scored)."""
    sample = agent_sample(sample_id, correct=False)
    sample.limit = EvalLimit(type="messages", limit=4)
    sample.events.insert(3, LimitEvent(timestamp=T0 + sample_id + 0.9, type="messages", limit=4,
                                       message="message limit of 4 reached"))
    return sample


def footer_for(samples: list[EvalSample], total: int) -> EvalFooter:
    """The footer the runner would write after ``samples``: counts and accuracy."""
    scored = [s for s in samples if s.scores and not s.error and not s.cancelled]
    correct = sum(1 for s in scored if s.scores and s.scores["match"].value == "C")
    accuracy = correct / len(scored) if scored else float("nan")
    errored = sum(1 for s in samples if s.error and not s.cancelled)
    cancelled = sum(1 for s in samples if s.cancelled)
    results = EvalResults(
        total_samples=total, completed_samples=len(samples) - errored - cancelled,
        errored_samples=errored, limited_samples=sum(1 for s in samples if s.limit),
        cancelled_samples=cancelled,
        scores=[EvalScore(name="match", scored_samples=len(scored), metrics={
            "accuracy": EvalMetric(name="accuracy", value=accuracy)})],
    )
    usage = ModelUsage(input_tokens=60 * len(scored), output_tokens=20 * len(scored),
                       total_tokens=80 * len(scored))
    return EvalFooter(status="error" if errored else "success", results=results,
                      stats=EvalStats(started_at="2026-11-30T09:00:01+00:00",
                                      completed_at="2026-11-30T09:03:12+00:00",
                                      model_usage={MODEL: usage}, cost=0.0123,
                                      pricing_source="builtin"))


def write_log(directory: Path, spec: EvalSpec, samples: list[EvalSample],
              footer: EvalFooter | None) -> Path:
    """A log file of ``spec`` and ``samples``; no footer means a run still going."""
    path = directory / log_file_name(spec.created.replace(":", "-")[:19], spec.task, spec.run_id)
    with LogWriter(path) as writer:
        writer.write_header(spec)
        for sample in samples:
            writer.write_sample(sample)
        if footer is not None:
            writer.write_footer(footer)
    return path


def write_demo_logs(directory: Path, big: int = 250) -> dict[str, Path]:
    """A directory of logs covering what the viewer shows; returns them by role."""
    logs: dict[str, Path] = {}
    first = make_spec("agent", 6, created="2026-11-30T09:00:00+00:00")
    cancelled = errored_sample(6).model_copy(update={"cancelled": True, "error": None})
    samples = [agent_sample(1), agent_sample(2, question=XSS), errored_sample(3),
               limited_sample(4), agent_sample(5, correct=False), cancelled]
    failed = footer_for(samples, 6)
    failed.status = "error"
    failed.error = EvalError(message="2 samples failed, more than fail_on_error allows")
    logs["failed"] = write_log(directory, first, samples, failed)
    retry = make_spec("agent", 6, run=2, retry_of=first.run_id, created="2026-11-30T10:00:00+00:00")
    retried = [agent_sample(n) for n in range(1, 7)]
    logs["retried"] = write_log(directory, retry, retried, footer_for(retried, 6))
    big_spec = make_spec("arithmetic", big, created="2026-11-29T08:00:00+00:00")
    many = [agent_sample(n, correct=n % 3 != 0) for n in range(1, big + 1)]
    logs["big"] = write_log(directory, big_spec, many, footer_for(many, big))
    three_minutes_ago = datetime.now(timezone.utc) - timedelta(minutes=3)  # for a sensible ETA
    running = make_spec("sweep", 40, created=three_minutes_ago.isoformat())
    logs["running"] = write_log(directory, running, [agent_sample(n) for n in range(1, 13)], None)
    return logs


def write_corrupt_log(directory: Path) -> Path:
    """A finished log of 200 samples in many small frames, one of them damaged."""
    spec = make_spec("damaged", 200, created="2026-11-28T08:00:00+00:00")
    samples = [agent_sample(n) for n in range(1, 201)]
    roll = _writer.ROLL_BYTES
    _writer.ROLL_BYTES = 20_000  # about ten samples a frame, so most frames stay intact
    try:
        path = write_log(directory, spec, samples, footer_for(samples, 200))
    finally:
        _writer.ROLL_BYTES = roll
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 64] = bytes(64)
    path.write_bytes(bytes(data))
    return path
