"""Real Ray clusters for the ``--executor ray`` tests, and the two-node scenarios.

Imported by ``test_ray_executor.py``, whose head node talks over loopback only:
Ray swaps 127.0.0.1 for the machine's own network address unless it believes
clusters are off, and with clusters off a second node is refused. So the
scenarios that need a second node run this file as a script, launched by the test
through ``unshare -rn`` into a network namespace of its own, where loopback is
the only interface (clusters on, and nothing can leave the machine):

    unshare -rn --pid --fork --mount-proc --kill-child \
        sh -c 'ip link set lo up && exec python tests/ray_cluster.py'

It starts a head and a second node with ``ray start --address``, kills -9 the
driver mid-run and finishes its log with ``eval-retry --executor ray``, then kills
-9 the second node mid-run, and prints what happened as one JSON line for the
test to judge. Every node runs in a process group of its own, ended by its id.

``tests/retry_tasks/counting.py`` counts sample executions in a side file named
by the nodes' environment, so re-runs are counted from outside the log.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evalkit.log import iter_sample_lines

TASK_FILE = Path(__file__).resolve().parent / "retry_tasks" / "counting.py"
RAY_CLI = Path(sys.executable).parent / "ray"
STARTUP = 90.0
DEADLINE = 60.0
CLUSTERS_ON = "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"
"""Read by Ray when imported: "0" keeps every address on loopback and refuses a
second node; "1" (in a namespace with loopback only) allows one."""


@dataclass
class Cluster:
    address: str
    side_file: Path
    hold_file: Path
    session: int
    env: dict[str, str]
    root: Path

    def starts(self) -> Counter[str]:
        """Sample executions so far, by ``id:epoch``."""
        text = self.side_file.read_text() if self.side_file.exists() else ""
        return Counter(text.split())

    def reset(self) -> None:
        self.side_file.write_text("")
        self.hold_file.touch()

    def sample_workers(self, session: int | None = None) -> list[int]:
        """Worker processes of the head node (or the node started in ``session``)
        running a sample right now."""
        session = session or self.session
        pids = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                if os.getsid(int(entry.name)) != session:
                    continue
                title = (entry / "cmdline").read_bytes()
            except (OSError, ProcessLookupError):
                continue  # gone meanwhile
            if title.startswith(b"ray::run_sample"):
                pids.append(int(entry.name))
        return pids

    def add_node(self) -> subprocess.Popen[bytes]:
        """A second node (2 CPUs) joining this cluster, in a process group of its own."""
        return _ray_start(self.root, self.env, f"--address={self.address}")


@contextmanager
def head_node(root: Path, clusters: str) -> Iterator[Cluster]:
    """A Ray head with 2 CPUs in ``root``, on 127.0.0.1; ended with its process group."""
    side_file, hold_file = root / "starts", root / "hold"
    port = _free_port()
    env = {**os.environ, "RETRY_TEST_SIDE_FILE": str(side_file),
           "RETRY_TEST_HOLD_FILE": str(hold_file), "RAY_USAGE_STATS_ENABLED": "0",
           # Ray 2.5x turns token auth on when ~/.ray/auth_token exists (any local
           # ray.init() writes one): off, so the cluster and its drivers agree.
           "RAY_AUTH_MODE": "disabled", CLUSTERS_ON: clusters,
           # a dead node is declared dead in ~2 s, not Ray's default 15 s
           "RAY_health_check_period_ms": "500", "RAY_health_check_timeout_ms": "500",
           "RAY_health_check_failure_threshold": "3"}
    env.pop("RAY_ADDRESS", None)
    head = _ray_start(root, env, "--head", f"--port={port}", "--include-dashboard=false")
    address = f"127.0.0.1:{port}"
    try:
        _wait_until_up(address, head)
        cluster = Cluster(address, side_file, hold_file, head.pid, env, root)
        cluster.reset()
        yield cluster
    finally:
        end_group(head)


def _ray_start(root: Path, env: dict[str, str], *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(RAY_CLI), "start", "--block", "--num-cpus=2", "--node-ip-address=127.0.0.1",
         f"--temp-dir={root / 'ray'}", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=root,
        start_new_session=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _wait_until_up(address: str, head: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + STARTUP
    while time.monotonic() < deadline:
        assert head.poll() is None, "ray start --head exited"
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", int(address.rsplit(":", 1)[1]))) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"the Ray head at {address} did not come up in {STARTUP} s")


def end_group(node: subprocess.Popen[bytes]) -> None:
    """End a node: its whole process group (raylet, workers), by the group's id."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(node.pid, sig)
        except ProcessLookupError:
            return
        try:
            node.wait(timeout=3)
        except subprocess.TimeoutExpired:
            continue
        time.sleep(0.5)  # the group's other processes end after their parent


def ray_eval(cluster: Cluster, log_dir: Path, *args: str) -> subprocess.Popen[str]:
    """``evalkit eval`` of the counting task on ``cluster``, in a subprocess."""
    return subprocess.Popen(
        [sys.executable, "-m", "evalkit", "eval", str(TASK_FILE), "--model", "mockllm/model",
         "--log-dir", str(log_dir), "--display", "none", "--executor", "ray",
         "--ray-address", cluster.address, *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cluster.env)


def records(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in iter_sample_lines(log)]


def wait_for_starts(cluster: Cluster, at_least: int) -> None:
    deadline = time.monotonic() + DEADLINE
    while sum(cluster.starts().values()) < at_least:
        assert time.monotonic() < deadline, "samples did not start on the cluster"
        time.sleep(0.05)


def wait_for_records(log_dir: Path, at_least: int, run: subprocess.Popen[str]) -> Path:
    """The run's log once it holds ``at_least`` samples."""
    deadline = time.monotonic() + DEADLINE
    while True:
        assert time.monotonic() < deadline and run.poll() is None, "no samples written"
        found = list(log_dir.glob("*.jsonl.zst"))
        if found and len(records(found[0])) >= at_least:
            return found[0]
        time.sleep(0.05)


def _wait_for_nodes(cluster: Cluster, count: int) -> None:
    """Until ``count`` nodes are alive (asked through the ``ray`` CLI's Python API)."""
    import ray

    ray.init(address=cluster.address, logging_level="WARNING", log_to_driver=False)
    try:
        deadline = time.monotonic() + STARTUP
        while sum(1 for node in ray.nodes() if node["Alive"]) < count:
            assert time.monotonic() < deadline, f"{count} Ray nodes did not come up"
            time.sleep(0.2)
    finally:
        ray.shutdown()


def _driver_killed(cluster: Cluster, log_dir: Path) -> dict[str, Any]:
    """kill -9 the driver mid-run, then ``eval-retry --executor ray`` on the cluster."""
    cluster.reset()
    run = ray_eval(cluster, log_dir, "-T", "n=40", "-M", "delay=0.25", "--max-samples", "4")
    log = wait_for_records(log_dir, 6, run)
    run.kill()
    run.communicate(timeout=DEADLINE)
    finished = sorted({f"{r['id']}:{r['epoch']}" for r in records(log)})
    retry = subprocess.run(
        [sys.executable, "-m", "evalkit", "eval-retry", str(log), "--executor", "ray",
         "--ray-address", cluster.address, "--display", "none"],
        capture_output=True, text=True, env=cluster.env, timeout=DEADLINE, check=False)
    logs = [path for path in log_dir.glob("*.jsonl.zst") if path != log]
    retried = records(logs[0]) if len(logs) == 1 else []
    return {"finished_before_kill": finished, "retry_returncode": retry.returncode,
            "retry_stderr": retry.stderr[-2000:],
            "retry_log_samples": [f"{r['id']}:{r['epoch']}" for r in retried],
            "retry_log_errors": sum(1 for r in retried if r.get("error") or r.get("cancelled")),
            "starts": dict(cluster.starts())}


def _node_killed(cluster: Cluster, node: subprocess.Popen[bytes],
                 log_dir: Path) -> dict[str, Any]:
    """kill -9 the second node (raylet, workers and all) while it runs samples."""
    cluster.reset()
    cluster.hold_file.unlink()  # samples wait in their workers until the kill
    try:
        run = ray_eval(cluster, log_dir, "-T", "n=20", "--max-samples", "4")
        deadline = time.monotonic() + DEADLINE
        while not (on_node := cluster.sample_workers(node.pid)):
            assert time.monotonic() < deadline and run.poll() is None, "node 2 ran nothing"
            time.sleep(0.05)
        os.killpg(node.pid, signal.SIGKILL)
        node.wait(timeout=15)
    finally:
        cluster.hold_file.touch()
    _, stderr = run.communicate(timeout=DEADLINE)
    (log,) = log_dir.glob("*.jsonl.zst")
    written = records(log)
    return {"returncode": run.returncode, "stderr": stderr[-2000:],
            "killed_in_flight": len(on_node),
            "samples": [f"{r['id']}:{r['epoch']}" for r in written],
            "errors": sum(1 for r in written if r.get("error") or r.get("cancelled")),
            "starts": dict(cluster.starts())}


def main() -> None:
    """Both scenarios on one two-node cluster; prints a JSON line of what happened."""
    os.environ[CLUSTERS_ON] = "1"  # before ray is imported (_wait_for_nodes)
    os.environ["RAY_AUTH_MODE"] = "disabled"
    with tempfile.TemporaryDirectory(prefix="rt", dir="/tmp") as temp:  # short: socket paths
        root = Path(temp)
        with head_node(root, clusters="1") as cluster:
            node = cluster.add_node()
            try:
                _wait_for_nodes(cluster, 2)
                report = {"driver_killed": _driver_killed(cluster, root / "driver"),
                          "node_killed": _node_killed(cluster, node, root / "node")}
            finally:
                end_group(node)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
