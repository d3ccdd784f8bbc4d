"""Flask extension singletons, bound to an app in create_app()."""

from flask import current_app
from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
login_manager = LoginManager()
babel = Babel()
csrf = CSRFProtect()


class AppLimiter(Limiter):
    """Flask-Limiter whose on/off switch is each app's `RATELIMIT_ENABLED`, read per request.

    Flask-Limiter keeps "enabled" on the (shared) extension object and skips its set-up for a
    disabled app; with several apps in one process (tests) the last one would decide for all.
    """

    def init_app(self, app) -> None:
        wanted = app.config.get("RATELIMIT_ENABLED", True)
        app.config["RATELIMIT_ENABLED"] = True
        super().init_app(app)
        app.config["RATELIMIT_ENABLED"] = wanted


# The peer address as uvicorn reports it: forwarded headers count only from FORWARDED_ALLOW_IPS.
limiter = AppLimiter(key_func=get_remote_address, headers_enabled=True)


@limiter.request_filter
def _limits_off() -> bool:
    return not current_app.config.get("RATELIMIT_ENABLED", True)
