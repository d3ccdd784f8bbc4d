"""A number of Stars as people write it and as every text shows it: the site, the bot, messages.

Reading (`parse`, `read`): `1000`, `1 000`, `1,000`, `1'000`, `1000 ⭐`, digits grouped by
threes with a comma, an apostrophe or a space (plain, no-break, narrow no-break, thin: the
way this site prints numbers in English and Russian). ASCII digits only; a dot is refused
(it reads as a decimal point, as would "1,5"); at most MAX_DIGITS digits and MAX_INPUT
characters. Anything else raises `InvalidStars`, one translated message.

Writing (`format`, `Amount`): digits grouped the way the active language groups them
(`1,000` in English, `1 000` in Russian). `Amount(n)` is lazy: passed as a parameter to a
`lazy_gettext` text, it is grouped when the text is rendered, so an outbox message is
written in its recipient's language.
"""

from __future__ import annotations

import re

from babel.numbers import format_decimal
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

SIGN = "⭐"
MAX_DIGITS = 12  # a trillion Stars: far above any price, far below any column's limit
MAX_INPUT = 32  # characters read at all; longer input is refused before any matching
_SEPARATORS = ",'\u2019 \u00a0\u202f\u2009"
_NUMBER = re.compile(rf"[0-9]+|[0-9]{{1,3}}(?:[{_SEPARATORS}][0-9]{{3}})+")
_SIGN_SUFFIX = re.compile(r"\s*(?:⭐\ufe0f?|stars?|звёзд|звезд[аы]?)?\s*$", re.IGNORECASE)


class InvalidStars(ValueError):
    """Text that is not a whole number of Stars; str() is the translated message.

    A ValueError, not a ServiceError: the domain errors' messages are written with this
    module's grouping, so it depends on nothing else in the package.
    """

    message = _l("Enter a whole number of Stars.")

    def __str__(self) -> str:
        return str(self.message)


def read(text: str | None) -> int | None:
    """The number of Stars in `text`; None when it is blank. Raises InvalidStars otherwise."""
    if text is None:
        return None
    if len(text) > MAX_INPUT:
        raise InvalidStars()
    value = _SIGN_SUFFIX.sub("", text.strip(), count=1).strip()
    if not value:
        if text.strip():  # a lone "⭐" is not a number
            raise InvalidStars()
        return None
    if not _NUMBER.fullmatch(value):
        raise InvalidStars()
    digits = re.sub(r"[^0-9]", "", value)
    if len(digits) > MAX_DIGITS:
        raise InvalidStars()
    return int(digits)


def parse(text: str | None) -> int:
    """Like `read`, but blank text is refused too. Raises InvalidStars."""
    value = read(text)
    if value is None:
        raise InvalidStars()
    return value


def active_locale() -> str:
    """The language texts are being written in (English outside any app context)."""
    try:
        locale = get_locale()
    except RuntimeError:
        locale = None
    return str(locale) if locale is not None else "en"


def format(amount: int, locale: str | None = None) -> str:  # noqa: A001  (stars.format reads right)
    """`amount` grouped in `locale` (default: the active language): `1,000` / `1 000`."""
    return format_decimal(amount, locale=locale or active_locale())


def with_sign(amount: int, locale: str | None = None) -> str:
    """`1,000 ⭐` / `1 000 ⭐`."""
    return f"{format(amount, locale)} {SIGN}"


class Amount(int):
    """A number of Stars that groups itself in whatever language is active when it is written.

    An int (so `ngettext` picks the plural form from it) whose str() is `format(value)`.
    """

    __slots__ = ()

    def __str__(self) -> str:
        return format(int(self))

    def __format__(self, spec: str) -> str:
        return str(self) if not spec else int(self).__format__(spec)

    def __repr__(self) -> str:
        return f"Amount({int(self)})"


def lazy_params(params: dict) -> dict:
    """`params` with every whole number (not a bool) as an `Amount`, for a lazily translated text."""
    return {k: Amount(v) if type(v) is int else v for k, v in params.items()}
