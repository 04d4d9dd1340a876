"""Filling ``{name}`` placeholders in prompt templates, leniently.

Templates come from task authors and datasets: they hold literal braces (JSON
examples, code) and placeholders no sample fills. Neither may crash a sample
or differ between samples with and without metadata, so unknown placeholders
are left as written and text that is not a placeholder is left alone.
"""

from __future__ import annotations

import re
import string
import warnings
from collections.abc import Mapping
from typing import Any

_NAME = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _KeepUnknown(dict[str, Any]):
    def __init__(self, values: Mapping[str, Any]) -> None:
        super().__init__(values)
        self.unknown: list[str] = []

    def __missing__(self, key: str) -> str:
        self.unknown.append(key)
        return "{" + key + "}"


def format_template(template: str, values: Mapping[str, Any]) -> str:
    """``template`` with each ``{name}`` in ``values`` filled in; anything else kept as is.

    Format specs (``{score:.2f}``) and ``{{``/``}}`` escapes work as in
    ``str.format`` when the whole template parses; when it does not (a lone
    brace, a JSON example), only the plain ``{name}`` placeholders are filled.
    """
    known = _KeepUnknown(values)
    try:
        filled = string.Formatter().vformat(template, (), known)
        unknown = known.unknown
    except (ValueError, IndexError, KeyError, AttributeError, TypeError):
        unknown = [m[1] for m in _NAME.finditer(template) if m[1] not in values]
        filled = _NAME.sub(lambda m: str(values[m[1]]) if m[1] in values else m[0], template)
    if unknown:
        # Once per placeholder (the warnings module drops repeats): a typo in a
        # template would otherwise reach the model silently on every sample.
        names = ", ".join("{" + name + "}" for name in dict.fromkeys(unknown))
        warnings.warn(f"template placeholder {names} has no value (no sample metadata, "
                      "store entry or parameter of that name); it is sent as written",
                      stacklevel=3)
    return filled
