"""BotRuntime, the bot as a Flask extension: starts and stops it (polling, webhook or off) and its outbox dispatcher.

`create_app` makes one per app; `bot_runtime()` is the current app's. The ASGI lifespan
calls `await bot_runtime(app).start()` on uvicorn's running loop and `await ....stop()` on
shutdown. If Telegram cannot be reached at start the site still starts; the bot keeps
trying in the background.

What the web may call, from any thread: `running`, `create_invoice_link(amount, payload)`,
`create_subscription_link(amount, payload)`, `edit_star_subscription(...)` and `submit_update(data)`. The web never imports handler modules; this module loads them
only when the bot starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from flask import Flask, current_app
from telegram import Bot, LabeledPrice, TransactionPartnerUser, Update
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError
from telegram.ext import Application

from auction.bot.dispatcher import OutboxDispatcher
from auction.bot.replies.payments import invoice_texts, subscription_invoice_texts
from auction.services.payments import RefundDeclined, StarTransaction
from auction.services.subscriptions import TELEGRAM_PERIOD_SECONDS, RenewalNotChanged

log = logging.getLogger("auction.bot")

WEBHOOK_PATH = "/telegram/webhook"
RETRY_MAX_SECONDS = 300
CURRENCY = "XTR"  # Telegram Stars
_EXTENSION = "bot_runtime"


REFUND_WAIT_SECONDS = 15


class BotUnavailable(RuntimeError):
    """The bot is not running (no token, BOT_MODE=off, not started yet, or Telegram unreachable)."""


def bot_runtime(app: Flask | None = None) -> BotRuntime:
    """The bot of `app` (default: the current app); made on first use when create_app has not."""
    app = app or current_app
    return app.extensions.get(_EXTENSION) or BotRuntime(app)


async def _invoice_link(bot: Bot, amount: int, payload: str, texts: dict, subscription_period: int | None = None) -> str:
    """Bot API createInvoiceLink in Stars; with `subscription_period` (seconds) a Stars subscription."""
    return await bot.create_invoice_link(
        title=texts["title"],
        description=texts["description"],
        payload=payload,
        currency=CURRENCY,
        prices=[LabeledPrice(texts["label"], amount)],
        provider_token="",  # Telegram Stars need no payment provider
        subscription_period=subscription_period,
    )


async def _edit_star_subscription(bot: Bot, telegram_user_id: int, charge_id: str, is_canceled: bool) -> None:
    await bot.edit_user_star_subscription(telegram_user_id, charge_id, is_canceled)


async def _refund_star_payment(bot: Bot, telegram_user_id: int, charge_id: str) -> None:
    await bot.refund_star_payment(telegram_user_id, charge_id)


async def _star_transactions(bot: Bot, offset: int, limit: int):
    return await bot.get_star_transactions(offset=offset, limit=limit)


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
        app.extensions[_EXTENSION] = self

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
        from auction.bot.application import build_application
        from auction.bot.handlers import publish_commands

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

    def create_invoice_link(self, amount: int, payload: str, timeout: float = 10.0) -> str:
        """A Telegram invoice link for `amount` Stars carrying `payload`, titled in the active language.

        Call from a worker thread (a view). Raises BotUnavailable when the bot is not running,
        telegram.error.TelegramError when Telegram refuses, TimeoutError after `timeout` seconds.
        """
        return self.call(_invoice_link, amount, payload, invoice_texts(amount), timeout=timeout)

    def create_subscription_link(self, amount: int, payload: str, timeout: float = 10.0) -> str:
        """A Telegram Stars subscription invoice link: `amount` Stars every 30 days (createInvoiceLink, subscription_period).

        Call from a worker thread. Raises BotUnavailable, telegram.error.TelegramError or TimeoutError
        like `create_invoice_link`.
        """
        return self.call(_invoice_link, amount, payload, subscription_invoice_texts(), TELEGRAM_PERIOD_SECONDS, timeout=timeout)

    def edit_star_subscription(self, telegram_user_id: int, charge_id: str, is_canceled: bool, timeout: float = 10.0) -> None:
        """Bot API `editUserStarSubscription`: stop (`is_canceled`) or allow again a subscription's renewal.

        The `edit_subscription` of `subscriptions.set_renewal`. Raises RenewalNotChanged when
        Telegram refuses, BotUnavailable when the bot is not running; a lost answer propagates.
        """
        try:
            self.call(_edit_star_subscription, telegram_user_id, charge_id, is_canceled, timeout=timeout)
        except TelegramError as error:
            if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
                raise
            raise RenewalNotChanged(error=error.message) from error

    def refund_star_payment(self, telegram_user_id: int, charge_id: str, timeout: float = REFUND_WAIT_SECONDS) -> None:
        """Bot API `refundStarPayment`, from a worker thread: the `send_refund` of `payments.refund_payment`.

        Raises RefundDeclined when Telegram refused (with its reason) and BotUnavailable when the
        bot is not running; a lost answer (a timeout, the network) propagates as it is, since the
        outcome is then unknown. "Already refunded" after such a loss counts as done.
        """
        try:
            self.call(_refund_star_payment, telegram_user_id, charge_id, timeout=timeout)
        except TelegramError as error:
            # BadRequest is a NetworkError in python-telegram-bot, but it is Telegram's answer.
            if isinstance(error, NetworkError) and not isinstance(error, BadRequest):
                raise
            if "charge_already_refunded" in error.message.lower():
                return
            raise RefundDeclined(error.message) from error

    def star_transactions(self, offset: int, limit: int, timeout: float = 15.0) -> list[StarTransaction]:
        """Bot API `getStarTransactions` (chronological, `limit` 1-100), from a worker thread: the
        `list_transactions` of `payments.reconcile_refunds`.

        A transaction's `refunded_to` is the user's Telegram id when its `receiver` is a
        TransactionPartnerUser (an outgoing transfer to a user: a refund). Raises BotUnavailable,
        telegram.error.TelegramError, TimeoutError.
        """
        found = self.call(_star_transactions, offset, limit, timeout=timeout)
        return [
            StarTransaction(t.id, t.amount, t.receiver.user.id if isinstance(t.receiver, TransactionPartnerUser) else None)
            for t in found.transactions
        ]

    def call(self, fn, *args, timeout: float = 10.0, **kwargs):
        """Run `await fn(bot, *args, **kwargs)` on the bot's loop from another thread (a view); returns its result.

        Raises BotUnavailable when the bot is not running. Never call it from the loop itself.
        """
        application, loop = self.application, self._loop
        if application is None or loop is None or loop.is_closed() or not application.running:
            raise BotUnavailable("the bot is not running")
        return asyncio.run_coroutine_threadsafe(fn(application.bot, *args, **kwargs), loop).result(timeout)

    def submit_update(self, data: dict) -> bool:
        """Hand a webhook update to the bot; safe from any thread. False when the bot cannot take it now."""
        application, loop = self.application, self._loop
        if self.mode != "webhook" or application is None or loop is None or loop.is_closed() or not application.running:
            return False
        update = Update.de_json(data, application.bot)
        loop.call_soon_threadsafe(application.update_queue.put_nowait, update)
        return True
