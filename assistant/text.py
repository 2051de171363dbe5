"""Sentence splitting and term normalisation, shared by chunking, BM25, evidence and checks.

One splitter for the whole pipeline matters: a citation quotes "a sentence", verification
checks "a sentence", and they must agree on where sentences end. pysbd handles the
abbreviations of this corpus ("Prof. Elena B. PAVLINOVA", "K.Tokayev", "S. D. Asfendiyarov")
that a regex splitter breaks. Lines are split first, because titles, list items and headings
carry no full stop but are still separate units.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

import pysbd
import Stemmer
from anyascii import anyascii

from assistant.segmenter import english_segmenter

# pysbd backtracks badly on very long unpunctuated runs; cut those first.
_MAX_SEGMENT_CHARS = 3000
_WORD_RE = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*", re.UNICODE)
_NUMBER_RE = re.compile(r"\d+(?:[.,\s]\d{3})*(?:[.,]\d+)?")


@dataclass(frozen=True, slots=True)
class Span:
    """A sentence and where it sits in the text it came from."""

    start: int
    end: int
    text: str


@lru_cache(maxsize=1)
def _segmenter() -> pysbd.Segmenter:
    return english_segmenter()


# pysbd only ever cuts at these characters (sentence punctuation, list markers such as "a)",
# full-width forms); a line holding none of them is one sentence, checked against pysbd on
# 25,000 lines of news text and random strings (bench/sentence_splitting.py).
_BOUNDARY_MARKS = frozenset(".!?。．！？)）」…")
_TRAILING_SPACE_RE = re.compile(r"\s*")
# Lines and chunk texts come back again and again (answering splits the retrieved chunks on
# every question; boilerplate lines repeat across news items): a few MB of offsets.
_SEGMENT_CACHE_SIZE = 4096


@lru_cache(maxsize=_SEGMENT_CACHE_SIZE)
def _segment_piece(piece: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each sentence of `piece`, surrounding white space excluded."""
    if not _BOUNDARY_MARKS.intersection(piece):
        lead = len(piece) - len(piece.lstrip())
        stripped = piece.strip()
        return ((lead, lead + len(stripped)),) if stripped else ()
    spans: list[tuple[int, int]] = []
    for raw, start in _pysbd_spans(piece):
        stripped = raw.strip()
        if stripped:
            lead = len(raw) - len(raw.lstrip())
            spans.append((start + lead, start + lead + len(stripped)))
    return tuple(spans)


def _pysbd_spans(text: str) -> list[tuple[str, int]]:
    """pysbd's sentences with their offsets, exactly as `Segmenter.segment(char_span=True)`
    returns them, without its way of finding the offsets: that compiles one regex per sentence
    and scans the text from its start each time, which took a third of the splitting time
    and flushed the `re` cache that pysbd's own patterns depend on. Here a sentence is found
    the same way (the first occurrence, plus trailing white space, that ends past the previous
    sentence; non-overlapping search from the start) with `str.find`."""
    found: list[tuple[str, int]] = []
    prior_end = 0
    for sentence in _segmenter().processor(text).process():
        for at, end in _occurrences(text, sentence):
            if end > prior_end:
                found.append((text[at:end], at))
                prior_end = end
                break
    return found


def _occurrences(text: str, sentence: str) -> Iterator[tuple[int, int]]:
    r"""What `re.finditer(re.escape(sentence) + r"\s*", text)` yields, as (start, end)."""
    if not sentence:  # an empty pattern matches everywhere: leave that to `re` itself
        for empty in re.finditer(r"\s*", text):
            yield empty.span()
        return
    position = 0
    while (at := text.find(sentence, position)) >= 0:
        trailing = _TRAILING_SPACE_RE.match(text, at + len(sentence))
        position = trailing.end() if trailing else at + len(sentence)
        yield at, position


def _segment_line(line: str, offset: int) -> list[Span]:
    spans: list[Span] = []
    for piece_start in range(0, len(line), _MAX_SEGMENT_CHARS):
        piece = line[piece_start : piece_start + _MAX_SEGMENT_CHARS]
        base = offset + piece_start
        for start, end in _segment_piece(piece):
            spans.append(Span(base + start, base + end, piece[start:end]))
    return spans


_ENUMERATOR_RE = re.compile(r"^(?:\d{1,3}|[a-zA-Z]|[ivxlcIVXLC]{1,5})[.)]$")


def _join_enumerators(spans: list[Span], text: str) -> list[Span]:
    """pysbd cuts "5. To conduct seminars ..." after "5."; a list number belongs to its item."""
    joined: list[Span] = []
    for span in spans:
        previous = joined[-1] if joined else None
        if previous and _ENUMERATOR_RE.match(previous.text):
            joined[-1] = Span(previous.start, span.end, text[previous.start : span.end])
        else:
            joined.append(span)
    return joined


def split_sentences(text: str) -> list[Span]:
    """Split text into sentences with their character offsets; blank lines are dropped."""
    spans: list[Span] = []
    offset = 0
    for line in text.splitlines(keepends=True):
        if line.strip():
            spans.extend(_segment_line(line.rstrip("\r\n"), offset))
        offset += len(line)
    return _join_enumerators(spans, text)


def normalize(text: str) -> str:
    """Case-fold and collapse white space: the form in which spans are compared."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'")
    return re.sub(r"\s+", " ", text).strip().casefold()


def words(text: str) -> list[str]:
    """Word tokens, case-folded, with hyphenated and apostrophe words kept whole."""
    return [w.casefold() for w in _WORD_RE.findall(unicodedata.normalize("NFKC", text))]


def is_latin(text: str) -> bool:
    """True when the letters of `text` are (mostly) Latin script."""
    if text.isascii():  # the common case, decided in C: every letter is Latin
        return True
    letters = [c for c in text if c.isalpha()]
    if not letters:
        return True
    latin = sum(1 for c in letters if c.isascii())
    return latin / len(letters) >= 0.5


def transliterate(text: str) -> str:
    """Latin transliteration, so a Cyrillic query still meets names and acronyms."""
    return anyascii(text)


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


# Words repeat (Zipf): stemming each distinct word once makes the BM25 build over 100k chunks
# several times faster. The cache holds strings only (~10 MB when full).
@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def numbers(text: str) -> set[str]:
    """Numbers in a text, with thousands separators removed ('4,566' and '4566' agree)."""
    found = set()
    for match in _NUMBER_RE.findall(text):
        digits = re.sub(r"(?<=\d)[,\s](?=\d{3}\b)", "", match.strip())
        found.add(digits.rstrip(".,"))
    return found


@lru_cache(maxsize=1)
def _stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(STOPWORDS_EN_PLUS)


# Loaded on first use (PEP 562): importing bm25s costs half a second, and an indexing run on
# an unchanged corpus imports this module (through the loaders) without needing stop words.
STOPWORDS: frozenset[str]


def __getattr__(name: str) -> frozenset[str]:
    if name == "STOPWORDS":
        return _stopwords()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


_COMPOUND_RE = re.compile(r"[-']")


def terms(text: str, *, compounds: bool = True) -> list[str]:
    """Stemmed content terms for lexical matching; stop words are dropped and Cyrillic is
    transliterated. A hyphenated word yields its parts, and itself too when `compounds` is
    set (BM25 profits from the exact compound; coverage counts should not count it twice)."""
    if not is_latin(text):
        text = f"{text} {transliterate(text)}"
    out: list[str] = []
    for word in words(text):
        word = word.removesuffix("'s")
        if "-" in word or "'" in word:
            parts = _COMPOUND_RE.split(word)
            if compounds:
                parts.insert(0, word)
        else:
            parts = [word]
        stopwords = _stopwords()
        out.extend(stem(p) for p in parts if p and p not in stopwords)
    return out
