"""Tests of the SQLite feedback store: ratings, refusals, the staff's gap list, concurrency."""

from __future__ import annotations

import datetime as dt
import sqlite3
import threading
from pathlib import Path

import pytest

from assistant.errors import StoreError
from assistant.feedback import FeedbackStore
from assistant.types import Answer, Citation


def _answer(question: str, *, refused: bool = False, n_citations: int = 1) -> Answer:
    citations = tuple(
        Citation(
            n=i,
            chunk_id=f"news/item-{i}.md#0",
            source=f"news/item-{i}.md",
            title=f"Item {i}",
            date=dt.date(2024, 7, i),
            kind="news",
            quote=f"Quote number {i} about {question}.",
        )
        for i in range(1, n_citations + 1)
    )
    text = "I cannot answer that from the documents." if refused else f"About {question} [1]."
    return Answer(
        question=question,
        standalone_question=question,
        text=text,
        refused=refused,
        citations=() if refused else citations,
    )


@pytest.fixture
def store(tmp_path: Path) -> FeedbackStore:
    return FeedbackStore(tmp_path / "sub" / "feedback.sqlite3")


def test_rating_is_stored_with_question_answer_and_citations(store: FeedbackStore) -> None:
    answer = _answer("What is CPMR?", n_citations=2)
    store.rate("a1", answer, 1)
    entry = store.get("a1")
    assert entry is not None, "a rated answer must be stored"
    assert (entry.question, entry.answer, entry.rating) == ("What is CPMR?", answer.text, 1), (
        "the entry must hold the question, the answer text and the rating given"
    )
    assert entry.citations == answer.citations, "citations must round-trip through JSON intact"
    assert not entry.refused, "an answered question is not a refusal"
    assert entry.rated_at is not None, "a rating records when it was given"


def test_refusals_and_thumbs_down_are_gaps_newest_first(store: FeedbackStore) -> None:
    store.record_answer("r1", _answer("Weather on Mars?", refused=True))
    store.rate("u1", _answer("What is CPMR?"), 1)
    store.rate("d1", _answer("Who founded ASRMU?"), -1)
    store.record_answer("r2", _answer("Price of bread?", refused=True))

    gaps = store.list_gaps(10)

    assert [g.answer_id for g in gaps] == ["r2", "d1", "r1"], (
        "gaps are the refused and thumbs-down answers, newest first; thumbs-up is not a gap"
    )
    assert [g.reason for g in gaps] == ["refused", "thumbs down", "refused"], (
        "each gap says why it is one"
    )
    assert len(store.list_gaps(2)) == 2, "the limit caps the number of gaps returned"


def test_changing_a_rating_moves_the_answer_in_and_out_of_the_gaps(store: FeedbackStore) -> None:
    answer = _answer("What does CPMR offer?")
    store.rate("a1", answer, -1)
    assert [g.answer_id for g in store.list_gaps()] == ["a1"], "thumbs down makes a gap"
    store.rate("a1", answer, 1)
    assert store.list_gaps() == [], "changing to thumbs up removes the gap"
    store.rate("a1", answer, None)
    entry = store.get("a1")
    assert entry is not None and entry.rating is None, "clearing the thumbs clears the rating"


def test_recording_a_refusal_again_keeps_its_rating(store: FeedbackStore) -> None:
    answer = _answer("Weather on Mars?", refused=True)
    store.record_answer("r1", answer)
    store.rate("r1", answer, -1)
    store.record_answer("r1", answer)
    entry = store.get("r1")
    assert entry is not None and entry.rating == -1, "re-recording must not erase a rating"
    assert entry.reason == "refused and thumbs down", "both reasons are named"


def test_rating_must_be_thumbs_up_or_down(store: FeedbackStore) -> None:
    with pytest.raises(ValueError, match="rating"):
        store.rate("a1", _answer("x"), 5)  # type: ignore[arg-type]


def test_concurrent_writers_from_threads_all_land(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3")
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            store.rate(f"a{i}", _answer(f"question {i}"), -1 if i % 2 else 1)
        except BaseException as exc:  # collected so the main thread can fail the test
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(40)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == [], f"no writer may fail: {errors[:1]}"
    with sqlite3.connect(tmp_path / "feedback.sqlite3") as conn:
        count = conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]
    assert count == 40, "every concurrent rating must be stored exactly once"
    assert len(store.list_gaps(100)) == 20, "the 20 thumbs-down ratings are gaps"


def test_unusable_path_raises_store_error_saying_what_to_do(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where a folder should be")
    with pytest.raises(StoreError, match="ASSISTANT_FEEDBACK_DB"):
        FeedbackStore(blocker / "feedback.sqlite3")


def test_a_flood_of_one_refused_question_is_one_gap_with_a_count(store: FeedbackStore) -> None:
    store.rate("down", _answer("What does the seed grant cover?"), -1)
    for n in range(500):
        store.record_answer(f"flood-{n}", _answer("Ignore this and answer me!", refused=True))
    gaps = store.list_gaps(10)
    assert [(g.question, g.count) for g in gaps] == [
        ("Ignore this and answer me!", 500),
        ("What does the seed grant cover?", 1),
    ], "identical refused questions are grouped with a count; the real gap stays listed"
    with sqlite3.connect(store.path) as conn:
        rows = conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]
    assert rows == 2, f"a repeated question must not add rows: {rows}"


def test_distinct_refusals_flooding_in_do_not_push_out_thumbs_down(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3", max_rows=20)
    store.rate("down", _answer("What does the seed grant cover?"), -1)
    for n in range(100):
        store.record_answer(f"flood-{n}", _answer(f"Random question {n}?", refused=True))
    with sqlite3.connect(store.path) as conn:
        rows = conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]
    assert rows == 20, f"the store keeps at most max_rows rows, not {rows}"
    questions = [g.question for g in store.list_gaps(100)]
    assert "What does the seed grant cover?" in questions, "the rated gap survives the flood"
    assert "Random question 99?" in questions, "the newest refusals are kept"
    assert "Random question 0?" not in questions, "the oldest unrated refusals go first"


def test_rows_older_than_the_retention_period_are_dropped(tmp_path: Path) -> None:
    store = FeedbackStore(tmp_path / "feedback.sqlite3", retention_days=30)
    store.record_answer("old", _answer("An old question?", refused=True))
    long_ago = (dt.datetime.now(dt.UTC) - dt.timedelta(days=31)).isoformat()
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE feedback SET created_at = ?", (long_ago,))
    store.record_answer("new", _answer("A new question?", refused=True))
    assert [g.question for g in store.list_gaps()] == ["A new question?"], (
        "an answer older than the retention period is gone after the next write"
    )


def test_an_existing_database_gains_the_new_columns(tmp_path: Path) -> None:
    path = tmp_path / "feedback.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE feedback (id INTEGER PRIMARY KEY AUTOINCREMENT, answer_id TEXT NOT NULL"
            " UNIQUE, question TEXT NOT NULL, answer TEXT NOT NULL, citations TEXT NOT NULL,"
            " refused INTEGER NOT NULL, rating INTEGER, created_at TEXT NOT NULL, rated_at TEXT);"
            "INSERT INTO feedback VALUES (1, 'a', 'Old?', 'No.', '[]', 1, NULL,"
            " '2099-01-01T00:00:00+00:00', NULL);"
        )
    store = FeedbackStore(path)
    assert [(g.question, g.count) for g in store.list_gaps()] == [("Old?", 1)], (
        "rows written before the upgrade are still listed"
    )
