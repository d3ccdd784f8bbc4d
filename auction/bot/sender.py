"""Sending a message payload (the outbox's format, also used for replies) through the Bot API."""

from __future__ import annotations

import asyncio
import html
import ipaddress
from pathlib import Path
from urllib.parse import urlsplit

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest

CAPTION_LIMIT = 1024


def linkable(url: str) -> bool:
    """Whether Telegram accepts `url` on a button: it refuses localhost and private addresses."""
    parts = urlsplit(url)
    if parts.scheme == "tg":
        return True
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host or host == "localhost" or host.endswith(".localhost"):
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return "." in host
    return address.is_global


class Sender:
    """Sends payloads {"text", "parse_mode", "buttons", "photo"}; remembers uploaded photos' file ids."""

    def __init__(self, bot: Bot, static_folder: str | None) -> None:
        self.bot = bot
        self.static_root = Path(static_folder or "static").resolve()
        self._photo_ids: dict[str, str] = {}

    async def send(self, chat_id: int, payload: dict) -> Message:
        parse_mode = payload.get("parse_mode")
        text, markup = self._text_and_keyboard(payload, parse_mode)
        photo = payload.get("photo")
        if photo:
            source = self._photo_ids.get(photo) or await self._read_photo(photo)
            if source is not None:
                fits = len(text) <= CAPTION_LIMIT
                message = await self.bot.send_photo(
                    chat_id,
                    photo=source,
                    filename=Path(photo).name,
                    caption=text if fits else None,
                    parse_mode=parse_mode if fits else None,
                    reply_markup=markup if fits else None,
                )
                if message.photo:
                    self._photo_ids[photo] = message.photo[-1].file_id
                if fits:
                    return message
        return await self.bot.send_message(chat_id, text, parse_mode=parse_mode, reply_markup=markup)

    async def edit(self, message: Message, payload: dict) -> None:
        """Replace a sent message's text (or caption) and buttons with `payload`'s; its photo stays."""
        parse_mode = payload.get("parse_mode")
        text, markup = self._text_and_keyboard(payload, parse_mode)
        chat_id, message_id = message.chat_id, message.message_id
        try:
            if message.photo and len(text) <= CAPTION_LIMIT:
                await self.bot.edit_message_caption(
                    chat_id=chat_id, message_id=message_id, caption=text, parse_mode=parse_mode, reply_markup=markup
                )
            elif message.photo:
                await self.bot.edit_message_reply_markup(chat_id=chat_id, message_id=message_id, reply_markup=markup)
            else:
                await self.bot.edit_message_text(
                    text, chat_id=chat_id, message_id=message_id, parse_mode=parse_mode, reply_markup=markup
                )
        except BadRequest as error:
            # Pressing a button twice renders the same card again; Telegram calls that an error.
            if "not modified" not in error.message.lower():
                raise

    def _text_and_keyboard(self, payload: dict, parse_mode: str | None) -> tuple[str, InlineKeyboardMarkup | None]:
        text = payload.get("text") or ""
        rows = []
        for row in payload.get("buttons") or []:
            buttons = []
            for button in row:
                url = button.get("url")
                if url is not None and not linkable(url):
                    # A local trial (BASE_URL on 127.0.0.1) still gets the address, as text.
                    label = html.escape(button["text"]) if parse_mode == "HTML" else button["text"]
                    text += f"\n\n{label}: {html.escape(url) if parse_mode == 'HTML' else url}"
                elif url is not None:
                    buttons.append(InlineKeyboardButton(button["text"], url=url))
                else:
                    buttons.append(InlineKeyboardButton(button["text"], callback_data=button.get("callback_data")))
            if buttons:
                rows.append(buttons)
        return text, (InlineKeyboardMarkup(rows) if rows else None)

    async def _read_photo(self, photo: str) -> bytes | None:
        path = (self.static_root / photo).resolve()
        if not path.is_relative_to(self.static_root) or not path.is_file():
            return None
        return await asyncio.to_thread(path.read_bytes)
