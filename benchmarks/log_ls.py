"""How long `evalkit log ls` takes over a directory of many logs.

Usage: python benchmarks/log_ls.py [--logs 1000] [--samples 50] [--running 10] [--repeat 7]
                                   [--dataset-size N]

Writes ``--logs`` realistic logs (a real header with replay metadata and
sample ids, ``--samples`` samples with events, a footer and its index) into
a temporary directory, ``--running`` of them without a footer (a run still
going: its samples must be counted), then times:

- in-process: ``evalkit._cli.main(["log", "ls", DIR])`` (output discarded);
- subprocess: ``python -m evalkit log ls DIR``, interpreter start-up and
  imports included, which is what a user waits for;

and prints the median, min and max of ``--repeat`` runs of each. The goal
is under one second for 1,000 logs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from evalkit import Task, eval
from evalkit._cli import main
from evalkit.dataset import Sample
from evalkit.log import EvalFooter, EvalLog, LogWriter, read_eval_log


def template_log(directory: Path, samples: int) -> EvalLog:
    """One real run of the mock model: its header, samples and footer are copied."""
    task = Task(dataset=[Sample(input=f"question {n}: what is {n} + {n}?", target=str(2 * n))
                         for n in range(samples)], name="bench")
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        [log] = eval(task, model="mockllm/model", log_dir=str(directory), display="none", seed=1)
    assert log.location is not None
    full = read_eval_log(log.location)
    Path(log.location).unlink()
    return full


def write_logs(directory: Path, template: EvalLog, count: int, running: int,
               dataset_size: int | None = None) -> None:
    """``count`` logs like ``template``; headers list ``dataset_size`` sample ids if given."""
    assert template.samples is not None and template.results is not None
    dataset = template.eval.dataset
    if dataset_size is not None:
        dataset = dataset.model_copy(update={"samples": dataset_size,
                                             "sample_ids": list(range(1, dataset_size + 1))})
    lines = [sample.model_dump_json(exclude_none=True).encode() + b"\n"
             for sample in template.samples]
    footer = EvalFooter(status="success", results=template.results,
                        stats=template.stats or EvalFooter(status="success").stats)
    for index in range(count):
        run_id = f"{index:016x}"
        created = f"2026-01-{1 + index // 1440 % 28:02d}T{index // 60 % 24:02d}-{index % 60:02d}-00"
        spec = template.eval.model_copy(update={"run_id": run_id, "dataset": dataset})
        with LogWriter(directory / f"{created}_bench_{run_id}.jsonl.zst") as writer:
            writer.write_header(spec)
            writer.write_sample_lines(lines)
            if index >= running:
                writer.write_footer(footer)


def in_process(directory: Path) -> Callable[[], None]:
    def run() -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            code = main(["log", "ls", str(directory)])
        assert code == 0

    return run


def as_subprocess(directory: Path) -> Callable[[], None]:
    def run() -> None:
        subprocess.run([sys.executable, "-m", "evalkit", "log", "ls", str(directory)],
                       check=True, stdout=subprocess.DEVNULL)

    return run


def timings(run: Callable[[], None], repeat: int, warm: bool = True) -> list[float]:
    """Seconds of each of ``repeat`` runs; after one untimed run unless ``warm`` is
    False (that warms the page cache and imports)."""
    if warm:
        run()
    results = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        results.append(time.perf_counter() - started)
    return results


def main_benchmark() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=1000)
    parser.add_argument("--samples", type=int, default=50, help="samples per log")
    parser.add_argument("--running", type=int, default=10, help="logs with no footer")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--dataset-size", type=int, default=None,
                        help="sample ids listed in each header (a big dataset), default --samples")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp) / "logs"
        template = template_log(Path(temp) / "template", args.samples)
        write_logs(directory, template, args.logs, args.running, args.dataset_size)
        size = sum(path.stat().st_size for path in directory.iterdir())
        ids = args.dataset_size or args.samples
        print(f"{args.logs} logs ({args.running} running), {args.samples} samples and {ids} "
              f"sample ids each, {size / 1e6:.1f} MB; {args.repeat} runs each")
        print(f"{'mode':<12}{'median s':>10}{'min s':>10}{'max s':>10}")
        for name, run in (("in-process", in_process(directory)),
                          ("subprocess", as_subprocess(directory))):
            values = timings(run, args.repeat)
            print(f"{name:<12}{statistics.median(values):>10.3f}{min(values):>10.3f}"
                  f"{max(values):>10.3f}")


if __name__ == "__main__":
    main_benchmark()
