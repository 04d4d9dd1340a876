"""The log file: readable without evalkit, durable, and strict about bad files."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from conftest import require_tool

from evalkit import Task, eval
from evalkit.dataset import Sample
from evalkit.errors import LogError, LogTruncatedError, LogVersionError
from evalkit.log import (
    EvalSpec,
    LogWriter,
    iter_lines,
    read_eval_log,
    read_eval_log_header,
    read_eval_log_samples,
)
from evalkit.scorer import includes


def _run(log_dir: Path, n: int = 12) -> Path:
    task = Task(dataset=[Sample(input=f"q{i}", target="output") for i in range(n)],
                scorer=includes())
    [log] = eval(task, model="mockllm/model", log_dir=str(log_dir), display="none")
    assert log.location is not None
    return Path(log.location)


def test_zstdcat_and_jq_read_every_record(log_dir: Path) -> None:
    """`zstdcat LOG | jq` yields the header, every sample and the footer."""
    path = _run(log_dir)
    zstdcat, jq = require_tool("zstdcat"), require_tool("jq")
    raw = subprocess.run([zstdcat, str(path)], capture_output=True, check=True).stdout
    types = subprocess.run([jq, "-r", ".type"], input=raw, capture_output=True,
                           check=True).stdout.decode().split()
    assert types == ["header"] + ["sample"] * 12 + ["footer"]
    ids = subprocess.run([jq, "-r", 'select(.type=="sample") | .id'], input=raw,
                         capture_output=True, check=True).stdout.decode().split()
    assert sorted(map(int, ids)) == list(range(1, 13))


def test_duckdb_reads_every_record(log_dir: Path) -> None:
    """DuckDB's read_json sees the same records, skipping the index frame."""
    duckdb = pytest.importorskip("duckdb")
    path = _run(log_dir)
    rows = duckdb.sql(f"select type, count(*) from read_json('{path}') group by type "
                      "order by type").fetchall()
    assert rows == [("footer", 1), ("header", 1), ("sample", 12)]


def test_python_reader_matches_footer_counts(log_dir: Path) -> None:
    """read_eval_log returns every sample and the footer's counts agree."""
    log = read_eval_log(_run(log_dir, n=30))
    assert log.status == "success"
    assert log.samples is not None and len(log.samples) == 30
    assert log.results is not None and log.results.completed_samples == 30
    assert {s.id for s in log.samples} == set(range(1, 31))


def test_cut_at_every_offset_of_last_two_records_still_reads(log_dir: Path) -> None:
    """A log cut anywhere in its last sample or footer reads as `started` with the
    samples completed before the cut."""
    path = _run(log_dir, n=8)
    data = path.read_bytes()
    # Where the last sample's bytes begin: the size of a copy holding 7 samples.
    seven = _prefix_with_samples(path, 7, log_dir)
    for cut in range(seven, len(data)):
        cut_path = log_dir / f"cut-{cut}.jsonl.zst"
        cut_path.write_bytes(data[:cut])
        log = read_eval_log_header(cut_path)
        samples = list(read_eval_log_samples(cut_path))
        assert log.status == "started", cut
        assert len(samples) in (7, 8), cut
        assert [s.id for s in samples] == list(range(1, len(samples) + 1))
        cut_path.unlink()


def _prefix_with_samples(path: Path, count: int, scratch: Path) -> int:
    """The smallest prefix of ``path`` from which ``count`` samples read back."""
    data = path.read_bytes()
    probe = scratch / "probe.jsonl.zst"
    low, high = 0, len(data)
    while low < high:
        middle = (low + high) // 2
        probe.write_bytes(data[:middle])
        try:
            found = sum(1 for _ in read_eval_log_samples(probe))
        except LogError:
            found = 0
        if found >= count:
            high = middle
        else:
            low = middle + 1
    probe.unlink()
    return low


def test_header_read_does_not_decode_samples(log_dir: Path) -> None:
    """Header and footer read fine when every sample byte is garbage (O(1) read)."""
    path = _run(log_dir, n=50)
    with path.open("rb") as handle:
        header_end = _first_frame_size(handle.read())
    data = bytearray(path.read_bytes())
    footer_start = len(data) - 400  # footer and index fit in the last few hundred bytes
    for i in range(header_end, header_end + 200):
        data[i] ^= 0xFF
    assert header_end + 200 < footer_start
    path.write_bytes(bytes(data))
    log = read_eval_log_header(path)
    assert log.status == "success"
    assert log.results is not None and log.results.total_samples == 50


def _first_frame_size(data: bytes) -> int:
    """Bytes of the first zstd frame (the header) at the start of ``data``."""
    import zstandard

    decoder = zstandard.ZstdDecompressor().decompressobj()
    decoder.decompress(data)
    return len(data) - len(decoder.unused_data)


def test_log_with_no_footer_reads_as_started(log_dir: Path) -> None:
    """A writer that never wrote its footer leaves a readable `started` log."""
    path = log_dir / "running.jsonl.zst"
    writer = LogWriter(path)
    writer.write_header(EvalSpec(task="t", task_id="a", run_id="b", created="now",
                                 model="mockllm/model"))
    writer.close()
    log = read_eval_log(path)
    assert log.status == "started" and log.samples == [] and log.results is None


def test_writer_never_overwrites_an_existing_file(tmp_path: Path) -> None:
    """LogWriter refuses a path that exists, leaving its bytes alone."""
    path = tmp_path / "x.jsonl.zst"
    path.write_bytes(b"precious")
    with pytest.raises(FileExistsError):
        LogWriter(path)
    assert path.read_bytes() == b"precious"


@pytest.mark.parametrize(
    ("content", "error", "words"),
    [
        (b"", LogTruncatedError, "empty file"),
        (b"hello world, not a log", LogError, "not an evalkit log"),
        (None, LogVersionError, "version 99"),
        ("truncated-header", LogTruncatedError, "before its header was complete"),
        ("not-a-header", LogError, "first record is not a header"),
    ],
)
def test_bad_files_give_a_clear_error(
    tmp_path: Path, content: object, error: type[Exception], words: str
) -> None:
    """Files that are not logs are refused with a message naming the problem."""
    import zstandard

    path = tmp_path / "bad.jsonl.zst"
    if content is None:
        line = json.dumps({"type": "header", "version": 99}).encode() + b"\n"
        path.write_bytes(zstandard.ZstdCompressor().compress(line))
    elif content == "truncated-header":
        full = zstandard.ZstdCompressor().compress(b'{"type":"header","version":1}\n' * 50)
        path.write_bytes(full[:12])
    elif content == "not-a-header":
        path.write_bytes(zstandard.ZstdCompressor().compress(b'{"type":"sample"}\n'))
    else:
        assert isinstance(content, bytes)
        path.write_bytes(content)
    before = path.read_bytes()
    with pytest.raises(error, match=words):
        read_eval_log(path)
    assert path.read_bytes() == before


def test_iter_lines_drops_a_torn_last_line(tmp_path: Path) -> None:
    """A final line without its newline (torn by a crash) is not returned."""
    import zstandard

    path = tmp_path / "torn.jsonl.zst"
    body = b'{"type":"header","version":1}\n{"type":"sample","id":1}\n{"type":"sam'
    path.write_bytes(zstandard.ZstdCompressor().compress(body))
    assert list(iter_lines(path)) == [b'{"type":"header","version":1}',
                                      b'{"type":"sample","id":1}']
