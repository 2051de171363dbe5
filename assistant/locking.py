"""One writer at a time: the file lock every index writer takes (index.py, the staff page's
re-index and document removal, --repair).

Two writers interleaving their batches would leave documents of two runs mixed, and a removal
racing an indexing run could be undone by it. The lock is an OS file lock (`filelock`), so a
killed holder releases it at once. The holder writes who it is (pid, host, command, since
when) into the lock file, so a writer that gives up can say whom it waited for.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from filelock import FileLock, Timeout

from assistant.errors import IndexBusyError


def _command() -> str:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return " ".join([name, *sys.argv[1:]])[:200]


def holder(path: Path) -> dict[str, object] | None:
    """Who last took the lock at `path` (pid, host, command, since), as it wrote it."""
    try:
        data = json.loads(path.read_text(encoding="utf-8") or "null")
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def describe(info: dict[str, object] | None) -> str:
    if not info:
        return "another process (it did not say who it is)"
    since = info.get("since")
    when = ""
    if isinstance(since, (int, float)):
        when = datetime.fromtimestamp(since, UTC).strftime(" since %Y-%m-%d %H:%M:%S UTC")
    return (
        f"{info.get('purpose', 'a writer')} (pid {info.get('pid', '?')} on host "
        f"{info.get('host', '?')}, {info.get('command', '?')}){when}"
    )


@contextlib.contextmanager
def index_lock(path: Path, *, timeout: float, purpose: str) -> Iterator[None]:
    """Hold the index lock at `path` for the block, waiting at most `timeout` seconds.

    Raises:
        IndexBusyError: another process held it for the whole wait; the message names it.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    info = {
        "pid": os.getpid(),
        "host": socket.gethostname(),
        "command": _command(),
        "purpose": purpose,
    }

    def announce(fd: int) -> None:
        # Written through the lock's own descriptor while it is held; waiters only read it.
        data = json.dumps({**info, "since": time.time()}).encode()
        os.ftruncate(fd, 0)
        os.pwrite(fd, data, 0)

    # A new object per use: flock locks belong to an open file, so two threads of one
    # process (two staff sessions) exclude each other too.
    lock = FileLock(path, timeout=timeout, preserve_lock_file=True, on_acquired=announce)
    try:
        lock.acquire()
    except Timeout:
        waited = f"waited {timeout:g} s; " if timeout else ""
        raise IndexBusyError(
            f"the index is being written by {describe(holder(path))}: {waited}try again when "
            "it has finished (ASSISTANT_INDEX_LOCK_TIMEOUT sets how long to wait)"
        ) from None
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            lock.release()
