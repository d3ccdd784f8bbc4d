"""Help and policy pages: reachable from the footer, in both languages, examples from the real rules."""

import pytest

from auction.services import rules
from auction.services.guide import examples
from tests.conftest import csrf_token, page


@pytest.mark.parametrize("path", ["/help", "/fees", "/terms", "/privacy"])
@pytest.mark.parametrize("htmx", [False, True])
def test_each_page_is_linked_from_the_footer_and_renders(client, path, htmx):
    headers = {"HX-Request": "true"} if htmx else {}
    response = client.get(path, headers=headers)
    assert response.status_code == 200
    html = page(response)
    assert html.h1.get_text(strip=True)
    footer_links = {a["href"] for a in page(client.get("/")).select("footer a")}
    assert path in footer_links


def test_help_examples_follow_the_increment_table_and_proxy_rule(client):
    html = page(client.get("/help"))
    rows = [[td.get_text(" ", strip=True) for td in tr.select("td")] for tr in html.select("#bidding tbody tr")]
    assert len(rows) == len(rules.INCREMENT_TABLE)
    assert rows[0] == ["0 ⭐ to 99 ⭐", "1 ⭐"]
    assert rows[-1] == ["50,000 ⭐ and more", "250 ⭐"]
    steps = [li.get_text(" ", strip=True) for li in html.select("#proxy li")]
    # Anna up to 150, Boris up to 130: Anna keeps the lead at 130 + one step (5) = 135.
    assert "Anna leads at 135 ⭐" in steps[1]
    assert "Chen leads at 155 ⭐" in steps[2]
    assert "the price 300 ⭐" in html.select_one("#reserve").get_text(" ", strip=True)
    dutch = [tr.get_text(" ", strip=True) for tr in html.select("#dutch tbody tr")]
    assert dutch == ["0 500 ⭐", "1 475 ⭐", "5 375 ⭐", "30 200 ⭐"]
    sealed = html.select_one("#sealed").get_text(" ", strip=True)
    assert "With first price they pay 150 ⭐; with second price, 120 ⭐" in sealed


def test_examples_change_with_the_rules_they_call():
    ex = examples(fee_percent=7)
    assert (ex.fee_amount, ex.fee_seller_gets) == (70, 930)
    assert ex.proxy_steps[0].min_next == ex.start_price + rules.default_increment(ex.start_price)


def test_fee_page_reads_the_configured_fee_and_payout_minimum(make_app):
    client = make_app(PLATFORM_FEE_PERCENT=8, PAYOUT_MIN=250).test_client()
    text = page(client.get("/fees")).select_one("main").get_text(" ", strip=True)
    assert "keeps 8% of the price" in text
    assert "The fee is 80 ⭐; the seller receives 920 ⭐" in text
    assert "at least 250 ⭐" in text
    assert "Telegram does not let a bot send Stars to a person" in text


def test_pages_in_russian(client):
    client.post("/locale", data={"locale": "ru", "csrf_token": csrf_token(client)})
    help_text = page(client.get("/help")).select_one("main").get_text(" ", strip=True)
    assert "Как это работает" in help_text
    assert "Анна" in help_text
    terms = page(client.get("/terms")).select_one("main").get_text(" ", strip=True)
    assert "цифровые товары" in terms
    assert "Конфиденциальность" in page(client.get("/privacy")).get_text()
    assert "Комиссии и выплаты" in page(client.get("/fees")).get_text()
