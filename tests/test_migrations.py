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


@pytest.fixture
def empty_app(make_app):
    """An app on an empty database: only migrations create tables."""
    app = make_app(create_schema=False)
    with app.app_context():
        assert inspect(db.engine).get_table_names() == []
        yield app


def tables() -> set[str]:
    return set(inspect(db.engine).get_table_names())


def model_tables() -> set[str]:
    return set(db.metadata.tables)


def schema_drift() -> list:
    """What `flask db migrate` would put in a new revision (empty when in sync)."""
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True, "compare_server_default": True})
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
