"""The retrieval stage: dense search (Chroma), lexical search (BM25) and their fusion.

`hybrid.HybridRetriever` is the entry point; `lexical` holds the BM25 index, `fusion` the
reciprocal rank fusion, `filters` the metadata filter both searches apply. Reading the
question (follow-ups, two-part questions, latest news) is the answer stage's:
`assistant.answering.questions`.
"""

from assistant.retrieval.filters import ChunkFilter
from assistant.retrieval.fusion import fuse
from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.lexical import LexicalIndex

__all__ = [
    "ChunkFilter",
    "HybridRetriever",
    "LexicalIndex",
    "fuse",
]
