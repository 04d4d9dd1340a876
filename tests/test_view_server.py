"""`evalkit view`'s server over real HTTP on 127.0.0.1: the JSON API, refusals, the CLI."""

from __future__ import annotations

import ast
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from conftest import REPO, run_cli
from view_fixtures import (
    GATED_TASK,
    agent_sample,
    footer_for,
    make_spec,
    write_corrupt_log,
    write_demo_logs,
    write_log,
)


def require_viewer() -> None:
    """Skip without the [view] extra, except in CI where it must be installed."""
    try:
        import starlette  # noqa: F401  # imported only to see whether it is there
        import uvicorn  # noqa: F401
    except ImportError as exc:
        if os.environ.get("EVALKIT_REQUIRE_CLI_TOOLS"):
            pytest.fail(f"{exc.name} is required in CI; .ci/run installs evalkit[view]")
        pytest.skip(f"evalkit[view] is not installed ({exc.name} missing)", allow_module_level=True)


require_viewer()

from evalkit._view._serve import ViewServer  # noqa: E402  # after the skip above


@pytest.fixture
def demo(tmp_path: Path) -> dict[str, Path]:
    """A directory of demo logs, one of them damaged."""
    directory = tmp_path / "logs"
    directory.mkdir()
    logs = write_demo_logs(directory, big=250)
    logs["corrupt"] = write_corrupt_log(directory)
    return logs


@pytest.fixture
def server(demo: dict[str, Path]) -> Iterator[ViewServer]:
    """The viewer of the demo directory on a free port."""
    running = ViewServer(demo["big"].parent, port=0).start()
    yield running
    running.stop()


def get(server: ViewServer, path: str, host: str | None = None) -> tuple[int, bytes]:
    """GET ``path`` exactly as given (no client-side normalisation of ``..`` or ``%2f``)."""
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
    headers = {"Host": host} if host else {}
    connection.request("GET", path, headers=headers)
    response = connection.getresponse()
    body = response.read()
    connection.close()
    return response.status, body


def get_json(server: ViewServer, path: str) -> Any:
    status, body = get(server, path)
    assert status == 200, body
    return json.loads(body)


@pytest.mark.parametrize("path", [
    "/logs/..%2f..%2fetc%2fpasswd",
    "/api/logs/..%2f..%2fetc%2fpasswd",
    "/api/logs/..%2f..%2f..%2f..%2fetc%2fpasswd%00.jsonl.zst",
    "/api/logs/%2fetc%2fpasswd",
    "/api/logs/../../etc/passwd",
    "/static/..%2f..%2f..%2fetc%2fpasswd",
    "/static/../_app.py",
])
def test_paths_outside_the_log_directory_are_refused(server: ViewServer, path: str) -> None:
    """Traversal attempts get a 404 and never the file's content."""
    status, body = get(server, path)
    assert status == 404
    assert b"root:" not in body and b"import" not in body


def test_a_log_outside_the_directory_is_refused_even_through_a_symlink(
        server: ViewServer, demo: dict[str, Path], tmp_path: Path) -> None:
    """A symlink in the directory to a log elsewhere is not served (resolve, then check)."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    secret = write_log(outside, make_spec("secret", 1), [agent_sample(1)], None)
    (demo["big"].parent / "link.jsonl.zst").symlink_to(secret)
    status, _ = get(server, "/api/logs/link.jsonl.zst")
    assert status == 404
    names = [row["name"] for row in get_json(server, "/api/logs")["logs"]]
    assert "link.jsonl.zst" not in names


def test_a_foreign_host_header_is_refused(server: ViewServer) -> None:
    """A page on another site reaching the viewer by DNS rebinding gets nothing."""
    status, body = get(server, "/api/logs", host="attacker.example")
    assert status == 400
    assert b"agent" not in body


def test_logs_lists_every_log_with_counts_and_status(server: ViewServer,
                                                    demo: dict[str, Path]) -> None:
    """The logs API has one row per file: status, outcome counts, metrics, lineage."""
    rows = {row["name"]: row for row in get_json(server, "/api/logs")["logs"]}
    assert set(rows) == {path.name for path in demo.values()}
    failed = rows[demo["failed"].name]
    assert failed["status"] == "error"
    assert failed["counts"] == {"done": 4, "errored": 1, "limited": 1, "cancelled": 1}
    assert failed["metrics"][0]["metric"] == "accuracy"
    assert rows[demo["retried"].name]["task_id"] == failed["task_id"]
    assert rows[demo["retried"].name]["retry_of"] == failed["run_id"]
    running = rows[demo["running"].name]
    assert running["status"] == "started" and running["running"] is True
    assert running["counts"]["done"] == 12 and running["total"] == 40


def test_logs_in_subdirectories_are_listed(server: ViewServer, demo: dict[str, Path]) -> None:
    """A log in a subdirectory is listed and opened by its relative name."""
    sub = demo["big"].parent / "sweeps" / "night"
    sub.mkdir(parents=True)
    path = write_log(sub, make_spec("nested", 1), [agent_sample(1)], None)
    name = f"sweeps/night/{path.name}"
    assert name in [row["name"] for row in get_json(server, "/api/logs")["logs"]]
    assert get_json(server, f"/api/logs/{name}")["eval"]["task"] == "nested"


def test_a_damaged_log_shows_what_is_readable_and_says_what_is_not(
        server: ViewServer, demo: dict[str, Path]) -> None:
    """The sample table of a corrupt log has the rows before the damage and a problem."""
    name = demo["corrupt"].name
    detail = get_json(server, f"/api/logs/{name}")
    assert detail["eval"]["task"] == "damaged"
    page = get_json(server, f"/api/logs/{name}/samples")
    assert "damaged" in page["problem"] and "lost" in page["problem"]
    assert 150 < page["total"] < 200 and len(page["rows"]) == 100
    ranked = get_json(server, f"/api/logs/{name}/samples?sort=id&desc=1")
    assert "damaged" in ranked["problem"] and ranked["total"] == page["total"]
    assert ranked["rows"][0]["id"] == 200


def test_a_log_cut_before_its_header_gets_a_row_saying_so(server: ViewServer,
                                                         demo: dict[str, Path]) -> None:
    """An empty log file is listed as unreadable, with the reader's reason."""
    (demo["big"].parent / "2026-12-02T00-00-00_empty_0.jsonl.zst").write_bytes(b"")
    rows = {row["name"]: row for row in get_json(server, "/api/logs")["logs"]}
    empty = rows["2026-12-02T00-00-00_empty_0.jsonl.zst"]
    assert empty["status"] == "unreadable" and "empty file" in empty["problem"]


def test_sample_table_pages_filters_and_sorts(server: ViewServer, demo: dict[str, Path]) -> None:
    """Pages of 100 in file order; errored-only; score filter; sort by id descending."""
    big = f"/api/logs/{demo['big'].name}/samples"
    second = get_json(server, f"{big}?offset=100&limit=100")
    assert second["total"] == 250 and [r["id"] for r in second["rows"]][:2] == [101, 102]
    last = get_json(server, f"{big}?offset=200")
    assert len(last["rows"]) == 50
    wrong = get_json(server, f"{big}?score=I")
    assert wrong["total"] == 83 and {r["scores"]["match"] for r in wrong["rows"]} == {"I"}
    newest = get_json(server, f"{big}?sort=id&desc=1&limit=3")
    assert [r["id"] for r in newest["rows"]] == [250, 249, 248]
    errored = get_json(server, f"/api/logs/{demo['failed'].name}/samples?outcome=errored")
    assert [(r["id"], r["phase"], r["outcome"]) for r in errored["rows"]] == [(3, "solver", "errored")]


def test_sample_table_rejects_unknown_filters(server: ViewServer, demo: dict[str, Path]) -> None:
    """A bad outcome, sort or offset is a 400 with a message, not a crash."""
    base = f"/api/logs/{demo['big'].name}/samples"
    for query in ("?outcome=weird", "?sort=secret", "?offset=x"):
        status, body = get(server, base + query)
        assert status == 400 and json.loads(body)["error"]


def test_one_sample_by_id_and_epoch(server: ViewServer, demo: dict[str, Path]) -> None:
    """The sample API returns the record as written; a missing one is a 404 naming it."""
    sample = get_json(server, f"/api/logs/{demo['failed'].name}/samples/3/1")
    assert sample["error"]["phase"] == "solver" and "Traceback" in sample["error"]["traceback"]
    assert sample["error_history"][0]["kind"] == "TimeoutError"
    status, body = get(server, f"/api/logs/{demo['failed'].name}/samples/99/1")
    assert status == 404 and "99" in json.loads(body)["error"]


def test_string_sample_ids_are_found(tmp_path: Path) -> None:
    """An id that is text (even one that looks like a number) is found by its URL form."""
    from evalkit._view._samples import find_sample_line

    samples = [agent_sample(1).model_copy(update={"id": "q-1"}),
               agent_sample(2).model_copy(update={"id": "007"})]
    path = write_log(tmp_path, make_spec("ids", 2), samples, None)
    for sample_id in ("q-1", "007"):
        line, problem = find_sample_line(path, sample_id, 1)
        assert line is not None and json.loads(line)["id"] == sample_id and problem is None


def test_pages_and_api_carry_a_strict_content_security_policy(server: ViewServer) -> None:
    """No inline script may run even if markup got in: CSP default-src 'self'."""
    address = urlsplit(server.url)
    connection = http.client.HTTPConnection(address.hostname or "", address.port, timeout=30)
    connection.request("GET", "/")
    response = connection.getresponse()
    assert response.status == 200
    assert "default-src 'self'" in (response.getheader("content-security-policy") or "")
    connection.close()


def test_view_imports_only_the_log_layer_and_below() -> None:
    """DESIGN §7: evalkit/_view never imports _eval, _cli or the registry."""
    forbidden = ("evalkit._eval", "evalkit._cli", "evalkit._registry", "evalkit._task")
    for path in (REPO / "evalkit" / "_view").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                names = [_absolute(node)]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                continue
            for name in names:
                assert not name.startswith(forbidden), f"{path.name} imports {name}"


def _absolute(node: ast.ImportFrom) -> str:
    """The module a ``from ... import`` inside the package ``evalkit._view`` names."""
    if node.level == 0:
        return node.module or ""
    package = ["evalkit", "_view"][: 3 - node.level]
    return ".".join([*package, *([node.module] if node.module else [])])


def test_cli_refuses_a_missing_directory(tmp_path: Path) -> None:
    """`evalkit view --log-dir nowhere` exits 2 with one line naming the directory."""
    result = run_cli("view", "--log-dir", str(tmp_path / "nowhere"))
    assert result.returncode == 2
    assert "nowhere" in result.stderr and "Traceback" not in result.stderr


def test_cli_refuses_a_busy_port(server: ViewServer, demo: dict[str, Path]) -> None:
    """A port already in use is a one-line error naming --port, exit 2."""
    port = str(urlsplit(server.url).port)
    result = run_cli("view", "--log-dir", str(demo["big"].parent), "--port", port)
    assert result.returncode == 2
    assert "--port" in result.stderr and "Traceback" not in result.stderr


def test_cli_serves_on_loopback_and_stops_cleanly_on_ctrl_c(demo: dict[str, Path]) -> None:
    """`evalkit view --port 0` prints a 127.0.0.1 URL, serves it, exits 0 on SIGINT."""
    process = subprocess.Popen(
        [sys.executable, "-m", "evalkit", "view", "--log-dir", str(demo["big"].parent),
         "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = line.split(" at ")[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        address = urlsplit(url)
        connection = http.client.HTTPConnection("127.0.0.1", address.port, timeout=30)
        connection.request("GET", "/api/logs")
        assert len(json.loads(connection.getresponse().read())["logs"]) == 5
        connection.close()
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_a_sample_after_a_corrupt_frame_is_still_found(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Frames are searched one by one: a damaged one is reported, later ones still read."""
    from evalkit._view._samples import find_sample_line
    from evalkit.log import _writer
    from evalkit.log._index import read_index

    monkeypatch.setattr(_writer, "ROLL_BYTES", 4000)  # a new sample frame every few samples
    samples = [agent_sample(n) for n in range(1, 31)]
    path = write_log(tmp_path, make_spec("frames", 30), samples, footer_for(samples, 30))
    with path.open("rb") as handle:
        index = read_index(handle, path.stat().st_size)
    assert index is not None
    frames = index.frames
    assert len(frames) > 3
    data = bytearray(path.read_bytes())
    first = frames[0]["offset"]
    data[first + 20:first + 60] = bytes(40)  # inside the first sample frame
    path.write_bytes(bytes(data))
    line, problem = find_sample_line(path, "30", 1)
    assert line is not None and json.loads(line)["id"] == 30 and problem is None
    line, problem = find_sample_line(path, "1", 1)
    assert line is None and problem is not None and "frame 1" in problem


def test_eval_view_serves_the_log_directory_while_the_run_goes(tmp_path: Path) -> None:
    """`evalkit eval --view` prints a URL whose logs page shows the run while it runs."""
    log_dir, gate = tmp_path / "logs", tmp_path / "gate"
    task_file = tmp_path / "gated.py"
    task_file.write_text(GATED_TASK.replace("GATE", repr(str(gate))))
    process = subprocess.Popen(
        [sys.executable, "-m", "evalkit", "eval", str(task_file), "--model", "mockllm/model",
         "--log-dir", str(log_dir), "--display", "none", "--max-samples", "5", "--view"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "watch this run at http://127.0.0.1:" in line, line
        port = urlsplit(line.split(" at ")[1].strip()).port
        rows = _wait_for_rows(port, lambda rows: rows and rows[0]["counts"]["done"] == 2)
        assert rows[0]["status"] == "started" and rows[0]["running"] is True
        gate.touch()
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def _wait_for_rows(port: int | None, done: Any, seconds: float = 30) -> Any:
    """Ask /api/logs until ``done(rows)`` (the run is in another process: nothing to await)."""
    deadline, pause = time.monotonic() + seconds, threading.Event()
    while True:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", "/api/logs")
        rows = json.loads(connection.getresponse().read())["logs"]
        connection.close()
        if done(rows) or time.monotonic() > deadline:
            return rows
        pause.wait(0.1)


def test_damage_reports_reach_the_request_that_met_them(demo: dict[str, Path]) -> None:
    """Reads in two threads each get their own damage reports; others still warn."""
    from evalkit._view._damage import collecting
    from evalkit.errors import LogDamageWarning
    from evalkit.log import iter_sample_lines

    reports: dict[str, list[str]] = {}
    both_reading = threading.Barrier(2)

    def read(role: str) -> None:
        with collecting() as damage:
            both_reading.wait(timeout=30)
            for _ in iter_sample_lines(demo[role]):
                pass
        reports[role] = damage

    threads = [threading.Thread(target=read, args=(role,)) for role in ("corrupt", "big")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(reports["corrupt"]) == 1 and "damaged" in reports["corrupt"][0]
    assert reports["big"] == []
    with pytest.warns(LogDamageWarning):
        for _ in iter_sample_lines(demo["corrupt"]):
            pass


def test_a_sample_id_with_a_slash_is_one_part_of_the_address(tmp_path: Path) -> None:
    """The id `a/b`, sent as `a%2Fb`, opens its sample (the API and the page)."""
    path = write_log(tmp_path, make_spec("slash", 1),
                     [agent_sample(1).model_copy(update={"id": "a/b"})], None)
    running = ViewServer(tmp_path, port=0).start()
    try:
        assert get_json(running, f"/api/logs/{path.name}/samples/a%2Fb/1")["id"] == "a/b"
        assert get(running, f"/logs/{path.name}/samples/a%2Fb/1")[0] == 200
    finally:
        running.stop()


def test_without_the_view_extra_the_cli_says_how_to_install_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """No uvicorn: `evalkit view` exits 2 naming `pip install 'evalkit[view]'`."""
    from evalkit._cli import main

    monkeypatch.setitem(sys.modules, "uvicorn", None)  # an import of it now fails
    monkeypatch.delitem(sys.modules, "evalkit._view._serve", raising=False)
    assert main(["view", "--log-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "pip install 'evalkit[view]'" in error and "uvicorn" in error
