"""Replay metadata in the log header, and --seed making random solvers reproducible."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import require_tool, run_cli

from evalkit import eval
from evalkit._eval._replay import git_state, imported_modules, task_package_versions
from evalkit.dataset import Sample
from evalkit.log import read_eval_log, read_eval_log_header

TASK_FILE = '''\
import random

import duckdb  # noqa: F401 -- a third-party import whose version the header records

from evalkit import Task, task
from evalkit.dataset import json_dataset
from evalkit.model import ModelOutput
from evalkit.scorer import includes
from evalkit.solver import solver


@solver
def dice():
    """Answer a random number: reproducible only through --seed."""
    async def solve(state, generate):
        state.output = ModelOutput.from_content("dice", str(random.random()))
        return state
    return solve


@task
def meta():
    return Task(dataset=json_dataset(DATA), solver=dice(), scorer=includes())
'''

DATA_LINES = [{"input": "one", "target": "1"}, {"input": "two", "target": "2"},
              {"input": "three", "target": "3"}]


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True,
                          check=True)
    return done.stdout.strip()


def _make_task_repo(root: Path) -> Path:
    """A throwaway git repo holding a task file and its dataset, committed."""
    require_tool("git")
    root.mkdir()
    data = root / "data.jsonl"
    data.write_text("".join(json.dumps(line) + "\n" for line in DATA_LINES))
    task_file = root / "task_meta.py"
    task_file.write_text(TASK_FILE.replace("DATA)", f"{str(data)!r})"))
    _git(root, "init", "-q")
    _git(root, "config", "user.email", "test@example.com")
    _git(root, "config", "user.name", "test")
    _git(root, "remote", "add", "origin", "https://user:s3cret@example.com/org/evals.git")
    _git(root, "add", ".")
    _git(root, "commit", "-q", "-m", "task")
    return task_file


def _run(task_file: Path, log_dir: Path, **options: object) -> Path:
    [log] = eval(str(task_file), model="mockllm/model", log_dir=str(log_dir),
                 display="none", **options)
    assert log.location is not None
    return Path(log.location)


def test_header_records_git_commit_clean_state_and_hashes(tmp_path: Path) -> None:
    """A committed task file: commit, clean flags, redacted origin and sha256s in the header."""
    task_file = _make_task_repo(tmp_path / "repo")
    header = read_eval_log_header(_run(task_file, tmp_path / "logs", seed=11)).eval
    replay = header.replay
    assert replay["git"] == {
        "commit": _git(task_file.parent, "rev-parse", "HEAD"), "dirty": False,
        "origin": "https://example.com/org/evals.git", "task_file": "task_meta.py",
        "task_file_status": "clean",
    }
    assert replay["task_file_sha256"] == hashlib.sha256(task_file.read_bytes()).hexdigest()
    data_file = task_file.parent / "data.jsonl"
    assert header.dataset.sha256 == hashlib.sha256(data_file.read_bytes()).hexdigest()
    assert header.dataset.samples == 3
    assert replay["seed"] == 11 and header.config["seed"] == 11


def test_header_records_versions_host_and_command(tmp_path: Path) -> None:
    """Versions of evalkit, Python and the task's imports, the host and the command line."""
    import duckdb
    import pydantic

    task_file = _make_task_repo(tmp_path / "repo")
    replay = read_eval_log_header(_run(task_file, tmp_path / "logs")).eval.replay
    assert replay["python"] == ".".join(map(str, sys.version_info[:3]))
    assert replay["evalkit"] == replay["packages"]["evalkit"]
    assert replay["packages"]["duckdb"] == duckdb.__version__
    assert replay["packages"]["pydantic"] == pydantic.VERSION
    assert "random" not in replay["packages"]  # the standard library is left out
    assert replay["host"] == socket.gethostname()
    assert replay["command"].split()[0].startswith("python")  # eval() from Python: argv
    assert "seed" not in replay


def test_header_records_dirty_tree_and_changed_task_file(tmp_path: Path) -> None:
    """Editing the task file after the commit: dirty, modified, and a new sha256."""
    task_file = _make_task_repo(tmp_path / "repo")
    first = read_eval_log_header(_run(task_file, tmp_path / "logs")).eval.replay
    task_file.write_text(task_file.read_text() + "\n# tweaked\n")
    second = read_eval_log_header(_run(task_file, tmp_path / "logs")).eval.replay
    assert second["git"]["dirty"] is True
    assert second["git"]["task_file_status"] == "modified"
    assert second["git"]["commit"] == first["git"]["commit"]
    assert second["task_file_sha256"] == hashlib.sha256(task_file.read_bytes()).hexdigest()
    assert second["task_file_sha256"] != first["task_file_sha256"]


def test_untracked_task_file_is_flagged(tmp_path: Path) -> None:
    """A task file never committed is 'untracked': the commit does not contain it."""
    task_file = _make_task_repo(tmp_path / "repo")
    extra = task_file.with_name("scratch.py")
    extra.write_text("x = 1\n")
    state = git_state(extra)
    assert state is not None
    assert state["task_file_status"] == "untracked"
    assert state["dirty"] is False  # untracked files do not make the tree dirty


def test_no_git_state_outside_a_repository(tmp_path: Path) -> None:
    """A task file outside any git repository records no git state, and no error."""
    require_tool("git")
    lone = tmp_path / "lone" / "task.py"
    lone.parent.mkdir()
    lone.write_text("import duckdb\n")
    assert git_state(lone) is None


def test_task_imports_resolve_to_distributions(tmp_path: Path) -> None:
    """Imports are read from the file: stdlib and local helpers skipped, others versioned."""
    import duckdb

    task_file = tmp_path / "task.py"
    (tmp_path / "helpers.py").write_text("")
    task_file.write_text("import os, json\nimport duckdb.typing\nfrom helpers import x\n"
                         "from . import sibling\nimport not_installed_pkg_xyz\n")
    assert imported_modules(task_file) == {"os", "json", "duckdb", "helpers",
                                           "not_installed_pkg_xyz"}
    assert task_package_versions(task_file) == {"duckdb": duckdb.__version__}


def test_cli_command_line_recorded(tmp_path: Path) -> None:
    """`evalkit eval ... --seed 5` records that command line and the seed."""
    task_file = _make_task_repo(tmp_path / "repo")
    done = run_cli("eval", str(task_file), "--model", "mockllm/model", "--seed", "5",
                   "--log-dir", str(tmp_path / "logs"), "--display", "none")
    assert done.returncode == 0, done.stderr
    [path] = (tmp_path / "logs").glob("*.jsonl.zst")
    replay = read_eval_log_header(path).eval.replay
    assert replay["command"] == (f"evalkit eval {task_file} --model mockllm/model --seed 5 "
                                 f"--log-dir {tmp_path / 'logs'} --display none")
    assert replay["seed"] == 5


def _dice_outputs(task_file: Path, log_dir: Path, seed: int | None) -> list[str]:
    log = read_eval_log(_run(task_file, log_dir, seed=seed, max_samples=1))
    assert log.samples is not None
    return [sample.output.completion for sample in sorted(log.samples, key=lambda s: s.id)
            if sample.output is not None]


def test_same_seed_gives_identical_outputs(tmp_path: Path) -> None:
    """Two runs of a random solver with the same --seed (max_samples=1) agree exactly."""
    task_file = _make_task_repo(tmp_path / "repo")
    first = _dice_outputs(task_file, tmp_path / "logs", seed=1234)
    second = _dice_outputs(task_file, tmp_path / "logs", seed=1234)
    assert len(first) == 3
    assert first == second


def test_different_seed_gives_different_outputs(tmp_path: Path) -> None:
    """Another --seed gives another random stream."""
    task_file = _make_task_repo(tmp_path / "repo")
    assert (_dice_outputs(task_file, tmp_path / "logs", seed=1)
            != _dice_outputs(task_file, tmp_path / "logs", seed=2))


def test_sample_input_hash_is_recorded(tmp_path: Path) -> None:
    """Each sample carries the hash of its input, the one a retry compares."""
    task_file = _make_task_repo(tmp_path / "repo")
    log = read_eval_log(_run(task_file, tmp_path / "logs"))
    assert log.samples is not None
    by_input = {sample.input: sample.input_hash for sample in log.samples}
    assert by_input == {line["input"]: Sample(input=line["input"]).input_hash()
                        for line in DATA_LINES}
    assert len(set(by_input.values())) == 3


@pytest.mark.parametrize("url", ["git@github.com:org/repo.git", "ssh://git@host/repo.git"])
def test_origin_without_secret_kept_verbatim(url: str) -> None:
    """An scp-like or ssh origin holds no secret and is recorded as is."""
    from evalkit._eval._replay import _without_credentials

    assert _without_credentials(url) == url
