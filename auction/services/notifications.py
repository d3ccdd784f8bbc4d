"""Notifications: the one table of kinds, and `notify`, which tells a person through every
channel they enabled, in the caller's transaction.

A kind is one `Kind` entry in `KINDS` (key, default channels, text, digest text, buttons);
a kind whose texts live in a feature's module is added by create_app (`add_kind`). `notify(user_id, kind, ...)`
writes the notification row (the web centre's record), the Telegram outbox row when the
person has that channel on, and a `notification_created` event on the person's own live
channel (`user:<id>`), all committed or rolled back with the change that caused them.

Channels: "telegram" (the bot, through the outbox), "web" (the centre, the bell and the
toast), "email" (through the outbox, to a confirmed address; services/email.py) and "push"
(web push to every browser the person subscribed, through the outbox; services/push.py).
A kind names its default channels; push is on by default wherever the web centre is, and
reaches nobody until they subscribe a browser. Quiet hours hold Telegram messages, emails
and pushes until they end; the centre still records. A digest
merges a burst of one kind on one auction for one person (DIGEST_SECONDS): the first message
goes out at once, the rest of the minute become one message sent when the minute ends
("Outbid 6 times on …, price now 340 ⭐").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import aliased

from auction import numbers, stars
from auction.extensions import db
from auction.models import (
    Auction,
    Bid,
    Notification,
    NotificationPreference,
    NotificationSettings,
    PushSubscription,
    User,
    WatchlistEntry,
    utcnow,
)
from auction.services import outbox, push, rules
from auction.services.errors import NotFound, ServiceError
from auction.services.insert_once import insert_once
from auction.services.transaction import atomic, emit

CHANNELS = ("telegram", "web", "email", "push")
DEFAULT_CHANNELS = ("telegram", "web", "email")  # a kind's defaults when it names none; push follows web
DIGEST_SECONDS = 60
DEFAULT_REMINDER_MINUTES = (60, 10)
MAX_REMINDERS = 3
PER_PAGE = 20

Text = Callable[..., object]  # **params -> a lazy string


@dataclass(frozen=True)
class Kind:
    """One kind of notification: what it says, where it goes by default, its buttons."""

    key: str
    label: object  # lazy string naming the kind on the settings page
    text: Text
    channels: tuple[str, ...] = DEFAULT_CHANNELS  # on by default (email only once an address is confirmed)
    digest: Text | None = None  # merged text (gets `count`); None: never merged
    buttons: Callable[[Notification, str], list] | None = None  # (row, site url) -> Telegram button rows
    delay_seconds: int = 0  # held back so the messages of its cause go first (a badge after the bid's answer)
    extra: dict = field(default_factory=dict)


KINDS: dict[str, Kind] = {}


def add_kind(kind: Kind) -> Kind:
    """Add a kind to the table (the table below here; a feature's own kind from create_app)."""
    KINDS[kind.key] = kind
    return kind


def _open_button(row: Notification, url: str) -> list:
    return [[{"text": _l("Open the auction"), "url": url}]] if url else []


def _link_button(label) -> Callable[[Notification, str], list]:
    """Buttons: one link to the notification's page, named `label`."""
    return lambda row, url: [[{"text": label, "url": url}]] if url else []


def _rate_buttons(row: Notification, url: str) -> list:
    stars_row = [{"text": "★" * score, "callback_data": f"rate:{row.auction_id}:{score}"} for score in range(1, 6)]
    return [stars_row[:3], stars_row[3:], [{"text": _l("Write a review"), "url": url}]]


def _rate_text(**p):
    if p.get("role") == "buyer":
        return _l("How did buying “%(title)s” go? Rate the seller:", title=p.get("title", ""))
    return _l("How did selling “%(title)s” go? Rate the buyer:", title=p.get("title", ""))


def _bid_and_open(row: Notification, url: str) -> list:
    minimum = row.payload.get("min_next")
    first = [{"text": _l("Bid %(amount)s ⭐", amount=minimum), "callback_data": f"bid:{row.auction_id}:{minimum}"}] if minimum else []
    return [first + [{"text": _l("Open"), "url": url}]]


def _premium_button(row: Notification, url: str) -> list:
    return [[{"text": _l("What Premium allows"), "url": _site_url("/premium")}], *_open_button(row, url)]


def _relist_skipped_text(**p):
    if p.get("reason") == "kind":
        return _l("“%(title)s” was not relisted automatically: Dutch and sealed-bid auctions need Premium.", **p)
    return _l("“%(title)s” was not relisted automatically: you already run as many auctions at once as your plan allows.", **p)


for _kind in (
    Kind(
        "outbid",
        _l("You were outbid"),
        lambda **p: _l("You have been outbid on “%(title)s”: the price is now %(price)s ⭐.", **p),
        digest=lambda **p: _l("Outbid %(count)s times on “%(title)s”, price now %(price)s ⭐.", **p),
        buttons=_bid_and_open,
    ),
    Kind(
        "new_bid",
        _l("A new bid on your auction"),
        lambda **p: _l("A new bid on your “%(title)s”: the price is now %(price)s ⭐.", **p),
        channels=("telegram", "web"),
        digest=lambda **p: _l("%(count)s new bids on your “%(title)s”, price now %(price)s ⭐.", **p),
        buttons=_open_button,
    ),
    Kind(
        "lead_again",
        _l("Your maximum answered a bid"),
        lambda **p: _l("Someone bid on “%(title)s”; your maximum answered and you still lead at %(price)s ⭐.", **p),
        channels=("telegram", "web"),
        digest=lambda **p: _l("Your maximum answered %(count)s bids on “%(title)s”; you lead at %(price)s ⭐.", **p),
        buttons=_open_button,
    ),
    Kind(
        "auction_extended",
        _l("Auction extended"),
        lambda **p: _l("“%(title)s” was extended by a late bid; it now ends %(ends_at)s.", **p),
        channels=("telegram", "web"),
        digest=lambda **p: _l("“%(title)s” was extended %(count)s times; it now ends %(ends_at)s.", **p),
        buttons=_open_button,
    ),
    Kind(
        "reserve_met",
        _l("Reserve price met"),
        lambda **p: _l("The reserve price of “%(title)s” has been met: it will sell. Price now %(price)s ⭐.", **p),
        buttons=_open_button,
    ),
    Kind("auction_won", _l("You won"), lambda **p: _l("You won “%(title)s” for %(price)s ⭐.", **p), buttons=_open_button),
    Kind(
        "auction_sold",
        _l("Your item sold"),
        lambda **p: _l("“%(title)s” sold for %(price)s ⭐. You receive %(net)s ⭐ after the platform fee.", **p),
        buttons=_open_button,
    ),
    Kind("auction_unsold", _l("Your auction ended unsold"), lambda **p: _l("“%(title)s” ended without a sale.", **p), buttons=_open_button),
    Kind("relist_skipped", _l("An automatic relist did not happen"), _relist_skipped_text, channels=("telegram", "web"), buttons=_premium_button),
    Kind(
        "auction_lost",
        _l("You did not win"),
        lambda **p: _l("“%(title)s” has ended; another bidder won it.", **p),
        buttons=_open_button,
    ),
    Kind(
        "auction_canceled",
        _l("Auction cancelled"),
        lambda **p: _l("“%(title)s” was cancelled. Any Stars held for it are released.", **p),
        buttons=_open_button,
    ),
    Kind(
        "auction_hidden",
        _l("Auction hidden by moderation"),
        lambda **p: _l("“%(title)s” was hidden by moderation. Reason: %(reason)s. It is out of every listing and takes no new bids; "
                       "bids already made stand.", **p),
        buttons=_open_button,
    ),
    Kind(
        "ending_soon",
        _l("Ends soon"),
        lambda **p: _l("“%(title)s” ends in less than %(minutes)s min. Current price: %(price)s ⭐.", **p),
        buttons=_open_button,
    ),
    Kind(
        "auction_opened",
        _l("A watched auction opened"),
        lambda **p: _l("“%(title)s”, which you watch, is open for bids.", **p),
        channels=("telegram", "web"),
        buttons=_open_button,
    ),
    Kind(
        "stars_received",
        _l("Stars received"),
        lambda **p: _l("%(amount)s Stars were added to your wallet. Available now: %(available)s ⭐.", **p),
        channels=("web", "email"),  # the bot already answers the payment itself
    ),
    Kind(
        "payment_refunded",
        _l("Payment refunded"),
        lambda **p: _l("Your purchase of %(amount)s Stars was refunded to your Telegram account. Available now: %(available)s ⭐.", **p),
    ),
    Kind(
        "subscription_expiring",
        _l("Premium ends soon"),
        lambda renews=False, **p: (
            _l("Your Premium renews %(until)s: %(price)s ⭐ will be paid from your wallet, so keep them available.", **p)
            if renews
            else _l("Your Premium ends %(until)s. Renew it on the Premium page to keep its limits.", **p)
        ),
        buttons=_link_button(_l("Open Premium")),
    ),
    Kind(
        "subscription_renewed",
        _l("Premium renewed"),
        lambda **p: _l("Your Premium was renewed until %(until)s.", **p),
        buttons=_link_button(_l("Open Premium")),
    ),
    Kind(
        "subscription_ended",
        _l("Premium ended"),
        lambda **p: _l("Your Premium has ended and the free limits apply again. You can subscribe again on the Premium page."),
        buttons=_link_button(_l("Open Premium")),
    ),
    Kind(
        "rate_request",
        _l("Rate a sale"),
        _rate_text,
        buttons=_rate_buttons,
        delay_seconds=3600,  # the sale's own notices (won, sold) come first
    ),
    Kind(
        "payout_paid",
        _l("Payout paid"),
        lambda **p: _l("Your payout of %(amount)s ⭐ was paid. Reference: %(reference)s", **p),
        buttons=_link_button(_l("Open your wallet")),
    ),
    Kind(
        "payout_rejected",
        _l("Payout rejected"),
        lambda **p: _l("Your payout of %(amount)s ⭐ was rejected and the Stars are back in your wallet. Reason: %(reason)s", **p),
        buttons=_link_button(_l("Open your wallet")),
    ),
    Kind(
        "support_answer",
        _l("Support answered"),
        lambda **p: _l("Support answered your request “%(subject)s”:\n\n%(answer)s", **p),
        buttons=_link_button(_l("Open the conversation")),
    ),
    Kind(
        "account_suspended",
        _l("Account suspended"),
        lambda **p: _l("Your account was suspended. Reason: %(reason)s", **p),
    ),
    Kind("account_restored", _l("Account restored"), lambda **p: _l("Your account was restored. Welcome back.")),
):
    add_kind(_kind)


class UnknownKind(NotFound):
    message = _l("There is no such kind of notification.")


class InvalidQuietHours(ServiceError):
    message = _l("Quiet hours need a start and an end time (HH:MM), and they must differ.")


class InvalidReminders(ServiceError):
    message = _l("Reminders are whole minutes between 1 and 1440, at most three, separated by commas.")


# -- texts -----------------------------------------------------------------------------------


# Parameters that are moments: stored as ISO 8601 in UTC (`moment`), written in the reader's zone.
MOMENTS = frozenset({"ends_at", "until"})


def moment(at: datetime) -> str:
    """A moment as a notification's parameters keep it: ISO 8601, UTC, to the minute."""
    return at.astimezone(UTC).isoformat(timespec="minutes")


class Moment:
    """A moment that writes itself in the active language and the reader's zone: "30 Nov, 17:05 (Europe/Moscow)"."""

    __slots__ = ("at", "zone")

    def __init__(self, at: datetime, zone: ZoneInfo) -> None:
        self.at, self.zone = at, zone

    def __str__(self) -> str:
        from babel.dates import format_datetime
        from flask_babel import get_locale

        return f"{format_datetime(self.at, 'd MMM, HH:mm', tzinfo=self.zone, locale=get_locale())} ({self.zone.key})"


def _with_moments(params: dict, zone: ZoneInfo) -> dict:
    for key in MOMENTS & params.keys():
        try:
            at = datetime.fromisoformat(params[key])
        except (TypeError, ValueError):
            continue  # not a moment after all: written as it was given
        params[key] = Moment(at if at.tzinfo else at.replace(tzinfo=UTC), zone)
    return params


def text_of(row: Notification, zone: ZoneInfo | None = None):
    """The row's text as a lazy string (rendered in whichever language is active); moments in `zone` (default UTC)."""
    kind = KINDS.get(row.kind)
    if kind is None:
        return row.kind
    # Amounts are grouped in whichever language renders the text (the recipient's), moments in their zone.
    params = _with_moments(stars.lazy_params(dict(row.payload or {})), zone or ZoneInfo("UTC"))
    if row.count > 1 and kind.digest is not None:
        return kind.digest(count=row.count, **params)
    return kind.text(**params)


def _site_url(path: str) -> str:
    return f"{current_app.config.get('BASE_URL', '').rstrip('/')}{path}"


# -- preferences and quiet hours -------------------------------------------------------------


def _settings(user_id: int) -> NotificationSettings | None:
    return db.session.get(NotificationSettings, user_id)


def default_channels(kind: Kind) -> set[str]:
    """The channels `kind` is on by default: those it names, and push wherever the web centre is."""
    on = set(kind.channels)
    if "web" in on:
        on.add("push")
    return on


def enabled_channels(user_id: int, kind: str) -> set[str]:
    """The channels `user_id` gets `kind` on: the kind's defaults, overridden by their choices."""
    person = _recipient(user_id, kind, None, utcnow())
    return person.channels if person is not None else default_channels(KINDS[kind]) & set(CHANNELS)


@dataclass(frozen=True)
class PreferenceRow:
    kind: str
    label: str
    channels: dict[str, bool]


def preferences(user_id: int) -> list[PreferenceRow]:
    """Every kind with its on/off state per channel, in the table's order (for /settings and the bot).

    Push shows off by default until the person subscribes a browser (it reaches nobody before).
    """
    subscribed = push.has_browser(user_id)
    chosen = {
        (row.kind, row.channel): row.enabled
        for row in db.session.scalars(select(NotificationPreference).where(NotificationPreference.user_id == user_id))
    }
    return [
        PreferenceRow(
            kind.key,
            str(kind.label),
            {
                channel: chosen.get((kind.key, channel), channel in default_channels(kind) and (channel != "push" or subscribed))
                for channel in CHANNELS
            },
        )
        for kind in KINDS.values()
    ]


@atomic
def set_preference(user_id: int, kind: str, channel: str, enabled: bool) -> bool:
    """Turn one kind on one channel on or off for `user_id`; returns the new state.

    Raises UnknownKind for a kind or channel that does not exist.
    """
    if kind not in KINDS or channel not in CHANNELS:
        raise UnknownKind()
    row = db.session.scalar(
        select(NotificationPreference).where(
            NotificationPreference.user_id == user_id,
            NotificationPreference.kind == kind,
            NotificationPreference.channel == channel,
        )
    )
    if row is None:
        db.session.add(NotificationPreference(user_id=user_id, kind=kind, channel=channel, enabled=enabled))
    else:
        row.enabled = enabled
    return enabled


@dataclass(frozen=True)
class QuietHours:
    start: time | None
    end: time | None
    reminders: tuple[int, ...]

    @property
    def active(self) -> bool:
        return self.start is not None and self.end is not None


def _as_time(minutes: int | None) -> time | None:
    return None if minutes is None else time(minutes // 60, minutes % 60)


def quiet_hours(user_id: int) -> QuietHours:
    """The person's quiet hours (local times, or None) and reminder lead times (minutes)."""
    settings = _settings(user_id)
    if settings is None:
        return QuietHours(None, None, DEFAULT_REMINDER_MINUTES)
    return QuietHours(_as_time(settings.quiet_from), _as_time(settings.quiet_until), reminder_minutes(settings))


def _parse_clock(raw: str | None) -> int | None:
    raw = (raw or "").strip()
    if not raw:
        return None
    hours, sep, minutes = raw.partition(":")
    hours, minutes = numbers.read_whole(hours, max_digits=2), numbers.read_whole(minutes, max_digits=2)
    if not sep or hours is None or minutes is None or hours > 23 or minutes > 59:
        raise InvalidQuietHours()
    return hours * 60 + minutes


def _parse_reminders(raw: str | None) -> str:
    parts = [numbers.read_whole(part.strip(), max_digits=4) for part in (raw or "").replace(";", ",").split(",") if part.strip()]
    if not parts or len(parts) > MAX_REMINDERS or not all(p is not None and 1 <= p <= 1440 for p in parts):
        raise InvalidReminders()
    return ",".join(str(n) for n in sorted(set(parts), reverse=True))


@atomic
def set_quiet_hours(user_id: int, start: str | None, end: str | None, reminders: str | None = None) -> QuietHours:
    """Store quiet hours ("HH:MM" local times; both empty turns them off) and reminder minutes ("60, 10").

    Raises InvalidQuietHours or InvalidReminders for input that does not parse.
    """
    quiet_from, quiet_until = _parse_clock(start), _parse_clock(end)
    if (quiet_from is None) != (quiet_until is None) or (quiet_from is not None and quiet_from == quiet_until):
        raise InvalidQuietHours()
    settings = _settings(user_id)
    if settings is None and quiet_from is None and reminders is None:
        return quiet_hours(user_id)  # the defaults already: nothing to store
    settings = settings or NotificationSettings(user_id=user_id)
    settings.quiet_from, settings.quiet_until = quiet_from, quiet_until
    if reminders is not None:
        settings.reminder_minutes = _parse_reminders(reminders)
    elif not settings.reminder_minutes:
        settings.reminder_minutes = ",".join(map(str, DEFAULT_REMINDER_MINUTES))
    db.session.add(settings)
    db.session.flush()
    return QuietHours(_as_time(quiet_from), _as_time(quiet_until), reminder_minutes(settings))


def reminder_minutes(settings: NotificationSettings | None) -> tuple[int, ...]:
    if settings is None or not settings.reminder_minutes:
        return DEFAULT_REMINDER_MINUTES
    return tuple(n for n in (numbers.read_whole(p) for p in settings.reminder_minutes.split(",")) if n is not None)


def _zone(user: User) -> ZoneInfo:
    try:
        return ZoneInfo(user.timezone or "UTC")
    except Exception:  # an unknown zone name: the person's clock is unknown, so UTC
        return ZoneInfo("UTC")


def _quiet_end(settings: NotificationSettings | None, user: User, now: datetime) -> datetime | None:
    """When the person's quiet hours (from their `settings` row) end, UTC; None when they are not in them now."""
    if settings is None or settings.quiet_from is None or settings.quiet_until is None:
        return None
    local = now.astimezone(_zone(user))
    minute = local.hour * 60 + local.minute
    start, end = settings.quiet_from, settings.quiet_until
    inside = start <= minute < end if start < end else (minute >= start or minute < end)
    if not inside:
        return None
    end_local = local.replace(hour=end // 60, minute=end % 60, second=0, microsecond=0)
    if end_local <= local:
        end_local += timedelta(days=1)
    return end_local.astimezone(now.tzinfo)


# -- notify ----------------------------------------------------------------------------------


@dataclass
class _Recipient:
    """What `notify` needs to know about a person, read in one statement."""

    user: User
    settings: NotificationSettings | None
    recent: Notification | None  # their row of this kind and auction from the digest window
    channels: set[str]
    has_push: bool  # a browser subscribed to web push


_Recent = aliased(Notification, name="recent")


def _recipient(user_id: int, kind: str, auction_id: int | None, now: datetime) -> _Recipient | None:
    """One statement: the person, their settings, their choices for `kind` (one row per channel
    chosen) and, when `auction_id` is given, the row a digest would merge into."""
    statement = (
        select(
            User,
            NotificationSettings,
            NotificationPreference.channel,
            NotificationPreference.enabled,
            select(PushSubscription.id).where(PushSubscription.user_id == User.id).exists().label("has_push"),
        )
        .outerjoin(NotificationSettings, NotificationSettings.user_id == User.id)
        .outerjoin(NotificationPreference, and_(NotificationPreference.user_id == User.id, NotificationPreference.kind == kind))
        .where(User.id == user_id)
    )
    if auction_id is not None:
        recent_id = (
            select(_Recent.id)
            .where(
                _Recent.user_id == user_id,
                _Recent.kind == kind,
                _Recent.auction_id == auction_id,
                _Recent.created_at > now - timedelta(seconds=DIGEST_SECONDS),
            )
            .order_by(_Recent.created_at.desc(), _Recent.id.desc())
            .limit(1)
            .scalar_subquery()
        )
        statement = statement.add_columns(Notification).outerjoin(Notification, Notification.id == recent_id)
    rows = db.session.execute(statement).all()
    if not rows:
        return None
    on = default_channels(KINDS[kind])
    for row in rows:
        if row.channel is not None:
            (on.add if row.enabled else on.discard)(row.channel)
    first = rows[0]
    recent = first.Notification if auction_id is not None else None
    return _Recipient(first.User, first.NotificationSettings, recent, on & set(CHANNELS), bool(first.has_push))


def _insert(values: dict) -> int | None:
    """Insert a notification row; None when its `dedupe_key` was used before (by this or a concurrent transaction)."""
    return db.session.scalar(insert_once(Notification, "dedupe_key").values(**values).returning(Notification.id))


def _held_until(person: _Recipient, row: Notification, now: datetime) -> datetime | None:
    """When a message may go out: after the person's quiet hours and the kind's delay (None: now)."""
    delay = KINDS[row.kind].delay_seconds
    times = [t for t in (_quiet_end(person.settings, person.user, now), now + timedelta(seconds=delay) if delay else None) if t is not None]
    return max(times) if times else None


def _telegram(person: _Recipient, row: Notification, now: datetime, digest: bool) -> tuple[dict, bool] | None:
    """The Telegram outbox row for `row` and whether it merges into a pending digest message."""
    user = person.user
    if not outbox.reachable(user):
        return None
    kind = KINDS[row.kind]
    url = _site_url(row.url) if row.url else ""
    payload = outbox.telegram_payload(user, text_of(row, _zone(user)), kind.buttons(row, url) if kind.buttons else None)
    held_until = _held_until(person, row, now)
    if digest:
        window_end = row.created_at + timedelta(seconds=DIGEST_SECONDS)
        not_before = max(window_end, held_until or window_end)
        return outbox.telegram_row(user, row.kind, payload, f"digest:{row.id}", not_before), True
    return outbox.telegram_row(user, row.kind, payload, f"notification:{row.id}", held_until), False


def _email(person: _Recipient, row: Notification, now: datetime, digest: bool) -> tuple[dict, bool] | None:
    """The email outbox row for `row` (None without a confirmed address) and whether it merges into a digest."""
    from auction.services import email

    address = email.confirmed(person.settings)
    if address is None:
        return None
    user = person.user
    payload = email.notification_payload(user, address, row.kind, KINDS[row.kind].label, text_of(row, _zone(user)), row.url)
    held_until = _held_until(person, row, now)
    if not digest:
        return outbox.message_row("email", user.id, None, row.kind, payload, f"email:{row.id}", held_until), False
    window_end = row.created_at + timedelta(seconds=DIGEST_SECONDS)
    not_before = max(window_end, held_until or window_end)
    return outbox.message_row("email", user.id, None, row.kind, payload, f"email-digest:{row.id}", not_before), True


def _queue(messages: list[tuple[dict, bool]], merges_before: bool) -> None:
    """Write the outbox rows of one notification in one statement where it can.

    A digest row merges into the pending message of its key: when one is likely there
    (`merges_before`: the row merged before) its payload is updated first, else the row
    is inserted first; the other statement runs only when the first did nothing. A message
    that went out already is left alone (the digest then has nothing more to say there).
    """
    fresh = [values for values, digest in messages if not digest or not merges_before]
    if merges_before:
        fresh += [values for values, digest in messages if digest and not outbox.merge_pending(values["dedupe_key"], values["payload"])]
    written = outbox.write_rows(fresh)
    if not merges_before:
        for values, digest in messages:
            if digest and values["dedupe_key"] not in written:
                outbox.merge_pending(values["dedupe_key"], values["payload"])


def _push(person: _Recipient, row: Notification, now: datetime, digest: bool) -> None:
    """One push message per browser the person subscribed (none: nothing), after quiet hours."""
    user = person.user
    browsers = push.subscription_ids(user.id)
    if not browsers:
        return
    from flask_babel import force_locale

    with force_locale(outbox.recipient_locale(user)):
        message = {
            "title": str(KINDS[row.kind].label),
            "body": str(text_of(row, _zone(user))),
            "url": _site_url(row.url or "/notifications"),
            # One tag per kind and auction: a browser replaces the earlier one (a digest) instead of stacking.
            "tag": f"{row.kind}-{row.auction_id}" if row.auction_id is not None else f"{row.kind}-n{row.id}",
        }
    held_until = _held_until(person, row, now)
    if digest:
        window_end = row.created_at + timedelta(seconds=DIGEST_SECONDS)
        for browser in browsers:
            push.queue_push(user.id, browser, row.kind, message, f"push-digest:{row.id}:{browser}", max(window_end, held_until or window_end))
    else:
        for browser in browsers:
            push.queue_push(user.id, browser, row.kind, message, f"push:{row.id}:{browser}", held_until)


@atomic
def notify(
    user_id: int, kind: str, auction: Auction | None = None, dedupe_key: str | None = None, path: str | None = None, **params
) -> int | None:
    """Tell `user_id` about `kind` on every channel they enabled, in the caller's transaction.

    `params` fill the kind's text (the auction's title is added); they must be JSON values.
    `path` is the site page the notification links to (default: the auction's page).
    Returns the notification row's id, or None when `dedupe_key` was used before. A kind
    with a digest merges into the person's row of the same kind and auction from the last
    DIGEST_SECONDS. Raises UnknownKind for a kind not in KINDS, NotFound for no such person.

    Statements: one read (the person, settings, choices, the digest row), one write of the
    notification row, one of its outbox rows (Telegram and email together).
    """
    if kind not in KINDS:
        raise UnknownKind()
    now = utcnow()
    digestible = auction is not None and KINDS[kind].digest is not None and dedupe_key is None
    person = _recipient(user_id, kind, auction.id if digestible else None, now)
    if person is None:
        raise NotFound()
    channels = person.channels
    if auction is not None:
        params = {"title": auction.title, **params}
    row = person.recent
    digest = row is not None
    if digest:
        merged_before = row.count > 1
        row.count += 1
        row.payload = params
        row.read_at = None
        row.updated_at = now
        row.shown = row.shown or "web" in channels
    else:
        merged_before = False
        values = {
            "user_id": user_id,
            "kind": kind,
            "auction_id": auction.id if auction is not None else None,
            "payload": params,
            "url": path or (f"/auctions/{auction.id}" if auction is not None else None),
            "count": 1,
            "shown": "web" in channels,
            "dedupe_key": dedupe_key,
            "created_at": now,
            "updated_at": now,
        }
        new_id = _insert(values)
        if new_id is None:
            return None
        row = Notification(id=new_id, **values)  # not in the session: the texts are made from it
    messages = [
        message
        for message in (
            _telegram(person, row, now, digest) if "telegram" in channels else None,
            _email(person, row, now, digest) if "email" in channels else None,
        )
        if message is not None
    ]
    _queue(messages, merged_before)
    if "push" in channels and person.has_push:
        _push(person, row, now, digest)
    if row.shown:
        emit(f"user:{user_id}", "notification_created", {"user_id": user_id, "notification_id": row.id})
    return row.id


# -- the events that notify (called from the services where they happen) ---------------------


def _leader_max(auction: Auction) -> int | None:
    if auction.leading_bidder_id is None:
        return None
    return db.session.scalar(
        select(func.max(Bid.max_amount)).where(Bid.auction_id == auction.id, Bid.bidder_id == auction.leading_bidder_id)
    )


def _watchers(auction_id: int) -> list[int]:
    return list(db.session.scalars(select(WatchlistEntry.user_id).where(WatchlistEntry.auction_id == auction_id).order_by(WatchlistEntry.user_id)))


def after_bid(auction: Auction, bidder_id: int, extended: bool) -> None:
    """The notifications an accepted bid causes besides the outbid one: the seller's new bid,
    the leader whose maximum answered, the reserve reached, the extension (leader, watchers)."""
    price = auction.current_price
    sealed = auction.kind != "english"
    notify(auction.seller_id, "new_bid", auction, price=price)
    if not sealed:
        leader = auction.leading_bidder_id
        if leader is not None and leader != bidder_id:
            notify(leader, "lead_again", auction, price=price)
        if auction.reserve_price and leader is not None and (_leader_max(auction) or 0) >= auction.reserve_price:
            for user_id in sorted({auction.seller_id, leader}):
                notify(user_id, "reserve_met", auction, dedupe_key=f"reserve_met:{auction.id}:{user_id}", price=price)
    if extended:
        ends_at = moment(auction.ends_at)
        told = {auction.seller_id, bidder_id}
        leader = auction.leading_bidder_id if not sealed else None
        for user_id in ([leader] if leader is not None else []) + _watchers(auction.id):
            if user_id not in told:
                told.add(user_id)
                notify(user_id, "auction_extended", auction, ends_at=ends_at)


def outbid_params(auction: Auction, price: int) -> dict:
    minimum = rules.min_next_bid(auction.start_price, auction.current_price, auction.leading_bidder_id is not None, auction.increment)
    return {"price": price, "min_next": minimum}


def auction_opened(auction: Auction) -> None:
    """Tell the watchers of a scheduled auction that it opened (once each)."""
    for user_id in _watchers(auction.id):
        if user_id != auction.seller_id:
            notify(user_id, "auction_opened", auction, dedupe_key=f"auction_opened:{auction.id}:{user_id}")


@atomic
def remind_ending_soon(now: datetime | None = None) -> int:
    """Tell each watcher and bidder of a live auction that it ends soon, once per lead time
    they chose (default 60 and 10 minutes before the end); returns how many were told. Of an
    auction hidden by moderation, only its bidders are told.

    Run by a job every 30 s; the once-only key per person, auction and lead time keeps an
    anti-sniping extension or two processes from repeating a reminder. When several lead
    times are already due (a late start), only the shortest is sent.
    """
    now = now or utcnow()
    horizon = now + timedelta(minutes=1440)
    auctions = list(
        db.session.scalars(
            select(Auction).where(Auction.status == "live", Auction.ends_at > now, Auction.ends_at <= horizon).order_by(Auction.ends_at, Auction.id)
        )
    )
    told = 0
    for auction in auctions:
        bidders = set(db.session.scalars(select(Bid.bidder_id).where(Bid.auction_id == auction.id, Bid.is_automatic.is_(False))))
        # Hidden by moderation: only the people with a bid on it still hear about it.
        people = bidders if auction.hidden_at is not None else set(_watchers(auction.id)) | bidders
        people.discard(auction.seller_id)
        left = auction.ends_at - now
        for user_id in sorted(people):
            due = [m for m in reminder_minutes(_settings(user_id)) if left <= timedelta(minutes=m)]
            if not due:
                continue
            minutes = min(due)
            prefix = f"ending_soon:{auction.id}:{user_id}:"
            sent = db.session.scalars(select(Notification.dedupe_key).where(Notification.dedupe_key.startswith(prefix, autoescape=True)))
            if any(int(k.rsplit(":", 1)[1]) <= minutes for k in sent):
                continue  # a shorter reminder went out already (an extension moved the end back)
            key = f"{prefix}{minutes}"
            told += notify(user_id, "ending_soon", auction, dedupe_key=key, minutes=minutes, price=auction.current_price) is not None
    return told


# -- the web centre --------------------------------------------------------------------------


@dataclass(frozen=True)
class NotificationView:
    id: int
    kind: str
    text: str
    url: str | None
    created_at: datetime
    read: bool
    count: int


def _view(row: Notification, zone: ZoneInfo) -> NotificationView:
    return NotificationView(row.id, row.kind, str(text_of(row, zone)), row.url, row.updated_at, row.read_at is not None, row.count)


def _reader_zone(user_id: int) -> ZoneInfo:
    user = db.session.get(User, user_id)
    return _zone(user) if user is not None else ZoneInfo("UTC")


def unread_count(user_id: int) -> int:
    """How many of the person's shown notifications are unread (the bell's number)."""
    return db.session.scalar(
        select(func.count(Notification.id)).where(Notification.user_id == user_id, Notification.shown.is_(True), Notification.read_at.is_(None))
    ) or 0


@dataclass(frozen=True)
class NotificationPage:
    items: list[NotificationView]
    page: int
    has_next: bool
    unread: int


def page_of(user_id: int, page: int = 1, per_page: int = PER_PAGE) -> NotificationPage:
    """One page of the person's notifications, newest first (texts in the active language)."""
    page = max(1, page)
    rows = list(
        db.session.scalars(
            select(Notification)
            .where(Notification.user_id == user_id, Notification.shown.is_(True))
            .order_by(Notification.updated_at.desc(), Notification.id.desc())
            .offset((page - 1) * per_page)
            .limit(per_page + 1)
        )
    )
    zone = _reader_zone(user_id)
    return NotificationPage([_view(r, zone) for r in rows[:per_page]], page, len(rows) > per_page, unread_count(user_id))


def one(user_id: int, notification_id: int) -> NotificationView | None:
    """The person's own notification (None for someone else's or a missing one)."""
    row = db.session.get(Notification, notification_id)
    if row is None or row.user_id != user_id or not row.shown:
        return None
    return _view(row, _reader_zone(user_id))


@atomic
def mark_read(user_id: int, notification_id: int) -> int:
    """Mark one of the person's notifications read; returns their unread count. Raises NotFound for another's."""
    row = db.session.get(Notification, notification_id)
    if row is None or row.user_id != user_id:
        raise NotFound()
    if row.read_at is None:
        row.read_at = utcnow()
        emit(f"user:{user_id}", "notifications_read", {"user_id": user_id})
    db.session.flush()
    return unread_count(user_id)


@atomic
def mark_all_read(user_id: int) -> int:
    """Mark every notification of the person read; returns how many were unread."""
    result = db.session.execute(
        update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None)).values(read_at=utcnow())
    )
    if result.rowcount:
        emit(f"user:{user_id}", "notifications_read", {"user_id": user_id})
    return result.rowcount or 0


@atomic
def unsubscribe_email(token: str) -> tuple[int, str]:
    """Turn off one kind's emails from a signed link (RFC 8058 one-click); returns (user id, kind). Raises email.BadLink."""
    from auction.services import email

    user_id, kind = email.read_unsubscribe(token)
    if kind not in KINDS or db.session.get(User, user_id) is None:
        raise email.BadLink()
    set_preference(user_id, kind, "email", False)
    return user_id, kind
