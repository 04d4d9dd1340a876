"""Reading the numbers in an answer the way people write them, for ``match(numeric=True)``.

``$15.00``, ``15``, ``15.0.`` and ``(15)`` are one number; ``1,234`` is 1234;
``60%`` is not the number 60. Numbers compare by exact value.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_CURRENCY = re.compile(r"[$£€¥]")
_THOUSANDS = re.compile(r"(?<=\d),(?=\d{3}(?!\d))")
_NUMBER = re.compile(r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")
# Sentence and enclosing punctuation that sticks to a number ("42.", "(42)", "42!").
# Not "%": 60% is a percentage, not the number 60.
_EDGE = ".,;:!?()[]{}<>'\"`*_"


def parse_number(token: str) -> Decimal | None:
    """``token`` as a number, ignoring currency signs, thousands separators and the
    punctuation around it; None when it is not one number."""
    text = _THOUSANDS.sub("", _CURRENCY.sub("", token.strip().replace("\u2212", "-")))
    text = text.lstrip(_EDGE.replace(".", "")).rstrip(_EDGE)  # ".5" keeps its point
    if not _NUMBER.fullmatch(text):
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:  # pragma: no cover  # the pattern admits only numbers
        return None
    return number if number.is_finite() else None


def numbers_in(text: str) -> list[tuple[str, Decimal]]:
    """Every whitespace-separated word of ``text`` that is a number, with its value."""
    found = []
    for word in text.split():
        number = parse_number(word)
        if number is not None:
            found.append((word, number))
    return found
