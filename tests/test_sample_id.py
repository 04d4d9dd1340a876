"""--sample-id / sample_id=: exact ids and glob patterns, as in Inspect AI."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

from evalkit import Task, eval
from evalkit.dataset import Sample
from evalkit.errors import UsageError

IDS = ["sample-1", "sample-5", "sample-6", "sample-10", "other-5", "odd[1]", 7]


def _selected(*patterns: str | int) -> list[int | str]:
    task = Task(dataset=[Sample(id=i, input=f"q {i}", target="t") for i in IDS])
    [log] = eval(task, model="mockllm/model", sample_id=list(patterns), display="none")
    return log.eval.dataset.sample_ids


@pytest.mark.parametrize(
    ("patterns", "expected"),
    [
        (["sample-*"], ["sample-1", "sample-5", "sample-6", "sample-10"]),
        (["sample-[56]"], ["sample-5", "sample-6"]),
        (["*-5", "sample-1?"], ["sample-5", "sample-10", "other-5"]),
        (["odd[1]"], ["odd[1]"]),  # an id holding glob characters still selects itself
        ([7], [7]),
        (["sample-1", "sample-*"], ["sample-1", "sample-5", "sample-6", "sample-10"]),
    ],
)
def test_sample_id_selects_by_exact_id_or_glob(
    patterns: list[str | int], expected: list[str | int], log_dir: Path
) -> None:
    """Each pattern selects the ids equal to it or matching it as a glob, in dataset order."""
    assert _selected(*patterns) == expected


def test_a_pattern_that_matches_nothing_is_refused(log_dir: Path) -> None:
    """A typo in a pattern is an error naming it, not a silently smaller run."""
    with pytest.raises(UsageError, match=r"no sample with an id matching nope-\*"):
        _selected("sample-*", "nope-*")


def test_cli_sample_id_takes_globs(tmp_path: Path) -> None:
    """`--sample-id 'sample-[56],other-*'` runs exactly the matching samples."""
    task_file = tmp_path / "t.py"
    task_file.write_text(
        "from evalkit import Task, task\nfrom evalkit.dataset import Sample\n"
        "@task\ndef t():\n    return Task(dataset=[Sample(id=f'sample-{i}', input='q', "
        "target='t') for i in range(8)] + [Sample(id='other-1', input='q', target='t')])\n")
    result = run_cli("eval", str(task_file), "--model", "mockllm/model", "--display", "plain",
                     "--sample-id", "sample-[56],other-*", "--log-dir", str(tmp_path / "logs"))
    assert result.returncode == 0, result.stderr
    [log_file] = (tmp_path / "logs").iterdir()
    from evalkit.log import read_eval_log_header

    assert read_eval_log_header(str(log_file)).eval.dataset.sample_ids == [
        "sample-5", "sample-6", "other-1"]
