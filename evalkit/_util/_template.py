"""Filling ``{name}`` placeholders in prompt templates, leniently.

Templates come from task authors and datasets: they hold literal braces (JSON
examples, code) and placeholders no sample fills. Neither may crash a sample
or differ between samples with and without metadata, so unknown placeholders
are left as written and text that is not a placeholder is left alone.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from typing import Any

_NAME = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


class _KeepUnknown(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def format_template(template: str, values: Mapping[str, Any]) -> str:
    """``template`` with each ``{name}`` in ``values`` filled in; anything else kept as is.

    Format specs (``{score:.2f}``) and ``{{``/``}}`` escapes work as in
    ``str.format`` when the whole template parses; when it does not (a lone
    brace, a JSON example), only the plain ``{name}`` placeholders are filled.
    """
    try:
        return string.Formatter().vformat(template, (), _KeepUnknown(values))
    except (ValueError, IndexError, KeyError, AttributeError, TypeError):
        return _NAME.sub(lambda m: str(values[m[1]]) if m[1] in values else m[0], template)
