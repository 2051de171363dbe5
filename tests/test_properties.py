"""Property-based tests (hypothesis): the cleaner, the chunker and citation markers hold their
promises on any input, not only on the examples the other tests chose.

- the cleaner loses no sentence of an article body and invents no word; it never crashes;
- the chunker's chunks are verbatim slices at valid offsets, cover every non-space character
  and fit the token budget;
- citation markers always resolve: the markers read back from an answer sentence are exactly
  the ones written, whatever `[n]` the sentence itself holds, and so are its badges.

Each example must finish within the deadline, so an input that makes them run long fails too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import string

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant import citations
from assistant.chunking import chunk_document
from assistant.loaders.cleaning import clean_text, normalize_whitespace, strip_injections
from assistant.types import Document
from assistant.ui import render

DEADLINE = dt.timedelta(seconds=10)
QUICK = settings(max_examples=150, deadline=DEADLINE)
SLOW = settings(max_examples=40, deadline=DEADLINE, suppress_health_check=[HealthCheck.too_slow])

# Words that cannot spell an instruction to an AI or a navigation label, so that an article
# made of them has nothing the cleaner may rightly remove.
_WORD = st.text(alphabet="bcdfghjklmnpqrstvwxz", min_size=2, max_size=9)
_SENTENCE = st.lists(_WORD, min_size=5, max_size=14).map(lambda w: " ".join(w).capitalize() + ".")
_PARAGRAPH = st.lists(_SENTENCE, min_size=1, max_size=4).map(" ".join)
_ARTICLE = st.lists(_PARAGRAPH, min_size=1, max_size=6).map("\n\n".join)
# Anything at all, with the characters that matter to these modules made likely.
_NOISE = st.text(
    alphabet=st.one_of(
        st.sampled_from(list("[]()*_`#>-.!?\n \t\u200b\u00ad\u2028") + list("0123456789")),
        st.characters(codec="utf-8", exclude_categories=("Cs",)),
    ),
    max_size=400,
)


@QUICK
@given(_ARTICLE)
def test_cleaning_keeps_every_sentence_of_an_article(article: str) -> None:
    cleaned = clean_text(article)
    stripped, removed = strip_injections(article)
    assert stripped == article and not removed, "an honest article loses nothing to injections"
    for sentence in re.findall(r"[^.]+\.", article):
        assert sentence.strip() in cleaned, f"{sentence.strip()!r} was lost"


@QUICK
@given(_NOISE)
def test_cleaning_never_crashes_or_invents_words(text: str) -> None:
    source_words = set(normalize_whitespace(text).split())
    cleaned = clean_text(text)
    stripped, removed = strip_injections(text)
    assert set(cleaned.split()) <= source_words, "the cleaner only removes, it never writes"
    assert all(line in text.split("\n") or len(line) > 0 for line in removed), removed
    for line in stripped.split("\n"):
        assert set(line.split()) <= set(text.split()), "injection stripping only removes words"


def _document(text: str) -> Document:
    return Document(
        doc_id="news/property.md",
        source="news/property.md",
        title="Property test",
        kind="news",
        text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
    )


@SLOW
@given(text=st.one_of(_ARTICLE, _NOISE), max_tokens=st.integers(min_value=32, max_value=240))
def test_chunks_are_verbatim_slices_that_cover_the_text_and_fit(embedder, text, max_tokens):
    doc = _document(text)
    chunks = chunk_document(
        doc,
        max_tokens=max_tokens,
        overlap_sentences=1,
        count_tokens=embedder.count_tokens,
        window=embedder.max_tokens,
    )
    covered = bytearray(len(text))
    for index, chunk in enumerate(chunks):
        assert chunk.chunk_id == f"{doc.doc_id}#{index}", "ids are sequential"
        assert 0 <= chunk.start <= len(text), f"offset {chunk.start} outside the text"
        assert text[chunk.start : chunk.start + len(chunk.text)] == chunk.text, (
            "a chunk is a verbatim slice of the document at its offset"
        )
        assert embedder.count_tokens(chunk.embedding_text()) + 2 <= embedder.max_tokens, (
            "title header and text fit the embedding window"
        )
        covered[chunk.start : chunk.start + len(chunk.text)] = b"\x01" * len(chunk.text)
    lost = [c for i, c in enumerate(text) if not c.isspace() and not covered[i]]
    assert not lost, f"{len(lost)} characters are in no chunk: {''.join(lost)[:40]!r}"


_NUMBERS = st.lists(st.integers(min_value=1, max_value=999), max_size=4)


@QUICK
@given(sentence=st.one_of(_NOISE, _SENTENCE), numbers=_NUMBERS)
def test_markers_written_are_the_markers_read(sentence: str, numbers: list[int]) -> None:
    written = citations.with_markers(sentence, numbers)
    assert citations.markers(written) == list(dict.fromkeys(numbers)), (
        f"markers must resolve to exactly {numbers}: {written!r}"
    )
    shown = render.with_badges(written)
    badges = [int(n) for n in re.findall(r":blue-badge\[(\d+)\]", shown)]
    assert badges == numbers, f"badges {badges} for citations {numbers}: {shown!r}"


@QUICK
@given(st.one_of(_NOISE, st.text(alphabet=string.printable, max_size=300)))
def test_parsing_model_output_never_crashes_and_strips_every_marker(text: str) -> None:
    for sentence, cited in citations.split_cited_sentences(text):
        assert not re.search(r"(?<!\\)\[\d{1,3}\]", sentence), f"marker left in {sentence!r}"
        assert all(isinstance(n, int) and 0 <= n <= 999 for n in cited), cited
        assert citations.valid_markers(cited, [1, 2]) == [n for n in cited if n in (1, 2)]
    mapping = citations.renumbering(citations.markers(text))
    assert sorted(mapping.values()) == list(range(1, len(mapping) + 1)), "renumbered 1..m"
