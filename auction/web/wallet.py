"""The wallet: balances, reservations, history, and buying Stars through a Telegram invoice link."""

from __future__ import annotations

import logging

from flask import Blueprint, Flask, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user, login_required

from auction import numbers, rate_limits
from auction.bot.runtime import bot_runtime
from auction.services import ledger, payments, statement, wallet
from auction.services.errors import ServiceError
from auction.web.formatting import stars
from auction.web.submissions import one_effect

log = logging.getLogger(__name__)

bp = Blueprint("wallet", __name__)
# Registered only when DEV_LOGIN=1: without it the sandbox top-up route does not exist.
sandbox_bp = Blueprint("wallet_sandbox", __name__)

HISTORY_PER_PAGE = 20
SANDBOX_AMOUNT = 500
# Pages past the history are simply empty; the cap keeps the offset within every database's range.
MAX_PAGE = 100_000


def history_label(line: statement.StatementLine) -> str:
    """What a movement means, in the reader's words (a bank statement's line)."""
    entry = line.entry
    title = entry.auction_title or _("an auction")
    if line.kind == ledger.PURCHASE:
        return _("Bought Stars in Telegram")
    if line.kind == ledger.SANDBOX:
        return _("Demo Stars (sandbox)")
    if line.kind == ledger.REFUND:
        return _("Purchase refunded to Telegram")
    if line.kind == ledger.REFUND_CANCELED:
        return _("Refund turned down by Telegram; Stars returned")
    if line.kind == "held":
        return _("Held for your bid on “%(title)s”", title=title)
    if line.kind == "released":
        return _("Released: “%(title)s”", title=title)
    if line.kind == "sold":
        return _("Sold “%(title)s”", title=title)
    if line.kind == "won":
        return _("Won “%(title)s”", title=title)
    if line.kind in ("premium", "premium_telegram"):
        days = current_app.config["PREMIUM_PERIOD_DAYS"]
        return ngettext("Premium, %(num)d day", "Premium, %(num)d days", days)
    if line.kind == "premium_refund":
        return _("Premium payment refunded")
    if line.kind == ledger.PAYOUT:
        return _("Payout requested")
    if line.kind == ledger.PAYOUT_RETURNED:
        return _("Payout rejected; Stars returned")
    return entry.reason


def bot_is_available() -> bool:
    return bot_runtime().running


def create_invoice_link(purchase: payments.Purchase) -> str | None:
    """An invoice link from the running bot, or None when the bot is off or Telegram fails."""
    try:
        return bot_runtime().create_invoice_link(purchase.amount, purchase.payload)
    except Exception:
        log.exception("createInvoiceLink failed for purchase %s", purchase.id)
        return None


def wallet_context(page: int) -> dict:
    user_id = current_user.id
    invoice = None
    invoice_id = numbers.read_id(request.args.get("invoice"))
    if invoice_id:
        invoice = payments.pending_invoice(user_id, invoice_id)
    low, high = payments.stars_limits()
    return {
        "balances": ledger.balances(user_id),
        "holds": wallet.active_holds(user_id),
        **dict(zip(("lines", "history"), statement.statement(user_id, page, HISTORY_PER_PAGE), strict=True)),
        "history_label": history_label,
        "packages": payments.PACKAGES,
        "stars_min": low,
        "stars_max": high,
        "bot_available": bot_is_available(),
        "invoice": invoice,
        "sandbox": current_app.config["DEV_LOGIN"],
        "sandbox_amount": SANDBOX_AMOUNT,
    }


@bp.get("/wallet")
@login_required
def show():
    """Balances, reservations, history and the Stars packages."""
    return render_template("wallet/index.html", **wallet_context(min(max(1, numbers.read_whole(request.args.get("page"), max_digits=30) or 1), MAX_PAGE)))


@bp.post("/wallet/buy")
@rate_limits.limit("INVOICES")
@login_required
@one_effect("purchase")
def buy():
    """Start a purchase and show the Telegram invoice link to pay it."""
    raw = request.form.get("amount") or request.form.get("other_amount")
    if not bot_is_available():
        log.warning("wallet: a purchase was refused because the bot is not running (set TELEGRAM_BOT_TOKEN and BOT_MODE)")
        flash(_("Buying Stars is not available at the moment. Please try again later."), "error")
        return redirect(url_for("wallet.show"))
    try:
        purchase = payments.start_purchase(current_user.id, payments.parse_amount(raw), "web")
    except ServiceError as exc:
        flash(str(exc), "error")
        return redirect(url_for("wallet.show"))
    link = create_invoice_link(purchase)
    if link is None:
        flash(_("Telegram did not create the invoice. Please try again in a minute."), "error")
        return redirect(url_for("wallet.show"))
    payments.attach_invoice_link(purchase.id, link)
    return redirect(url_for("wallet.show", invoice=purchase.id))


@sandbox_bp.post("/wallet/sandbox")
@login_required
def sandbox_top_up():
    """Add demo Stars for a local trial (DEV_LOGIN=1 only)."""
    ledger.credit_sandbox(current_user.id, SANDBOX_AMOUNT)
    flash(_("%(amount)s demo Stars were added to your wallet.", amount=SANDBOX_AMOUNT), "success")
    return redirect(url_for("wallet.show"))


@bp.app_template_global("header_balance")
def header_balance() -> int:
    """The signed-in person's available Stars, for the header (kept live by `balance_changed`)."""
    return ledger.balances(current_user.id).available


def render_balance(app: Flask, data: dict, locale: str) -> list[tuple[str, str]]:
    """The wallet's balance box, pushed when the user's Stars move (a payment, a bid, a sale)."""
    balances = ledger.Balances(available=data["available"], held=data["held"])
    holds = wallet.active_holds(data["user_id"]) if "user_id" in data else []
    html = render_template("wallet/_balance.html", balances=balances, holds=holds)
    return [("wallet-balance", html), ("nav-balance", stars(data["available"]))]


# The events this module draws (create_app's register_live registers them).
RENDERERS = {
    "balance_changed": render_balance,
}
