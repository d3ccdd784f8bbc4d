"""Absurdly large numbers in forms and URLs get a clear answer, never a server error."""

from tests.conftest import csrf_token, page


def test_a_huge_duration_is_a_field_error_not_a_crash(user_client):
    token = csrf_token(user_client, "/auctions/new")
    response = user_client.post(
        "/auctions/new",
        data={"title": "Lamp", "start_price": "10", "duration_value": "999999999999", "duration_unit": "days",
              "kind": "english", "csrf_token": token},
    )
    assert response.status_code in (200, 422)
    assert "This number is too large." in page(response).get_text()


def test_a_huge_wallet_page_number_shows_an_empty_page(user_client):
    response = user_client.get("/wallet?page=99999999999999999999")
    assert response.status_code == 200
