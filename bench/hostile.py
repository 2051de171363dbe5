"""Hostile input, measured: what the defences of issue 9 cost and what they stop.

    nice -n 10 .venv/bin/python bench/hostile.py

Figures: the billion-laughs header (refusal time, memory growth), 200 kB pathological Markdown
lines (per line, and the old patterns at 20 kB for comparison), prompt-injection stripping
throughput on the project corpus, the login guard (attempt latency; guesses that get through
when 40 threads guess at once), a flood of 10,000 refused questions against the feedback store,
and the refusal of a 600-page PDF. Writes bench/results/<date>-<host>-hostile.md and .json.
"""

from __future__ import annotations

import io
import re
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, summary_ms, write_result


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def billion_laughs() -> dict[str, float]:
    from assistant.errors import DocumentError
    from assistant.loaders.metadata import split_front_matter
    from tests.test_metadata import BILLION_LAUGHS

    before = _rss_mb()
    started = time.perf_counter()
    try:
        split_front_matter(BILLION_LAUGHS)
        refused = 0.0
    except DocumentError:
        refused = 1.0
    return {
        "bytes": len(BILLION_LAUGHS),
        "refused": refused,
        "refusal_ms": round((time.perf_counter() - started) * 1000, 2),
        "peak_rss_growth_mb": round(_rss_mb() - before, 1),
    }


def markdown() -> dict[str, object]:
    from assistant.loaders.markdown import markdown_to_text
    from tests.test_markdown import PATHOLOGICAL

    per_line = {}
    for name, line in PATHOLOGICAL.items():
        started = time.perf_counter()
        markdown_to_text(line)
        per_line[name] = round((time.perf_counter() - started) * 1000, 1)
    old_link = re.compile(r"\[([^\]]+)\]\([^)]*\)")
    started = time.perf_counter()
    old_link.sub(r"\1", "[" * 20_000)
    return {
        "line_chars": 200_000,
        "worst_ms": max(per_line.values()),
        "per_line_ms": per_line,
        "old_link_pattern_20k_brackets_ms": round((time.perf_counter() - started) * 1000, 1),
    }


def injections() -> dict[str, float]:
    from assistant.injection import addresses_ai
    from assistant.loaders.cleaning import strip_injections
    from assistant.text import split_sentences

    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").rglob("*.txt"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").rglob("*.md"))]
    chars = sum(len(t) for t in texts)
    started = time.perf_counter()
    removed = sum(len(strip_injections(t)[1]) for t in texts)
    seconds = time.perf_counter() - started
    sentences = [s.text for t in texts[:20] for s in split_sentences(t)]
    started = time.perf_counter()
    flagged = sum(addresses_ai(s) for s in sentences)
    per_sentence = (time.perf_counter() - started) / max(1, len(sentences))
    return {
        "corpus_chars": chars,
        "strip_seconds": round(seconds, 3),
        "strip_mb_per_s": round(chars / seconds / 1e6, 2),
        "lines_removed_from_project_corpus": removed,
        "addresses_ai_us_per_sentence": round(per_sentence * 1e6, 1),
        "sentences_flagged": flagged,
    }


def login_guard(work: Path) -> dict[str, object]:
    from assistant.access import LoginGuard
    from assistant.config import StaffSettings

    guard = LoginGuard(
        work / "staff.sqlite3",
        StaffSettings(login_max_failures=10**3, login_global_max_failures=10**5),
    )
    times = []
    for n in range(200):
        started = time.perf_counter()
        guard.attempt(f"10.0.{n // 250}.{n % 250}")
        times.append((time.perf_counter() - started) * 1000)
    path = work / "parallel.sqlite3"
    LoginGuard(path, StaffSettings())
    allowed = []
    barrier = threading.Barrier(40)

    def guess() -> None:
        mine = LoginGuard(path, StaffSettings(login_max_failures=3, login_backoff_s=0))
        barrier.wait()
        if mine.attempt("10.9.9.9") == 0:
            allowed.append(1)

    threads = [threading.Thread(target=guess) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return {"attempt": summary_ms(times), "parallel_40_guesses_allowed_limit_3": len(allowed)}


def feedback_flood(work: Path) -> dict[str, float]:
    import sqlite3

    from assistant.feedback import FeedbackStore
    from assistant.types import Answer

    store = FeedbackStore(work / "feedback.sqlite3", max_rows=1000)
    store.rate(
        "real",
        Answer(question="Real gap?", standalone_question="Real gap?", text="x", refused=False),
        -1,
    )
    started = time.perf_counter()
    for n in range(5000):
        q = "Same flood question?" if n % 2 else f"Flood {n}?"
        store.record_answer(
            f"f{n}", Answer(question=q, standalone_question=q, text="no", refused=True)
        )
    seconds = time.perf_counter() - started
    with sqlite3.connect(store.path) as conn:
        rows = conn.execute("SELECT COUNT(*) FROM feedback").fetchone()[0]
    gaps = store.list_gaps(2000)
    return {
        "refusals_written": 5000,
        "ms_per_refusal": round(seconds / 5000 * 1000, 2),
        "rows_kept_max_1000": rows,
        "real_gap_still_listed": float(any(g.question == "Real gap?" for g in gaps)),
        "flood_question_count_shown": next(
            g.count for g in gaps if g.question == "Same flood question?"
        ),
    }


def pdf_page_cap() -> dict[str, float]:
    from reportlab.pdfgen import canvas

    from assistant.errors import DocumentError
    from assistant.loaders.pdf import read_pdf

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    for n in range(600):
        pdf.drawString(72, 720, f"Page {n} of a long report.")
        pdf.showPage()
    pdf.save()
    started = time.perf_counter()
    try:
        read_pdf(buffer.getvalue())
        refused = 0.0
    except DocumentError:
        refused = 1.0
    return {
        "pages": 600,
        "refused": refused,
        "refusal_ms": round((time.perf_counter() - started) * 1000, 1),
    }


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="cpmr-hostile-") as tmp:
        work = Path(tmp)
        figures = {
            "billion_laughs": billion_laughs(),
            "markdown_200kb_lines": markdown(),
            "injections": injections(),
            "login_guard": login_guard(work),
            "feedback_flood": feedback_flood(work),
            "pdf_page_cap": pdf_page_cap(),
        }
    path = write_result(
        "hostile",
        figures,
        notes=["run with nice -n 10 while other engineers used the same 2 cores"],
    )
    print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
