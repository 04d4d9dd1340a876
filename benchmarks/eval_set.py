"""How long an eval set takes to plan over a directory of many logs.

Usage: python benchmarks/eval_set.py [--variants 10] [--models 5] [--logs 500]
                                     [--samples 20] [--repeat 7]

Runs a real set of ``--variants`` task-argument variants x ``--models`` mock
models (50 members by default) into a temporary directory, then fills the
directory up to ``--logs`` logs with copies of them that belong to no member
(other models), and times, over ``--repeat`` runs:

- plan: finding every member's lineage and state (``member_statuses``: header
  and footer of each log, no sample decoded);
- re-run: ``eval_set()`` of the complete set again, which plans and writes
  nothing.

It prints the median, min and max of each. The goal is under one second for
50 members over 500 logs.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import sys
import tempfile
import timeit
from pathlib import Path

from evalkit import Task, eval_set, task
from evalkit._eval._config import EvalConfig
from evalkit._eval._eval_set_plan import member_of, member_statuses
from evalkit.dataset import Sample
from evalkit.log import EvalFooter, LogWriter, iter_sample_lines, read_eval_log_header


@task
def bench(variant: int = 0, samples: int = 20) -> Task:
    return Task(dataset=[Sample(id=n, input=f"variant {variant}: what is {n} + {n}?",
                                target=str(2 * n)) for n in range(samples)])


def fill(directory: Path, total: int) -> None:
    """Copies of the set's logs under other models (no member's) up to ``total`` logs."""
    originals = sorted(directory.glob("*.jsonl.zst"))
    index = 0
    while len(originals) + index < total:
        source = originals[index % len(originals)]
        log = read_eval_log_header(source)
        assert log.results is not None and log.stats is not None
        run_id = f"{index:016x}"
        spec = log.eval.model_copy(update={"run_id": run_id, "task_id": f"f{index:015x}",
                                           "model": f"mockllm/other-{index}"})
        with LogWriter(directory / f"2026-01-01T00-00-00_bench_{run_id}.jsonl.zst") as writer:
            writer.write_header(spec)
            writer.write_sample_lines([line + b"\n" for line in iter_sample_lines(source)])
            writer.write_footer(EvalFooter(status="success", results=log.results,
                                           stats=log.stats))
        index += 1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=10)
    parser.add_argument("--models", type=int, default=5)
    parser.add_argument("--logs", type=int, default=500)
    parser.add_argument("--samples", type=int, default=20, help="samples per log")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    tasks = [bench(variant=v, samples=args.samples) for v in range(args.variants)]
    models = [f"mockllm/m{m}" for m in range(args.models)]
    with tempfile.TemporaryDirectory() as temp:
        directory = Path(temp) / "logs"
        with contextlib.redirect_stdout(io.StringIO()):
            success, _ = eval_set(tasks, str(directory), model=models, display="none",
                                  max_tasks=8)
        assert success
        fill(directory, args.logs)
        config = EvalConfig(log_dir=str(directory))

        def plan() -> None:
            members = [member_of(t, config, m) for t in tasks for m in models]
            statuses = member_statuses(members, directory)
            assert all(status.state == "complete" for status in statuses)

        def rerun() -> None:
            before = len(list(directory.iterdir()))
            with contextlib.redirect_stdout(io.StringIO()):
                done, _ = eval_set(tasks, str(directory), model=models, display="none")
            assert done and len(list(directory.iterdir())) == before

        count = len(list(directory.glob("*.jsonl.zst")))
        print(f"{len(tasks) * len(models)} members over {count} logs of {args.samples} "
              f"samples; {args.repeat} runs each (python {sys.version.split()[0]})")
        print(f"{'step':<10}{'median s':>10}{'min s':>10}{'max s':>10}")
        for name, run in (("plan", plan), ("re-run", rerun)):
            run()  # warm the page cache and imports once
            values = timeit.repeat(run, number=1, repeat=args.repeat)
            print(f"{name:<10}{statistics.median(values):>10.3f}{min(values):>10.3f}"
                  f"{max(values):>10.3f}")


if __name__ == "__main__":
    main()
