"""docs/benchmarks.md, which several runs write: each run rewrites its own part and keeps
the blocks between `<!-- name: begin -->` and `<!-- name: end -->` that others wrote (the
load table of bench/load.py, the design measurements kept by hand)."""

from __future__ import annotations

import contextlib
import os
import platform
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
KEPT = ("load", "dbpath", "cli", "design")  # the blocks bench/run.py keeps, in this order


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}: begin -->", f"<!-- {name}: end -->"


def _pattern(name: str) -> re.Pattern[str]:
    begin, end = markers(name)
    return re.compile(re.escape(begin) + ".*?" + re.escape(end), re.DOTALL)


def block(path: Path, name: str) -> str:
    """The block `name` of a benchmarks file ("" if none)."""
    found = _pattern(name).search(path.read_text(encoding="utf-8")) if path.exists() else None
    return found.group(0) if found else ""


def kept_blocks(path: Path) -> list[str]:
    """The blocks of other runs in a benchmarks file, for a run that rewrites the rest."""
    return [found for found in (block(path, name) for name in KEPT) if found]


def write_block(path: Path, name: str, text: str) -> None:
    """Put `text` (a whole block, markers included) in place of the block `name`."""
    existing = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    if _pattern(name).search(existing):
        updated = _pattern(name).sub(lambda _: text, existing)
    else:
        updated = existing.rstrip("\n") + "\n\n" + text + "\n"
    path.write_text(updated, encoding="utf-8")


def machine() -> str:
    """This machine, as each benchmark notes it."""
    cpu = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (
        f"{cpu}, {os.cpu_count()} cores, {memory:.0f} GiB, {platform.system()} "
        f"{platform.release()}, Python {platform.python_version()}"
    )
