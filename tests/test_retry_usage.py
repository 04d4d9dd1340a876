"""Usage and cost add up over every attempt of a sample, across a retry's lineage."""

from __future__ import annotations

from pathlib import Path

from evalkit import Task, eval, eval_retry
from evalkit.dataset import Sample
from evalkit.log import read_eval_log
from evalkit.solver import Generate, Solver, TaskState, solver

TASK = '''
from pathlib import Path

from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.scorer import includes
from evalkit.solver import solver

MARKER = Path(__file__).parent / "fail-sample-1"

@solver
def spend_then_maybe_fail():
    async def solve(state, generate):
        state = await generate(state)
        if state.sample_id == 1 and MARKER.exists():
            raise RuntimeError("sample 1 fails while the marker exists")
        return state
    return solve

@task
def spender():
    return Task(dataset=[Sample(id=i, input="q", target="output") for i in (1, 2, 3)],
                solver=spend_then_maybe_fail(), scorer=includes())
'''

CALL_TOKENS = 5  # mockllm: 1 input word + 4 words of its default answer


def test_failed_attempts_in_a_run_count_in_usage(log_dir: Path) -> None:
    """retry_on_error: the sample's usage includes the attempt that failed."""
    calls = {"n": 0}

    @solver
    def flaky() -> Solver:
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            state = await generate(state)
            calls["n"] += 1
            if calls["n"] == 1:
                raise RuntimeError("first attempt fails after spending tokens")
            return state

        return solve

    [log] = eval(Task(dataset=[Sample(input="q")], solver=flaky()), model="mockllm/model",
                 retry_on_error=1, display="none")
    [sample] = read_eval_log(str(log.location)).samples or []
    assert sample.attempts == 2 and sample.error is None
    assert sample.model_usage["mockllm/model"].total_tokens == 2 * CALL_TOKENS
    assert log.stats is not None
    assert log.stats.model_usage["mockllm/model"].total_tokens == 2 * CALL_TOKENS


def test_usage_adds_up_across_the_lineage(tmp_path: Path, log_dir: Path) -> None:
    """A retry's footer counts the tokens of the failed first attempt too."""
    (tmp_path / "spender.py").write_text(TASK)
    marker = tmp_path / "fail-sample-1"
    marker.touch()
    [first] = eval(str(tmp_path / "spender.py"), model="mockllm/model", fail_on_error=False,
                   display="none")
    assert first.results is not None and first.results.errored_samples == 1
    assert first.stats is not None
    assert first.stats.model_usage["mockllm/model"].total_tokens == 3 * CALL_TOKENS
    marker.unlink()
    [second] = eval_retry(str(first.location), display="none")
    assert second.status == "success"
    assert second.stats is not None
    # 3 calls in the first run + 1 for the re-run of sample 1
    assert second.stats.model_usage["mockllm/model"].total_tokens == 4 * CALL_TOKENS
    rerun = next(s for s in read_eval_log(str(second.location)).samples or [] if s.id == 1)
    assert rerun.attempts == 2 and len(rerun.error_history) == 1
    assert rerun.model_usage["mockllm/model"].total_tokens == 2 * CALL_TOKENS
