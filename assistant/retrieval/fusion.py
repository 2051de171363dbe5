"""Weighted reciprocal rank fusion of ranked chunk lists.

RRF combines the dense and the BM25 ranking by rank alone, so two unrelated score scales
(cosine similarity, BM25) never need calibrating against each other.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.types import Chunk, RetrievedChunk


def fuse(
    dense: Sequence[tuple[Chunk, float]],
    lexical: Sequence[tuple[Chunk, float]],
    *,
    dense_weight: float,
    lexical_weight: float,
    rrf_k: int,
) -> list[RetrievedChunk]:
    """One ranking from the dense and lexical rankings (best first), each chunk scored
    `sum(weight / (rrf_k + rank))`, keeping both original scores for inspection."""
    scores: dict[str, float] = {}
    chunks: dict[str, Chunk] = {}
    dense_scores: dict[str, float] = {}
    lexical_scores: dict[str, float] = {}
    for weight, ranking, seen in (
        (dense_weight, dense, dense_scores),
        (lexical_weight, lexical, lexical_scores),
    ):
        for rank, (chunk, score) in enumerate(ranking):
            chunks[chunk.chunk_id] = chunk
            seen[chunk.chunk_id] = score
            scores[chunk.chunk_id] = scores.get(chunk.chunk_id, 0.0) + weight / (rrf_k + rank + 1)
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
