"""BM25 over the chunks in the store, derived from the store's own contents.

The lexical index is never a second source of truth: it is rebuilt from `VectorStore.all_chunks`
whenever the store's revision changes, so it cannot drift from what Chroma holds. bm25s keeps
eager sparse scores, so a query stays in the low milliseconds at 100k chunks where a
pure-Python scorer (rank_bm25) scans every chunk.
"""

from __future__ import annotations

import logging
import math
from collections import Counter
from collections.abc import Sequence

import bm25s
import numpy as np

from assistant.text import terms
from assistant.types import Chunk

# bm25s logs every index build at DEBUG through its own handler; that is not news to a user.
logging.getLogger("bm25s").setLevel(logging.WARNING)


class LexicalIndex:
    """An immutable BM25 index over a fixed list of chunks.

    Stemming every chunk is most of the build (at 100k chunks, tens of seconds on 2 cores);
    the BM25 matrix itself takes a few. So an index built after a change reuses the terms of
    the `previous` index for every chunk whose text did not change, and only new or changed
    chunks are stemmed again: a weekly re-index that adds a few news items rebuilds in seconds.
    """

    def __init__(self, chunks: Sequence[Chunk], *, previous: LexicalIndex | None = None) -> None:
        self.chunks = list(chunks)
        known = previous._terms if previous is not None else {}
        # chunk id -> (hash of the indexed text, its terms); hashes stay in this process.
        self._terms: dict[str, tuple[int, list[str]]] = {}
        tokenized: list[list[str]] = []
        for chunk in self.chunks:
            text = chunk.embedding_text()
            digest = hash(text)
            cached = known.get(chunk.chunk_id)
            tokens = cached[1] if cached is not None and cached[0] == digest else terms(text)
            self._terms[chunk.chunk_id] = (digest, tokens)
            tokenized.append(tokens)
        self._document_frequency: Counter[str] = Counter()
        for tokens in tokenized:
            self._document_frequency.update(set(tokens))
        self._openings: dict[str, Chunk] = {}
        for chunk in self.chunks:
            first = self._openings.get(chunk.doc_id)
            if first is None or chunk.index < first.index:
                self._openings[chunk.doc_id] = chunk
        self._bm25 = bm25s.BM25()
        if self.chunks:
            self._bm25.index(tokenized, show_progress=False)

    def __len__(self) -> int:
        return len(self.chunks)

    def opening_chunk(self, doc_id: str) -> Chunk | None:
        """The first chunk of a document (its headline and lead), if it is indexed."""
        return self._openings.get(doc_id)

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency of a stemmed term; unseen terms score highest."""
        n = max(len(self.chunks), 1)
        df = self._document_frequency.get(term, 0)
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        """The best `k` chunks with a positive BM25 score, best first."""
        query_terms = terms(query)
        if not self.chunks or not query_terms:
            return []
        scores = np.asarray(self._bm25.get_scores(query_terms))
        k = min(k, len(self.chunks))
        top = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(top, key=lambda i: -scores[i])
        return [(self.chunks[i], float(scores[i])) for i in ranked if scores[i] > 0]
