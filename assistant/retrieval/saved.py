"""Folders of derived data saved beside the store, one per store revision (the BM25 copy, the
word-vector table): finding the newest and pruning the old ones.

A writer builds into `.partial-*` and renames the folder into place, so a reader never sees a
half-written copy; a crash leaves the partial folder, which is removed once it is old enough
that no live writer can still be filling it.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import uuid
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

KEEP = 2
"""How many saved folders survive a prune: the newest, and the one a reader may still use."""

_PARTIAL_GRACE_S = 3600


def newest_first(root: Path, prefix: str) -> list[Path]:
    """The saved folders under `root` whose names start with `prefix`, newest first."""
    if not root.is_dir():
        return []
    folders = (p for p in root.iterdir() if p.is_dir() and p.name.startswith(prefix))
    return sorted(folders, key=lambda p: p.stat().st_mtime_ns, reverse=True)


def prune(root: Path, prefix: str, *, keep: Path) -> None:
    """Delete all but the newest `KEEP` saved folders (never `keep`) and stale partial ones."""
    for folder in newest_first(root, prefix)[KEEP:]:
        if folder != keep:
            shutil.rmtree(folder, ignore_errors=True)
    with contextlib.suppress(OSError):
        for partial in root.glob(".partial-*"):
            # Only old ones: another process may be writing its own right now.
            if partial.stat().st_mtime < keep.stat().st_mtime - _PARTIAL_GRACE_S:
                shutil.rmtree(partial, ignore_errors=True)


def publish(root: Path, prefix: str, target: Path, fill: Callable[[Path], None], what: str) -> bool:
    """Write a folder with `fill` aside and rename it to `target` (a reader never sees half a
    folder), then prune the old ones. False when it could not be written (logged: the caller
    still works without it, and the next process builds it again)."""
    partial = root / f".partial-{uuid.uuid4().hex}"
    try:
        partial.mkdir(parents=True)
        fill(partial)
        if target.exists():  # another process saved the same revision meanwhile
            shutil.rmtree(partial, ignore_errors=True)
        else:
            partial.rename(target)
    except OSError as exc:
        # Another process renamed its copy into place first (same revision, same content),
        # or the folder is not writable.
        shutil.rmtree(partial, ignore_errors=True)
        if not target.exists():
            log.warning("could not save %s to %s: %s", what, target, exc)
            return False
    prune(root, prefix, keep=target)
    return True
