"""The ``fail_on_error`` rule: when sample errors fail an eval.

| value            | the eval fails when                                  |
| ---------------- | ---------------------------------------------------- |
| ``True``         | any sample errors (the default)                      |
| ``False``        | never, however many samples error                    |
| ``0 < x < 1``    | more than x of the total samples (samples x epochs)  |
| ``x >= 1``       | more than x samples                                  |
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction

from .errors import UsageError

FailOnError = bool | int | float


def validate_fail_on_error(value: object) -> FailOnError:
    """``value`` if it is a valid ``fail_on_error``, else a ``UsageError`` saying why."""
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)) and math.isfinite(value) and value > 0:
        return value
    raise UsageError(
        f"fail_on_error (--fail-on-error) must be True, False, a fraction 0 < x < 1 or a "
        f"sample count >= 1; got {value!r}. Use False (--no-fail-on-error) to never fail "
        "because of sample errors"
    )


@dataclass(frozen=True)
class ErrorPolicy:
    """Decides whether ``errors`` sample errors out of ``total`` fail the eval."""

    fail_on_error: FailOnError = True

    def exceeded(self, errors: int, total: int) -> bool:
        """True once ``errors`` is past the threshold (never merely at it)."""
        rule = self.fail_on_error
        if rule is True:
            return errors > 0
        if rule is False:
            return False
        if rule < 1:
            # Exact arithmetic on the fraction as written: 0.29 * 100 is
            # 28.999999999999996 in floats, which would fail at exactly 29 errors.
            return errors > Fraction(repr(rule)) * total
        return errors > rule

    def describe(self, total: int) -> str:
        """The threshold as messages show it: ``0.1: more than 10% of 40 samples``."""
        rule = self.fail_on_error
        if rule is True:
            return "True: any error"
        if rule is False:
            return "False: never"
        if rule < 1:
            return f"{rule:g}: more than {rule * 100:g}% of {total} samples"
        return f"{rule:g}: more than {rule:g} {'sample' if rule == 1 else 'samples'}"
