"""Hybrid retrieval: the dense (Chroma) and lexical (BM25) rankings of one store, fused.

Dense search finds paraphrases; BM25 finds names, numbers and rare words that a 384-dim
embedding blurs. Reciprocal rank fusion (`fusion.py`) combines them. A question in another
script is ranked by the multilingual encoder (`crosslingual.py`) instead of MiniLM.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from assistant.config import RetrievalSettings
from assistant.embeddings import Embedder
from assistant.errors import IndexNotBuiltError
from assistant.retrieval.crosslingual import CrossLingualScorer
from assistant.retrieval.filters import ChunkFilter
from assistant.retrieval.fusion import fuse
from assistant.retrieval.lexical import LexicalIndex
from assistant.retrieval.word_vectors import WordTable, vocabulary
from assistant.store import VectorStore
from assistant.text import is_latin
from assistant.types import Chunk, RetrievedChunk

log = logging.getLogger(__name__)


class HybridRetriever:
    """Dense + BM25 retrieval over one store, fused with weighted reciprocal rank fusion."""

    def __init__(
        self,
        store: VectorStore,
        embedder: Embedder,
        settings: RetrievalSettings,
        crosslingual: CrossLingualScorer | None = None,
        lexical_dir: Path | None = None,
        words_dir: Path | None = None,
    ) -> None:
        """`lexical_dir`: where BM25 indexes are saved and loaded, keyed by store revision
        (see `lexical`); None builds in memory only. `words_dir`: where the corpus word
        vectors are saved and loaded likewise (see `word_vectors`); None: no table, answering
        embeds the words it needs."""
        self.store = store
        self.lexical_dir = lexical_dir
        self.words_dir = words_dir
        self.embedder = embedder
        self.settings = settings
        self.crosslingual = crosslingual
        self._lexical: LexicalIndex | None = None
        self._revision: str | None = None
        self._lock = threading.Lock()
        # The word table and the BM25 index it was made for (the same chunks, same revision).
        self._words: tuple[LexicalIndex, WordTable | None] | None = None
        self._words_lock = threading.Lock()
        self._words_building: LexicalIndex | None = None
        self._words_thread: threading.Thread | None = None

    def refresh(self) -> None:
        """Make the next query rebuild the lexical index from the store (reusing the terms
        of every chunk that did not change)."""
        with self._lock:
            self._revision = None

    def lexical_index(self) -> LexicalIndex:
        """The BM25 index for the store's current revision: the one in memory, else the one
        saved for this revision, else built (reusing the terms of unchanged chunks) and saved."""
        return self._current()[0]

    def _current(self) -> tuple[LexicalIndex, str]:
        """The BM25 index (see `lexical_index`) and the revision it was made for."""
        revision = self.store.revision()
        with self._lock:
            if self._lexical is None or revision != self._revision:
                self._lexical = self._load_or_build(revision)
                self._revision = revision
            return self._lexical, revision

    def _load_or_build(self, revision: str) -> LexicalIndex:
        started = time.perf_counter()
        chunks = self.store.all_chunks()
        root = self.lexical_dir
        if root is not None:
            loaded = LexicalIndex.load(root, revision, chunks)
            if loaded is not None:
                log.info("BM25 index loaded (%d chunks, %.1f s)", len(chunks), _since(started))
                return loaded
        previous = self._lexical
        built = LexicalIndex(
            chunks,
            previous=previous
            if previous is not None or root is None
            else LexicalIndex.saved_terms(root),
        )
        if root is not None:
            built.save(root, revision)
        log.info("BM25 index built (%d chunks, %.1f s)", len(chunks), _since(started))
        return built

    def word_table(self, *, wait: bool = False) -> WordTable | None:
        """The corpus word vectors of the store's current revision: the ones in memory, else
        the ones saved for it, else made (reusing every row of the newest saved table) and
        saved. None without `words_dir`, or while they are being made: with `wait` the caller
        makes them (a writer, after indexing); without it (a question) they are made in a
        background thread and the caller embeds the words it needs meanwhile, which gives the
        same vectors."""
        root = self.words_dir
        if root is None:
            return None
        lexical, revision = self._current()
        with self._words_lock:
            if self._words is not None and self._words[0] is lexical:
                return self._words[1]
            loaded = WordTable.load(
                root, revision, lexical.fingerprint(), self._model_key(), self._embed
            )
            if loaded is not None or not lexical.chunks:
                self._words = (lexical, loaded)
                return loaded
            if not wait:
                if self._words_building is not lexical:
                    self._words_building = lexical
                    self._words_thread = threading.Thread(
                        target=self._make_words,
                        args=(lexical, revision),
                        name="word-vectors",
                        daemon=True,
                    )
                    self._words_thread.start()
                return None
        return self._make_words(lexical, revision)

    def _make_words(self, lexical: LexicalIndex, revision: str) -> WordTable | None:
        root = self.words_dir
        assert root is not None
        started = time.perf_counter()
        try:
            previous = self._words[1] if self._words is not None else None
            table = WordTable.make(
                root,
                revision,
                lexical.fingerprint(),
                vocabulary(c.text for c in lexical.chunks),
                self._embed,
                self._model_key(),
                previous=previous or WordTable.newest(root, self._model_key()),
            )
        except Exception:
            # A question never fails for want of the table: it embeds the words itself.
            log.exception("making the word vectors failed")
            table = None
        with self._words_lock:
            self._words = (lexical, table)
            if self._words_building is lexical:
                self._words_building = None
        log.info("word vectors made (%.1f s)", _since(started))
        return table

    def _model_key(self) -> str:
        return f"{self.embedder.model_id}/{self.embedder.backend}"

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.embedder.embed_array(texts)

    def opening_chunk(self, doc_id: str) -> Chunk | None:
        """The first chunk of a document (its headline and lead), from the store's contents."""
        return self.lexical_index().opening_chunk(doc_id)

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
        n = self.settings.candidates
        dense = self.store.query(
            self.embedder.embed_query(query), n, where.to_chroma() if where else None
        )
        # Counted only when nothing came back: a count per question is a round trip to a
        # Chroma server for an answer that is almost always "not empty".
        if not dense and self.store.is_empty():
            raise IndexNotBuiltError(
                "the document index is empty: run `python index.py` to index the corpus"
            )
        lexical = self.lexical_index().search(query, n * 4 if where else n)
        if where:
            lexical = [(c, s) for c, s in lexical if where.matches(c)][:n]
        if self.crosslingual is not None and not is_latin(query):
            # MiniLM cannot rank a Cyrillic question; the multilingual encoder ranks the
            # candidates both searches found instead.
            dense = self.crosslingual.rank(query, [c for c, _ in dense + lexical])[:n]
        return fuse(
            dense,
            lexical,
            dense_weight=self.settings.dense_weight,
            lexical_weight=self.settings.lexical_weight,
            rrf_k=self.settings.rrf_k,
        )[:k]


def _since(started: float) -> float:
    return time.perf_counter() - started
