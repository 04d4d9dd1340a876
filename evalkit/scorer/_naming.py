"""The shared body of ``@metric`` and ``@score_reducer``: name what a factory makes."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

Factory = TypeVar("Factory", bound=Callable[..., Any])


def naming(factory: Factory | None, name: str | None) -> Any:
    """Decorate ``factory`` (or, without it, return the decorator) so each thing it
    makes carries ``name`` or the factory's name: the key it gets in the results."""

    def decorate(made_by: Factory) -> Factory:
        label = name or made_by.__name__

        @functools.wraps(made_by)
        def make(*args: Any, **kwargs: Any) -> Any:
            made = made_by(*args, **kwargs)
            if getattr(made, "__evalkit_name__", None) is None:
                made.__evalkit_name__ = label
            return made

        return cast(Factory, make)

    return decorate(factory) if factory is not None else decorate
