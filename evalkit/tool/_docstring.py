"""Google-style docstrings: the description and the ``Args:`` entries."""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

# Section headers end the description and the Args section.
_SECTION = re.compile(
    r"^(Args|Arguments|Parameters|Params|Returns?|Yields?|Raises|Examples?|Notes?|"
    r"Attributes|See Also|Todo|Warnings?)\s*:\s*$"
)
_ARGS_SECTIONS = {"Args", "Arguments", "Parameters", "Params"}
# `name: text`, `name (type): text` or `*args: text`.
_ENTRY = re.compile(r"^\*{0,2}(?P<name>\w+)\s*(\([^)]*\))?\s*:\s*(?P<text>.*)$")


@dataclass
class Docstring:
    description: str = ""
    params: dict[str, str] = field(default_factory=dict)


def parse_docstring(doc: str | None) -> Docstring:
    """The text before the first section, and each ``Args:`` entry's text."""
    lines = inspect.cleandoc(doc or "").splitlines()
    sections = [i for i, line in enumerate(lines) if _SECTION.match(line)]
    end_of_description = sections[0] if sections else len(lines)
    parsed = Docstring(description="\n".join(lines[:end_of_description]).strip())
    for position, start in enumerate(sections):
        header = lines[start].strip().rstrip(":").strip()
        if header in _ARGS_SECTIONS:
            end = sections[position + 1] if position + 1 < len(sections) else len(lines)
            parsed.params.update(_parse_entries(lines[start + 1 : end]))
    return parsed


def _parse_entries(lines: list[str]) -> dict[str, str]:
    """Entries start at the section's first indent; deeper lines continue them."""
    entries: dict[str, str] = {}
    indent: int | None = None
    current: str | None = None
    for line in lines:
        if not line.strip():
            continue
        depth = len(line) - len(line.lstrip())
        indent = depth if indent is None else indent
        match = _ENTRY.match(line.strip()) if depth <= indent else None
        if match:
            current = match["name"]
            entries[current] = match["text"].strip()
        elif current is not None:
            entries[current] = f"{entries[current]} {line.strip()}".strip()
    return entries
