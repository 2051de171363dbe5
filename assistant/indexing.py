"""Bring the vector store in line with the corpus folder, re-embedding only what changed.

Each document's raw-bytes hash is stored with its chunks. A run loads the corpus, compares
hashes with the store and then adds new documents, replaces changed ones, removes those whose
file is gone and leaves the rest alone (no re-embedding). A file that fails to load is
reported and, if an earlier version of it is indexed, that version is KEPT: a half-written
upload or a briefly unreadable file must not silently delete what the assistant knew; fixing
or deleting the file settles it on the next run (a rebuild starts from an empty store, so
there it is simply missing). Everything is chunked and planned before the store is touched;
then documents are embedded and written a few at a time, a changed document's old chunks
deleted just before its new ones are stored (a shorter version must leave no stale tail). An
interrupted run never mixes two versions of a document: each is old, new or (briefly)
absent, and the next run completes the job.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant import loaders
from assistant.chunking import chunk_document
from assistant.config import ChunkingSettings
from assistant.embeddings import Embedder
from assistant.errors import ConfigError
from assistant.store import VectorStore
from assistant.types import Chunk, Document, FileFailure, IndexReport

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
EMBEDDING_STAGE = "Embedding"
# Chunks embedded before they are written; bounds memory and the work an interruption loses.
WRITE_BATCH = 256


@dataclass
class _Plan:
    """What a run will do, decided before anything is embedded or written."""

    to_embed: list[tuple[Document, list[Chunk]]] = field(default_factory=list)
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failures: list[FileFailure] = field(default_factory=list)

    @property
    def chunk_count(self) -> int:
        return sum(len(chunks) for _, chunks in self.to_embed)


def sync_corpus(
    corpus_dir: Path,
    store: VectorStore,
    embedder: Embedder,
    chunking: ChunkingSettings,
    *,
    rebuild: bool = False,
    progress: ProgressCallback | None = None,
) -> IndexReport:
    """Index new and changed documents of `corpus_dir`, drop removed ones, report what happened.

    Args:
        corpus_dir: folder of source documents.
        store: the vector store to update.
        embedder: makes the vectors and counts tokens for chunk sizing.
        chunking: chunk size and overlap.
        rebuild: empty the store first and index everything again (after a model change).
        progress: called as progress("Embedding", done, total) while embedding.

    Raises:
        ConfigError: the corpus folder does not exist.
        StoreError / ModelError: the store or the embedding model failed; no document is
            left with chunks of two versions, and the next run completes the work.
    """
    started = time.perf_counter()
    require_corpus_dir(corpus_dir)
    if rebuild:
        store.reset()
    documents, failures = loaders.load_corpus(corpus_dir)
    plan = _plan(corpus_dir, documents, failures, store.document_hashes(), embedder, chunking)
    written = _write(plan, store, embedder, progress)
    store.delete_documents(plan.removed)
    report = IndexReport(
        added=tuple(sorted(plan.added)),
        updated=tuple(sorted(plan.updated)),
        removed=tuple(sorted(plan.removed)),
        unchanged=tuple(sorted(plan.unchanged)),
        failures=tuple(sorted(plan.failures, key=lambda f: f.path)),
        chunks_written=written,
        chunks_total=store.count(),
        seconds=time.perf_counter() - started,
        rebuilt=rebuild,
    )
    log.info(
        "indexed: %d added, %d updated, %d removed, %d unchanged, %d failed",
        len(report.added),
        len(report.updated),
        len(report.removed),
        len(report.unchanged),
        len(report.failures),
    )
    return report


def require_corpus_dir(corpus_dir: Path) -> None:
    """Fail early, before any model is loaded or the store touched, on a missing folder."""
    if not corpus_dir.is_dir():
        raise ConfigError(
            f"the corpus folder {corpus_dir} does not exist: create it, pass --corpus DIR, "
            "or set ASSISTANT_CORPUS_DIR"
        )


def _failed_doc_id(corpus_dir: Path, failure: FileFailure) -> str:
    """The doc id a failed file would have had: its corpus-relative posix path."""
    path = Path(failure.path)
    if path.is_absolute():
        with contextlib.suppress(ValueError):
            return path.resolve().relative_to(corpus_dir.resolve()).as_posix()
    return path.as_posix()


def _plan(
    corpus_dir: Path,
    documents: Sequence[Document],
    failures: Sequence[FileFailure],
    indexed: dict[str, str],
    embedder: Embedder,
    chunking: ChunkingSettings,
) -> _Plan:
    plan = _Plan(failures=list(failures))
    for doc in documents:
        previous = indexed.get(doc.doc_id)
        if previous == doc.content_hash:
            plan.unchanged.append(doc.doc_id)
            continue
        chunks = chunk_document(
            doc,
            max_tokens=chunking.max_tokens,
            overlap_sentences=chunking.overlap_sentences,
            count_tokens=embedder.count_tokens,
            window=embedder.max_tokens,
        )
        if not chunks:
            plan.failures.append(FileFailure(path=doc.source, reason="no text left to index"))
            continue
        plan.to_embed.append((doc, chunks))
        (plan.added if previous is None else plan.updated).append(doc.doc_id)
    # A file that failed to load keeps its indexed version (see the module docstring).
    present = {doc.doc_id for doc in documents}
    present |= {_failed_doc_id(corpus_dir, failure) for failure in plan.failures}
    plan.removed = sorted(set(indexed) - present)
    return plan


def _write(
    plan: _Plan, store: VectorStore, embedder: Embedder, progress: ProgressCallback | None
) -> int:
    """Embed and store the planned documents a batch at a time; returns chunks written."""
    total = plan.chunk_count
    replacing = set(plan.updated)
    done = 0
    if progress and total:
        progress(EMBEDDING_STAGE, 0, total)
    group: list[tuple[Document, list[Chunk]]] = []
    for item in plan.to_embed:
        group.append(item)
        if sum(len(chunks) for _, chunks in group) >= WRITE_BATCH:
            done = _write_group(group, store, embedder, progress, done, total, replacing)
            group = []
    if group:
        done = _write_group(group, store, embedder, progress, done, total, replacing)
    return done


def _write_group(
    group: Sequence[tuple[Document, list[Chunk]]],
    store: VectorStore,
    embedder: Embedder,
    progress: ProgressCallback | None,
    done: int,
    total: int,
    replacing: set[str],
) -> int:
    chunks = [chunk for _, doc_chunks in group for chunk in doc_chunks]
    vectors: list[list[float]] = []
    for at in range(0, len(chunks), embedder.batch_size):
        batch = chunks[at : at + embedder.batch_size]
        # cache=False: bulk vectors would only flush the ones answering reuses.
        vectors.extend(embedder.embed([chunk.embedding_text() for chunk in batch], cache=False))
        done += len(batch)
        if progress:
            progress(EMBEDDING_STAGE, done, total)
    # Old chunks go first: a shorter new version must not leave stale tail chunks behind.
    store.delete_documents(doc.doc_id for doc, _ in group if doc.doc_id in replacing)
    store.upsert_chunks(chunks, vectors)
    return done
