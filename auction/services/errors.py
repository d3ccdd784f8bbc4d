"""Domain errors; each carries a lazily translated message for the person who caused it."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l


class ServiceError(Exception):
    """A rule was broken; `message` is shown to the user in their language."""

    message = _l("Something went wrong. Please try again.")
    status = 400

    def __init__(self, message=None, **params):
        self.params = params
        if message is not None:
            self.message = message
        # Keep the message lazy: translating here would pick the locale, which may read the
        # signed-in user from a session that a failed statement has just left unusable.
        super().__init__(self.message)

    def __str__(self) -> str:
        from auction import stars  # stars' own error is a ServiceError

        return self.render(stars.format)

    def render(self, number: Callable[[int], str]) -> str:
        """The message with each whole-number parameter written by `number` (str() groups digits in the active language)."""
        text = str(self.message)
        if not self.params:
            return text
        return text % {k: number(v) if isinstance(v, int) and not isinstance(v, bool) else v for k, v in self.params.items()}


class NotFound(ServiceError):
    message = _l("Not found.")
    status = 404


class Forbidden(ServiceError):
    message = _l("You are not allowed to do that.")
    status = 403


class LoginRejected(ServiceError):
    """Telegram login data that must not sign anyone in."""

    status = 403
