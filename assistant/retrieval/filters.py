"""The metadata filter retrieval applies: one definition serves Chroma and BM25 alike."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from assistant.types import Chunk, date_to_int


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
