"""CPU time of whole process sessions, read from /proc: a stack process started in a session of
its own (`Stack.start`) counts with every process it spawned (the vision pool, the dev server's
children), live ones by their own time and reaped ones through their parent's `cutime`."""

from __future__ import annotations

import os
from pathlib import Path

PROC = Path("/proc")
TICKS = os.sysconf("SC_CLK_TCK")


def _fields(stat: str) -> list[str]:
    # The command name is in parentheses and may hold spaces: split after its closing one.
    return stat[stat.rindex(")") + 2 :].split()


def session_cpu_seconds(session_ids: set[int]) -> dict[int, float]:
    """CPU seconds (user + system, own and reaped children) per session leader."""
    totals = dict.fromkeys(session_ids, 0.0)
    for entry in PROC.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = _fields((entry / "stat").read_text())
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        # fields[0] is field 3 (state): session is field 6, utime..cstime are fields 14-17.
        session = int(fields[3])
        if session in totals:
            totals[session] += sum(int(v) for v in fields[11:15]) / TICKS
    return totals
