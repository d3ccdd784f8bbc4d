"""Migrations: upgrade from empty, round-trip, and no drift between models and revisions.

Runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL (each test in its own schema).
"""

from __future__ import annotations

import flask_migrate
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect

from auction.extensions import db
from auction.models.search import is_search_index


@pytest.fixture
def empty_app(make_app):
    """An app on an empty database: only migrations create tables."""
    app = make_app(create_schema=False)
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []
        yield app


def tables() -> set[str]:
    """The database's tables, less the full-text index's own (built by hand, not from a model)."""
    return {name for name in inspect(db.engine).get_table_names() if not is_search_index(name, "table")}


def model_tables() -> set[str]:
    return set(db.metadata.tables)


def schema_drift() -> list:
    """What `flask db migrate` would put in a new revision (empty when in sync)."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True,
                                                            "include_name": lambda name, type_, _: not is_search_index(name, type_)})
        return compare_metadata(context, db.metadata)


def head_revision(app) -> str:
    config = app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_current_head()


def current_revision() -> str | None:
    with db.engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def test_upgrade_from_empty_creates_every_table(empty_app):
    flask_migrate.upgrade()
    assert tables() == model_tables() | {"alembic_version"}
    assert current_revision() == head_revision(empty_app)


def search_triggers() -> set[str]:
    """The triggers that keep the full-text index in step with `auctions` (0014_search)."""
    with db.engine.connect() as connection:
        if db.engine.dialect.name == "sqlite":
            return set(connection.exec_driver_sql("SELECT name FROM sqlite_master WHERE type = 'trigger'").scalars())
        return set(connection.exec_driver_sql(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'auctions'::regclass AND NOT tgisinternal").scalars())


def test_every_later_revision_keeps_the_search_triggers(empty_app):
    """A batch rewrite of `auctions` on SQLite silently drops its triggers (0018 once did)."""
    flask_migrate.upgrade(revision="0014_search")
    expected = search_triggers()
    assert expected
    flask_migrate.upgrade()
    assert search_triggers() == expected
    flask_migrate.downgrade(revision="0014_search")
    assert search_triggers() == expected
    flask_migrate.upgrade()  # the ledger check after every test reads today's tables


def test_models_and_migrations_do_not_drift(empty_app):
    flask_migrate.upgrade()
    assert schema_drift() == []


def test_downgrade_to_base_and_upgrade_again_round_trips(empty_app):
    flask_migrate.upgrade()
    flask_migrate.downgrade(revision="base")
    assert tables() <= {"alembic_version"}
    assert current_revision() is None
    flask_migrate.upgrade()
    assert tables() == model_tables() | {"alembic_version"}
    assert schema_drift() == []


def test_the_migrated_database_works_for_the_app(make_app):
    app = make_app(create_schema=False)
    with app.app_context():
        flask_migrate.upgrade()
    client = app.test_client()
    assert client.get("/").status_code == 200
    assert client.get("/dev-login").status_code == 200


def test_drift_check_notices_a_model_change(empty_app):
    """The check above is only worth something if it can fail."""
    from sqlalchemy import Column, Integer, String, Table

    flask_migrate.upgrade()
    extra = Table("drift_probe", db.metadata, Column("id", Integer, primary_key=True), Column("name", String(10)))
    try:
        diff = schema_drift()
    finally:
        db.metadata.remove(extra)
    assert [entry[0] for entry in diff] == ["add_table"]

    username = db.metadata.tables["users"].c.username
    original = username.type
    username.type = String(32)
    try:
        diff = schema_drift()
    finally:
        username.type = original
    assert [change[0][:4] for change in diff] == [("modify_type", None, "users", "username")]


def test_flask_db_migrate_writes_no_new_revision(empty_app, tmp_path):
    """The real `flask db migrate` path (migrations/env.py) on a copy of the migrations."""
    import shutil

    from auction.config import ROOT

    directory = tmp_path / "migrations"
    shutil.copytree(ROOT / "migrations", directory, ignore=shutil.ignore_patterns("__pycache__"))
    before = sorted(p.name for p in (directory / "versions").iterdir())
    flask_migrate.upgrade(directory=str(directory))
    flask_migrate.migrate(directory=str(directory), message="should be empty")
    assert sorted(p.name for p in (directory / "versions").iterdir() if p.name != "__pycache__") == before


def test_0002_takes_the_made_up_telegram_ids_off_seeded_demo_users(empty_app):
    from sqlalchemy import text

    flask_migrate.upgrade(revision="0001")
    with db.engine.begin() as connection:
        # As the earlier seed left them: a demo user with a real-range id and a queued message.
        for user_id, telegram_id, demo in ((1, 900000005, True), (2, 555, False)):
            connection.execute(
                text(
                    "INSERT INTO users (id, telegram_id, username, first_name, locale, is_admin, is_demo, is_suspended,"
                    " bot_blocked, session_version, timezone, created_at) VALUES (:id, :tg, :name, 'X', NULL, false, :demo, false, false, 0, 'UTC', CURRENT_TIMESTAMP)"
                ),
                {"id": user_id, "tg": telegram_id, "name": f"user{user_id}", "demo": demo},
            )
            connection.execute(
                text(
                    "INSERT INTO outbox (channel, user_id, chat_id, kind, payload, status, attempts, next_attempt_at, created_at)"
                    " VALUES ('telegram', :id, :tg, 'outbid', '{}', 'pending', 0, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                ),
                {"id": user_id, "tg": telegram_id},
            )
    flask_migrate.upgrade()
    with db.engine.connect() as connection:
        assert dict(connection.execute(text("SELECT id, telegram_id FROM users")).all()) == {1: None, 2: 555}
        assert [row[0] for row in connection.execute(text("SELECT user_id FROM outbox"))] == [2]
