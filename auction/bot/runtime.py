"""BotRuntime: starts and stops the bot (polling, webhook or off) and its outbox dispatcher.

The ASGI lifespan calls `await BotRuntime(app).start()` on uvicorn's running loop and
`await runtime.stop()` on shutdown. If Telegram cannot be reached at start the site
still starts; the bot keeps trying in the background.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from flask import Flask
from telegram import Update
from telegram.error import BadRequest, InvalidToken, NetworkError
from telegram.ext import Application

from auction.bot.application import build_application
from auction.bot.dispatcher import OutboxDispatcher
from auction.bot.handlers import publish_commands

log = logging.getLogger("auction.bot")

WEBHOOK_PATH = "/telegram/webhook"
RETRY_MAX_SECONDS = 300


class BotRuntime:
    def __init__(self, app: Flask) -> None:
        self.app = app
        config = app.config
        self.mode = config["BOT_MODE"] if config["TELEGRAM_BOT_TOKEN"] else "off"
        self.application: Application | None = None
        self.dispatcher: OutboxDispatcher | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._dispatcher_task: asyncio.Task | None = None
        self._retry_task: asyncio.Task | None = None
        app.extensions["bot_runtime"] = self

    @property
    def webhook_url(self) -> str:
        return self.app.config["BASE_URL"] + WEBHOOK_PATH

    @property
    def running(self) -> bool:
        return self.application is not None and self.application.running

    async def start(self) -> None:
        if self.mode == "off":
            reason = "BOT_MODE=off" if self.app.config["TELEGRAM_BOT_TOKEN"] else "no TELEGRAM_BOT_TOKEN"
            log.info("bot: off (%s)", reason)
            return
        self._loop = asyncio.get_running_loop()
        try:
            await self._start_bot()
        except (InvalidToken, BadRequest) as error:
            log.error("bot: off (Telegram refused to start it: %s)", error)
        except NetworkError as error:
            log.warning("bot: cannot reach Telegram (%s); retrying in the background", error)
            self._retry_task = asyncio.create_task(self._keep_trying(), name="bot-start-retry")

    async def _start_bot(self) -> None:
        polling = self.mode == "polling"
        application = build_application(self.app, polling=polling)
        try:
            await application.initialize()  # getMe: checks the token
            await publish_commands(application, self.app)
            if polling:
                # drop_pending_updates=False: what people sent while we were down is answered now.
                await application.updater.start_polling(
                    poll_interval=float(self.app.config.get("BOT_POLL_INTERVAL", 0.0)),
                    timeout=int(self.app.config.get("BOT_POLL_TIMEOUT", 10)),
                    allowed_updates=Update.ALL_TYPES,
                    drop_pending_updates=False,
                )
            else:
                await application.bot.set_webhook(
                    url=self.webhook_url,
                    secret_token=self.app.config["TELEGRAM_WEBHOOK_SECRET"],
                    allowed_updates=Update.ALL_TYPES,
                    drop_pending_updates=False,
                )
            await application.start()
        except BaseException:
            with contextlib.suppress(Exception):
                if application.updater is not None and application.updater.running:
                    await application.updater.stop()
                await application.shutdown()
            raise
        self.application = application
        self.dispatcher = OutboxDispatcher(
            self.app,
            application.bot_data["sender"],
            poll_seconds=float(self.app.config.get("OUTBOX_POLL_SECONDS", 2.0)),
            chat_interval=float(self.app.config.get("OUTBOX_CHAT_INTERVAL", 1.0)),
        )
        self._dispatcher_task = asyncio.create_task(self.dispatcher.run(), name="outbox-dispatcher")
        how = f"polling {self.app.config['TELEGRAM_API_BASE_URL']}" if polling else f"webhook {self.webhook_url}"
        log.info("bot: %s as @%s; outbox dispatcher running", how, application.bot.username)

    async def _keep_trying(self) -> None:
        delay = 5.0
        while True:
            await asyncio.sleep(delay)
            try:
                await self._start_bot()
                return
            except (InvalidToken, BadRequest) as error:
                log.error("bot: off (Telegram refused to start it: %s)", error)
                return
            except NetworkError as error:
                delay = min(delay * 2, RETRY_MAX_SECONDS)
                log.warning("bot: still cannot reach Telegram (%s); next try in %.0f s", error, delay)

    async def stop(self) -> None:
        """Stop the dispatcher, then polling (confirming what was handled), then the bot.

        The webhook stays registered: in a multi-process deployment other processes keep
        taking updates, and Telegram holds them for us while none is up.
        """
        if self._retry_task is not None:
            self._retry_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retry_task
            self._retry_task = None
        if self.dispatcher is not None and self._dispatcher_task is not None:
            self.dispatcher.stop()
            with contextlib.suppress(asyncio.CancelledError):
                await self._dispatcher_task
            self._dispatcher_task = None
        application, self.application = self.application, None
        if application is None:
            return
        if application.updater is not None and application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()  # handles the updates already fetched
        await application.shutdown()
        log.info("bot: stopped")

    def call(self, fn, *args, timeout: float = 10.0, **kwargs):
        """Run `await fn(bot, *args, **kwargs)` on the bot's loop from another thread (a view); returns its result.

        Raises RuntimeError when the bot is not running. Never call it from the loop itself.
        """
        application, loop = self.application, self._loop
        if application is None or loop is None or loop.is_closed() or not application.running:
            raise RuntimeError("the bot is not running")
        return asyncio.run_coroutine_threadsafe(fn(application.bot, *args, **kwargs), loop).result(timeout)

    def submit_update(self, data: dict) -> bool:
        """Hand a webhook update to the bot; safe from any thread. False when the bot cannot take it now."""
        application, loop = self.application, self._loop
        if self.mode != "webhook" or application is None or loop is None or loop.is_closed() or not application.running:
            return False
        update = Update.de_json(data, application.bot)
        loop.call_soon_threadsafe(application.update_queue.put_nowait, update)
        return True
