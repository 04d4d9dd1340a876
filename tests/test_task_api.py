"""Task's Inspect-compatible options, -T lists, and silent misbehaviour made loud."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest
from conftest import run_cli

from evalkit import Task, eval
from evalkit._util._template import format_template
from evalkit.dataset import Sample
from evalkit.log import read_eval_log_header
from evalkit.model import ChatMessage, GenerateConfig, Model, ModelOutput, ToolChoice, ToolInfo
from evalkit.model._mock import MockLLM
from evalkit.model._model import bind_active_model, bind_task_config
from evalkit.scorer import includes, mean
from evalkit.solver import Generate, Solver, TaskState, generate, solver


class ConfigRecordingAPI(MockLLM):
    """The mock model, remembering the generate config of each call."""

    def __init__(self) -> None:
        super().__init__("model")
        self.configs: list[GenerateConfig] = []

    async def generate(self, input: list[ChatMessage], tools: list[ToolInfo],
                       tool_choice: ToolChoice | None, config: GenerateConfig) -> ModelOutput:
        self.configs.append(config)
        return await super().generate(input, tools, tool_choice, config)


@solver
def remember(key: str) -> Solver:
    """Write to the store (a setup step the main solver can read)."""

    async def solve(state: TaskState, generate: Generate) -> TaskState:
        state.store.set(key, True)
        return state

    return solve


def test_task_config_reaches_the_model_and_the_eval_config_wins(log_dir: Path) -> None:
    """Task(config=) sets generation options; eval-level ones win; the header records both."""
    api = ConfigRecordingAPI()
    model = Model("mockllm/model", api, GenerateConfig())
    task = Task(dataset=[Sample(input="q")], config=GenerateConfig(temperature=0.3, top_p=0.5),
                version=2)
    [log] = eval(task, model=model, display="none", log_dir=str(log_dir),
                 generate_config=GenerateConfig(top_p=0.9))
    assert (api.configs[0].temperature, api.configs[0].top_p) == (0.3, 0.9)
    header = read_eval_log_header(log.location or "")
    assert header.eval.generate_config["temperature"] == 0.3
    assert header.eval.generate_config["top_p"] == 0.9
    assert header.eval.task_version == 2


@pytest.mark.anyio
async def test_each_call_merges_the_current_task_and_model_configs() -> None:
    """A Model generates with the task config bound now over its current config: tasks
    taking turns and a replaced model config never get an earlier call's merge."""
    api = ConfigRecordingAPI()
    model = Model("mockllm/model", api, GenerateConfig(top_p=0.5))
    hot, cold = GenerateConfig(temperature=0.9), GenerateConfig(temperature=0.1)
    with bind_active_model(model):
        for task_config in (hot, cold, hot, cold):
            with bind_task_config(task_config):
                await model.generate("q")
        model.config = GenerateConfig(top_p=0.7)
        with bind_task_config(cold):
            await model.generate("q")
    assert [(c.temperature, c.top_p) for c in api.configs] == [
        (0.9, 0.5), (0.1, 0.5), (0.9, 0.5), (0.1, 0.5), (0.1, 0.7)]


def test_task_metrics_replace_the_scorers_and_setup_runs_first(log_dir: Path) -> None:
    """Task(metrics=) replaces each scorer's metrics; setup runs before the solver."""
    seen: list[Any] = []

    @solver
    def check() -> Solver:
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            seen.append(state.store.get("ready"))
            return state
        return solve

    task = Task(dataset=[Sample(input="q", target="Default")], setup=remember("ready"),
                solver=[check(), generate()], scorer=includes(), metrics=[mean()],
                sandbox="local")
    [log] = eval(task, model="mockllm/model", display="none", log_dir=str(log_dir))
    assert seen == [True]
    assert log.results is not None
    assert list(log.results.scores[0].metrics) == ["mean"]


TASK_FILE = '''
from evalkit import Task, task
from evalkit.dataset import Sample

SUBJECTS = ["anatomy", "astronomy", "biology"]

@task
def mmlu_like(subjects: str | list[str] = "all", note: str = "", ns: list[int] | None = None):
    chosen = SUBJECTS if subjects == "all" else (
        [subjects] if isinstance(subjects, str) else subjects)
    samples = [Sample(id=s, input=f"about {s}", target="Default") for s in SUBJECTS
               if s in chosen]
    return Task(dataset=samples, metadata={"note": note, "ns": ns})
'''


def test_comma_values_become_lists_where_the_task_takes_one(tmp_path: Path,
                                                            log_dir: Path) -> None:
    """-T subjects=a,b is a list for list[str]; a str parameter keeps its commas."""
    (tmp_path / "mmlu_like.py").write_text(TASK_FILE)
    done = run_cli("eval", str(tmp_path / "mmlu_like.py"), "--model", "mockllm/model",
                   "-T", "subjects=anatomy,astronomy", "-T", "note=a, b", "-T", "ns=1,2",
                   "--log-dir", str(log_dir), "--display", "none")
    assert done.returncode == 0, done.stderr
    [path] = log_dir.glob("*.jsonl.zst")
    header = read_eval_log_header(path)
    assert header.eval.task_args == {"subjects": ["anatomy", "astronomy"], "note": "a, b",
                                     "ns": [1, 2]}
    assert header.eval.dataset.samples == 2


def test_python_task_args_are_never_split(tmp_path: Path, log_dir: Path) -> None:
    """eval(task_args=) passes text as is: splitting is a command-line convenience."""
    (tmp_path / "mmlu_like.py").write_text(TASK_FILE)
    [log] = eval(str(tmp_path / "mmlu_like.py"), model="mockllm/model", display="none",
                 log_dir=str(log_dir), task_args={"note": "a,b", "subjects": "anatomy"})
    assert log.eval.task_args == {"note": "a,b", "subjects": "anatomy"}


def test_a_filter_that_matches_nothing_is_an_error_not_an_empty_success(
        tmp_path: Path, log_dir: Path) -> None:
    """A task whose dataset is empty stops at once (exit 2), naming its arguments."""
    (tmp_path / "mmlu_like.py").write_text(TASK_FILE)
    done = run_cli("eval", str(tmp_path / "mmlu_like.py"), "--model", "mockllm/model",
                   "-T", "subjects=anatomyy", "--log-dir", str(log_dir), "--display", "none")
    assert done.returncode == 2, done.stderr
    assert "has no samples" in done.stderr and "subjects='anatomyy'" in done.stderr
    assert not list(log_dir.glob("*.jsonl.zst"))


def test_a_template_placeholder_with_no_value_warns_once() -> None:
    """An unknown {name} is kept as written, with a warning naming it."""
    with pytest.warns(UserWarning, match=r"\{subjekt\} has no value"):
        assert format_template("About {subjekt}.", {"subject": "x"}) == "About {subjekt}."
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert format_template('{"a": {n}}', {"n": 1}) == '{"a": 1}'
