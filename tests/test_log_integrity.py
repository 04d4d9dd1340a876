"""Never lose, never double: killed logs read whole, corrupt frames cost only their
own samples, and bytes appended after the footer are ignored."""

from __future__ import annotations

import json
import os
import random
import re
import threading
import tracemalloc
import warnings
from pathlib import Path

import pytest
import zstandard
from conftest import REPO, run_cli

from evalkit import eval, eval_retry
from evalkit.errors import LogDamageWarning, LogError
from evalkit.log import (
    EvalFooter,
    EvalLog,
    EvalResults,
    EvalSample,
    EvalSpec,
    LogWriter,
    _durable,
    _writer,
    iter_sample_lines,
    read_eval_log,
    read_eval_log_header,
    read_eval_log_samples,
)
from evalkit.log._index import encode_index

COUNTING = REPO / "tests" / "retry_tasks" / "counting.py"


def _spec() -> EvalSpec:
    return EvalSpec(task="t", task_id="tid", run_id="rid", created="now", model="mockllm/model")


def _varied_sample(rng: random.Random, sample_id: int) -> EvalSample:
    """A sample whose line is short or long, compressible or not."""
    size = rng.choice([10, 100, 1000, 5000, 20000])
    text = rng.randbytes(size // 2).hex() if rng.random() < 0.5 else "ab" * (size // 2)
    return EvalSample(id=sample_id, input=text, target="t")


def test_unterminated_logs_read_every_sample_written(tmp_path: Path) -> None:
    """A log killed before its footer reads back exactly the N samples written,
    for every N from 1 to 400 (any frame may end at a read-buffer boundary)."""
    rng = random.Random(12)
    path = tmp_path / "unterminated.jsonl.zst"
    ends = []  # the file's size after each sample: what a kill -9 right then leaves
    with LogWriter(path) as writer:
        writer.write_header(_spec())
        for sample_id in range(1, 401):
            writer.write_sample(_varied_sample(rng, sample_id))
            ends.append(path.stat().st_size)
    data = path.read_bytes()
    short = []
    for n, end in enumerate(ends, start=1):
        cut = tmp_path / f"killed-{n}.jsonl.zst"
        cut.write_bytes(data[:end])
        ids = [sample.id for sample in read_eval_log_samples(cut)]
        if ids != list(range(1, n + 1)):
            short.append((n, len(ids)))
        cut.unlink()
    assert short == []


def _finished_log(directory: Path, samples: int, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A finished log of ``samples`` samples in sample frames of about four each."""
    monkeypatch.setattr(_writer, "ROLL_BYTES", 1500)
    path = directory / "finished.jsonl.zst"
    rng = random.Random(5)
    with LogWriter(path) as writer:
        writer.write_header(_spec())
        for sample_id in range(1, samples + 1):
            text = "".join(rng.choice("abcdef ") for _ in range(rng.randint(50, 400)))
            writer.write_sample(EvalSample(id=sample_id, input=text, target="t"))
        writer.write_footer(EvalFooter(status="success",
                                       results=EvalResults(total_samples=samples)))
    return path


def _read_all(path: Path) -> tuple[EvalLog | None, list[EvalSample], list[str]]:
    """Header and samples of one read, and its damage warnings; header and samples
    are None and [] when the damage is in the header (a one-line LogError)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            log = read_eval_log_header(path)
        except LogError as exc:
            refused = str(exc)
        else:
            refused = ""
        if refused:
            assert "header" in refused or "not an evalkit log" in refused, refused
            return None, [], []
        samples = list(read_eval_log_samples(path))
    reports = [str(w.message) for w in caught if issubclass(w.category, LogDamageWarning)]
    assert len(reports) == len(caught), [str(w.message) for w in caught]
    return log, samples, reports


@pytest.mark.parametrize("finished", [True, False])
def test_a_flipped_byte_never_alters_a_sample_and_lost_ones_are_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, finished: bool
) -> None:
    """A byte flipped anywhere in a finished log, or in a finished frame of a killed
    one: every sample read is as written, the missing ones are reported (by frame,
    with their count), and no read raises but a damaged header's (one line)."""
    path = _finished_log(tmp_path, 30, monkeypatch)
    original = {s.id: s for s in read_eval_log_samples(path)}
    data = path.read_bytes()
    offsets = _frame_offsets(data)
    if not finished:  # killed in its last sample frame, which has no checksum yet
        data = data[:offsets[-3] + 40]
        path.write_bytes(data)
    readable = sum(1 for _ in read_eval_log_samples(path))
    damaged = tmp_path / "damaged.jsonl.zst"
    for position in range(0, len(data) if finished else offsets[-3], 5):
        for mask in (0x01 << position % 8,):  # each bit of a byte, in turn
            flipped = bytearray(data)
            flipped[position] ^= mask
            damaged.write_bytes(bytes(flipped))
            log, samples, reports = _read_all(damaged)
            where = f"byte {position} ^ {mask:#x}"
            if log is None:  # the header is damaged: the log cannot be rebuilt
                assert position < offsets[1], where
                continue
            assert all(original[s.id] == s for s in samples), where
            assert len({s.id for s in samples}) == len(samples), where
            lost = readable - len(samples)
            if lost:
                assert reports, where
                counts = [int(m) for r in reports for m in re.findall(r"its (\d+) sample", r)]
                assert not counts or sum(counts) == lost, (where, reports)
            if finished and log.status != "success":
                assert log.status == "started" and reports, where


def _frame_offsets(data: bytes) -> list[int]:
    """Where each zstd frame of a finished log starts (then the index frame)."""
    offsets, position = [], 0
    while data[position:position + 4] == b"\x28\xb5\x2f\xfd":
        offsets.append(position)
        decoder = zstandard.ZstdDecompressor().decompressobj()
        decoder.decompress(data[position:])
        position = len(data) - len(decoder.unused_data)
    return [*offsets, position]


def test_old_logs_without_checksums_still_read(tmp_path: Path) -> None:
    """A log laid out as before checksums (frames without them) reads whole."""
    compressor = zstandard.ZstdCompressor(level=3)  # no write_checksum, as before
    header = _spec().model_dump_json(exclude_none=True).encode() + b"\n"
    lines = [EvalSample(id=i, input=f"q{i}").model_dump_json(exclude_none=True).encode()
             + b"\n" for i in range(1, 6)]
    frame = compressor.compressobj()
    body = b"".join(frame.compress(line) + frame.flush(zstandard.COMPRESSOBJ_FLUSH_BLOCK)
                    for line in lines) + frame.flush(zstandard.COMPRESSOBJ_FLUSH_FINISH)
    footer = EvalFooter(status="success").model_dump_json(exclude_none=True).encode() + b"\n"
    head = compressor.compress(header)
    footer_at = len(head) + len(body)
    index = encode_index({"footer": footer_at, "samples": 5,
                          "frames": [{"offset": len(head), "bytes": 0, "samples": 5}]})
    path = tmp_path / "old.jsonl.zst"
    path.write_bytes(head + body + compressor.compress(footer) + index)
    log, samples, reports = _read_all(path)
    assert log is not None and log.status == "success"
    assert [s.id for s in samples] == [1, 2, 3, 4, 5] and reports == []


@pytest.mark.parametrize("garbage", [b"\n", b"appended by hand\n", bytes(range(256)) * 40])
def test_bytes_appended_after_the_footer_are_ignored_and_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, garbage: bytes
) -> None:
    """A stray `echo >> log` leaves the log finished and whole; the extra bytes are
    reported, and `log dump` still prints every record."""
    path = _finished_log(tmp_path, 12, monkeypatch)
    with path.open("ab") as handle:
        handle.write(garbage)
    log, samples, reports = _read_all(path)
    assert log is not None and log.status == "success"
    assert [s.id for s in samples] == list(range(1, 13))
    assert reports and all(f"{len(garbage)} bytes after the end" in r for r in reports)
    dumped = run_cli("log", "dump", str(path))
    assert dumped.returncode == 0, dumped.stderr
    assert len(dumped.stdout.splitlines()) == 14 and "Traceback" not in dumped.stderr
    assert dumped.stderr.startswith("evalkit: warning: ") and len(dumped.stderr.splitlines()) == 1


def test_retry_of_a_damaged_log_reruns_exactly_the_lost_samples(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A byte flipped inside one sample frame: eval-retry runs exactly that frame's
    samples again (counted by solver starts) and the new log has every sample once."""
    monkeypatch.setattr(_writer, "ROLL_BYTES", 4000)
    side_file = tmp_path / "executions.txt"
    monkeypatch.setenv("RETRY_TEST_SIDE_FILE", str(side_file))
    [log] = eval(f"{COUNTING}@counting", model="mockllm/model", task_args={"n": 40},
                 log_dir=str(tmp_path / "logs"), display="none")
    path = Path(str(log.location))
    data = bytearray(path.read_bytes())
    offsets = _frame_offsets(bytes(data))
    middle = offsets[len(offsets) // 2]  # a sample frame, neither first nor last
    data[middle + 40] ^= 0x10
    path.write_bytes(bytes(data))
    with pytest.warns(LogDamageWarning, match=r"its \d+ samples are lost"):
        intact = {f"{s.id}:{s.epoch}" for s in read_eval_log_samples(path)}
    assert 0 < len(intact) < 40
    side_file.unlink()

    with pytest.warns(LogDamageWarning):
        [retried] = eval_retry(path, display="none")

    ran = side_file.read_text().split()
    assert sorted(ran) == sorted({f"{i}:1" for i in range(40)} - intact)
    samples = read_eval_log(str(retried.location)).samples or []
    assert retried.status == "success"
    assert sorted(f"{s.id}:{s.epoch}" for s in samples) == sorted(f"{i}:1" for i in range(40))


def test_the_writer_fdatasyncs_on_a_timer_and_at_the_footer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A growing log is fdatasync'ed by the timer thread, and the footer before
    write_footer returns: what a power cut may lose is bounded."""
    synced: list[int] = []
    changed = threading.Condition()

    def fdatasync(fd: int) -> None:
        with changed:
            synced.append(os.fstat(fd).st_size)
            changed.notify_all()

    monkeypatch.setattr(_durable.os, "fdatasync", fdatasync)
    monkeypatch.setattr(_durable, "SYNC_INTERVAL", 0.01)
    path = tmp_path / "synced.jsonl.zst"
    with LogWriter(path) as writer:
        writer.write_header(_spec())
        writer.write_sample(EvalSample(id=1, input="q", target="t"))
        size = path.stat().st_size
        with changed:  # the timer may first sync the header alone (a loaded machine)
            assert changed.wait_for(lambda: size in synced, timeout=30), \
                "the timer never synced the growing log"
        assert max(synced) == size
        writer.write_footer(EvalFooter(status="success"))
        assert synced[-1] == path.stat().st_size  # synced before write_footer returned


@pytest.mark.parametrize("tail", [b"\0" * 4096, bytes(range(256)) * 8, b""])
def test_a_power_cut_loses_only_what_was_not_yet_synced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tail: bytes
) -> None:
    """After a power cut the file may end in zeros or stale bytes after its last
    synced write: every sample synced before still reads, the rest is reported."""
    next_write = 0
    monkeypatch.setattr(_writer, "ROLL_BYTES", 1 << 20)
    path = tmp_path / "cut.jsonl.zst"
    with LogWriter(path) as writer:
        writer.write_header(_spec())
        for sample_id in range(1, 31):
            writer.write_sample(EvalSample(id=sample_id, input=f"question {sample_id}"))
            if sample_id == 21:
                next_write = path.stat().st_size
    data = path.read_bytes()
    # The 21st sample's write reached the disk but for its last bytes, then garbage.
    after_power_cut = data[:next_write - 2] + tail
    path.write_bytes(after_power_cut)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ids = [s.id for s in read_eval_log_samples(path)]
    assert ids == list(range(1, 21))
    assert tail == b"" or any(issubclass(w.category, LogDamageWarning) for w in caught)


def test_a_retry_streams_the_samples_it_carries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Retrying a killed log of 300 large completed samples (9 MB of JSON) carries
    them all while holding far less than that in memory at any time."""
    monkeypatch.setenv("RETRY_TEST_SIDE_FILE", str(tmp_path / "executions.txt"))
    [log] = eval(f"{COUNTING}@counting", model="mockllm/model", task_args={"n": 300},
                 log_dir=str(tmp_path / "first"), display="none")
    spec = read_eval_log_header(str(log.location)).eval
    killed = tmp_path / "logs" / "killed.jsonl.zst"
    with LogWriter(killed) as writer:  # the same run, killed before its footer
        writer.write_header(spec)
        for sample in read_eval_log_samples(str(log.location)):
            sample.metadata = {"pad": os.urandom(15_000).hex()}  # 30 kB of JSON each
            writer.write_sample(sample)
    tracemalloc.start()
    try:
        [retried] = eval_retry(killed, display="none")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert retried.status == "success"
    assert retried.results is not None and retried.results.completed_samples == 300
    assert not (tmp_path / "executions.txt").read_text().split()[300:]  # none re-ran
    assert peak < 4_000_000, f"peak {peak:,} bytes while carrying 9 MB of samples"


def test_a_malformed_line_in_an_unchecked_frame_is_skipped_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A killed log whose last (unchecked) frame holds a broken sample line: readers,
    `log ls` and eval-retry skip it with a warning, and the retry runs it again."""
    side_file = tmp_path / "executions.txt"
    monkeypatch.setenv("RETRY_TEST_SIDE_FILE", str(side_file))
    [log] = eval(f"{COUNTING}@counting", model="mockllm/model", task_args={"n": 6},
                 log_dir=str(tmp_path / "first"), display="none")
    lines = list(iter_sample_lines(str(log.location)))
    killed = tmp_path / "logs" / "killed.jsonl.zst"
    with LogWriter(killed) as writer:
        writer.write_header(read_eval_log_header(str(log.location)).eval)
        writer.write_sample_lines(line + b"\n" for line in lines[:4])
        broken = lines[4].replace(b'"input":"', b'"input":', 1)  # JSON no more
        invalid = lines[5].replace(b'"epoch":1', b'"epoch":"one"', 1)  # JSON, not a record
        writer.write_sample_lines([broken + b"\n", invalid + b"\n"])
    side_file.unlink()
    with pytest.warns(LogDamageWarning, match="damaged sample record"):
        assert len(list(read_eval_log_samples(killed))) == 4
    listed = run_cli("log", "ls", str(killed.parent))
    assert listed.returncode == 0 and "Traceback" not in listed.stderr, listed.stderr
    with pytest.warns(LogDamageWarning):
        [retried] = eval_retry(killed, display="none")
    assert retried.status == "success"
    assert sorted(side_file.read_text().split()) == sorted(
        f"{json.loads(line)['id']}:1" for line in lines[4:])


def test_a_killed_log_keeps_at_most_a_second_of_samples_unchecked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sample frames close on a timer too: in a killed log every frame a second old is
    checksummed, so a flipped bit in it is reported, never read back as an altered sample."""
    monkeypatch.setattr(_writer, "ROLL_SECONDS", 0.0)  # every write is "a second later"
    path = tmp_path / "killed.jsonl.zst"
    rng = random.Random(9)
    with LogWriter(path) as writer:  # no footer: the run was killed
        writer.write_header(_spec())
        for sample_id in range(1, 21):
            writer.write_sample(_varied_sample(rng, sample_id))
    original = {s.id: s for s in read_eval_log_samples(path)}
    assert len(original) == 20
    data = path.read_bytes()
    offsets = _frame_offsets(data)
    damaged = tmp_path / "damaged.jsonl.zst"
    altered = 0
    for position in range(offsets[1], len(data), 3):
        flipped = bytearray(data)
        flipped[position] ^= 1 << position % 8
        damaged.write_bytes(bytes(flipped))
        _, samples, _ = _read_all(damaged)
        altered += sum(1 for s in samples if original[s.id] != s)
    assert altered == 0
