"""Pure scoring functions: how one answer is graded against one item, and how grades add up.

Nothing here loads a model or touches the store. The sentence-support check is passed in as
a function (the harness passes `verification.check_sentence` bound to the real embedder), so
faithfulness is re-checked on the final answer independently of the `verified` flags the
answer path set. Spans are compared after `text.normalize` (case-folded, white space
collapsed), the rule `shared/eval/README.md` gives for evidence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from typing import Protocol

from assistant.evaluation.items import EvalItem
from assistant.evaluation.results import (
    ItemResult,
    Latency,
    Percentiles,
    Ratio,
    Scores,
    SentenceCheck,
)
from assistant.text import normalize, split_sentences
from assistant.types import Answer, Citation, RetrievedChunk

_MARKER_RE = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_LEADING_MARKERS_RE = re.compile(r"^(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+")
_WORD_RE = re.compile(r"\w")
UNACCOUNTED = "shown in the answer text but part of none of its sentences"
RETRIEVAL_DEPTH = 5
"""Retrieval counts as a miss for an item when the evidence is not in this many passages."""


class SupportLike(Protocol):
    """What a sentence-support check returns (`verification.Support` has this shape)."""

    @property
    def supported(self) -> bool: ...
    @property
    def reasons(self) -> tuple[str, ...]: ...
    @property
    def score(self) -> float: ...


class SentenceChecker(Protocol):
    """check(sentence, quotes, titles=...) -> support of the sentence by those quotes (the
    titles of their documents may name the source in an attribution)."""

    def __call__(
        self, sentence: str, quotes: Sequence[str], *, titles: Sequence[str] = ()
    ) -> SupportLike: ...


# --- markers and spans -------------------------------------------------------------------


def cited_numbers(text: str) -> tuple[int, ...]:
    """The citation numbers of the [n] / [n, m] markers in a text, in order, without repeats."""
    found: list[int] = []
    for group in _MARKER_RE.findall(text):
        for part in re.split(r"[,;]", group):
            number = int(part)
            if number not in found:
                found.append(number)
    return tuple(found)


def strip_markers(text: str) -> str:
    """The text without its [n] markers (and without the space a marker left before a stop)."""
    return _MARKER_RE.sub("", text).strip()


def contains_span(text: str, span: str) -> bool:
    """Whether `span` occurs in `text`, ignoring case and differences in white space."""
    needle = normalize(span)
    return bool(needle) and needle in normalize(text)


# --- correctness and refusals ----------------------------------------------------------------


def missing_groups(answer_text: str, must: Sequence[Sequence[str]]) -> tuple[tuple[str, ...], ...]:
    """The `must` groups none of whose alternatives the answer contains."""
    text = strip_markers(answer_text)
    return tuple(
        tuple(group) for group in must if not any(contains_span(text, alt) for alt in group)
    )


def forbidden_phrases(answer_text: str, must_not: Sequence[str]) -> tuple[str, ...]:
    """The `must_not` phrases the answer contains."""
    text = strip_markers(answer_text)
    return tuple(phrase for phrase in must_not if contains_span(text, phrase))


def is_correct(answer: Answer, item: EvalItem) -> bool:
    """An answerable item is answered right when it is not refused, every `must` group is met
    and no `must_not` phrase appears."""
    if answer.refused:
        return False
    return not missing_groups(answer.text, item.must) and not forbidden_phrases(
        answer.text, item.must_not
    )


# --- citations ---------------------------------------------------------------------------


def referenced_numbers(answer: Answer) -> tuple[int, ...]:
    """Citation numbers the answer actually points at, from its text and its sentences."""
    numbers = list(cited_numbers(answer.text))
    for sentence in answer.sentences:
        for number in (*sentence.citations, *cited_numbers(sentence.text)):
            if number not in numbers:
                numbers.append(number)
    return tuple(numbers)


def cited_passages(answer: Answer) -> list[tuple[Citation, str]]:
    """Each referenced citation with the text of its chunk.

    The chunk is looked up by id among the retrieved passages; when it is not there the
    citation's own quote stands in for it.
    """
    chunks = {hit.chunk.chunk_id: hit.chunk.text for hit in answer.retrieved}
    by_number = {citation.n: citation for citation in answer.citations}
    passages = []
    for number in referenced_numbers(answer):
        citation = by_number.get(number)
        if citation is not None:
            passages.append((citation, chunks.get(citation.chunk_id, citation.quote)))
    return passages


def evidence_cited(answer: Answer, span: str) -> bool:
    """Whether some chunk the answer cites contains the evidence span."""
    return any(contains_span(text, span) for _, text in cited_passages(answer))


# --- retrieval ---------------------------------------------------------------------------


def retrieval_rank(retrieved: Sequence[RetrievedChunk], span: str) -> int | None:
    """1-based rank of the first retrieved chunk containing the span, None when none does."""
    for rank, hit in enumerate(retrieved, start=1):
        if contains_span(hit.chunk.text, span):
            return rank
    return None


def hit_at(ranks: Sequence[int | None], k: int) -> Ratio:
    """Share of queries whose evidence is within the first `k` results."""
    return Ratio(hits=sum(1 for r in ranks if r is not None and r <= k), total=len(ranks))


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float | None:
    """Mean of 1/rank, counting a miss as 0; None for no queries."""
    if not ranks:
        return None
    return sum(1.0 / r for r in ranks if r is not None) / len(ranks)


# --- faithfulness --------------------------------------------------------------------------


def _split_with_markers(text: str) -> list[str]:
    """Sentences of a text, each keeping the markers that follow it.

    A marker placed after the full stop ("... in 2019. [2]") is split off by the sentence
    splitter and would otherwise be credited to the next sentence.
    """
    pieces: list[str] = []
    for span in split_sentences(text):
        raw = span.text
        lead = _LEADING_MARKERS_RE.match(raw)
        if lead and pieces:
            pieces[-1] = f"{pieces[-1]} {lead.group(0).strip()}"
            raw = raw[lead.end() :].strip()
        if _WORD_RE.search(strip_markers(raw)):
            pieces.append(raw)
    return pieces


def _check_one(
    text: str, numbers: Sequence[int], answer: Answer, check: SentenceChecker
) -> SentenceCheck:
    cited = [c for c in answer.citations if c.n in numbers]
    quotes = [c.quote for c in cited]
    if not numbers:
        return SentenceCheck(text=text, supported=False, reasons=("cites no source",))
    if not quotes:
        listed = ", ".join(f"[{n}]" for n in numbers)
        return SentenceCheck(
            text=text,
            citations=tuple(numbers),
            supported=False,
            reasons=(f"cites {listed}, which the answer's citations do not hold",),
        )
    support = check(text, quotes, titles=[c.title for c in cited])
    return SentenceCheck(
        text=text,
        citations=tuple(numbers),
        supported=support.supported,
        reasons=tuple(support.reasons),
        score=float(support.score),
    )


def _unaccounted_text(answer: Answer) -> list[str]:
    """Sentences of the shown text that are part of none of the answer's sentences.

    The answer's sentences are removed from its text (markers aside) and what remains is
    split; re-splitting the whole text instead would invent boundaries the answer does not
    have (a quoted list item ending in ';' runs into the next item's number).
    """
    rest = normalize(strip_markers(answer.text))
    for sentence in answer.sentences:
        key = normalize(strip_markers(sentence.text))
        if key:
            rest = rest.replace(key, " ", 1)
    return [span.text for span in split_sentences(rest) if _WORD_RE.search(span.text)]


def check_faithfulness(answer: Answer, check: SentenceChecker) -> tuple[SentenceCheck, ...]:
    """Re-check every sentence of an answered question against the quotes it cites.

    The units are the answer's own sentences (their `verified` flags are ignored). Text shown
    in the answer that none of them accounts for counts as unsupported, so nothing the reader
    sees escapes the check; an answer without sentence records is split from its text.
    Refusal sentences and the assistant's own words (labels, the scope reply) are not
    claims and are skipped; a refused answer has no sentences.
    """
    if answer.refused:
        return ()
    if not answer.sentences:
        pieces = _split_with_markers(answer.text)
        return tuple(_check_one(strip_markers(p), cited_numbers(p), answer, check) for p in pieces)
    checks = [
        _check_one(
            strip_markers(sentence.text),
            tuple(dict.fromkeys((*sentence.citations, *cited_numbers(sentence.text)))),
            answer,
            check,
        ).model_copy(update={"origin": sentence.origin})
        for sentence in answer.sentences
        if sentence.origin not in ("refusal", "assistant")
    ]
    checks += [
        SentenceCheck(text=text, supported=False, reasons=(UNACCOUNTED,))
        for text in _unaccounted_text(answer)
    ]
    return tuple(checks)


# --- aggregation --------------------------------------------------------------------------


def _ratio(values: Iterable[bool | None]) -> Ratio:
    counted = [v for v in values if v is not None]
    return Ratio(hits=sum(counted), total=len(counted))


def summarize(results: Sequence[ItemResult]) -> Scores:
    """Aggregate the item results of a group into its scores."""
    ranks = [r.retrieval_rank for r in results if r.retrieval_scored]
    sentences = [s for r in results for s in r.sentences]
    return Scores(
        items=len(results),
        correctness=_ratio(r.correct for r in results),
        refusal_accuracy=_ratio(r.refusal_correct for r in results),
        false_refusals=_ratio(r.false_refusal for r in results),
        citation_accuracy=_ratio(r.evidence_cited for r in results),
        evidence2_cited=_ratio(r.evidence2_cited for r in results),
        faithfulness=Ratio(hits=sum(s.supported for s in sentences), total=len(sentences)),
        must_not_clean=_ratio(r.must_not_clean for r in results),
        hit_at_1=hit_at(ranks, 1),
        hit_at_5=hit_at(ranks, RETRIEVAL_DEPTH),
        mrr=mean_reciprocal_rank(ranks),
    )


def summarize_by_kind(results: Sequence[ItemResult]) -> dict[str, Scores]:
    """Scores per item kind, in the order kinds first appear."""
    kinds = list(dict.fromkeys(r.kind for r in results))
    return {kind: summarize([r for r in results if r.kind == kind]) for kind in kinds}


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0-100) with linear interpolation between ranks; None if empty."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def _percentiles(values: Sequence[float]) -> Percentiles:
    return Percentiles(n=len(values), p50=percentile(values, 50), p95=percentile(values, 95))


def latency(results: Sequence[ItemResult]) -> Latency:
    """p50 / p95 of each timing over the items that got an answer."""
    timings = [r.timings for r in results if r.timings is not None]
    first = [t.first_token_ms for t in timings if t.first_token_ms is not None]
    return Latency(
        retrieve_ms=_percentiles([t.retrieve_ms for t in timings]),
        generate_ms=_percentiles([t.generate_ms for t in timings]),
        total_ms=_percentiles([t.total_ms for t in timings]),
        first_token_ms=_percentiles(first),
    )
