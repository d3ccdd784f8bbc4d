"""Bot-Auction: a live auction house paid in Telegram Stars."""

from __future__ import annotations

import logging
import secrets

from flask import Flask, abort, has_request_context, render_template, request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape

from auction import database
from auction.config import ROOT, check_config, load_config
from auction.extensions import babel, csrf, db, limiter, login_manager, migrate
from auction.i18n import DEFAULT_LANGUAGE, person_language

log = logging.getLogger("auction")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self' https://telegram.org",
        "style-src 'self'",
        "img-src 'self' data: https://t.me https://*.telegram.org https://*.telegram-cdn.org",
        "frame-src https://oauth.telegram.org",
        "connect-src 'self'",
        "form-action 'self' https://oauth.telegram.org",
        "base-uri 'self'",
        "object-src 'none'",
        "frame-ancestors 'self'",
    ]
)
SECURITY_HEADERS = [
    (b"content-security-policy", CONTENT_SECURITY_POLICY.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
]


class AuctionFlask(Flask):
    """Flask with long cache lifetimes for static files whose names never change."""

    IMMUTABLE_PREFIXES = ("uploads/", "vendor/")  # random photo names; versioned vendor files

    def get_send_file_max_age(self, filename: str | None) -> int | None:
        if filename and filename.replace("\\", "/").startswith(self.IMMUTABLE_PREFIXES):
            return 365 * 24 * 3600
        return super().get_send_file_max_age(filename)


def create_app(config: dict | None = None) -> Flask:
    """Build the Flask app; `config` overrides what the environment says."""
    app = AuctionFlask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=str(ROOT / "instance"),
    )
    app.config.update(load_config())
    app.config.update(config or {})
    check_config(app.config)
    if not app.config["SECRET_KEY"]:
        # Only reachable with DEV_LOGIN on: a throw-away key for a local trial.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = _engine_options(app.config)
    if app.config["BASE_URL"].startswith("https://"):
        # Follows the final BASE_URL, whether it came from the environment or `config`.
        app.config["SESSION_COOKIE_SECURE"] = app.config["REMEMBER_COOKIE_SECURE"] = True
    (ROOT / "instance").mkdir(exist_ok=True)

    register_extensions(app)
    register_notification_kinds()
    register_live(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_request_hooks(app)
    register_commands(app)
    return app


def select_locale() -> str:
    """The person's language by auction.i18n's rule (user's choice, Telegram's, session's, browser's, English)."""
    if not has_request_context():  # jobs, CLI, bot threads: callers use force_locale for a user
        return DEFAULT_LANGUAGE
    user = current_user if current_user.is_authenticated else None
    return person_language(user, session.get("locale"), request.accept_languages.values())


def _engine_options(config: dict) -> dict:
    uri = config["SQLALCHEMY_DATABASE_URI"]
    options = dict(config["SQLALCHEMY_ENGINE_OPTIONS"])
    if uri.endswith(":memory:"):
        return options  # one shared connection (flask-sqlalchemy's StaticPool)
    # Every web thread keeps a connection of its own: with fewer, busy moments open and close
    # overflow connections (and rerun the SQLite pragmas) on every request. The rest are for
    # the bot's and the scheduler's threads.
    options.setdefault("pool_size", config["WEB_THREADS"] + 4)
    if uri.startswith("sqlite"):
        # A file on this machine never drops a connection: no `SELECT 1` before every checkout.
        options["pool_pre_ping"] = False
    return options


def _request_user(load):
    """The signed-in user as a snapshot for this request, apart from the session.

    A service's commit expires every object in the session; if the request's user stayed
    in it, the page rendered after a bid would read the user row again (for its language,
    its time zone, its id). Views only read the user's own columns, and services take ids.
    """

    def loader(session_id: str):
        user = load(session_id)
        if user is not None:
            db.session.expunge(user)
        return user

    return loader


def register_extensions(app: Flask) -> None:
    from auction import live, models  # noqa: F401  (models: every table known to Alembic)
    from auction.bot.runtime import BotRuntime
    from auction.services.users import load_session_user
    from auction.web.htmx import sign_in_first

    database.init_app()  # SQLite's pragmas and BEGIN IMMEDIATE for writes
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=select_locale)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = None
    login_manager.user_loader(_request_user(load_session_user))
    login_manager.unauthorized_handler(sign_in_first)  # htmx requests get HX-Redirect
    live.init_app(app)  # the event broker (register_live routes committed events to it)
    BotRuntime(app)  # the bot; started and stopped by the ASGI lifespan (auction/runtime.py)


def register_notification_kinds() -> None:
    """The notification kinds a feature owns join the one kinds table (services/notifications.py
    holds the rest); adding a kind twice keeps one entry."""
    from auction.services import achievements, notifications, saved_searches

    for kind in (achievements.BADGE_KIND, saved_searches.ALERT_KIND):
        notifications.add_kind(kind)


def register_live(app: Flask) -> None:
    """The live contract, named in one place: the commit hooks (committed events go to the
    broker's sink; the bot's outbox dispatcher adds its waker when it starts) and every
    renderer of a pushed fragment. Each app gets its own; nothing registers at import."""
    from auction import live
    from auction.services import transaction
    from auction.web import live_fragments, notifications, wallet

    transaction.init_app(app)
    transaction.add_event_sink(app, live.publish_committed)
    for table in (live_fragments.RENDERERS, wallet.RENDERERS, notifications.RENDERERS):
        live.register_renderers(app, table)


def register_blueprints(app: Flask) -> None:
    from auction.numbers import RecordIdConverter

    app.url_map.converters["int"] = RecordIdConverter  # every <int:...> in a URL here is a record id
    from auction.web.admin import bp as admin_bp
    from auction.web.auctions import bp as auctions_bp
    from auction.web.auth import bp as auth_bp
    from auction.web.auth import dev_bp
    from auction.web.help import bp as help_bp
    from auction.web.main import bp as main_bp
    from auction.web.notifications import bp as notifications_bp
    from auction.web.payouts import bp as payouts_bp
    from auction.web.people import bp as people_bp
    from auction.web.premium import bp as premium_bp
    from auction.web.search import bp as search_bp
    from auction.web.support import bp as support_bp
    from auction.web.telegram import bp as telegram_bp
    from auction.web.wallet import bp as wallet_bp
    from auction.web.wallet import sandbox_bp as wallet_sandbox_bp
    from auction.web.watching import bp as watching_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(telegram_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(auctions_bp)
    app.register_blueprint(wallet_bp)
    app.register_blueprint(watching_bp)
    app.register_blueprint(search_bp)
    app.register_blueprint(help_bp)
    app.register_blueprint(payouts_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(support_bp)
    app.register_blueprint(people_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(premium_bp)
    if app.config["DEV_LOGIN"]:
        app.register_blueprint(dev_bp)
        app.register_blueprint(wallet_sandbox_bp)


def register_errorhandlers(app: Flask) -> None:
    from auction.services.errors import ServiceError

    titles = {
        400: lambda: _("Bad request"),
        403: lambda: _("Access denied"),
        404: lambda: _("Page not found"),
        405: lambda: _("Method not allowed"),
        408: lambda: _("Request too slow"),
        409: lambda: _("Already being processed"),
        413: lambda: _("Request too large"),
        429: lambda: _("Too many requests"),
        500: lambda: _("Something went wrong"),
    }
    texts = {
        400: lambda: _("The request could not be understood. Please go back and try again."),
        403: lambda: _("You do not have access to this page."),
        404: lambda: _("There is nothing at this address. It may have been moved or removed."),
        405: lambda: _("This address does not accept that kind of request."),
        408: lambda: _("What you sent did not arrive in time. Please try again."),
        409: lambda: _("This was sent already and is still being processed. Please wait a moment."),
        413: lambda: _("What you sent is larger than we accept."),
        429: lambda: _("You are doing that too often. Please wait a moment and try again."),
        500: lambda: _("We could not finish your request. Nothing was charged; please try again."),
    }

    def render_error(status: int, message: str | None = None):
        if request.headers.get("HX-Request") and not request.headers.get("HX-Boosted"):
            # An htmx action (a bid, a watch, a check of a field): the message goes where it was.
            return render_template("errors/_message.html", status=status, message=message or texts[status]()), status
        return (
            render_template("errors/error.html", status=status, title=titles[status](), message=message or texts[status]()),
            status,
        )

    for status in titles:
        app.register_error_handler(status, lambda exc, status=status: render_error(status))

    @app.errorhandler(500)
    def server_error(exc):
        # A failed statement leaves a PostgreSQL transaction aborted, and the page itself
        # reads the signed-in user: start a clean transaction before rendering.
        db.session.rollback()
        return render_error(500)

    @app.errorhandler(CSRFError)
    def csrf_error(exc):
        from flask_wtf.csrf import generate_csrf

        from auction.web.htmx import is_htmx

        if is_htmx():
            # The page's token belongs to a session that changed (another tab signed out and in):
            # nothing was done; app.js takes this session's token and asks for the press again.
            message = _("Your session changed in another tab, so nothing was done. Press again to do it now.")
            return f'<p class="field-error" role="alert">{escape(message)}</p>', 400, {"X-CSRF-Token": generate_csrf()}
        return render_error(400, _("Your form expired or came from another site. Reload the page and try again."))

    @app.errorhandler(ServiceError)
    def service_error(exc: ServiceError):
        return render_error(exc.status if exc.status in titles else 400, str(exc))


def register_request_hooks(app: Flask) -> None:
    from auction.web.formatting import register_template_helpers
    from auction.web.submissions import register as register_submission_keys

    register_template_helpers(app)
    register_submission_keys(app)

    def refuse_what_the_runtime_refused():
        # BufferedWSGI refused the body (too slow, too large, an unreadable length) before
        # a thread was taken; Flask renders the refusal so it looks and is secured like any page.
        status = request.environ.get("auction.refusal")
        if status:
            abort(status)

    # First of all hooks: before CSRF and rate limits look at a body that was never read.
    app.before_request_funcs.setdefault(None, []).insert(0, refuse_what_the_runtime_refused)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        if app.config["SESSION_COOKIE_SECURE"]:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        response.vary.add("HX-Request")
        response.vary.add("Cookie")
        if request.endpoint != "static" and _signed_in():
            # Every page and fragment a signed-in person gets may show their balance, holds or
            # maximums (the header shows the balance): no shared cache and no disk copy keeps it.
            response.headers["Cache-Control"] = "private, no-store"
        return response


def _signed_in() -> bool:
    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:  # a refused request (408/413) or a broken database: treat as a guest
        return False


def register_commands(app: Flask) -> None:
    from auction.cli import register

    register(app)
