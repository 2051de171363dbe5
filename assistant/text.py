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
from dataclasses import dataclass
from functools import lru_cache

import pysbd
import Stemmer
from anyascii import anyascii

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
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def _segment_line(line: str, offset: int) -> list[Span]:
    spans: list[Span] = []
    for piece_start in range(0, len(line), _MAX_SEGMENT_CHARS):
        piece = line[piece_start : piece_start + _MAX_SEGMENT_CHARS]
        base = offset + piece_start
        for part in _segmenter().segment(piece):
            raw = part.sent
            stripped = raw.strip()
            if not stripped:
                continue
            lead = len(raw) - len(raw.lstrip())
            start = base + part.start + lead
            spans.append(Span(start, start + len(stripped), stripped))
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


def _load_stopwords() -> frozenset[str]:
    from bm25s.stopwords import STOPWORDS_EN_PLUS

    return frozenset(STOPWORDS_EN_PLUS)


STOPWORDS = _load_stopwords()


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
        out.extend(stem(p) for p in parts if p and p not in STOPWORDS)
    return out
