"""Whole numbers read from outside (forms, bot commands and buttons, cookies, stream positions).

Only ASCII digits are digits: `str.isdigit()` and `re`'s `\\d` also take `²` and `٣٠`, which
`int()` then reads as numbers nobody typed. Record ids are capped at PostgreSQL's INTEGER
range, so an id no table can hold reads as "no such record" instead of failing the query.
"""

from __future__ import annotations

import re

from werkzeug.routing import IntegerConverter

MAX_ID = 2**31 - 1  # the largest value of an INTEGER primary key on PostgreSQL
ASCII_DIGITS = re.compile(r"[0-9]+")


def read_whole(text: str | None, max_digits: int = 18) -> int | None:
    """`text` as a non-negative whole number of ASCII digits (at most `max_digits`), else None."""
    if text is None or len(text) > max_digits or not ASCII_DIGITS.fullmatch(text):
        return None
    return int(text)


def read_id(text: str | None) -> int | None:
    """A record id (1 .. MAX_ID) written in ASCII digits, else None."""
    value = read_whole(text, max_digits=10)
    return value if value is not None and 1 <= value <= MAX_ID else None


def is_id(value: int) -> bool:
    """Whether an int already parsed (e.g. by a URL converter) can be a record id at all."""
    return 1 <= value <= MAX_ID


class RecordIdConverter(IntegerConverter):
    """The URL converter for `<int:...>`: ASCII digits only, and only ids a table can hold (else 404).

    Werkzeug's own matches `\\d+`, which takes `٣` (read as 3), and passes ids beyond
    PostgreSQL's INTEGER range on to a query that then fails.
    """

    regex = r"[0-9]+"

    def __init__(self, map, fixed_digits: int = 0, min: int | None = 1, max: int | None = MAX_ID, signed: bool = False) -> None:  # noqa: A002
        super().__init__(map, fixed_digits, min, max, signed=False)
