"""A fake Telegram Bot API: a real HTTP server that python-telegram-bot talks to through `base_url`.

It speaks the Bot API wire format (`/bot<token>/<method>`, JSON, form or multipart bodies,
`{"ok": true, "result": ...}` answers), records every call, lets a test inject updates
(messages, callback queries, pre-checkout queries, payments) and answers with Telegram's
own errors on demand (429 with `retry_after`, 403 bot blocked). Updates are served by
`getUpdates` long polling or, once `setWebhook` is called, POSTed to the webhook with the
secret token header, as Telegram does.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.parser
import email.policy
import itertools
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

TEST_BOT_TOKEN = "123456:TEST-token-for-the-fake-bot-api"  # the same as tests.conftest.TEST_BOT_TOKEN
BOT_USERNAME = "bot_auction_test_bot"

# Parameters that are plain strings on the wire; every other value is JSON-decoded.
TEXT_PARAMS = {
    "text", "caption", "title", "description", "payload", "provider_token", "currency", "url",
    "secret_token", "callback_query_id", "pre_checkout_query_id", "telegram_payment_charge_id",
    "error_message", "language_code", "start_parameter", "parse_mode", "inline_message_id",
    "ip_address", "query", "business_connection_id", "message_effect_id",
}
_user_ids = itertools.count(500_000_001)


@dataclass
class Call:
    """One request the bot made: its method, decoded parameters and how it was answered."""

    method: str
    params: dict
    at: float = field(default_factory=time.monotonic)
    error_code: int | None = None

    @property
    def ok(self) -> bool:
        return self.error_code is None


@dataclass
class _Failure:
    error_code: int
    description: str
    retry_after: int | None
    count: int
    act: bool = False  # a dropped answer (error_code 0) of a request the fake did carry out


class ApiError(Exception):
    def __init__(self, error_code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters


def make_user(first_name: str = "Alice", *, language_code: str | None = "en", username: str | None = None,
              last_name: str | None = None, user_id: int | None = None) -> dict:
    """A Telegram User object for a person (not a bot)."""
    user = {"id": user_id or next(_user_ids), "is_bot": False, "first_name": first_name}
    if last_name:
        user["last_name"] = last_name
    if username:
        user["username"] = username
    if language_code:
        user["language_code"] = language_code
    return user


class FakeTelegram:
    """The fake Bot API server; use as a context manager or through the `fake_telegram` fixture."""

    def __init__(self, token: str = TEST_BOT_TOKEN, bot_username: str = BOT_USERNAME) -> None:
        self.token = token
        self.bot = {
            "id": int(token.split(":")[0]),
            "is_bot": True,
            "first_name": "Bot-Auction",
            "username": bot_username,
            "can_join_groups": False,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self._cond = threading.Condition()
        self._updates: list[dict] = []  # delivered but not yet confirmed by a higher offset
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._calls: list[Call] = []
        self._failures: dict[str, list[_Failure]] = {}
        self._messages: dict[tuple[int, int], dict] = {}
        self._last_message: dict[int, dict] = {}
        self._closed = False
        self.webhook: dict = {"url": "", "secret_token": None}
        self._webhook_override: str | None = None
        self.commands: dict[str, list[dict]] = {}
        self._charges: dict[str, int] = {}  # telegram_payment_charge_id -> the payer's user id
        # The bot's Star transactions, oldest first, as getStarTransactions lists them: each
        # payment made through the fake (incoming, `source` a user) and each refund (outgoing,
        # `receiver` a user, the same id as the refunded charge).
        self.star_transactions: list[dict] = []
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.fake = self  # type: ignore[attr-defined]
        self._threads: list[threading.Thread] = []

    # -- life cycle -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def api_base_url(self) -> str:
        """What TELEGRAM_API_BASE_URL should be for a bot talking to this server."""
        return f"{self.url}/bot"

    def start(self) -> FakeTelegram:
        serve = lambda: self._server.serve_forever(poll_interval=0.05)  # noqa: E731  (quick shutdown)
        for name, target in (("serve", serve), ("webhook", self._deliver_to_webhook)):
            thread = threading.Thread(target=target, name=f"fake-telegram-{name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()
        for thread in self._threads:
            thread.join(timeout=5)

    def __enter__(self) -> FakeTelegram:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # -- what a test does -------------------------------------------------------------------

    def user(self, first_name: str = "Alice", **fields) -> dict:
        return make_user(first_name, **fields)

    def inject_update(self, update: dict) -> dict:
        """Queue a raw update (an `update_id` is assigned); returns it."""
        with self._cond:
            update = {"update_id": next(self._update_ids), **update}
            self._updates.append(update)
            self._cond.notify_all()
        return update

    def inject_message(self, user: dict | int, text: str, **fields) -> dict:
        """The user sends `text` to the bot in their private chat; commands get their entity."""
        return self.inject_update({"message": self.text_message(user, text, **fields)})

    def text_message(self, user: dict | int, text: str, **fields) -> dict:
        """A Message object as Telegram would deliver it (not queued; see inject_message)."""
        message = self._incoming_message(user, text=text, **fields)
        command = re.match(r"/[A-Za-z0-9_]+(@[A-Za-z0-9_]+)?", text)
        if command:
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": command.end()}]
        return message

    def new_update_id(self) -> int:
        with self._cond:
            return next(self._update_ids)

    def deliver_webhook_to(self, url: str) -> None:
        """POST webhook updates to `url` instead of the registered address (a test playing the reverse proxy)."""
        with self._cond:
            self._webhook_override = url
            self._cond.notify_all()

    def inject_callback_query(self, user: dict | int, data: str, message: dict | int | None = None) -> dict:
        """The user presses an inline button with `data` under `message` (default: the bot's last one to them)."""
        user = self._user(user)
        if isinstance(message, int):
            message = self._messages[(user["id"], message)]
        message = message or self._last_message.get(user["id"])
        query = {"id": str(secrets.randbits(63)), "from": user, "chat_instance": str(user["id"]), "data": data}
        if message:
            query["message"] = message
        return self.inject_update({"callback_query": query})

    def inject_pre_checkout_query(self, user: dict | int, payload: str, total_amount: int, currency: str = "XTR") -> dict:
        query = {
            "id": str(secrets.randbits(63)),
            "from": self._user(user),
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": payload,
        }
        return self.inject_update({"pre_checkout_query": query})

    def inject_successful_payment(self, user: dict | int, payload: str, total_amount: int, charge_id: str,
                                  currency: str = "XTR", **fields) -> dict:
        """A successful payment from `user`; `fields` add e.g. is_recurring, is_first_recurring,
        subscription_expiration_date (Unix seconds) for a subscription's payments."""
        self._charges[charge_id] = self._user(user)["id"]
        payment = {
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge_id,
            "provider_payment_charge_id": "",
            **fields,
        }
        if currency == "XTR":
            self.record_payment(user, charge_id, total_amount, payload)
        return self.inject_update({"message": self._incoming_message(user, successful_payment=payment)})

    def record_payment(self, user: dict | int, charge_id: str, amount: int, payload: str = "") -> None:
        """Telegram charged `user` `amount` Stars as `charge_id` (once): getStarTransactions lists it."""
        with self._cond:
            if any(t["id"] == charge_id and "source" in t for t in self.star_transactions):
                return
            self.star_transactions.append({
                "id": charge_id, "amount": amount, "date": int(time.time()),
                "source": {"type": "user", "transaction_type": "invoice_payment", "user": self._user(user), "invoice_payload": payload},
            })

    def inject_refunded_payment(self, user: dict | int, payload: str, total_amount: int, charge_id: str,
                                currency: str = "XTR") -> dict:
        refund = {
            "currency": currency,
            "total_amount": total_amount,
            "invoice_payload": payload,
            "telegram_payment_charge_id": charge_id,
        }
        return self.inject_update({"message": self._incoming_message(user, refunded_payment=refund)})

    def fail_next(self, method: str, error_code: int = 429, retry_after: int | None = None,
                  description: str | None = None, count: int = 1) -> None:
        """Answer the next `count` calls of `method` with Telegram's error instead of doing them."""
        if description is None:
            description = {
                429: f"Too Many Requests: retry after {retry_after or 1}",
                403: "Forbidden: bot was blocked by the user",
                400: "Bad Request: chat not found",
            }.get(error_code, "Internal Server Error")
        if error_code == 429 and retry_after is None:
            retry_after = 1
        with self._cond:
            self._failures.setdefault(method.lower(), []).append(_Failure(error_code, description, retry_after, count))

    def drop_next(self, method: str, count: int = 1, after_doing: bool = False) -> None:
        """Take the next `count` calls of `method` but close the connection without an answer.

        The caller cannot know whether Telegram acted on such a request (error_code 0 in `attempts`);
        with `after_doing` the fake did carry it out (a refund made, its answer lost), else it did not.
        """
        with self._cond:
            self._failures.setdefault(method.lower(), []).append(_Failure(0, "", None, count, act=after_doing))

    def calls(self, method: str | None = None) -> list[dict]:
        """Parameters of every successful call of `method` (all methods when None), oldest first."""
        return [call.params for call in self.attempts(method) if call.ok]

    def attempts(self, method: str | None = None) -> list[Call]:
        """Every call of `method`, answered or refused, with its time."""
        with self._cond:
            return [call for call in self._calls if method is None or call.method.lower() == method.lower()]

    def mark(self) -> int:
        """A position in the call log, for `wait_for_call(..., since=mark)`."""
        with self._cond:
            return len(self._calls)

    def wait_for_call(self, method: str, predicate: Callable[[dict], bool] | None = None,
                      timeout: float = 5.0, since: int = 0) -> dict:
        """The parameters of the first successful `method` call (after `since`) matching `predicate`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for call in self._calls[since:]:
                    if call.ok and call.method.lower() == method.lower() and (predicate is None or predicate(call.params)):
                        return call.params
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    seen = [(call.method, call.error_code) for call in self._calls[since:]]
                    raise AssertionError(f"no {method} call within {timeout} s; calls seen: {seen}")
                self._cond.wait(remaining)

    def last_message(self, chat_id: int) -> dict | None:
        """The last message the bot sent (or edited) in the chat, as Telegram stores it."""
        with self._cond:
            return self._last_message.get(chat_id)

    @property
    def pending_updates(self) -> int:
        with self._cond:
            return len(self._updates)

    # -- the API ----------------------------------------------------------------------------

    def handle(self, path: str, query: str, content_type: str, body: bytes) -> tuple[int, dict]:
        match = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", path)
        if not match:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        token, method = match.groups()
        if token != self.token:
            return 401, {"ok": False, "error_code": 401, "description": "Unauthorized"}
        params = decode_params(query, content_type, body)
        key = method.lower()
        handler = getattr(self, f"_api_{key}", None)
        if handler is None:
            return 404, {"ok": False, "error_code": 404, "description": "Not Found"}
        with self._cond:
            failure = self._take_failure(key)
            if failure is None and key != "getupdates":
                self._calls.append(Call(method, params))
                self._cond.notify_all()
            elif failure is not None:
                self._calls.append(Call(method, params, error_code=failure.error_code))
                self._cond.notify_all()
        if failure is not None and failure.error_code == 0:
            if failure.act:
                with contextlib.suppress(ApiError):
                    handler(params)
            return 0, {}
        if failure is not None:
            answer = {"ok": False, "error_code": failure.error_code, "description": failure.description}
            if failure.retry_after is not None:
                answer["parameters"] = {"retry_after": failure.retry_after}
            return failure.error_code, answer
        try:
            result = handler(params)
        except ApiError as exc:
            answer = {"ok": False, "error_code": exc.error_code, "description": exc.description}
            if exc.parameters:
                answer["parameters"] = exc.parameters
            return exc.error_code, answer
        return 200, {"ok": True, "result": result}

    def _take_failure(self, key: str) -> _Failure | None:
        queue = self._failures.get(key)
        if not queue:
            return None
        failure = queue[0]
        failure.count -= 1
        if failure.count <= 0:
            queue.pop(0)
        return failure

    def _api_getme(self, params: dict) -> dict:
        return self.bot

    def _api_getupdates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + timeout
        with self._cond:
            if self.webhook["url"]:
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                    "use deleteWebhook to delete the webhook first")
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._closed:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            batch = self._updates[:limit]
            self._calls.append(Call("getUpdates", params))
            self._cond.notify_all()
            return batch

    def _api_setwebhook(self, params: dict) -> bool:
        with self._cond:
            if params.get("drop_pending_updates"):
                self._updates.clear()
            self.webhook = {
                "url": params.get("url", ""),
                "secret_token": params.get("secret_token"),
                "allowed_updates": params.get("allowed_updates"),
            }
            self._cond.notify_all()
        return True

    def _api_deletewebhook(self, params: dict) -> bool:
        with self._cond:
            if params.get("drop_pending_updates"):
                self._updates.clear()
            self.webhook = {"url": "", "secret_token": None}
        return True

    def _api_getwebhookinfo(self, params: dict) -> dict:
        with self._cond:
            return {"url": self.webhook["url"], "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    def _api_setmycommands(self, params: dict) -> bool:
        self.commands[params.get("language_code") or ""] = params.get("commands") or []
        return True

    def _api_getmycommands(self, params: dict) -> list[dict]:
        return self.commands.get(params.get("language_code") or "", [])

    def _api_deletemycommands(self, params: dict) -> bool:
        self.commands.pop(params.get("language_code") or "", None)
        return True

    def _api_sendmessage(self, params: dict) -> dict:
        if not str(params.get("text") or "").strip():
            raise ApiError(400, "Bad Request: message text is empty")
        return self._outgoing_message(params, text=params["text"])

    def _api_sendphoto(self, params: dict) -> dict:
        photo = params.get("photo")
        if not photo:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        file_id = photo if isinstance(photo, str) else f"photo-{secrets.token_hex(8)}"
        sizes = [
            {"file_id": f"{file_id}-s", "file_unique_id": f"{file_id}-us", "width": 320, "height": 240},
            {"file_id": file_id, "file_unique_id": f"{file_id}-u", "width": 1280, "height": 960},
        ]
        extra = {"photo": sizes}
        if params.get("caption"):
            extra["caption"] = params["caption"]
        return self._outgoing_message(params, **extra)

    def _api_editmessagetext(self, params: dict) -> dict | bool:
        return self._edit(params, text=params.get("text"))

    def _api_editmessagecaption(self, params: dict) -> dict | bool:
        return self._edit(params, caption=params.get("caption"))

    def _api_editmessagereplymarkup(self, params: dict) -> dict | bool:
        return self._edit(params)

    def _api_deletemessage(self, params: dict) -> bool:
        with self._cond:
            self._messages.pop((int(params["chat_id"]), int(params["message_id"])), None)
        return True

    def _api_answercallbackquery(self, params: dict) -> bool:
        return True

    def _api_sendchataction(self, params: dict) -> bool:
        return True

    def _api_sendinvoice(self, params: dict) -> dict:
        prices = self._check_invoice(params)
        invoice = {
            "title": params["title"],
            "description": params["description"],
            "start_parameter": params.get("start_parameter") or "",
            "currency": params["currency"],
            "total_amount": sum(int(price["amount"]) for price in prices),
        }
        return self._outgoing_message(params, invoice=invoice)

    def _api_createinvoicelink(self, params: dict) -> str:
        self._check_invoice(params)
        # Telegram: subscriptions are Stars only and renew every 30 days, no other period.
        if "subscription_period" in params and (str(params["subscription_period"]) != "2592000" or params["currency"] != "XTR"):
            raise ApiError(400, "Bad Request: SUBSCRIPTION_PERIOD_INVALID")
        return f"https://t.me/${secrets.token_urlsafe(12)}"

    def _api_answerprecheckoutquery(self, params: dict) -> bool:
        if not params.get("ok") and not params.get("error_message"):
            raise ApiError(400, "Bad Request: error_message must be non-empty if ok is false")
        return True

    def _api_refundstarpayment(self, params: dict) -> bool:
        charge_id = params.get("telegram_payment_charge_id")
        if not charge_id:
            raise ApiError(400, "Bad Request: CHARGE_ID_EMPTY")
        with self._cond:
            charge = next((t for t in self.star_transactions if t["id"] == charge_id and "source" in t), None)
            if any(t["id"] == charge_id and "receiver" in t for t in self.star_transactions):
                raise ApiError(400, "Bad Request: CHARGE_ALREADY_REFUNDED")
            # A charge the fake never saw (a payment a test stored directly) is refunded without a record.
            if charge is not None:
                self.star_transactions.append({
                    "id": charge_id, "amount": charge["amount"], "date": int(time.time()),
                    "receiver": {"type": "user", "transaction_type": "invoice_payment", "user": charge["source"]["user"]},
                })
        return True

    def _api_edituserstarsubscription(self, params: dict) -> bool:
        # Like Telegram: every parameter is required, and the charge must be this user's payment.
        try:
            user_id = int(params["user_id"])
        except (KeyError, TypeError, ValueError):
            raise ApiError(400, "Bad Request: USER_ID_INVALID") from None
        if str(params.get("is_canceled")).lower() not in ("true", "false"):
            raise ApiError(400, "Bad Request: is_canceled is required")
        if self._charges.get(params.get("telegram_payment_charge_id") or "") != user_id:
            raise ApiError(400, "Bad Request: CHARGE_ID_INVALID")
        return True

    def _api_getstartransactions(self, params: dict) -> dict:
        offset, limit = int(params.get("offset") or 0), int(params.get("limit") or 100)
        if offset < 0 or not 1 <= limit <= 100:
            raise ApiError(400, "Bad Request: invalid offset or limit")
        with self._cond:
            return {"transactions": [dict(t) for t in self.star_transactions[offset:offset + limit]]}

    def _api_close(self, params: dict) -> bool:
        return True

    def _api_logout(self, params: dict) -> bool:
        return True

    # -- helpers ----------------------------------------------------------------------------

    def _user(self, user: dict | int) -> dict:
        return make_user(user_id=user) if isinstance(user, int) else user

    def _incoming_message(self, user: dict | int, **fields) -> dict:
        user = self._user(user)
        chat = {"id": user["id"], "type": "private", "first_name": user.get("first_name", "")}
        with self._cond:
            message_id = next(self._message_ids)
        return {"message_id": message_id, "date": int(time.time()), "chat": chat, "from": user, **fields}

    def _outgoing_message(self, params: dict, **content) -> dict:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat_id = int(chat_id)
        with self._cond:
            message = {
                "message_id": next(self._message_ids),
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": self.bot,
                **content,
            }
            if params.get("reply_markup"):
                message["reply_markup"] = params["reply_markup"]
            self._messages[(chat_id, message["message_id"])] = message
            self._last_message[chat_id] = message
            return message

    def _edit(self, params: dict, **changes) -> dict | bool:
        if params.get("inline_message_id"):
            return True
        key = (int(params.get("chat_id") or 0), int(params.get("message_id") or 0))
        with self._cond:
            message = self._messages.get(key)
            if message is None:
                raise ApiError(400, "Bad Request: message to edit not found")
            updated = {**message, **{k: v for k, v in changes.items() if v is not None}, "edit_date": int(time.time())}
            if "reply_markup" in params:
                updated["reply_markup"] = params["reply_markup"]
            if updated == {**message, "edit_date": updated["edit_date"]}:
                raise ApiError(400, "Bad Request: message is not modified")
            self._messages[key] = updated
            self._last_message[key[0]] = updated
            return updated

    def _check_invoice(self, params: dict) -> list[dict]:
        for name in ("title", "description", "payload", "currency", "prices"):
            if not params.get(name):
                raise ApiError(400, f"Bad Request: {name} is empty")
        prices = params["prices"]
        if params["currency"] == "XTR":
            if len(prices) != 1:
                raise ApiError(400, "Bad Request: STARS_INVOICE_INVALID")
            if params.get("provider_token"):
                raise ApiError(400, "Bad Request: PAYMENT_PROVIDER_INVALID")
        return prices

    def _deliver_to_webhook(self) -> None:
        """POST queued updates to the webhook, one by one, like Telegram (retrying on failure)."""
        while True:
            with self._cond:
                while not self._closed and not (self.webhook["url"] and self._updates):
                    self._cond.wait(0.5)
                if self._closed:
                    return
                update, hook = self._updates[0], dict(self.webhook)
            request = urllib.request.Request(
                self._webhook_override or hook["url"], data=json.dumps(update).encode(), method="POST",
                headers={"Content-Type": "application/json"},
            )
            if hook.get("secret_token"):
                request.add_header("X-Telegram-Bot-Api-Secret-Token", hook["secret_token"])
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    delivered = 200 <= response.status < 300
            except (urllib.error.URLError, OSError):
                delivered = False
            with self._cond:
                if delivered and self._updates and self._updates[0] is update:
                    self._updates.pop(0)
                elif not delivered:
                    self._cond.wait(0.2)


def decode_params(query: str, content_type: str, body: bytes) -> dict:
    """Bot API parameters from a query string and a JSON, form or multipart body."""
    raw: dict = dict(parse_qsl(query, keep_blank_values=True))
    files: dict[str, dict] = {}
    if content_type.startswith("application/json") and body:
        return {**raw, **json.loads(body)}
    if content_type.startswith("application/x-www-form-urlencoded"):
        raw.update(parse_qsl(body.decode(), keep_blank_values=True))
    elif content_type.startswith("multipart/form-data"):
        parser = email.parser.BytesParser(policy=email.policy.HTTP)
        message = parser.parsebytes(b"Content-Type: " + content_type.encode() + b"\r\n\r\n" + body)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            content = part.get_payload(decode=True) or b""
            filename = part.get_filename()
            if filename is not None:
                files[name] = {"filename": filename, "size": len(content), "content_type": part.get_content_type()}
            else:
                raw[name] = content.decode()
    params = {}
    for name, value in raw.items():
        if name in TEXT_PARAMS or not isinstance(value, str):
            params[name] = value
            continue
        try:
            params[name] = json.loads(value)
        except ValueError:
            params[name] = value
    for name, value in list(params.items()):
        if isinstance(value, str) and value.startswith("attach://"):
            params[name] = files.pop(value.removeprefix("attach://"), value)
    params.update(files)
    return params


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self) -> None:
        self._answer()

    def do_GET(self) -> None:
        self._answer()

    def _answer(self) -> None:
        url = urlsplit(self.path)
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            body = self._read_chunked()
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        status, answer = self.server.fake.handle(url.path, url.query, self.headers.get("Content-Type", ""), body)
        if status == 0:  # drop_next: hang up without a word
            self.close_connection = True
            return
        data = json.dumps(answer).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the bot stopped a long poll
            self.wfile.write(data)

    def _read_chunked(self) -> bytes:
        chunks = []
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                self.rfile.readline()
                return b"".join(chunks)
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def log_message(self, format: str, *args) -> None:  # the test output stays readable
        pass


@pytest.fixture
def fake_telegram() -> Iterator[FakeTelegram]:
    """A running fake Bot API; point an app at it with `bot_config(fake_telegram)`."""
    with FakeTelegram() as fake:
        yield fake


def bot_config(fake: FakeTelegram, mode: str = "polling", **overrides) -> dict:
    """App settings for a bot talking to `fake`, with short poll and dispatcher intervals for tests."""
    return {
        "TELEGRAM_BOT_TOKEN": fake.token,
        "TELEGRAM_API_BASE_URL": fake.api_base_url,
        "BOT_MODE": mode,
        "BOT_POLL_TIMEOUT": 1,
        "OUTBOX_POLL_SECONDS": 0.2,
        # Bot tests often use a public https BASE_URL (Telegram refuses buttons to 127.0.0.1),
        # where dev login is refused; none of them needs it.
        "DEV_LOGIN": False,
        **overrides,
    }


@contextlib.contextmanager
def run_bot(app) -> Iterator:
    """Run the app's BotRuntime on an event loop in a background thread (no web server); yields it."""
    from auction.bot.runtime import BotRuntime

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="bot-loop", daemon=True)
    thread.start()
    runtime = BotRuntime(app)
    try:
        asyncio.run_coroutine_threadsafe(runtime.start(), loop).result(timeout=15)
        yield runtime
    finally:
        try:
            asyncio.run_coroutine_threadsafe(runtime.stop(), loop).result(timeout=15)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            loop.close()
