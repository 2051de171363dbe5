"""`index.py --verify` and `--repair`: check the store against the corpus, and fix it.

The check reads the whole live space (manifest and every chunk record) and hashes every
corpus file; it parses only files whose hash is not the indexed one, to tell a document that
should have been indexed from one that cannot be. Problems, each naming its document:

- a corpus document that is not indexed, or indexed at an older version;
- an indexed document whose file is gone;
- a manifest record left dirty by an interrupted run;
- a document whose live chunks are not exactly indices 0..n-1 once each, or whose count or
  content hash differs from its manifest record (a duplicate, a lost or a foreign chunk);
- chunk records no reader sees: other generations of a document (an interrupted
  replacement) or chunks of a document that has no manifest record (an interrupted removal).

Repair deletes the unseen records, re-indexes every document with a problem and runs the
normal incremental sync for the rest; it holds the index lock like any writer.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from assistant import loaders
from assistant.errors import DocumentError
from assistant.indexing import file_hash, require_corpus_dir
from assistant.loaders.files import visible_files
from assistant.store import IndexedDocument, StoredChunk, VectorStore

log = logging.getLogger(__name__)


@dataclass
class Verification:
    """What `verify` found: problems by document, plus records nobody reads."""

    documents: int = 0
    chunks: int = 0
    problems: dict[str, list[str]] = field(default_factory=dict)
    unseen_records: list[str] = field(default_factory=list)
    unreadable: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def add(self, doc_id: str, problem: str) -> None:
        self.problems.setdefault(doc_id, []).append(problem)

    def lines(self) -> list[str]:
        if self.ok:
            found = [f"index consistent: {self.documents} documents, {self.chunks} chunks"]
        else:
            found = [f"index inconsistent: {len(self.problems)} document(s) with problems"]
            for doc_id in sorted(self.problems):
                found.extend(f"  {doc_id}: {problem}" for problem in self.problems[doc_id])
        found.extend(
            f"  note: {doc_id} is not indexed because it cannot be read: {reason}"
            for doc_id, reason in sorted(self.unreadable.items())
        )
        return found


def verify(corpus_dir: Path, store: VectorStore) -> Verification:
    """Compare the store's live space with the corpus folder; reads only, writes nothing."""
    require_corpus_dir(corpus_dir)
    result = Verification()
    records = store.records()
    stored = store.stored_chunks(live_only=False)
    _check_corpus(corpus_dir, records, result)
    _check_chunks(records, stored, result)
    live = {d: r for d, r in records.items() if r.generation}
    result.documents = len(live)
    result.chunks = sum(r.chunks for r in live.values())
    return result


def _check_corpus(
    corpus_dir: Path, records: dict[str, IndexedDocument], result: Verification
) -> None:
    present = set()
    for doc_id, path in visible_files(corpus_dir):
        present.add(doc_id)
        record = records.get(doc_id)
        try:
            data = path.read_bytes()
        except OSError as exc:
            result.unreadable[doc_id] = exc.strerror or str(exc)
            continue
        if record and record.generation and record.doc_hash == file_hash(data):
            continue
        try:
            loaders.parse_document(data, doc_id)
        except DocumentError as exc:
            # Not an inconsistency: the indexer reports it, and keeps any earlier version.
            result.unreadable[doc_id] = str(exc)
            continue
        if record is None or not record.generation:
            result.add(doc_id, "in the corpus but not indexed")
        else:
            result.add(doc_id, "indexed at an older version than the file")
    for doc_id, record in records.items():
        if record.generation and doc_id not in present:
            result.add(doc_id, "indexed, but its file is no longer in the corpus")
        if record.dirty:
            result.add(doc_id, "an interrupted run left this document's replacement unfinished")
        elif not record.generation:
            result.add(doc_id, "a manifest record without a live version")


def _check_chunks(
    records: dict[str, IndexedDocument], stored: list[StoredChunk], result: Verification
) -> None:
    live: dict[str, list[StoredChunk]] = defaultdict(list)
    unseen: Counter[str] = Counter()
    for item in stored:
        record = records.get(item.chunk.doc_id)
        if record is None or not record.generation or item.generation != record.generation:
            unseen[item.chunk.doc_id] += 1
            result.unseen_records.append(item.record_id)
        else:
            live[item.chunk.doc_id].append(item)
    for doc_id, count in unseen.items():
        if doc_id in records and records[doc_id].generation:
            what = "of an unfinished or replaced version"
        else:
            what = "of a removed or never-finished document"
        result.add(doc_id, f"{count} chunk record(s) {what} (unseen by readers)")
    for doc_id, record in records.items():
        if not record.generation:
            continue
        items = live.get(doc_id, [])
        indices = Counter(item.chunk.index for item in items)
        duplicated = sorted(i for i, n in indices.items() if n > 1)
        if duplicated:
            result.add(doc_id, f"duplicate chunks at position(s) {duplicated}")
        if len(items) != record.chunks:
            result.add(doc_id, f"{len(items)} live chunk(s), the manifest says {record.chunks}")
        elif set(indices) != set(range(record.chunks)):
            result.add(doc_id, f"chunk positions are not 0..{record.chunks - 1}")
        hashes = {item.chunk.doc_hash for item in items}
        if hashes - {record.doc_hash}:
            result.add(doc_id, "chunks carry another content hash than the manifest")


def repair(
    corpus_dir: Path, store: VectorStore, reindex: Callable[[set[str]], object]
) -> Verification:
    """Fix what `verify` finds: finish interrupted work, drop unseen records, and call
    `reindex(doc_ids)` (an incremental sync forcing those ids); returns the check after."""
    store.tidy()
    found = verify(corpus_dir, store)
    if found.unseen_records:
        store.delete_records(found.unseen_records)
    records = store.records()
    store.delete_documents(d for d, r in records.items() if not r.generation)
    # Forcing a document writes a whole new generation and deletes every other chunk of it,
    # duplicates and strangers included; a document whose file is gone is removed instead.
    reindex({d for d in found.problems if d in records and records[d].generation})
    return verify(corpus_dir, store)
