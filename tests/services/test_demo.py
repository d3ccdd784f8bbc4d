from tests.conftest import page


def test_seed_demo_creates_a_trial_world_through_the_services(app, client, runner):
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0, result.output
    assert "8 live auctions, 7 bids" in result.output

    html = page(client.get("/"))
    assert len(html.select(".auction-card")) == 8

    login = page(client.get("/dev-login"))
    assert len(login.select("button.demo-user")) == 5

    check = runner.invoke(args=["ledger", "check"])
    assert check.exit_code == 0, check.output
    assert "active holds" in check.output


def test_seed_demo_if_empty_leaves_a_used_database_alone(app, make_user, runner):
    make_user("Somebody")
    result = runner.invoke(args=["seed-demo", "--if-empty"])
    assert result.exit_code == 0
    assert "nothing to do" in result.output
    with app.app_context():
        from sqlalchemy import func, select

        from auction.extensions import db
        from auction.models import Auction

        assert db.session.scalar(select(func.count()).select_from(Auction)) == 0
