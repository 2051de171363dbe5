"""The command-line edge shared by every command (`ask`, `index`, `eval`).

Errors become one line on stderr and an exit status; no traceback reaches the user unless
ASSISTANT_DEBUG=1 is set. Each command passes its own fatal status and interruption message,
so `python index.py` and `python -m assistant eval` keep their documented exit codes.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

from assistant.errors import AssistantError

log = logging.getLogger("assistant")


def guarded(action: Callable[[], int], *, fatal: int = 2, interrupted: str = "interrupted") -> int:
    """Run a command: an AssistantError or OSError becomes one line on stderr and the `fatal`
    status, anything unexpected too (with a hint to set ASSISTANT_DEBUG=1 for the traceback)."""
    try:
        return action()
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return fatal
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return 130
    except OSError as exc:  # a report or batch file that cannot be written or read
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}", file=sys.stderr)
        return fatal
    except Exception as exc:
        if os.environ.get("ASSISTANT_DEBUG"):
            raise
        log.debug("unexpected failure", exc_info=True)
        print(
            f"error: unexpected {type(exc).__name__}: {exc} (set ASSISTANT_DEBUG=1 for details)",
            file=sys.stderr,
        )
        return fatal
