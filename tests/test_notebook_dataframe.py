"""Notebook conveniences: ``samples_df()`` and the short ``EvalLog`` repr."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from evalkit import Task, eval
from evalkit._eval._display import outcome_notes, resume_command
from evalkit.dataset import Sample
from evalkit.errors import UsageError
from evalkit.log import EvalLog, read_eval_log, samples_df
from evalkit.scorer import includes
from evalkit.solver import Generate, TaskState, solver

pd = pytest.importorskip("pandas")


@solver
def fail_on_three() -> object:
    async def solve(state: TaskState, generate: Generate) -> TaskState:
        if state.sample_id == 3:
            raise RuntimeError("sample three is broken")
        return await generate(state)

    return solve


@pytest.fixture
def mixed_log(log_dir: Path) -> EvalLog:
    """A finished log of 4 samples: 2 correct, 1 wrong, 1 failed in the solver."""
    targets = {1: "output", 2: "mockllm", 3: "x", 4: "banana"}
    task = Task(dataset=[Sample(id=i, input=f"q{i}", target=t) for i, t in targets.items()],
                solver=fail_on_three(), scorer=includes(), fail_on_error=False, name="mixed")
    [log] = eval(task, model="mockllm/model", display="none")
    return log


def test_samples_df_one_row_per_sample(mixed_log: EvalLog) -> None:
    """Rows carry ids, texts, numeric scores and the error of a failed sample."""
    frame = samples_df(mixed_log).sort_values("id").reset_index(drop=True)
    assert list(frame["id"]) == [1, 2, 3, 4]
    assert list(frame["input"]) == ["q1", "q2", "q3", "q4"]
    assert list(frame["score_includes"].fillna(-1)) == [1.0, 1.0, -1, 0.0]
    failed = frame.iloc[2]
    assert failed["error_phase"] == "solver"
    assert "sample three is broken" in failed["error"]
    assert frame.iloc[0]["completion"] == "Default output from mockllm/model"
    assert frame.iloc[0]["total_tokens"] > 0
    assert frame["error"].isna().sum() == 3


def test_samples_df_from_path_and_loaded_log_agree(mixed_log: EvalLog) -> None:
    """A path, a header-only EvalLog and a fully read one give the same frame."""
    path = str(mixed_log.location)
    from_path = samples_df(path).sort_values("id").reset_index(drop=True)
    from_loaded = samples_df(read_eval_log(path)).sort_values("id").reset_index(drop=True)
    from_header = samples_df(mixed_log).sort_values("id").reset_index(drop=True)
    pd.testing.assert_frame_equal(from_path, from_loaded)
    pd.testing.assert_frame_equal(from_path, from_header)
    assert not isinstance(mixed_log.samples, list)  # eval()'s log was streamed, not filled in


def test_samples_df_without_pandas_says_how_to_install(
    mixed_log: EvalLog, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without pandas the error names the extra to install."""
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(UsageError, match=r"evalkit\[pandas\]"):
        samples_df(mixed_log)


def test_samples_df_of_log_without_location_or_samples(mixed_log: EvalLog) -> None:
    """An EvalLog with neither samples nor a file is refused with a way out."""
    detached = mixed_log.model_copy(update={"location": None, "samples": None})
    with pytest.raises(UsageError, match="pass the path"):
        samples_df(detached)


def test_eval_log_repr_is_one_short_line(mixed_log: EvalLog) -> None:
    """The repr names task, model, status, counts and metrics on one line."""
    text = repr(mixed_log)
    assert text == ("EvalLog(task='mixed', model='mockllm/model', status='success', "
                    "samples=3/4, errors=1, includes.accuracy=0.667, includes.stderr=0.333)")


def test_notebook_notes_give_the_python_resume_call(mixed_log: EvalLog) -> None:
    """In a notebook the resume call is eval_retry(...), with the CLI form beside it."""
    failed = mixed_log.model_copy(update={"status": "error"})
    notes = outcome_notes(failed, python=True)
    resume = [note for note in notes if note.startswith("resume with:")]
    assert resume == [f"resume with: eval_retry({mixed_log.location!r})  "
                      f"(in a terminal: {resume_command(mixed_log)})"]
    assert f"resume with: {resume_command(mixed_log)}" in outcome_notes(failed)


def test_notebook_notes_explain_cell_tasks_cannot_resume(mixed_log: EvalLog,
                                                         tmp_path: Path) -> None:
    """A failed task whose source was a notebook cell gets a note instead of a resume call."""
    cell = str(tmp_path / "ipykernel_1234" / "2874509339.py")  # never written, like a cell
    spec = mixed_log.eval.model_copy(update={"task_file": cell})
    failed = mixed_log.model_copy(update={"status": "error", "eval": spec})
    notes = outcome_notes(failed, python=True)
    assert not any(note.startswith("resume with:") for note in notes)
    assert any("defined in a notebook cell" in note and "%%writefile" in note for note in notes)
