"""URL converters: an id in a path is ASCII digits within the database's integer range.

Werkzeug's `int` converter reads any Unicode digit (`/auctions/٣` was auction 3) and any
size (`/auctions/99999999999999999999999` reached the database and crashed PostgreSQL).
Here both are simply no such page: 404.
"""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, ValidationError

MAX_ID = 2**31 - 1  # SQL INTEGER, the type of every id column


class IdConverter(IntegerConverter):
    """`<int:...>` for ids: 0-9 only, at most 2**31 - 1; anything else does not match (404)."""

    regex = r"[0-9]{1,10}"

    def to_python(self, value: str) -> int:
        number = int(value)
        if number > MAX_ID:
            raise ValidationError()
        return number


def register(app) -> None:
    app.url_map.converters["int"] = IdConverter


def ascii_id(value: str) -> int:
    """An id from a form or query string, for `request.args.get(name, type=ascii_id)`.

    Raises ValueError (so Flask's `get` gives the default) unless `value` is 0-9 digits
    within the database's integer range.
    """
    if not (value.isascii() and value.isdigit()) or len(value) > 10 or int(value) > MAX_ID:
        raise ValueError(value)
    return int(value)
