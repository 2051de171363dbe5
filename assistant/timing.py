"""Wall and CPU seconds of the named phases of a run, for the indexer's summary.

`index.py` prints where its time went (start-up, model load, hashing, chunking, encoding,
store writes, the BM25 and word-vector builds) so that a slow run can be read without a
profiler, and `bench/indexing.py` sets it beside the encoder's own rate. CPU is the process's
(every thread: ONNX Runtime computes in its own), so a phase that runs while a background
thread works is charged that thread's CPU unless the caller says how much that was
(`background`), which is then reported as a phase of its own.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from assistant.types import PhaseTime


class Phases:
    """Accumulated wall and CPU seconds per phase name, in the order phases first ran."""

    def __init__(self) -> None:
        self._times: dict[str, tuple[float, float | None]] = {}

    def add(self, name: str, seconds: float, cpu_seconds: float | None = None) -> None:
        if name not in self._times:
            self._times[name] = (seconds, cpu_seconds)
            return
        wall, cpu = self._times[name]
        both = None if cpu is None or cpu_seconds is None else cpu + cpu_seconds
        self._times[name] = (wall + seconds, both)

    @contextmanager
    def measure(self, name: str, background: Callable[[], float] | None = None) -> Iterator[None]:
        """Time the block as `name`; `background()` is the CPU seconds a concurrent thread has
        used so far, left out of this phase's CPU."""
        wall, cpu = time.perf_counter(), time.process_time()
        other = background() if background else 0.0
        try:
            yield
        finally:
            used = time.process_time() - cpu
            if background:
                used -= background() - other
            self.add(name, time.perf_counter() - wall, max(used, 0.0))

    def extend(self, times: Iterable[PhaseTime]) -> None:
        for phase in times:
            self.add(phase.name, phase.seconds, phase.cpu_seconds)

    def times(self) -> tuple[PhaseTime, ...]:
        return tuple(
            PhaseTime(
                name=name,
                seconds=round(wall, 3),
                cpu_seconds=None if cpu is None else round(cpu, 3),
            )
            for name, (wall, cpu) in self._times.items()
        )


def process_age() -> float | None:
    """Wall seconds since this process started (Linux; None elsewhere): the start-up phase,
    interpreter and imports, happens before any code of ours can start a clock."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])
        uptime = float(Path("/proc/uptime").read_text().split()[0])
        return max(uptime - ticks / os.sysconf("SC_CLK_TCK"), 0.0)
    except (OSError, ValueError, IndexError):
        return None
