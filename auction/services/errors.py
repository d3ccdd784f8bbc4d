"""Domain errors; each carries a lazily translated message for the person who caused it."""

from __future__ import annotations

from collections.abc import Callable

from flask_babel import lazy_gettext as _l

from auction import stars


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


# --- bidding and the auction lifecycle -------------------------------------------------------


class BidTooLow(ServiceError):
    """An offer below the least this bidder may offer (`minimum`, in Stars)."""

    message = _l("Your bid must be at least %(minimum)s Stars.")


class AuctionClosed(ServiceError):
    message = _l("This auction is closed; no more bids are accepted.")
    status = 409


class AuctionHidden(ServiceError):
    """The auction is hidden by moderation: it takes no new bids or purchases until an admin shows it again."""

    message = _l("This auction is hidden by moderation; it takes no new bids for now.")
    status = 409


class AuctionNotStarted(ServiceError):
    message = _l("This auction has not started yet.")
    status = 409


class OwnAuction(ServiceError):
    message = _l("You cannot bid on your own auction.")
    status = 403


class BidderSuspended(ServiceError):
    message = _l("Your account is suspended, so you cannot bid.")
    status = 403


class NotAvailable(ServiceError):
    message = _l("That is not possible for this auction.")
    status = 409


class CannotEdit(ServiceError):
    message = _l("The listing can only be changed before the first bid.")
    status = 409


class CannotCancel(ServiceError):
    message = _l("The listing can only be cancelled before the first bid.")
    status = 409


# --- money --------------------------------------------------------------------------------------


class InsufficientFunds(ServiceError):
    """The user's available Stars do not cover what the operation needs (`needed`, `available`: Stars)."""

    message = _l("Not enough Stars: you need %(needed)s more (available: %(available)s). Buy Stars to continue.")
    status = 402

    def __init__(self, needed: int, available: int):
        super().__init__(needed=needed, available=available)
        self.needed = needed
        self.available = available


class LedgerError(ServiceError):
    """An operation the ledger refuses for a reason other than money (e.g. a double refund)."""


# --- Premium ---------------------------------------------------------------------------------


class PremiumRequired(ServiceError):
    """An action only Premium allows; the web and the bot add an upgrade link to the message.

    `field` names the listing form field the refusal belongs to ("kind", "photos", or "form").
    """

    message = _l("This needs Premium.")
    status = 403

    def __init__(self, message=None, field: str = "form", **params):
        super().__init__(message, **params)
        self.field = field
