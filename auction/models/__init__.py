"""Every table of the product; importing this module registers them all."""

from auction.models.auctions import Auction, AuctionImage, Bid, Category
from auction.models.messaging import (
    Notification,
    NotificationPreference,
    NotificationSettings,
    OutboxMessage,
    SupportMessage,
    SupportTicket,
)
from auction.models.money import Hold, LedgerAccount, LedgerTransfer, Payment, StarPurchase
from auction.models.social import Achievement, Rating, UserAchievement, WatchlistEntry
from auction.models.types import utcnow
from auction.models.users import Subscription, UsedLoginHash, User

__all__ = [
    "Achievement",
    "Auction",
    "AuctionImage",
    "Bid",
    "Category",
    "Hold",
    "LedgerAccount",
    "LedgerTransfer",
    "Notification",
    "NotificationPreference",
    "NotificationSettings",
    "OutboxMessage",
    "Payment",
    "Rating",
    "StarPurchase",
    "Subscription",
    "SupportMessage",
    "SupportTicket",
    "UsedLoginHash",
    "User",
    "UserAchievement",
    "WatchlistEntry",
    "utcnow",
]
