"""The sandbox accessor: Inspect's exec/read_file/write_file, Sample.files and setup, types."""

from __future__ import annotations

import base64
import sys
from pathlib import Path
from typing import Any, ClassVar

import anyio
import pytest
from conftest import require_tool

from evalkit import Task, eval
from evalkit.dataset import Sample, Target
from evalkit.errors import UsageError
from evalkit.log import EvalSample, read_eval_log
from evalkit.model import ModelOutput
from evalkit.scorer import CORRECT, INCORRECT, Score, accuracy, scorer
from evalkit.solver import TaskState, generate, use_tools
from evalkit.tool import (
    LocalSandbox,
    SandboxEnvironment,
    bash,
    sandbox,
    sandbox_context,
    tool_info,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="the local sandbox is POSIX only")
MOCK = "mockllm/model"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.mark.anyio
async def test_exec_separates_stdout_and_stderr_and_takes_cwd_env_input() -> None:
    """exec(cmd, input, cwd, env) as in Inspect: stdout and stderr apart, cwd inside the box."""
    require_tool("bash")
    async with sandbox_context() as box:
        await box.write_file("sub/keep.txt", "x")
        script = 'cat; echo "$GREETING"; pwd; echo oops >&2; exit 4'
        result = await box.exec(["bash", "-c", script], input="piped\n", cwd="sub",
                                env={"GREETING": "hi"})
        assert isinstance(box, LocalSandbox)
        lines = result.stdout.splitlines()
        assert lines[:2] == ["piped", "hi"]
        here = await anyio.Path(lines[2]).resolve()
        assert here == await anyio.Path(box.directory / "sub").resolve()
        assert (result.stderr, result.returncode, result.success) == ("oops\n", 4, False)


@pytest.mark.anyio
async def test_write_then_read_text_and_bytes() -> None:
    """write_file makes parent directories; read_file returns text, or bytes with text=False."""
    async with sandbox_context() as box:
        await box.write_file("a/b/notes.txt", "héllo")
        await box.write_file("blob.bin", b"\x00\xff")
        assert await box.read_file("a/b/notes.txt") == "héllo"
        assert await box.read_file("blob.bin", text=False) == b"\x00\xff"
        with pytest.raises(FileNotFoundError):
            await box.read_file("missing.txt")


@pytest.mark.anyio
@pytest.mark.parametrize("path", ["../outside.txt", "a/../../outside.txt", "/etc/hostname",
                                  "link/escaped.txt"])
async def test_file_operations_refuse_paths_outside_the_sandbox(path: str, tmp_path: Path) -> None:
    """``..``, absolute paths elsewhere and symlinks pointing out are PermissionError."""
    async with sandbox_context() as box:
        assert isinstance(box, LocalSandbox)
        (box.directory / "link").symlink_to(tmp_path)
        with pytest.raises(PermissionError, match="outside the sandbox"):
            await box.write_file(path, "no")
        with pytest.raises(PermissionError, match="outside the sandbox"):
            await box.read_file(path)
        with pytest.raises(PermissionError, match="outside the sandbox"):
            await box.exec(["true"], cwd=path)
    assert [entry async for entry in anyio.Path(tmp_path).iterdir()] == []
    assert not await anyio.Path(box.directory.parent / "outside.txt").exists()


@pytest.mark.anyio
async def test_an_absolute_path_inside_the_sandbox_is_allowed() -> None:
    """The sandbox's own absolute paths (as `pwd` prints them) work."""
    async with sandbox_context() as box:
        assert isinstance(box, LocalSandbox)
        await box.write_file(str(box.directory / "here.txt"), "ok")
        assert await box.read_file("here.txt") == "ok"


def test_bash_parameter_is_command_as_in_inspect() -> None:
    """The model is shown `command` (Inspect's name), not `cmd`."""
    assert list(tool_info(bash()).parameters["properties"]) == ["command"]


def test_unknown_sandbox_types_are_refused_naming_those_that_exist() -> None:
    """sandbox="docker" on a Task or a Sample is a UsageError listing the types."""
    with pytest.raises(UsageError, match=r"'docker' is not available.*'local'"):
        Task(dataset=[Sample(input="x")], sandbox="docker")
    with pytest.raises(UsageError, match=r"'k8s' is not available.*'local'"):
        Task(dataset=[Sample(input="x", sandbox=("k8s", "values.yaml"))])
    Task(dataset=[Sample(input="x", sandbox="local")], sandbox=("local", None))


def test_cli_refuses_a_docker_task_with_exit_2(tmp_path: Path) -> None:
    """From the CLI the unknown sandbox type is a usage error (exit 2), no traceback."""
    import subprocess

    task_file = tmp_path / "docker_task.py"
    task_file.write_text(
        "from evalkit import Task, task\nfrom evalkit.dataset import Sample\n\n"
        "@task\ndef boxed():\n    return Task(dataset=[Sample(input='x')], sandbox='docker')\n")
    result = subprocess.run(
        [sys.executable, "-m", "evalkit", "eval", str(task_file), "--model", MOCK,
         "--log-dir", str(tmp_path / "logs"), "--display", "none"],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "'docker' is not available" in result.stderr and "Traceback" not in result.stderr


@scorer(metrics=[accuracy()])
def file_says_target() -> Any:
    async def score(state: TaskState, target: Target) -> Score:
        text = await sandbox().read_file("result.txt")
        return Score(value=CORRECT if text.strip() == target.text else INCORRECT)

    return score


def run_samples(samples: list[Sample], outputs: list[ModelOutput], **task: Any) -> list[EvalSample]:
    task_ = Task(dataset=samples, solver=[use_tools(bash()), generate()],
                 scorer=file_says_target(), **task)
    [log] = eval(task_, model=MOCK, display="none", max_samples=1,
                 model_args={"custom_outputs": outputs}, fail_on_error=False)
    assert log.location is not None
    return list(read_eval_log(log.location).samples or [])


def test_sample_files_are_copied_and_setup_runs_before_the_solver(tmp_path: Path) -> None:
    """Files from a host path, inline text and a data: URL are there; setup ran first."""
    require_tool("bash")
    host_file = tmp_path / "numbers.txt"
    host_file.write_text("3\n4\n")
    encoded = base64.b64encode(b"5\n").decode()
    sample = Sample(
        input="add them", target="12",
        files={"data/numbers.txt": str(host_file), "data/more.txt": "inline text",
               "data/five.txt": f"data:text/plain;base64,{encoded}"},
        setup="cat data/five.txt >> data/numbers.txt && test -f data/more.txt",
    )
    command = "paste -sd+ data/numbers.txt | bc > result.txt; cat data/more.txt"
    [record] = run_samples([sample], [
        ModelOutput.for_tool_call(MOCK, "bash", {"command": command}),
        ModelOutput.from_content(MOCK, "done")])
    assert record.error is None
    assert record.messages[2].content == "inline text"
    assert record.scores is not None and record.scores["file_says_target"].value == CORRECT


def test_a_failing_setup_script_is_a_sample_error_and_the_solver_never_runs() -> None:
    """Setup exits 3: the sample errs naming the exit code and output; no model call."""
    require_tool("bash")
    sample = Sample(input="x", target="1", setup="echo preparing; exit 3")
    [record] = run_samples([sample], [ModelOutput.from_content(MOCK, "never")])
    assert record.error is not None and record.error.kind == "SandboxSetupError"
    assert "exited with code 3" in record.error.message and "preparing" in record.error.message
    assert record.messages[-1].role == "user"


class CountingSandbox(LocalSandbox):
    """A registered custom type, to show the runner goes through the registry."""

    made: ClassVar[list[str | None]] = []

    @classmethod
    async def sample_init(cls, config: str | None = None) -> CountingSandbox:
        cls.made.append(config)
        return cls()


def test_a_registered_sandbox_type_is_used_by_the_runner() -> None:
    """@sandboxenv(name=...) adds a type; Task(sandbox=(name, config)) runs samples in it."""
    from evalkit.tool import sandboxenv

    sandboxenv(name="counting")(CountingSandbox)
    require_tool("bash")
    [record] = run_samples(
        [Sample(input="x", target="7")],
        [ModelOutput.for_tool_call(MOCK, "bash", {"command": "echo 7 > result.txt"}),
         ModelOutput.from_content(MOCK, "done")],
        sandbox=("counting", "cfg.yaml"))
    assert record.scores is not None and record.scores["file_says_target"].value == CORRECT
    assert CountingSandbox.made == ["cfg.yaml"]
    assert issubclass(CountingSandbox, SandboxEnvironment)
