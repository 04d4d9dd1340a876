"""Running one sample in one epoch: solve, score, and record what happened."""

from __future__ import annotations

import time
import traceback
from dataclasses import dataclass, field

from .._transcript import ErrorEvent, ScoreEvent, Transcript, bind_transcript
from ..dataset import Sample, Target
from ..dataset._sample import SandboxSpec
from ..errors import LimitExceeded, ModelError, ModelFatalError, ToolCallError
from ..log import EvalError, EvalLimit, EvalSample
from ..model import ChatMessage, ChatMessageUser, GenerateConfig, Model, ModelUsage
from ..model._model import bind_active_model, bind_model_roles, bind_task_config
from ..model._usage import SampleUsage, bind_sample_usage
from ..scorer import Score, Scorer, scorer_name, value_to_float
from ..solver import SampleLimits, Solver, TaskState, make_generate, solve_within_limits
from ..solver._answer_scoring import AnswerScoring, bind_answer_scoring
from ..tool import sandbox_context, setup_sandbox


@dataclass(frozen=True)
class SampleContext:
    """What every sample of one task run shares."""

    model: Model
    solver: Solver
    scorers: list[Scorer]
    limits: SampleLimits
    retry_on_error: int = 0
    task_config: GenerateConfig = field(default_factory=GenerateConfig)
    """The Task's own generation options (the eval's, on the model, win over them)."""
    sandbox: SandboxSpec | None = None
    """The Task's sandbox type; a sample's own ``sandbox`` wins over it."""
    roles: dict[str, Model] = field(default_factory=dict)
    """The eval's named models (``get_model(role="grader")``)."""


@dataclass
class PriorAttempts:
    """Failures of a sample in earlier runs of the same task (from the logs)."""

    attempts: int = 0
    errors: list[EvalError] = field(default_factory=list)
    usage: dict[str, ModelUsage] = field(default_factory=dict)
    """Tokens the failed attempts spent: added to the sample's usage, so totals add up."""


class SampleRun:
    """One sample in one epoch, run with up to ``retry_on_error`` retries.

    What each attempt does (its conversation, transcript and usage) is kept as it
    happens, so a sample stopped mid-run (the threshold passed, a quota abort,
    Ctrl-C) is recorded with everything it did: ``cancelled()``.
    """

    def __init__(self, context: SampleContext, sample: Sample, epoch: int,
                 prior: PriorAttempts | None = None) -> None:
        self.context, self.sample, self.epoch = context, sample, epoch
        self.attempts = prior.attempts if prior else 0
        self.history: list[EvalError] = list(prior.errors) if prior else []
        self.spent: list[dict[str, ModelUsage]] = [prior.usage] if prior else []
        """Usage of earlier attempts (and runs), added to the sample's own."""
        self.current: _Attempt | None = None

    async def run(self) -> EvalSample:
        """Run the sample. Raises ``ModelFatalError`` (quota, auth): the eval must stop."""
        for attempt in range(self.context.retry_on_error + 1):
            record = await self._attempt()
            self.current = None
            if record.error is None or attempt == self.context.retry_on_error:
                break
            self.history.append(record.error)
            self.spent.append(record.model_usage)
        record.attempts = self.attempts
        record.error_history = self.history
        record.model_usage = _summed([*self.spent, record.model_usage])
        return record

    def cancelled(self) -> EvalSample:
        """The record of the sample stopped mid-run, with all it did so far; a retry
        runs it again."""
        record = EvalSample(
            id=_sample_id(self.sample), epoch=self.epoch, input=self.sample.input,
            target=self.sample.target, input_hash=self.sample.input_hash(), cancelled=True,
            metadata=self.sample.metadata, attempts=self.attempts,
            error_history=list(self.history), model_usage=_summed(self.spent),
        )
        if self.current is not None:
            self.current.fill(record)
            record.model_usage = _summed([*self.spent, self.current.usage.by_model])
        return record

    async def _attempt(self) -> EvalSample:
        context, sample = self.context, self.sample
        self.attempts += 1
        current = self.current = _Attempt(_initial_state(context.model.name, sample, self.epoch))
        phase = "solver"
        limit: LimitExceeded | None = None
        scores: dict[str, Score] | None = None
        error: EvalError | None = None
        with bind_transcript(current.events), bind_sample_usage(current.usage), \
                bind_active_model(context.model), bind_task_config(context.task_config), \
                bind_model_roles(context.roles), \
                bind_answer_scoring(_answer_scoring(context.scorers)):
            try:
                # Through scoring too: scorers may read its files.
                async with sandbox_context(sample.sandbox or context.sandbox) as box:
                    await setup_sandbox(box, sample.files, sample.setup)
                    generate = make_generate(context.model, context.limits)
                    current.state, limit = await solve_within_limits(
                        context.solver, current.state, generate, context.limits)
                    phase = "scorer"
                    scores = await _score(context.scorers, current.state, current.events)
            except Exception as exc:
                _raise_if_fatal(exc)
                error = _sample_error(exc, phase)
                current.events.add(ErrorEvent(message=error.message, phase=error.phase or phase))
        record = EvalSample(
            id=_sample_id(sample), epoch=self.epoch, input=sample.input, target=sample.target,
            input_hash=sample.input_hash(), scores=scores, error=error,
            limit=EvalLimit(type=limit.type, limit=limit.limit) if limit else None,  # type: ignore[arg-type]  # LimitExceeded.type is one of the three
            metadata=sample.metadata, model_usage=current.usage.by_model,
        )
        current.fill(record)
        return record


@dataclass
class _Attempt:
    """One attempt in progress: what it has done so far."""

    state: TaskState
    events: Transcript = field(default_factory=Transcript)
    usage: SampleUsage = field(default_factory=SampleUsage)
    started: float = field(default_factory=time.time)

    def fill(self, record: EvalSample) -> None:
        """Put the conversation, output, transcript and timings so far on ``record``."""
        record.messages = list(self.state.messages)
        record.output = self.state.output if self.state.output.choices else None
        record.events = list(self.events.events)
        record.started_at = self.started
        record.total_time = round(time.time() - self.started, 6)


def _summed(usages: list[dict[str, ModelUsage]]) -> dict[str, ModelUsage]:
    total: dict[str, ModelUsage] = {}
    for usage in usages:
        for model, used in usage.items():
            total[model] = total[model] + used if model in total else used
    return total


def _initial_state(model: str, sample: Sample, epoch: int) -> TaskState:
    messages: list[ChatMessage] = (
        [ChatMessageUser(content=sample.input)] if isinstance(sample.input, str)
        else [message.model_copy() for message in sample.input]
    )
    return TaskState(
        model=model, sample_id=_sample_id(sample), epoch=epoch, input=sample.input,
        target=Target(sample.target), messages=messages, choices=sample.choices,
        metadata=dict(sample.metadata),
    )


def _sample_id(sample: Sample) -> int | str:
    assert sample.id is not None  # Dataset numbers samples that have no id
    return sample.id


async def _score(scorers: list[Scorer], state: TaskState, events: Transcript) -> dict[str, Score]:
    scores: dict[str, Score] = {}
    for scorer in scorers:
        name = scorer_name(scorer)
        scores[name] = await scorer(state, state.target)
        events.add(ScoreEvent(scorer=name, value=scores[name].value))
    return scores


def _answer_scoring(scorers: list[Scorer]) -> AnswerScoring:
    """How an agent with several attempts checks a submission: the first scorer."""

    async def score(state: TaskState) -> Score:
        return await scorers[0](state, state.target)

    return AnswerScoring(score=score, to_float=value_to_float())


def _raise_if_fatal(exc: BaseException) -> None:
    """Re-raise a ``ModelFatalError``, also from inside a solver's task group."""
    if isinstance(exc, ModelFatalError):
        raise exc
    # An exception group (BaseExceptionGroup, or its backport before Python 3.11).
    for inner in getattr(exc, "exceptions", None) or ():
        if isinstance(inner, BaseException):
            _raise_if_fatal(inner)


def _sample_error(exc: Exception, phase: str) -> EvalError:
    if isinstance(exc, ToolCallError):
        # kind names what the tool raised (KeyError...), as for a solver or scorer
        phase, kind = "tool", type(exc.__cause__ or exc).__name__
    elif isinstance(exc, ModelError):
        phase, kind = "model", exc.kind
    else:
        kind = type(exc).__name__
    return EvalError(
        message=f"{type(exc).__name__}: {exc}",
        traceback="".join(traceback.format_exception(exc)),
        phase=phase,  # type: ignore[arg-type]  # one of the four phases by construction
        kind=kind,
    )


def unwritable_sample(record: EvalSample, exc: Exception) -> EvalSample:
    """An error record in place of one that JSON cannot hold (an object in scores,
    metadata or an event): the sample is recorded, not lost, and re-run on retry."""
    phase = "scorer" if record.scores else "solver"
    error = EvalError(
        message=f"the sample's record cannot be written as JSON ({exc}); keep scores, "
                "metadata and transcript data to JSON types (str, numbers, lists, dicts)",
        phase=phase, kind="unserializable",  # type: ignore[arg-type]  # one of the four phases
    )
    return EvalSample(
        id=record.id, epoch=record.epoch, input=record.input, target=record.target,
        input_hash=record.input_hash, error=error, attempts=record.attempts,
        error_history=record.error_history, model_usage=record.model_usage,
        started_at=record.started_at, total_time=record.total_time,
    )
