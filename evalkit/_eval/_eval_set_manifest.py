"""``eval-set.json``: the members of the eval set a log directory holds.

Written before anything runs, so a directory always says which set it is. A
later run of the same set (or of part of it) is accepted; one that brings new
members is refused unless ``allow_new_members``, so a typo in a task argument
or a model name cannot quietly grow a second grid in the same directory.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .._util._ids import utc_now
from ..errors import UsageError
from ._eval_set_plan import Member

MANIFEST_NAME = "eval-set.json"
MANIFEST_VERSION = 1


def manifest_path(log_dir: Path) -> Path:
    return log_dir / MANIFEST_NAME


def read_manifest(log_dir: Path) -> list[dict[str, Any]] | None:
    """The recorded members, or None when the directory has no manifest."""
    path = manifest_path(log_dir)
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the eval set manifest {str(path)!r} ({exc}); fix or "
                         "remove it (it only lists the set's members)") from None
    members = data.get("members") if isinstance(data, dict) else None
    if not isinstance(members, list):
        raise UsageError(f"{str(path)!r} is not an eval set manifest (no members list); "
                         "remove it or use another --log-dir")
    return [entry for entry in members if isinstance(entry, dict)]


def check_manifest(log_dir: Path, members: Sequence[Member], allow_new_members: bool) -> None:
    """Refuse members the directory's set does not have (unless allowed), then record
    the set (the union of old and new members)."""
    recorded = read_manifest(log_dir)
    known = {str(entry.get("key")) for entry in recorded or []}
    new = [member for member in members if member.key not in known]
    if recorded is not None and new and not allow_new_members:
        shown = "; ".join(member.label for member in new[:3])
        more = f" and {len(new) - 3} more" if len(new) > 3 else ""
        raise UsageError(
            f"{str(log_dir)!r} holds another eval set ({len(recorded)} members, see "
            f"{MANIFEST_NAME}); these members are not in it: {shown}{more}. Use another "
            "--log-dir, or pass --allow-new-members (allow_new_members=True) to add them")
    if recorded is None or new:
        _write(log_dir, [*(recorded or []), *(member.manifest_entry() for member in new)])


def _write(log_dir: Path, entries: list[dict[str, Any]]) -> None:
    """Atomically: a crash leaves the old manifest or the new one, never half of one."""
    log_dir.mkdir(parents=True, exist_ok=True)
    path = manifest_path(log_dir)
    temporary = path.with_name(f".{MANIFEST_NAME}.{os.getpid()}.tmp")
    data = {"version": MANIFEST_VERSION, "updated": utc_now().isoformat(), "members": entries}
    temporary.write_text(json.dumps(data, indent=2, default=str) + "\n")
    os.replace(temporary, path)
