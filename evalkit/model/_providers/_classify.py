"""How an HTTP provider's failures map to evalkit's errors.

Each provider has ONE table, built by ``status_table`` below (the providers
differ only in the variables their hints name), read top to bottom; the first row whose
status matches (and whose body pattern, if any, is found in the response
body, case-insensitively) decides the error class. Keeping this as data means
the whole policy can be read in one screen and is tested row by row.

What evalkit does with each class (see :mod:`evalkit.errors`):

- ``ModelTransientError``: retried with backoff, honouring Retry-After;
- ``ModelRequestError``: the sample errors (kind ``model_request``);
- ``ModelFatalError`` (``QuotaExhaustedError``, ``AuthError``): the eval
  aborts at once with exit code 3 and prints the resume command.
"""

from __future__ import annotations

import email.utils
import json
import math
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ..._util._secrets import redact_query
from ...errors import (
    AuthError,
    ModelError,
    ModelFatalError,
    ModelRequestError,
    ModelTransientError,
    QuotaExhaustedError,
)
from ._transport import (
    CertificateRejected,
    ConnectFailed,
    ConnectionLost,
    ProxyRefused,
    RequestNotSendable,
    TimedOut,
    TransportError,
)

ANY_4XX = range(400, 500)
ANY_5XX = range(500, 600)
ANY_STATUS = range(0, 1000)

QUOTA_BODY = r"insufficient_quota|billing|credit|usage[ _-]?limit"
"""A 429 whose body says this is out of money, not merely too fast."""

CREDIT_TOO_LOW_BODY = (
    r"credit balance is too low|insufficient_quota|billing_hard_limit_reached|billing_not_active"
)
"""Narrower than QUOTA_BODY: a 400/403 body can quote the request back."""


@dataclass(frozen=True)
class StatusRule:
    """One row of a classification table."""

    statuses: tuple[int, ...] | range
    error: type[ModelError]
    reason: str
    body_pattern: str | None = None
    hint: str = ""

    def matches(self, status: int, body: str) -> bool:
        if status not in self.statuses:
            return False
        return self.body_pattern is None or re.search(self.body_pattern, body, re.I) is not None


_QUOTA_HINT = "add credit or wait for the quota to reset"
_REQUEST_HINT = "the provider refused this request; check the model name and generate options"


def status_table(env_prefix: str) -> tuple[StatusRule, ...]:
    """The table of an HTTP provider whose key and base URL come from ``{env_prefix}_*``.

    OpenAI and Anthropic classify alike; only the variables named in hints
    differ. (Anthropic answers 400 "Your credit balance is too low", hence
    the 400 row for credit.)
    """
    key_hint = f"check {env_prefix}_API_KEY or -M api_key=..., and what the account may use"
    base_url = f"{env_prefix}_BASE_URL, --model-base-url"
    return (
        StatusRule((402,), QuotaExhaustedError, "payment required", hint=_QUOTA_HINT),
        StatusRule((429,), QuotaExhaustedError, "quota exhausted", QUOTA_BODY, _QUOTA_HINT),
        StatusRule((429,), ModelTransientError, "rate limited"),
        StatusRule((400, 403), QuotaExhaustedError, "credit exhausted", CREDIT_TOO_LOW_BODY,
                   _QUOTA_HINT),
        StatusRule((401,), AuthError, "API key refused", hint=key_hint),
        StatusRule((403,), AuthError, "access denied", hint=key_hint),
        StatusRule((408,), ModelTransientError, "request timeout"),
        StatusRule((400,), ModelRequestError, "bad request", hint=_REQUEST_HINT),
        StatusRule((404,), ModelRequestError, "not found",
                   hint=f"check the model name and the base URL ({base_url})"),
        StatusRule((413,), ModelRequestError, "request too large", hint=_REQUEST_HINT),
        StatusRule((422,), ModelRequestError, "unprocessable request", hint=_REQUEST_HINT),
        StatusRule((500, 502, 503, 504), ModelTransientError, "server error"),
        StatusRule((529,), ModelTransientError, "overloaded"),
        StatusRule(ANY_5XX, ModelTransientError, "server error"),
        StatusRule(ANY_4XX, ModelRequestError, "request refused", hint=_REQUEST_HINT),
        StatusRule(ANY_STATUS, ModelRequestError, "unexpected HTTP status",
                   hint=f"check the base URL ({base_url})"),
    )


OPENAI_TABLE = status_table("OPENAI")
ANTHROPIC_TABLE = status_table("ANTHROPIC")


@dataclass(frozen=True)
class TransportRule:
    """A failure before any HTTP status arrived, matched by the seam's exception type."""

    exception: type[TransportError]
    error: type[ModelError]
    reason: str


# Subclasses come before their bases (CertificateRejected is a ConnectFailed).
TRANSPORT_TABLE: tuple[TransportRule, ...] = (
    TransportRule(RequestNotSendable, ModelFatalError,
                  "the request could not be sent (an API key or header with bad characters?)"),
    TransportRule(ProxyRefused, ModelFatalError,
                  "the proxy refused the connection; check HTTPS_PROXY, HTTP_PROXY or "
                  "ALL_PROXY, or list the host in NO_PROXY"),
    TransportRule(CertificateRejected, ModelFatalError,
                  "the server's TLS certificate did not verify; behind a TLS-inspecting "
                  "proxy, set SSL_CERT_FILE or SSL_CERT_DIR to a bundle with its CA"),
    TransportRule(TimedOut, ModelTransientError, "timed out"),
    TransportRule(ConnectFailed, ModelTransientError, "connection failed"),
    TransportRule(ConnectionLost, ModelTransientError, "connection failed"),
    TransportRule(TransportError, ModelTransientError, "connection failed"),
)


def matching_rule(table: tuple[StatusRule, ...], status: int, body: str) -> StatusRule:
    """The first row of ``table`` for this status and body (the last row matches all)."""
    for rule in table:
        if rule.matches(status, body):
            return rule
    raise AssertionError(f"classification table has no catch-all row for HTTP {status}")


def classify_status(
    table: tuple[StatusRule, ...],
    *,
    provider: str,
    status: int,
    body: str,
    headers: Mapping[str, str],
    secret: str | None,
) -> ModelError:
    """The error for a non-200 reply (returned, for the caller to raise)."""
    rule = matching_rule(table, status, body)
    hint = f"; {rule.hint}" if rule.hint else ""
    message = redact(
        f"{provider} API: HTTP {status} {rule.reason}: {error_detail(body).rstrip('.')}{hint}",
        secret,
    )
    if issubclass(rule.error, ModelTransientError):
        return rule.error(message, status_code=status, retry_after=parse_retry_after(headers))
    return rule.error(message, status_code=status)


def classify_transport_error(exc: TransportError, *, provider: str,
                             secret: str | None) -> ModelError:
    """The error for a transport failure before a complete reply."""
    rule = next(rule for rule in TRANSPORT_TABLE if isinstance(exc, rule.exception))
    detail = str(exc) or type(exc).__name__
    return rule.error(redact(f"{provider} API: {rule.reason}: {detail}", secret))


def error_detail(body: str, limit: int = 300) -> str:
    """The provider's own error message if the body is JSON, else the start of the body."""
    try:
        data: Any = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict):
        error = data.get("error")
        if isinstance(error, dict) and isinstance(error.get("message"), str):
            return str(error["message"])[:limit]
        if isinstance(error, str):
            return error[:limit]
    text = " ".join(body.split())
    return (text[:limit] + "...") if len(text) > limit else (text or "(empty body)")


def parse_retry_after(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """Seconds to wait from ``retry-after-ms`` or ``Retry-After`` (seconds or HTTP date)."""
    lowered = {key.lower(): value for key, value in headers.items()}
    milliseconds = _parse_float(lowered.get("retry-after-ms"))
    if milliseconds is not None:
        return max(milliseconds / 1000, 0.0)
    value = lowered.get("retry-after")
    if value is None:
        return None
    seconds = _parse_float(value)
    if seconds is not None:
        return max(seconds, 0.0)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (time.time() if now is None else now), 0.0)


def _parse_float(value: str | None) -> float | None:
    if value is None:
        return None
    try:
        number = float(value.strip())
    except ValueError:
        return None
    return number if math.isfinite(number) else None


SHORT_SECRET = 8
"""Below this length a key is masked only as a whole word: masking every "k"
of a local server's key "k" would garble the message around it."""


def redact(text: str, secret: str | None) -> str:
    """``text`` with every occurrence of ``secret`` masked (a key a server echoed back),
    and credential-named URL query parameters (``?api-key=...`` echoed in a path)."""
    text = redact_query(text)
    if not secret:
        return text
    if len(secret) >= SHORT_SECRET:
        return text.replace(secret, "***")
    return re.sub(rf"(?<![A-Za-z0-9]){re.escape(secret)}(?![A-Za-z0-9])", "***", text)
