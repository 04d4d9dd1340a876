"""Where a provider lives and how it authenticates: base URL and API key.

Explicit arguments (``--model-base-url``, ``-M base_url=...``,
``-M api_key=...``) win over the environment, which wins over the default.
"""

from __future__ import annotations

import os
import urllib.parse
from dataclasses import dataclass

from ..._util._secrets import redact_url
from ...errors import UsageError


@dataclass(frozen=True)
class Endpoint:
    base_url: str
    api_key: str | None

    def __repr__(self) -> str:
        # The key is never shown, not even masked: reprs end up in logs and tracebacks.
        return f"Endpoint(base_url={redact_url(self.base_url)!r})"


def resolve_endpoint(
    *, env_prefix: str, base_url: str | None, api_key: str | None, default_base_url: str,
    key_required: bool = True,
) -> Endpoint:
    """The endpoint from arguments, then ``{env_prefix}_BASE_URL`` / ``_API_KEY``, then defaults.

    A key is required only by the vendor's own URL (and not at all when
    ``key_required`` is False): local servers (vLLM, Ollama) usually need none.
    """
    key_env, url_env = f"{env_prefix}_API_KEY", f"{env_prefix}_BASE_URL"
    url = (base_url or os.environ.get(url_env) or default_base_url).strip().rstrip("/")
    problem = base_url_problem(url)
    if problem:
        raise UsageError(
            f"base URL {redact_url(url)!r} {problem}; check --model-base-url, -M base_url or {url_env}"
        )
    key = (api_key if api_key is not None else os.environ.get(key_env, "")).strip() or None
    if key is not None and not (key.isascii() and key.isprintable()):
        raise UsageError(
            f"the API key (from -M api_key or {key_env}) contains control or non-ASCII characters; "
            "copy it again without line breaks"
        )
    if key is None and key_required and url == default_base_url:
        raise UsageError(
            f"{key_env} is not set: export {key_env}=... or pass -M api_key=...; "
            f"a local compatible server needs only a base URL ({url_env} or --model-base-url)"
        )
    return Endpoint(base_url=url, api_key=key)


def base_url_problem(url: str) -> str | None:
    """What is wrong with ``url`` as a base URL, or None if nothing is."""
    if not url.startswith(("http://", "https://")):
        return "must start with http:// or https://"
    if not url.isascii():
        return "must be ASCII (write an international domain name in its xn-- form)"
    if any(char.isspace() or not char.isprintable() for char in url):
        return "contains spaces or control characters (percent-encode them, e.g. %20)"
    if "#" in url:
        return "has a #fragment, which is never sent to the server"
    parts = urllib.parse.urlsplit(url)
    try:
        parts.port  # noqa: B018 -- reading it validates it
    except ValueError:
        return "has an invalid port"
    if not parts.hostname:
        return "has no host"
    try:
        parts.hostname.encode("idna")  # what the connection will do with it
    except UnicodeError:
        return "has an invalid host name (a part longer than 63 characters, or empty)"
    return None
