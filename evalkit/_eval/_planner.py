"""Planning a first run of a task: which samples, which epochs, what header."""

from __future__ import annotations

import fnmatch
import os
from collections.abc import Iterator, Sequence
from pathlib import Path

from .._task import Task
from .._util._ids import new_id, timestamp_for_filename, utc_now
from ..dataset import Sample
from ..errors import UsageError
from ..log import EvalDataset, EvalSpec, default_log_dir, log_file_name
from ._config import EvalConfig
from ._plan import RunPlan, WorkItem
from ._recorded import recorded_fields

_MAX_RECORDED_IDS = 10_000


def select_samples(task: Task, config: EvalConfig) -> list[Sample]:
    """The samples ``--sample-id`` and ``--limit`` select, in dataset order."""
    samples: Sequence[Sample] = task.dataset
    _refuse_empty(task)
    _refuse_duplicate_ids(samples, task.display_name)
    if config.sample_id:
        samples = _select_ids(samples, [str(wanted) for wanted in config.sample_id],
                              task.display_name)
    if config.limit is not None:
        samples = samples[: config.limit]
    return list(samples)


def _select_ids(samples: Sequence[Sample], patterns: list[str], task: str) -> list[Sample]:
    """The samples whose id is one of ``patterns`` or matches one as a glob
    (``sample-*``, ``item-[56]``, ``q?``), as Inspect AI's ``--sample-id`` does."""
    unmatched = dict.fromkeys(patterns)
    selected = []
    for sample in samples:
        hits = [p for p in patterns if _id_matches(str(sample.id), p)]
        if hits:
            selected.append(sample)
            for pattern in hits:
                unmatched.pop(pattern, None)
    if unmatched:
        raise UsageError(f"--sample-id: no sample with an id matching {', '.join(unmatched)} "
                         f"in task {task!r}")
    return selected


def _id_matches(sample_id: str, pattern: str) -> bool:
    # Exact first: an id may itself hold "[" or "*".
    return sample_id == pattern or fnmatch.fnmatchcase(sample_id, pattern)


def _refuse_empty(task: Task) -> None:
    """A task with no samples would "succeed" with no numbers: say so instead."""
    if len(task.dataset) > 0:
        return
    args = task.origin.args if task.origin else {}
    given = ", ".join(f"{name}={value!r}" for name, value in args.items())
    hint = (f"; it was built with {given}: check those values match the data" if given
            else "; check the dataset file and any filter the task applies")
    raise UsageError(f"task {task.display_name!r} has no samples "
                     f"(dataset {task.dataset.name or 'given'!r} is empty){hint}")


def _refuse_duplicate_ids(samples: Sequence[Sample], task: str) -> None:
    """Ids identify samples in logs and retries (compared as text: 1 and "1" clash)."""
    seen: set[str] = set()
    duplicates: list[str] = []
    for sample in samples:
        key = str(sample.id)
        if key in seen and key not in duplicates:
            duplicates.append(key)
        seen.add(key)
    if duplicates:
        shown = ", ".join(repr(d) for d in duplicates[:5])
        more = f" and {len(duplicates) - 5} more" if len(duplicates) > 5 else ""
        raise UsageError(
            f"task {task!r} has more than one sample with id {shown}{more}; give every "
            "sample a unique id (ids are compared as text, so 1 and \"1\" are the same)"
        )


def epochs_of(task: Task, config: EvalConfig) -> int:
    return config.epochs or task.epochs.epochs


def work_items(samples: Sequence[Sample], epochs: int) -> Iterator[WorkItem]:
    return (WorkItem(sample, epoch) for epoch in range(1, epochs + 1) for sample in samples)


def build_spec(
    task: Task,
    config: EvalConfig,
    samples: Sequence[Sample],
    *,
    task_id: str | None = None,
    retry_of: str | None = None,
) -> EvalSpec:
    """The log header of a run of ``task`` under ``config``."""
    assert config.model is not None  # checked when the eval starts
    origin = task.origin
    created = utc_now()
    dataset = task.dataset
    ids: list[int | str] = [s.id for s in samples if s.id is not None]
    task_file = origin.file if origin else None
    return EvalSpec(
        task=task.display_name, task_version=task.version,
        task_id=task_id or new_id(), run_id=new_id(),
        retry_of=retry_of, created=created.isoformat(),
        task_file=task_file, task_file_relative=_relative(task_file),
        task_registry_name=origin.name if origin else None,
        model=config.model, **recorded_fields(task, config),
        dataset=EvalDataset(
            name=dataset.name, location=dataset.location, samples=len(samples),
            sample_ids=ids[:_MAX_RECORDED_IDS], sha256=dataset.sha256,
            shuffled=dataset.shuffled, ids_generated=dataset.ids_generated,
        ),
        metadata=task.metadata,
    )


def log_path(spec: EvalSpec, config: EvalConfig) -> Path:
    created = timestamp_for_filename(utc_now())
    directory = Path(config.log_dir or default_log_dir())
    return directory / log_file_name(created, spec.task, spec.run_id)


def plan_first_run(task: Task, config: EvalConfig) -> RunPlan:
    samples = select_samples(task, config)
    spec = build_spec(task, config, samples)
    epochs = epochs_of(task, config)
    total = len(samples) * epochs
    return RunPlan(task=task, spec=spec, path=log_path(spec, config),
                   work=work_items(samples, epochs), total=total, epochs=epochs)


def _relative(path: str | None) -> str | None:
    if path is None:
        return None
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return None
