"""The fault classification tables, row by row, and the helpers they use."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from email.utils import format_datetime
from typing import NoReturn

import pytest

from evalkit.errors import (
    AuthError,
    ModelError,
    ModelFatalError,
    ModelRequestError,
    ModelTransientError,
    QuotaExhaustedError,
)
from evalkit.model import GenerateConfig, get_model
from evalkit.model._providers._classify import (
    ANTHROPIC_TABLE,
    OPENAI_TABLE,
    TRANSPORT_TABLE,
    StatusRule,
    classify_status,
    classify_transport_error,
    error_detail,
    matching_rule,
    parse_retry_after,
    redact,
)
from evalkit.model._providers._transport import (
    CertificateRejected,
    ConnectFailed,
    ConnectionLost,
    ProxyRefused,
    RequestNotSendable,
    TimedOut,
    TransportError,
)
from evalkit.testing import HttpRequest, MockTransport


def openai_body(message: str, type: str = "invalid_request_error", code: str | None = None) -> str:
    return json.dumps({"error": {"message": message, "type": type, "param": None, "code": code}})


def anthropic_body(message: str, type: str = "invalid_request_error") -> str:
    return json.dumps({"type": "error", "error": {"type": type, "message": message}})


Case = tuple[int, str, type[ModelError], str]

OPENAI_CASES: dict[str, Case] = {
    "402": (402, openai_body("Payment required"), QuotaExhaustedError, "payment required"),
    "429-insufficient_quota": (
        429,
        openai_body(
            "You exceeded your current quota, please check your plan.",
            "insufficient_quota",
            "insufficient_quota",
        ),
        QuotaExhaustedError,
        "quota exhausted",
    ),
    "429-usage-limit": (
        429,
        openai_body("You have reached your Usage Limit."),
        QuotaExhaustedError,
        "quota exhausted",
    ),
    "429-billing-text": (429, "Billing hard limit reached", QuotaExhaustedError, "quota exhausted"),
    "429-credit": (429, openai_body("Out of CREDIT"), QuotaExhaustedError, "quota exhausted"),
    "429-rate-limit": (
        429,
        openai_body(
            "Rate limit reached for gpt-4o in organization org-x on tokens per min",
            "requests",
            "rate_limit_exceeded",
        ),
        ModelTransientError,
        "rate limited",
    ),
    "400-billing-hard-limit": (
        400,
        openai_body("Billing hard limit has been reached", code="billing_hard_limit_reached"),
        QuotaExhaustedError,
        "credit exhausted",
    ),
    "403-credit-too-low": (
        403,
        openai_body("Your credit balance is too low."),
        QuotaExhaustedError,
        "credit exhausted",
    ),
    "401": (
        401,
        openai_body("Incorrect API key provided: sk-ab***yz.", code="invalid_api_key"),
        AuthError,
        "API key refused",
    ),
    "403": (
        403,
        openai_body("Project does not have access to model gpt-5"),
        AuthError,
        "access denied",
    ),
    "408": (408, "request timeout", ModelTransientError, "request timeout"),
    "400": (400, openai_body("Invalid 'messages[0].role'"), ModelRequestError, "bad request"),
    # A 400 quoting a prompt about credit is a bad request, not an empty wallet.
    "400-quotes-credit": (
        400,
        openai_body("Invalid content: 'what is a credit score?' is too long"),
        ModelRequestError,
        "bad request",
    ),
    "404": (404, openai_body("The model `gpt-9` does not exist"), ModelRequestError, "not found"),
    "413": (413, "payload too large", ModelRequestError, "request too large"),
    "422": (422, openai_body("unprocessable"), ModelRequestError, "unprocessable request"),
    "500": (500, openai_body("server error", "server_error"), ModelTransientError, "server error"),
    "502": (502, "<html>Bad Gateway</html>", ModelTransientError, "server error"),
    "503": (503, "", ModelTransientError, "server error"),
    "504": (504, "gateway timeout", ModelTransientError, "server error"),
    "529": (529, openai_body("Overloaded", "overloaded_error"), ModelTransientError, "overloaded"),
    "501-other-5xx": (501, "not implemented", ModelTransientError, "server error"),
    "409-other-4xx": (409, "conflict", ModelRequestError, "request refused"),
    "302-unexpected": (302, "", ModelRequestError, "unexpected HTTP status"),
}

ANTHROPIC_CASES: dict[str, Case] = {
    "402": (
        402,
        anthropic_body("Payment required", "billing_error"),
        QuotaExhaustedError,
        "payment required",
    ),
    "429-usage-limit": (
        429,
        anthropic_body("You have reached your specified API usage limits.", "rate_limit_error"),
        QuotaExhaustedError,
        "quota exhausted",
    ),
    "429-rate-limit": (
        429,
        anthropic_body(
            "Number of request tokens has exceeded your per-minute rate limit", "rate_limit_error"
        ),
        ModelTransientError,
        "rate limited",
    ),
    "400-credit-too-low": (
        400,
        anthropic_body(
            "Your credit balance is too low to access the "
            "Anthropic API. Please go to Plans & Billing to "
            "upgrade or purchase credits."
        ),
        QuotaExhaustedError,
        "credit exhausted",
    ),
    "401": (
        401,
        anthropic_body("invalid x-api-key", "authentication_error"),
        AuthError,
        "API key refused",
    ),
    "403": (
        403,
        anthropic_body("Your API key does not have permission", "permission_error"),
        AuthError,
        "access denied",
    ),
    "408": (408, "", ModelTransientError, "request timeout"),
    "400": (
        400,
        anthropic_body("messages: roles must alternate"),
        ModelRequestError,
        "bad request",
    ),
    "404": (
        404,
        anthropic_body("model: claude-9", "not_found_error"),
        ModelRequestError,
        "not found",
    ),
    "413": (
        413,
        anthropic_body("Request exceeds the maximum size", "request_too_large"),
        ModelRequestError,
        "request too large",
    ),
    "422": (422, "", ModelRequestError, "unprocessable request"),
    "500": (
        500,
        anthropic_body("Internal server error", "api_error"),
        ModelTransientError,
        "server error",
    ),
    "503": (503, "", ModelTransientError, "server error"),
    "529": (
        529,
        anthropic_body("Overloaded", "overloaded_error"),
        ModelTransientError,
        "overloaded",
    ),
    "599-other-5xx": (599, "", ModelTransientError, "server error"),
    "418-other-4xx": (418, "teapot", ModelRequestError, "request refused"),
    "301-unexpected": (301, "", ModelRequestError, "unexpected HTTP status"),
}

TABLES = {"openai": (OPENAI_TABLE, OPENAI_CASES), "anthropic": (ANTHROPIC_TABLE, ANTHROPIC_CASES)}
ROWS = [
    pytest.param(provider, name, id=f"{provider}-{name}")
    for provider, (_, cases) in TABLES.items()
    for name in cases
]


@pytest.mark.parametrize(("provider", "case"), ROWS)
def test_status_row(provider: str, case: str) -> None:
    """Each status/body case lands on the expected error class and reason."""
    table, cases = TABLES[provider]
    status, body, expected, reason = cases[case]
    error = classify_status(
        table, provider=provider, status=status, body=body, headers={}, secret=None
    )
    assert type(error) is expected
    assert error.status_code == status
    assert f"HTTP {status} {reason}" in str(error)


@pytest.mark.parametrize("provider", list(TABLES))
def test_every_row_is_tested(provider: str) -> None:
    """The cases above reach every row of the table, so no row goes untested."""
    table, cases = TABLES[provider]
    reached = {
        table.index(matching_rule(table, status, body)) for status, body, _, _ in cases.values()
    }
    assert reached == set(range(len(table)))


@pytest.mark.parametrize("provider", list(TABLES))
def test_table_ends_with_catch_all(provider: str) -> None:
    """Any status at all finds a row (the last one matches everything)."""
    table, _ = TABLES[provider]
    assert all(isinstance(matching_rule(table, status, ""), StatusRule) for status in range(600))


def test_transient_error_carries_retry_after() -> None:
    """A 429's Retry-After header is parsed into the error for the retry loop."""
    error = classify_status(
        OPENAI_TABLE,
        provider="OpenAI",
        status=429,
        body="slow down",
        headers={"Retry-After": "7"},
        secret=None,
    )
    assert isinstance(error, ModelTransientError)
    assert error.retry_after == 7.0


def test_status_error_redacts_echoed_key() -> None:
    """A key the server quotes back is masked in the message."""
    key = "sk-distinctive-123"
    error = classify_status(
        OPENAI_TABLE,
        provider="OpenAI",
        status=401,
        body=openai_body(f"Incorrect API key provided: {key}"),
        headers={},
        secret=key,
    )
    assert key not in str(error)
    assert "Incorrect API key provided: ***" in str(error)


TRANSPORT_CASES = [
    (ConnectFailed("127.0.0.1:9: [Errno 111] Connection refused"), ModelTransientError,
     "connection"),
    (TimedOut("waiting for the reply took over 600 s"), ModelTransientError, "timed out"),
    (ConnectionLost("the server closed the connection without replying"),
     ModelTransientError, "connection"),
    (ProxyRefused("the proxy answered HTTP 407 to CONNECT"), ModelFatalError, "HTTPS_PROXY"),
    (CertificateRejected("certificate verify failed"), ModelFatalError, "SSL_CERT_FILE"),
    (RequestNotSendable("Illegal header value"), ModelFatalError, "could not be sent"),
    (TransportError("a failure of a kind no row names"), ModelTransientError, "connection"),
]


@pytest.mark.parametrize(
    ("exc", "expected", "phrase"),
    TRANSPORT_CASES,
    ids=[type(case[0]).__name__ for case in TRANSPORT_CASES],
)
def test_transport_row(exc: Exception, expected: type[ModelError], phrase: str) -> None:
    """Each transport failure before a reply maps to the expected error class."""
    error = classify_transport_error(exc, provider="OpenAI", secret=None)
    assert type(error) is expected
    assert phrase in str(error)


def test_every_transport_row_is_tested() -> None:
    """The transport cases reach every row of the transport table."""
    reached = set()
    for exc, _, _ in TRANSPORT_CASES:
        reached.add(next(rule.exception for rule in TRANSPORT_TABLE
                         if isinstance(exc, rule.exception)))
    assert reached == {rule.exception for rule in TRANSPORT_TABLE}


@pytest.mark.anyio
async def test_other_exception_is_not_classified() -> None:
    """A bug in the transport (not a TransportError) is not disguised as a provider failure."""
    def buggy(request: HttpRequest) -> NoReturn:
        raise ZeroDivisionError("bug")

    model = get_model("openai/m", base_url="http://test/v1", api_key="k",
                      transport=MockTransport(buggy), config=GenerateConfig(max_retries=3))
    with pytest.raises(ZeroDivisionError):
        await model.generate("hi")
    assert model.retries == 0


def test_transport_error_redacts_key() -> None:
    """A transport message quoting the key (h11 quotes bad headers) is masked."""
    exc = RequestNotSendable("Illegal header value b'Bearer sk-xyz-777\\n'")
    error = classify_transport_error(exc, provider="OpenAI", secret="sk-xyz-777")
    assert error is not None
    assert "sk-xyz-777" not in str(error)


def test_short_key_is_masked_only_as_a_whole_word() -> None:
    """A short local key ("k") is masked where it stands alone, not inside other words."""
    error = classify_status(
        OPENAI_TABLE, provider="OpenAI", status=401,
        body=openai_body("Incorrect API key provided: k. Check your key."),
        headers={}, secret="k",
    )
    assert "provided: ***." in str(error)
    assert "Check your key" in str(error)
    assert "check OPENAI_API_KEY" in str(error)


NOW = 1_700_000_000.0


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "3"}, 3.0),
        ({"retry-after": "1.5"}, 1.5),
        ({"Retry-After": "-4"}, 0.0),
        ({"retry-after-ms": "250", "retry-after": "9"}, 0.25),
        (
            {
                "Retry-After": format_datetime(
                    datetime.fromtimestamp(NOW + 30, timezone.utc), usegmt=True
                )
            },
            30.0,
        ),
        (
            {
                "Retry-After": format_datetime(
                    datetime.fromtimestamp(NOW - 30, timezone.utc), usegmt=True
                )
            },
            0.0,
        ),
        ({"Retry-After": "soon"}, None),
        ({"Retry-After": "nan"}, None),
        ({}, None),
    ],
    ids=[
        "seconds",
        "fraction",
        "negative",
        "ms-first",
        "date-future",
        "date-past",
        "garbage",
        "nan",
        "absent",
    ],
)
def test_parse_retry_after(headers: dict[str, str], expected: float | None) -> None:
    """Retry-After is read as seconds, milliseconds or an HTTP date; junk is ignored."""
    assert parse_retry_after(headers, now=NOW) == expected


def test_error_detail_prefers_provider_message() -> None:
    """The provider's own error message is quoted, not the whole JSON envelope."""
    assert error_detail(anthropic_body("roles must alternate")) == "roles must alternate"
    assert error_detail("  <html>\n Bad   Gateway </html>") == "<html> Bad Gateway </html>"
    assert error_detail("") == "(empty body)"
    assert error_detail("x" * 1000, limit=10) == "x" * 10 + "..."


def test_redact() -> None:
    """Every occurrence of the secret is masked; no secret means no change."""
    assert redact("a KEY b KEY", "KEY") == "a *** b ***"
    assert redact("a KEY", None) == "a KEY"
