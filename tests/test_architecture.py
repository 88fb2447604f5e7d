"""The dependency direction holds: the import-linter contracts of pyproject.toml."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_import_contracts_are_kept() -> None:
    """matcher imports nothing of ours nor any database/HTTP/geocoding library; layers hold."""
    lint_imports = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint_imports is not None, "import-linter is part of the dev extra"
    completed = subprocess.run(
        [lint_imports], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert "0 broken" in completed.stdout


def test_the_time_is_read_from_the_one_clock() -> None:
    """Only services/clock.py asks the system the time: the app, the worker and the command
    line hold a clock and pass times on, so a test can stop it."""
    readers = [
        f"{path.relative_to(ROOT)}:{number}"
        for package in ("api", "cli", "matcher", "models", "services")
        for path in sorted((ROOT / package).rglob("*.py"))
        if path != ROOT / "services" / "clock.py"
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if any(call in line for call in ("date.today(", "datetime.now(", "datetime.utcnow("))
    ]
    assert readers == []


def test_test_modules_do_not_import_each_other() -> None:
    """Builders the tests share live in helper modules (tests/api.py, tests/served.py,
    tests/matcher/references.py, ...), not in a test module another one imports."""
    importing = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "tests").rglob("test_*.py"))
        if re.search(r"^\s*(from|import) tests(\.\w+)*\.test_", path.read_text(), flags=re.M)
    ]
    assert importing == []
