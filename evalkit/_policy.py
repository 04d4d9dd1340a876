"""The ``fail_on_error`` rule: when sample errors fail an eval."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Union

from .errors import UsageError

FailOnError = Union[bool, float]


def validate_fail_on_error(value: object) -> FailOnError:
    """``value`` if it is a valid ``fail_on_error``, else a ``UsageError`` saying why."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and value > 0:
        return float(value) if value < 1 else value
    raise UsageError(
        f"fail_on_error must be True, False, a fraction 0 < x < 1 or a count >= 1; got "
        f"{value!r}. Use --no-fail-on-error (False) to never fail on sample errors"
    )


@dataclass(frozen=True)
class ErrorPolicy:
    """Decides whether ``errors`` sample errors out of ``total`` fail the eval."""

    fail_on_error: FailOnError = True

    def exceeded(self, errors: int, total: int) -> bool:
        rule = self.fail_on_error
        if rule is True:
            return errors > 0
        if rule is False:
            return False
        if rule < 1:
            return errors > rule * total
        return errors > rule

    def describe(self) -> str:
        """The threshold as shown in messages: ``0`` (first error), ``10%``, ``5``."""
        rule = self.fail_on_error
        if rule is True:
            return "first error"
        if rule is False:
            return "never"
        return f"{rule:.0%} of samples" if rule < 1 else f"{rule:g} samples"
