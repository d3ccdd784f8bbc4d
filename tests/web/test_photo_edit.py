"""A listing's photos: changed while it is editable, kept across a form with errors, shown whole and enlarged.

Photos are real images made by Pillow, sent through the web form; what is checked is what the
seller and the buyers see (the order of the photos on the pages, the thumbnails on the form,
the messages) and what is left on disk.
"""

from __future__ import annotations

import io
import time
from datetime import timedelta

from itsdangerous import TimestampSigner, URLSafeTimedSerializer
from PIL import Image
from sqlalchemy import func, select

from auction.config import ROOT
from auction.extensions import db
from auction.models import Auction, PhotoUpload, utcnow
from auction.services import bidding, listings, uploads
from auction.services.listings import ListingDraft, PhotoRef
from auction.services.photos import StoredPhoto, store_photo
from tests.conftest import csrf_token, page, sign_in
from tests.support.bidding_helpers import give_stars, new_auction
from tests.web.test_listing_form import listing_fields

STATIC = ROOT / "static"
COLOURS = {"red": (220, 30, 30), "green": (30, 200, 30), "blue": (30, 30, 220), "grey": (128, 128, 128)}


def photo(colour: str, size=(120, 90)) -> tuple[str, bytes]:
    buffer = io.BytesIO()
    Image.new("RGB", size, COLOURS[colour]).save(buffer, "PNG")
    return f"{colour}.png", buffer.getvalue()


def colour_of(relative: str) -> str:
    """Which of COLOURS a stored rendition shows (its centre pixel, nearest colour)."""
    with Image.open(STATIC / relative) as image:
        pixel = image.convert("RGB").getpixel((image.width // 2, image.height // 2))
    return min(COLOURS, key=lambda name: sum((a - b) ** 2 for a, b in zip(COLOURS[name], pixel, strict=True)))


def send_form(client, path: str, files=(), fields: dict | None = None, extra: list[tuple[str, str]] = ()):
    """POST the listing form at `path` as a browser would: fields, repeated photo fields, files."""
    data = {**(fields if fields is not None else listing_fields()), "csrf_token": csrf_token(client, "/auctions/new")}
    multi = list(data.items()) + list(extra) + [("photos", (io.BytesIO(content), name)) for name, content in files]
    body = {}
    for key, value in multi:
        body.setdefault(key, []).append(value)
    return client.post(path, data=body, content_type="multipart/form-data")


def picker(response) -> list[tuple[str, str]]:
    """The photos the form lists: (key, colour of the thumbnail), in order."""
    doc = page(response)
    items = []
    for item in doc.select(".photo-picker-item"):
        src = item.img["src"].removeprefix("/static/")
        items.append((item.select_one("input[name=photo]")["value"], colour_of(src)))
    return items


def gallery(client, auction_id: int) -> list[str]:
    """The colours of the auction page's photos, in order (the first is the cover)."""
    doc = page(client.get(f"/auctions/{auction_id}"))
    return [colour_of(img["src"].removeprefix("/static/")) for img in doc.select(".gallery-strip img")]


def listed(client, files) -> int:
    response = send_form(client, "/auctions/new", files)
    assert response.status_code == 303, page(response).select_one("#err-photos")
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def image_paths(app, auction_id: int) -> list[str]:
    with app.app_context():
        auction = db.session.get(Auction, auction_id)
        paths = [path for image in auction.images for path in (image.thumb_path, image.large_path)]
        db.session.remove()
        return paths


def upload_rows(app) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(PhotoUpload))
        db.session.remove()
        return count


def edit_fields(**overrides) -> dict:
    fields = listing_fields(**overrides)
    del fields["kind"], fields["start_mode"]
    return fields


# --- changing the photos of a listing ------------------------------------------------------


def test_the_seller_adds_removes_reorders_and_picks_the_cover(app, user_client):
    auction_id = listed(user_client, [photo("red"), photo("green"), photo("blue")])
    assert gallery(user_client, auction_id) == ["red", "green", "blue"]
    form = user_client.get(f"/auctions/{auction_id}/edit")
    shown = picker(form)
    assert [colour for _key, colour in shown] == ["red", "green", "blue"]
    red, green, blue = (key for key, _colour in shown)
    assert page(form).select_one(f"input[name=cover][value='{red}']").has_attr("checked")
    green_files = image_paths(app, auction_id)[2:4]

    # Green removed, blue moved before red, a grey one added, and red chosen as the cover.
    extra = [("photo", red), ("photo", green), ("photo", blue), (f"position-{red}", "2"), (f"position-{green}", "2"),
             (f"position-{blue}", "1"), (f"remove-{green}", "1"), ("cover", red)]
    response = send_form(user_client, f"/auctions/{auction_id}/edit", [photo("grey")], edit_fields(), extra)
    assert response.status_code == 303
    assert gallery(user_client, auction_id) == ["red", "blue", "grey"]
    assert not any((STATIC / path).exists() for path in green_files)  # deleted once the change committed

    # The cover leads the home page's card too.
    card = page(user_client.get("/")).select_one(f"#auction-card-{auction_id} .card-media img")
    assert colour_of(card["src"].removeprefix("/static/")) == "red"

    # Moving by numbers alone, without a cover chosen: blue first.
    keys = [key for key, _colour in picker(user_client.get(f"/auctions/{auction_id}/edit"))]
    extra = [pair for number, key in zip((3, 1, 2), keys, strict=True) for pair in (("photo", key), (f"position-{key}", str(number)))]
    assert send_form(user_client, f"/auctions/{auction_id}/edit", (), edit_fields(), extra).status_code == 303
    assert gallery(user_client, auction_id) == ["blue", "grey", "red"]


def test_a_listing_keeps_at_least_one_photo_and_at_most_the_limit(app, user_client):
    auction_id = listed(user_client, [photo("red")])
    [(red, _colour)] = picker(user_client.get(f"/auctions/{auction_id}/edit"))
    response = send_form(user_client, f"/auctions/{auction_id}/edit", (), edit_fields(), [("photo", red), (f"remove-{red}", "1")])
    assert response.status_code == 422
    assert "Add at least one photo." in page(response).select_one("#err-photos").get_text()
    assert gallery(user_client, auction_id) == ["red"] and all((STATIC / p).exists() for p in image_paths(app, auction_id))

    response = send_form(user_client, f"/auctions/{auction_id}/edit", [photo("blue")] * 10, edit_fields(), [("photo", red)])
    assert response.status_code == 422
    assert "at most 10 photos; you chose 11" in page(response).select_one("#err-photos").get_text()
    assert gallery(user_client, auction_id) == ["red"]


def test_photos_change_only_while_the_listing_is_editable(app, user_client, make_user):
    auction_id = listed(user_client, [photo("red"), photo("green")])
    keys = [key for key, _colour in picker(user_client.get(f"/auctions/{auction_id}/edit"))]
    bidder = make_user("Bob")
    give_stars(app, bidder, 500)
    with app.app_context():
        bidding.place_bid(auction_id, bidder, 60)
        db.session.remove()
    extra = [("photo", keys[0]), ("photo", keys[1]), (f"remove-{keys[0]}", "1")]
    response = send_form(user_client, f"/auctions/{auction_id}/edit", (), edit_fields(), extra)
    assert "only be changed before the first bid" in page(user_client.get(response.headers["Location"])).get_text()
    assert gallery(user_client, auction_id) == ["red", "green"]


def test_a_failed_change_deletes_no_photo(app, user_client):
    """The change fails after the photo was taken out (the duration check comes later): nothing is lost."""
    auction_id = listed(user_client, [photo("red"), photo("green")])
    before = image_paths(app, auction_id)
    with app.app_context():
        auction = db.session.get(Auction, auction_id)
        auction.starts_at = utcnow() - timedelta(hours=2)
        keep = auction.images[0].id
        db.session.commit()
        draft = ListingDraft(title="Brass telescope", description="", start_price=50, duration=timedelta(hours=1),
                             photo_order=[PhotoRef(image_id=keep)])
        try:
            listings.update_listing(auction_id, user_client.user_id, draft)
        except listings.InvalidListing as refused:
            assert "already be over" in str(refused)
        else:
            raise AssertionError("the change should have been refused")
        db.session.remove()
    assert image_paths(app, auction_id) == before
    assert all((STATIC / path).exists() for path in before)


# --- a form with errors keeps its photos ---------------------------------------------------


def test_a_form_error_keeps_the_photos_and_the_resubmit_uses_them(app, user_client):
    response = send_form(user_client, "/auctions/new", [photo("red"), photo("green")], listing_fields(title=""))
    assert response.status_code == 422
    kept = picker(response)
    assert [colour for _key, colour in kept] == ["red", "green"]  # thumbnails of the kept photos
    assert all(key.startswith("upload-") for key, _colour in kept)
    assert "Give the item a title." in page(response).select_one("#err-title").get_text()
    assert upload_rows(app) == 2

    # Another error: the same photos, stored once (no new rows, no new files).
    extra = [("photo", key) for key, _colour in kept]
    again = send_form(user_client, "/auctions/new", (), listing_fields(title="", start_price="0"), extra)
    assert again.status_code == 422 and picker(again) == kept and upload_rows(app) == 2

    # Fixed, with green made the cover, and no file sent again.
    response = send_form(user_client, "/auctions/new", (), listing_fields(), extra + [("cover", kept[1][0])])
    assert response.status_code == 303
    auction_id = int(response.headers["Location"].split("/")[-1])
    assert gallery(user_client, auction_id) == ["green", "red"]
    assert upload_rows(app) == 0  # the listing took them over


def test_a_good_photo_is_kept_when_another_is_refused(app, user_client):
    response = send_form(user_client, "/auctions/new", [photo("blue"), ("notes.png", b"not an image")])
    assert response.status_code == 422
    assert "Photo 2:" in page(response).select_one("#err-photos").get_text()
    assert [colour for _key, colour in picker(response)] == ["blue"]


def test_a_kept_photo_of_another_person_or_expired_is_refused(app, user_client, make_user):
    response = send_form(user_client, "/auctions/new", [photo("red")], listing_fields(title=""))
    [(key, _colour)] = picker(response)

    other = app.test_client()
    sign_in(other, make_user("Mallory"))
    stolen = send_form(other, "/auctions/new", (), listing_fields(), [("photo", key)])
    assert stolen.status_code == 422
    assert "belongs to someone else's form" in page(stolen).select_one("#err-photos").get_text()
    assert picker(stolen) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Auction)) == 0
        upload_id = db.session.scalar(select(PhotoUpload.id))
        db.session.remove()

    class TwoHoursAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time()) - 2 * 3600 - 5

    old = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt=uploads.TOKEN_SALT, signer=TwoHoursAgo)
    token = old.dumps({"p": upload_id, "u": user_client.user_id})
    expired = send_form(user_client, "/auctions/new", (), listing_fields(), [("photo", f"upload-{token}")])
    assert expired.status_code == 422
    assert "has expired (after 2 hours)" in page(expired).select_one("#err-photos").get_text()

    forged = send_form(user_client, "/auctions/new", (), listing_fields(), [("photo", "upload-" + key[7:-3] + "abc")])
    assert "cannot be used any more" in page(forged).select_one("#err-photos").get_text()


def test_kept_photos_nobody_used_are_removed_after_their_tokens_expire(app, user_client):
    send_form(user_client, "/auctions/new", [photo("red")], listing_fields(title=""))
    with app.app_context():
        stale = store_photo(photo("green")[1])
        db.session.add(PhotoUpload(user_id=user_client.user_id, thumb_path=stale.thumb_path, large_path=stale.large_path,
                                   width=stale.width, height=stale.height, created_at=utcnow() - timedelta(hours=3)))
        db.session.commit()
        fresh = db.session.scalars(select(PhotoUpload).where(PhotoUpload.thumb_path != stale.thumb_path)).one()
        fresh_files = [fresh.thumb_path, fresh.large_path]
        db.session.remove()
        assert uploads.discard_expired_uploads() == 1
        db.session.remove()
    assert not (STATIC / stale.thumb_path).exists() and not (STATIC / stale.large_path).exists()
    assert all((STATIC / path).exists() for path in fresh_files) and upload_rows(app) == 1


# --- whole photos, enlarged -----------------------------------------------------------------


def test_the_auction_page_has_a_zoom_view_of_the_large_renditions(app, user_client):
    name, data = photo("red", size=(2400, 1800))
    auction_id = listed(user_client, [(name, data), photo("blue")])
    doc = page(user_client.get(f"/auctions/{auction_id}"))
    links = doc.select(".gallery-slide a[data-zoom]")
    assert [link["data-zoom"] for link in links] == ["0", "1"]
    zoom = doc.select_one("dialog.photo-zoom")
    large = [img["src"].removeprefix("/static/") for img in zoom.select(".zoom-slide img")]
    assert [colour_of(src) for src in large] == ["red", "blue"]
    assert links[0]["href"] == f"/static/{large[0]}"  # without scripts the link opens the large photo
    with Image.open(STATIC / large[0]) as image:
        assert max(image.size) == 1600  # the larger rendition, not the 400 px thumbnail
    assert zoom.select_one("form[method=dialog] button")["aria-label"] == "Close"
    assert doc.select_one(".zoom-next")["aria-label"] == "Next photo"


def test_stored_photo_renditions(tmp_path):
    stored: StoredPhoto = store_photo(photo("grey", size=(3200, 1000))[1], static_root=tmp_path)
    with Image.open(tmp_path / stored.large_path) as large, Image.open(tmp_path / stored.thumb_path) as thumb:
        assert large.size == (1600, 500) and thumb.size == (400, 125)


# --- scheduled auctions on the home page ------------------------------------------------------


def test_a_scheduled_auction_reads_opens_in_with_its_starting_price(app, client, make_user):
    seller = make_user("Sam")
    later = new_auction(app, seller, title="Music box", status="scheduled", start_price=75,
                        starts_at=utcnow() + timedelta(hours=2), ends_at=utcnow() + timedelta(days=1))
    new_auction(app, seller, title="Old map")
    doc = page(client.get("/"))
    titles = [a.get_text(strip=True) for a in doc.select(".auction-grid .card-title")]
    assert titles == ["Old map", "Music box"]  # listed, after those open now
    card = doc.select_one(f"#auction-card-{later}")
    assert card.select_one("time[data-countdown]")["data-format"] == "Opens in %s"
    assert "Opens" in card.select_one("time").get_text()
    assert "75" in card.select_one(".card-price").get_text() and "Starting price" in card.get_text()
    assert "bid" not in card.get_text().lower()

    auction = page(client.get(f"/auctions/{later}"))
    assert "Minimum next bid" not in auction.get_text() and "Starting price" in auction.get_text()
    assert "Bids open when the auction opens." in auction.get_text()

    found = page(client.get("/search?status=scheduled"))
    assert found.select_one(f"#auction-card-{later} time")["data-format"] == "Opens in %s"
