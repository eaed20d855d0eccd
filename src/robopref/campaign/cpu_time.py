"""CPU time of this process and the worker processes it started."""

from __future__ import annotations

import os
import time
from pathlib import Path


def cpu_seconds() -> float:
    """CPU time of this process and its live descendants (read from /proc on Linux)."""
    total = time.process_time()
    proc = Path("/proc")
    if not (proc / "self" / "stat").exists():
        return total
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = float(os.sysconf("SC_CLK_TCK"))
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        parts = stat[stat.rindex(")") + 2 :].split()  # the name may hold spaces
        parents[int(entry.name)] = int(parts[1])
        times[int(entry.name)] = (int(parts[11]) + int(parts[12])) / tick
    mine: set[int] = set()
    frontier = {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - mine
        mine |= frontier
    return total + sum(times[pid] for pid in mine)
