"""The retrieval stage: dense search (Chroma), lexical search (BM25) and their fusion.

`hybrid.HybridRetriever` is the entry point; `lexical` holds the BM25 index, `fusion` the
reciprocal rank fusion, `filters` the metadata filter both searches apply. `rewriting` holds
the question helpers (follow-ups, two-part questions, latest news) until the answer stage
takes them over; they are re-exported here so that existing imports keep working.
"""

from assistant.retrieval.filters import ChunkFilter
from assistant.retrieval.fusion import fuse
from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.lexical import LexicalIndex
from assistant.retrieval.rewriting import (
    asks_for_latest,
    needs_context,
    split_question,
    standalone_question,
)

__all__ = [
    "ChunkFilter",
    "HybridRetriever",
    "LexicalIndex",
    "asks_for_latest",
    "fuse",
    "needs_context",
    "split_question",
    "standalone_question",
]
