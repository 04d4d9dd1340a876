"""The errors of a finished run, grouped by kind, for the end of the terminal output.

"3 of 3 samples failed" says nothing about why; the first error of each kind
(phase and kind), with how many samples share it, usually does. Read from the
log file, so carried-over errors of a retry count too; only lines that hold
an error are parsed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ..log import iter_sample_lines

MAX_GROUPS = 5
MESSAGE_WIDTH = 300


@dataclass
class ErrorGroup:
    phase: str | None
    kind: str | None
    message: str
    """The first sample's error message (its first line)."""
    count: int = 1


def error_groups(path: str | Path) -> list[ErrorGroup]:
    """Sample errors of the log at ``path`` by (phase, kind), in order of first sight."""
    groups: dict[tuple[str | None, str | None], ErrorGroup] = {}
    for line in iter_sample_lines(path):
        if b'"error":{' not in line:
            continue  # the writer leaves a None error out, so most lines skip parsing
        error = json.loads(line).get("error")
        if not isinstance(error, dict):
            continue
        key = (error.get("phase"), error.get("kind"))
        if key in groups:
            groups[key].count += 1
        else:
            first_line = (str(error.get("message") or "").strip().splitlines() or [""])[0]
            groups[key] = ErrorGroup(*key, _cut(first_line))
    return list(groups.values())


def error_lines(path: str | Path) -> list[str]:
    """One indented line per kind of error: count, phase, kind, first message."""
    groups = error_groups(path)
    lines = []
    for group in groups[:MAX_GROUPS]:
        samples = "1 sample" if group.count == 1 else f"{group.count} samples"
        where = ", ".join(part for part in (group.phase, group.kind) if part) or "unknown"
        lines.append(f"  {samples} ({where}): {group.message}")
    if len(groups) > MAX_GROUPS:
        lines.append(f"  ... and {len(groups) - MAX_GROUPS} more kinds of error")
    return lines


def _cut(text: str) -> str:
    return text if len(text) <= MESSAGE_WIDTH else text[:MESSAGE_WIDTH - 1] + "…"
