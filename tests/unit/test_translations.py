"""Every user-facing string has a Russian translation, and the catalogs compile."""

import subprocess
import sys
from pathlib import Path

from babel.messages.pofile import read_po

from auction.config import ROOT


def _extract(tmp_path: Path):
    target = tmp_path / "messages.pot"
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "_l", "-k", "lazy_gettext",
         "--ignore-dirs=.* ._ node_modules", "--no-location", "-o", str(target), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with target.open("rb") as handle:
        return read_po(handle)


def _translated(message) -> bool:
    strings = message.string if isinstance(message.string, tuple) else (message.string,)
    return all(strings) and not message.fuzzy


def test_every_extracted_string_has_a_russian_translation(tmp_path):
    extracted = _extract(tmp_path)
    with (ROOT / "translations/ru/LC_MESSAGES/messages.po").open("rb") as handle:
        russian = read_po(handle, locale="ru")
    missing = [m.id for m in extracted if m.id and (m.id not in russian or not _translated(russian[m.id]))]
    assert len(list(extracted)) > 200
    assert missing == []


def test_russian_plurals_have_all_three_forms():
    with (ROOT / "translations/ru/LC_MESSAGES/messages.po").open("rb") as handle:
        russian = read_po(handle, locale="ru")
    short = [m.id for m in russian if m.pluralizable and m.id and len([s for s in m.string if s]) < 3]
    assert short == []
