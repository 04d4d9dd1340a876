"""SIGINT and SIGTERM honoured from the first instant: real signals to real `evalkit` processes.

The task in tests/retry_tasks/slow_planning.py touches a marker file when its
construction (part of planning) starts, then keeps building a large dataset for a
minute: a signal sent once the marker exists lands in the middle of planning.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, RETRY_FROM_MODULE, RETRY_FROM_SCRIPT, run_cli

from evalkit.log import read_eval_log_header

TASK_FILE = REPO / "tests" / "retry_tasks" / "slow_planning.py"
DEADLINE = 30.0
SIGNALS = [signal.SIGINT, signal.SIGTERM]
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


def start(args: list[str], marker: Path, block_call: int = 1,
          env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "evalkit", *args, "--display", "none"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PLANNING_MARKER": str(marker), "PLANNING_SECONDS": "60",
             "PLANNING_BLOCK_CALL": str(block_call), "PLANNING_FAIL_IDS": "3", **(env or {})},
    )


def signal_when_planning(process: subprocess.Popen[str], marker: Path,
                         signum: int) -> tuple[int, str]:
    """Send ``signum`` once the child is planning; its exit code and stderr."""
    deadline = time.monotonic() + DEADLINE
    while not marker.exists():
        assert process.poll() is None, process.communicate()
        assert time.monotonic() < deadline, "the child never started planning"
        time.sleep(0.01)
    process.send_signal(signum)
    return wait_for_exit(process)


def wait_for_exit(process: subprocess.Popen[str]) -> tuple[int, str]:
    """The exit code and stderr of a child that should end well before its planning does."""
    try:
        _, stderr = process.communicate(timeout=DEADLINE)
    except subprocess.TimeoutExpired:
        process.kill()
        process.communicate()
        raise AssertionError("the signal was ignored: planning went on") from None
    return process.returncode, stderr


def first_run(log_dir: Path) -> Path:
    """A finished eval whose sample 3 failed: a log to retry."""
    done = run_cli("eval", str(TASK_FILE), "--model", "mockllm/model", "--log-dir",
                   str(log_dir), "--display", "none", env={"PLANNING_FAIL_IDS": "3"})
    assert done.returncode == 1, done.stderr
    [log] = log_dir.glob("*.jsonl.zst")
    return log


@pytest.mark.parametrize("signum", SIGNALS, ids=["SIGINT", "SIGTERM"])
def test_signal_while_planning_an_eval_cancels_before_anything_ran(
    tmp_path: Path, signum: int
) -> None:
    """A signal while an eval is still planning: exit 130 at once, one line, no log."""
    log_dir, marker = tmp_path / "logs", tmp_path / "planning"
    process = start(["eval", str(TASK_FILE), "--model", "mockllm/model", "--log-dir",
                     str(log_dir)], marker)

    code, stderr = signal_when_planning(process, marker, signum)

    assert code == 130, stderr
    assert stderr == "evalkit: cancelled before anything ran\n"
    assert not list(log_dir.glob("*.jsonl.zst"))


def test_signal_while_retrying_a_success_with_errors_prints_the_resume_command(
        tmp_path: Path) -> None:
    """A log that succeeded with errored samples (--no-fail-on-error) still has work for
    eval-retry: a signal while retrying it names it, not 'nothing to resume'."""
    log_dir, marker = tmp_path / "logs", tmp_path / "planning"
    done = run_cli("eval", str(TASK_FILE), "--model", "mockllm/model", "--log-dir",
                   str(log_dir), "--display", "none", "--no-fail-on-error",
                   env={"PLANNING_FAIL_IDS": "3"})
    assert done.returncode == 0, done.stderr
    [log] = log_dir.glob("*.jsonl.zst")
    process = start(["eval-retry", str(log), "--until-complete"], marker)

    code, stderr = signal_when_planning(process, marker, signal.SIGINT)

    assert code == 130, stderr
    assert stderr == f"evalkit: cancelled\nresume with: {RETRY_FROM_MODULE} {log}\n"


@pytest.mark.parametrize("signum", SIGNALS, ids=["SIGINT", "SIGTERM"])
def test_signal_while_planning_a_retry_prints_the_resume_command(
    tmp_path: Path, signum: int
) -> None:
    """A signal while a retry is planning: exit 130 naming the log to resume; nothing written."""
    log = first_run(tmp_path / "logs")
    marker = tmp_path / "planning"
    process = start(["eval-retry", str(log)], marker)

    code, stderr = signal_when_planning(process, marker, signum)

    assert code == 130, stderr
    assert stderr == f"evalkit: cancelled\nresume with: {RETRY_FROM_MODULE} {log}\n"
    assert list(log.parent.glob("*.jsonl.zst")) == [log]
    assert not list(log.parent.glob(".evalkit-*.lock"))  # the lineage is free again


def test_signal_while_planning_a_later_round_names_the_newest_log(tmp_path: Path) -> None:
    """Ctrl-C while `--until-complete` plans its second round: resume from the log the
    first round wrote, not "nothing was written"."""
    log = first_run(tmp_path / "logs")
    marker = tmp_path / "planning"
    process = start(["eval-retry", str(log), "--until-complete", "--backoff", "0",
                     "--max-attempts", "5"], marker, block_call=2)

    code, stderr = signal_when_planning(process, marker, signal.SIGINT)

    assert code == 130, stderr
    [newest] = set(log.parent.glob("*.jsonl.zst")) - {log}
    assert stderr.endswith(f"evalkit: cancelled\nresume with: {RETRY_FROM_MODULE} {newest}\n")


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_handled_inside_a_finalizer_still_cancels(tmp_path: Path, signame: str) -> None:
    """A signal whose handler runs inside a finalizer or weakref callback (garbage
    collection runs them at any instant; Python drops what they raise) still cancels."""
    log_dir, marker = tmp_path / "logs", tmp_path / "planning"
    process = start(["eval", str(TASK_FILE), "--model", "mockllm/model", "--log-dir",
                     str(log_dir)], marker, env={"PLANNING_SIGNAL_IN_FINALIZER": signame})

    code, stderr = wait_for_exit(process)

    assert code == 130, stderr
    assert stderr == "evalkit: cancelled before anything ran\n"
    assert not list(log_dir.glob("*.jsonl.zst"))


@pytest.mark.parametrize("signum", SIGNALS, ids=["SIGINT", "SIGTERM"])
def test_a_signal_turned_into_another_error_still_exits_130(tmp_path: Path, signum: int) -> None:
    """A signal whose interrupt comes out as another exception (it landed in a C
    extension's import, which PyO3 reports as a PanicException): exit 130, no traceback."""
    log_dir, marker = tmp_path / "logs", tmp_path / "planning"
    process = start(["eval", str(TASK_FILE), "--model", "mockllm/model", "--log-dir",
                     str(log_dir)], marker, env={"PLANNING_WRAP_INTERRUPT": "1"})

    code, stderr = signal_when_planning(process, marker, signum)

    assert code == 130, stderr
    assert stderr == "evalkit: cancelled before anything ran\n"


SIGNAL_AS_A_ROUND_ENDS = """
import signal, sys
import evalkit._cli as cli
from evalkit.log._writer import LogWriter

write_footer = LogWriter.write_footer

def write_footer_then_signal(self, footer):
    write_footer(self, footer)
    signal.raise_signal(signal.SIGINT)  # the run is over, its stop handler still on

LogWriter.write_footer = write_footer_then_signal
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_signal_as_a_round_ends_starts_no_further_round(tmp_path: Path) -> None:
    """Ctrl-C just as an `--until-complete` round finishes (too late to stop that run)
    still stops the retries: exit 130 naming that round's log, no further round."""
    log = first_run(tmp_path / "logs")
    done = subprocess.run(
        [sys.executable, "-c", SIGNAL_AS_A_ROUND_ENDS, "eval-retry", str(log),
         "--until-complete", "--backoff", "0", "--max-attempts", "5", "--display", "none"],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "PLANNING_FAIL_IDS": "3"})

    assert done.returncode == 130, done.stderr
    [newest] = set(log.parent.glob("*.jsonl.zst")) - {log}
    # `python -c`: not started as `python -m evalkit`
    assert done.stderr.endswith(f"evalkit: cancelled\nresume with: {RETRY_FROM_SCRIPT} {newest}\n")


def test_a_signal_as_an_eval_set_round_ends_starts_no_further_round(tmp_path: Path) -> None:
    """The same for an eval set's rounds: exit 130, and no retry round ran after the signal."""
    log_dir = tmp_path / "logs"
    done = subprocess.run(
        [sys.executable, "-c", SIGNAL_AS_A_ROUND_ENDS, "eval-set", str(TASK_FILE), "--model",
         "mockllm/model", "--log-dir", str(log_dir), "--retry-attempts", "3",
         "--display", "none"],
        capture_output=True, text=True, timeout=60,
        env={**os.environ, "PLANNING_FAIL_IDS": "3"})

    assert done.returncode == 130, done.stderr
    [log] = log_dir.glob("*.jsonl.zst")  # the first round's only
    assert done.stderr.endswith(f"evalkit: cancelled\nresume with: {RETRY_FROM_SCRIPT} {log}\n")


LATE_SIGNAL = """
import os, signal, sys
import evalkit._cli as cli

command = cli.main

def main():
    code = command(["log", "ls", sys.argv[1]])
    os.kill(os.getpid(), getattr(signal, sys.argv[2]))  # after the command's own handlers
    return code

cli.main = main
cli.run()
"""


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_after_the_command_ended_still_exits_130(tmp_path: Path, signame: str) -> None:
    """A second Ctrl-C/SIGTERM landing while the command exits (its handlers gone)
    exits 130 as documented, not killed by the signal (143) or with a traceback."""
    done = subprocess.run([sys.executable, "-c", LATE_SIGNAL, str(tmp_path), signame],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 130, (done.returncode, done.stderr)
    assert "Traceback" not in done.stderr


SIGNAL_IN_TEARDOWN = """
import os, signal, sys
import evalkit._cli as cli

class SignalsWhenTornDown:
    def __init__(self, signum, kill, pid):
        self.send = lambda: kill(pid, signum)  # held: sys and os are gone by then

    def __del__(self):
        self.send()  # Python's handlers are gone by now

keep = SignalsWhenTornDown(getattr(signal, sys.argv[2]), os.kill, os.getpid())  # a global of __main__: cleared as Python tears down
sys.argv[1:] = ["log", "ls", sys.argv[1]]
cli.run()
"""


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_while_python_tears_down_does_not_kill_the_finished_command(
        tmp_path: Path, signame: str) -> None:
    """A Ctrl-C/SIGTERM landing after the exit functions, as Python takes its modules
    apart (signals back at their default action): the command's own exit code."""
    done = subprocess.run([sys.executable, "-c", SIGNAL_IN_TEARDOWN, str(tmp_path), signame],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, (done.returncode, done.stderr)


SIGNAL_INSIDE_THE_HOOK = """
import signal, sys
import evalkit._cli as cli
from evalkit._util import _signals

request = _signals._Redelivery.request
sent = []

def request_then_a_second_signal(self, signum):
    if not sent:  # a second Ctrl-C lands while the hook handles the first one's drop
        sent.append(signum)
        signal.raise_signal(signum)
    request(self, signum)

_signals._Redelivery.request = request_then_a_second_signal
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_signal_landing_inside_the_unraisable_hook_still_cancels(tmp_path: Path) -> None:
    """A second signal whose handler runs in a function the unraisable hook calls (not in
    the hook's own frame): what it raises would be dropped with the hook's; it cancels."""
    log_dir, marker = tmp_path / "logs", tmp_path / "planning"
    process = subprocess.Popen(
        [sys.executable, "-c", SIGNAL_INSIDE_THE_HOOK, "eval", str(TASK_FILE), "--model",
         "mockllm/model", "--log-dir", str(log_dir), "--display", "none"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PLANNING_MARKER": str(marker), "PLANNING_SECONDS": "60",
             "PLANNING_SIGNAL_IN_FINALIZER": "SIGINT"})

    code, stderr = wait_for_exit(process)

    assert code == 130, stderr
    assert stderr == "evalkit: cancelled before anything ran\n"


RUNS_SIDE_BY_SIDE = """
import asyncio, os, signal, sys
from pathlib import Path
from evalkit import eval_async

TASK = sys.argv[3]

async def short_then_signal():
    logs = await eval_async(TASK, model="mockllm/model", log_dir=sys.argv[1], display="none",
                            task_args={"n": 2})
    while len(list(Path(sys.argv[1]).glob("*.jsonl.zst"))) < 2:
        await asyncio.sleep(0.01)  # until the long eval runs (its log is open)
    os.kill(os.getpid(), getattr(signal, sys.argv[2]))
    return logs

async def main():
    await asyncio.gather(short_then_signal(), eval_async(
        TASK, model="mockllm/model", log_dir=sys.argv[1], display="none",
        task_args={"n": 200_000}))

asyncio.run(main())
"""


@pytest.mark.parametrize("signame", ["SIGINT", "SIGTERM"])
def test_a_signal_after_one_of_two_concurrent_evals_ended_stops_the_other(
        tmp_path: Path, signame: str) -> None:
    """Two eval_async() awaited side by side: once the first has ended, a signal still
    stops the second gracefully (its footer written), not the process killed mid-run."""
    subprocess.run([sys.executable, "-c", RUNS_SIDE_BY_SIDE, str(tmp_path), signame,
                    str(REPO / "examples" / "arithmetic.py")],
                   capture_output=True, text=True, timeout=120)
    statuses = sorted(read_eval_log_header(log).status for log in tmp_path.glob("*.jsonl.zst"))
    assert statuses == ["cancelled", "success"]


SIGNAL_BEFORE_THE_RETRY_READ_ITS_LOG = """
import os, signal, sys, time
import evalkit._cli as cli
from evalkit._cli import _eval_cmd

def interrupted_while_importing(args):
    os.kill(os.getpid(), signal.SIGINT)
    time.sleep(30)

_eval_cmd.eval_retry_command = interrupted_while_importing
sys.exit(cli.main(sys.argv[1:]))
"""


def test_a_signal_before_the_retry_read_its_log_names_that_log(tmp_path: Path) -> None:
    """Ctrl-C in eval-retry's first instant (still importing, no log read yet) names the
    log it was given to resume, not "cancelled before anything ran"."""
    log = first_run(tmp_path / "logs")
    process = subprocess.Popen(
        [sys.executable, "-c", SIGNAL_BEFORE_THE_RETRY_READ_ITS_LOG, "eval-retry", str(log)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

    code, stderr = wait_for_exit(process)

    assert code == 130, stderr
    assert stderr.startswith("evalkit: cancelled\nresume with: "), stderr
    assert stderr.endswith(f" eval-retry {log}\n"), stderr
