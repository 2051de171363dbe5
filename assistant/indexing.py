"""Bring the vector store in line with the corpus folder, re-embedding only what changed.

Every file is hashed before it is parsed: a file whose raw-bytes hash matches the indexed
version is never read by the PDF or HTML parser again, so re-running on an unchanged corpus
costs one read and one hash per file. New and changed files are parsed and chunked in a
background thread while the main thread embeds and writes what is ready, a group at a time
(ONNX Runtime releases the GIL while it computes, so chunking overlaps with encoding). A
changed document is replaced atomically (see `assistant.store`: new chunks under a new
generation, one manifest write to switch, then the old ones deleted), so a run killed at any
point leaves each document whole-old or whole-new and the next run finishes the job
(`VectorStore.tidy`). A file that fails to load is reported and its previously indexed version
is KEPT: a half-written upload or a briefly unreadable file must not silently delete what the
assistant knew. A rebuild fills a new space that readers see only once it is complete.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from assistant.config import ChunkingSettings
from assistant.errors import ConfigError, DocumentError
from assistant.loaders.files import SUPPORTED_SUFFIXES, is_document_path, read_bytes, visible_files
from assistant.store import (
    LATE_FORMAT,
    STANDALONE_FORMAT,
    IndexedDocument,
    VectorStore,
    new_generation,
)
from assistant.timing import Phases
from assistant.types import Chunk, Document, FileFailure, IndexReport

# The parsers, the chunker and the model are imported where a document is parsed: a run on an
# unchanged corpus only hashes files (see `unchanged_report`).
if TYPE_CHECKING:
    from assistant.embeddings import Embedder

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
EMBEDDING_STAGE = "Embedding"
# Chunks embedded and written per batch when no setting says otherwise.
WRITE_BATCH = 512
# The phases of a run's report (`IndexReport.phases`), in the order they start.
HASHING = "hashing files"
CHUNKING = "parsing and chunking (background thread)"
WAITING = "waiting for chunks"
ENCODING = "encoding chunks and sentences"
WRITING = "store writes"


@dataclass
class _Plan:
    """What a run will do, decided from file hashes before anything is parsed or embedded;
    `added`, `updated` and `failures` are completed while the files are parsed."""

    pending: list[tuple[str, bytes, bool]] = field(default_factory=list)
    """(doc id, file bytes, whether a live version is indexed) of each file to (re)index."""
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    failures: list[FileFailure] = field(default_factory=list)
    chunks_prepared: int = 0


def sync_corpus(
    corpus_dir: Path,
    store: VectorStore,
    embedder: Embedder,
    chunking: ChunkingSettings,
    *,
    rebuild: bool = False,
    progress: ProgressCallback | None = None,
    write_batch: int = WRITE_BATCH,
    force: Collection[str] = (),
    sentence_vectors: bool = True,
    late_chunking: bool = False,
) -> IndexReport:
    """Index new and changed documents of `corpus_dir`, drop removed ones, report what happened.

    The caller holds the index lock (`assistant.locking`).

    Args:
        corpus_dir: folder of source documents.
        store: the vector store to update.
        embedder: makes the vectors and counts tokens for chunk sizing.
        chunking: chunk size and overlap.
        rebuild: index everything into a new space and switch to it when done (after a model
            change); the live index stays whole meanwhile.
        progress: called as progress("Embedding", done, total) while embedding.
        write_batch: chunks embedded and written per batch.
        force: doc ids to re-index even when their hash is unchanged (repairs).
        sentence_vectors: store each sentence's vector with its chunk (see `assistant.sentences`).
        late_chunking: pool those from the chunk's own forward pass instead of encoding each
            sentence on its own (the store must be opened with the same setting).

    Raises:
        ConfigError: the corpus folder does not exist.
        StoreError / ModelError: the store or the embedding model failed; no document is
            left with chunks of two versions, and the next run completes the work.
    """
    started = time.perf_counter()
    phases = Phases()
    require_corpus_dir(corpus_dir)
    if rebuild:
        store.start_rebuild()
    try:
        with phases.measure(HASHING):
            store.tidy()
            plan = _survey(corpus_dir, store.manifest(), force)
        prepared = _Ahead(_prepare(plan, embedder, chunking), ahead=PREPARED_AHEAD)
        try:
            written = _write(
                _waited(prepared, phases, prepared.cpu),
                plan,
                store,
                embedder,
                progress,
                max(1, write_batch),
                sentence_vectors,
                late_chunking,
                phases,
                prepared.cpu,
            )
        finally:
            prepared.close()
        # Its CPU was left out of the phases it overlapped (see `Phases.measure`).
        phases.add(CHUNKING, prepared.busy, prepared.cpu())
        with phases.measure(WRITING):
            store.delete_documents(plan.removed)
            if rebuild:
                store.finish_rebuild()
    except BaseException:
        if rebuild:
            with contextlib.suppress(Exception):
                store.abandon_rebuild()
        raise
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
        notes=upgrade_notes(store),
        phases=phases.times(),
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


def unchanged_report(corpus_dir: Path, store: VectorStore) -> IndexReport | None:
    """The report of a run with nothing to do, found by hashing alone, or None when any
    document is new, changed, removed, unreadable or left unfinished (then run the sync,
    which needs the embedding model). Lets a scheduled run on an unchanged corpus finish
    without loading the model."""
    started = time.perf_counter()
    require_corpus_dir(corpus_dir)
    records = store.records()
    if any(r.dirty or not r.generation for r in records.values()):
        return None
    unchanged = []
    for doc_id, path in visible_files(corpus_dir):
        record = records.get(doc_id)
        try:
            data = _read(path, doc_id)
        except DocumentError:
            return None
        if record is None or record.doc_hash != file_hash(data):
            return None
        unchanged.append(doc_id)
    if len(unchanged) != len(records):
        return None
    return IndexReport(
        unchanged=tuple(sorted(unchanged)),
        chunks_total=sum(r.chunks for r in records.values()),
        seconds=time.perf_counter() - started,
        notes=upgrade_notes(store),
    )


UPGRADE_NOTE = (
    "This index was written by an earlier version without sentence vectors, so every "
    "question embeds the sentences it reads (slower). Run `python index.py --rebuild` once "
    "to store them."
)
# Each way of making sentence vectors has its own fitted scorer: vectors of the other way are
# set aside, never mixed in.
STANDALONE_NOTE = (
    "This index stores sentence vectors made one sentence at a time, but late chunking is on "
    "(ASSISTANT_INDEX_LATE_CHUNKING): they are pooled from each chunk's own pass, as that "
    "scorer was trained, so every question computes them (slower). Run "
    "`python index.py --rebuild` once to store them."
)
LATE_NOTE = (
    "This index stores sentence vectors pooled from each chunk's pass (late chunking), but "
    "late chunking is off: every question embeds its sentences one at a time (slower). Run "
    "`python index.py --rebuild` once to store them, or set ASSISTANT_INDEX_LATE_CHUNKING=true."
)


def upgrade_notes(store: VectorStore) -> tuple[str, ...]:
    """What the user should do to bring an index of an older format, or of the other kind of
    sentence vectors, up to date."""
    if store.stores_sentence_vectors():
        return ()
    written = store.index_format()
    if written == STANDALONE_FORMAT:
        return (STANDALONE_NOTE,)
    return (LATE_NOTE,) if written == LATE_FORMAT else (UPGRADE_NOTE,)


def require_corpus_dir(corpus_dir: Path) -> None:
    """Fail early, before any model is loaded or the store touched, on a missing folder."""
    if not corpus_dir.is_dir():
        raise ConfigError(
            f"the corpus folder {corpus_dir} does not exist: create it, pass --corpus DIR, "
            "or set ASSISTANT_CORPUS_DIR"
        )


def file_hash(data: bytes) -> str:
    """The content hash a document is indexed under (the same one `loaders` records)."""
    return hashlib.sha256(data).hexdigest()


def _read(path: Path, doc_id: str) -> bytes:
    if not is_document_path(PurePosixPath(doc_id)):
        # Reported rather than skipped: staff who drop a .docx into news/ need to learn
        # why it never shows up.
        raise DocumentError(
            f"unsupported file type '{path.suffix.lower() or '(none)'}': not indexed; "
            f"save it as {', '.join(SUPPORTED_SUFFIXES)}"
        )
    return read_bytes(path)


def _survey(corpus_dir: Path, indexed: dict[str, IndexedDocument], force: Collection[str]) -> _Plan:
    """Hash every file: which are unchanged, which need indexing, which were removed."""
    plan = _Plan()
    present: set[str] = set()
    for doc_id, path in visible_files(corpus_dir):
        # A file that fails to load keeps its indexed version (see the module docstring).
        present.add(doc_id)
        record = indexed.get(doc_id)
        live = record is not None and bool(record.generation)
        try:
            data = _read(path, doc_id)
        except DocumentError as exc:
            plan.failures.append(FileFailure(path=doc_id, reason=str(exc)))
            log.warning("skipped %s: %s", doc_id, exc)
            continue
        if live and record and record.doc_hash == file_hash(data) and doc_id not in force:
            plan.unchanged.append(doc_id)
        else:
            plan.pending.append((doc_id, data, live))
    plan.removed = sorted(d for d, r in indexed.items() if d not in present and r.generation)
    return plan


def _prepare(
    plan: _Plan, embedder: Embedder, chunking: ChunkingSettings
) -> Iterator[tuple[Document, list[Chunk]]]:
    """Parse and chunk the pending files, in order; a file that fails is recorded in `plan`."""
    from assistant import loaders
    from assistant.chunking import chunk_document

    count_many = embedder.token_counter()  # this runs beside the encoder: its own tokenizer
    for doc_id, data, live in plan.pending:
        try:
            doc = loaders.parse_document(data, doc_id)
        except DocumentError as exc:
            plan.failures.append(FileFailure(path=doc_id, reason=str(exc)))
            log.warning("skipped %s: %s", doc_id, exc)
            continue
        chunks = chunk_document(
            doc,
            max_tokens=chunking.max_tokens,
            overlap_sentences=chunking.overlap_sentences,
            count_tokens=lambda text: count_many([text])[0],
            window=embedder.max_tokens,
            count_many=count_many,
        )
        if not chunks:
            plan.failures.append(FileFailure(path=doc_id, reason="no text left to index"))
            continue
        (plan.updated if live else plan.added).append(doc_id)
        plan.chunks_prepared += len(chunks)
        yield doc, chunks


# Documents parsed and chunked ahead of the encoder, at most: bounds memory on a huge corpus.
PREPARED_AHEAD = 256


class _Ahead(Iterator[tuple[Document, list[Chunk]]]):
    """Runs an iterator in a background thread, `ahead` items in advance; an exception it
    raises is raised again here. `close` stops it (the thread ends at its next item)."""

    def __init__(self, items: Iterator[tuple[Document, list[Chunk]]], *, ahead: int) -> None:
        self._queue: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=max(1, ahead))
        self._stop = threading.Event()
        self._ended = False
        self.busy = 0.0
        """Wall seconds the thread spent making items (not waiting to hand them over)."""
        self._cpu = 0.0
        self._thread = threading.Thread(
            target=self._run, args=(items,), name="index-prepare", daemon=True
        )
        self._thread.start()

    def _run(self, items: Iterator[tuple[Document, list[Chunk]]]) -> None:
        cpu = time.thread_time()
        try:
            while True:
                started = time.perf_counter()
                item = next(items, None)
                self.busy += time.perf_counter() - started
                self._cpu = time.thread_time() - cpu
                if item is None:
                    break
                if not self._put("item", item):
                    return
            self._put("end", None)
        except BaseException as exc:  # handed to the consumer, which raises it
            self._put("error", exc)

    def cpu(self) -> float:
        """CPU seconds the thread has used so far (as of the last item it made)."""
        return self._cpu

    def _put(self, kind: str, value: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put((kind, value), timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def __next__(self) -> tuple[Document, list[Chunk]]:
        if self._ended:
            raise StopIteration
        kind, value = self._queue.get()
        if kind == "item":
            return value  # type: ignore[return-value]
        self._ended = True
        if kind == "error":
            raise value  # type: ignore[misc]
        raise StopIteration

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


# Chunks in the first group the encoder takes; each next group is twice the last, up to the
# write batch. A first group of a whole batch (512 chunks, ~75 news articles) kept the encoder
# idle for the ~3 s the background thread took to chunk them; the chunker is ~10 times faster
# than the encoder, so doubling groups never wait after the first.
FIRST_GROUP = 64


def _groups(
    items: Iterable[tuple[Document, list[Chunk]]], size: int, first: int | None = None
) -> Iterator[list[tuple[Document, list[Chunk]]]]:
    """Documents in groups of about `size` chunks (a bigger document is a group alone), the
    first of about `first`, the next ones doubling up to `size`."""
    group: list[tuple[Document, list[Chunk]]] = []
    count = 0
    limit = min(first or size, size)
    for item in items:
        if group and count + len(item[1]) > limit:
            yield group
            group, count = [], 0
            limit = min(limit * 2, size)
        group.append(item)
        count += len(item[1])
    if group:
        yield group


def _waited(
    items: Iterator[tuple[Document, list[Chunk]]], phases: Phases, background: Callable[[], float]
) -> Iterator[tuple[Document, list[Chunk]]]:
    """`items`, the time spent waiting for each recorded as a phase."""
    while True:
        with phases.measure(WAITING, background):
            item = next(items, None)
        if item is None:
            return
        yield item


def _write(
    items: Iterable[tuple[Document, list[Chunk]]],
    plan: _Plan,
    store: VectorStore,
    embedder: Embedder,
    progress: ProgressCallback | None,
    write_batch: int,
    sentence_vectors: bool = True,
    late_chunking: bool = False,
    phases: Phases | None = None,
    background: Callable[[], float] | None = None,
) -> int:
    """Embed and store the prepared documents a group at a time; returns chunks written.
    Progress reports the chunks prepared so far as the total: it grows until every file is
    chunked, which happens well before the encoder catches up."""
    phases = phases or Phases()
    done = standalone = 0
    with phases.measure(WRITING, background):
        known = store.manifest() if plan.pending else {}
    for group in _groups(items, write_batch, FIRST_GROUP):
        if progress and done == 0:
            progress(EMBEDDING_STAGE, 0, plan.chunks_prepared)
        generations = {doc.doc_id: new_generation() for doc, _ in group}
        with phases.measure(WRITING, background):
            store.begin([known.get(d) or IndexedDocument(doc_id=d) for d in generations])
        chunks = [chunk for _, doc_chunks in group for chunk in doc_chunks]
        # A document bigger than a batch is written in several; it becomes visible only at
        # the commit below, all at once. One encode call per batch lets the model sort the
        # texts by length, so little padding is computed.
        for at in range(0, len(chunks), write_batch):
            part = chunks[at : at + write_batch]
            with phases.measure(ENCODING, background):
                vectors, packed, outside = _encode(part, embedder, sentence_vectors, late_chunking)
            standalone += outside
            with phases.measure(WRITING, background):
                store.write_chunks(part, vectors, generations, packed)
            done += len(part)
            if progress:
                progress(EMBEDDING_STAGE, done, plan.chunks_prepared)
            log.info("stored %d of %d chunks prepared", done, plan.chunks_prepared)
        with phases.measure(WRITING, background):
            store.commit([IndexedDocument.of(c, generations[doc.doc_id]) for doc, c in group])
        log.info("committed %d document(s)", len(group))
    if standalone and late_chunking:
        log.info("%d sentence(s) past the model's window were encoded on their own", standalone)
    return done


def _encode(
    part: list[Chunk], embedder: Embedder, sentence_vectors: bool, late_chunking: bool
) -> tuple[list[list[float]], list[str] | None, int]:
    """The chunks' vectors, their packed sentence vectors (None without), and how many
    sentences past the model's window were encoded on their own."""
    if not sentence_vectors:
        # cache=False: bulk vectors would only flush the ones answering reuses.
        return embedder.embed([c.embedding_text() for c in part], cache=False), None, 0
    # Answering compares each sentence with the question: embedded here once, not on every
    # question that retrieves the chunk (with late chunking, pooled from the chunk's own
    # forward pass, which also gives the chunk's vector).
    from assistant.sentences import embed_chunks  # with the model, not the fast path

    pooled = embed_chunks(part, embedder, late=late_chunking)
    return pooled.chunk_vectors, pooled.packed, pooled.standalone
