"""The HTTP proxy a provider's requests go through, from the environment, as httpx reads it.

``HTTPS_PROXY`` / ``HTTP_PROXY`` (by the scheme of the base URL), then
``ALL_PROXY``; hosts listed in ``NO_PROXY`` go direct. Names may be upper or
lower case. Credentials in the proxy URL (``http://user:pass@proxy:3128``)
are sent as Basic proxy authentication. HTTPS requests go through a CONNECT
tunnel, so the proxy never sees the API key.
"""

from __future__ import annotations

import base64
import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from ...errors import UsageError


@dataclass(frozen=True)
class Proxy:
    host: str
    port: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    """Sent to the proxy itself: its credentials, if the URL had some."""

    def __repr__(self) -> str:
        # Credentials never appear: reprs end up in logs and tracebacks.
        return f"Proxy({self.host!r}, {self.port})"


def proxy_for(base_url: str) -> Proxy | None:
    """The proxy from the environment for requests to ``base_url``, or None to go direct."""
    target = urllib.parse.urlsplit(base_url)
    proxies = urllib.request.getproxies_environment()
    bypass = urllib.request.proxy_bypass_environment  # type: ignore[attr-defined]  # not in typeshed
    port = target.port or (443 if target.scheme == "https" else 80)
    # "host:port": NO_PROXY entries with a port ("localhost:8000") match too, as in httpx.
    if target.hostname and bypass(f"{target.hostname}:{port}", proxies):
        return None
    for name in (target.scheme, "all"):
        if proxies.get(name):
            return parse_proxy(proxies[name], source=f"{name.upper()}_PROXY")
    return None


def parse_proxy(url: str, source: str = "HTTPS_PROXY, HTTP_PROXY or ALL_PROXY") -> Proxy:
    """``url`` (from the variable ``source``) as a Proxy; a clear error if it is not http://."""
    if "://" not in url:
        url = f"http://{url}"  # as httpx and curl read "proxy:3128"
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port or 80
    except ValueError:
        port = 0
    if parts.scheme != "http" or not parts.hostname or not port:
        # Credentials masked whole: a token is sometimes given as the user name.
        shown = url if "@" not in parts.netloc else url.replace(
            parts.netloc.rsplit("@", 1)[0], "***", 1)
        raise UsageError(
            f"proxy {shown!r} (from {source}) is not supported: "
            "evalkit speaks to http://host:port proxies; fix the variable, or list the "
            "model's host in NO_PROXY to go direct"
        )
    headers = []
    if parts.username is not None:
        credentials = (f"{urllib.parse.unquote(parts.username)}:"
                       f"{urllib.parse.unquote(parts.password or '')}")
        token = base64.b64encode(credentials.encode()).decode("ascii")
        headers.append(("proxy-authorization", f"Basic {token}"))
    return Proxy(parts.hostname, port, headers)
