"""`flask --app wsgi ...` commands."""

from __future__ import annotations

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only seed when the database has no users yet.")
    def seed_demo_command(if_empty: bool) -> None:
        """Create demo users, categories and live auctions."""
        from auction.services import demo

        if if_empty and not demo.database_is_empty():
            click.echo("Demo data: the database already has users; nothing to do.")
            return
        created = demo.seed_demo()
        click.echo(
            f"Demo data: {created['users']} users, {created['categories']} categories, "
            f"{created['auctions']} live auctions."
        )
