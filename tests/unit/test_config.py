"""Configuration: environment over `.env`, safe defaults, refusing to start unsafely."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from auction import create_app
from auction.config import ROOT, ConfigError, check_config, load_config
from tests.conftest import base_config


class RecordingEnv(dict):
    """An empty environment that remembers every name the config asks for."""

    def __init__(self):
        super().__init__()
        self.asked: set[str] = set()

    def get(self, key, default=None):
        self.asked.add(key)
        return default


@pytest.fixture
def clean_env(monkeypatch):
    """No setting of ours in the real environment, whatever the developer's shell has."""
    names = RecordingEnv()
    load_config(names)
    for name in names.asked:
        monkeypatch.delenv(name, raising=False)
    return monkeypatch


@pytest.mark.parametrize("secret", ["", "change-me"])
def test_refuses_to_start_without_a_real_secret_key(database_url, secret):
    with pytest.raises(ConfigError) as refused:
        create_app({**base_config(database_url), "DEV_LOGIN": False, "SECRET_KEY": secret})
    message = str(refused.value)
    assert "\n" not in message
    assert "SECRET_KEY" in message
    assert len(message) < 200


def test_dev_login_runs_with_a_throwaway_key(database_url):
    app = create_app({**base_config(database_url), "DEV_LOGIN": True, "SECRET_KEY": ""})
    assert len(app.config["SECRET_KEY"]) >= 32


def test_dev_login_is_refused_on_a_public_https_site(database_url):
    with pytest.raises(ConfigError) as refused:
        create_app({**base_config(database_url), "DEV_LOGIN": True, "BASE_URL": "https://auction.example"})
    assert "\n" not in str(refused.value)
    assert "DEV_LOGIN" in str(refused.value)


def test_unknown_bot_mode_is_refused_in_one_line(database_url):
    with pytest.raises(ConfigError) as refused:
        create_app({**base_config(database_url), "BOT_MODE": "sometimes"})
    assert "\n" not in str(refused.value)
    assert "BOT_MODE" in str(refused.value)


def test_real_environment_wins_over_the_env_file(clean_env, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text(
        "# a comment\nSECRET_KEY=from-the-file-0123456789abcdef\nPORT=9000\nDEV_LOGIN=1\n"
        "DATABASE_URL=sqlite:////tmp/from-file.db\n"
    )
    clean_env.setenv("PORT", "8123")
    clean_env.setenv("DEV_LOGIN", "0")
    config = load_config(env_file=env_file)
    assert config["PORT"] == 8123
    assert config["DEV_LOGIN"] is False
    assert config["SECRET_KEY"] == "from-the-file-0123456789abcdef"
    assert config["SQLALCHEMY_DATABASE_URI"] == "sqlite:////tmp/from-file.db"
    assert config["BASE_URL"] == "http://127.0.0.1:8123"


def test_reading_the_env_file_leaves_the_process_environment_alone(clean_env, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("SECRET_KEY=only-in-the-file\n")
    assert load_config(env_file=env_file)["SECRET_KEY"] == "only-in-the-file"
    assert "SECRET_KEY" not in os.environ


def test_defaults_without_any_settings(clean_env, tmp_path):
    config = load_config(env_file=tmp_path / "missing.env")
    assert config["PORT"] == 8000
    assert config["BASE_URL"] == "http://127.0.0.1:8000"
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{ROOT / 'instance' / 'auction.db'}"
    assert config["BOT_MODE"] == "off"
    assert config["DEV_LOGIN"] is False
    assert config["LOGIN_MAX_AGE_SECONDS"] == 24 * 3600
    assert config["TELEGRAM_API_BASE_URL"] == "https://api.telegram.org/bot"
    assert config["SESSION_COOKIE_SECURE"] is False


def test_values_are_parsed(tmp_path):
    config = load_config(
        {
            "TELEGRAM_BOT_TOKEN": "1:abc",
            "ADMIN_TELEGRAM_IDS": "11, 22,,33",
            "DEV_LOGIN": "yes",
            "BASE_URL": "https://auction.example/",
            "LOGIN_MAX_AGE_SECONDS": "600",
        }
    )
    assert config["BOT_MODE"] == "polling"  # a token without a mode means polling
    assert config["ADMIN_TELEGRAM_IDS"] == frozenset({11, 22, 33})
    assert config["DEV_LOGIN"] is True
    assert config["BASE_URL"] == "https://auction.example"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["REMEMBER_COOKIE_SECURE"] is True
    assert config["LOGIN_MAX_AGE_SECONDS"] == 600


def test_env_example_documents_every_variable_in_one_comment_line():
    lines = (ROOT / ".env.example").read_text().splitlines()
    documented, uncommented = {}, []
    for previous, line in zip(lines, lines[1:], strict=False):
        match = re.match(r"^([A-Z][A-Z0-9_]*)=", line)
        if match:
            documented[match[1]] = previous
            if not (previous.startswith("# ") and len(previous) > 10):
                uncommented.append(match[1])
    assert uncommented == [], "each variable needs its own comment line right above it"

    env = RecordingEnv()
    load_config(env)
    assert env.asked - set(documented) == set(), "read by load_config but not documented in .env.example"
    required = {
        "SECRET_KEY",
        "TELEGRAM_BOT_TOKEN",
        "TELEGRAM_BOT_USERNAME",
        "TELEGRAM_API_BASE_URL",
        "PROVIDER_TOKEN",
        "BOT_MODE",
        "TELEGRAM_WEBHOOK_SECRET",
        "BASE_URL",
        "PORT",
        "DATABASE_URL",
        "BROKER_URL",
        "SMTP_URL",
        "EMAIL_SERVICE_API_KEY",
        "PUSH_NOTIFICATION_SERVICE_KEY",
        "ADMIN_TELEGRAM_IDS",
        "SUPPORT_CHAT_ID",
        "DEV_LOGIN",
        "PLATFORM_FEE_PERCENT",
    }
    assert required <= set(documented)


def test_env_example_itself_is_refused_until_a_secret_is_set(clean_env, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text((ROOT / ".env.example").read_text())
    config = load_config(env_file=env_file)
    with pytest.raises(ConfigError):
        check_config(config)
    check_config({**config, "DEV_LOGIN": True})


@pytest.mark.parametrize("command", [["wsgi.py"], ["-m", "flask", "--app", "wsgi", "db", "upgrade"]])
def test_server_and_commands_refuse_to_start_with_one_line(tmp_path, command):
    env = {
        **os.environ,
        "SECRET_KEY": "change-me",
        "DEV_LOGIN": "0",
        "BOT_MODE": "off",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'never.db'}",
    }
    done = subprocess.run([sys.executable, *command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stdout == ""
    assert done.stderr.strip().count("\n") == 0
    assert done.stderr.startswith("Bot-Auction cannot start: SECRET_KEY")
    assert not (tmp_path / "never.db").exists()
