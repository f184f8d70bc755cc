"""Write one benchmark's figures into its own section of BENCHMARKS.md, leaving the others."""

from __future__ import annotations

import fcntl
import os
import platform
from datetime import UTC, datetime
from pathlib import Path

BENCHMARKS = Path(__file__).resolve().parent.parent / "BENCHMARKS.md"
HEADER = """# Benchmarks

Figures measured by the scripts under `bench/` (not by tests). Each section says the command that
wrote it, the machine and the date; re-run the command to refresh it.
"""


def machine() -> str:
    return f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"


def update_section(name: str, title: str, body: str, command: str) -> None:
    """Replace the section `name` (between its markers) with `body`; append it when new."""
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = f"{start}\n## {title}\n\n`{command}` — {machine()}, {stamp}\n\n{body.strip()}\n{end}"
    with open(BENCHMARKS.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        text = BENCHMARKS.read_text() if BENCHMARKS.exists() else HEADER
        if start in text and end in text:
            before, rest = text.split(start, 1)
            text = before + section + rest.split(end, 1)[1]
        else:
            text = text.rstrip() + "\n\n" + section + "\n"
        BENCHMARKS.write_text(text)
