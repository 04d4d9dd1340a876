"""Quota, credit and auth failures end the whole eval cleanly (exit 3) and resume.

A real `evalkit eval` subprocess talks to a real HTTP server on 127.0.0.1 that
runs out of quota part-way through.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import zstandard
from conftest import RETRY_FROM_MODULE, run_cli

from evalkit.log import read_eval_log
from evalkit.testing import Fault, ProviderServer
from evalkit.testing._provider_server import last_user_text

SECRET = "sk-test-SECRET-9f8e7d6c5b4a"

TASK = '''
from evalkit import Task, task
from evalkit.dataset import Sample
from evalkit.scorer import includes

@task
def echo(n: int = 10):
    return Task(dataset=[Sample(id=i, input=f"question {i}", target=f"question {i}")
                         for i in range(n)], scorer=includes())
'''


class QuotaAfter:
    """Answers by echoing; after ``n`` answers the server's quota runs out."""

    def __init__(self, n: int, fault: Fault) -> None:
        self.n, self.fault = n, fault
        self.answered = 0
        self.server: ProviderServer | None = None

    def __call__(self, prompt: str) -> str:
        self.answered += 1
        if self.answered == self.n and self.server is not None:
            self.server.inject_always(self.fault)
        return prompt


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "echo.py").write_text(TASK)
    return tmp_path


def _serve(answer: QuotaAfter) -> Iterator[ProviderServer]:
    with ProviderServer(answer=answer) as server:
        answer.server = server
        yield server


def _log_in(workdir: Path) -> Path:
    [path] = sorted((workdir / "logs").glob("*.jsonl.zst"), key=lambda p: p.stat().st_mtime)[-1:]
    return path


def _prompts(server: ProviderServer, since: int = 0) -> list[str]:
    return [last_user_text(r.json["messages"]) for r in server.requests[since:]]


@pytest.mark.parametrize(
    ("provider", "fault", "kind", "key_env"),
    [
        ("openai", Fault.insufficient_quota(), "quota_exhausted", "OPENAI_API_KEY"),
        ("anthropic", Fault.http(402, "payment required"), "quota_exhausted",
         "ANTHROPIC_API_KEY"),
        ("anthropic", Fault.credit_too_low(), "quota_exhausted", "ANTHROPIC_API_KEY"),
        ("openai", Fault.http(401, "invalid api key"), "auth", "OPENAI_API_KEY"),
    ],
)
def test_quota_abort_exits_3_keeps_completed_and_resumes_only_missing(
    workdir: Path, provider: str, fault: Fault, kind: str, key_env: str
) -> None:
    """Exit 3 with completed samples kept, none scored wrong; the retry asks only
    for the missing samples; the key never reaches the log or the terminal."""
    answer = QuotaAfter(4, fault)
    for server in _serve(answer):
        base_url = server.openai_base_url if provider == "openai" else server.anthropic_base_url
        env = {key_env: SECRET}
        first = run_cli("eval", "echo.py", "--model", f"{provider}/test-model",
                        "--model-base-url", base_url, "--max-samples", "1",
                        "--display", "plain", cwd=workdir, env=env)
        assert first.returncode == 3, first.stderr
        path = _log_in(workdir)
        assert f"resume with: {RETRY_FROM_MODULE} {path.relative_to(workdir)}" in first.stderr
        log = read_eval_log(path)
        assert log.status == "error"
        assert log.error is not None and log.error.kind == kind
        assert log.results is not None
        assert (log.results.completed_samples, log.results.errored_samples,
                log.results.cancelled_samples) == (4, 0, 1)
        assert log.samples is not None
        scored = [s for s in log.samples if s.scores]
        assert len(scored) == 4 and all(s.scores["includes"].value == "C" for s in scored)
        assert [s.cancelled for s in log.samples if not s.scores] == [True]

        server.clear_faults()
        asked_before = len(server.requests)
        second = run_cli("eval-retry", str(path), "--display", "none", cwd=workdir, env=env)
        assert second.returncode == 0, second.stderr
        assert sorted(_prompts(server, asked_before)) == sorted(
            f"question {i}" for i in range(4, 10))
        retried = read_eval_log(_log_in(workdir))
        assert retried.status == "success" and retried.results is not None
        assert retried.results.completed_samples == 10

        for log_file in (workdir / "logs").glob("*.jsonl.zst"):
            plain = zstandard.ZstdDecompressor().stream_reader(
                log_file.open("rb"), read_across_frames=True).read()
            assert SECRET.encode() not in plain
            assert SECRET.encode() not in log_file.read_bytes()
        for output in (first.stdout, first.stderr, second.stdout, second.stderr):
            assert SECRET not in output
        # Every request carried the key to the server, so the test can fail.
        assert any(SECRET in str(r.headers) for r in server.requests)


def test_transient_faults_end_in_correct_answers(workdir: Path) -> None:
    """429s, 500s, 529 and a dropped connection are retried to correct answers."""
    with ProviderServer() as server:
        for fault in (Fault.rate_limit(retry_after=0), Fault.http(500), Fault.overloaded(),
                      Fault.drop(), Fault.rate_limit()):
            server.inject(fault)
        done = run_cli("eval", "echo.py", "-T", "n=6", "--model", "openai/test-model",
                       "--model-base-url", server.openai_base_url, "--display", "none",
                       cwd=workdir, env={"OPENAI_API_KEY": SECRET})
        assert done.returncode == 0, done.stderr
        log = read_eval_log(_log_in(workdir))
        assert log.results is not None and log.results.completed_samples == 6
        assert log.results.scores[0].metrics["accuracy"].value == 1.0
        assert log.samples is not None
        retries = [r for s in log.samples for e in s.events if e.event == "model"
                   for r in e.retries]  # type: ignore[union-attr]  # model events only
        assert len(retries) == 5
        assert len(server.requests) == 6 + 5


def test_cost_unknown_warns_and_override_prices_it(workdir: Path) -> None:
    """An unpriced model's cost is null with a warning naming the fix; --model-cost
    prices it from the recorded usage."""
    with ProviderServer() as server:
        args = ["eval", "echo.py", "-T", "n=3", "--model", "openai/test-model",
                "--model-base-url", server.openai_base_url, "--display", "none"]
        unknown = run_cli(*args, cwd=workdir, env={"OPENAI_API_KEY": SECRET})
        assert unknown.returncode == 0, unknown.stderr
        assert "cost unknown: no price for openai/test-model" in unknown.stderr
        assert "--model-cost openai/test-model=IN:OUT" in unknown.stderr
        log = read_eval_log(_log_in(workdir))
        assert log.stats is not None
        assert log.stats.cost is None and log.stats.pricing_source == "unknown"

        priced = run_cli(*args, "--model-cost", "openai/test-model=2:10", cwd=workdir,
                         env={"OPENAI_API_KEY": SECRET})
        assert priced.returncode == 0, priced.stderr
        assert "cost unknown" not in priced.stderr
        log = read_eval_log(_log_in(workdir))
        assert log.stats is not None and log.stats.pricing_source == "override"
        usage = log.stats.model_usage["openai/test-model"]
        assert usage.input_tokens > 0
        assert log.stats.cost == pytest.approx(
            (usage.input_tokens * 2 + usage.output_tokens * 10) / 1e6)


def test_model_arg_base_url_is_accepted(workdir: Path) -> None:
    """-M base_url=... works like --model-base-url (no 'multiple values' crash)."""
    with ProviderServer() as server:
        done = run_cli("eval", "echo.py", "-T", "n=2", "--model", "openai/test-model",
                       "-M", f"base_url={server.openai_base_url}", "--display", "none",
                       cwd=workdir, env={"OPENAI_API_KEY": SECRET})
        assert done.returncode == 0, done.stderr
        assert len(server.requests) == 2
