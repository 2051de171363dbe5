"""A serving process sees another process's re-index through the store's revision record (the
catalog), and its retriever rebuilds BM25 only when that revision changes: embedded (a real
index.py process) and server mode (two separately opened clients on one `chroma run`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.indexing import sync_corpus
from assistant.retrieval import HybridRetriever
from assistant.store import open_store
from tests.conftest import ROOT, make_settings
from tests.corpora import SMALL_CHUNKS, write_corpus
from tests.retrieval.stems import counting_stems
from tests.test_store import chroma_server, server_settings

__all__ = ["chroma_server"]  # the fixture, imported for the server-mode case

NEWS = "news/zebrafish.md"
FACT = "The Centre opened a zebrafish laboratory for young researchers in Tokmok."


def add_news(corpus: Path) -> None:
    (corpus / NEWS).write_text(f"# Zebrafish laboratory\n\n{FACT}\n", encoding="utf-8")


def reader_for(settings: Settings, embedder) -> HybridRetriever:
    store = open_store(settings, embedder.model_id, embedder.dimension)
    return HybridRetriever(store, embedder, settings.retrieval)


def check_refresh(retriever: HybridRetriever, reindex, corpus: Path) -> None:
    revision = retriever.store.revision()
    lexical = retriever.lexical_index()
    assert retriever.lexical_index() is lexical, "no new revision, no BM25 rebuild"
    assert not any(h.chunk.doc_id == NEWS for h in retriever.retrieve("zebrafish Tokmok"))
    add_news(corpus)
    reindex()
    assert retriever.store.revision() != revision, "the other writer's revision is visible"
    hits = retriever.retrieve("zebrafish laboratory Tokmok")
    assert hits and hits[0].chunk.doc_id == NEWS, f"the new document is found: {hits[:2]}"
    assert hits[0].lexical_score and hits[0].dense_score, (
        f"found by BM25 (rebuilt) and by the vector index (reloaded): {hits[0]}"
    )
    assert retriever.lexical_index() is not lexical, "BM25 was rebuilt for the new revision"


def run_index_py(settings: Settings, corpus: Path) -> None:
    """The real `index.py` in its own process, on `corpus` into `settings`' store."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "CHROMA_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        ASSISTANT_CORPUS_DIR=str(corpus),
        ASSISTANT_CHROMA_DIR=str(settings.paths.chroma_dir),
        ASSISTANT_CHUNK_MAX_TOKENS=str(SMALL_CHUNKS.max_tokens),
    )
    done = subprocess.run(
        [sys.executable, str(ROOT / "index.py"), "--quiet"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, f"index.py failed: {done.stderr}"


def test_embedded_reader_sees_a_reindex_by_another_process(tmp_path, embedder):
    settings = make_settings(tmp_path, chunking=SMALL_CHUNKS)
    corpus = write_corpus(settings.paths.corpus_dir, {0: 1, 1: 1})

    def reindex() -> None:
        run_index_py(settings, corpus)

    reindex()
    retriever = reader_for(settings, embedder)
    check_refresh(retriever, reindex, corpus)


@pytest.mark.server
def test_server_reader_sees_a_reindex_by_another_client(tmp_path, embedder, chroma_server):
    settings = server_settings(tmp_path, chroma_server, "refresh")
    settings = settings.model_copy(update={"chunking": SMALL_CHUNKS})
    corpus = write_corpus(settings.paths.corpus_dir, {0: 1, 1: 1})
    writer = open_store(settings, embedder.model_id, embedder.dimension)

    def reindex() -> None:
        sync_corpus(corpus, writer, embedder, SMALL_CHUNKS)

    reindex()
    retriever = reader_for(settings, embedder)
    assert retriever.store is not writer
    check_refresh(retriever, reindex, corpus)


# -- the saved BM25 index: written by the writer, loaded by a starting reader ----------------


def saving_reader(settings: Settings, embedder) -> HybridRetriever:
    store = open_store(settings, embedder.model_id, embedder.dimension)
    return HybridRetriever(store, embedder, settings.retrieval, lexical_dir=settings.lexical_dir)


def check_loads_saved(settings: Settings, embedder, monkeypatch) -> None:
    saved = [p for p in settings.lexical_dir.iterdir() if p.is_dir()]
    assert len(saved) == 1, f"the writer saves one BM25 index for its revision: {saved}"
    stems = counting_stems(monkeypatch)
    reader = saving_reader(settings, embedder)
    index = reader.lexical_index()
    assert len(index) == reader.store.count(), "the loaded index covers every stored chunk"
    assert stems == [], f"a starting reader loads the saved index, it stems nothing: {stems}"
    hits = reader.retrieve("zebrafish laboratory Tokmok")
    assert hits and hits[0].chunk.doc_id == NEWS and hits[0].lexical_score, (
        f"the loaded index finds the new document by its words: {hits[:2]}"
    )


def test_index_py_saves_bm25_for_serving_processes(tmp_path, embedder, monkeypatch):
    settings = make_settings(tmp_path, chunking=SMALL_CHUNKS)
    corpus = write_corpus(settings.paths.corpus_dir, {0: 1, 1: 1})
    add_news(corpus)
    run_index_py(settings, corpus)
    check_loads_saved(settings, embedder, monkeypatch)


@pytest.mark.server
def test_server_mode_keeps_a_local_bm25_copy(tmp_path, embedder, chroma_server, monkeypatch):
    # Chroma server mode: the saved index lives on the local disk of the process that built
    # it (the writer here); a replica on another machine builds its own once and saves it.
    from assistant import service

    settings = server_settings(tmp_path, chroma_server, "saved-bm25")
    settings = settings.model_copy(update={"chunking": SMALL_CHUNKS})
    corpus = write_corpus(settings.paths.corpus_dir, {0: 1, 1: 1})
    add_news(corpus)
    writer = service.load_resources(settings, with_chat_model=False)
    report = service.build_index(resources=writer)
    assert report.ok, report
    check_loads_saved(settings, embedder, monkeypatch)
    elsewhere = settings.model_copy(
        update={"paths": settings.paths.model_copy(update={"chroma_dir": tmp_path / "replica"})}
    )
    replica = saving_reader(elsewhere, embedder)
    assert len(replica.lexical_index()) == replica.store.count(), "a replica builds its own"
    assert any(elsewhere.lexical_dir.iterdir()), "... and saves it for its next start"
