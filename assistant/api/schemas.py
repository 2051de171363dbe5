"""The bodies of the HTTP API as pydantic models, so that FastAPI's OpenAPI schema shows them.

The answer models describe, field for field, what `assistant.serialization.answer_json`
builds (the `ask --json` contract); the API returns that dictionary and FastAPI validates it
against `AnswerOut`, so the two cannot drift apart silently.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from assistant.types import ChatTurn, Role, SentenceOrigin


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class HistoryTurn(_Body):
    """One earlier message of the conversation, oldest first."""

    role: Role
    content: str = Field(max_length=100_000)

    def to_turn(self) -> ChatTurn:
        return ChatTurn(role=self.role, content=self.content)


class ChatRequest(_Body):
    """A visitor's message with the conversation so far."""

    message: str = Field(description="The question, at most ASSISTANT_MAX_QUESTION_CHARS long.")
    history: list[HistoryTurn] = Field(
        default_factory=list, description="Earlier turns, oldest first (for follow-ups)."
    )
    lang: Literal["en", "ru", "ky"] | None = Field(
        default=None,
        description="The visitor's interface language (logged; answers quote the sources).",
    )


class CitationOut(_Body):
    n: int = Field(description="The number the answer's [n] markers use.")
    source: str = Field(description="Document path relative to the corpus.")
    title: str
    date: str | None = Field(description="Publication date, yyyy-mm-dd, when known.")
    quote: str = Field(description="The passage quoted verbatim.")
    chunk_id: str


class SentenceOut(_Body):
    text: str
    citations: list[int]
    verified: bool
    origin: SentenceOrigin


class RetrievedOut(_Body):
    chunk_id: str
    source: str
    score: float
    text: str


class TimingsOut(_Body):
    retrieve_ms: float
    generate_ms: float
    total_ms: float
    first_token_ms: float | None


class AnswerOut(_Body):
    """The answer object of `python -m assistant ask --json`."""

    question: str
    answer: str = Field(description="Answer text with [n] markers.")
    refused: bool = Field(description="True when the sources do not hold the answer.")
    citations: list[CitationOut]
    sentences: list[SentenceOut]
    retrieved: list[RetrievedOut]
    timings: TimingsOut
    backend: str


class HealthOut(_Body):
    status: Literal["ready", "loading", "unavailable"]
    models: bool = Field(description="The embedding (and chat) models are loaded.")
    store: bool = Field(description="The document store answered just now.")
    busy: int = Field(description="Answers running or waiting in this process.")
    capacity: int = Field(description="Most answers running or waiting before 503.")


class ErrorDetail(_Body):
    code: str = Field(description="A stable, machine-readable reason, e.g. 'rate_limited'.")
    message: str = Field(description="What went wrong and what to do, for people.")
    request_id: str = Field(description="Quote this when reporting a problem; it is logged.")


class ErrorOut(_Body):
    error: ErrorDetail
