"""eval(): what it accepts, how it schedules samples and what it records."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import anyio
import pytest
from anyio import wait_all_tasks_blocked
from anyio.lowlevel import checkpoint
from conftest import require_tool

from evalkit import Epochs, Task, eval, eval_async, task
from evalkit.dataset import Sample
from evalkit.errors import UsageError
from evalkit.log import read_eval_log, read_eval_log_samples
from evalkit.model import ModelOutput, get_model
from evalkit.scorer import includes, match
from evalkit.solver import Generate, Solver, TaskState, generate, solver

TASK_FILE = '''
from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.scorer import includes

@task
def first(n: int = 3, word: str = "output"):
    return Task(dataset=[Sample(input=f"q{i}", target=word) for i in range(n)],
                scorer=includes())

@task(name="second")
def another():
    return Task(dataset=[Sample(input="x", target="nope")], scorer=includes())
'''


@pytest.fixture
def task_file(tmp_path: Path) -> Path:
    path = tmp_path / "tasks.py"
    path.write_text(TASK_FILE)
    return path


def test_file_path_runs_every_task_in_it(task_file: Path, log_dir: Path) -> None:
    """A bare file path runs all of its @task functions."""
    logs = eval(str(task_file), model="mockllm/model", display="none")
    assert sorted(log.eval.task for log in logs) == ["first", "second"]


def test_file_at_name_runs_one_task_with_args(task_file: Path, log_dir: Path) -> None:
    """`file@name` picks one task; task_args reach it and are recorded."""
    [log] = eval(f"{task_file}@first", model="mockllm/model", display="none",
                 task_args={"n": 5, "word": "Default"})
    assert log.results is not None and log.results.total_samples == 5
    assert log.eval.task_args == {"n": 5, "word": "Default"}
    assert log.eval.task_registry_name == "first"
    assert log.eval.task_file == str(task_file.resolve())
    assert log.eval.task_file_relative == "tasks.py"
    assert log.results.scores[0].metrics["accuracy"].value == 1.0


def test_log_dir_may_be_a_path(task_file: Path, tmp_path: Path) -> None:
    """``log_dir=Path(...)`` is taken as well as a string, and the log is written there."""
    target = tmp_path / "path-logs"
    [log] = eval(f"{task_file}@first", model="mockllm/model", display="none", log_dir=target)
    assert Path(log.location).parent == target


def test_task_decorator_records_origin() -> None:
    """Calling a @task function records its file, registered name and arguments."""

    @task(name="renamed")
    def made(k: int = 1) -> Task:
        return Task(dataset=[Sample(input="a")])

    built = made(k=4)
    assert built.origin is not None
    assert (built.origin.name, built.origin.args) == ("renamed", {"k": 4})
    assert built.origin.file == str(Path(__file__).resolve())


def test_missing_model_is_a_usage_error() -> None:
    """eval() without a model says how to give one."""
    with pytest.raises(UsageError, match="--model"):
        eval(Task(dataset=[Sample(input="a")]), display="none")


def test_unknown_option_is_named() -> None:
    """A misspelled option is named, with the valid ones listed."""
    with pytest.raises(UsageError, match=r"max_sample\b"):
        eval(Task(dataset=[Sample(input="a")]), model="mockllm/model", max_sample=3)


def test_custom_outputs_iterable_and_callable(log_dir: Path) -> None:
    """mockllm answers from custom_outputs: an iterable, or a function of the messages."""
    samples = [Sample(input=f"{i}", target=str(i * 2)) for i in range(1, 4)]
    answers = [ModelOutput.from_content("mockllm/model", str(i * 2)) for i in range(1, 4)]
    [log] = eval(Task(dataset=samples, scorer=match()), model="mockllm/model",
                 model_args={"custom_outputs": answers}, max_samples=1, display="none")
    assert log.results is not None
    assert log.results.scores[0].metrics["accuracy"].value == 1.0

    def doubled(messages: list) -> str:  # type: ignore[type-arg]  # any message list
        return str(int(messages[-1].content) * 2)

    [log] = eval(Task(dataset=samples, scorer=match()), model="mockllm/model",
                 model_args={"custom_outputs": doubled}, display="none")
    assert log.results is not None
    assert log.results.scores[0].metrics["accuracy"].value == 1.0


def test_epochs_reduce_scores_per_sample(log_dir: Path) -> None:
    """Each sample runs once per epoch; the reducer combines its scores."""
    outputs = iter(["yes", "no", "no", "no"])  # sample 1 epochs: yes,no ; sample 2: no,no

    def answer(messages: list) -> str:  # type: ignore[type-arg]  # any message list
        return next(outputs)

    task_ = Task(dataset=[Sample(id=1, input="a", target="yes"),
                          Sample(id=2, input="b", target="yes")],
                 scorer=includes(), epochs=Epochs(2, "max"))
    [log] = eval(task_, model="mockllm/model", model_args={"custom_outputs": answer},
                 max_samples=1, display="none")
    full = read_eval_log(str(log.location))
    assert full.samples is not None
    assert sorted((s.id, s.epoch) for s in full.samples) == [(1, 1), (1, 2), (2, 1), (2, 2)]
    assert log.results is not None and log.results.total_samples == 4
    # max over epochs: sample 1 -> 1.0, sample 2 -> 0.0
    assert log.results.scores[0].metrics["accuracy"].value == 0.5


@pytest.mark.anyio
async def test_max_samples_bounds_samples_in_flight(log_dir: Path) -> None:
    """No more than max_samples samples run at once, and that many do."""
    release = anyio.Event()
    running = 0
    peak = 0

    @solver
    def gate() -> Solver:
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            nonlocal running, peak
            running += 1
            peak = max(peak, running)
            await release.wait()
            running -= 1
            return state

        return solve

    task_ = Task(dataset=[Sample(input=str(i)) for i in range(20)], solver=gate())
    async with anyio.create_task_group() as group:
        group.start_soon(lambda: eval_async(task_, model="mockllm/model", max_samples=4,
                                            display="none"))
        with anyio.fail_after(10):
            await wait_all_tasks_blocked()
            while running < 4:
                await checkpoint()
            await wait_all_tasks_blocked()
        assert running == 4
        release.set()
    assert peak == 4


@pytest.mark.anyio
async def test_max_connections_bounds_model_calls() -> None:
    """A Model never has more than max_connections calls in flight."""
    from evalkit.model import GenerateConfig

    model = get_model("mockllm/model", config=GenerateConfig(max_connections=3))
    release = anyio.Event()
    in_api = 0
    peak = 0
    original = model.api.generate

    async def slow_generate(*args, **kwargs):  # type: ignore[no-untyped-def]  # pass-through
        nonlocal in_api, peak
        in_api += 1
        peak = max(peak, in_api)
        await release.wait()
        in_api -= 1
        return await original(*args, **kwargs)

    model.api.generate = slow_generate  # type: ignore[method-assign]  # test double
    async with anyio.create_task_group() as group:
        for _ in range(10):
            group.start_soon(model.generate, "hi")
        with anyio.fail_after(5):
            await wait_all_tasks_blocked()
        assert in_api == 3
        release.set()
    assert peak == 3 and model.calls == 10


def test_max_tasks_runs_tasks_concurrently(log_dir: Path) -> None:
    """With max_tasks=2 two tasks are in flight together; with 1, one at a time."""
    for max_tasks, expected in ((2, 2), (1, 1)):
        state = {"running": 0, "peak": 0}

        @solver
        def overlap(state: dict[str, int] = state) -> Solver:
            async def solve(s: TaskState, generate: Generate) -> TaskState:
                state["running"] += 1
                state["peak"] = max(state["peak"], state["running"])
                for _ in range(50):  # yield so another task's samples can start
                    await checkpoint()
                state["running"] -= 1
                return s

            return solve

        tasks = [Task(dataset=[Sample(input="a")], solver=overlap(), name=f"t{i}")
                 for i in range(2)]
        logs = eval(tasks, model="mockllm/model", max_tasks=max_tasks, display="none")
        assert [log.status for log in logs] == ["success", "success"]
        assert state["peak"] == expected


def test_concurrent_samples_never_interleave_bytes(log_dir: Path) -> None:
    """Hundreds of concurrent samples with large outputs give intact JSON lines."""
    big = "x" * 50_000

    @solver
    def chatty() -> Solver:
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            await checkpoint()
            state.metadata["blob"] = f"{state.sample_id}:{big}"
            return await generate(state)

        return solve

    task_ = Task(dataset=[Sample(input=f"q{i}", target="output") for i in range(300)],
                 solver=chatty(), scorer=includes())
    [log] = eval(task_, model="mockllm/model", max_samples=100, display="none")
    zstdcat = require_tool("zstdcat")
    out = subprocess.run([zstdcat, str(log.location)], capture_output=True, check=True).stdout
    records = [json.loads(line) for line in out.splitlines()]
    samples = [r for r in records if r["type"] == "sample"]
    assert len(samples) == 300
    assert sorted(r["id"] for r in samples) == list(range(1, 301))
    assert len(list(read_eval_log_samples(str(log.location)))) == 300


def test_every_sample_is_on_disk_when_it_finishes(log_dir: Path) -> None:
    """While sample k runs, samples 1..k-1 already read back from the file."""
    seen: list[int] = []

    @solver
    def peek() -> Solver:
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            # Blocking file reads on purpose: the point is what is on disk right now.
            [path] = list(log_dir.glob("*.jsonl.zst"))  # noqa: ASYNC240
            seen.append(sum(1 for _ in read_eval_log_samples(path)))
            return state

        return solve

    eval(Task(dataset=[Sample(input=str(i)) for i in range(5)], solver=peek()),
         model="mockllm/model", max_samples=1, display="none")
    assert seen == [0, 1, 2, 3, 4]


def test_limit_and_sample_id_select_samples(log_dir: Path) -> None:
    """--limit takes the first N; --sample-id picks by id; unknown ids are refused."""
    task_ = Task(dataset=[Sample(id=f"s{i}", input="a") for i in range(10)],
                 solver=generate())
    [log] = eval(task_, model="mockllm/model", limit=3, display="none")
    assert log.eval.dataset.sample_ids == ["s0", "s1", "s2"]
    [log] = eval(task_, model="mockllm/model", sample_id=["s7", "s2"], display="none")
    assert log.eval.dataset.sample_ids == ["s2", "s7"]
    with pytest.raises(UsageError, match="no sample with an id matching nope"):
        eval(task_, model="mockllm/model", sample_id=["nope"], display="none")
