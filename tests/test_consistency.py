"""`index.py --verify` / `--repair` on deliberately broken stores: each kind of damage is named
with its document, repair fixes it, and a real `index.py` killed with SIGKILL at several points
of a run is finished by the next run (verify passes each time)."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import chromadb
import pytest
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings

from assistant import index_cli
from assistant.config import Settings
from assistant.consistency import repair, verify
from assistant.indexing import sync_corpus
from assistant.store import CATALOG_SUFFIX, LIVE_KEY, VectorStore, open_store
from tests.conftest import ROOT, make_settings
from tests.corpora import SMALL_BATCH, SMALL_CHUNKS, Remembering, article, write_corpus

DOCS = {0: 1, 1: 1, 2: 1}
FIRST, SECOND = "news/report-0.md", "news/report-1.md"


def raw(settings: Settings) -> tuple[Collection, Collection]:
    """The live space's chunk and manifest collections, opened with Chroma's own client, for
    doing damage the assistant never does."""
    client = chromadb.PersistentClient(
        path=str(settings.paths.chroma_dir), settings=ChromaSettings(anonymized_telemetry=False)
    )
    catalog = client.get_collection(f"{settings.store.collection}{CATALOG_SUFFIX}")
    live = str((catalog.metadata or {})[LIVE_KEY])
    return client.get_collection(live), client.get_collection(f"{live}-docs")


@pytest.fixture
def indexed(tmp_path: Path, embedder) -> tuple[Path, Settings, VectorStore]:
    settings = make_settings(tmp_path)
    corpus = write_corpus(tmp_path / "corpus", DOCS)
    store = open_store(settings, embedder.model_id, embedder.dimension)
    sync_corpus(corpus, store, remembered(embedder), SMALL_CHUNKS, write_batch=SMALL_BATCH)
    return corpus, settings, store


_REMEMBERING: list[Remembering] = []


def remembered(embedder: Any) -> Remembering:
    """One remembering embedder for the module: every case indexes the same texts."""
    if not _REMEMBERING:
        _REMEMBERING.append(Remembering(embedder))
    return _REMEMBERING[0]


def first_record(chunks: Collection, doc_id: str) -> tuple[str, dict[str, Any], Any]:
    got = chunks.get(where={"doc_id": doc_id}, include=["metadatas", "embeddings", "documents"])
    meta = dict(got["metadatas"][0])
    return got["ids"][0], meta, (got["embeddings"][0], got["documents"][0])


def lose_a_chunk(corpus: Path, settings: Settings) -> None:
    chunks, _ = raw(settings)
    chunks.delete(ids=[first_record(chunks, FIRST)[0]])


def duplicate_a_chunk(corpus: Path, settings: Settings) -> None:
    chunks, _ = raw(settings)
    rid, meta, (vector, text) = first_record(chunks, FIRST)
    chunks.add(ids=[rid + "-copy"], embeddings=[vector], documents=[text], metadatas=[meta])


def leave_a_stray_generation(corpus: Path, settings: Settings) -> None:
    chunks, _ = raw(settings)
    rid, meta, (vector, text) = first_record(chunks, FIRST)
    meta["generation"] = "0" * 16
    chunks.add(ids=[rid + "-old"], embeddings=[vector], documents=[text], metadatas=[meta])


def orphan_the_chunks(corpus: Path, settings: Settings) -> None:
    _, docs = raw(settings)
    docs.delete(ids=[FIRST])


def change_a_chunk_hash(corpus: Path, settings: Settings) -> None:
    chunks, _ = raw(settings)
    rid, meta, _ = first_record(chunks, FIRST)
    chunks.update(ids=[rid], metadatas=[{**meta, "doc_hash": "f" * 64}])


def mark_dirty(corpus: Path, settings: Settings) -> None:
    _, docs = raw(settings)
    meta = dict(docs.get(ids=[FIRST])["metadatas"][0])
    docs.update(ids=[FIRST], metadatas=[{**meta, "dirty": True}])


def delete_the_file(corpus: Path, settings: Settings) -> None:
    (corpus / FIRST).unlink()


def change_the_file(corpus: Path, settings: Settings) -> None:
    (corpus / FIRST).write_text(article(0, version=3), encoding="utf-8")


def add_a_file(corpus: Path, settings: Settings) -> None:
    write_corpus(corpus, {**DOCS, 7: 1})


DAMAGE: dict[str, tuple[Callable[[Path, Settings], None], str, str]] = {
    "lost chunk": (lose_a_chunk, FIRST, "live chunk(s), the manifest says"),
    "duplicate": (duplicate_a_chunk, FIRST, "duplicate chunks at position(s) [0]"),
    "stray generation": (leave_a_stray_generation, FIRST, "of an unfinished or replaced version"),
    "orphan chunks": (orphan_the_chunks, FIRST, "of a removed or never-finished document"),
    "wrong hash": (change_a_chunk_hash, FIRST, "another content hash than the manifest"),
    "dirty record": (mark_dirty, FIRST, "replacement unfinished"),
    "removed file": (delete_the_file, FIRST, "its file is no longer in the corpus"),
    "changed file": (change_the_file, FIRST, "older version than the file"),
    "new file": (add_a_file, "news/report-7.md", "in the corpus but not indexed"),
}


def test_a_fresh_index_verifies(indexed):
    corpus, _, store = indexed
    result = verify(corpus, store)
    assert result.ok, f"a freshly built index is consistent: {result.lines()}"
    assert result.documents == 3 and result.chunks == store.count()


@pytest.mark.parametrize("case", list(DAMAGE))
def test_verify_names_the_damage_and_repair_fixes_it(case, indexed, embedder):
    corpus, settings, _ = indexed
    damage, doc_id, expected = DAMAGE[case]
    damage(corpus, settings)
    reader = open_store(settings, embedder.model_id, embedder.dimension)
    found = verify(corpus, reader)
    assert not found.ok, f"{case}: verify must fail"
    problems = found.problems.get(doc_id, [])
    assert any(expected in p for p in problems), (
        f"{case}: verify should say {expected!r} for {doc_id}: {found.lines()}"
    )
    assert any(doc_id in line for line in found.lines()), "the report names the document"

    def reindex(doc_ids: set[str]) -> object:
        return sync_corpus(
            corpus,
            reader,
            remembered(embedder),
            SMALL_CHUNKS,
            write_batch=SMALL_BATCH,
            force=doc_ids,
        )

    after = repair(corpus, reader, reindex)
    assert after.ok, f"{case}: repair must leave a consistent index: {after.lines()}"
    assert verify(corpus, open_store(settings, embedder.model_id, embedder.dimension)).ok


def test_index_cli_verify_and_repair_exit_status(indexed, monkeypatch, capsys):
    corpus, settings, _ = indexed
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("ASSISTANT_CHROMA_DIR", str(settings.paths.chroma_dir))
    lose_a_chunk(corpus, settings)
    status = index_cli.main(["--verify"], out=io.StringIO())
    err = capsys.readouterr().err
    assert status == 1, f"--verify exits 1 on a broken index: {err}"
    assert FIRST in err and "manifest says" in err, f"--verify names what is wrong: {err}"
    out = io.StringIO()
    assert index_cli.main(["--repair", "--quiet"], out=out) == 0, capsys.readouterr().err
    out = io.StringIO()
    assert index_cli.main(["--verify"], out=out) == 0, capsys.readouterr().err
    assert "index consistent: 3 documents" in out.getvalue(), out.getvalue()


# -- a real index.py killed with SIGKILL ------------------------------------------------------


def index_env(base: Path) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ASSISTANT_", "CHROMA_")) or k == "ASSISTANT_EMBEDDING_MODEL"
    }
    env.update(
        PYTHONPATH=str(ROOT),
        ASSISTANT_CORPUS_DIR=str(base / "corpus"),
        ASSISTANT_CHROMA_DIR=str(base / "chroma"),
        ASSISTANT_INDEX_WRITE_BATCH=str(SMALL_BATCH),
        ASSISTANT_CHUNK_MAX_TOKENS=str(SMALL_CHUNKS.max_tokens),
        ASSISTANT_CHUNK_OVERLAP_SENTENCES="0",
        ASSISTANT_LOG_LEVEL="INFO",
    )
    return env


def index_py(base: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(ROOT / "index.py"), "--quiet", *args],
        env=index_env(base),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def kill_after(base: Path, marker: str, count: int) -> str:
    """Run index.py and SIGKILL it once its log has shown `marker` `count` times."""
    process = subprocess.Popen(
        [sys.executable, str(ROOT / "index.py"), "--quiet"],
        env=index_env(base),
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
    )
    assert process.stderr is not None
    seen = 0
    lines = []
    deadline = time.monotonic() + 600
    for line in process.stderr:
        lines.append(line)
        if marker in line:
            seen += 1
            if seen == count:
                process.send_signal(signal.SIGKILL)
                break
        assert time.monotonic() < deadline, "index.py took too long"
    process.wait(timeout=60)
    assert process.returncode == -signal.SIGKILL, (
        f"index.py should have been killed after {count} x {marker!r}: {''.join(lines)[-2000:]}"
    )
    return "".join(lines)


INITIAL = {n: 1 for n in range(6)}
# 0-3 change, 4 and 5 are removed, 9 is added.
UPDATE = {n: 2 for n in range(4)} | {9: 1}


@pytest.mark.slow
@pytest.mark.timeout(1800)  # four index.py processes; a busy shared machine is slow to start them
@pytest.mark.parametrize(
    ("update", "marker", "count"),
    [
        (False, "stored", 1),  # inside the first document of the first run
        (False, "stored", 5),  # later, some documents committed
        (True, "stored", 2),  # inside a replacement
        (True, "committed", 2),  # right after a switch
    ],
)
def test_index_py_killed_mid_run_is_finished_by_the_next_run(
    tmp_path, embedder, update, marker, count
):
    corpus = write_corpus(tmp_path / "corpus", INITIAL)
    if update:
        assert index_py(tmp_path).returncode == 0
        write_corpus(corpus, UPDATE)
    kill_after(tmp_path, marker, count)

    reader = open_store(make_settings(tmp_path), embedder.model_id, embedder.dimension)
    live: dict[str, int] = {}
    for chunk in reader.all_chunks():
        live[chunk.doc_id] = live.get(chunk.doc_id, 0) + 1
    expected = {d: r.chunks for d, r in reader.records().items() if r.generation}
    assert live == expected, f"after the kill readers see whole documents only: {live}"

    rerun = index_py(tmp_path)
    assert rerun.returncode == 0, f"the run after the kill completes: {rerun.stderr[-2000:]}"
    checked = index_py(tmp_path, "--verify")
    assert checked.returncode == 0, (
        f"--verify after kill at {count} x {marker!r} and a rerun: {checked.stdout}{checked.stderr}"
    )
