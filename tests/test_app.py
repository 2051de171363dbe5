"""Tests of the Streamlit app with AppTest: real models, a real index in a temp folder.

Each test points the app at a private corpus, Chroma folder and feedback database through the
ASSISTANT_* environment variables (the app reads its settings from the environment on every
run). The read-only chat tests share one index built once per module; the staff tests, which
change the corpus, build their own.
"""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from assistant import service
from assistant.errors import ConfigError, StoreError
from assistant.feedback import FeedbackStore
from assistant.types import Answer, AnswerSentence, Citation, SentenceEvent, StatusEvent
from assistant.ui import render
from assistant.ui.chat import MESSAGES_KEY, Exchange, _streamed_text
from tests.conftest import CORPUS, NEWS_FIXTURES, ROOT, make_settings

APP = str(ROOT / "app.py")
STAFF_PAGE = "assistant/ui/pages/staff.py"
CHAT_PAGE = "assistant/ui/pages/chat.py"
TIMEOUT = 240  # the first run of a process loads the embedding and chat models
PASSWORD = "correct horse battery staple"
NEWS_ITEM = NEWS_FIXTURES / "2026-04-14_cpmr-memorandum-nordhavn.md"

pytestmark = pytest.mark.slow


def _build_index(base: Path) -> Path:
    """A copy of the project corpus under `base`, indexed into `base/chroma`."""
    shutil.copytree(CORPUS, base / "corpus")
    report = service.build_index(settings=make_settings(base))
    assert report.ok and report.chunks_total > 0, f"the test index must build: {report}"
    return base


@pytest.fixture(scope="module")
def shared_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One indexed copy of the corpus for the tests that only read it."""
    return _build_index(tmp_path_factory.mktemp("app-index"))


def _point_app_at(
    monkeypatch: pytest.MonkeyPatch,
    base: Path,
    feedback_db: Path,
    *,
    backend: str = "extractive",
    password: str | None = None,
) -> None:
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(base / "corpus"))
    monkeypatch.setenv("ASSISTANT_CHROMA_DIR", str(base / "chroma"))
    monkeypatch.setenv("ASSISTANT_FEEDBACK_DB", str(feedback_db))
    monkeypatch.setenv("ASSISTANT_LLM_BACKEND", backend)
    if password is None:
        monkeypatch.delenv("ASSISTANT_ADMIN_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("ASSISTANT_ADMIN_PASSWORD", password)


@pytest.fixture
def chat_app(
    monkeypatch: pytest.MonkeyPatch, shared_index: Path, tmp_path: Path
) -> Iterator[AppTest]:
    """The app on the shared index with the extractive backend and a private feedback db."""
    _point_app_at(monkeypatch, shared_index, tmp_path / "feedback.sqlite3")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    assert not at.exception, f"the first run must not fail: {at.exception}"
    yield at


def _ask(at: AppTest, question: str) -> AppTest:
    at.chat_input(key="chat_input").set_value(question).run()
    assert not at.exception, f"asking {question!r} must not raise: {at.exception}"
    return at


def _exchanges(at: AppTest) -> list[Exchange]:
    exchanges: list[Exchange] = at.session_state[MESSAGES_KEY]
    return exchanges


def _last_answer(at: AppTest) -> Answer:
    exchange = _exchanges(at)[-1]
    assert exchange.error is None, f"the question must be answered, not fail: {exchange.error}"
    assert exchange.answer is not None, "the exchange must hold an answer"
    return exchange.answer


def _markdown(at: AppTest) -> str:
    return "\n".join(m.value for m in at.markdown)


def _source_buttons(at: AppTest) -> list[str]:
    return [b.label for b in at.button if b.label == "Open the source"]


# --- chat ------------------------------------------------------------------------------------


def test_first_visit_welcomes_and_offers_example_questions(chat_app: AppTest) -> None:
    text = _markdown(chat_app)
    assert "Centre for Promotion of Medical Research" in text, "the welcome names the centre"
    for country in ("Kazakhstan", "Russia", "China"):
        assert country in text, f"the welcome says it knows partnership news from {country}"
    examples = [b for b in chat_app.button if b.key and b.key.startswith("example-")]
    assert len(examples) >= 3, "a few example questions are offered as buttons"
    assert chat_app.chat_input(key="chat_input") is not None, "the chat input is shown"


def test_ask_with_the_local_model_streams_an_answer_with_sources(
    monkeypatch: pytest.MonkeyPatch, shared_index: Path, tmp_path: Path
) -> None:
    _point_app_at(monkeypatch, shared_index, tmp_path / "fb.sqlite3", backend="local")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()

    _ask(at, "What is the mandate of CPMR?")

    answer = _last_answer(at)
    assert not answer.refused, f"the mandate is in the corpus; got a refusal: {answer.text}"
    assert answer.backend, "the answer names the backend that produced it"
    assert answer.citations, "an answer cites its sources"
    text = _markdown(at)
    assert "**Sources**" in text, "the numbered source list is shown under the answer"
    for citation in answer.citations:
        assert render.source_heading(citation) in text, f"source [{citation.n}] is listed"
        assert render.badge(citation.n) in text, f"[{citation.n}] is shown as a badge"
    assert len(_source_buttons(at)) == len(answer.citations), "each source can be opened"
    assert len(at.feedback) == 1, "the answer offers thumbs up/down"
    captions = [c.value for c in at.caption]
    assert (render.EVIDENCE_NOTE in captions) == render.has_evidence_quotes(answer), (
        "the note on verbatim quotes appears exactly when the answer holds fallback quotes"
    )
    assert not at.error, f"no error box for a good question: {[e.value for e in at.error]}"


def test_fallback_quotes_are_shown_apart_from_generated_sentences(chat_app: AppTest) -> None:
    _ask(chat_app, "What is the mandate of CPMR?")
    answer = _last_answer(chat_app)
    quoted = [s for s in answer.sentences if s.origin == "evidence"]
    assert quoted, "the extractive backend answers with verbatim quotes from the evidence"
    text = _markdown(chat_app)
    for sentence in quoted:
        assert f"> {render.escape_markdown(sentence.text)}" in text, (
            f"a verbatim quote is rendered as a block quote: {sentence.text!r}"
        )
    assert render.EVIDENCE_NOTE in [c.value for c in chat_app.caption], (
        "a note explains what the quoted lines are"
    )


def test_example_button_asks_its_question(chat_app: AppTest) -> None:
    button = chat_app.button(key="example-1")
    button.click().run()
    assert not chat_app.exception, f"an example question must not raise: {chat_app.exception}"
    exchanges = _exchanges(chat_app)
    assert [e.question for e in exchanges] == [button.label], "the example's question is asked"
    assert not any(b.key and b.key.startswith("example-") for b in chat_app.button), (
        "the welcome and its examples give way to the conversation"
    )


def test_follow_up_is_read_against_the_conversation_and_new_chat_clears_it(
    chat_app: AppTest,
) -> None:
    _ask(chat_app, "What did the parties sign at the end of the ASRMU 10th anniversary meeting?")
    first = _last_answer(chat_app)
    assert not first.refused, f"the ASRMU agreement is in the corpus: {first.text}"

    _ask(chat_app, "Which advanced technologies does it plan to leverage?")
    follow_up = _last_answer(chat_app)

    assert len(chat_app.chat_message) == 4, "both questions and both answers are shown"
    assert follow_up.standalone_question != follow_up.question, (
        "a follow-up must be rewritten with the conversation's context"
    )
    assert not follow_up.refused, f"the follow-up is answerable in context: {follow_up.text}"
    cited = {c.source for c in follow_up.citations}
    assert cited & {c.source for c in first.citations}, (
        "the follow-up must be answered from the document the conversation is about"
    )

    chat_app.button(key="new_chat").click().run()
    assert _exchanges(chat_app) == [], "New chat empties the conversation"
    assert not chat_app.chat_message[1:], "only the welcome is shown after New chat"


def test_out_of_scope_question_is_refused_helpfully_and_recorded_as_a_gap(
    chat_app: AppTest, tmp_path: Path
) -> None:
    _ask(chat_app, "What is the weather on Mars?")

    answer = _last_answer(chat_app)
    assert answer.refused, f"the corpus says nothing about Mars; got: {answer.text}"
    refusal = [i.value for i in chat_app.info]
    assert refusal, "the refusal is shown as an info box"
    assert "CPMR" in refusal[-1] or "Centre" in refusal[-1], (
        "the refusal says what the assistant can answer"
    )
    assert not _source_buttons(chat_app), "a refusal lists no sources"
    gaps = FeedbackStore(tmp_path / "feedback.sqlite3").list_gaps(10)
    assert [g.question for g in gaps] == ["What is the weather on Mars?"], (
        "every refused question is recorded so staff can see the gap"
    )


def test_thumbs_down_is_stored_with_question_answer_and_citations(
    chat_app: AppTest, tmp_path: Path
) -> None:
    _ask(chat_app, "What is the mandate of CPMR?")
    answer = _last_answer(chat_app)
    assert not answer.refused, "the question must be answered for its citations to be stored"

    chat_app.feedback[0].set_value(0).run()  # 0 = thumbs down in st.feedback("thumbs")

    with sqlite3.connect(tmp_path / "feedback.sqlite3") as conn:
        rows = conn.execute("SELECT question, answer, citations, rating FROM feedback").fetchall()
    assert len(rows) == 1, f"one feedback row is written, got {rows}"
    question, text, citations, rating = rows[0]
    assert (question, text, rating) == (answer.question, answer.text, -1), (
        "the row holds the question, the answer text and the thumbs-down rating"
    )
    assert all(c.chunk_id in citations for c in answer.citations), "citations are stored"

    chat_app.feedback[0].set_value(1).run()
    with sqlite3.connect(tmp_path / "feedback.sqlite3") as conn:
        ratings = [r for (r,) in conn.execute("SELECT rating FROM feedback")]
    assert ratings == [1], "changing to thumbs up updates the same row"


def test_a_source_opens_with_the_quoted_passage_highlighted(chat_app: AppTest) -> None:
    _ask(chat_app, "What is the mandate of CPMR?")
    answer = _last_answer(chat_app)
    citation = answer.citations[0]

    chat_app.button(key=f"source-{_exchanges(chat_app)[-1].id}-{citation.n}").click().run()

    assert not chat_app.exception, f"opening a source must not raise: {chat_app.exception}"
    shown = [h.proto.body for h in chat_app.get("html")]
    assert shown, "the source document is shown"
    assert any("<mark" in body for body in shown), "the quoted passage is highlighted"
    first_words = " ".join(citation.quote.split()[:4])
    assert any(first_words.lower() in body.lower() for body in shown), (
        "the highlighted passage is the quote"
    )


def test_missing_index_shows_what_to_do_instead_of_a_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "corpus").mkdir()
    _point_app_at(monkeypatch, tmp_path, tmp_path / "feedback.sqlite3")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT).run()
    if not at.error:
        _ask(at, "What is CPMR?")
    assert not at.exception, f"no traceback may reach the user: {at.exception}"
    messages = " ".join(e.value for e in at.error)
    assert "index" in messages.lower(), f"the error says the index is missing: {messages}"


def test_embedded_in_an_iframe_keeps_the_essential_controls_in_the_page(
    monkeypatch: pytest.MonkeyPatch, shared_index: Path, tmp_path: Path
) -> None:
    _point_app_at(monkeypatch, shared_index, tmp_path / "feedback.sqlite3")
    at = AppTest.from_file(APP, default_timeout=TIMEOUT)
    at.context["is_embedded"] = True
    at.run()
    assert not at.exception, f"the embedded app must not raise: {at.exception}"
    assert not at.title, "an embedded app uses a compact header instead of a big title"
    assert at.main.button(key="new_chat") is not None, "New chat is in the page, not the sidebar"
    _ask(at, "What is the mandate of CPMR?")
    assert _last_answer(at).citations, "an embedded app answers with sources too"


# --- staff page ------------------------------------------------------------------------------


def _staff(at: AppTest) -> AppTest:
    at.switch_page(STAFF_PAGE).run()
    assert not at.exception, f"the staff page must not raise: {at.exception}"
    return at


def _unlock(at: AppTest, password: str) -> AppTest:
    at.text_input(key="staff_password").set_value(password)
    next(b for b in at.button if b.label == "Unlock").click().run()
    assert not at.exception, f"unlocking must not raise: {at.exception}"
    return at


def _upload(at: AppTest, name: str, data: bytes, mime: str) -> AppTest:
    at.file_uploader[0].set_value((name, data, mime)).run()
    at.button(key="staff_add").click().run()
    assert not at.exception, f"uploading must not raise: {at.exception}"
    return at


def test_staff_page_is_off_without_a_password(chat_app: AppTest) -> None:
    _staff(chat_app)
    info = " ".join(i.value for i in chat_app.info)
    assert "ASSISTANT_ADMIN_PASSWORD" in info, "it says how to switch the staff page on"
    assert not chat_app.file_uploader, "no upload without a password"
    assert not chat_app.text_input, "no password box when no password is set"


def test_staff_page_rejects_a_wrong_password(
    monkeypatch: pytest.MonkeyPatch, shared_index: Path, tmp_path: Path
) -> None:
    _point_app_at(monkeypatch, shared_index, tmp_path / "fb.sqlite3", password=PASSWORD)
    at = _unlock(_staff(AppTest.from_file(APP, default_timeout=TIMEOUT).run()), "guess")
    assert any("not right" in e.value for e in at.error), "a wrong password is refused"
    assert not at.file_uploader, "the staff tools stay locked"


@pytest.fixture
def staff_app(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> AppTest:
    """The unlocked staff page on a private, indexed corpus copy that tests may change."""
    base = _build_index(tmp_path / "site")
    _point_app_at(monkeypatch, base, tmp_path / "fb.sqlite3", password=PASSWORD)
    at = _unlock(_staff(AppTest.from_file(APP, default_timeout=TIMEOUT).run()), PASSWORD)
    assert at.file_uploader, "the right password unlocks the upload"
    return at


def test_uploaded_news_is_indexed_listed_and_answerable(staff_app: AppTest) -> None:
    _upload(staff_app, NEWS_ITEM.name, NEWS_ITEM.read_bytes(), "text/markdown")

    assert staff_app.success, "the upload reports an index summary"
    assert any("1 added" in s.value for s in staff_app.success), (
        f"the summary counts the new file: {[s.value for s in staff_app.success]}"
    )
    listed = staff_app.dataframe[0].value
    assert any("nordhavn" in str(source).lower() for source in listed["File"]), (
        "the new document is listed among the indexed documents"
    )

    staff_app.switch_page(CHAT_PAGE).run()
    _ask(staff_app, "Which university did CPMR sign a memorandum of understanding with in 2026?")
    answer = _last_answer(staff_app)
    assert not answer.refused, f"the uploaded news must be answerable: {answer.text}"
    assert any("nordhavn" in c.source.lower() for c in answer.citations), (
        "the answer cites the uploaded news item"
    )


def test_a_corrupt_pdf_is_rejected_with_the_reason(staff_app: AppTest, tmp_path: Path) -> None:
    _upload(staff_app, "broken.pdf", b"%PDF-1.7\n1 0 obj << /Type /Catalog >>\n%%garbage", "")

    errors = [e.value.replace("\\", "") for e in staff_app.error]  # drop Markdown escapes
    assert any("broken.pdf" in e and "not added" in e and "PDF" in e for e in errors), (
        f"the rejected file is named with the reason: {errors}"
    )
    assert not list((tmp_path / "site" / "corpus").rglob("broken.pdf")), (
        "a rejected file is not kept in the corpus"
    )


def test_staff_can_remove_a_document_after_confirming(staff_app: AppTest, tmp_path: Path) -> None:
    before = list(staff_app.dataframe[0].value["File"])
    target = next(f for f in before if f.startswith("news/"))
    staff_app.selectbox(key="staff_remove_choice").set_value(target).run()
    staff_app.button(key="staff_remove").click().run()
    assert (tmp_path / "site" / "corpus" / target).exists(), "nothing is removed before confirming"

    staff_app.button(key="staff_remove_yes").click().run()

    assert not staff_app.exception, f"removing must not raise: {staff_app.exception}"
    after = list(staff_app.dataframe[0].value["File"])
    assert sorted(after) == sorted(f for f in before if f != target), (
        "the removed document leaves the list and nothing else does"
    )
    assert not (tmp_path / "site" / "corpus" / target).exists(), "its file leaves the corpus"


def test_staff_sees_refused_questions_and_can_reindex(staff_app: AppTest) -> None:
    staff_app.switch_page(CHAT_PAGE).run()
    _ask(staff_app, "What is the weather on Mars?")
    assert _last_answer(staff_app).refused, "the Mars question must be refused"
    _staff(staff_app)

    gaps = staff_app.dataframe[1].value
    assert list(gaps["Question"]) == ["What is the weather on Mars?"], (
        "the refused question is listed for staff"
    )
    assert list(gaps["Why"]) == ["refused"], "the list says why it is a gap"

    staff_app.button(key="staff_reindex").click().run()
    assert not staff_app.exception, f"re-indexing must not raise: {staff_app.exception}"
    summary = " ".join(s.value for s in staff_app.success)
    assert "0 added" in summary and "unchanged" in summary, (
        f"re-indexing an unchanged corpus changes nothing and says so: {summary}"
    )


def test_staff_reindex_while_another_process_writes_says_who_holds_the_index(
    staff_app: AppTest, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import os
    import subprocess
    import sys

    from tests.conftest import ROOT
    from tests.test_locking import HOLDER

    monkeypatch.setenv("ASSISTANT_INDEX_LOCK_TIMEOUT", "0")
    lock = tmp_path / "site" / "chroma" / "index.lock"
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        staff_app.button(key="staff_reindex").click().run()
        assert not staff_app.exception, f"a busy index must not raise: {staff_app.exception}"
        errors = " ".join(e.value for e in staff_app.error)
        assert f"pid {holder.pid}" in errors and "being written" in errors, (
            f"the page says who holds the index: {errors}"
        )
    finally:
        holder.kill()
        holder.wait()


# --- rendering helpers -----------------------------------------------------------------------


def test_document_text_cannot_inject_markdown_or_html() -> None:
    hostile = "[click](http://evil.example) <img src=x onerror=alert(1)> $x$ :red[boo] **b**"
    shown = render.escape_markdown(hostile)
    unescaped = re.findall(r"(?<!\\)[\[\]()<>$*:]", shown)
    assert not unescaped, f"every markup character must be backslash-escaped: {shown!r}"
    assert shown.replace("\\", "").replace("\u2060", "") == hostile, (
        "escaping only adds backslashes (and word joiners that keep addresses unlinked)"
    )
    document, found = render.highlighted_document_html(f"Intro. {hostile} End.", hostile)
    assert found, "the passage is found even with markup characters in it"
    assert "<img" not in document and "&lt;img" in document, "document HTML is escaped"


def test_markers_become_badges_and_evidence_becomes_a_quote() -> None:
    generated = AnswerSentence(
        text="CPMR promotes research.", citations=(1,), verified=True, origin="generated"
    )
    quoted = AnswerSentence(
        text="The mandate is X.", citations=(2,), verified=True, origin="evidence"
    )
    assert render.sentence_markdown(generated).strip().endswith(render.badge(1)), (
        "a sentence's citations are appended as badges"
    )
    assert (
        render.with_badges("A [1] and [2].") == f"A {render.badge(1)} and {render.badge(2)} \\."
    ), "inline markers become badges in place"
    assert render.sentence_markdown(quoted).strip().startswith(">"), (
        "a verbatim fallback quote is rendered as a block quote"
    )


def test_source_heading_shows_number_title_date_kind_and_page() -> None:
    citation = Citation(
        n=3,
        chunk_id="a.pdf#0",
        source="a.pdf",
        title="Report",
        page=2,
        date=dt.date(2024, 7, 6),
        kind="news",
        quote="q",
    )
    heading = render.source_heading(citation)
    for part in (render.badge(3), "**Report**", "6 July 2024", "news", "page 2"):
        assert part in heading, f"{part!r} belongs in the source heading {heading!r}"


def test_a_documents_bracket_number_is_no_badge_and_the_real_badge_stays() -> None:
    from assistant.citations import with_markers

    quoted = AnswerSentence(
        text="As shown in [2], the trial enrolled 40 patients.",
        citations=(1,),
        verified=True,
        origin="evidence",
    )
    shown = render.sentence_markdown(quoted)
    assert render.badge(1) in shown, f"the real citation badge was dropped: {shown!r}"
    assert render.badge(2) not in shown, f"the document's [2] became a badge: {shown!r}"
    assert "\\[2\\]" in shown, f"the document's [2] is shown as written: {shown!r}"
    answer_text = with_markers(quoted.text, [1])
    whole = render.with_badges(answer_text)
    assert render.badge(1) in whole and render.badge(2) not in whole, whole


# GFM's autolink-literal rules (micromark-extension-gfm-autolink-literal and the text-node
# transform of mdast-util-gfm-autolink-literal): what Streamlit turns into links.
_GFM_AUTOLINKS = (
    re.compile(r"(?i)(?:https?://|www\.)[-.\w]+"),
    re.compile(r"[-.\w+]+@[-\w]+(?:\.[-\w]+)+"),
    re.compile(r"(?i)(?:mailto|xmpp):[-.\w+]+@"),
)


@pytest.mark.parametrize(
    "text",
    [
        "Write to cpmr@alatoo.edu.kg for details.",
        "See https://evil.example/login or www.evil.example today.",
        "Mail mailto:staff@evil.example now.",
    ],
)
def test_addresses_in_document_text_are_not_clickable(text: str) -> None:
    shown = render.escape_markdown(text)
    parsed = re.sub(r"\\(.)", r"\1", shown)  # what Markdown's text node holds after escapes
    linked = [m.group(0) for pattern in _GFM_AUTOLINKS for m in pattern.finditer(parsed)]
    assert not linked, f"Streamlit would make these clickable: {linked} in {shown!r}"
    assert parsed.replace("\u2060", "") == text, "only invisible joiners are added"


# --- hostile visitors -------------------------------------------------------------------------


def test_public_users_get_no_error_details() -> None:
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["client"]["showErrorDetails"] == "none", (
        "an uncaught exception must show a generic message, not its type, text or traceback"
    )


@pytest.mark.parametrize(
    "error",
    [
        StoreError("The feedback database /srv/cpmr/.data/feedback.sqlite3 cannot be used."),
        StoreError("cannot reach the Chroma server at http://chroma.internal:8000/api (timeout)"),
        ConfigError("corpus folder /home/cpmr/corpus does not exist: create it"),
    ],
)
def test_error_boxes_show_no_paths_or_store_addresses(error: Exception) -> None:
    from assistant.ui.state import error_markdown

    shown = error_markdown(error, "answering").replace("\\", "")
    for secret in ("/srv/cpmr", "chroma.internal", "8000", "/home/cpmr"):
        assert secret not in shown, f"{secret!r} leaked into the error box: {shown!r}"
    assert "cannot" in shown or "does not exist" in shown, f"the reason is still said: {shown}"


def test_many_parallel_sessions_guessing_the_staff_password_are_locked_out(
    monkeypatch: pytest.MonkeyPatch, shared_index: Path, tmp_path: Path
) -> None:
    """Eight browser sessions guess at once; the failures are counted across sessions, so the
    limit of 3 holds, and then even the right password is refused until the lock ends."""
    import threading

    _point_app_at(monkeypatch, shared_index, tmp_path / "fb.sqlite3", password=PASSWORD)
    monkeypatch.setenv("ASSISTANT_LOGIN_MAX_FAILURES", "3")
    monkeypatch.setenv("ASSISTANT_LOGIN_BACKOFF_S", "0")
    sessions = [_staff(AppTest.from_file(APP, default_timeout=TIMEOUT).run()) for _ in range(8)]
    for at in sessions:
        at.text_input(key="staff_password").set_value("guess")
    barrier = threading.Barrier(len(sessions))
    crashed: list[BaseException] = []

    def guess(at: AppTest) -> None:
        barrier.wait()
        try:
            next(b for b in at.button if b.label == "Unlock").click().run()
        except BaseException as exc:  # reported below with the messages
            crashed.append(exc)

    threads = [threading.Thread(target=guess, args=(at,)) for at in sessions]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not crashed, f"a session's run failed: {crashed}"
    messages = [" ".join(e.value for e in at.error) for at in sessions]
    details = [
        (m, [str(x.value) for x in at.exception]) for m, at in zip(messages, sessions, strict=True)
    ]
    wrong = sum("not right" in m for m in messages)
    locked = sum("Too many wrong passwords" in m for m in messages)
    assert (wrong, locked) == (3, 5), f"3 guesses are judged, 5 refused unheard: {details}"

    late = _unlock(_staff(AppTest.from_file(APP, default_timeout=TIMEOUT).run()), PASSWORD)
    assert any("Too many wrong passwords" in e.value for e in late.error), (
        "during the lock-out even the right password is refused"
    )
    assert not late.file_uploader, "the staff tools stay locked"


def test_staff_actions_and_logins_are_in_the_audit_log(staff_app: AppTest) -> None:
    _upload(staff_app, "seed grants.md", NEWS_ITEM.read_bytes(), "text/markdown")
    notes = " ".join(i.value for i in staff_app.info).replace("\\", "")
    assert "seed grants.md** was saved as **news/seed-grants.md" in notes, (
        f"a cleaned name is reported: {notes}"
    )
    _upload(staff_app, "seed-grants.md", NEWS_ITEM.read_bytes(), "text/markdown")
    notes = " ".join(i.value for i in staff_app.info).replace("\\", "")
    assert "news/seed-grants.md** replaced the earlier file" in notes, (
        f"replacing a file of the same name is said: {notes}"
    )
    audit = next(d.value for d in staff_app.dataframe if "Action" in d.value.columns)
    actions = list(audit["Action"])
    assert actions[:3] == ["upload", "upload", "login"], (
        f"the uploads and the login are logged, newest first: {actions}"
    )
    assert "news/seed-grants.md (replaced)" in list(audit["Detail"]), list(audit["Detail"])


def test_a_refusal_is_not_streamed_but_a_left_out_part_after_an_answer_is() -> None:
    def said(text: str, origin: str, cited: tuple[int, ...] = ()) -> SentenceEvent:
        sentence = AnswerSentence(text=text, citations=cited, verified=True, origin=origin)
        return SentenceEvent(sentence=sentence, text=text)

    class Status:  # stands in for st.status, which only exists inside a running page
        def __init__(self) -> None:
            self.labels: list[str] = []

        def update(self, label: str) -> None:
            self.labels.append(label)

    status = Status()
    partial = [
        StatusEvent(stage="quoting"),
        said("The meeting was held on 6 July 2024.", "evidence", (1,)),
        said("My sources don't say who chaired it.", "refusal"),
    ]
    shown = "".join(_streamed_text(iter(partial), status, []))  # type: ignore[arg-type]
    assert "6 July 2024" in shown and "who chaired it" in shown, shown
    assert status.labels == [render.stage_label("quoting")]
    refused = [said("My sources don't say who chaired it.", "refusal")]
    assert "".join(_streamed_text(iter(refused), status, [])) == ""  # type: ignore[arg-type]
