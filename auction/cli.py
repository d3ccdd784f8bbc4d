"""`flask --app wsgi ...` commands."""

from __future__ import annotations

import click
from flask import Flask


def register(app: Flask) -> None:
    @app.cli.command("seed-demo")
    @click.option("--if-empty", is_flag=True, help="Only seed when the database has no users yet.")
    def seed_demo_command(if_empty: bool) -> None:
        """Create demo users (with sandbox Stars), categories, live auctions and bids."""
        from auction.services import demo

        if if_empty and not demo.database_is_empty():
            click.echo("Demo data: the database already has users; nothing to do.")
            return
        created = demo.seed_demo()
        click.echo(
            f"Demo data: {created['users']} users, {created['categories']} categories, "
            f"{created['auctions']} live auctions, {created['bids']} bids."
        )

    @app.cli.group("ledger")
    def ledger_group() -> None:
        """Inspect the Stars ledger."""

    @ledger_group.command("check")
    def ledger_check_command() -> None:
        """Verify the ledger invariants; exits non-zero and lists every violation if any fails."""
        from sqlalchemy import func, select

        from auction.extensions import db
        from auction.models import Hold, LedgerAccount, LedgerTransfer
        from auction.services.ledger_check import check_invariants

        problems = check_invariants()
        if problems:
            for problem in problems:
                click.echo(problem, err=True)
            click.echo(f"Ledger check FAILED: {len(problems)} violation(s).", err=True)
            raise SystemExit(1)
        transfers = db.session.scalar(select(func.count()).select_from(LedgerTransfer))
        accounts = db.session.scalar(select(func.count()).select_from(LedgerAccount))
        holds = db.session.scalar(select(func.count()).select_from(Hold).where(Hold.status == "active"))
        click.echo(f"Ledger OK: {transfers} transfers, {accounts} accounts, {holds} active holds; all 6 invariants hold.")

    @app.cli.group("push")
    def push_group() -> None:
        """Web push (VAPID) keys."""

    @push_group.command("keys")
    def push_keys_command() -> None:
        """Print a new VAPID key pair: the private key for .env, the public key for information."""
        from auction.services import push

        private, public = push.new_key_pair()
        click.echo(f"PUSH_NOTIFICATION_SERVICE_KEY={private}")
        click.echo(f"# public key (the site hands it to browsers itself): {public}")
        click.echo("# also set PUSH_CONTACT=mailto:you@example.com (or an https: page) for push services to reach you")
