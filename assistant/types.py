"""The typed objects that flow through the pipeline: documents, chunks, passages, answers.

All are frozen pydantic models that forbid unknown fields, so a typo in a field name fails
loudly and nothing downstream can mutate what upstream produced. Chroma's flat metadata is
derived from `Chunk` in exactly one place (`Chunk.to_metadata` / `Chunk.from_record`).
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Role = Literal["user", "assistant"]


class ChatTurn(_Frozen):
    """One earlier message of a conversation."""

    role: Role
    content: str


class PageSpan(_Frozen):
    """Where a PDF page starts in its document's text, so a chunk can name its page."""

    page: int = Field(ge=1)
    start: int = Field(ge=0)


class Document(_Frozen):
    """A cleaned source document, ready for chunking."""

    doc_id: str = Field(description="Path relative to the corpus root, '/'-separated.")
    source: str = Field(description="Path shown to readers (relative to the corpus root).")
    title: str
    kind: str = Field(description="'centre page', 'news' or 'document'.")
    date: dt.date | None = None
    publisher: str | None = None
    text: str
    pages: tuple[PageSpan, ...] = ()
    content_hash: str = Field(description="Hash of the raw file bytes; drives re-indexing.")

    def page_at(self, offset: int) -> int | None:
        """The PDF page that holds character `offset`, or None for non-paged documents."""
        page = None
        for span in self.pages:
            if span.start > offset:
                break
            page = span.page
        return page


def date_to_int(value: dt.date | None) -> int:
    """Chroma filters compare numbers only, so dates are stored as YYYYMMDD (0 = unknown)."""
    return value.year * 10000 + value.month * 100 + value.day if value else 0


def int_to_date(value: int) -> dt.date | None:
    if not value:
        return None
    return dt.date(value // 10000, value // 100 % 100, value % 100)


class Chunk(_Frozen):
    """A retrievable piece of a document: a run of whole sentences."""

    chunk_id: str = Field(description="Stable id '{doc_id}#{index}'.")
    doc_id: str
    index: int = Field(ge=0)
    text: str
    title: str
    kind: str
    source: str
    date: dt.date | None = None
    publisher: str | None = None
    page: int | None = None
    start: int = Field(ge=0, description="Offset of the chunk in the document text.")
    doc_hash: str
    # Kept out of dumps (API answers, JSON): an index detail, not something a reader sees.
    sentences: tuple[tuple[int, int], ...] | None = Field(
        default=None,
        exclude=True,
        description="(start, end) of each sentence within `text`, found at index time so "
        "that answering need not split retrieved chunks again; None for a chunk of an index "
        "written before they were stored.",
    )

    def embedding_text(self) -> str:
        """What gets embedded and lexically indexed: the title (and date) travel with the text,
        so a passage that says only 'the association' is still found for the association's name."""
        header = self.title
        if self.date:
            header += f" ({self.date.isoformat()})"
        return f"{header}\n{self.text}"

    def to_metadata(self) -> dict[str, str | int]:
        meta: dict[str, str | int] = {
            "doc_id": self.doc_id,
            "index": self.index,
            "title": self.title,
            "kind": self.kind,
            "source": self.source,
            "date": date_to_int(self.date),
            "publisher": self.publisher or "",
            "page": self.page or 0,
            "start": self.start,
            "doc_hash": self.doc_hash,
        }
        if self.sentences is not None:
            meta[SENTENCES_KEY] = _format_spans(self.sentences)
        return meta

    @classmethod
    def from_record(cls, chunk_id: str, text: str, meta: dict[str, object]) -> Chunk:
        """Rebuild a chunk from what the store returns (the inverse of `to_metadata`)."""

        def num(key: str) -> int:
            value = meta.get(key, 0)
            return int(value) if isinstance(value, (int, float, str)) and value != "" else 0

        return cls(
            chunk_id=chunk_id,
            doc_id=str(meta["doc_id"]),
            index=num("index"),
            text=text,
            title=str(meta.get("title", "")),
            kind=str(meta.get("kind", "document")),
            source=str(meta.get("source", "")),
            date=int_to_date(num("date")),
            publisher=str(meta.get("publisher") or "") or None,
            page=num("page") or None,
            start=num("start"),
            doc_hash=str(meta.get("doc_hash", "")),
            sentences=_parse_spans(meta.get(SENTENCES_KEY)),
        )


SENTENCES_KEY = "sentences"
# The packed vectors of a chunk's title and sentences (`assistant.sentences`).
SENTENCE_VECTORS_KEY = "sentence_vectors"


def _format_spans(spans: tuple[tuple[int, int], ...]) -> str:
    # Chroma metadata is flat: "0:49,50:171" is the compact form of the offsets.
    return ",".join(f"{start}:{end}" for start, end in spans)


def _parse_spans(value: object) -> tuple[tuple[int, int], ...] | None:
    """Offsets written by `_format_spans`; None when absent or unreadable (the caller then
    splits the text itself, as for an index written before offsets were stored)."""
    if not isinstance(value, str):
        return None
    if not value:
        return ()
    try:
        pairs = [part.split(":") for part in value.split(",")]
        return tuple((int(start), int(end)) for start, end in pairs)
    except ValueError:
        return None


class RetrievedChunk(_Frozen):
    """A chunk with the evidence of why it was retrieved."""

    chunk: Chunk
    score: float = Field(description="Fused score; higher is better.")
    dense_score: float | None = Field(default=None, description="Cosine similarity, if found.")
    lexical_score: float | None = Field(default=None, description="BM25 score, if found.")


class Citation(_Frozen):
    """A numbered source of an answer, with the verbatim passage that supports it."""

    n: int = Field(ge=1)
    chunk_id: str
    source: str
    title: str
    date: dt.date | None = None
    kind: str = "document"
    page: int | None = None
    quote: str = Field(description="Verbatim sentence(s) of the chunk.")


SentenceOrigin = Literal["generated", "evidence", "built", "assistant", "refusal"]


class AnswerSentence(_Frozen):
    """One sentence of an answer and what backs it."""

    text: str
    citations: tuple[int, ...] = ()
    verified: bool = Field(description="True when checked against the quotes it cites.")
    origin: SentenceOrigin = Field(
        description="'generated' by the model and verified, 'evidence' quoted verbatim, "
        "'built' from the evidence's own words (a lead sentence) and verified, 'assistant' "
        "for the assistant's own words that state no fact (labels, the scope reply), or "
        "'refusal'."
    )


class Timings(_Frozen):
    retrieve_ms: float = 0.0
    generate_ms: float = 0.0
    total_ms: float = 0.0
    first_token_ms: float | None = None


class Answer(_Frozen):
    """What the assistant says, with everything needed to check it."""

    question: str
    standalone_question: str
    text: str = Field(description="Answer text with [n] markers.")
    refused: bool
    sentences: tuple[AnswerSentence, ...] = ()
    citations: tuple[Citation, ...] = ()
    retrieved: tuple[RetrievedChunk, ...] = ()
    timings: Timings = Timings()
    backend: str = ""


class StatusEvent(_Frozen):
    """Progress of an answer in the making ('retrieving', 'generating', ...)."""

    type: Literal["status"] = "status"
    stage: str


class SentenceEvent(_Frozen):
    """A sentence that passed verification, ready to show (streaming happens per sentence)."""

    type: Literal["sentence"] = "sentence"
    sentence: AnswerSentence
    text: str = Field(description="Text to append to what is shown, spacing included.")


class AnswerEvent(_Frozen):
    """The final answer; always the last event of a stream."""

    type: Literal["answer"] = "answer"
    answer: Answer


StreamEvent = StatusEvent | SentenceEvent | AnswerEvent


class FileFailure(_Frozen):
    """A file the indexer could not use, and why."""

    path: str
    reason: str


class SavedUpload(_Frozen):
    """Where a staff upload was stored, and whether that replaced or renamed anything."""

    doc_id: str = Field(description="The stored file's document id, e.g. 'news/a-b.md'.")
    given_name: str = Field(description="The file name as uploaded.")
    replaced: bool = Field(description="An earlier file of the same name was replaced.")

    @property
    def renamed(self) -> bool:
        return self.doc_id.rsplit("/", 1)[-1] != self.given_name


class PhaseTime(_Frozen):
    """Where part of a run's time went: wall seconds, and the CPU seconds of every thread of
    the process in that phase (None where they cannot be told apart from another phase's)."""

    name: str
    seconds: float
    cpu_seconds: float | None = None


class IndexReport(_Frozen):
    """What one indexing run did."""

    added: tuple[str, ...] = ()
    updated: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()
    unchanged: tuple[str, ...] = ()
    failures: tuple[FileFailure, ...] = ()
    chunks_written: int = 0
    chunks_total: int = 0
    seconds: float = 0.0
    rebuilt: bool = False
    notes: tuple[str, ...] = Field(default=(), description="Advice, e.g. how to upgrade.")
    phases: tuple[PhaseTime, ...] = Field(
        default=(), description="Where the run's time went, in the order the phases ran."
    )

    @property
    def ok(self) -> bool:
        return not self.failures


class DocumentInfo(_Frozen):
    """An indexed document as listed on the staff page."""

    doc_id: str
    source: str
    title: str
    kind: str
    date: dt.date | None = None
    chunks: int
