"""Why samples failed reaches the terminal: the first error of each kind, at the end."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from conftest import run_cli

from evalkit import Task, eval
from evalkit.dataset import Sample
from evalkit.testing import Fault, ProviderServer

TASK = '''
from evalkit import Task, task
from evalkit.dataset import Sample

@task
def pair():
    return Task(dataset=[Sample(id=1, input="a"), Sample(id=2, input="b")])
'''


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _eval(tmp_path: Path, base_url: str, *extra: str, max_retries: int = 1) -> tuple[int, str]:
    (tmp_path / "pair.py").write_text(TASK)
    result = run_cli("eval", "pair.py", "--model", "openai/m", "--model-base-url", base_url,
                     "--max-retries", str(max_retries), "--no-fail-on-error", *extra, cwd=tmp_path,
                     env={"OPENAI_API_KEY": "sk-test"})
    return result.returncode, result.stdout + result.stderr


def test_a_base_url_nobody_listens_on_is_named_at_the_end(tmp_path: Path) -> None:
    """The end of the output says what failed, in which phase, for how many samples."""
    code, output = _eval(tmp_path, f"http://127.0.0.1:{_unused_port()}/v1", "--display", "plain")
    assert code == 0, output  # --no-fail-on-error: errors do not fail the eval
    assert "2 of 2 samples failed" in output
    assert "2 samples (model, model_transient): ModelTransientError: OpenAI API: " \
           "connection failed" in output
    assert "retries 2 (last: connection refused)" in output  # the plain status line


def test_rate_limits_then_bad_requests_show_the_request_error(tmp_path: Path) -> None:
    """429s are retried (and shown live); the 400s that follow are what the summary names."""
    with ProviderServer() as server:
        server.inject(Fault.rate_limit(retry_after=0), times=2)
        server.inject_always(Fault.http(400, "prompt is too long: 9999 tokens"))
        # Two retries each: however the two samples' requests interleave (one may draw
        # both 429s), each ends on a 400.
        code, output = _eval(tmp_path, server.openai_base_url, "--display", "plain",
                             max_retries=2)
    assert code == 0, output
    assert "(last: HTTP 429 rate limited)" in output  # the plain status line
    lines = [line for line in output.splitlines() if line.startswith("  ")]
    assert len(lines) == 1, output
    assert lines[0].startswith("  2 samples (model, ")
    assert "HTTP 400" in lines[0] and "prompt is too long: 9999 tokens" in lines[0]


def test_display_none_prints_no_error_details(tmp_path: Path) -> None:
    """display none: the results only, no error groups or status lines."""
    code, output = _eval(tmp_path, f"http://127.0.0.1:{_unused_port()}/v1", "--display", "none")
    assert code == 0, output
    assert "model_transient" not in output and "elapsed" not in output


def test_kinds_of_errors_are_grouped_with_counts(log_dir: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    """Two kinds of solver error: one line each, with the first message and the count."""
    from evalkit.solver import Generate, TaskState, solver

    @solver
    def broken() -> object:
        async def solve(state: TaskState, generate: Generate) -> TaskState:
            if state.sample_id == 1:
                raise KeyError("missing field 'x'")
            raise ValueError(f"bad sample {state.sample_id}")

        return solve

    samples = [Sample(id=i, input=str(i)) for i in range(1, 5)]
    eval(Task(dataset=samples, solver=broken(), fail_on_error=False), model="mockllm/model",
         max_samples=1, display="plain")
    err = capsys.readouterr().err
    assert "  1 sample (solver, KeyError): KeyError: \"missing field 'x'\"" in err
    assert "  3 samples (solver, ValueError): ValueError: bad sample 2" in err
