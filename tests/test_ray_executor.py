"""``--executor ray``: samples run in Ray workers, the driver writes the one log.

The tests start a real Ray head node (``ray start --head --block``, 2 CPUs, in a
temp dir) in a process group of their own and end it by that group's id; the
two-node scenarios run in a network namespace of their own (see
``tests/ray_cluster.py``). The cluster's environment steers
``tests/retry_tasks/counting.py`` in its workers: every sample execution appends
``id:epoch`` to a side file, so re-runs are counted from outside the log.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, run_cli
from ray_cluster import (
    CLUSTERS_ON,
    DEADLINE,
    TASK_FILE,
    Cluster,
    head_node,
    ray_eval,
    records,
    wait_for_records,
    wait_for_starts,
)

import evalkit
from evalkit._eval import _run
from evalkit._eval._executor import LocalExecutor
from evalkit.log import read_eval_log_header
from evalkit.testing import Fault, ProviderServer

TIMING_KEYS = {"started_at", "total_time", "timestamp", "completed_at", "latency"}
TWO_NODES_DEADLINE = 240.0
NAMESPACES = ("unshare", "--map-root-user", "--net", "--pid", "--fork", "--mount-proc",
              "--kill-child")
"""Loopback the only interface; and a PID namespace, so whatever ends the scenario (a
timeout kills unshare, which kills its child, the namespace's init) ends every Ray
process it started with it."""
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX process groups")


def test_without_ray_the_message_says_how_to_install_it(tmp_path: Path) -> None:
    """With Ray not importable, --executor ray exits 2 naming the extra to install."""
    script = ("import runpy, sys; sys.modules['ray'] = None; "
              f"sys.argv = ['evalkit', 'eval', {str(TASK_FILE)!r}, '--model', 'mockllm/model', "
              f"'--executor', 'ray', '--log-dir', {str(tmp_path)!r}, '--display', 'none']; "
              "runpy.run_module('evalkit', run_name='__main__', alter_sys=True)")
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            timeout=60, check=False)
    assert result.returncode == 2, result.stderr
    assert "pip install 'evalkit[ray]'" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp_path.glob("*.jsonl.zst"))


class CountingExecutor:
    """A stand-in engine behind the seam: the local one, counting what it is given."""

    def __init__(self) -> None:
        self.tasks: list[str] = []
        self.samples = 0
        self.closed = False

    async def for_task(self, plan: Any, context: Any) -> Any:
        self.tasks.append(plan.spec.task)
        local = await LocalExecutor().for_task(plan, context)
        outer = self

        class Counted:
            def sample(self, item: Any) -> Any:
                outer.samples += 1
                return local.sample(item)

            def in_flight(self, wanted: int) -> int:
                return 3

        return Counted()

    async def aclose(self) -> None:
        self.closed = True


def test_another_engine_plugs_in_behind_the_executor_seam(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Every sample of a run goes through the executor; planning and the log stay as they are."""
    engine = CountingExecutor()
    monkeypatch.setattr(_run, "make_executor", lambda config: engine)
    (log,) = evalkit.eval(str(TASK_FILE), model="mockllm/model", task_args={"n": 7},
                          log_dir=str(tmp_path), display="none")
    assert log.status == "success" and log.results is not None
    assert log.results.completed_samples == 7
    assert engine.tasks == ["counting"] and engine.samples == 7 and engine.closed


def test_records_travel_as_pickled_bytes_and_come_back_whole() -> None:
    """A worker sends a record as standard-pickle bytes (cheaper than Ray's cloudpickle)
    and the driver gets the same record back; one pickle refuses travels as it is."""
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'evalkit[ray]')")
    from evalkit._eval._ray_worker import packed, unpacked
    from evalkit.log import EvalSample
    from evalkit.model import ChatMessageUser

    record = EvalSample(id=1, epoch=2, input="q", target="t", metadata={"k": [1, 2.5]},
                        messages=[ChatMessageUser(content="q")])
    sent = packed(record)
    assert isinstance(sent, bytes)
    assert unpacked(sent) == record
    odd = EvalSample(id=2, epoch=1, input="q", target="t", metadata={"f": lambda: 1})
    assert packed(odd) is odd and unpacked(packed(odd)) is odd


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    """A real one-node Ray cluster with 2 CPUs, ended by its process group id."""
    # Ray swaps 127.0.0.1 for the machine's own network address unless it believes
    # clusters are off; tests must talk over loopback only, so they are off (read
    # when ray is imported: set before importorskip, and inherited by every child).
    os.environ[CLUSTERS_ON] = "0"
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'evalkit[ray]')")
    # Ray 2.5x turns token auth on when ~/.ray/auth_token exists (any local ray.init()
    # writes one): off here, so the test cluster and its drivers agree whatever the
    # home directory holds. The head listens on 127.0.0.1 only.
    saved_mode = os.environ.get("RAY_AUTH_MODE")
    os.environ["RAY_AUTH_MODE"] = "disabled"
    try:
        with tempfile.TemporaryDirectory(prefix="rt", dir="/tmp") as temp, \
                head_node(Path(temp), clusters="0") as found:  # short: socket paths
            yield found
    finally:
        if saved_mode is None:
            os.environ.pop("RAY_AUTH_MODE", None)
        else:
            os.environ["RAY_AUTH_MODE"] = saved_mode


def _content(record: Any) -> Any:
    """A record without its timings (which differ between any two runs)."""
    if isinstance(record, dict):
        return {key: _content(value) for key, value in record.items() if key not in TIMING_KEYS}
    if isinstance(record, list):
        return [_content(value) for value in record]
    return record


def eval_on_cluster(task_file: Path, cluster: Cluster, tmp_path: Path,
                    *flags: str) -> subprocess.CompletedProcess[str]:
    """``evalkit eval task_file`` with the mock model on ``cluster``, logs in tmp_path/logs."""
    return run_cli("eval", str(task_file), "--model", "mockllm/model", "--executor", "ray",
                   "--ray-address", cluster.address, "--log-dir", str(tmp_path / "logs"),
                   "--display", "none", *flags, timeout=DEADLINE)


def test_ray_log_matches_a_local_run(cluster: Cluster, tmp_path: Path) -> None:
    """The same eval on the cluster and locally writes the same samples and results."""
    cluster.reset()
    ray_dir, local_dir = tmp_path / "ray", tmp_path / "local"
    args = ("-T", "n=12", "--epochs", "2", "--max-samples", "4")
    remote = ray_eval(cluster, ray_dir, *args)
    _, stderr = remote.communicate(timeout=DEADLINE)
    assert remote.returncode == 0, stderr
    assert sum(cluster.starts().values()) == 24  # ran on the cluster's workers
    local = run_cli("eval", str(TASK_FILE), "--model", "mockllm/model", "--log-dir",
                    str(local_dir), "--display", "none", *args)
    assert local.returncode == 0, local.stderr
    (ray_log,), (local_log,) = ray_dir.glob("*.jsonl.zst"), local_dir.glob("*.jsonl.zst")

    def by_key(log: Path) -> dict[tuple[Any, int], Any]:
        return {(r["id"], r["epoch"]): _content(r) for r in records(log)}

    assert by_key(ray_log) == by_key(local_log)
    ray_header, local_header = read_eval_log_header(ray_log), read_eval_log_header(local_log)
    assert ray_header.status == local_header.status == "success"
    assert ray_header.results == local_header.results


def test_a_killed_worker_loses_nothing(cluster: Cluster, tmp_path: Path) -> None:
    """kill -9 of a worker mid-sample: every sample is written once, at most its
    in-flight sample runs again."""
    cluster.reset()
    cluster.hold_file.unlink()  # samples wait in their workers until the kill
    run = ray_eval(cluster, tmp_path, "-T", "n=30", "--max-samples", "2")
    try:
        wait_for_starts(cluster, 2)
        workers = cluster.sample_workers()
        assert workers, "no worker is running a sample"
        os.kill(workers[0], signal.SIGKILL)
    finally:
        cluster.hold_file.touch()
    _, stderr = run.communicate(timeout=DEADLINE)
    assert run.returncode == 0, stderr
    (log,) = tmp_path.glob("*.jsonl.zst")
    written = records(log)
    keys = Counter((r["id"], r["epoch"]) for r in written)
    assert len(keys) == 30 and set(keys.values()) == {1}  # none lost, none written twice
    assert all(r.get("error") is None and not r.get("cancelled") for r in written)
    starts = cluster.starts()
    assert len(starts) == 30
    assert sum(starts.values()) <= 30 + 1  # only the killed worker's sample re-ran


def test_a_killed_driver_is_finished_by_retry_on_the_cluster(cluster: Cluster,
                                                              tmp_path: Path) -> None:
    """kill -9 of the driver keeps every finished sample; eval-retry --executor ray runs
    only the rest."""
    cluster.reset()
    run = ray_eval(cluster, tmp_path, "-T", "n=40", "-M", "delay=0.1", "--max-samples", "2")
    log = wait_for_records(tmp_path, 6, run)
    run.kill()
    run.communicate(timeout=DEADLINE)
    finished = {f"{r['id']}:{r['epoch']}" for r in records(log)}
    retry = run_cli("eval-retry", str(log), "--executor", "ray", "--ray-address",
                    cluster.address, "--display", "none", timeout=DEADLINE)
    assert retry.returncode == 0, retry.stderr
    (new_log,) = set(tmp_path.glob("*.jsonl.zst")) - {log}
    assert read_eval_log_header(new_log).status == "success"
    assert len(records(new_log)) == 40
    starts = cluster.starts()
    assert len(starts) == 40
    assert all(starts[key] == 1 for key in finished)  # no finished sample ran again


def test_ctrl_c_cancels_remote_samples_and_exits_130(cluster: Cluster, tmp_path: Path) -> None:
    """SIGINT stops the eval: in-flight samples recorded as cancelled with what they did
    so far (conversation, transcript, usage, as locally), exit 130, resume command printed."""
    cluster.reset()
    cluster.hold_file.unlink()  # each sample holds after its model call
    try:
        run = ray_eval(cluster, tmp_path, "-T", "n=10", "--max-samples", "2")
        wait_for_starts(cluster, 2)
        run.send_signal(signal.SIGINT)
        _, stderr = run.communicate(timeout=DEADLINE)
    finally:
        cluster.hold_file.touch()
    assert run.returncode == 130, stderr
    assert "eval-retry" in stderr
    (log,) = tmp_path.glob("*.jsonl.zst")
    header = read_eval_log_header(log)
    assert header.status == "cancelled"
    cancelled = [r for r in records(log) if r.get("cancelled")]
    assert len(cancelled) == 2
    for record in cancelled:
        assert [m["role"] for m in record["messages"]] == ["user", "assistant"]
        assert [e["event"] for e in record["events"]] == ["model"]
        assert record["model_usage"]["mockllm/model"]["total_tokens"] > 0
    assert header.stats is not None  # the cancelled samples' tokens count in the totals
    assert header.stats.model_usage["mockllm/model"].total_tokens == sum(
        r["model_usage"]["mockllm/model"]["total_tokens"] for r in records(log))


def test_a_task_that_cannot_load_on_workers_fails_at_once(cluster: Cluster,
                                                          tmp_path: Path) -> None:
    """A task importing a module the workers lack stops the eval before any sample, exit 2."""
    helper = tmp_path / "tasks" / "only_here.py"
    helper.parent.mkdir()
    helper.write_text("ANSWER = 'output'\n")
    task_file = helper.parent / "needs_helper.py"
    task_file.write_text(
        "import os, sys\n"
        "if os.environ.get('RETRY_TEST_SIDE_FILE'):  # on a worker: hide the helper\n"
        "    sys.path = [p for p in sys.path if 'tasks' not in p]\n"
        "    sys.modules.pop('only_here', None)\n"
        "from only_here import ANSWER\n"
        "from evalkit import Task, task\n"
        "from evalkit.dataset import Sample\n\n"
        "@task\ndef needs_helper():\n"
        "    return Task(dataset=[Sample(input='q', target=ANSWER)])\n")
    result = eval_on_cluster(task_file, cluster, tmp_path)
    assert result.returncode == 2, result.stderr
    assert "cannot be loaded on a Ray worker" in result.stderr
    assert "only_here" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_quota_abort_on_a_worker_exits_3_with_the_resume_command(cluster: Cluster,
                                                                  tmp_path: Path) -> None:
    """A quota error raised in a worker stops the whole eval as locally: exit 3, resumable."""
    task_file = tmp_path / "quota.py"
    task_file.write_text(
        "from evalkit import Task, task\n"
        "from evalkit.dataset import Sample\n"
        "from evalkit.errors import QuotaExhaustedError\n"
        "from evalkit.solver import solver\n\n"
        "@solver\ndef spend():\n"
        "    async def solve(state, generate):\n"
        "        if state.sample_id == 3:\n"
        "            raise QuotaExhaustedError('credit exhausted', status_code=402)\n"
        "        return await generate(state)\n"
        "    return solve\n\n"
        "@task\ndef quota():\n"
        "    return Task(dataset=[Sample(id=i, input='q', target='x') for i in range(6)],\n"
        "                solver=spend())\n")
    result = eval_on_cluster(task_file, cluster, tmp_path, "--max-samples", "1")
    assert result.returncode == 3, result.stderr
    assert "eval-retry" in result.stderr
    (log,) = (tmp_path / "logs").glob("*.jsonl.zst")
    header = read_eval_log_header(log)
    assert header.status == "error"
    assert header.error is not None and header.error.kind == "quota_exhausted"
    assert not any(r["id"] == 3 and not r.get("cancelled") for r in records(log))


def test_eval_set_runs_its_members_on_the_cluster(cluster: Cluster, tmp_path: Path) -> None:
    """eval-set --executor ray runs every sample in the workers and completes the set."""
    cluster.reset()
    result = run_cli("eval-set", str(TASK_FILE), "--model", "mockllm/model", "-T", "n=5",
                     "--log-dir", str(tmp_path), "--executor", "ray", "--ray-address",
                     cluster.address, "--display", "none", timeout=DEADLINE)
    assert result.returncode == 0, result.stderr
    assert sorted(cluster.starts()) == sorted(f"{i}:1" for i in range(5))


def test_the_progress_line_counts_samples_errors_retries_and_tokens_from_workers(
        cluster: Cluster, tmp_path: Path) -> None:
    """The live progress line of a Ray run counts what happened in the workers as a local
    run counts it: samples done, errors, the model's retries and why, tokens."""
    task_file = tmp_path / "flaky.py"
    task_file.write_text(
        "from evalkit import Task, task\n"
        "from evalkit.dataset import Sample\n"
        "from evalkit.solver import generate, solver\n\n"
        "@solver\ndef fail_sample_2():\n"
        "    model_call = generate()\n"
        "    async def solve(state, generate):\n"
        "        if state.sample_id == 2:\n"
        "            raise RuntimeError('sample 2 fails')\n"
        "        return await model_call(state, generate)\n"
        "    return solve\n\n"
        "@task\ndef flaky():\n"
        "    return Task(dataset=[Sample(id=i, input=f'q {i}', target='x') for i in range(5)],\n"
        "                solver=fail_sample_2())\n")
    with ProviderServer() as server:
        server.inject(Fault.rate_limit(retry_after=0), times=3)
        result = run_cli("eval", str(task_file), "--model", "openai/m", "-M", "api_key=k",
                         "--model-base-url", server.openai_base_url, "--executor", "ray",
                         "--ray-address", cluster.address, "--no-fail-on-error",
                         "--max-samples", "1", "--log-dir", str(tmp_path / "logs"),
                         "--display", "plain", timeout=DEADLINE)
    assert result.returncode == 0, result.stderr
    progress = [line for line in result.stderr.splitlines() if line.startswith("[flaky]")]
    final = progress[-1]  # the display's last refresh, as the run ended
    assert final.startswith("[flaky] 5/5 errors 1 · retries 3 (last: HTTP 429")
    assert " tokens · " in final


@pytest.fixture(scope="module")
def two_nodes() -> dict[str, Any]:
    """What happened on a two-node cluster in a network namespace of its own (loopback
    its only interface): the driver killed -9 and retried, then the second node killed -9."""
    pytest.importorskip("ray", reason="Ray is not installed (pip install 'evalkit[ray]')")
    if not (shutil.which("unshare") and shutil.which("ip")):
        pytest.skip("unshare (util-linux) and ip (iproute2) are needed to give the two-node "
                    "cluster a network namespace of its own")
    probe = subprocess.run([*NAMESPACES, "ip", "link", "set", "lo", "up"],
                           capture_output=True, text=True, timeout=30, check=False)
    if probe.returncode != 0:
        pytest.skip(f"cannot make a network namespace here ({' '.join(NAMESPACES)}: "
                    f"{probe.stderr.strip()}); the two-node scenarios need one")
    script = REPO / "tests" / "ray_cluster.py"
    result = subprocess.run(
        [*NAMESPACES, "sh", "-c", 'ip link set lo up && exec "$0" "$1"', sys.executable,
         str(script)], capture_output=True, text=True, timeout=TWO_NODES_DEADLINE,
        check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return report


def test_a_dead_node_loses_only_its_in_flight_samples(two_nodes: dict[str, Any]) -> None:
    """kill -9 of a whole second node mid-run: its samples re-run on the head, each is
    written once, none is lost, at most the samples in flight start twice."""
    run = two_nodes["node_killed"]
    assert run["returncode"] == 0, run["stderr"]
    assert run["killed_in_flight"] >= 1  # the node was running samples when killed
    assert sorted(run["samples"]) == sorted(f"{i}:1" for i in range(20))  # once each
    assert run["errors"] == 0
    starts = run["starts"]
    assert sorted(starts) == sorted(f"{i}:1" for i in range(20))
    assert sum(starts.values()) <= 20 + 4  # at most the 4 in flight re-ran


def test_a_killed_driver_is_finished_by_retry_on_two_nodes(two_nodes: dict[str, Any]) -> None:
    """kill -9 of the driver on a two-node cluster, then eval-retry --executor ray: the
    retried log is complete and no sample finished before the kill ran again."""
    run = two_nodes["driver_killed"]
    assert run["retry_returncode"] == 0, run["retry_stderr"]
    finished = run["finished_before_kill"]
    assert len(finished) >= 6
    assert sorted(run["retry_log_samples"]) == sorted(f"{i}:1" for i in range(40))
    assert run["retry_log_errors"] == 0
    starts = run["starts"]
    assert sorted(starts) == sorted(f"{i}:1" for i in range(40))
    assert all(starts[key] == 1 for key in finished)  # no finished sample ran again
    assert sum(starts.values()) <= 40 + 4  # at most the samples in flight at the kill
