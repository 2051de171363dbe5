"""Cut a cleaned document into retrievable chunks of whole sentences, sized for the embedder.

Chunks are runs of whole sentences (from `assistant.text.split_sentences`, the pipeline's one
splitter) packed greedily up to a word-piece budget, so that the chunk's text plus its title
header fits the embedding model's window: MiniLM silently drops whatever lies past 256 tokens,
and a passage whose end is never embedded can never be found by it. A sentence longer than the
budget is split at word boundaries rather than dropped. When a chunk must close, it closes at a
paragraph break if one lies in its second half, and never ends on a heading, which belongs to
what follows it. Chunk text is always a slice of `Document.text`, so a quote taken from a chunk
is verbatim. This module is pure: no I/O, the token counter is passed in.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from assistant.text import Span, split_sentences
from assistant.types import Chunk, Document

TokenCounter = Callable[[str], int]
BatchTokenCounter = Callable[[Sequence[str]], list[int]]

# BERT-style models add [CLS] and [SEP] to every input; they count against the window.
SPECIAL_TOKENS = 2
# With an absurdly long title the header alone would fill the window; the text still needs room.
MIN_TEXT_TOKENS = 16
# A paragraph break is only worth closing early for when the chunk is at least this full.
MIN_FILL_FOR_PARAGRAPH_CUT = 0.5
# Lines this short and without closing punctuation read as headings ("Mission Statement:").
HEADING_MAX_WORDS = 14

_WORD_SPAN_RE = re.compile(r"\S+")
_LIST_MARKER_RE = re.compile(r"\(?(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)]|[-*•–]")
_SENTENCE_END = (".", "!", "?", ";", ",", "…", '."', ".”", ".)")


@dataclass(frozen=True, slots=True)
class _Unit:
    """A sentence, or a word-boundary piece of an over-long sentence, with its offsets."""

    start: int
    end: int
    tokens: int
    heading: bool
    paragraph_before: bool
    """True when a blank line (or the document start) separates this unit from the previous."""


def chunk_document(
    doc: Document,
    *,
    max_tokens: int,
    overlap_sentences: int,
    count_tokens: TokenCounter,
    window: int | None = None,
    count_many: BatchTokenCounter | None = None,
) -> list[Chunk]:
    """Split `doc` into chunks of whole sentences of at most `max_tokens` tokens of text.

    `window`, when given, is the most tokens the embedding model reads (special tokens
    included); the text budget then shrinks so that `Chunk.embedding_text()` fits it.
    `overlap_sentences` trailing sentences of a chunk are repeated at the start of the next
    one when both lie in the same paragraph (across a paragraph break they add only noise).
    `count_many`, when given, counts the tokens of many texts at once (the same counts as
    `count_tokens`, with one tokenizer call per document instead of one per sentence).
    """
    if max_tokens < 1:
        raise ValueError("max_tokens must be positive")
    budget = _text_budget(doc, max_tokens, count_tokens, window)
    many = count_many or (lambda texts: [count_tokens(t) for t in texts])
    units = _units(doc.text, budget, count_tokens, many)
    spans = _pack(doc.text, units, budget, max(0, overlap_sentences), count_tokens)
    return [_make_chunk(doc, index, start, end) for index, (start, end) in enumerate(spans)]


def _header(doc: Document) -> str:
    # Same header as Chunk.embedding_text(); built through a probe chunk so the two never drift.
    probe = Chunk(
        chunk_id="probe",
        doc_id=doc.doc_id,
        index=0,
        text="",
        title=doc.title,
        kind=doc.kind,
        source=doc.source,
        date=doc.date,
        start=0,
        doc_hash=doc.content_hash,
    )
    return probe.embedding_text()


def _text_budget(
    doc: Document, max_tokens: int, count_tokens: TokenCounter, window: int | None
) -> int:
    if window is None:
        return max_tokens
    room = window - SPECIAL_TOKENS - count_tokens(_header(doc))
    return max(min(max_tokens, room), min(max_tokens, MIN_TEXT_TOKENS))


def _is_heading(text: str, alone_on_line: bool) -> bool:
    if not alone_on_line:
        return False
    if text.startswith("#"):
        return True
    return len(text.split()) <= HEADING_MAX_WORDS and not text.endswith(_SENTENCE_END)


def _sentences(text: str) -> list[Span]:
    """The pipeline's sentences, with a bare list marker ("5.") joined to the item it opens:
    the splitter reads "5. To conduct seminars" as two sentences."""
    merged: list[Span] = []
    pending: Span | None = None
    for span in split_sentences(text):
        if pending is not None and "\n" not in text[pending.end : span.start]:
            span = Span(pending.start, span.end, text[pending.start : span.end])
        elif pending is not None:
            merged.append(pending)
        pending = span if _LIST_MARKER_RE.fullmatch(span.text) else None
        if pending is None:
            merged.append(span)
    if pending is not None:
        merged.append(pending)
    return merged


def _units(
    text: str, budget: int, count_tokens: TokenCounter, count_many: BatchTokenCounter
) -> list[_Unit]:
    sentences = _sentences(text)
    costs = count_many([span.text for span in sentences])
    units: list[_Unit] = []
    for i, span in enumerate(sentences):
        gap_before = text[sentences[i - 1].end : span.start] if i else "\n\n"
        gap_after = text[span.end : sentences[i + 1].start] if i + 1 < len(sentences) else "\n"
        alone = "\n" in gap_before and "\n" in gap_after
        heading = _is_heading(span.text, alone)
        paragraph = gap_before.count("\n") >= 2
        cost = costs[i]
        pieces = [(span.start, span.end, cost)]
        if cost > budget:
            pieces = _split_long(text, span.start, span.end, budget, count_tokens)
        for n, (start, end, tokens) in enumerate(pieces):
            units.append(_Unit(start, end, tokens, heading, paragraph and n == 0))
    return units


def _split_long(
    text: str, start: int, end: int, budget: int, count_tokens: TokenCounter
) -> list[tuple[int, int, int]]:
    """Cut an over-long sentence at word boundaries into pieces that fit `budget`."""
    words = [(start + m.start(), start + m.end()) for m in _WORD_SPAN_RE.finditer(text[start:end])]
    pieces: list[tuple[int, int, int]] = []
    piece_start: int | None = None
    prev_end = start
    used = 0
    for w_start, w_end in words:
        for s, e, cost in _word_parts(text, w_start, w_end, budget, count_tokens):
            if piece_start is not None and used + cost > budget:
                pieces.append((piece_start, prev_end, used))
                piece_start, used = None, 0
            if piece_start is None:
                piece_start = s
            used += cost
            prev_end = e
    if piece_start is not None:
        pieces.append((piece_start, prev_end, used))
    return pieces


def _word_parts(
    text: str, start: int, end: int, budget: int, count_tokens: TokenCounter
) -> list[tuple[int, int, int]]:
    """A word as (start, end, tokens) parts; a 'word' longer than the budget (a URL, a hash)
    is cut by characters, since nothing may be dropped."""
    cost = count_tokens(text[start:end])
    if cost <= budget:
        return [(start, end, cost)]
    parts: list[tuple[int, int, int]] = []
    step = max(1, (end - start) * budget // (2 * cost))
    for s in range(start, end, step):
        e = min(end, s + step)
        parts.append((s, e, count_tokens(text[s:e])))
    return parts


def _pack(
    text: str,
    units: Sequence[_Unit],
    budget: int,
    overlap: int,
    count_tokens: TokenCounter,
) -> list[tuple[int, int]]:
    """Greedy packing of units into (start, end) spans of `text` within `budget` tokens."""
    prefix = list(itertools.accumulate((unit.tokens for unit in units), initial=0))

    def tokens(first: int, last: int) -> int:
        # Word-piece counts add up over white-space-separated text, so sums stand in for
        # re-tokenising every candidate; each finished chunk is still counted for real below.
        return prefix[last + 1] - prefix[first]

    spans: list[tuple[int, int]] = []
    first = 0
    while first < len(units):
        stop = first + 1  # exclusive end; a single unit always fits (long ones were split)
        while stop < len(units) and tokens(first, stop) <= budget:
            stop += 1
        if stop < len(units):
            stop = _best_cut(units, first, stop, budget, tokens)
        while stop - 1 > first and (
            count_tokens(text[units[first].start : units[stop - 1].end]) > budget
        ):
            stop -= 1  # a tokenizer whose counts do not add up (pieces of one long word)
        spans.append((units[first].start, units[stop - 1].end))
        if stop >= len(units):
            break
        first = _next_first(units, first, stop, overlap, budget, tokens)
    return spans


def _best_cut(
    units: Sequence[_Unit], first: int, stop: int, budget: int, tokens: Callable[[int, int], int]
) -> int:
    """Move the end of a full chunk back to a paragraph break in its second half, and off a
    trailing heading, so headings open chunks and paragraphs stay whole where they can."""
    for cut in range(stop - 1, first, -1):
        if units[cut].paragraph_before and tokens(first, cut - 1) >= budget * (
            MIN_FILL_FOR_PARAGRAPH_CUT
        ):
            stop = cut
            break
    while stop - 1 > first and units[stop - 1].heading:
        stop -= 1
    return stop


def _next_first(
    units: Sequence[_Unit],
    first: int,
    stop: int,
    overlap: int,
    budget: int,
    tokens: Callable[[int, int], int],
) -> int:
    """Where the next chunk starts: at `stop`, or up to `overlap` units earlier when the
    break falls inside a paragraph and the repeated units still leave room for new text."""
    if units[stop].paragraph_before or units[stop].heading:
        return stop
    start = max(first + 1, stop - overlap)
    while start < stop and (units[start].heading or tokens(start, stop) > budget):
        start += 1
    return start


def _make_chunk(doc: Document, index: int, start: int, end: int) -> Chunk:
    text = doc.text[start:end]
    return Chunk(
        chunk_id=f"{doc.doc_id}#{index}",
        doc_id=doc.doc_id,
        index=index,
        text=text,
        title=doc.title,
        kind=doc.kind,
        source=doc.source,
        date=doc.date,
        publisher=doc.publisher,
        page=doc.page_at(start),
        start=start,
        doc_hash=doc.content_hash,
        # The chunk's own split, not the document's: answering has always split the chunk
        # text, and the splitter reads context, so the two differ for about one chunk in six.
        sentences=tuple((span.start, span.end) for span in split_sentences(text)),
    )
