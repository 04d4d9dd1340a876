"""The members of an eval set and where each one stands in the log directory.

A member is one (task, task args, model, model args): one lineage in the
directory. Its identity is a hash of those values *as the log header records
them* (credentials masked, values exact), so a later run finds the member's
lineage from headers alone. A member started by ``eval_set`` gets that hash
as its ``task_id`` too, so two processes starting the same member meet on the
same lineage lock; a lineage written by a plain ``evalkit eval`` into the
directory is found by its header fields all the same.

Planning reads each log's header and footer only (never a sample), so it stays
fast for large directories.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from .._task import Task
from .._util._secrets import redact_data, secret_values
from ..errors import LogError
from ..log import list_eval_logs
from ..log._listing import LogHead, read_log_head
from ._config import EvalConfig
from ._models import ModelChoice, config_for
from ._planner import epochs_of, select_samples
from ._recorded import _exact_task_args, recorded_model_args

MemberState = Literal["missing", "complete", "incomplete"]


def member_key(task: str | None, task_file: str | None, task_args: Any, model: str,
               model_args: Any) -> str:
    """The identity of a member: 16 hex characters, like a ``task_id``."""
    text = json.dumps([task, task_file, task_args, model, model_args], sort_keys=True,
                      separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass
class Member:
    """One task x model of the set, as this process will run it."""

    task: Task
    model: ModelChoice
    config: EvalConfig
    """The set's options with this member's model (``config_for``)."""
    key: str
    task_args: dict[str, Any]
    """The task args as a header records them (shown in the manifest)."""
    model_args: dict[str, Any]
    total: int
    """Samples x epochs this run selects (``--limit``, ``--sample-id``, ``--epochs``): a
    lineage that ran another selection is not complete for this one."""

    @property
    def label(self) -> str:
        args = ",".join(f"{k}={json.dumps(v)}" for k, v in sorted(self.task_args.items()))
        return f"{self.task.display_name}{f'({args})' if args else ''} x {self.config.model}"

    def manifest_entry(self) -> dict[str, Any]:
        origin = self.task.origin
        return {"key": self.key, "task": self.task.display_name,
                "task_file": origin.file if origin else None, "task_args": self.task_args,
                "model": self.config.model, "model_args": self.model_args}


def member_of(task: Task, config: EvalConfig, choice: ModelChoice) -> Member:
    """The member running ``task`` with ``choice`` under the set's ``config``."""
    model_config = config_for(config, choice)
    assert model_config.model is not None  # config_for always names the model
    origin = task.origin
    # The same values, masked the same way, as ``recorded_fields`` writes to the header.
    secrets = secret_values({"model_args": model_config.model_args,
                             "model_base_url": model_config.model_base_url or ""})
    task_args = {name: redact_data(value, secrets, by_name=False) for name, value in
                 _exact_task_args(origin.args if origin else {},
                                  f"task {task.display_name!r}").items()}
    model_args = recorded_model_args(model_config.model_args, secrets)
    key = member_key(origin.name if origin else task.display_name,
                     origin.file if origin else None, task_args, model_config.model,
                     model_args)
    total = len(select_samples(task, model_config)) * epochs_of(task, model_config)
    return Member(task, choice, model_config, key, task_args, model_args, total)


def key_of_head(head: LogHead) -> str:
    """The member identity of the run in ``head``, from its header fields."""
    fields = head.fields
    return member_key(fields.get("task_registry_name") or fields.get("task"),
                      fields.get("task_file"), fields.get("task_args", {}),
                      str(fields.get("model")), fields.get("model_args", {}))


@dataclass
class LineageView:
    """The logs of one ``task_id`` in the directory, newest first."""

    task_id: str
    heads: list[LogHead] = field(default_factory=list)

    @property
    def latest(self) -> LogHead:
        return self.heads[0]

    def complete(self, total: int | None = None) -> bool:
        """Its latest run succeeded with every sample completed (and, given ``total``,
        ran that many samples x epochs)."""
        footer = self.latest.footer
        return (footer is not None and footer.status == "success"
                and footer.results.completed_samples == footer.results.total_samples
                and total in (None, footer.results.total_samples))


@dataclass
class MemberStatus:
    """Where a member stands: no lineage yet, or its lineage and whether it is done."""

    member: Member
    lineage: LineageView | None

    @property
    def state(self) -> MemberState:
        if self.lineage is None:
            return "missing"
        return "complete" if self.lineage.complete(self.member.total) else "incomplete"

    @property
    def task_id(self) -> str:
        return self.lineage.task_id if self.lineage else self.member.key


def scan_directory(log_dir: Path) -> tuple[dict[str, list[LineageView]], list[str]]:
    """Every lineage in ``log_dir`` by member identity; and the files skipped, why."""
    lineages: dict[str, LineageView] = {}
    keys: dict[str, str] = {}
    skipped: list[str] = []
    for path in list_eval_logs(log_dir):
        try:
            head = read_log_head(path)
        except LogError as exc:
            skipped.append(f"{path.name}: {exc}")
            continue
        task_id = str(head.fields.get("task_id"))
        lineages.setdefault(task_id, LineageView(task_id)).heads.append(head)
        keys.setdefault(task_id, key_of_head(head))
    by_key: dict[str, list[LineageView]] = {}
    for task_id, lineage in lineages.items():
        lineage.heads.sort(key=lambda head: str(head.fields.get("created")), reverse=True)
        by_key.setdefault(keys[task_id], []).append(lineage)
    return by_key, skipped


def member_statuses(members: Iterable[Member], log_dir: Path) -> list[MemberStatus]:
    """Each member's lineage in ``log_dir``: a complete one if any, else its own
    (task_id = its key), else the newest."""
    by_key, _ = scan_directory(log_dir)
    statuses = []
    for member in members:
        found = by_key.get(member.key, [])
        found.sort(key=lambda lineage: (lineage.complete(member.total),
                                        lineage.task_id == member.key,
                                        str(lineage.latest.fields.get("created"))),
                   reverse=True)
        statuses.append(MemberStatus(member, found[0] if found else None))
    return statuses
