"""The records an evaluation run produces: per-item results, aggregated scores, run facts.

They are frozen pydantic models, so the JSON report is a plain `model_dump` of them (ratios
carry their computed `value` too, for readers of the JSON).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, computed_field, model_validator

from assistant.types import ChatTurn, Citation, Timings


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    @model_validator(mode="before")
    @classmethod
    def _drop_computed(cls, data: Any) -> Any:
        """Accept the model's own JSON dump back: its computed fields are outputs only."""
        if isinstance(data, dict) and cls.model_computed_fields:
            return {k: v for k, v in data.items() if k not in cls.model_computed_fields}
        return data


class Ratio(_Frozen):
    """`hits` of `total` counted cases; `value` is None when nothing was counted."""

    hits: int = Field(ge=0)
    total: int = Field(ge=0)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def value(self) -> float | None:
        return self.hits / self.total if self.total else None


class Failure(_Frozen):
    """One failed check of an item, in words a person reading the report understands."""

    check: str = Field(description="correctness, must_not, refusal, false_refusal, citation, ...")
    detail: str


class SentenceCheck(_Frozen):
    """The independent support check of one answer sentence against the quotes it cites."""

    text: str = Field(description="The sentence with its [n] markers removed.")
    citations: tuple[int, ...] = ()
    supported: bool
    reasons: tuple[str, ...] = ()
    score: float = 0.0
    origin: str = Field(
        default="", description="Who wrote it: generated (the model), evidence (a quote), ..."
    )


class RetrievedRef(_Frozen):
    """A retrieved passage as the report lists it (the text itself stays in the store)."""

    chunk_id: str
    source: str
    score: float


class ItemResult(_Frozen):
    """Everything measured for one item. A check that does not apply to the item is None."""

    id: str
    kind: str
    question: str
    history: tuple[ChatTurn, ...] = ()
    reference: str = Field(description="The item's reference answer.")
    answerable: bool
    evidence: str | None = None
    answer: str = ""
    refused: bool = False
    backend: str = ""
    error: str | None = Field(default=None, description="Why the item got no answer at all.")
    citations: tuple[Citation, ...] = ()
    retrieved: tuple[RetrievedRef, ...] = ()
    sentences: tuple[SentenceCheck, ...] = ()
    correct: bool | None = None
    missing: tuple[tuple[str, ...], ...] = Field(default=(), description="Unmatched must groups.")
    forbidden: tuple[str, ...] = Field(default=(), description="must_not phrases found.")
    refusal_correct: bool | None = Field(
        default=None, description="Unanswerable items: declined, and no must_not phrase shown."
    )
    false_refusal: bool | None = None
    must_not_clean: bool | None = Field(
        default=None, description="Items with must_not phrases: none of them in the answer."
    )
    evidence_cited: bool | None = None
    evidence2_cited: bool | None = None
    retrieval_rank: int | None = Field(default=None, description="1-based; None = not found.")
    retrieval_scored: bool = False
    evidence2_rank: int | None = None
    timings: Timings | None = None
    failures: tuple[Failure, ...] = ()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def passed(self) -> bool:
        return not self.failures


class Scores(_Frozen):
    """The quality metrics of a group of items (all items, or one kind)."""

    items: int
    correctness: Ratio
    refusal_accuracy: Ratio
    false_refusals: Ratio
    citation_accuracy: Ratio
    evidence2_cited: Ratio = Field(description="multi_doc answers that also cite evidence2.")
    faithfulness: Ratio = Field(description="Supported sentences of all answered items.")
    must_not_clean: Ratio = Field(
        default=Ratio(hits=0, total=0),
        description="Items with must_not phrases whose answer (or refusal) shows none of them.",
    )
    hit_at_1: Ratio
    hit_at_5: Ratio
    mrr: float | None = None


class Percentiles(_Frozen):
    """p50 / p95 of one timing, in milliseconds, over the `n` items that reported it."""

    n: int = 0
    p50: float | None = None
    p95: float | None = None


class Latency(_Frozen):
    retrieve_ms: Percentiles
    generate_ms: Percentiles
    total_ms: Percentiles
    first_token_ms: Percentiles


class RunInfo(_Frozen):
    """What was evaluated, with what, and when."""

    dataset: str
    backend: str
    started: dt.datetime
    seconds: float = Field(ge=0)
    corpus_documents: int = 0
    corpus_chunks: int = 0
    distractor_documents: int = 0
    index_seconds: float | None = Field(
        default=None, description="Time to build the temporary store (extras, distractors)."
    )
    extra_folders: tuple[str, ...] = Field(
        default=(), description="Folders indexed beside the corpus, e.g. eval/news."
    )
    extra_documents: int = 0
    embedding_model: str = ""
    chat_model: str = ""
    llm_threads: int = 0
    top_k: int = 0
    settings: dict[str, Any] = Field(
        default_factory=dict, description="The settings of the run (secrets masked)."
    )


class EvalResult(_Frozen):
    info: RunInfo
    overall: Scores
    by_kind: dict[str, Scores]
    latency: Latency
    items: tuple[ItemResult, ...] = Field(
        default=(), description="Left out of the held-out split's JSON report."
    )
