"""Fakes for testing evals and evalkit itself; users may use them too.

- ``ProviderServer``: a real HTTP server on 127.0.0.1 speaking the OpenAI and
  Anthropic protocols, with scripted faults (``Fault``) and recorded requests.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._provider_server import Fault, ProviderServer, RecordedRequest, ToolCallReply

__all__ = ["Fault", "ProviderServer", "RecordedRequest", "ToolCallReply"]


def __getattr__(name: str) -> Any:
    # Lazy, so `python -m evalkit.testing._provider_server` does not import itself twice.
    if name not in __all__:
        raise AttributeError(f"module 'evalkit.testing' has no attribute {name!r}")
    return getattr(importlib.import_module("._provider_server", __name__), name)
