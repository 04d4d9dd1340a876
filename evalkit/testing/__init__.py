"""Fakes for testing evals and evalkit itself; users may use them too.

- ``ProviderServer``: a real HTTP server on 127.0.0.1 speaking the OpenAI and
  Anthropic protocols, with scripted faults (``Fault``) and recorded requests.
- ``MockTransport``: a provider's HTTP answered in memory by a function of the
  ``HttpRequest`` returning an ``HttpReply`` (pass ``transport=`` to ``get_model``);
  it may raise ``ConnectFailed``, ``ConnectionLost``, ``TimedOut`` (all
  ``TransportError``) to act out a failure.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from evalkit.model._providers._transport import (
        ConnectFailed,
        ConnectionLost,
        HttpReply,
        HttpRequest,
        TimedOut,
        TransportError,
    )

    from ._mock_transport import MockTransport
    from ._provider_server import Fault, ProviderServer, RecordedRequest, ToolCallReply

__all__ = ["ConnectFailed", "ConnectionLost", "Fault", "HttpReply", "HttpRequest",
           "MockTransport", "ProviderServer", "RecordedRequest", "TimedOut", "ToolCallReply",
           "TransportError"]
_SEAM = ("ConnectFailed", "ConnectionLost", "HttpReply", "HttpRequest", "TimedOut",
         "TransportError")
_MODULES = {"MockTransport": "._mock_transport",
            **dict.fromkeys(_SEAM, "evalkit.model._providers._transport")}


def __getattr__(name: str) -> Any:
    # Lazy, so `python -m evalkit.testing._provider_server` does not import itself twice.
    if name not in __all__:
        raise AttributeError(f"module 'evalkit.testing' has no attribute {name!r}")
    module = _MODULES.get(name, "._provider_server")
    return getattr(importlib.import_module(module, __name__), name)
