"""The command line: results, exit codes and one clear line for every bad input."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
import zstandard
from conftest import EXAMPLES, run_cli

from evalkit._cli._coerce import coerce_value, parse_assignments
from evalkit.errors import UsageError

TASK = '''
from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.scorer import includes

@task
def alpha(n: int = 2):
    return Task(dataset=[Sample(input=str(i), target="output") for i in range(n)],
                scorer=includes())

@task
def beta():
    return Task(dataset=[Sample(input="b", target="output")], scorer=includes())
'''


def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "tasks.py").write_text(TASK)
    return tmp_path


def test_eval_prints_results_and_exits_0(workdir: Path) -> None:
    """`evalkit eval` runs the task, prints the results table and exits 0."""
    done = run_cli("eval", "tasks.py@alpha", "--model", "mockllm/model", "-T", "n=3",
                   "--display", "plain", cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert "alpha" in done.stdout and "success" in done.stdout
    assert "includes/accuracy=1.000" in done.stdout
    assert len(list((workdir / "logs").glob("*.jsonl.zst"))) == 1


@pytest.mark.parametrize("display", ["rich", "plain", "none"])
def test_every_display_mode_prints_the_result(workdir: Path, display: str) -> None:
    """rich, plain and none all end with the results table on stdout."""
    done = run_cli("eval", "tasks.py@beta", "--model", "mockllm/model", "--display", display,
                   cwd=workdir)
    assert done.returncode == 0, done.stderr
    assert "beta" in done.stdout and "mockllm/model" in done.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["eval", "missing.py", "--model", "mockllm/model"], "task file 'missing.py' not found"),
        (["eval", "tasks.py@gamma", "--model", "mockllm/model"],
         "task 'gamma' not found in tasks.py; tasks there: alpha, beta"),
        (["eval", "tasks.py@alpha", "--model", "mockllm/model", "-T", "n"],
         "bad -T value 'n': expected key=value"),
        (["eval", "tasks.py@alpha", "--model", "mockllm/model", "-T", "m=1"],
         "unexpected keyword argument 'm'; its parameters: n"),
        (["eval", "tasks.py@alpha", "--model", "mockllm/model", "-T", "n=[1,"],
         "looks like JSON but does not parse"),
        (["eval", "tasks.py", "--model", "nosuch/model"],
         "unknown model provider 'nosuch' in 'nosuch/model'; known providers: anthropic, "
         "fireworks, groq, mockllm, ollama, openai, openrouter, together, vllm"),
        (["eval", "tasks.py", "--model", "gpt4"], "not of the form provider/name"),
        (["eval", "tasks.py", "--model", "mockllm/model", "--fail-on-error", "0"],
         "must be True, False, a fraction 0 < x < 1"),
        (["eval", "tasks.py", "--model", "mockllm/model", "--max-samples", "0"],
         "bad value for max_samples (--max-samples)"),
        (["eval", "tasks.py"], "no model given"),
        (["log", "info", "tasks.py"], "not an evalkit log"),
        (["log", "dump", "nothing.jsonl.zst"], "not found"),
    ],
)
def test_bad_input_is_one_clear_line_exit_2(
    workdir: Path, args: list[str], message: str
) -> None:
    """Each bad input gives one line naming the problem, exit 2, and changes nothing."""
    before = _tree_digest(workdir)
    done = run_cli(*args, cwd=workdir)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert done.stderr.strip().count("\n") == 0, done.stderr
    assert _tree_digest(workdir) == before


def test_bad_flag_is_exit_2_with_usage(workdir: Path) -> None:
    """An unknown flag is refused by the parser with exit 2."""
    done = run_cli("eval", "tasks.py", "--modle", "mockllm/model", cwd=workdir)
    assert done.returncode == 2
    assert "unrecognized arguments: --modle" in done.stderr


def test_debug_shows_the_traceback(workdir: Path) -> None:
    """--debug adds the traceback to the one-line error."""
    done = run_cli("eval", "tasks.py@gamma", "--model", "mockllm/model", "--debug", cwd=workdir)
    assert done.returncode == 2
    assert "Traceback" in done.stderr and "TaskNotFoundError" in done.stderr


@pytest.mark.parametrize(
    ("kind", "message"),
    [("empty", "empty file"), ("version", "format version 7 is not supported"),
     ("truncated", "cut short before its header")],
)
def test_bad_logs_are_refused_by_log_commands(workdir: Path, kind: str, message: str) -> None:
    """`evalkit log info` on an empty, future-version or truncated log: exit 2."""
    path = workdir / "bad.jsonl.zst"
    if kind == "empty":
        path.write_bytes(b"")
    elif kind == "version":
        line = json.dumps({"type": "header", "version": 7}).encode() + b"\n"
        path.write_bytes(zstandard.ZstdCompressor().compress(line))
    else:
        path.write_bytes(zstandard.ZstdCompressor().compress(b'{"type":"header"' * 40)[:20])
    done = run_cli("log", "info", str(path), cwd=workdir)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_help_documents_exit_codes() -> None:
    """`evalkit eval --help` lists every exit code."""
    done = run_cli("eval", "--help")
    for code in ("0 ", "1 ", "2 ", "3 ", "130"):
        assert f"\n  {code}" in done.stdout


def test_log_commands_on_a_real_log(workdir: Path) -> None:
    """log ls / info / dump / samples read a finished log."""
    assert run_cli("eval", "tasks.py@alpha", "--model", "mockllm/model", "--display", "none",
                   cwd=workdir).returncode == 0
    [path] = (workdir / "logs").glob("*.jsonl.zst")
    listing = run_cli("log", "ls", "logs", cwd=workdir)
    assert "alpha" in listing.stdout and "success" in listing.stdout and "2/2" in listing.stdout
    info = json.loads(run_cli("log", "info", str(path), "--json", cwd=workdir).stdout)
    assert info["status"] == "success" and info["eval"]["task"] == "alpha"
    dumped = run_cli("log", "dump", str(path), cwd=workdir).stdout.splitlines()
    assert [json.loads(line)["type"] for line in dumped] == ["header", "sample", "sample",
                                                             "footer"]
    samples = run_cli("log", "samples", str(path), cwd=workdir).stdout.splitlines()
    assert len(samples) == 2 and all("ok" in line for line in samples)


@pytest.mark.parametrize(
    ("text", "value"),
    [("3", 3), ("-2", -2), ("0.5", 0.5), ("true", True), ("False", False), ("none", None),
     ('["a", 1]', ["a", 1]), ('{"k": 2}', {"k": 2}), ("hello", "hello"), ('"7"', "7")],
)
def test_values_are_coerced(text: str, value: object) -> None:
    """-T/-M values become int, float, bool, None, JSON or stay strings."""
    assert coerce_value(text) == value


def test_assignments_normalise_dashes() -> None:
    """`-T max-words=3` reaches the task as max_words."""
    assert parse_assignments(["max-words=3", "a=b=c"], "-T") == {"max_words": 3, "a": "b=c"}
    with pytest.raises(UsageError, match="expected key=value"):
        parse_assignments(["=3"], "-T")


@pytest.mark.parametrize("example", ["arithmetic.py", "multiple_choice.py", "polite.py",
                                     "word_problems.py", "science_quiz.py", "graded_answers.py"])
def test_examples_run_with_the_mock_model(tmp_path: Path, example: str) -> None:
    """Every example runs out of the box with mockllm/model."""
    done = run_cli("eval", str(EXAMPLES / example), "--model", "mockllm/model",
                   "--display", "none", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "success" in done.stdout


def test_epochs_reducer_flag_reaches_the_metrics(tmp_path: Path) -> None:
    """--epochs-reducer max scores a sample right if any epoch was right."""
    (tmp_path / "coin.py").write_text(
        "from evalkit import Task, task\n"
        "from evalkit.dataset import Sample\n"
        "from evalkit.scorer import includes\n"
        "from evalkit.solver import solver\n\n"
        "@solver\n"
        "def odd_epochs_right():\n"
        "    async def solve(state, generate):\n"
        "        state.output = type(state.output).from_content('m', 'yes' if state.epoch % 2 else 'no')\n"
        "        return state\n"
        "    return solve\n\n"
        "@task\n"
        "def coin():\n"
        "    return Task(dataset=[Sample(input='q', target='yes')], solver=odd_epochs_right(),\n"
        "                scorer=includes())\n")
    for reducer, accuracy in (("max", "1.000"), ("min", "0.000"), ("mean", "0.500")):
        done = run_cli("eval", "coin.py", "--model", "mockllm/model", "--epochs", "2",
                       "--epochs-reducer", reducer, "--display", "none", cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        assert f"includes/accuracy={accuracy}" in done.stdout, (reducer, done.stdout)
