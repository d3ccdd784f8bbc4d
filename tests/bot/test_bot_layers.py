"""The bot's layering: the web never imports handler modules, handler modules never import each other,
and only the bot runtime itself knows where it is kept in the app."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "auction"


def imported_modules(path: Path) -> set[str]:
    """Every module `path` imports (absolute names; `from a import b` counts a and a.b)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_the_web_never_imports_bot_handler_modules():
    for path in sorted((PACKAGE / "web").rglob("*.py")):
        handlers = {name for name in imported_modules(path) if name.startswith("auction.bot.handlers")}
        assert not handlers, f"{path.relative_to(ROOT)} imports {handlers}"


def test_serving_the_site_loads_no_bot_handler_module(tmp_path):
    """create_app and every web page module, in a fresh interpreter: no handler module gets imported."""
    script = (
        "import importlib, pkgutil, sys\n"
        "from auction import create_app\n"
        "import auction.web\n"
        "create_app({'SQLALCHEMY_DATABASE_URI': 'sqlite:///' + sys.argv[1], 'DEV_LOGIN': True, 'BOT_MODE': 'off'})\n"
        "for info in pkgutil.walk_packages(auction.web.__path__, 'auction.web.'):\n"
        "    importlib.import_module(info.name)\n"
        "import auction.runtime\n"
        "print(sorted(m for m in sys.modules if m.startswith('auction.bot.handlers')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path / "site.db")],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_handler_modules_do_not_import_each_other():
    handlers = PACKAGE / "bot" / "handlers"
    for path in sorted(handlers.glob("*.py")):
        if path.name == "__init__.py":
            continue  # the list of handler modules
        others = {
            name for name in imported_modules(path)
            if name.startswith("auction.bot.handlers.") and name != f"auction.bot.handlers.{path.stem}"
        }
        assert not others, f"{path.name} imports {others}"


def test_nothing_outside_the_runtime_probes_the_app_for_the_bot():
    for path in sorted(PACKAGE.rglob("*.py")):
        if path == PACKAGE / "bot" / "runtime.py":
            continue
        assert '"bot_runtime"' not in path.read_text(), f"{path.relative_to(ROOT)} reads app.extensions['bot_runtime']"
