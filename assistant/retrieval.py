"""Hybrid retrieval: dense (Chroma) and lexical (BM25) rankings fused, plus follow-up rewriting.

Dense search finds paraphrases; BM25 finds names, numbers and rare words that a 384-dim
embedding blurs. Reciprocal rank fusion combines them without calibrating two unrelated score
scales. A follow-up question ("When was it founded?") is made standalone from the conversation
before either retriever sees it.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from assistant.config import RetrievalSettings
from assistant.embeddings import Embedder
from assistant.errors import IndexNotBuiltError
from assistant.lexical import LexicalIndex
from assistant.store import VectorStore
from assistant.text import STOPWORDS, words
from assistant.types import ChatTurn, Chunk, RetrievedChunk, date_to_int

# Words that only make sense with an antecedent from earlier in the conversation.
_ANAPHORA = frozenset(
    (
        "it its it's they them their theirs this that these those he him his she her hers "
        "there here same such else former latter"
    ).split()
)
_QUESTION_WORDS = frozenset("what which who whom whose when where why how".split())
_HISTORY_CHARS = 400


_SECOND_QUESTION_RE = re.compile(
    r"(?:,|;)?\s+and\s+(?=(?:what|which|who|whom|whose|when|where|why|how)\b)", re.IGNORECASE
)


_LATEST_RE = re.compile(
    r"\b(latest|newest|most recent|recent|last)\b[^?]*\b(news|announcements?|updates?|"
    r"articles?|events?|agreements?|partnerships?)\b|\bwhat'?s new\b",
    re.IGNORECASE,
)


def asks_for_latest(question: str) -> bool:
    """True for questions after the newest news ("What is the latest news about CPMR?")."""
    return bool(_LATEST_RE.search(question))


def split_question(question: str) -> list[str]:
    """The parts of a question that asks two things ("Which conference was held ..., and what
    did the parties sign?"); a single question comes back alone."""
    parts = [p.strip(" ,;") for p in _SECOND_QUESTION_RE.split(question)]
    if len(parts) > 1 and all(len(words(p)) >= 3 for p in parts):
        return parts
    return [question]


def needs_context(question: str) -> bool:
    """True when a question leans on earlier turns: it has an anaphor or almost no content."""
    tokens = words(question)
    if any(t in _ANAPHORA for t in tokens):
        return True
    content = [t for t in tokens if t not in STOPWORDS and t not in _QUESTION_WORDS]
    return len(content) < 2


def standalone_question(question: str, history: Sequence[ChatTurn]) -> str:
    """The question with enough of the conversation attached to be searched on its own.

    The newest user turn names the topic and the assistant's reply to it often names the
    entity ("a Memorandum ... with a Chinese high-tech company"), so both are appended, the
    reply cut short so that it cannot outweigh the question itself.
    """
    if not history or not needs_context(question):
        return question
    last_user = next((t.content for t in reversed(history) if t.role == "user"), "")
    last_reply = next((t.content for t in reversed(history) if t.role == "assistant"), "")
    reply = re.sub(r"\s*\[\d+\]", "", last_reply)[:_HISTORY_CHARS]
    context = " ".join(part for part in (last_user, reply) if part)
    return f"{question} (context: {context})" if context else question


@dataclass(frozen=True)
class ChunkFilter:
    """Restricts retrieval by kind and date; one definition serves Chroma and BM25 alike."""

    kind: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    def to_chroma(self) -> dict[str, Any] | None:
        clauses: list[dict[str, Any]] = []
        if self.kind:
            clauses.append({"kind": self.kind})
        if self.date_from:
            clauses.append({"date": {"$gte": date_to_int(self.date_from)}})
        if self.date_to:
            clauses.append({"date": {"$lte": date_to_int(self.date_to)}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}

    def matches(self, chunk: Chunk) -> bool:
        if self.kind and chunk.kind != self.kind:
            return False
        if self.date_from and (not chunk.date or chunk.date < self.date_from):
            return False
        return not (self.date_to and (not chunk.date or chunk.date > self.date_to))


class HybridRetriever:
    """Dense + BM25 retrieval over one store, fused with weighted reciprocal rank fusion."""

    def __init__(self, store: VectorStore, embedder: Embedder, settings: RetrievalSettings) -> None:
        self.store = store
        self.embedder = embedder
        self.settings = settings
        self._lexical: LexicalIndex | None = None
        self._revision: str | None = None
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Forget the lexical index; the next query rebuilds it from the store."""
        with self._lock:
            self._lexical = None
            self._revision = None

    def lexical_index(self) -> LexicalIndex:
        """The BM25 index for the store's current revision (rebuilt when the store changed)."""
        revision = self.store.revision()
        with self._lock:
            if self._lexical is None or revision != self._revision:
                self._lexical = LexicalIndex(self.store.all_chunks())
                self._revision = revision
            return self._lexical

    def opening_chunk(self, doc_id: str) -> Chunk | None:
        """The first chunk of a document (its headline and lead), from the store's contents."""
        chunks = [c for c in self.lexical_index().chunks if c.doc_id == doc_id]
        return min(chunks, key=lambda c: c.index) if chunks else None

    def retrieve(
        self, query: str, *, k: int | None = None, where: ChunkFilter | None = None
    ) -> list[RetrievedChunk]:
        """The `k` best chunks for `query`, best first.

        Args:
            query: a standalone question (see `standalone_question`).
            k: how many to return; defaults to the `top_k` setting.
            where: a metadata filter, applied to both rankings.

        Raises:
            IndexNotBuiltError: the store holds nothing yet.
        """
        k = k or self.settings.top_k
        if self.store.is_empty():
            raise IndexNotBuiltError(
                "the document index is empty: run `python index.py` to index the corpus"
            )
        n = self.settings.candidates
        dense = self.store.query(
            self.embedder.embed_query(query), n, where.to_chroma() if where else None
        )
        lexical = self.lexical_index().search(query, n * 4 if where else n)
        if where:
            lexical = [(c, s) for c, s in lexical if where.matches(c)][:n]
        return self._fuse(dense, lexical)[:k]

    def _fuse(
        self, dense: list[tuple[Chunk, float]], lexical: list[tuple[Chunk, float]]
    ) -> list[RetrievedChunk]:
        rrf_k = self.settings.rrf_k
        scores: dict[str, float] = {}
        chunks: dict[str, Chunk] = {}
        dense_scores: dict[str, float] = {}
        lexical_scores: dict[str, float] = {}
        for weight, ranking, seen in (
            (self.settings.dense_weight, dense, dense_scores),
            (self.settings.lexical_weight, lexical, lexical_scores),
        ):
            for rank, (chunk, score) in enumerate(ranking):
                chunks[chunk.chunk_id] = chunk
                seen[chunk.chunk_id] = score
                scores[chunk.chunk_id] = scores.get(chunk.chunk_id, 0.0) + weight / (
                    rrf_k + rank + 1
                )
        ordered = sorted(scores, key=lambda cid: -scores[cid])
        return [
            RetrievedChunk(
                chunk=chunks[cid],
                score=scores[cid],
                dense_score=dense_scores.get(cid),
                lexical_score=lexical_scores.get(cid),
            )
            for cid in ordered
        ]
