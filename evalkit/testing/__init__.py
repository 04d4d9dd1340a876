"""Fakes for testing evals and evalkit itself; users may use them too."""

from ._provider_server import Fault, ProviderServer, RecordedRequest, ToolCallReply

__all__: list[str] = ["Fault", "ProviderServer", "RecordedRequest", "ToolCallReply"]
