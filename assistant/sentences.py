"""Sentence vectors stored with each chunk at index time, so answering only takes dot products.

Answering scores every sentence of the retrieved chunks by its meaning similarity to the
question (and the similarity of its document's title). Two ways to make a sentence's vector,
each with its own fitted scorer:

- on its own (the default): each distinct title and sentence is encoded alone, about 0.8x
  more encoding than the chunks themselves;
- late chunking (ASSISTANT_INDEX_LATE_CHUNKING): pooled from its chunk's own forward pass
  (`assistant.pooling`), the mean of the token vectors inside the sentence, read in the
  context of the chunk, so storing them costs the indexer no second encode. The chunk's
  vector comes from the same pass and is the one it always had. A title is encoded once on its
  own (per distinct title); a sentence wholly past the model's window (truncated away) is
  encoded on its own too, and counted.

`embed_chunks` serves the indexer, the scorer's training (`assistant.answering.training`) and
answering over an index that holds no such vectors (`sentence_vectors`), so all three see the
same vectors. The store keeps them in the chunk's metadata: the title's vector first, then
one per sentence of `Chunk.sentences`, as float16 (half the size of float32; the cosines move
by about 1e-4) in base64, since Chroma metadata holds strings, numbers and booleans.
"""

from __future__ import annotations

import base64
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from assistant.text import Span, split_sentences
from assistant.types import SENTENCE_VECTORS_KEY, Chunk

__all__ = [
    "SENTENCE_VECTORS_KEY",
    "Pooled",
    "chunk_sentences",
    "embed_chunks",
    "sentence_key",
    "sentence_vectors",
    "stored_vectors",
]
_DTYPE = np.dtype("<f2")
log = logging.getLogger(__name__)


def chunk_sentences(chunk: Chunk) -> list[Span]:
    """The chunk's sentences: from the offsets found at index time, or split now for a chunk
    of an index written before they were stored."""
    if chunk.sentences is None:
        return split_sentences(chunk.text)
    return [Span(start, end, chunk.text[start:end]) for start, end in chunk.sentences]


def sentence_texts(chunk: Chunk) -> list[str]:
    """What gets a stored vector: the title, then each sentence (answering embeds the same)."""
    return [chunk.title, *(span.text for span in chunk_sentences(chunk))]


def pack(vectors: np.ndarray) -> str:
    return base64.b64encode(np.asarray(vectors, dtype=_DTYPE).tobytes()).decode("ascii")


def unpack(value: object, dimension: int) -> np.ndarray | None:
    """The (rows, dimension) float32 vectors of `pack`, or None when `value` is not a
    well-formed packing (absent: a chunk of an older index)."""
    if not isinstance(value, str) or not value:
        return None
    try:
        raw = base64.b64decode(value, validate=True)
    except ValueError:
        return None
    if len(raw) % (_DTYPE.itemsize * dimension):
        return None
    return np.frombuffer(raw, dtype=_DTYPE).reshape(-1, dimension).astype(np.float32)


class SpanEmbedder(Protocol):
    """What pooling needs of `assistant.embeddings.Embedder`."""

    @property
    def dimension(self) -> int: ...

    def embed(
        self, texts: Sequence[str], *, show_progress: bool = False, cache: bool = True
    ) -> list[list[float]]: ...

    def embed_spans(
        self, texts: Sequence[str], spans: Sequence[Sequence[tuple[int, int]]]
    ) -> tuple[list[list[float]], list[list[np.ndarray | None]]]: ...


@dataclass
class Pooled:
    """The vectors of a batch of chunks, from one forward pass each."""

    chunk_vectors: list[list[float]]
    """What the chunk is searched by (the vector of `Chunk.embedding_text`)."""
    packed: list[str]
    """Per chunk, its title's vector then one per sentence, packed (see `pack`)."""
    standalone: int = 0
    """Sentences wholly past the model's window, encoded on their own (rare)."""


def embed_chunks(
    chunks: Sequence[Chunk], embedder: SpanEmbedder, *, late: bool, chunk_vectors: bool = True
) -> Pooled:
    """Each chunk's vector and its title's and sentences' vectors: with `late`, the sentences'
    pooled from the chunk's own forward pass and titles encoded once per distinct title; else
    each distinct title and sentence encoded on its own (and without `chunk_vectors`, the
    chunks themselves not at all). A chunk without stored offsets (an older index) is split as
    answering splits it."""
    if not chunks:
        return Pooled([], [])
    texts = [c.embedding_text() for c in chunks]
    if not late:
        wanted = [sentence_texts(c) for c in chunks]
        distinct = list(dict.fromkeys(t for ts in wanted for t in ts))
        # One encode call for the chunks and their sentences: the encoder orders all of them
        # by length and runs its batches in parallel, so one call has less padding and one
        # end where a core may wait instead of two (a text's vector is the same in any batch).
        own = len(texts) if chunk_vectors else 0
        vectors = embedder.embed([*texts[:own], *distinct], cache=False)
        matrix = np.asarray(vectors[own:], dtype=np.float32).reshape(
            len(distinct), embedder.dimension
        )
        row = {text: i for i, text in enumerate(distinct)}
        return Pooled(vectors[:own], [pack(matrix[[row[t] for t in ts]]) for ts in wanted])
    spans = []
    for chunk, text in zip(chunks, texts, strict=True):
        # The header (title, date) comes before the chunk's text in what is encoded.
        shift = len(text) - len(chunk.text)
        spans.append([(s.start + shift, s.end + shift) for s in chunk_sentences(chunk)])
    vectors, pooled = embedder.embed_spans(texts, spans)
    lost = list(
        dict.fromkeys(
            span.text
            for chunk, rows in zip(chunks, pooled, strict=True)
            for span, row in zip(chunk_sentences(chunk), rows, strict=True)
            if row is None
        )
    )
    titles = list(dict.fromkeys(c.title for c in chunks))
    alone = np.asarray(embedder.embed([*titles, *lost], cache=False), dtype=np.float32)
    by_text = dict(zip([*titles, *lost], alone, strict=True))
    packed = []
    for chunk, rows in zip(chunks, pooled, strict=True):
        sentences = [
            row if row is not None else by_text[span.text]
            for span, row in zip(chunk_sentences(chunk), rows, strict=True)
        ]
        packed.append(pack(np.stack([by_text[chunk.title], *sentences])))
    if lost:
        log.info("%d sentence(s) past the model's window were encoded on their own", len(lost))
    return Pooled(vectors, packed, len(lost))


def sentence_vectors(
    chunks: Sequence[Chunk], embedder: SpanEmbedder, *, late: bool
) -> dict[str, np.ndarray]:
    """The vectors of the titles and sentences of `chunks`, keyed as `stored_vectors` keys
    them and exactly as the indexer stores them (`embed_chunks`, float16): for answering over
    an index that holds none."""
    found: dict[str, np.ndarray] = {}
    pooled = embed_chunks(chunks, embedder, late=late, chunk_vectors=False)
    for chunk, value in zip(chunks, pooled.packed, strict=True):
        vectors = unpack(value, embedder.dimension)
        if vectors is not None:
            found.update(_by_text(chunk, vectors))
    return found


def sentence_key(chunk: Chunk, sentence: str) -> str:
    """What a sentence's vector is kept under: the same words read in two chunks (the
    sentence repeated where chunks overlap) have two vectors, and a re-indexed document new
    ones. A title's vector is kept under the title itself."""
    return f"{chunk.chunk_id}@{chunk.doc_hash}\x1f{sentence}"


def _by_text(chunk: Chunk, vectors: np.ndarray) -> dict[str, np.ndarray]:
    texts = sentence_texts(chunk)
    found = {sentence_key(chunk, t): v for t, v in zip(texts[1:], vectors[1:], strict=True)}
    found[chunk.title] = vectors[0]
    return found


def stored_vectors(chunk: Chunk, value: object, dimension: int) -> dict[str, np.ndarray]:
    """The vectors of the title (by its text) and sentences (by `sentence_key`) of `chunk`,
    from its stored packing; empty when the packing is missing or does not match the chunk's
    sentences."""
    vectors = unpack(value, dimension)
    if vectors is None or chunk.sentences is None:
        return {}
    if len(sentence_texts(chunk)) != len(vectors):
        return {}
    return _by_text(chunk, vectors)
