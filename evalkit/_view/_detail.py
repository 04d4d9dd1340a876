"""One log's page data: header, results, stats and error, without decoding samples."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from ..errors import LogError
from ..log import read_eval_log_header
from ._damage import collecting, joined
from ._overview import header_only, overview_from, overview_of


def detail_of(name: str, path: Path) -> dict[str, Any]:
    """What the log page shows above the sample table; never raises for a bad log."""
    with collecting() as damage:
        detail = _detail(name, path)
    detail["problem"] = joined(detail["problem"], damage)
    return detail


def _detail(name: str, path: Path) -> dict[str, Any]:
    try:
        log = read_eval_log_header(path)
    except LogError as exc:
        overview = overview_of(name, path).as_dict()
        spec = header_only(path)
        return {"overview": overview, "eval": _plain(spec.model_dump(mode="json"))
                if spec else None, "results": None, "stats": None, "error": None,
                "problem": str(exc)}
    overview = overview_from(name, path, log).as_dict()
    data = log.model_dump(mode="json", exclude={"samples"})
    return {"overview": overview, "eval": _plain(data["eval"]), "results": _plain(data["results"]),
            "stats": _plain(data["stats"]), "error": data["error"],
            "problem": overview["problem"]}


def _plain(value: Any) -> Any:
    """``value`` with NaN and infinities as None, which JSON can carry."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value
