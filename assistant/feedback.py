"""The feedback store: what users thought of answers, and which questions went unanswered.

Every refused question is recorded when it is answered, and every thumbs up/down when it is
given, each with the question, the answer text and its citations, in one SQLite table (path in
`settings.paths.feedback_db`). Staff read the gaps back with `list_gaps`: refused or thumbs-down
answers, newest first. Each operation opens its own short-lived connection, so one store can be
shared by every thread of a server process (and by several processes) without locking issues.

The public can make refusals at will, so the table is bounded: rows older than the retention
period go, and beyond `max_rows` the oldest *unrated* rows go first, so a flood of refused
questions cannot push out the thumbs-down answers. A refused question asked again while an
earlier identical one is still unrated only counts up that row (`repeats`), and `list_gaps`
groups identical questions with their count, so a flood of one question is one line for staff.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.config import Settings
from assistant.errors import StoreError
from assistant.types import Answer, Citation

Rating = Literal[1, -1]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    answer_id   TEXT NOT NULL UNIQUE,
    question    TEXT NOT NULL,
    answer      TEXT NOT NULL,
    citations   TEXT NOT NULL,
    refused     INTEGER NOT NULL,
    rating      INTEGER CHECK (rating IN (1, -1)),
    created_at  TEXT NOT NULL,
    rated_at    TEXT
);
CREATE INDEX IF NOT EXISTS feedback_created ON feedback (created_at);
"""
# Columns added after the first release; existing databases get them on open.
_MIGRATIONS = (
    ("repeats", "ALTER TABLE feedback ADD COLUMN repeats INTEGER NOT NULL DEFAULT 1"),
    ("question_key", "ALTER TABLE feedback ADD COLUMN question_key TEXT"),
)

# On a repeated answer_id the question and answer stay as first stored; only the rating moves.
_UPSERT = """
INSERT INTO feedback (answer_id, question, answer, citations, refused, rating, created_at,
                      rated_at)
VALUES (?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (answer_id) DO UPDATE SET
    rating = CASE WHEN excluded.rated_at IS NULL THEN feedback.rating ELSE excluded.rating END,
    rated_at = COALESCE(excluded.rated_at, feedback.rated_at)
"""

_COLUMNS = (
    "id, answer_id, question, answer, citations, refused, rating, created_at, rated_at, repeats"
)


class FeedbackEntry(BaseModel):
    """One stored answer with its rating, as staff see it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: int
    answer_id: str
    question: str
    answer: str
    citations: tuple[Citation, ...] = ()
    refused: bool
    rating: Rating | None = None
    created_at: dt.datetime
    rated_at: dt.datetime | None = None
    reason: str = Field("", description="Why it is a gap: 'refused', 'thumbs down' or both.")
    count: int = Field(1, ge=1, description="How often this question was asked (gaps only).")


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


def _citations_json(citations: Sequence[Citation]) -> str:
    return json.dumps([c.model_dump(mode="json") for c in citations], ensure_ascii=False)


def _entry(row: sqlite3.Row) -> FeedbackEntry:
    reasons = [
        label
        for flag, label in ((row["refused"], "refused"), (row["rating"] == -1, "thumbs down"))
        if flag
    ]
    return FeedbackEntry(
        id=row["id"],
        answer_id=row["answer_id"],
        question=row["question"],
        answer=row["answer"],
        citations=tuple(Citation.model_validate(c) for c in json.loads(row["citations"])),
        refused=bool(row["refused"]),
        rating=row["rating"],
        created_at=dt.datetime.fromisoformat(row["created_at"]),
        rated_at=dt.datetime.fromisoformat(row["rated_at"]) if row["rated_at"] else None,
        reason=" and ".join(reasons),
        count=row["repeats"] or 1,
    )


def question_key(question: str) -> str:
    """The form in which two questions count as the same: case and spacing ignored."""
    return " ".join(question.casefold().split())


class FeedbackStore:
    """Answers, ratings and refusals in one SQLite file; safe to share between threads."""

    def __init__(self, path: Path, *, max_rows: int = 10000, retention_days: int = 180) -> None:
        self.path = path
        self.max_rows = max_rows
        self.retention_days = retention_days
        # sqlite serialises writers itself; the lock only keeps this process's writers from
        # queueing on sqlite's busy timeout.
        self._write_lock = threading.Lock()
        self._initialise()

    @classmethod
    def from_settings(cls, settings: Settings) -> FeedbackStore:
        return cls(
            settings.paths.feedback_db,
            max_rows=settings.staff.feedback_max_rows,
            retention_days=settings.staff.feedback_retention_days,
        )

    @contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        try:
            with closing(sqlite3.connect(self.path, timeout=10)) as conn:
                conn.row_factory = sqlite3.Row
                with conn:  # commits on success, rolls back on error
                    yield conn
        except sqlite3.Error as exc:
            raise StoreError(
                f"The feedback database {self.path} cannot be used ({exc}); check that its "
                "folder exists and is writable, or set ASSISTANT_FEEDBACK_DB to another file."
            ) from exc

    def _initialise(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"Cannot create the folder for the feedback database {self.path} ({exc}); "
                "set ASSISTANT_FEEDBACK_DB to a writable location."
            ) from exc
        with self._write_lock, self._connect() as conn:
            conn.executescript(_SCHEMA)
            present = {row["name"] for row in conn.execute("PRAGMA table_info(feedback)")}
            for column, statement in _MIGRATIONS:
                if column not in present:
                    conn.execute(statement)

    def _prune(self, conn: sqlite3.Connection) -> None:
        """Retention first, then the row bound: oldest unrated rows before rated ones."""
        cutoff = (dt.datetime.now(dt.UTC) - dt.timedelta(days=self.retention_days)).isoformat(
            timespec="microseconds"
        )
        conn.execute("DELETE FROM feedback WHERE COALESCE(rated_at, created_at) < ?", (cutoff,))
        excess = conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0] - self.max_rows
        if excess > 0:
            conn.execute(
                "DELETE FROM feedback WHERE id IN (SELECT id FROM feedback "
                "ORDER BY rating IS NOT NULL, COALESCE(rated_at, created_at), id LIMIT ?)",
                (excess,),
            )

    def _upsert(self, answer_id: str, answer: Answer, rating: Rating | None, rated: bool) -> None:
        now = _now()
        values = (
            answer_id,
            answer.question,
            answer.text,
            _citations_json(answer.citations),
            int(answer.refused),
            rating,
            now,
            now if rated else None,
        )
        with self._write_lock, self._connect() as conn:
            conn.execute(_UPSERT, values)
            conn.execute(
                "UPDATE feedback SET question_key = ? WHERE answer_id = ?",
                (question_key(answer.question), answer_id),
            )
            self._prune(conn)

    def record_answer(self, answer_id: str, answer: Answer) -> None:
        """Store an answer without a rating (the app does this for every refusal).

        A refusal of a question already stored as an unrated refusal counts up that row
        instead of adding one, so repeating a question cannot fill the table.
        """
        if answer.refused:
            now = _now()
            with self._write_lock, self._connect() as conn:
                repeated = conn.execute(
                    "UPDATE feedback SET repeats = repeats + 1, created_at = ? "
                    "WHERE id = (SELECT id FROM feedback WHERE question_key = ? AND refused = 1 "
                    "AND rating IS NULL AND answer_id != ? ORDER BY id DESC LIMIT 1)",
                    (now, question_key(answer.question), answer_id),
                ).rowcount
            if repeated:
                return
        self._upsert(answer_id, answer, None, rated=False)

    def rate(self, answer_id: str, answer: Answer, rating: Rating | None) -> None:
        """Store or change the rating of an answer; None clears it."""
        if rating not in (1, -1, None):
            raise ValueError(f"rating must be 1, -1 or None, not {rating!r}")
        self._upsert(answer_id, answer, rating, rated=True)

    def get(self, answer_id: str) -> FeedbackEntry | None:
        """The stored entry of one answer, if any."""
        with self._connect() as conn:
            row = conn.execute(
                f"SELECT {_COLUMNS} FROM feedback WHERE answer_id = ?",  # noqa: S608 (constant)
                (answer_id,),
            ).fetchone()
        return _entry(row) if row else None

    def list_gaps(self, limit: int = 100) -> list[FeedbackEntry]:
        """Refused or thumbs-down answers, newest first (by when they were refused or rated down):
        what the corpus is missing. Identical questions are one entry (the newest) whose
        `count` says how often they were asked."""
        if limit < 1:
            return []
        with self._connect() as conn:
            rows = conn.execute(
                f"SELECT {_COLUMNS} FROM feedback "  # noqa: S608 (constant)
                "WHERE refused = 1 OR rating = -1 "
                "ORDER BY COALESCE(rated_at, created_at) DESC, id DESC",
            ).fetchall()
        grouped: dict[str, FeedbackEntry] = {}
        for row in rows:
            entry = _entry(row)
            key = question_key(entry.question)
            if key in grouped:
                first = grouped[key]
                grouped[key] = first.model_copy(update={"count": first.count + entry.count})
            elif len(grouped) < limit:
                grouped[key] = entry
        return list(grouped.values())
