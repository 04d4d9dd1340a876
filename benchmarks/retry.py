"""Retry of a 100k-sample log with 1% errored: how fast is the decision, how fast the copy?
And how much memory does retrying a large killed log take?

    python benchmarks/retry.py [--samples 100000] [--runs 5]
        [--memory-samples 100000 --memory-epochs 2]   # 0 samples: skip

Writes a log directly with ``LogWriter`` (lines shaped exactly like those of a
mock eval), then measures, as medians over several runs:

- decide: reading the lineage and deciding what to re-run (``plan_retry``),
  target <= 1 s;
- copy: writing the carried-over samples into the new log and tallying them
  (``TaskRun._carry_over``), target >= 50k samples/s;
- retry: a whole ``eval_retry`` (decide + copy + re-running the 1% on mockllm);
- memory: peak RSS of a whole mock run of 100k samples x 2 epochs, and of the
  retry of that log killed at 50% (each in a fresh process), target: the retry
  <= the original run + 50 MB (carried samples are streamed, never all held).
  Takes a few minutes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evalkit import eval_retry
from evalkit._eval._config import EvalConfig
from evalkit._eval._planner import build_spec, select_samples
from evalkit._eval._retry import plan_retry
from evalkit._eval._run import _context, _models_for
from evalkit._eval._task_run import TaskRun
from evalkit._registry import find_task
from evalkit.log import (
    EvalError,
    EvalFooter,
    EvalSample,
    LogWriter,
    iter_sample_lines,
    read_eval_log_header,
)
from evalkit.model import ChatMessageAssistant, ChatMessageUser, ModelOutput, ModelUsage
from evalkit.scorer import Score

TASK_FILE = '''
from evalkit import Task, task
from evalkit.dataset import Sample

@task
def bench(n: int = 100_000):
    return Task(dataset=[Sample(id=i, input=f"question {i}", target="answer") for i in range(n)])
'''
ERROR_EVERY = 100
TARGET_DECIDE_S = 1.0
TARGET_COPY_RATE = 50_000
TARGET_EXTRA_RSS_MB = 50

MEMORY_CHILD = r"""
import json, resource, sys
from evalkit import eval, eval_retry

mode, target = sys.argv[1], sys.argv[2]
if mode == "original":
    n, epochs, log_dir = int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    [log] = eval(f"{target}@bench", model="mockllm/model", task_args={"n": n}, epochs=epochs,
                 log_dir=log_dir, display="none")
else:
    [log] = eval_retry(target, display="none")
print(json.dumps({"peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "log": log.location, "completed": log.results.completed_samples}))
"""


def write_log(directory: Path, samples: int) -> Path:
    """A finished log of ``samples`` samples, one in ``ERROR_EVERY`` errored."""
    task_file = directory / "bench_task.py"
    task_file.write_text(TASK_FILE)
    [(_, make_task)] = find_task(task_file, "bench")
    task = make_task(n=samples)
    config = EvalConfig(model="mockllm/model", log_dir=str(directory), display="none")
    spec = build_spec(task, config, select_samples(task, config))
    path = directory / "original.jsonl.zst"
    with LogWriter(path) as writer:
        writer.write_header(spec)
        batch = []
        for sample in task.dataset:
            batch.append(_record(sample.id, sample.input, sample.input_hash()))
            if len(batch) == 1000:
                writer.write_sample_lines(batch)
                batch = []
        writer.write_sample_lines(batch)
        writer.write_footer(EvalFooter(status="error"))
    return path


def _record(sample_id: object, text: object, input_hash: str) -> bytes:
    assert isinstance(sample_id, int) and isinstance(text, str)
    answer = "Default output from mockllm/model"
    usage = ModelUsage(input_tokens=2, output_tokens=5, total_tokens=7)
    failed = sample_id % ERROR_EVERY == 0
    record = EvalSample(
        id=sample_id, epoch=1, input=text, target="answer", input_hash=input_hash,
        messages=[ChatMessageUser(content=text), ChatMessageAssistant(content=answer)],
        output=ModelOutput.from_content("mockllm/model", answer),
        scores=None if failed else {"match": Score(value="I", answer=answer)},
        error=EvalError(message="RuntimeError: boom", traceback="Traceback ...\n",
                        phase="solver", kind="RuntimeError") if failed else None,
        model_usage={"mockllm/model": usage}, started_at=time.time(), total_time=0.001,
    )
    return record.model_dump_json(exclude_none=True).encode() + b"\n"


def median_seconds(action: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median wall-clock and CPU seconds of ``runs`` calls (CPU time is what a busy
    machine cannot inflate; the targets are judged on wall-clock time)."""
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        action()
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(wall), statistics.median(cpu)


def measure(samples: int, runs: int) -> list[tuple[str, str, str, str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        started = time.perf_counter()
        log = write_log(directory, samples)
        written = time.perf_counter() - started
        spec = read_eval_log_header(log).eval
        [(_, make_task)] = find_task(directory / "bench_task.py", "bench")
        task = make_task(n=samples)
        config = EvalConfig(model="mockllm/model", log_dir=str(directory / "copies"),
                            display="none")
        # A fresh task each time, so the dataset hash is not cached from the last run.
        tasks = [make_task(n=samples) for _ in range(runs)]
        decide, decide_cpu = median_seconds(lambda: plan_retry(log, spec, tasks.pop(), config),
                                            runs)
        plan = plan_retry(log, spec, task, config)
        carried = plan.carried.count
        copy, copy_cpu = median_seconds(lambda: _copy(plan, config), runs)
        retry_dir = directory / "retry"
        retry_dir.mkdir()
        retry_log = retry_dir / log.name
        retry_log.write_bytes(log.read_bytes())
        (retry_dir / "bench_task.py").write_text(TASK_FILE)
        retry, retry_cpu = median_seconds(lambda: _full_retry(retry_log), 1)
    return [
        (f"write the {samples:,}-sample log (setup)", f"{written:.2f} s", "-", "-", "-"),
        ("decide what to re-run", f"{decide:.3f} s", f"{decide_cpu:.3f} s",
         f"<= {TARGET_DECIDE_S:g} s", _verdict(decide <= TARGET_DECIDE_S)),
        (f"copy {carried:,} reused samples", f"{carried / copy:,.0f} samples/s",
         f"{carried / copy_cpu:,.0f} samples/s", f">= {TARGET_COPY_RATE:,} samples/s",
         _verdict(carried / copy >= TARGET_COPY_RATE)),
        (f"whole eval_retry (re-runs {samples - carried:,})", f"{retry:.2f} s",
         f"{retry_cpu:.2f} s", "-", "-"),
    ]


def _copy(plan: object, config: EvalConfig) -> None:
    from evalkit._eval._plan import RunPlan

    assert isinstance(plan, RunPlan)
    models = _models_for([plan], config)
    run = TaskRun(plan, _context(plan, models[plan.spec.model], config), config)
    path = Path(str(config.log_dir)) / f"copy-{time.perf_counter_ns()}.jsonl.zst"
    with LogWriter(path) as writer:
        run._carry_over(writer)  # the step measured: private on purpose


def _full_retry(log: Path) -> None:
    [retried] = eval_retry(log, display="none", fail_on_error=False)
    assert retried.status == "success", retried


def measure_memory(samples: int, epochs: int) -> list[tuple[str, str, str, str, str]]:
    """Peak RSS of the original run and of the retry of its log killed half way."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        task_file = directory / "bench_task.py"
        task_file.write_text(TASK_FILE)
        original = _memory_child("original", str(task_file), str(samples), str(epochs),
                                 str(directory / "original"))
        killed = directory / "killed" / "killed.jsonl.zst"
        carried = _kill_half_way(Path(original["log"]), killed)
        retry = _memory_child("retry", str(killed))
    total = samples * epochs
    assert original["completed"] == total and retry["completed"] == total, (original, retry)
    extra = retry["peak_mb"] - original["peak_mb"]
    return [
        (f"original run: {samples:,} samples x {epochs} epochs", "-", "-",
         f"{original['peak_mb']:.0f} MB", "-"),
        (f"retry of it killed at 50% (carries {carried:,})", "-", "-",
         f"{retry['peak_mb']:.0f} MB ({extra:+.0f} MB)",
         _verdict(extra <= TARGET_EXTRA_RSS_MB)),
    ]


def _memory_child(*args: str) -> dict[str, Any]:
    out = subprocess.run([sys.executable, "-c", MEMORY_CHILD, *args], capture_output=True,
                         text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"the {args[0]} run failed:\n{out.stderr}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def _kill_half_way(log: Path, killed: Path) -> int:
    """A copy of ``log`` as a kill -9 half way would leave it: the header and the
    first half of its samples, no footer. Returns how many samples it holds."""
    spec = read_eval_log_header(log).eval
    half = spec.dataset.samples * int(spec.config.get("epochs", 1)) // 2
    with LogWriter(killed) as writer:
        writer.write_header(spec)
        batch: list[bytes] = []
        for count, line in enumerate(iter_sample_lines(log), start=1):
            batch.append(line + b"\n")
            if len(batch) == 1000 or count == half:
                writer.write_sample_lines(batch)
                batch = []
            if count == half:
                break
    return half


def _verdict(ok: bool) -> str:
    return "ok" if ok else "MISSED"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--samples", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--memory-samples", type=int, default=100_000)
    parser.add_argument("--memory-epochs", type=int, default=2)
    args = parser.parse_args()
    rows = [("step", "median (wall)", "median (CPU)", "target", "")]
    if args.samples:
        rows += measure(args.samples, args.runs)
        _print(rows)
    memory = [("peak RSS (one run each)", "", "", "peak RSS", "")]
    if args.memory_samples:
        memory += measure_memory(args.memory_samples, args.memory_epochs)
        print()
        _print(memory)
    return 0 if all(row[4] != "MISSED" for row in rows + memory) else 1


def _print(rows: list[tuple[str, str, str, str, str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(5)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)))


if __name__ == "__main__":
    sys.exit(main())
