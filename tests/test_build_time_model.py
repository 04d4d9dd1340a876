"""get_model() while a @task function builds its Task is the model the eval runs with,
as in Inspect: through the CLI, eval() with several models, roles, and eval-retry."""

from __future__ import annotations

from pathlib import Path

from conftest import run_cli

from evalkit import Task, eval, eval_set, task
from evalkit.dataset import Sample
from evalkit.log import read_eval_log, read_eval_log_samples
from evalkit.model import Model, get_model
from evalkit.scorer import CORRECT, INCORRECT, Score, Scorer, Target, accuracy, scorer
from evalkit.solver import Generate, Solver, TaskState, solver

# A task in Inspect's style: it takes the evaluated model and the grader role while it
# is built, answers with the first and grades with the second. Each sample scores C
# only if those are the very models its sample runs with.
TASK = '''
from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.model import get_model
from evalkit.scorer import CORRECT, INCORRECT, Score, accuracy, scorer
from evalkit.solver import solver


@solver
def answer_with(model):
    async def solve(state, generate):
        state.output = await model.generate(state.input_text)
        return state
    return solve


@scorer(metrics=[accuracy()])
def same_models(evaluated, grader):
    async def score(state, target):
        same = evaluated is get_model() and grader is get_model(role="grader")
        await grader.generate("grade: " + state.output.completion)
        return Score(value=CORRECT if same else INCORRECT,
                     answer=f"{evaluated.name} {grader.name}")
    return score


@task
def build_time_models():
    evaluated = get_model()
    grader = get_model(role="grader")
    return Task(dataset=[Sample(id=i, input=f"q{i}", target="t") for i in range(3)],
                solver=answer_with(evaluated), scorer=same_models(evaluated, grader))
'''


def _write_task(tmp_path: Path) -> Path:
    path = tmp_path / "build_time.py"
    path.write_text(TASK)
    return path


def _accuracy(path: Path) -> float | None:
    results = read_eval_log(str(path)).results
    assert results is not None
    return results.scores[0].metrics["accuracy"].value


def test_a_task_calling_get_model_at_build_time_runs_through_the_cli(tmp_path: Path) -> None:
    """evalkit eval on a task that calls get_model() and get_model(role="grader") while
    it is built: exit 0, each sample saw the run's own models, and the calls through
    them are in the log; eval-retry, which rebuilds the task, works the same way."""
    task_file, log_dir = _write_task(tmp_path), tmp_path / "logs"
    done = run_cli("eval", str(task_file), "--model", "mockllm/model", "--model-role",
                   "grader=mockllm/grader", "--log-dir", str(log_dir), "--display", "none")
    assert done.returncode == 0, done.stderr
    [log] = sorted(log_dir.glob("*.jsonl.zst"))
    assert _accuracy(log) == 1.0
    samples = list(read_eval_log_samples(str(log)))
    assert [s.scores["same_models"].answer for s in samples] == [
        "mockllm/model mockllm/grader"] * 3
    assert all(set(s.model_usage) == {"mockllm/model", "mockllm/grader"} for s in samples)

    retried = run_cli("eval-retry", str(log), "--display", "none")
    assert retried.returncode == 0, retried.stderr
    [new] = sorted(set(log_dir.glob("*.jsonl.zst")) - {log})
    assert _accuracy(new) == 1.0


seen: list[tuple[str, bool]] = []


@solver
def check_same(built: Model) -> Solver:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        seen.append((built.name, built is get_model()))
        return state

    return solve


@scorer(metrics=[accuracy()])
def always() -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        return Score(value=CORRECT if state.sample_id is not None else INCORRECT)

    return score


@task
def built_per_model() -> Task:
    return Task(dataset=[Sample(id=1, input="q", target="t")],
                solver=check_same(get_model()), scorer=always())


def test_each_model_of_an_eval_builds_its_own_task(tmp_path: Path) -> None:
    """eval(task_fn, model=[a, b]): the task is built once per model, with that model,
    as Inspect does; each run's get_model() at build time is its own model."""
    seen.clear()
    logs = eval(built_per_model, model=["mockllm/a", "mockllm/b"], log_dir=str(tmp_path),
                display="none")
    assert [log.eval.model for log in logs] == ["mockllm/a", "mockllm/b"]
    assert sorted(seen) == [("mockllm/a", True), ("mockllm/b", True)]


def test_an_eval_set_builds_each_members_task_with_its_model(tmp_path: Path) -> None:
    """eval_set over two models: each member's task is built with its own model, and a
    second run of the complete set builds them again without running anything."""
    seen.clear()
    success, logs = eval_set(built_per_model, str(tmp_path), model=["mockllm/a", "mockllm/b"],
                             display="none")
    assert success and sorted(log.eval.model for log in logs) == ["mockllm/a", "mockllm/b"]
    assert sorted(seen) == [("mockllm/a", True), ("mockllm/b", True)]
    assert eval_set(built_per_model, str(tmp_path), model=["mockllm/a", "mockllm/b"],
                    display="none")[0]


GRADER = {"base_url": "http://127.0.0.1:9/v1", "api_key": "k"}  # never called here
graders: list[tuple[Model, Model]] = []


@scorer(metrics=[accuracy()])
def names_a_grader() -> Scorer:
    async def score(state: TaskState, target: Target) -> Score:
        graders.append((get_model("openai/grader", **GRADER),
                        get_model("openai/grader", memoize=False, **GRADER)))
        return Score(value=CORRECT)

    return score


def test_a_model_named_in_a_scorer_is_made_once_per_eval(tmp_path: Path) -> None:
    """get_model("openai/grader") in each sample's scorer is one shared object for the
    eval (Inspect memoizes), released when it ends; memoize=False makes a new one each
    call, and outside an eval each call makes its own."""
    graders.clear()
    task = Task(dataset=[Sample(id=i, input="q", target="t") for i in range(3)],
                scorer=names_a_grader())
    [log] = eval(task, model="mockllm/model", log_dir=str(tmp_path), display="none")
    assert log.status == "success"
    shared = {id(memo) for memo, _ in graders}
    fresh = {id(new) for _, new in graders}
    assert len(shared) == 1 and len(fresh) == 3 and not shared & fresh
    assert get_model("openai/grader", **GRADER) is not get_model("openai/grader", **GRADER)
