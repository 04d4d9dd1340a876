"""The examples in docs/log-format.md run against a real log."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import REPO, require_tool

from evalkit import Task, eval
from evalkit.dataset import Sample
from evalkit.scorer import includes

DOC = REPO / "docs" / "log-format.md"
BLOCK = re.compile(r"<!-- tested -->\s*```(bash|python)\n(.*?)```", re.DOTALL)


def _blocks() -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2)) for m in BLOCK.finditer(DOC.read_text())]


@pytest.fixture
def log_path(log_dir: Path) -> Path:
    task = Task(dataset=[Sample(input=f"q{i}", target="output") for i in range(5)],
                scorer=includes())
    [log] = eval(task, model="mockllm/model", display="none")
    return Path(str(log.location))


def test_doc_has_the_three_tested_examples() -> None:
    """The page keeps its jq, DuckDB and pandas examples."""
    assert [kind for kind, _ in _blocks()] == ["bash", "python", "python"]


@pytest.mark.parametrize("index", [0, 1, 2])
def test_doc_example_runs(log_path: Path, index: int) -> None:
    """Each tested example runs and prints something derived from the log."""
    kind, code = _blocks()[index]
    if kind == "bash":
        require_tool("zstdcat")
        require_tool("jq")
        out = subprocess.run(["bash", "-c", code], capture_output=True, text=True, check=True,
                             env={**os.environ, "LOG": str(log_path)}).stdout
        assert '"total_samples":5' in out and '"errored_samples":0' in out
    else:
        pytest.importorskip("duckdb" if "duckdb" in code else "pandas")
        out = subprocess.run([sys.executable, "-c", f"LOG = {str(log_path)!r}\n{code}"],
                             capture_output=True, text=True, check=True).stdout
        assert "1" in out and "C" in out
