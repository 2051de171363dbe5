"""Who may use the staff page: failed-login throttling and the audit log staff read.

One wrong password used to cost one second in one browser tab, so a script with many sessions
could guess freely. `LoginGuard` counts failures per client address and over all addresses in a
SQLite file beside the feedback database, shared by every session and every process of the app.
Each attempt is counted *before* the password is compared, inside one write transaction, so
parallel sessions cannot slip extra guesses past the count; a correct password clears its
address's count. From an address, the n-th failure makes the next attempt wait
`login_backoff_s * 2**(n-1)` seconds; after `login_max_failures` the address is locked for
`login_lockout_s`, and after `login_global_max_failures` from all addresses together the login
is locked for everyone (a distributed guesser must not get N addresses times the budget; the
price is that such an attack also locks staff out for a while). Every failure is logged with
its address.

`AuditLog` records uploads, removals, re-indexes and logins (with the client address) in the
same file; the staff page shows the newest entries. Both tables are kept bounded.
"""

from __future__ import annotations

import datetime as dt
import logging
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from assistant.config import Settings, StaffSettings
from assistant.errors import StoreError

log = logging.getLogger(__name__)

STAFF_DB_NAME = "staff.sqlite3"
MAX_AUDIT_ROWS = 20000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS login_failures (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      REAL NOT NULL,
    address TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS login_failures_address ON login_failures (address, at);
CREATE TABLE IF NOT EXISTS audit (
    id      INTEGER PRIMARY KEY AUTOINCREMENT,
    at      TEXT NOT NULL,
    address TEXT NOT NULL,
    action  TEXT NOT NULL,
    detail  TEXT NOT NULL
);
"""


def staff_db_path(settings: Settings) -> Path:
    """The staff page's SQLite file: beside the feedback database."""
    return settings.paths.feedback_db.parent / STAFF_DB_NAME


class _Database:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                "Cannot create the folder for the staff database; set ASSISTANT_FEEDBACK_DB to "
                "a writable location (the staff database sits beside it)."
            ) from exc
        try:
            with closing(sqlite3.connect(path, timeout=10)) as conn:
                conn.executescript(_SCHEMA)  # commits on its own
        except sqlite3.Error as exc:
            raise self._unusable(exc) from exc

    @staticmethod
    def _unusable(exc: sqlite3.Error) -> StoreError:
        return StoreError(
            f"The staff database cannot be used ({exc}); check that the folder of "
            "ASSISTANT_FEEDBACK_DB is writable."
        )

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE), so a read-then-write is
        atomic across threads and processes."""
        try:
            with closing(sqlite3.connect(self.path, timeout=10, isolation_level=None)) as conn:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
        except sqlite3.Error as exc:
            raise self._unusable(exc) from exc


class LoginGuard:
    """Counts failed staff logins per address and overall; says how long to wait."""

    def __init__(
        self, path: Path, settings: StaffSettings, *, clock: Callable[[], float] = time.time
    ) -> None:
        self._db = _Database(path)
        self.settings = settings
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginGuard:
        return cls(staff_db_path(settings), settings.staff)

    def _wait(self, conn: sqlite3.Connection, address: str, now: float) -> float:
        s = self.settings
        conn.execute("DELETE FROM login_failures WHERE at < ?", (now - s.login_lockout_s,))
        mine, my_last = conn.execute(
            "SELECT COUNT(*), MAX(at) FROM login_failures WHERE address = ?", (address,)
        ).fetchone()
        every, last = conn.execute("SELECT COUNT(*), MAX(at) FROM login_failures").fetchone()
        waits = [0.0]
        if every >= s.login_global_max_failures:
            waits.append(last + s.login_lockout_s - now)
        if mine >= s.login_max_failures:
            waits.append(my_last + s.login_lockout_s - now)
        elif mine:
            backoff = min(s.login_backoff_s * 2 ** (mine - 1), s.login_lockout_s)
            waits.append(my_last + backoff - now)
        return max(waits)

    def attempt(self, address: str) -> float:
        """Seconds this address must still wait (the attempt is refused); 0.0 when it may try,
        in which case the attempt is already counted as a failure until `succeeded` clears it."""
        with self._db.transaction() as conn:
            # Read the clock inside the transaction: a writer that queued before us must not
            # have a later timestamp than ours.
            now = self._clock()
            wait = self._wait(conn, address, now)
            if wait > 0:
                log.warning("staff login refused for %s: locked for %.0f s more", address, wait)
                return wait
            conn.execute("INSERT INTO login_failures (at, address) VALUES (?, ?)", (now, address))
        return 0.0

    def failed(self, address: str) -> None:
        """Log a wrong password (already counted by `attempt`)."""
        with self._db.transaction() as conn:
            mine = conn.execute(
                "SELECT COUNT(*) FROM login_failures WHERE address = ?", (address,)
            ).fetchone()[0]
        log.warning(
            "staff login failed from %s (%d failure(s) in the last %.0f s)",
            address,
            mine,
            self.settings.login_lockout_s,
        )

    def succeeded(self, address: str) -> None:
        """A correct password: forget this address's failures."""
        with self._db.transaction() as conn:
            conn.execute("DELETE FROM login_failures WHERE address = ?", (address,))

    def waiting(self, address: str) -> float:
        """Seconds this address must wait before its next attempt (nothing is counted)."""
        with self._db.transaction() as conn:
            return self._wait(conn, address, self._clock())


class AuditEntry(BaseModel):
    """One staff action, as the staff page lists it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    at: dt.datetime
    address: str
    action: str
    detail: str


class AuditLog:
    """Uploads, removals, re-indexes and logins, newest last; bounded."""

    def __init__(self, path: Path, *, max_rows: int = MAX_AUDIT_ROWS) -> None:
        self._db = _Database(path)
        self.max_rows = max_rows

    @classmethod
    def from_settings(cls, settings: Settings) -> AuditLog:
        return cls(staff_db_path(settings))

    def record(self, action: str, detail: str, *, address: str) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        log.info("staff %s from %s: %s", action, address, detail)
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO audit (at, address, action, detail) VALUES (?, ?, ?, ?)",
                (now, address, action, detail[:2000]),
            )
            conn.execute(
                "DELETE FROM audit WHERE id <= (SELECT MAX(id) FROM audit) - ?", (self.max_rows,)
            )

    def recent(self, limit: int = 200) -> list[AuditEntry]:
        """The newest entries, newest first."""
        with self._db.transaction() as conn:
            rows = conn.execute(
                "SELECT at, address, action, detail FROM audit ORDER BY id DESC LIMIT ?",
                (limit,),
            ).fetchall()
        return [
            AuditEntry(at=dt.datetime.fromisoformat(at), address=address, action=a, detail=d)
            for at, address, a, d in rows
        ]
