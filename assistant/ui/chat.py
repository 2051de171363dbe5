"""The chat page: ask, watch the answer stream in, check every sentence against its sources.

The conversation lives in `st.session_state` as a list of `Exchange`s (question plus answer or
error) and is replayed with `st.chat_message` on every run. A new question is answered by
consuming `service.ask_stream`: status events drive a status line, verified sentences stream
into the message with `st.write_stream`, and the final `Answer` replaces the streamed text
with its rendered form, numbered sources, a control that opens each source document with the
quoted passage highlighted, and thumbs up/down stored through `assistant.feedback`.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence

import streamlit as st
from pydantic import BaseModel, ConfigDict, Field
from streamlit.elements.lib.mutable_status_container import StatusContainer

from assistant import service
from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.feedback import Rating
from assistant.types import (
    Answer,
    AnswerEvent,
    ChatTurn,
    Citation,
    SentenceEvent,
    StatusEvent,
    StreamEvent,
)
from assistant.ui import render
from assistant.ui.state import (
    current_settings,
    error_markdown,
    get_feedback_store,
    get_resources,
    show_error,
)

log = logging.getLogger(__name__)

MESSAGES_KEY = "chat_exchanges"
PENDING_KEY = "chat_pending_question"

WELCOME = (
    "Hello! I answer questions about the **Centre for Promotion of Medical Research (CPMR)** "
    "of Ala-Too International University — its mission, its mandate and what it offers — and "
    "about **news of partnerships between medical universities** in Kazakhstan, Russia and "
    "China. Every answer names the documents it comes from, so you can check it."
)
EXAMPLES: tuple[str, ...] = (
    "What does CPMR offer?",
    "What is the mandate of CPMR?",
    "What did the Association of Sino-Russian Medical Universities agree on?",
)
THUMBS_TO_RATING: dict[int, Rating] = {1: 1, 0: -1}


class Exchange(BaseModel):
    """One question of the conversation and what came back: an answer or an error message."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)
    question: str
    answer: Answer | None = None
    error: str | None = None


def _exchanges() -> list[Exchange]:
    exchanges: list[Exchange] = st.session_state.setdefault(MESSAGES_KEY, [])
    return exchanges


def history_of(exchanges: Sequence[Exchange]) -> list[ChatTurn]:
    """The turns a follow-up question is read against; failed exchanges are left out."""
    turns: list[ChatTurn] = []
    for exchange in exchanges:
        if exchange.answer is not None:
            turns.append(ChatTurn(role="user", content=exchange.question))
            turns.append(ChatTurn(role="assistant", content=exchange.answer.text))
    return turns


# --- sources -------------------------------------------------------------------------------


def _document_text(resources: service.Resources, citation: Citation) -> str | None:
    """The cited document's text as indexing read it, or None if the file is gone or unreadable."""
    doc_id = citation.chunk_id.rsplit("#", 1)[0]
    try:
        document = service.get_document(doc_id, resources=resources)
    except AssistantError as exc:
        log.warning("cannot open source %s: %s", doc_id, exc)
        return None
    return document.text if document else None


@st.dialog("Source document", width="large")
def _open_source(citation: Citation) -> None:
    st.markdown(render.source_heading(citation))
    st.caption(f"File: {render.escape_markdown(citation.source)}")
    text = _document_text(get_resources(current_settings()), citation)
    if text is None:
        st.warning(
            "This document is no longer in the corpus (it may have been removed or renamed "
            "since it was indexed). The quoted passage was:",
            icon=":material/warning:",
        )
        st.markdown(render.quote_markdown(citation.quote))
        return
    excerpt = render.highlighted_excerpt_html(text, citation.quote)
    if excerpt is None:
        st.info(
            "The quoted passage could not be found in the current file, which may have "
            "changed since it was indexed. The quoted passage was:",
            icon=":material/info:",
        )
        st.markdown(render.quote_markdown(citation.quote))
    else:
        st.markdown("**The quoted passage, highlighted in its context**")
        st.html(excerpt)
    document, _ = render.highlighted_document_html(text, citation.quote)
    with st.expander("The whole document", expanded=excerpt is None):
        st.html(document)


def _render_sources(exchange_id: str, citations: Sequence[Citation]) -> None:
    st.markdown("**Sources**")
    for citation in citations:
        with st.container(border=True):
            st.markdown(render.source_heading(citation))
            st.markdown(render.quote_markdown(citation.quote))
            if st.button(
                "Open the source",
                key=f"source-{exchange_id}-{citation.n}",
                icon=":material/article:",
                type="tertiary",
                help="Show the whole document with this passage highlighted",
            ):
                _open_source(citation)


# --- one answer ----------------------------------------------------------------------------


def _on_feedback(exchange_id: str) -> None:
    exchange = next((e for e in _exchanges() if e.id == exchange_id), None)
    if exchange is None or exchange.answer is None:
        return
    value = st.session_state.get(f"feedback-{exchange_id}")
    rating = THUMBS_TO_RATING.get(value) if isinstance(value, int) else None
    try:
        get_feedback_store(current_settings()).rate(exchange_id, exchange.answer, rating)
    except AssistantError as exc:
        log.warning("feedback not stored: %s", exc)
        st.toast("Your feedback could not be saved; please try again later.")
        return
    if rating is not None:
        st.toast("Thank you for the feedback.", icon=":material/thumb_up:")


def _render_answer(exchange: Exchange, answer: Answer) -> None:
    if answer.refused:
        st.info(render.escape_markdown(answer.text), icon=":material/travel_explore:")
    else:
        st.markdown(render.answer_markdown(answer))
        if render.has_evidence_quotes(answer):
            st.caption(render.EVIDENCE_NOTE)
        if answer.citations:
            _render_sources(exchange.id, answer.citations)
    st.feedback(
        "thumbs",
        key=f"feedback-{exchange.id}",
        on_change=_on_feedback,
        args=(exchange.id,),
    )


def _render_exchange(exchange: Exchange) -> None:
    with st.chat_message("user"):
        st.markdown(render.escape_markdown(exchange.question))
    with st.chat_message("assistant"):
        if exchange.answer is not None:
            _render_answer(exchange, exchange.answer)
        elif exchange.error:
            st.error(exchange.error, icon=":material/error:")


def _streamed_text(
    events: Iterator[StreamEvent], status: StatusContainer, out: list[Answer]
) -> Iterator[str]:
    """The Markdown pieces of the verified sentences, updating the status line on the way.

    A refusal is shown whole once it has arrived (in its own box), so its sentences are not
    streamed; a refusal sentence after an answer's own (the part of a question in two parts
    that the sources leave out) belongs to the answer and is."""
    answering = False
    for event in events:
        if isinstance(event, StatusEvent):
            status.update(label=render.stage_label(event.stage))
        elif isinstance(event, SentenceEvent):
            answering = answering or event.sentence.origin != "refusal"
            if answering:
                yield render.sentence_markdown(event.sentence)
        elif isinstance(event, AnswerEvent):
            out.append(event.answer)


def _close(events: Iterator[StreamEvent]) -> None:
    close = getattr(events, "close", None)
    if callable(close):
        close()


def _answer_new(question: str, settings: Settings) -> Exchange:
    """Answer `question` in a new assistant message, streaming it; returns the exchange."""
    history = history_of(_exchanges())
    exchange = Exchange(question=question)
    with st.chat_message("assistant"):
        status_slot = st.empty()
        status = status_slot.status("Searching the documents…", state="running")
        body = st.empty()
        answers: list[Answer] = []
        try:
            resources = get_resources(settings)
            events = service.ask_stream(question, history=history, resources=resources)
            try:
                with body.container():
                    st.write_stream(_streamed_text(events, status, answers))
            finally:
                # A rerun mid-answer (the visitor clicked elsewhere) must still end the
                # generation at once, releasing the chat model for other sessions.
                _close(events)
            if not answers:
                raise RuntimeError("the answer stream ended without an answer")
        except Exception as exc:  # the edge: nothing may reach the user as a traceback
            status_slot.empty()
            message = error_markdown(exc, "answering your question")
            with body.container():
                st.error(message, icon=":material/error:")
            return exchange.model_copy(update={"error": message})
        status_slot.empty()
        exchange = exchange.model_copy(update={"answer": answers[0]})
        with body.container():
            _render_answer(exchange, answers[0])
    if answers[0].refused:
        _record_refusal(exchange.id, answers[0], settings)
    return exchange


def _record_refusal(exchange_id: str, answer: Answer, settings: Settings) -> None:
    try:
        get_feedback_store(settings).record_answer(exchange_id, answer)
    except AssistantError as exc:  # a lost gap record must not break the chat
        log.warning("refusal not recorded: %s", exc)


# --- the page ------------------------------------------------------------------------------


def _ask_example(question: str) -> None:
    st.session_state[PENDING_KEY] = question


def _new_chat() -> None:
    st.session_state[MESSAGES_KEY] = []


def _render_welcome() -> None:
    with st.chat_message("assistant"):
        st.markdown(WELCOME)
        st.markdown("Try one of these, or type your own question below:")
        with st.container(horizontal=True, gap="small"):
            for i, example in enumerate(EXAMPLES):
                st.button(
                    example,
                    key=f"example-{i}",
                    on_click=_ask_example,
                    args=(example,),
                    icon=":material/help:",
                )


def _render_header() -> None:
    with st.container(horizontal=True, vertical_alignment="center"):
        if st.context.is_embedded:
            st.markdown("#### CPMR Assistant", width="stretch")
        else:
            st.title("CPMR Assistant", anchor=False, width="stretch")
        st.button(
            "New chat",
            key="new_chat",
            icon=":material/add_comment:",
            on_click=_new_chat,
            help="Start a new conversation; follow-up questions will not see the earlier ones",
        )


def render_chat_page() -> None:
    """The whole chat page (called by its page script on every run)."""
    exchanges = _exchanges()
    pending = st.session_state.pop(PENDING_KEY, None)
    _render_header()
    try:
        settings = current_settings()
        get_resources(settings)  # first visit: load with a visible spinner, before any question
    except Exception as exc:  # the edge: show what to do instead of a traceback
        show_error(exc, "starting the assistant")
        return
    # Read the input first (it stays pinned to the bottom), so the welcome is not drawn in the
    # very run that answers the first question.
    typed = st.chat_input(
        "Ask about CPMR or medical-university partnerships…",
        key="chat_input",
        max_chars=settings.limits.max_question_chars,
    )
    question = typed or pending
    if not exchanges and not question:
        _render_welcome()
    for exchange in exchanges:
        _render_exchange(exchange)
    if question:
        with st.chat_message("user"):
            st.markdown(render.escape_markdown(question))
        exchanges.append(_answer_new(question, settings))
