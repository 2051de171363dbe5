"""Sentence vectors stored with each chunk at index time, so answering only takes dot products.

Answering scores every sentence of the retrieved chunks by its meaning similarity to the
question (and the similarity of its document's title). Embedding those sentences when a
question arrives was two thirds of the question path's time; the indexer now embeds them once,
each sentence on its own exactly as answering did (so the fitted scorer sees the same inputs),
and the store keeps them in the chunk's metadata: the title's vector first, then one per
sentence of `Chunk.sentences`, as float16 (half the size of float32; the cosines move by about
1e-4) in base64, since Chroma metadata holds strings, numbers and booleans.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Sequence

import numpy as np

from assistant.text import Span, split_sentences
from assistant.types import SENTENCE_VECTORS_KEY, Chunk

__all__ = ["SENTENCE_VECTORS_KEY", "chunk_sentences", "embed_sentences", "stored_vectors"]
_DTYPE = np.dtype("<f2")

Embed = Callable[[Sequence[str]], Sequence[Sequence[float]]]


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


def embed_sentences(chunks: Sequence[Chunk], embed: Embed) -> list[str]:
    """The packed title and sentence vectors of each chunk, in order ("" for a chunk whose
    sentences are unknown). Each distinct text is embedded once: a title is shared by its
    document's chunks, and overlapping chunks repeat a sentence."""
    wanted = [sentence_texts(c) if c.sentences is not None else [] for c in chunks]
    distinct = list(dict.fromkeys(text for texts in wanted for text in texts))
    if not distinct:
        return [""] * len(chunks)
    matrix = np.asarray(embed(distinct), dtype=np.float32)
    row = {text: i for i, text in enumerate(distinct)}
    return [pack(matrix[[row[t] for t in texts]]) if texts else "" for texts in wanted]


def stored_vectors(chunk: Chunk, value: object, dimension: int) -> dict[str, np.ndarray]:
    """text -> vector of the title and sentences of `chunk`, from its stored packing; empty
    when the packing is missing or does not match the chunk's sentences."""
    vectors = unpack(value, dimension)
    if vectors is None or chunk.sentences is None:
        return {}
    texts = sentence_texts(chunk)
    if len(texts) != len(vectors):
        return {}
    return dict(zip(texts, vectors, strict=True))
