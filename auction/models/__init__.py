"""Every table of the product; importing this module registers them all."""

from auction.models.admin import AdminAction, AnalyticsDay, PayoutRequest
from auction.models.auctions import Auction, AuctionImage, AuctionView, Bid, Category, PhotoUpload
from auction.models.messaging import (
    Notification,
    NotificationPreference,
    NotificationSettings,
    OutboxMessage,
    PushSubscription,
    SupportMessage,
    SupportTicket,
)
from auction.models.money import Hold, LedgerAccount, LedgerTransfer, Payment, StarPurchase
from auction.models.search import SavedSearch
from auction.models.social import Achievement, Rating, ReviewReport, UserAchievement, WatchlistEntry
from auction.models.submissions import Submission
from auction.models.types import utcnow
from auction.models.users import Subscription, UsedLoginHash, User

__all__ = [
    "AnalyticsDay",
    "AdminAction",
    "PayoutRequest",
    "Achievement",
    "Auction",
    "AuctionImage",
    "AuctionView",
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
    "PhotoUpload",
    "PushSubscription",
    "Rating",
    "SavedSearch",
    "ReviewReport",
    "StarPurchase",
    "Submission",
    "Subscription",
    "SupportMessage",
    "SupportTicket",
    "UsedLoginHash",
    "User",
    "UserAchievement",
    "WatchlistEntry",
    "utcnow",
]
