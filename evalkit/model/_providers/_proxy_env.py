"""Which proxy a provider's requests go through, read from the environment as httpx and curl read it.

``HTTPS_PROXY`` / ``HTTP_PROXY`` (by the scheme of the base URL), then
``ALL_PROXY``; hosts listed in ``NO_PROXY`` go direct, including
``host:port`` entries (which aiohttp's own ``trust_env`` lookup ignores, so
evalkit reads the variables itself). Names may be upper or lower case.
Credentials in the proxy URL (``http://user:pass@proxy:3128``) are sent as
Basic proxy authentication. ``http://`` and ``https://`` proxies are
supported; ``socks`` ones are refused with a clear error (see docs/providers.md).
"""

from __future__ import annotations

import urllib.parse
import urllib.request
from dataclasses import dataclass, field

from ...errors import UsageError


@dataclass(frozen=True)
class Proxy:
    url: str
    """``scheme://host:port``, without credentials."""
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)

    def __repr__(self) -> str:
        # Credentials never appear: reprs end up in logs and tracebacks.
        return f"Proxy({self.url!r})"


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
    """``url`` (from the variable ``source``) as a Proxy; a clear error if evalkit can't use it."""
    if "://" not in url:
        url = f"http://{url}"  # as httpx and curl read "proxy:3128"
    parts = urllib.parse.urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        port = 0
    if parts.scheme not in ("http", "https") or not parts.hostname or not port:
        # Credentials masked whole: a token is sometimes given as the user name.
        shown = url if "@" not in parts.netloc else url.replace(
            parts.netloc.rsplit("@", 1)[0], "***", 1)
        why = ("socks proxies are not supported" if parts.scheme.startswith("socks")
               else "evalkit speaks to http:// and https:// proxies (scheme://host:port)")
        raise UsageError(
            f"proxy {shown!r} (from {source}) is not supported: {why}; fix the variable, "
            "or list the model's host in NO_PROXY to go direct"
        )
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    username = None if parts.username is None else urllib.parse.unquote(parts.username)
    password = None if parts.username is None else urllib.parse.unquote(parts.password or "")
    return Proxy(f"{parts.scheme}://{host}:{port}", username, password)
