"""A full disk: one clear message, exit 1, only whole records kept, never an empty log to resume.

Runs on a real small tmpfs when this machine lets us mount one, and always on a
fake disk (tests/full_disk_cli.py: the log writer's writes fail with ENOSPC once
a byte budget is spent, after a short write, as the kernel does).
"""

from __future__ import annotations

import errno
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO, RETRY_FROM_MODULE, RETRY_FROM_SCRIPT

from evalkit.log import read_eval_log

TASK_FILE = REPO / "tests" / "retry_tasks" / "counting.py"
FAKE_CLI = REPO / "tests" / "full_disk_cli.py"
SAMPLES = 1000
pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX")


class FakeDisk:
    """A log directory whose writes fail once ``free`` bytes are spent."""

    def __init__(self, root: Path) -> None:
        self.dir = root / "logs"
        self.free: int | None = 20_000

    def command(self) -> list[str]:
        if self.free is None:
            return [sys.executable, "-m", "evalkit"]
        return [sys.executable, str(FAKE_CLI)]

    def retry_command(self) -> str:
        """How the command above prints a resume command (see tests/test_resume_command.py)."""
        return RETRY_FROM_MODULE if self.free is None else RETRY_FROM_SCRIPT

    def env(self) -> dict[str, str]:
        return {"FULL_DISK_FREE": str(self.free)} if self.free is not None else {}

    def fill(self) -> None:
        self.free = 0

    def make_room(self) -> None:
        self.free = None


class TmpfsDisk(FakeDisk):
    """A real 64 KiB tmpfs: the kernel says ENOSPC."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.dir.mkdir()
        self.free = None
        mount = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
                                str(self.dir)], capture_output=True, check=False)
        if mount.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here: {mount.stderr.decode().strip()}")

    def fill(self) -> None:
        with open(self.dir / "filler", "wb", buffering=0) as filler:
            while _fits(filler):
                pass

    def make_room(self) -> None:
        (self.dir / "filler").unlink()
        subprocess.run(["mount", "-o", "remount,size=16m", str(self.dir)], check=True)

    def unmount(self) -> None:
        subprocess.run(["umount", str(self.dir)], check=False)


def _fits(filler: Any) -> bool:
    """Write one more page of filler; False once the disk is full."""
    try:
        filler.write(b"\0" * 4096)
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        return False
    return True


@pytest.fixture(params=["fake", "tmpfs"])
def disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FakeDisk]:
    """A log directory on a disk that fills up after a few hundred samples."""
    if request.param == "fake":
        yield FakeDisk(tmp_path)
        return
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    real = TmpfsDisk(tmp_path)
    try:
        yield real
    finally:
        real.unmount()


def evalkit(disk: FakeDisk, side_file: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*disk.command(), *args, "--display", "none"], capture_output=True, text=True,
        timeout=120, check=False,
        env={**os.environ, **disk.env(), "RETRY_TEST_SIDE_FILE": str(side_file)},
    )


def logs_in(directory: Path) -> set[Path]:
    return set(directory.glob("*.jsonl.zst"))


def test_full_disk_stops_cleanly_and_the_retry_never_leaves_an_empty_log(
    disk: FakeDisk, tmp_path: Path
) -> None:
    """Disk full: one message naming the safe count and the last good log, exit 1; a retry
    into the still-full disk leaves no log behind; after freeing space, nothing runs twice."""
    retry = disk.retry_command()
    first = evalkit(disk, tmp_path / "first.txt", "eval", str(TASK_FILE), "--model",
                    "mockllm/model", "-T", f"n={SAMPLES}", "--log-dir", str(disk.dir))
    assert first.returncode == 1, first.stderr
    assert "Traceback" not in first.stderr and len(first.stderr.splitlines()) <= 3
    [log] = logs_in(disk.dir)
    saved = read_eval_log(log)  # whole records only: nothing torn at the end
    safe = len(saved.samples or [])
    assert 0 < safe < SAMPLES and all(s.error is None for s in saved.samples or [])
    assert (f"error: the disk is full (No space left on device) writing {log}: {safe} of "
            f"{SAMPLES} samples are complete and safe in it") in first.stderr
    assert f"resume with: {retry} {log}\n" in first.stderr

    disk.fill()
    retry = disk.retry_command()
    again = evalkit(disk, tmp_path / "again.txt", "eval-retry", str(log))
    assert again.returncode == 1, again.stderr
    assert "Traceback" not in again.stderr
    assert logs_in(disk.dir) == {log}  # no empty (or useless) log left to resume
    assert "it held nothing new and was removed" in again.stderr
    assert f"{safe} of {SAMPLES} samples are complete and safe in {log}" in again.stderr
    assert f"resume with: {retry} {log}\n" in again.stderr

    disk.make_room()
    done = evalkit(disk, tmp_path / "done.txt", "eval-retry", str(log))
    assert done.returncode == 0, done.stderr
    [final] = logs_in(disk.dir) - {log}
    ran = Counter((tmp_path / "done.txt").read_text().split())
    assert sum(ran.values()) == SAMPLES - safe and max(ran.values()) == 1
    assert not set(ran) & {f"{s.id}:{s.epoch}" for s in saved.samples or []}
    keys = Counter(f"{s.id}:{s.epoch}" for s in read_eval_log(final).samples or [])
    assert len(keys) == SAMPLES and max(keys.values()) == 1


def test_full_disk_before_the_first_sample_leaves_no_log(disk: FakeDisk, tmp_path: Path) -> None:
    """A first eval whose header does not fit: no 0-byte log, no resume command, exit 1."""
    disk.dir.mkdir(exist_ok=True)
    disk.fill()
    result = evalkit(disk, tmp_path / "side.txt", "eval", str(TASK_FILE), "--model",
                     "mockllm/model", "-T", "n=5", "--log-dir", str(disk.dir))
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr and "resume with" not in result.stderr
    assert "no sample was saved and the empty log was removed" in result.stderr
    assert logs_in(disk.dir) == set()
