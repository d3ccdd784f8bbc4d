from tests.conftest import page


def test_home_page_lists_live_auctions_in_the_shell(client):
    response = client.get("/")
    assert response.status_code == 200
    html = page(response)
    assert html.find("a", class_="brand")
    assert html.find("h1").get_text(strip=True) == "Live auctions"
