"""The languages the site and the bot speak, and the one rule that picks a person's language.

Used by the web (`select_locale`), the bot (replies), the outbox (messages) and the
language switch. A language is added by adding its code to LANGUAGES and its catalog
under translations/.
"""

from __future__ import annotations

from collections.abc import Iterable

LANGUAGES = ("en", "ru")
DEFAULT_LANGUAGE = "en"


def supported(code: str | None) -> str | None:
    """`code` ("ru", "ru-RU", "RU") as one of LANGUAGES, else None."""
    base = (code or "")[:2].lower()
    return base if base in LANGUAGES and (len(code) == 2 or code[2:3] in ("-", "_")) else None


def choose_language(
    chosen: str | None = None,
    telegram: str | None = None,
    session: str | None = None,
    browser: Iterable[str] | None = None,
) -> str:
    """The language to speak to a person in.

    In order: the language they chose on the site, else the language of their Telegram app
    (as Telegram reports it), else the one this browser session picked, else the browser's
    first supported Accept-Language, else English.
    """
    for code in (chosen, telegram, session, *(browser or ())):
        language = supported(code)
        if language is not None:
            return language
    return DEFAULT_LANGUAGE


def person_language(user, session: str | None = None, browser: Iterable[str] | None = None) -> str:
    """`choose_language` for a user row (or None): their `locale`, then their Telegram `language_code`."""
    return choose_language(
        getattr(user, "locale", None),
        getattr(user, "language_code", None),
        session,
        browser,
    )


def language_choices() -> list[tuple[str, str]]:
    """(code, the language's name in itself) for each of LANGUAGES: the language switch's buttons."""
    from babel import Locale

    return [(code, Locale.parse(code).get_display_name(code).capitalize()) for code in LANGUAGES]
