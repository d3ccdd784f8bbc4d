"""Achievements: a catalog of badges, each one row in `achievements` plus one rule function here.

Rules run when the event that can earn them happens (a bid, an auction ending, a rating),
never in a periodic scan. A badge is awarded at most once per person: the unique
constraint on (user_id, achievement_id) refuses a second row, inside a savepoint, so two
transactions racing to award it leave one row and send one notification.

The badge notification is the "achievement" kind (`BADGE_KIND`, added to the kinds table by
create_app), so preferences, quiet hours, the web centre, email and push
apply to it like to every other notification.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import Exists, and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from auction.extensions import db
from auction.models import Achievement, Auction, Bid, Payment, Rating, Subscription, UserAchievement
from auction.services import notifications
from auction.services.transaction import atomic

SNIPER_SECONDS = 60  # "won with a bid in the last minute"
TELL_AFTER_SECONDS = 10  # the answer to the bid or sale that earned a badge goes out first
TRUSTED_AVERAGE = 4.8


@dataclass(frozen=True)
class Rule:
    """One badge: `progress(user_id)` counts towards `threshold`; `earned` may add a condition."""

    code: str
    icon: str
    threshold: int
    name: object
    description: object
    progress: Callable[[int], int]
    earned: Callable[[int, int], bool] | None = None


@dataclass(frozen=True)
class BadgeProgress:
    """A badge as a profile shows it: how far the person is ("7 of 10") and when it was awarded (UTC)."""

    code: str
    icon: str
    glyph: str
    name: str
    description: str
    value: int
    threshold: int
    awarded_at: datetime | None

    @property
    def awarded(self) -> bool:
        return self.awarded_at is not None


def _wins(user_id: int) -> int:
    return db.session.scalar(select(func.count(Auction.id)).where(Auction.winner_id == user_id, Auction.status == "ended")) or 0


def _sales(user_id: int) -> int:
    return db.session.scalar(select(func.count(Auction.id)).where(Auction.seller_id == user_id, Auction.winner_id.is_not(None), Auction.status == "ended")) or 0


def _has_bid(user_id: int) -> int:
    return 1 if db.session.scalar(select(Bid.id).where(Bid.bidder_id == user_id).limit(1)) else 0


def _won_stars(user_id: int) -> int:
    return db.session.scalar(select(func.coalesce(func.sum(Auction.final_price), 0)).where(Auction.winner_id == user_id, Auction.status == "ended")) or 0


def _won_categories(user_id: int) -> int:
    return db.session.scalar(
        select(func.count(func.distinct(Auction.category_id))).where(
            Auction.winner_id == user_id, Auction.status == "ended", Auction.category_id.is_not(None)
        )
    ) or 0


def _snipes(user_id: int) -> int:
    """Auctions won with the winner's own last bid in the final minute (server clock).

    A bid in the anti-sniping window pushes the end back by `snipe_extension_seconds`, so
    the final minute is counted as that extension when it is longer than 60 seconds.
    """
    rows = db.session.execute(
        select(Auction.ends_at, Auction.snipe_extension_seconds, func.max(Bid.created_at))
        .join(Bid, and_(Bid.auction_id == Auction.id, Bid.bidder_id == user_id, Bid.is_automatic.is_(False)))
        .where(Auction.winner_id == user_id, Auction.status == "ended")
        .group_by(Auction.id, Auction.ends_at, Auction.snipe_extension_seconds)
    ).all()
    return sum(
        1
        for ends_at, extension, last_bid in rows
        if last_bid is not None and last_bid >= ends_at - timedelta(seconds=max(SNIPER_SECONDS, extension or 0))
    )


def _first_bids(user_id: int) -> int:
    """Auctions on which this person placed the very first bid."""
    first = aliased(Bid)
    earliest = select(func.min(first.id)).where(first.auction_id == Bid.auction_id).scalar_subquery()
    return db.session.scalar(select(func.count(Bid.id)).where(Bid.bidder_id == user_id, Bid.id == earliest)) or 0


def _seller_ratings(user_id: int) -> tuple[int, float]:
    count, average = db.session.execute(
        select(func.count(Rating.id), func.avg(Rating.score)).where(
            Rating.ratee_id == user_id, Rating.direction == "buyer_to_seller", Rating.hidden.is_(False)
        )
    ).one()
    return count or 0, float(average or 0)


# The web shows badges with symbols every common font has (a server or phone without an
# emoji font would draw empty boxes); the bot keeps the emoji, which Telegram always draws.
GLYPHS = {
    "first_bid": "✦", "first_win": "♛", "first_sale": "✓", "wins_10": "★", "sales_10": "♜",
    "sniper": "◎", "big_spender": "♦", "collector": "❖", "trusted_seller": "✔", "early_bird": "☀",
}

def _premium_days(user_id: int) -> int:
    """Whole days of Premium the person paid for, Telegram or wallet; refunded charges do not count."""
    rows = db.session.execute(
        select(Subscription.starts_at, Subscription.expires_at)
        .outerjoin(Payment, Payment.id == Subscription.payment_id)
        .where(Subscription.user_id == user_id, or_(Payment.id.is_(None), Payment.status == "paid"))
    ).all()
    return int(sum(max((end - start).total_seconds(), 0) for start, end in rows) // 86_400)


RULES: dict[str, Rule] = {
    rule.code: rule
    for rule in (
        Rule("first_bid", "🔨", 1, _l("First bid"), _l("Placed a first bid."), _has_bid),
        Rule("first_win", "🏆", 1, _l("First win"), _l("Won a first auction."), lambda u: min(_wins(u), 1)),
        Rule("first_sale", "🤝", 1, _l("First sale"), _l("Sold a first item."), lambda u: min(_sales(u), 1)),
        Rule("wins_10", "🥇", 10, _l("10 wins"), _l("Won 10 auctions."), _wins),
        Rule("sales_10", "🏪", 10, _l("10 sales"), _l("Sold 10 items."), _sales),
        Rule("sniper", "🎯", 1, _l("Sniper"), _l("Won with a bid in the last minute."), lambda u: min(_snipes(u), 1)),
        Rule("big_spender", "💎", 10_000, _l("Big spender"), _l("Won 10,000 Stars' worth of auctions."), _won_stars),
        Rule("collector", "🗂", 5, _l("Collector"), _l("Won auctions in 5 categories."), _won_categories),
        Rule(
            "trusted_seller", "🛡", 10, _l("Trusted seller"), _l("An average of 4.8 or more over at least 10 ratings as a seller."),
            lambda u: _seller_ratings(u)[0],
            earned=lambda u, count: count >= 10 and _seller_ratings(u)[1] >= TRUSTED_AVERAGE,
        ),
        Rule("early_bird", "🐦", 5, _l("Early bird"), _l("The first bidder on 5 auctions."), _first_bids),
        Rule("patron", "👑", 90, _l("Patron"), _l("Paid for 3 months of Premium."), _premium_days),
    )
}

# Which rules each event can move; a rule that the event cannot change is not evaluated.
BID_RULES = ("first_bid", "early_bird")
WIN_RULES = ("first_win", "wins_10", "sniper", "big_spender", "collector")
SALE_RULES = ("first_sale", "sales_10")
RATING_RULES = ("trusted_seller",)


def _awarded_codes(user_id: int) -> set[str]:
    return set(
        db.session.scalars(
            select(Achievement.code).join(UserAchievement, UserAchievement.achievement_id == Achievement.id).where(UserAchievement.user_id == user_id)
        )
    )


def _achievement_id(rule: Rule) -> int:
    """The catalog row of `rule` (the migration seeds it; a database built from the models gets it here)."""
    found = db.session.scalar(select(Achievement.id).where(Achievement.code == rule.code))
    if found is not None:
        return found
    try:
        with db.session.begin_nested():
            row = Achievement(code=rule.code, icon=rule.icon, threshold=rule.threshold)
            db.session.add(row)
        return row.id
    except IntegrityError:
        return db.session.scalar(select(Achievement.id).where(Achievement.code == rule.code))


def _award(user_id: int, rule: Rule) -> bool:
    """Insert the badge once; False when someone (another transaction) awarded it already."""
    achievement_id = _achievement_id(rule)
    try:
        with db.session.begin_nested():
            db.session.add(UserAchievement(user_id=user_id, achievement_id=achievement_id))
    except IntegrityError:
        return False
    _tell_awarded(user_id, rule)
    return True


def _badge_text(**params):
    rule = RULES.get(params.get("code", ""))
    if rule is None:  # a badge retired since: its code is all there is to say
        return params.get("code", "")
    return _l("New badge: %(icon)s %(name)s — %(description)s", icon=rule.icon, name=rule.name, description=rule.description)


# This feature's notification kind; create_app adds it to the kinds table (register_notification_kinds).
BADGE_KIND = notifications.Kind(
    "achievement",
    _l("New badge"),
    _badge_text,
    buttons=lambda row, url: [[{"text": _l("See your profile"), "url": url}]] if url else [],
    delay_seconds=TELL_AFTER_SECONDS,
)


def _tell_awarded(user_id: int, rule: Rule) -> None:
    """The achievement notification, once per badge and person."""
    notifications.notify(user_id, "achievement", dedupe_key=f"achievement:{rule.code}:{user_id}", path=f"/users/{user_id}",
                         code=rule.code, icon=rule.icon)


def evaluate(user_id: int, codes: tuple[str, ...] | None = None, have: set[str] | None = None) -> list[str]:
    """Award every badge among `codes` (all when None) the person has now earned; returns the new ones.

    `have`: the codes among `codes` the person holds, when the caller read them already.
    Runs inside the caller's transaction (the event that may have earned the badge).
    """
    if have is None:
        have = _awarded_codes(user_id)
    new = []
    for code in codes or tuple(RULES):
        rule = RULES[code]
        if code in have:
            continue
        value = rule.progress(user_id)
        earned = rule.earned(user_id, value) if rule.earned else value >= rule.threshold
        if earned and _award(user_id, rule):
            new.append(code)
    return new


@atomic
def recheck(user_id: int) -> list[str]:
    """Evaluate every rule for one person in a transaction of its own (a repair after an import)."""
    return evaluate(user_id)


def holds_badge(code: str, user_id) -> Exists:
    """A column expression: whether `user_id` (a value or a bind parameter) holds the badge `code`.

    The bid's lock statement selects one per BID_RULES code, so an accepted bid reads no badges
    on its own unless a rule can still fire.
    """
    return (
        select(UserAchievement.id)
        .join(Achievement, Achievement.id == UserAchievement.achievement_id)
        .where(UserAchievement.user_id == user_id, Achievement.code == code)
        .exists()
    )


def on_bid_placed(bidder_id: int, first_on_auction: bool, have: set[str]) -> None:
    """Hook for the bid transaction: first bid, and early bird when the bid was the auction's first.

    `have`: the BID_RULES codes the bidder holds (read with the bid's lock, `holds_badge`).
    """
    codes = tuple(code for code in (BID_RULES if first_on_auction else BID_RULES[:1]) if code not in have)
    if codes:
        evaluate(bidder_id, codes, have=set(have))


def on_auction_ended(auction: Auction) -> None:
    """Hook for the closing transaction: the winner's and the seller's badges."""
    if auction.winner_id is None:
        return
    db.session.flush()
    evaluate(auction.winner_id, WIN_RULES)
    evaluate(auction.seller_id, SALE_RULES)


def on_rated(ratee_id: int) -> None:
    """Hook for the rating transaction: trusted seller."""
    evaluate(ratee_id, RATING_RULES)


def badges(user_id: int) -> list[BadgeProgress]:
    """Every badge of the catalog with this person's progress, awarded ones first."""
    awarded = dict(
        db.session.execute(
            select(Achievement.code, UserAchievement.awarded_at)
            .join(UserAchievement, UserAchievement.achievement_id == Achievement.id)
            .where(UserAchievement.user_id == user_id)
        ).all()
    )
    result = []
    for rule in RULES.values():
        value = rule.progress(user_id)
        result.append(
            BadgeProgress(
                rule.code, rule.icon, GLYPHS.get(rule.code, "★"), str(rule.name), str(rule.description),
                rule.threshold if rule.code in awarded else min(value, rule.threshold),
                rule.threshold, awarded.get(rule.code),
            )
        )
    return sorted(result, key=lambda b: (not b.awarded, -b.value / b.threshold))
