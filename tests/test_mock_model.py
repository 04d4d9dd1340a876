"""mockllm/model: custom_outputs given the wrong shape, and outputs that are not valid Unicode."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli

from evalkit import Task, eval
from evalkit.dataset import Sample
from evalkit.errors import UsageError
from evalkit.log import read_eval_log
from evalkit.model import ModelOutput
from evalkit.scorer import includes


def _task() -> Task:
    return Task(dataset=[Sample(id=i, input=f"q{i}", target="hello") for i in range(2)],
                scorer=includes())


@pytest.mark.parametrize("outputs", ["hello world", b"hello", ModelOutput.from_content("m", "x")])
def test_a_single_output_instead_of_a_list_is_refused(outputs: object, log_dir: Path) -> None:
    """custom_outputs="hello world" would answer "h", "e", "l"...: it is refused, clearly."""
    with pytest.raises(UsageError, match=r"custom_outputs takes a list .* custom_outputs=\[\.\.\.\]"):
        eval(_task(), model="mockllm/model", model_args={"custom_outputs": outputs},
             display="none")


def test_cli_refuses_a_bare_string_with_exit_2(tmp_path: Path) -> None:
    """`-M custom_outputs=hello` exits 2 with a one-line message, no traceback."""
    task_file = tmp_path / "t.py"
    task_file.write_text(
        "from evalkit import Task, task\nfrom evalkit.dataset import Sample\n"
        "@task\ndef t():\n    return Task(dataset=[Sample(input='q', target='hello')])\n")
    result = run_cli("eval", str(task_file), "--model", "mockllm/model",
                     "-M", "custom_outputs=hello", "--log-dir", str(tmp_path / "logs"))
    assert result.returncode == 2, result.stderr
    assert "custom_outputs takes a list" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("last", ["hello \udfff", ModelOutput.from_content("m", "hello \udfff")])
def test_a_lone_surrogate_in_an_output_does_not_make_the_sample_error(
    last: object, log_dir: Path
) -> None:
    """Text that is not valid Unicode is answered with U+FFFD in its place, as a
    provider's decoder would, and the sample is scored and logged."""
    outputs = ["hello \ud800 there", last]
    [log] = eval(_task(), model="mockllm/model", model_args={"custom_outputs": outputs},
                 display="none", max_samples=1)
    assert log.status == "success" and log.results is not None
    assert log.results.errored_samples == 0
    assert log.results.scores[0].metrics["accuracy"].value == 1.0
    read = read_eval_log(str(log.location))
    completions = sorted(s.output.completion for s in read.samples or [] if s.output)
    assert completions == ["hello \ufffd", "hello \ufffd there"]
