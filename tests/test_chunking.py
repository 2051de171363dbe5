"""Chunking: chunks fit the embedder's window, lose no text, quote verbatim, keep stable ids,
name their PDF page, and break at paragraphs and headings where they can."""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import itertools
import random
import re
from pathlib import Path
from typing import Any

import pytest

from assistant import loaders
from assistant.chunking import chunk_document
from assistant.config import ChunkingSettings
from assistant.embeddings import Embedder, packaged_model_path
from assistant.text import split_sentences
from assistant.types import Chunk, Document, PageSpan
from tests.conftest import CORPUS, NEWS_FIXTURES

DEFAULTS = ChunkingSettings()
VOCABULARY = tuple(
    re.findall(
        r"\S+",
        "research centre university medical clinical translational partnership memorandum "
        "laboratory students faculty seminar grant cooperation agreement rector delegation "
        "biomedical innovation programme exchange Kazakhstan Kyrgyzstan Bishkek Almaty council "
        "anniversary association molecular cell culture volunteers conference workshop",
    )
)


@functools.cache
def _model_tokenizer() -> Any:
    """The model's tokenizer as transformers loads it (not the product's own reading of it)."""
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(packaged_model_path())


def model_input_tokens(embedder: Embedder, text: str) -> int:
    """Tokens the model is fed for `text`, special tokens included, without truncation."""
    tokenizer = _model_tokenizer()
    return len(tokenizer(text, add_special_tokens=True, truncation=False)["input_ids"])


_CACHE: dict[tuple[object, ...], list[Chunk]] = {}


def chunk(doc: Document, embedder: Embedder, **overrides: int) -> list[Chunk]:
    """Chunks of `doc`, memoised per document and options: sentence splitting is the slow part
    and several tests look at the same chunks."""
    key = (doc, tuple(sorted(overrides.items())))
    if key not in _CACHE:
        _CACHE[key] = chunk_uncached(doc, embedder, **overrides)
    return _CACHE[key]


def chunk_uncached(doc: Document, embedder: Embedder, **overrides: int) -> list[Chunk]:
    options = {
        "max_tokens": DEFAULTS.max_tokens,
        "overlap_sentences": DEFAULTS.overlap_sentences,
        **overrides,
    }
    return chunk_document(
        doc, count_tokens=embedder.count_tokens, window=embedder.max_tokens, **options
    )


def make_doc(text: str, *, title: str = "Test document", **fields: object) -> Document:
    values: dict[str, object] = {
        "doc_id": "test/doc.txt",
        "source": "test/doc.txt",
        "title": title,
        "kind": "document",
        "date": dt.date(2024, 7, 6),
        "text": text,
        "content_hash": hashlib.sha256(text.encode()).hexdigest(),
        **fields,
    }
    return Document.model_validate(values)


def sentence(rng: random.Random, words: int) -> str:
    body = " ".join(rng.choice(VOCABULARY) for _ in range(words))
    return body[0].upper() + body[1:] + "."


def long_document() -> Document:
    """A long, awkward document: headings, lists, a 900-word run-on sentence, a 3,000-character
    'word', Cyrillic text and a title long enough to eat a good part of the window."""
    rng = random.Random(7)
    blocks: list[str] = []
    for section in range(3):
        blocks.append(f"Section {section + 1}: {rng.choice(VOCABULARY).title()} matters")
        for _ in range(3):
            blocks.append(" ".join(sentence(rng, rng.randint(6, 40)) for _ in range(5)))
        blocks.append("\n".join(f"  {n}. {sentence(rng, 12)}" for n in range(1, 6)))
    blocks.insert(5, " ".join(rng.choice(VOCABULARY) for _ in range(900)))
    blocks.insert(9, "Reference: https://example.org/" + "a1b2c3" * 500)
    blocks.insert(12, "Центр содействия медицинским исследованиям провёл семинар. " * 20)
    title = "A deliberately long title about " + " ".join(VOCABULARY[:30])
    return make_doc("\n\n".join(blocks), title=title)


def corpus_documents() -> list[Document]:
    documents, failures = loaders.load_corpus(CORPUS)
    assert documents, f"the project corpus {CORPUS} should hold documents"
    assert not failures, f"every corpus file should load: {failures}"
    return documents


def fixture_documents() -> list[Document]:
    documents, _ = loaders.load_corpus(NEWS_FIXTURES)
    return documents


def all_test_documents() -> list[Document]:
    return [*corpus_documents(), *fixture_documents(), long_document()]


@pytest.fixture(scope="module")
def documents() -> list[Document]:
    return all_test_documents()


@pytest.mark.parametrize("max_tokens", [DEFAULTS.max_tokens, 240, 32])
def test_every_chunk_fits_the_model_window(embedder, documents, max_tokens):
    for doc in documents:
        for c in chunk(doc, embedder, max_tokens=max_tokens):
            used = model_input_tokens(embedder, c.embedding_text())
            assert used <= embedder.max_tokens, (
                f"{c.chunk_id} feeds {used} tokens to a model that reads {embedder.max_tokens}: "
                "its end would be silently cut off"
            )
            assert embedder.count_tokens(c.text) <= max_tokens, (
                f"{c.chunk_id} text exceeds max_tokens={max_tokens}"
            )


def test_no_text_is_lost(embedder, documents):
    for doc in documents:
        chunks = chunk(doc, embedder)
        covered = bytearray(len(doc.text))
        for c in chunks:
            covered[c.start : c.start + len(c.text)] = b"\x01" * len(c.text)
        missing = [i for i, ch in enumerate(doc.text) if not ch.isspace() and not covered[i]]
        where = missing[0] if missing else 0
        assert not missing, (
            f"{doc.doc_id}: {len(missing)} characters are in no chunk, from "
            f"{doc.text[where : where + 40]!r}"
        )


def test_every_sentence_that_fits_appears_whole_in_a_chunk(embedder, documents):
    for doc in documents:
        texts = [c.text for c in chunk(doc, embedder)]
        for span in split_sentences(doc.text):
            if embedder.count_tokens(span.text) > 100:
                continue  # over-long sentences are split by design; coverage is tested above
            assert any(span.text in t for t in texts), (
                f"{doc.doc_id}: sentence {span.text[:60]!r} is not whole in any chunk"
            )


def test_chunk_text_is_a_verbatim_slice_with_document_metadata(embedder, documents):
    for doc in documents:
        for c in chunk(doc, embedder):
            assert doc.text[c.start : c.start + len(c.text)] == c.text, (
                f"{c.chunk_id}: text must be the document text at its offset, for verbatim quotes"
            )
            assert c.text == c.text.strip() and c.text, f"{c.chunk_id}: empty or padded text"
            assert (c.doc_id, c.title, c.kind, c.source, c.date, c.publisher, c.doc_hash) == (
                doc.doc_id,
                doc.title,
                doc.kind,
                doc.source,
                doc.date,
                doc.publisher,
                doc.content_hash,
            ), f"{c.chunk_id}: metadata must come from its document"


def test_ids_are_sequential_and_deterministic(embedder, documents):
    for doc in documents:
        first = chunk(doc, embedder)
        again = chunk_uncached(doc, embedder)
        assert first == again, f"{doc.doc_id}: chunking must be deterministic"
        assert [c.chunk_id for c in first] == [f"{doc.doc_id}#{i}" for i in range(len(first))], (
            f"{doc.doc_id}: ids must be '{{doc_id}}#{{index}}' in order"
        )
        assert [c.index for c in first] == list(range(len(first))), "indexes must count from 0"
        starts = [c.start for c in first]
        assert starts == sorted(set(starts)), f"{doc.doc_id}: chunks must advance through the text"


def test_long_document_splits_into_several_chunks(embedder):
    chunks = chunk(long_document(), embedder)
    assert len(chunks) > 10, f"a long document should make many chunks, got {len(chunks)}"


def test_empty_text_gives_no_chunks(embedder):
    assert chunk(make_doc("  \n\n "), embedder) == [], "blank text has nothing to chunk"


def test_overlap_repeats_the_last_sentence_inside_a_paragraph(embedder):
    rng = random.Random(3)
    sentences = [f"Item {i} is {sentence(rng, 14)}" for i in range(40)]
    doc = make_doc(" ".join(sentences))
    with_overlap = chunk(doc, embedder, overlap_sentences=1)
    assert len(with_overlap) > 2, "the paragraph should need several chunks"
    for before, after in itertools.pairwise(with_overlap):
        last = split_sentences(before.text)[-1].text
        assert after.text.startswith(last), (
            f"{after.chunk_id} should open with the last sentence of {before.chunk_id}"
        )
    without = chunk(doc, embedder, overlap_sentences=0)
    for before, after in itertools.pairwise(without):
        assert after.start >= before.start + len(before.text), "no overlap was asked for"


def test_overlap_is_not_carried_across_a_paragraph_break(embedder):
    rng = random.Random(5)
    paragraphs = [" ".join(sentence(rng, 18) for _ in range(5)) for _ in range(6)]
    doc = make_doc("\n\n".join(paragraphs))
    chunks = chunk(doc, embedder, overlap_sentences=2)
    starts = {doc.text.index(p) for p in paragraphs}
    for c in chunks[1:]:
        previous = chunks[c.index - 1]
        if c.start in starts:
            assert c.start >= previous.start + len(previous.text), (
                f"{c.chunk_id} starts a paragraph and should not repeat the previous one's end"
            )


def test_paragraph_breaks_are_preferred_to_mid_paragraph_cuts(embedder):
    rng = random.Random(11)
    # Paragraphs of roughly 60% of the budget: greedy packing would glue half of the next one.
    paragraphs = []
    for _ in range(5):
        text = ""
        while embedder.count_tokens(text) < 0.6 * DEFAULTS.max_tokens:
            text = f"{text} {sentence(rng, 10)}".strip()
        paragraphs.append(text)
    doc = make_doc("\n\n".join(paragraphs))
    chunks = chunk(doc, embedder)
    assert [c.text for c in chunks] == paragraphs, (
        "each paragraph fits alone but not with the next, so each should be one chunk"
    )


@pytest.mark.parametrize("separator", ["\n\n", "\n"], ids=["blank-lines", "line-breaks"])
def test_a_heading_opens_a_chunk_rather_than_ending_one(embedder, separator):
    rng = random.Random(13)
    headings = [f"Partnership news number {n}" for n in range(6)]
    budget = DEFAULTS.max_tokens
    blocks = []
    for heading in headings:
        # Each body leaves just enough room for the next heading, so plain greedy packing
        # would end every chunk with the heading of the following section.
        body = sentence(rng, 8)
        while embedder.count_tokens(body) < budget - 14:
            body = f"{body} {sentence(rng, 8)}"
        while embedder.count_tokens(body) > budget - 8:
            body = body.rsplit(". ", 1)[0] + "."
        blocks.extend([heading, body])
    doc = make_doc(separator.join(blocks))
    chunks = chunk(doc, embedder)
    for c in chunks[:-1]:
        last_line = c.text.splitlines()[-1].strip()
        assert last_line not in headings, f"{c.chunk_id} ends with the heading {last_line!r}"
    for heading in headings:
        assert any(c.text.startswith(heading) for c in chunks), (
            f"heading {heading!r} should open the chunk of its section"
        )


def test_a_list_number_stays_with_its_item(embedder, documents):
    for doc in documents:
        for c in chunk(doc, embedder, max_tokens=64):
            assert not re.search(r"(?:^|\n)\s*\d{1,3}\.$", c.text), (
                f"{c.chunk_id} ends with a bare list number, cut from its item: {c.text[-40:]!r}"
            )


def test_page_numbers_follow_the_page_spans(embedder):
    rng = random.Random(17)
    pages = [" ".join(f"Page {p} says: {sentence(rng, 20)}" for _ in range(12)) for p in (1, 2, 3)]
    text = "\n\n".join(pages)
    spans = tuple(PageSpan(page=p, start=text.index(f"Page {p} says")) for p in (1, 2, 3))
    doc = make_doc(text, pages=spans)
    chunks = chunk(doc, embedder)
    assert {c.page for c in chunks} == {1, 2, 3}, "chunks of every page should name their page"
    for c in chunks:
        assert c.text.startswith(f"Page {c.page} says"), (
            f"{c.chunk_id} says page {c.page} but starts with {c.text[:12]!r}"
        )


def test_a_real_pdf_gives_chunks_their_page(embedder, tmp_path: Path):
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    path = tmp_path / "report.pdf"
    pdf = canvas.Canvas(str(path), pagesize=A4)
    rng = random.Random(19)
    for page in (1, 2):
        y = 800
        for _ in range(14):
            pdf.drawString(
                50,
                y,
                f"Finding {page}.{rng.randint(10, 99)} concerns {rng.choice(VOCABULARY)} work.",
            )
            y -= 18
        pdf.showPage()
    pdf.save()
    doc = loaders.load_document(path, tmp_path)
    chunks = chunk(doc, embedder, max_tokens=64)
    assert {c.page for c in chunks} == {1, 2}, f"PDF chunks should name pages 1 and 2: {chunks}"
    for c in chunks:
        assert c.text.startswith(f"Finding {c.page}."), (
            f"{c.chunk_id} is on page {c.page} but reads {c.text[:20]!r}"
        )


def test_counting_tokens_in_one_call_per_document_makes_the_same_chunks(embedder, documents):
    # The indexer counts a document's sentences in one tokenizer call (count_many); the
    # chunks must be exactly those of counting sentence by sentence.
    for doc in documents:
        one_by_one = chunk_uncached(doc, embedder)
        batched = chunk_document(
            doc,
            max_tokens=DEFAULTS.max_tokens,
            overlap_sentences=DEFAULTS.overlap_sentences,
            count_tokens=embedder.count_tokens,
            window=embedder.max_tokens,
            count_many=embedder.count_tokens_many,
        )
        assert batched == one_by_one, f"{doc.doc_id}: batched counts changed the chunks"
