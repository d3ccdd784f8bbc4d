"""Two languages everywhere: complete catalogs, and no user-facing text outside the translation functions.

The scans are heuristics: a template's text nodes and user-facing attributes with letters in them
must come from `{{ _(...) }}` (or ngettext); in the bot's handlers, a literal string with letters
must not be what is sent to a person (a "text" of a reply payload, or a Telegram call's text).
Brand names and language names are allowed as they are.
"""

from __future__ import annotations

import ast
import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.pofile import read_po

from auction.config import ROOT

LETTERS = re.compile(r"[A-Za-zА-Яа-яЁё]")
JINJA = re.compile(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", re.S)
# Not text for people: macros that write attributes (no markup inside), and the page's live channel names.
NOT_TEXT = re.compile(r"\{%-?\s*macro\b[^%]*%\}[^<]*?\{%-?\s*endmacro\s*-?%\}|\{%\s*block live_channels\s*%\}.*?\{%\s*endblock\s*%\}", re.S)
ALLOWED = {"Bot-Auction", "EN", "RU", "English", "Русский", "Telegram", "XTR", "Stars", "A***e"}
USER_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "value", "label"}
# Values that are not text for people: input values holding data, not words.
ATTRIBUTE_EXCEPTIONS = {("value", "en"), ("value", "ru")}


class TextNodes(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in USER_ATTRIBUTES and value and LETTERS.search(value) and (name, value) not in ATTRIBUTE_EXCEPTIONS:
                if tag in ("input", "button", "option") and name == "value":  # sent, never shown
                    continue
                self.found.append(f"<{tag} {name}={value!r}>")

    def handle_endtag(self, tag):
        if tag in ("script", "style") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        text = data.strip()
        if self._skip or not text or not LETTERS.search(text):
            return
        if all(word.strip(".,:;·—()!?") in ALLOWED or not LETTERS.search(word) for word in text.split()):
            return
        self.found.append(text)


def bare_template_text(path: Path) -> list[str]:
    source = JINJA.sub(" ", NOT_TEXT.sub(" ", path.read_text(encoding="utf-8")))
    parser = TextNodes()
    parser.feed(source)
    return parser.found


def _is_text_literal(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(LETTERS.search(node.value)) and node.value.strip() not in ALLOWED
    if isinstance(node, ast.JoinedStr):
        return any(isinstance(part, ast.Constant) and LETTERS.search(part.value) for part in node.values)
    if isinstance(node, ast.BinOp):
        return _is_text_literal(node.left) or _is_text_literal(node.right)
    return False


SEND_CALLS = {"send_message", "reply_text", "answer", "edit_message_text", "answer_callback_query"}


def bare_bot_text(path: Path) -> list[str]:
    """Literal strings with letters that a handler module sends to people."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "text" and _is_text_literal(value):
                    found.append(f"{path.name}:{node.lineno} {ast.unparse(value)[:60]}")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in SEND_CALLS:
            arguments = list(node.args) + [k.value for k in node.keywords if k.arg in ("text", "caption")]
            for argument in arguments:
                if _is_text_literal(argument):
                    found.append(f"{path.name}:{node.lineno} {ast.unparse(argument)[:60]}")
    return found


def test_catalogs_have_no_untranslated_or_fuzzy_entries():
    for language, needs_text in (("ru", True), ("en", False)):
        with (ROOT / f"translations/{language}/LC_MESSAGES/messages.po").open("rb") as handle:
            catalog = read_po(handle, locale=language)
        fuzzy = [m.id for m in catalog if m.id and m.fuzzy]
        assert fuzzy == [], f"{language}: fuzzy entries"
        if needs_text:
            empty = [m.id for m in catalog if m.id and not all(m.string if isinstance(m.string, tuple) else (m.string,))]
            assert empty == [], f"{language}: untranslated entries"


def test_the_scanners_catch_what_they_look_for(tmp_path):
    template = tmp_path / "t.html"
    template.write_text('<p>{{ _("Fine") }}</p><p>Bare words</p><img alt="A photo"><a title="{{ _(\'ok\') }}">⭐ 5</a><p>Bot-Auction</p>')
    assert bare_template_text(template) == ["Bare words", "<img alt='A photo'>"]
    handler = tmp_path / "h.py"
    handler.write_text('def f(n):\n    x = {"text": "Hello"}\n    y = {"text": _("Hello")}\n    z = {"text": f"• {n} ⭐"}\n'
                       '    bot.send_message(1, f"Ticket #{n} sent")\n')
    assert [line.split(" ", 1)[0] for line in bare_bot_text(handler)] == ["h.py:2", "h.py:5"]


def test_templates_have_no_text_outside_the_translation_functions():
    found = {}
    for path in sorted((ROOT / "templates").rglob("*.html")):
        bare = bare_template_text(path)
        if bare:
            found[str(path.relative_to(ROOT))] = bare
    assert found == {}


def test_bot_handlers_send_no_literal_text():
    found = []
    for path in sorted((ROOT / "auction/bot").rglob("*.py")):
        found += bare_bot_text(path)
    assert found == []
