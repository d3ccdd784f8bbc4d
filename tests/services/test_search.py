"""The search service: words, ranking, every filter and sort, paging and hostile queries (SQLite and PostgreSQL)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from auction.extensions import db
from auction.models import Auction, Category, utcnow
from auction.services import search
from auction.services.search import SearchFilters, parse_request, parse_terms, search_auctions
from tests.support.bidding_helpers import new_auction


def titles(app, query: str = "", sort: str = "", page: int = 1, per_page: int = search.PAGE_SIZE, **filters) -> list[str]:
    with app.app_context():
        results = search_auctions(query, SearchFilters(**filters), sort or search.default_sort(query), page, per_page)
        return [a.title for a in results.auctions]


@pytest.fixture
def catalogue(app, make_user):
    """A small catalogue in two languages, two categories, every kind and status."""
    seller, other = make_user("Seller"), make_user("Other")
    now = utcnow()
    with app.app_context():
        art = Category(slug="art", name_en="Digital art", name_ru="Цифровое искусство", position=1)
        games = Category(slug="games", name_en="Game items", name_ru="Игровые предметы", position=2)
        db.session.add_all([art, games])
        db.session.commit()
        art_id, games_id = art.id, games.id
    ids = {
        "Red dragon sticker pack": new_auction(app, seller, title="Red dragon sticker pack", description="Animated stickers.",
                                               category_id=art_id, start_price=50, ends_at=now + timedelta(minutes=30), bid_count=3),
        "Sword of dawn": new_auction(app, seller, title="Sword of dawn", description="A legendary game item with a red dragon on the hilt.",
                                     category_id=games_id, start_price=300, ends_at=now + timedelta(hours=5), bid_count=7,
                                     starts_at=now - timedelta(minutes=5)),
        "Пиксельный дракон": new_auction(app, other, title="Пиксельный дракон", description="Цифровая картина с драконом.",
                                         category_id=art_id, start_price=120, ends_at=now + timedelta(days=2), kind="sealed_first",
                                         starts_at=now - timedelta(minutes=2)),
        "Logo template": new_auction(app, other, title="Logo template", description="Vector logo, quick delivery.",
                                     start_price=20, buy_now_price=80, ends_at=now + timedelta(days=3)),
        "Dutch skin bundle": new_auction(app, seller, title="Dutch skin bundle", description="Skins for your game.", kind="dutch",
                                         start_price=500, dutch_floor=100, dutch_step=10, dutch_interval_seconds=60,
                                         category_id=games_id, ends_at=now + timedelta(hours=2)),
        "Future dragon egg": new_auction(app, seller, title="Future dragon egg", status="scheduled",
                                         starts_at=now + timedelta(hours=1), ends_at=now + timedelta(hours=3)),
        "Old dragon coin": new_auction(app, seller, title="Old dragon coin", status="ended", final_price=40, current_price=40,
                                       starts_at=now - timedelta(days=2), ends_at=now - timedelta(days=1)),
        "Cancelled dragon": new_auction(app, seller, title="Cancelled dragon", status="canceled"),
    }
    return {"seller": seller, "other": other, "ids": ids}


def test_words_match_titles_and_descriptions_and_titles_rank_first(app, catalogue):
    found = titles(app, "dragon")
    assert found[0] == "Red dragon sticker pack"
    assert set(found) == {"Red dragon sticker pack", "Sword of dawn"}  # the sword has it in its description only
    assert titles(app, "дракон") == ["Пиксельный дракон"]
    assert titles(app, "red dragon") == ["Red dragon sticker pack", "Sword of dawn"]


def test_a_word_also_finds_longer_words_and_every_word_must_match(app, catalogue):
    assert titles(app, "stick") == ["Red dragon sticker pack"]
    assert titles(app, "Дракон цифровая") == ["Пиксельный дракон"]
    assert titles(app, "dragon logo") == []


def test_a_quoted_phrase_must_stand_together(app, catalogue):
    assert titles(app, '"red dragon"') == ["Red dragon sticker pack", "Sword of dawn"]
    assert titles(app, '"dragon red"') == []
    assert titles(app, '"logo template"') == ["Logo template"]


@pytest.mark.parametrize(
    "query",
    ['"', '"red', "*", "dra*", "-dragon", "(", "dragon)", "dragon NEAR coin", "NEAR(dragon coin)", "AND", "dragon AND OR NOT",
     "' OR 1=1 --", "'; DROP TABLE auctions; --", "dragon\x00", "\x00", "title:dragon", "^dragon", "{dragon}", "dragon:*",
     "a & b | !c", "<->", "x" * 10_000, "дракон" * 2000, "😀 dragon"],
)
def test_whatever_a_person_types_is_searched_as_words(app, catalogue, query):
    found = titles(app, query)
    if parse_terms(query).words == ("dragon",) and not parse_terms(query).phrases:
        assert set(found) == {"Red dragon sticker pack", "Sword of dawn"}
    with app.app_context():
        assert db.session.get(Auction, catalogue["ids"]["Logo template"]) is not None  # nothing dropped


def test_operators_are_words(app, catalogue):
    assert parse_terms("' OR 1=1 --").words == ("or", "1")
    assert parse_terms('dragon NEAR "red  sword" -x*').phrases == (("red", "sword"),)
    assert titles(app, "-dragon") == titles(app, "dragon")
    assert titles(app, "sword OR logo") == []  # every word must match; OR is a word like any other


def test_status_filter(app, catalogue):
    live = set(titles(app, "dragon", status="live"))
    assert live == {"Red dragon sticker pack", "Sword of dawn"}
    assert titles(app, "dragon", status="scheduled") == ["Future dragon egg"]
    assert titles(app, "dragon", status="ended") == ["Old dragon coin"]
    assert set(titles(app, "dragon", status="all")) == live | {"Future dragon egg", "Old dragon coin"}
    assert "Cancelled dragon" not in titles(app, "", status="all")


def test_category_kind_price_and_seller_filters(app, catalogue):
    assert set(titles(app, category="art")) == {"Red dragon sticker pack", "Пиксельный дракон"}
    assert set(titles(app, "dragon", category="games")) == {"Sword of dawn"}
    assert len(titles(app, category="no-such-category")) == 5  # ignored, not an error
    assert titles(app, kind="dutch") == ["Dutch skin bundle"]
    assert titles(app, kind="sealed_first") == ["Пиксельный дракон"]
    assert set(titles(app, min_price=100, max_price=300)) == {"Sword of dawn", "Пиксельный дракон"}
    assert titles(app, max_price=20) == ["Logo template"]
    assert set(titles(app, seller_id=catalogue["other"])) == {"Пиксельный дракон", "Logo template"}


def test_ending_within_and_buy_it_now(app, catalogue):
    assert titles(app, ending_within="1h") == ["Red dragon sticker pack"]
    assert titles(app, ending_within="24h") == ["Red dragon sticker pack", "Dutch skin bundle", "Sword of dawn"]
    assert titles(app, buy_now=True) == ["Logo template"]
    with app.app_context():
        db.session.get(Auction, catalogue["ids"]["Logo template"]).bid_count = 1
        db.session.commit()
    assert titles(app, buy_now=True) == []  # gone with the first bid


def test_sorts(app, catalogue):
    assert titles(app, sort="ending")[:2] == ["Red dragon sticker pack", "Dutch skin bundle"]
    assert titles(app, sort="newest") == ["Dutch skin bundle", "Logo template", "Red dragon sticker pack", "Пиксельный дракон", "Sword of dawn"]
    assert titles(app, sort="price_asc") == ["Logo template", "Red dragon sticker pack", "Пиксельный дракон", "Sword of dawn", "Dutch skin bundle"]
    assert titles(app, sort="price_desc") == list(reversed(titles(app, sort="price_asc")))
    assert titles(app, sort="bids")[:2] == ["Sword of dawn", "Red dragon sticker pack"]
    assert titles(app, "dragon", sort="price_desc") == ["Sword of dawn", "Red dragon sticker pack"]
    assert titles(app, "", sort="relevance") == titles(app, "", sort="ending")  # no words: nothing to rank by
    assert titles(app, sort="nonsense") == titles(app, sort="ending")


def test_pages(app, catalogue):
    first, second, third = (titles(app, sort="ending", page=n, per_page=2) for n in (1, 2, 3))
    assert first + second + third == titles(app, sort="ending")
    assert len(third) == 1
    with app.app_context():
        results = search_auctions("", SearchFilters(), "ending", 2, per_page=2)
        assert results.has_next and results.has_previous
        assert not search_auctions("", SearchFilters(), "ending", 3, per_page=2).has_next
    assert titles(app, page=999_999, per_page=2) == []


def test_the_index_follows_edits_and_deletions(app, catalogue):
    auction_id = catalogue["ids"]["Logo template"]
    with app.app_context():
        auction = db.session.get(Auction, auction_id)
        auction.title = "Banner template"
        db.session.commit()
    assert titles(app, "logo") == ["Banner template"]  # still in the description
    assert titles(app, "banner") == ["Banner template"]
    with app.app_context():
        auction = db.session.get(Auction, auction_id)
        auction.description = "Vector art."
        auction.current_price = 30  # a bid-like change leaves the index alone
        db.session.commit()
    assert titles(app, "logo") == []
    with app.app_context():
        db.session.delete(db.session.get(Auction, auction_id))
        db.session.commit()
    assert titles(app, "banner") == []


def test_parse_request_reads_the_url_and_names_what_it_ignored(app):
    with app.test_request_context(headers={"Accept-Language": "ru"}):
        request = parse_request({"q": " dragon ", "min_price": "1 000", "max_price": "ten", "kind": "dutch", "status": "ended",
                                 "ending": "24h", "buy_now": "1", "seller": "7", "sort": "price_asc", "page": "3"})
        assert request.query == "dragon"
        assert request.filters == SearchFilters(kind="dutch", status="ended", min_price=1000, ending_within="24h", buy_now=True, seller_id=7)
        assert request.sort == "price_asc" and request.page == 3
        assert str(request.errors["max_price"]) == "Введите целое число звёзд, например 100."
        assert request.query_string() == "q=dragon&kind=dutch&status=ended&min_price=1000&ending=24h&buy_now=1&seller=7&sort=price_asc"
        odd = parse_request({"q": "x", "sort": "'; --", "page": "-1", "status": "<b>", "kind": "x", "ending": "9y", "seller": "a"})
        assert (odd.sort, odd.page, odd.filters) == ("relevance", 1, SearchFilters())
        crossed = parse_request({"min_price": "50", "max_price": "10"})
        assert crossed.filters.max_price is None and "max_price" in crossed.errors


def test_best_match_ranks_the_pool_of_matches_ending_soonest(app, catalogue, monkeypatch):
    monkeypatch.setattr(search, "RANKED_POOL", 1)
    # Both match "dragon"; the sticker pack ends first, so a pool of one holds it alone.
    assert titles(app, "dragon") == ["Red dragon sticker pack"]
    monkeypatch.setattr(search, "RANKED_POOL", 1000)
    assert titles(app, "dragon", sort="relevance") == ["Red dragon sticker pack", "Sword of dawn"]
    assert titles(app, "dragon", sort="ending") == ["Red dragon sticker pack", "Sword of dawn"]


def test_long_words_are_searched_by_their_first_eight_letters(app, catalogue):
    assert search.fts5_query(parse_terms("legendary animated")) == '"legendar"* AND "animated"*'
    assert titles(app, "legendary") == ["Sword of dawn"]
    assert titles(app, "legendaries") == ["Sword of dawn"]


def test_many_matches_walk_the_order_and_find_the_same(app, catalogue, monkeypatch):
    cases = [("dragon", "relevance"), ("dragon", "ending"), ("dragon", "price_desc"), ('"red dragon"', "relevance"), ("дракон", "newest")]
    looked_up = [titles(app, query, sort=sort) for query, sort in cases]
    monkeypatch.setattr(search, "LOOKUP_LIMIT", 0)  # every query now counts as a common word
    assert [titles(app, query, sort=sort) for query, sort in cases] == looked_up
