"""One warning per provider and ``GenerateConfig`` field its API cannot take.

A field a provider cannot send is left out of the request (sending it would
fail the call or be ignored without a word); the user hears it once per
process, naming the field and the provider, not once per call.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable

from .._config import GenerateConfig

_warned: set[tuple[str, str]] = set()


def warn_unsupported(provider: str, config: GenerateConfig, fields: Iterable[str],
                     why: str = "its API has no such option") -> None:
    """Warn once for each of ``fields`` that ``config`` sets: ``provider`` will not send it."""
    for name in fields:
        if getattr(config, name) is None or (provider, name) in _warned:
            continue
        _warned.add((provider, name))
        warnings.warn(f"GenerateConfig.{name} is not sent to {provider}: {why}",
                      UserWarning, stacklevel=2)


def forget_warnings() -> None:
    """Warn again about every field (for tests)."""
    _warned.clear()
