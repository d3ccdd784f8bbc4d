"""Demo data for a local trial, created through the same services as real data."""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from datetime import timedelta

from PIL import Image, ImageDraw
from sqlalchemy import func, select

from auction.extensions import db
from auction.models import Category, User
from auction.services.bidding import place_bid
from auction.services.ledger import credit_sandbox
from auction.services.listings import ListingDraft, create_listing
from auction.services.transaction import atomic

# Stars pay for digital goods and services only (Telegram's payment rules), so the default
# categories and the demo items are all digital. A database seeded before keeps its own rows.
CATEGORIES = [
    ("gifts", "Telegram gifts", "Подарки Telegram"),
    ("digital-art", "Digital art", "Цифровое искусство"),
    ("game-items", "Game items", "Игровые предметы"),
    ("templates", "Templates & assets", "Шаблоны и ассеты"),
    ("services", "Services", "Услуги"),
    ("lessons", "Lessons & courses", "Уроки и курсы"),
]

@dataclass(frozen=True)
class DemoUser:
    first_name: str
    last_name: str | None
    username: str
    language_code: str


# No Telegram ids: any number would belong to some real person, who could then sign in with
# Telegram as a demo account (one of them an admin) and be sent its notifications.
DEMO_USERS = [
    DemoUser("Alice", "Smirnova", "alice_demo", "en"),
    DemoUser("Борис", "Иванов", "boris_demo", "ru"),
    DemoUser("Chen", None, "chen_demo", "en"),
    DemoUser("Дарья", "Кузнецова", "dasha_demo", "ru"),
    DemoUser("Admin", None, "admin_demo", "en"),
]

ITEMS = [
    ("Telegram gift: Plush Pepe", "A rare collectible Telegram gift, sent to the winner's Telegram account after the sale.", "gifts", 120),
    ("Notion planner template", "A yearly planner with a habit tracker and budget pages, shared as a Notion link.", "templates", 80),
    ("Digital painting: Neva at dawn", "Original digital painting, 4000 × 3000 px PNG, with a licence for personal use.", "digital-art", 250),
    ("Online guitar lesson, 45 min", "A video lesson for beginners: chords, strumming and your first song.", "lessons", 60),
    ("Code review, one hour", "An hour on a video call going through your Python code, with written notes afterwards.", "services", 300),
    ("Telegram gift: Durov's cap", "A limited Telegram gift, still upgradable to unique.", "gifts", 40),
    ("Lightroom preset pack", "Twelve film-look presets for Lightroom on desktop and phone.", "templates", 25),
    ("Legendary sword skin", "A tradeable in-game skin, handed over through the game's own trade window.", "game-items", 150),
]

DEMO_STARS = 5_000
# (item index, bidder index, maximum bid): a few live bidding wars for the demo.
DEMO_BIDS = [(0, 1, 150), (0, 2, 180), (2, 0, 300), (2, 3, 320), (2, 0, 400), (4, 1, 350), (7, 2, 160)]

PALETTE = [(42, 125, 225), (245, 179, 1), (31, 157, 85), (214, 69, 69), (120, 80, 200), (20, 150, 160)]


def demo_photo(title: str, seed: int) -> bytes:
    """A generated 1200×900 picture for a demo item: colour bands and its initial."""
    rng = random.Random(seed)
    base = PALETTE[seed % len(PALETTE)]
    image = Image.new("RGB", (1200, 900), base)
    draw = ImageDraw.Draw(image)
    for _ in range(14):
        x, y, r = rng.randrange(1200), rng.randrange(900), rng.randrange(60, 260)
        shade = tuple(min(255, c + rng.randrange(20, 90)) for c in base)
        draw.ellipse((x - r, y - r, x + r, y + r), fill=shade)
    draw.rounded_rectangle((420, 270, 780, 630), radius=60, fill=(255, 255, 255))
    draw.text((600, 450), title[:1].upper(), fill=base, anchor="mm", font_size=240)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def database_is_empty() -> bool:
    return not db.session.scalar(select(func.count()).select_from(User))


@atomic
def _create_categories() -> dict[str, int]:
    ids = {}
    for position, (slug, name_en, name_ru) in enumerate(CATEGORIES):
        category = db.session.scalar(select(Category).where(Category.slug == slug))
        if category is None:
            category = Category(slug=slug, name_en=name_en, name_ru=name_ru, position=position)
            db.session.add(category)
            db.session.flush()
        ids[slug] = category.id
    return ids


@atomic
def _create_demo_user(profile: DemoUser, admin: bool) -> int:
    user = db.session.scalar(select(User).where(User.is_demo.is_(True), User.username == profile.username))
    if user is None:
        user = User(telegram_id=None, is_demo=True)
        db.session.add(user)
    user.first_name, user.last_name, user.username = profile.first_name, profile.last_name, profile.username
    user.language_code = profile.language_code
    user.is_admin = admin
    db.session.flush()
    return user.id


def seed_demo() -> dict[str, int]:
    """Create demo users with sandbox Stars, categories, live auctions and a few bids."""
    categories = _create_categories()
    user_ids = [_create_demo_user(p, admin=p.username == "admin_demo") for p in DEMO_USERS]
    for user_id in user_ids:
        credit_sandbox(user_id, DEMO_STARS)
    sellers = user_ids[:4]
    auction_ids = []
    for index, (title, description, slug, price) in enumerate(ITEMS):
        auction_id = create_listing(
            sellers[index % len(sellers)],
            ListingDraft(
                title=title,
                description=description,
                start_price=price,
                duration=timedelta(hours=2 + 7 * index),
                category_id=categories[slug],
                photos=[demo_photo(title, index)],
            ),
        )
        auction_ids.append(auction_id)
    for item, bidder, maximum in DEMO_BIDS:
        place_bid(auction_ids[item], user_ids[bidder], maximum, source="web")
    return {"users": len(user_ids), "categories": len(categories), "auctions": len(ITEMS), "bids": len(DEMO_BIDS)}
