"""Sentence offsets and vectors made at index time: the same sentences as answering splits,
vectors pooled from each chunk's own forward pass (late chunking) by the one function that
answering also uses over an index without them, so such an index answers the same."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from assistant import loaders, service
from assistant import store as store_module
from assistant.chunking import chunk_document
from assistant.indexing import LATE_NOTE, STANDALONE_NOTE, unchanged_report, upgrade_notes
from assistant.retrieval import HybridRetriever
from assistant.sentences import (
    chunk_sentences,
    embed_chunks,
    pack,
    sentence_key,
    sentence_texts,
    sentence_vectors,
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
    pooled = embed_chunks(chunks, embedder, late=False)
    for chunk, value in zip(chunks, pooled.packed, strict=True):
        vectors = stored_vectors(chunk, value, embedder.dimension)
        texts = sentence_texts(chunk)
        keys = [chunk.title, *(sentence_key(chunk, t) for t in texts[1:])]
        assert set(vectors) == set(keys), f"{chunk.chunk_id}: a vector per title and sentence"
        fresh = np.asarray(embedder.embed(texts))
        cosines = [float(vectors[k] @ f) for k, f in zip(keys, fresh, strict=True)]
        assert min(cosines) > 0.9999, f"{chunk.chunk_id}: float16 keeps the vectors: {cosines}"
    own = embedder.embed([chunk.embedding_text() for chunk in chunks], cache=False)
    assert pooled.chunk_vectors == own, (
        "encoded in one call with their sentences, the chunks' vectors must be the ones they "
        "get alone"
    )
    alone = embed_chunks(chunks, embedder, late=False, chunk_vectors=False)
    assert alone.chunk_vectors == [] and alone.packed == pooled.packed


def test_stored_vectors_are_pooled_from_the_chunks_own_pass(corpus_chunks, embedder):
    chunks = corpus_chunks[:6]
    pooled = embed_chunks(chunks, embedder, late=True)
    assert pooled.standalone == 0, "no sentence of a 160-token chunk lies past the window"
    plain = np.asarray(embedder.embed([c.embedding_text() for c in chunks], cache=False))
    assert np.allclose(pooled.chunk_vectors, plain, atol=1e-6), (
        "a chunk's vector is the one it had before sentence vectors were pooled"
    )
    for chunk, value in zip(chunks, pooled.packed, strict=True):
        vectors = stored_vectors(chunk, value, embedder.dimension)
        texts = sentence_texts(chunk)
        keys = {chunk.title, *(sentence_key(chunk, t) for t in texts[1:])}
        assert set(vectors) == keys, f"{chunk.chunk_id}: a vector per title and sentence"
        title = np.asarray(embedder.embed([chunk.title], cache=False)[0])
        assert float(vectors[chunk.title] @ title) > 0.9999, "the title is encoded on its own"
        text = chunk.embedding_text()
        shift = len(text) - len(chunk.text)
        spans = [(s.start + shift, s.end + shift) for s in chunk_sentences(chunk)]
        _, rows = embedder.embed_spans([text], [spans])
        cosines = [
            float(vectors[sentence_key(chunk, t)] @ r)
            for t, r in zip(texts[1:], rows[0], strict=True)
        ]
        assert min(cosines) > 0.9999, (
            f"{chunk.chunk_id}: each sentence's vector is pooled from its chunk's tokens "
            f"(float16 keeps it): {cosines}"
        )


def test_a_sentence_past_the_window_is_encoded_on_its_own(embedder):
    """A chunk longer than the model reads (an over-long sentence can make one): the sentences
    the tokenizer truncated away have no tokens, so each is encoded alone and counted."""
    sentences = [
        f"Sentence {n} tells one more fact about the centre's research." for n in range(50)
    ]
    text = " ".join(sentences)
    starts = [text.index(s) for s in sentences]
    chunk = corpora.one_chunk(
        text,
        doc_id="news/long.md",
        title="A long one",
        sentences=tuple((a, a + len(s)) for a, s in zip(starts, sentences, strict=True)),
    )
    pooled = embed_chunks([chunk], embedder, late=True)
    vectors = stored_vectors(chunk, pooled.packed[0], embedder.dimension)
    alone = dict(zip(sentences, np.asarray(embedder.embed(sentences, cache=False)), strict=True))
    same = [float(vectors[sentence_key(chunk, s)] @ alone[s]) > 0.9999 for s in sentences]
    assert 0 < pooled.standalone < len(sentences), f"some fell past the window: {pooled}"
    assert same[-pooled.standalone :] == [True] * pooled.standalone, (
        "the sentences past the window have their standalone vectors"
    )
    assert not any(same[: -pooled.standalone]), "the ones inside it are pooled in context"


def test_a_packing_that_does_not_fit_its_chunk_is_ignored(corpus_chunks, embedder):
    chunk = corpus_chunks[0]
    rows = np.ones((len(sentence_texts(chunk)) + 1, embedder.dimension), dtype=np.float32)
    assert stored_vectors(chunk, pack(rows), embedder.dimension) == {}, "one row too many"
    assert unpack("not base64!", embedder.dimension) is None, "garbage is no packing"
    assert unpack(pack(rows[:1])[:-4], embedder.dimension) is None, "a truncated packing"
    old = chunk.model_copy(update={"sentences": None})
    assert chunk_sentences(old) == split_sentences(chunk.text), "no offsets: split as before"
    texts = sentence_texts(old)
    keys = {old.title, *(sentence_key(old, t) for t in texts[1:])}
    for late in (False, True):
        vectors = sentence_vectors([old], embedder, late=late)
        assert set(vectors) == keys, f"late={late}: an older chunk is split, then embedded"


@pytest.mark.parametrize("late", [False, True], ids=["standalone", "late-chunking"])
def test_an_index_without_sentence_data_answers_the_same(tmp_path, embedder, late):
    """An index written before sentence data was stored falls back to splitting and making
    the vectors per question by the indexer's own function, and its answers are the same as
    those of a current index, with either kind of sentence vector."""
    from assistant.config import IndexSettings

    answers = {}
    for layout in ("current", "older"):
        base = tmp_path / layout
        shutil.copytree(CORPUS, base / "corpus")
        settings = make_settings(base, index=IndexSettings(late_chunking=late))
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
            _assert_chunk_vectors_unchanged(store, embedder)
        else:
            assert not store.stores_sentence_vectors(), "the older index holds none"
        embedder.clear_cache()
        answers[layout] = [
            (a.text, [c.quote for c in a.citations])
            for a in (service.ask(q, resources=resources) for q in QUESTIONS)
        ]
    assert answers["older"] == answers["current"], f"the same answers from either index: {answers}"


def _assert_chunk_vectors_unchanged(store, embedder):
    """What a chunk is searched by is its text's vector, as it was before sentences were
    pooled from the same pass."""
    rows = list(store.export())
    plain = np.asarray(embedder.embed([c.embedding_text() for c, _, _ in rows], cache=False))
    stored = np.asarray([vector for _, vector, _ in rows])
    assert np.allclose(stored, plain, atol=1e-6), "stored chunk vectors are the plain encode"
    assert all(packed for _, _, packed in rows), "every chunk has its sentence vectors"


def test_an_index_of_the_other_kind_of_sentence_vectors_says_to_rebuild(tmp_path, embedder):
    """Each kind of sentence vector has its own fitted scorer: an index of standalone vectors
    (format 2) opened with late chunking on sets them aside (answering pools per question) and
    index.py says how to upgrade; a rebuild writes pooled ones (format 3), and the other way
    round the note names the setting."""
    from assistant.config import IndexSettings

    (tmp_path / "corpus" / "centre").mkdir(parents=True)
    name = "centre/cpmr-mission-and-mandate.txt"
    shutil.copy(CORPUS / name, tmp_path / "corpus" / name)

    def resources_for(late):
        settings = make_settings(tmp_path, index=IndexSettings(late_chunking=late))
        store = open_store(settings, embedder.model_id, embedder.dimension)
        retriever = HybridRetriever(store, embedder, settings.retrieval)
        return service.Resources(settings, embedder, store, retriever, None)

    standalone = resources_for(False)
    assert not service.build_index(resources=standalone).notes, "current when written"
    late = resources_for(True)
    store = late.store
    assert store.index_format() == store_module.STANDALONE_FORMAT, "written as format 2"
    assert not store.stores_sentence_vectors(), "not the kind late chunking reads"
    assert store.sentence_vectors(store.all_chunks()) == {}, "its sentence vectors are unused"
    report = service.build_index(resources=late)
    assert report.notes == (STANDALONE_NOTE,), f"the run says to rebuild: {report.notes}"
    assert "--rebuild" in STANDALONE_NOTE, "the note names the command"
    quick = unchanged_report(late.settings.paths.corpus_dir, store)
    assert quick is not None and quick.notes == (STANDALONE_NOTE,), "so does the quick path"
    answer = service.ask(QUESTIONS[0], resources=late)
    assert answer.citations, f"it still answers, pooling per question: {answer.text}"
    report = service.build_index(rebuild=True, resources=late)
    assert not report.notes and store.stores_sentence_vectors(), "a rebuild brings it current"
    assert store.index_format() == store_module.LATE_FORMAT, "rebuilt as format 3"
    assert upgrade_notes(resources_for(False).store) == (LATE_NOTE,), (
        "with late chunking off again, the pooled vectors are set aside and the note says so"
    )


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
