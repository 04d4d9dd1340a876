"""Finding and masking credentials before anything is written: logs get shared.

Three rules: an argument whose name says it is a credential (``api_key``,
``token``, ``password``, ``authorization``, ...) is masked whatever its value;
the ``user:password@`` part of a URL is masked, and so is a URL query
parameter whose name says credential (``?api-key=...``); and the literal
values found by the first two rules are masked wherever else they appear (a
recorded command line).
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Iterable, Mapping
from typing import Any, overload

REDACTED = "***"

_SECRET_WORDS = frozenset({
    "key", "apikey", "token", "secret", "password", "passwd", "pwd", "passphrase",
    "authorization", "auth", "credential", "credentials", "bearer", "cookie",
})
_SECRET_ENDINGS = ("apikey", "token", "secret", "password")
_USERINFO = re.compile(r"(?P<scheme>[A-Za-z][A-Za-z0-9+.\-]*://)(?P<userinfo>[^/?#\s@]*)@")
_QUERY_PARAM = re.compile(r"(?P<lead>[?&;](?P<name>[^=&;#\s/]+)=)(?P<value>[^&;#\s]*)")
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_MIN_LITERAL = 6
"""Shorter values are masked only where a name or URL marks them (a short
password would otherwise mask every matching substring of a command)."""


def is_secret_name(name: str) -> bool:
    """True for names that say they hold a credential: ``api_key``, ``apiKey``,
    ``x-auth-token``, ``password``... (``max_tokens`` is not one)."""
    words = [word for word in re.split(r"[^a-z0-9]+", _CAMEL.sub("_", name).lower()) if word]
    return any(word in _SECRET_WORDS for word in words) or "".join(words).endswith(
        _SECRET_ENDINGS)


def url_userinfo(text: str) -> list[str]:
    """The ``user:password`` parts of the URLs in ``text``, each half alone, and the
    values of credential-named query parameters (``?api-key=...``)."""
    found: list[str] = []
    for match in _USERINFO.finditer(text):
        userinfo = match.group("userinfo")
        if userinfo:
            found.extend([userinfo, *userinfo.split(":", 1)])
    if "://" in text:
        found.extend(match.group("value") for match in _QUERY_PARAM.finditer(text)
                     if is_secret_name(match.group("name")) and match.group("value"))
    return found


@overload
def redact_url(text: str) -> str: ...


@overload
def redact_url(text: None) -> None: ...


def redact_url(text: str | None) -> str | None:
    """``https://user:pw@host/v1?api-key=k`` -> ``https://***@host/v1?api-key=***``
    (every URL in ``text``)."""
    if text is None:
        return None
    text = _USERINFO.sub(lambda m: f"{m.group('scheme')}{REDACTED}@", text)
    return text if "://" not in text else redact_query(text)


def redact_query(text: str) -> str:
    """``...?api-key=k&v=1`` -> ``...?api-key=***&v=1``: credential-named query
    parameters masked wherever they appear (a server echoing the path it was sent)."""
    return _QUERY_PARAM.sub(lambda m: f"{m.group('lead')}{REDACTED}" if is_secret_name(
        m.group("name")) and m.group("value") else m.group(0), text)


def is_redacted(value: Any) -> bool:
    """True for a value (or a URL, or data holding one) that was masked here."""
    if isinstance(value, str):
        return value == REDACTED or f"://{REDACTED}@" in value or (
            "://" in value and f"={REDACTED}" in value)
    if isinstance(value, list):
        return any(is_redacted(item) for item in value)
    if isinstance(value, dict):
        return any(is_redacted(item) for item in value.values())
    return False


def redact_data(value: Any, literals: Iterable[str] = (), *, by_name: bool = True) -> Any:
    """``value`` with URL userinfo masked, a text holding one of ``literals`` masked
    whole, and (``by_name``) credential-named entries at any depth masked."""
    if isinstance(value, str):
        return REDACTED if any(secret in value for secret in literals) else redact_url(value)
    if isinstance(value, list):
        return [redact_data(item, literals, by_name=by_name) for item in value]
    if isinstance(value, dict):
        return {key: REDACTED if by_name and isinstance(key, str) and is_secret_name(key) and item
                else redact_data(item, literals, by_name=by_name) for key, item in value.items()}
    return value


def secret_values(data: Mapping[str, Any], environ: Mapping[str, str] | None = None) -> set[str]:
    """The literal credentials in ``data`` (by name or URL userinfo, at any depth) and
    in the environment's credential-named variables (``OPENAI_API_KEY``)."""
    found: set[str] = set()

    def visit(value: Any, secret: bool) -> None:
        if isinstance(value, str):
            if secret:
                found.add(value)
            found.update(url_userinfo(value))
        elif isinstance(value, (list, tuple)):
            for item in value:
                visit(item, secret)
        elif isinstance(value, Mapping):
            for key, item in value.items():
                visit(item, secret or (isinstance(key, str) and is_secret_name(key)))

    visit(dict(data), False)
    env = os.environ if environ is None else environ
    found.update(value for name, value in env.items() if is_secret_name(name))
    return {value.strip() for value in found if len(value.strip()) >= _MIN_LITERAL}


def redact_command(command: str, secrets: Iterable[str] = ()) -> str:
    """A command line with credentials masked: ``-M api_key=...`` and ``--token X``
    values, URL userinfo, and every literal in ``secrets``."""
    try:
        words = shlex.split(command)
    except ValueError:  # not shell syntax (unbalanced quotes): mask what can be found
        return _redact_literals(redact_url(command), secrets)
    masked: list[str] = []
    hide_next = False
    for word in words:
        name, sep, _ = word.partition("=")
        if hide_next:
            word = REDACTED
        elif sep and is_secret_name(name.lstrip("-")):
            word = f"{name}={REDACTED}"
        hide_next = word.startswith("--") and not sep and is_secret_name(word.lstrip("-"))
        masked.append(_redact_literals(redact_url(word), secrets))
    return shlex.join(masked)


def _redact_literals(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted(secrets, key=len, reverse=True):  # longest first: no partial leftovers
        text = text.replace(secret, REDACTED)
    return text
