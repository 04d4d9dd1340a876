"""Every example in docs/reading-logs.md runs, against real logs, and prints what it should.

Blocks fenced as ``sh``, ``sql`` or ``python`` are run in order in a
directory whose ``./logs`` holds a finished run (with tool calls), a run with
an errored sample and a run still in progress (no footer). A
``<!-- expect: a | b -->`` comment right before a block lists text its output
must contain. Blocks fenced otherwise (``text``) are not run.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, require_tool

from evalkit import Task, eval
from evalkit._transcript import InfoEvent
from evalkit.dataset import Sample
from evalkit.log import LogWriter, read_eval_log
from evalkit.model import ChatMessage, ChatMessageTool, ModelOutput

DOC = REPO / "docs" / "reading-logs.md"
RUNNABLE = ("sh", "sql", "python")
_BLOCK = re.compile(r"(?:<!-- expect: (?P<expect>.*?) -->\n)?```(?P<lang>\w+)\n(?P<code>.*?)\n```",
                    re.DOTALL)


@dataclass(frozen=True)
class Block:
    lang: str
    code: str
    expect: tuple[str, ...]
    line: int

    @property
    def id(self) -> str:
        return f"{self.lang}-line{self.line}"


def doc_blocks() -> list[Block]:
    text = DOC.read_text()
    return [
        Block(match["lang"], match["code"],
              tuple(part.strip() for part in (match["expect"] or "").split(" | ") if part.strip()),
              text.count("\n", 0, match.start("code")) + 1)
        for match in _BLOCK.finditer(text)
    ]


BLOCKS = [block for block in doc_blocks() if block.lang in RUNNABLE]
CHECKED = [block for block in BLOCKS if block.expect]

TASKS = '''\
from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.log import transcript
from evalkit.model import ModelOutput
from evalkit.scorer import Score, includes, mean, scorer
from evalkit.solver import generate, solver, use_tools
from evalkit.tool import tool


@tool
def add():
    async def execute(x: int, y: int) -> int:
        """Add two numbers.

        Args:
            x: The first number.
            y: The second number.
        """
        return x + y
    return execute


@solver
def picky():
    async def solve(state, generate):
        transcript().info({"attempting": state.sample_id})
        if state.sample_id == 3:
            raise ValueError("sample 3 is malformed")
        return await generate(state)
    return solve


@scorer(metrics=[mean()])
def length():
    async def score(state, target):
        return Score(value=len(state.output.completion) / 100)
    return score


@task
def arith():
    return Task(dataset=[Sample(input=f"add {n} and {n + 1}", target=str(2 * n + 1), id=n)
                         for n in range(1, 5)],
                solver=[use_tools(add()), generate()], scorer=includes())


@task
def flaky():
    return Task(dataset=[Sample(input=f"q {n}", target="x", id=n, metadata={"level": n})
                         for n in range(1, 5)],
                solver=[picky(), generate()], scorer=length(), fail_on_error=False)
'''


def calculator(messages: list[ChatMessage]) -> ModelOutput | str:
    """Ask for ``add`` on the two numbers of the prompt, then report its result."""
    last = messages[-1]
    if isinstance(last, ChatMessageTool):
        return f"The answer is {last.content}"
    x, y = (int(word) for word in last.content.split() if word.isdigit())
    return ModelOutput.for_tool_call("mockllm/model", "add", {"x": x, "y": y})


def _git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A git repo with a task file and ./logs: finished, errored-sample and running runs."""
    require_tool("git")
    root = tmp_path_factory.mktemp("docs")
    (root / "evals.py").write_text(TASKS)
    _git(root, "init", "-q")
    _git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q",
         "--allow-empty", "-m", "init")
    _git(root, "add", "evals.py")
    _git(root, "-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "-m", "t")
    logs = root / "logs"
    [arith] = eval(f"{root}/evals.py@arith", model="mockllm/model", log_dir=str(logs),
                   display="none", seed=42, model_args={"custom_outputs": calculator})
    [flaky] = eval(f"{root}/evals.py@flaky", model="mockllm/model", log_dir=str(logs),
                   display="none", seed=42)
    assert arith.location and flaky.location
    _write_running_copy(Path(arith.location), logs)
    return {"root": root, "log": Path(flaky.location)}


def _write_running_copy(finished: Path, logs: Path) -> None:
    """The first two samples of ``finished`` under a newer run with no footer yet."""
    log = read_eval_log(finished)
    assert log.samples is not None
    spec = log.eval.model_copy(update={"run_id": "0123456789abcdef",
                                       "created": "2099-01-01T00:00:00+00:00"})
    with LogWriter(logs / "2099-01-01T00-00-00_arith_0123456789abcdef.jsonl.zst") as writer:
        writer.write_header(spec)
        for sample in log.samples[:2]:
            writer.write_sample(sample)


def _run_sh(code: str, workdir: dict[str, Path]) -> str:
    require_tool("jq")
    require_tool("zstdcat")
    env = {key: value for key, value in os.environ.items() if key != "EVALKIT_LOG_DIR"}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["LOG"] = str(workdir["log"].relative_to(workdir["root"]))
    done = subprocess.run(["bash", "-e", "-c", code], cwd=workdir["root"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr}"
    return done.stdout


def _run_sql(code: str) -> str:
    import duckdb

    # .df(), not .fetchall(): Python datetimes with time zones would need pytz.
    return str(duckdb.sql(code).df().to_string())


def _run_python(code: str) -> str:
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(DOC), "exec"), {"__name__": "__doc_example__"})
    return out.getvalue()


@pytest.mark.filterwarnings("ignore:The inplace keyword:DeprecationWarning")
@pytest.mark.parametrize("block", BLOCKS, ids=[block.id for block in BLOCKS])
def test_doc_example_runs_and_prints_what_it_should(
    block: Block, workdir: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example runs without error over the sample logs and prints the expected text."""
    monkeypatch.chdir(workdir["root"])
    if block.lang == "sh":
        output = _run_sh(block.code, workdir)
    elif block.lang == "sql":
        output = _run_sql(block.code)
    else:
        output = _run_python(block.code)
    for expected in block.expect:
        assert expected in output, f"{expected!r} not in output of {block.id}:\n{output}"
    if block.expect:
        assert output.strip()


def test_doc_has_the_examples_it_promises() -> None:
    """The doc still has its jq, DuckDB and pandas examples, and all but one are checked."""
    kinds = [block.lang for block in BLOCKS]
    assert kinds.count("sh") >= 8 and kinds.count("sql") >= 4 and kinds.count("python") >= 4
    assert "read_json('logs/*.jsonl.zst'" in DOC.read_text()
    unchecked = [block.id for block in BLOCKS if not block.expect]
    assert len(unchecked) == 1  # the transcript().info solver, run by the test below
    assert len(CHECKED) == len(BLOCKS) - 1


def test_transcript_example_records_an_info_event(log_dir: Path) -> None:
    """The doc's `careful` solver, run in an eval, leaves its info event in the log."""
    [snippet] = [block for block in BLOCKS if "def careful" in block.code]
    namespace: dict[str, Any] = {}
    exec(compile(snippet.code, str(DOC), "exec"), namespace)
    [log] = eval(Task(dataset=[Sample(input="three little words")],
                      solver=namespace["careful"]()),
                 model="mockllm/model", display="none")
    assert log.location is not None
    [sample] = read_eval_log(log.location).samples or []
    [info] = [event for event in sample.events if isinstance(event, InfoEvent)]
    assert (info.data, info.source) == ({"prompt_words": 3}, "careful")
