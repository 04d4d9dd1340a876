"""No credential reaches a log or the terminal; a retry takes it again and says from where.

A real ``evalkit eval`` subprocess talks to the loopback OpenAI-protocol server
with a key given as ``-M api_key``, another key in ``OPENAI_API_KEY``, and base
URLs with ``user:password@`` given both as ``-M base_url`` and
``--model-base-url``. Every byte of the decompressed log, of the terminal and of
``log dump``/``log info`` is searched for each of them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import zstandard

from evalkit._util._secrets import (
    is_redacted,
    is_secret_name,
    redact_command,
    redact_url,
    secret_values,
)
from evalkit.testing import Fault, ProviderServer

M_KEY = "sk-evalkit-MARG-SECRET-7f3a9c1e456"
ENV_KEY = "sk-evalkit-ENV-SECRET-0penai-d3adb33f"
URL_USER, URL_PASSWORD = "flaguser-SECRET-1b", "flagpass-SECRET-2c"
ARG_USER, ARG_PASSWORD = "arguser-SECRET-3d", "argpass-SECRET-4e"
SECRETS = (M_KEY, ENV_KEY, URL_USER, URL_PASSWORD, ARG_USER, ARG_PASSWORD)

TASK = '''
from evalkit import Task, task
from evalkit.dataset import Sample

@task
def two():
    return Task(dataset=[Sample(id=i, input=f"q{i}", target=f"Q{i}") for i in (1, 2)])
'''


@pytest.fixture
def server() -> Iterator[ProviderServer]:
    """The fake OpenAI server on 127.0.0.1 (answers the prompt upper-cased)."""
    with ProviderServer(answer=lambda prompt: prompt.upper()) as served:
        yield served


def _with_userinfo(url: str, user: str, password: str) -> str:
    return url.replace("http://", f"http://{user}:{password}@", 1)


def _evalkit(cwd: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """``evalkit ARGS`` in a subprocess, with only the OPENAI_* variables in ``env``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "ANTHROPIC_"))}
    return subprocess.run([sys.executable, "-m", "evalkit", *args], capture_output=True,
                          text=True, timeout=60, cwd=cwd, env={**clean, **env}, check=False)


def _log_bytes(path: Path) -> bytes:
    """Every decompressed byte of every frame of the log."""
    with path.open("rb") as raw, zstandard.ZstdDecompressor().stream_reader(
            raw, read_across_frames=True) as reader:
        return reader.read()


def _assert_clean(where: str, text: str | bytes) -> None:
    data = text.encode() if isinstance(text, str) else text
    leaked = [secret for secret in SECRETS if secret.encode() in data]
    assert not leaked, f"{where} holds {leaked}"


def _check_log_and_readers(cwd: Path, log: Path) -> None:
    _assert_clean(log.name, _log_bytes(log))
    for other in log.parent.rglob("*"):  # lock files, indexes: everything beside the logs
        if other.is_file():
            _assert_clean(other.name, other.read_bytes())
    for command in (["log", "dump", str(log)], ["log", "info", str(log)]):
        done = _evalkit(cwd, *command)
        assert done.returncode == 0, done.stderr
        _assert_clean(" ".join(command[:2]), done.stdout + done.stderr)


def test_credentials_never_reach_the_log_or_terminal(tmp_path: Path, server: ProviderServer) -> None:
    """Keys and URL userinfo are masked everywhere; a retry takes them again from the
    environment (saying so) and fails with what to pass when they are not there."""
    (tmp_path / "task.py").write_text(TASK)
    flag_url = _with_userinfo(server.openai_base_url, URL_USER, URL_PASSWORD)
    arg_url = _with_userinfo(server.openai_base_url, ARG_USER, ARG_PASSWORD)
    server.inject(Fault.http(400))  # one sample errors, so the retry has work to do
    first = _evalkit(tmp_path, "eval", "task.py", "--model", "openai/test-model",
                     "-M", f"api_key={M_KEY}", "-M", f"base_url={arg_url}",
                     "--model-base-url", flag_url, "--max-samples", "1", "--display", "plain",
                     OPENAI_API_KEY=ENV_KEY)
    assert first.returncode == 1, first.stderr
    _assert_clean("eval's terminal", first.stdout + first.stderr)
    assert server.requests[0].headers["authorization"] == f"Bearer {M_KEY}"
    [log] = (tmp_path / "logs").glob("*.jsonl.zst")
    _check_log_and_readers(tmp_path, log)
    header = _log_bytes(log).split(b"\n", 1)[0].decode()
    assert '"api_key":"***"' in header and '"model_base_url":"http://***@127.0.0.1' in header

    no_key = _evalkit(tmp_path, "eval-retry", str(log), "--model-base-url", flag_url)
    assert no_key.returncode == 2 and "Traceback" not in no_key.stderr
    assert "model arg api_key (***) held a credential, which logs never record" in no_key.stderr
    assert "-M api_key=..." in no_key.stderr and "or set OPENAI_API_KEY" in no_key.stderr

    no_url = _evalkit(tmp_path, "eval-retry", str(log), OPENAI_API_KEY=ENV_KEY)
    assert no_url.returncode == 2
    assert "--model-base-url URL" in no_url.stderr and "or set OPENAI_BASE_URL" in no_url.stderr
    assert len(list((tmp_path / "logs").glob("*.jsonl.zst"))) == 1  # refused: no new log

    retried = _evalkit(tmp_path, "eval-retry", str(log), "--display", "plain",
                       OPENAI_API_KEY=ENV_KEY, OPENAI_BASE_URL=flag_url)
    assert retried.returncode == 0, retried.stderr
    _assert_clean("retry's terminal", retried.stdout + retried.stderr)
    assert "model arg api_key (***): using OPENAI_API_KEY from the environment" in retried.stderr
    assert "using OPENAI_BASE_URL from the environment" in retried.stderr
    assert server.requests[-1].headers["authorization"] == f"Bearer {ENV_KEY}"
    [new] = set((tmp_path / "logs").glob("*.jsonl.zst")) - {log}
    _check_log_and_readers(tmp_path, new)


def test_retry_takes_a_credential_given_again(tmp_path: Path, server: ProviderServer) -> None:
    """`eval-retry LOG -M api_key=...` uses the key given, and says so."""
    (tmp_path / "task.py").write_text(TASK)
    server.inject(Fault.http(400))
    first = _evalkit(tmp_path, "eval", "task.py", "--model", "openai/test-model",
                     "-M", f"api_key={M_KEY}", "--model-base-url", server.openai_base_url,
                     "--max-samples", "1", "--display", "none")
    assert first.returncode == 1, first.stderr
    [log] = (tmp_path / "logs").glob("*.jsonl.zst")
    retried = _evalkit(tmp_path, "eval-retry", str(log), "-M", f"api_key={ENV_KEY}",
                       "--display", "none")
    assert retried.returncode == 0, retried.stderr
    assert "model arg api_key (***): using the value given with -M api_key" in retried.stderr
    assert server.requests[-1].headers["authorization"] == f"Bearer {ENV_KEY}"


@pytest.mark.parametrize(("name", "secret"), [
    ("api_key", True), ("apiKey", True), ("x-auth-token", True), ("password", True),
    ("Authorization", True), ("client_secret", True), ("max_tokens", False),
    ("organization", False), ("base_url", False), ("monkey", False),
])
def test_secret_names(name: str, secret: bool) -> None:
    """Names that say credential are secret; max_tokens and the like are not."""
    assert is_secret_name(name) is secret


def test_recorded_command_is_masked() -> None:
    """-M key=value, --token VALUE, URL userinfo and known literals are masked."""
    command = ("evalkit eval t.py -M api_key=sk-1 -M organization=org --token tok-9 "
               "--model-base-url https://u:p@host/v1 -T note=literal-SECRET-value")
    assert redact_command(command, {"literal-SECRET-value"}) == (
        "evalkit eval t.py -M 'api_key=***' -M organization=org --token '***' "
        "--model-base-url 'https://***@host/v1' -T 'note=***'")
    assert redact_url("https://token@host/a?b=c") == "https://***@host/a?b=c"


def test_bad_base_url_error_does_not_show_its_password(tmp_path: Path) -> None:
    """A base URL refused as malformed is quoted with its userinfo masked."""
    (tmp_path / "task.py").write_text(TASK)
    bad = f"http://{URL_USER}:{URL_PASSWORD}@127.0.0.1:99999/v1"
    done = _evalkit(tmp_path, "eval", "task.py", "--model", "openai/test-model",
                    "--model-base-url", bad, "--display", "none", OPENAI_API_KEY=ENV_KEY)
    assert done.returncode == 2
    assert "base URL 'http://***@127.0.0.1:99999/v1' has an invalid port" in done.stderr
    _assert_clean("the error", done.stdout + done.stderr)


def test_lock_holder_command_is_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command stored in the lineage lock (shown to a refused second run) is masked."""
    from evalkit._eval import _lock

    monkeypatch.setenv("OPENAI_API_KEY", ENV_KEY)
    monkeypatch.setattr(sys, "argv", [
        "/usr/bin/evalkit", "eval", "t.py", "-M", f"api_key={M_KEY}", "-T", f"note={ENV_KEY}",
        "--model-base-url", f"http://{URL_USER}:{URL_PASSWORD}@host/v1"])
    command = _lock._command_line()
    _assert_clean("the lock holder", command)
    assert command.startswith("evalkit eval t.py -M 'api_key=***'")


SEEN_TASK = (Path(__file__).parent / "retry_tasks" / "seen_args.py").read_text()


def test_task_arg_credentials_are_masked_and_given_again(tmp_path: Path) -> None:
    """A -T URL with userinfo or a -T holding an env key is masked; the retry needs it
    again with -T (and refuses -T for anything the log did not mask)."""
    (tmp_path / "seen.py").write_text(SEEN_TASK)
    seen = tmp_path / "seen.txt"
    env = {"SEEN_FILE": str(seen), "OPENAI_API_KEY": ENV_KEY}
    db_url = f"postgres://{ARG_USER}:{ARG_PASSWORD}@db.example/evals"
    first = _evalkit(tmp_path, "eval", "seen.py", "--model", "mockllm/model", "--display",
                     "none", "-T", f"db={db_url}", "-T", f"key={ENV_KEY}", "-T", "n=3", **env)
    assert first.returncode == 0, first.stderr
    _assert_clean("eval's terminal", first.stdout + first.stderr)
    [log] = (tmp_path / "logs").glob("*.jsonl.zst")
    _check_log_and_readers(tmp_path, log)

    missing = _evalkit(tmp_path, "eval-retry", str(log), **env)
    assert missing.returncode == 2
    assert "task arg db (postgres://***@db.example/evals) held a credential" in missing.stderr
    changed = _evalkit(tmp_path, "eval-retry", str(log), "-T", f"db={db_url}",
                       "-T", f"key={ENV_KEY}", "-T", "n=4", **env)
    assert changed.returncode == 2
    assert "-T n: a retry rebuilds the task with the arguments in its log" in changed.stderr

    again = _evalkit(tmp_path, "eval-retry", str(log), "-T", f"db={db_url}",
                     "-T", f"key={ENV_KEY}", "--display", "none", **env)
    assert again.returncode == 0, again.stderr
    assert "task arg db (postgres://***@db.example/evals): using the value given with -T db" \
        in again.stderr
    first_args, retry_args = seen.read_text().splitlines()
    assert first_args == retry_args
    [new] = set((tmp_path / "logs").glob("*.jsonl.zst")) - {log}
    _check_log_and_readers(tmp_path, new)


def test_a_credential_in_a_urls_query_is_masked() -> None:
    """``?api-key=...`` / ``&token=...`` in a base URL are credentials too: masked in
    the URL, found as literals (so the recorded command hides them) and seen as masked."""
    url = "https://host/v1?api-version=2024-01&api-key=QUERY-SECRET-123&token=tok-SECRET-9"
    masked = redact_url(url)
    assert masked == "https://host/v1?api-version=2024-01&api-key=***&token=***"
    assert is_redacted(masked) and not is_redacted("https://host/v1?api-version=2024-01")
    assert {"QUERY-SECRET-123", "tok-SECRET-9"} <= secret_values({"model_base_url": url}, {})
    command = redact_command(f"evalkit eval t.py --model-base-url {url}")
    assert "SECRET" not in command
