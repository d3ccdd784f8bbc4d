"""The texts that tell people what happened to an auction, queued through the outbox.

Each notice is written in the same transaction as its cause and rendered in the
recipient's language when it is queued. Amounts are Stars.
"""

from __future__ import annotations

from flask import current_app
from flask_babel import lazy_gettext as _l

from auction import stars
from auction.models import Auction
from auction.services import outbox, sale_followups

# Built per message so each text is a lazy string rendered in the recipient's language.
NOTICES = {
    "outbid": lambda **p: _l("You have been outbid on “%(title)s”: the price is now %(price)s ⭐.", **p),
    "auction_won": lambda **p: _l("You won “%(title)s” for %(price)s ⭐.", **p),
    "auction_sold": lambda **p: _l("“%(title)s” sold for %(price)s ⭐. You receive %(net)s ⭐ after the platform fee.", **p),
    "auction_unsold": lambda **p: _l("“%(title)s” ended without a sale.", **p),
    "auction_lost": lambda **p: _l("“%(title)s” has ended; another bidder won it.", **p),
    "auction_canceled": lambda **p: _l("“%(title)s” was cancelled. Any Stars held for it are released.", **p),
}


def notify(user_id: int, kind: str, auction: Auction, dedupe: bool = True, **params) -> None:
    """Tell `user_id` about `auction` through the outbox (this transaction, their language).

    `kind` is a key of NOTICES; `params` fill its text (amounts in Stars). With `dedupe`, a
    second notice of the same kind about the same auction to the same person is dropped.
    """
    url = f"{current_app.config.get('BASE_URL', '').rstrip('/')}/auctions/{auction.id}"
    text = NOTICES[kind](title=auction.title, **stars.lazy_params(params))  # grouped in the recipient's language
    outbox.queue_telegram(
        user_id,
        kind,
        text,
        buttons=[{"text": _l("Open the auction"), "url": url}],
        dedupe_key=f"{kind}:{auction.id}:{user_id}" if dedupe else None,
    )


def notify_close(auction: Auction, losers: list[int], net: int | None = None) -> None:
    """The winner, the seller (with `net`, the Stars they receive) and every other bidder of a closed auction."""
    price = auction.final_price
    if auction.winner_id is not None:
        notify(auction.winner_id, "auction_won", auction, price=price)
        notify(auction.seller_id, "auction_sold", auction, price=price, net=net)
    else:
        notify(auction.seller_id, "auction_unsold", auction)
    for user_id in sorted(set(losers)):
        if user_id != auction.winner_id:
            notify(user_id, "auction_lost", auction)
    sale_followups.after_close(auction)
