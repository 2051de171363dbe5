"""Sentence offsets and vectors made at index time: the same sentences and (within float16)
the same vectors as answering made per question, and an index without them still answers the
same."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from assistant import loaders, service
from assistant.chunking import chunk_document
from assistant.retrieval import HybridRetriever
from assistant.sentences import (
    chunk_sentences,
    embed_sentences,
    pack,
    sentence_texts,
    stored_vectors,
    unpack,
)
from assistant.store import open_store
from assistant.text import split_sentences
from tests import corpora
from tests.conftest import CORPUS, make_settings

QUESTIONS = (
    "What does CPMR offer?",
    "When did the council of the association of rectors meet?",
    "Who signed the agreement?",
)


@pytest.fixture(scope="module")
def corpus_chunks(embedder):
    documents, failures = loaders.load_corpus(CORPUS)
    assert documents and not failures, f"the project corpus loads: {failures}"
    return [
        chunk
        for doc in documents
        for chunk in chunk_document(
            doc,
            max_tokens=160,
            overlap_sentences=1,
            count_tokens=embedder.count_tokens,
            window=embedder.max_tokens,
        )
    ]


def test_stored_offsets_give_the_chunks_own_split(corpus_chunks):
    for chunk in corpus_chunks:
        assert chunk.sentences is not None, f"{chunk.chunk_id} has no sentence offsets"
        got = [span.text for span in chunk_sentences(chunk)]
        want = [span.text for span in split_sentences(chunk.text)]
        assert got == want, f"{chunk.chunk_id}: offsets must give the sentences answering used"


def test_stored_vectors_are_each_sentence_embedded_on_its_own(corpus_chunks, embedder):
    chunks = corpus_chunks[:6]
    packed = embed_sentences(chunks, embedder.embed)
    for chunk, value in zip(chunks, packed, strict=True):
        vectors = stored_vectors(chunk, value, embedder.dimension)
        texts = sentence_texts(chunk)
        assert set(vectors) == set(texts), f"{chunk.chunk_id}: a vector per title and sentence"
        fresh = np.asarray(embedder.embed(texts))
        cosines = [float(vectors[t] @ f) for t, f in zip(texts, fresh, strict=True)]
        assert min(cosines) > 0.9999, f"{chunk.chunk_id}: float16 keeps the vectors: {cosines}"


def test_a_packing_that_does_not_fit_its_chunk_is_ignored(corpus_chunks, embedder):
    chunk = corpus_chunks[0]
    rows = np.ones((len(sentence_texts(chunk)) + 1, embedder.dimension), dtype=np.float32)
    assert stored_vectors(chunk, pack(rows), embedder.dimension) == {}, "one row too many"
    assert unpack("not base64!", embedder.dimension) is None, "garbage is no packing"
    assert unpack(pack(rows[:1])[:-4], embedder.dimension) is None, "a truncated packing"
    old = chunk.model_copy(update={"sentences": None})
    assert chunk_sentences(old) == split_sentences(chunk.text), "no offsets: split as before"
    assert embed_sentences([old], embedder.embed) == [""], "nothing is stored without offsets"


def test_an_index_without_sentence_data_answers_the_same(tmp_path, embedder):
    """An index written before sentence data was stored falls back to splitting and embedding
    per question, and its answers are the same as those of a current index."""
    answers = {}
    for layout in ("current", "older"):
        base = tmp_path / layout
        shutil.copytree(CORPUS, base / "corpus")
        settings = make_settings(base)
        if layout == "older":
            documents, _ = loaders.load_corpus(base / "corpus")
            chunks = [
                c
                for d in documents
                for c in chunk_document(
                    d,
                    max_tokens=settings.chunking.max_tokens,
                    overlap_sentences=settings.chunking.overlap_sentences,
                    count_tokens=embedder.count_tokens,
                    window=embedder.max_tokens,
                )
            ]
            corpora.write_legacy_index(settings, embedder, chunks)
        store = open_store(settings, embedder.model_id, embedder.dimension)
        retriever = HybridRetriever(store, embedder, settings.retrieval)
        resources = service.Resources(settings, embedder, store, retriever, None)
        if layout == "current":
            service.build_index(resources=resources)
            assert store.stores_sentence_vectors(), "a fresh index stores sentence vectors"
        else:
            assert not store.stores_sentence_vectors(), "the older index holds none"
        embedder.clear_cache()
        answers[layout] = [
            (a.text, [c.quote for c in a.citations])
            for a in (service.ask(q, resources=resources) for q in QUESTIONS)
        ]
    assert answers["older"] == answers["current"], f"the same answers from either index: {answers}"


def test_sentence_vectors_can_be_left_to_answering(tmp_path, embedder):
    """ASSISTANT_INDEX_SENTENCE_VECTORS=false: the indexer stores offsets only (it encodes
    each chunk once) and answering embeds the retrieved sentences itself."""
    from assistant.config import IndexSettings

    (tmp_path / "corpus" / "centre").mkdir(parents=True)
    name = "centre/cpmr-mission-and-mandate.txt"
    shutil.copy(CORPUS / name, tmp_path / "corpus" / name)
    settings = make_settings(tmp_path, index=IndexSettings(sentence_vectors=False))
    store = open_store(settings, embedder.model_id, embedder.dimension)
    resources = service.Resources(
        settings, embedder, store, HybridRetriever(store, embedder, settings.retrieval), None
    )
    report = service.build_index(resources=resources)
    chunks = store.all_chunks()
    assert report.chunks_total and all(c.sentences for c in chunks), "offsets are stored"
    assert store.sentence_vectors(chunks) == {}, "no sentence vectors were stored"
    assert not report.notes, f"a setting's choice needs no upgrade note: {report.notes}"
    answer = service.ask(QUESTIONS[0], resources=resources)
    assert answer.citations, f"answering embeds the sentences itself and answers: {answer.text}"
