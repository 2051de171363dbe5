"""Grading one item: every check that applies to its kind, and the failures in words.

`score_item` turns an item and the assistant's answer into an `ItemResult`, using the pure
metrics of `metrics`; `error_item` records an item the answer path failed on.
"""

from __future__ import annotations

from typing import Any

from assistant.evaluation.items import KINDS_WITHOUT_EVIDENCE, EvalItem
from assistant.evaluation.metrics import (
    RETRIEVAL_DEPTH,
    SentenceChecker,
    check_faithfulness,
    evidence_cited,
    forbidden_phrases,
    is_correct,
    missing_groups,
    retrieval_rank,
)
from assistant.evaluation.results import Failure, ItemResult, RetrievedRef
from assistant.types import Answer


def _failures(result: ItemResult) -> tuple[Failure, ...]:
    failures: list[Failure] = []
    if result.error:
        failures.append(Failure(check="error", detail=result.error))
    if result.false_refusal:
        failures.append(Failure(check="false_refusal", detail="declined an answerable question"))
    if result.refusal_correct is False:
        failures.append(Failure(check="refusal", detail="answered an unanswerable question"))
    if result.correct is False and not result.refused and not result.error:
        for group in result.missing:
            failures.append(Failure(check="correctness", detail=f"missing any of {list(group)}"))
    for phrase in result.forbidden:
        failures.append(Failure(check="must_not", detail=f"contains {phrase!r}"))
    if result.evidence_cited is False:
        failures.append(
            Failure(check="citation", detail="no cited chunk contains the evidence span")
        )
    if result.evidence2_cited is False:
        failures.append(
            Failure(check="citation2", detail="no cited chunk contains the second evidence span")
        )
    unsupported = [s for s in result.sentences if not s.supported]
    for sentence in unsupported:
        why = "; ".join(sentence.reasons) or "not supported by its quotes"
        failures.append(Failure(check="faithfulness", detail=f"{sentence.text!r}: {why}"))
    rank = result.retrieval_rank
    if result.retrieval_scored and (rank is None or rank > RETRIEVAL_DEPTH):
        where = "not retrieved" if rank is None else f"first at rank {rank}"
        failures.append(
            Failure(
                check="retrieval", detail=f"evidence not in the top {RETRIEVAL_DEPTH} ({where})"
            )
        )
    return tuple(failures)


def _item_fields(item: EvalItem) -> dict[str, Any]:
    """What every result repeats of its item."""
    return {
        "id": item.id,
        "kind": item.kind,
        "question": item.question,
        "history": item.history,
        "reference": item.answer,
        "answerable": item.answerable,
        "evidence": item.evidence,
    }


def score_item(item: EvalItem, answer: Answer, check: SentenceChecker) -> ItemResult:
    """Grade one answer against its item (every check that applies to the item).

    Answerability comes from the item's `answerable` flag, never from its kind. An answerable
    item is correct when not refused and every `must` group is met (small talk too: the
    reply must not be a refusal and must name the assistant's scope). An unanswerable item is
    right only when declined. `must_not` is checked on every answer, refusals included.
    Small-talk replies claim nothing from the sources, so they are not checked for
    faithfulness.
    """
    answered_answerable = item.answerable and not answer.refused
    forbidden = forbidden_phrases(answer.text, item.must_not)
    result = ItemResult(
        **_item_fields(item),
        answer=answer.text,
        refused=answer.refused,
        backend=answer.backend,
        citations=answer.citations,
        retrieved=tuple(
            RetrievedRef(chunk_id=h.chunk.chunk_id, source=h.chunk.source, score=h.score)
            for h in answer.retrieved
        ),
        sentences=(
            () if item.kind in KINDS_WITHOUT_EVIDENCE else check_faithfulness(answer, check)
        ),
        correct=is_correct(answer, item) if item.answerable else None,
        missing=missing_groups(answer.text, item.must) if item.answerable else (),
        forbidden=forbidden,
        refusal_correct=None if item.answerable else answer.refused and not forbidden,
        false_refusal=answer.refused if item.answerable else None,
        must_not_clean=not forbidden if item.must_not else None,
        evidence_cited=(
            evidence_cited(answer, item.evidence) if answered_answerable and item.evidence else None
        ),
        evidence2_cited=(
            evidence_cited(answer, item.evidence2)
            if answered_answerable and item.evidence2
            else None
        ),
        retrieval_rank=retrieval_rank(answer.retrieved, item.evidence) if item.evidence else None,
        retrieval_scored=item.answerable and bool(item.evidence),
        evidence2_rank=(
            retrieval_rank(answer.retrieved, item.evidence2) if item.evidence2 else None
        ),
        timings=answer.timings,
    )
    return result.model_copy(update={"failures": _failures(result)})


def error_item(item: EvalItem, message: str) -> ItemResult:
    """The result of an item the answer path failed on: every applicable check fails."""
    result = ItemResult(
        **_item_fields(item),
        error=message,
        correct=False if item.answerable else None,
        missing=tuple(item.must),
        refusal_correct=None if item.answerable else False,
        false_refusal=False if item.answerable else None,
        retrieval_scored=item.answerable and bool(item.evidence),
    )
    return result.model_copy(update={"failures": _failures(result)})
