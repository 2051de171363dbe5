"""The incremental indexer over real files: adds, skips unchanged, replaces changed, removes
deleted, reports bad files without losing what was indexed, and rebuilds on request."""

from __future__ import annotations

import hashlib
import io
import shutil
from pathlib import Path

import pytest
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from assistant.config import ChunkingSettings
from assistant.errors import ConfigError
from assistant.indexing import sync_corpus
from assistant.store import VectorStore, open_store
from assistant.types import IndexReport
from tests.conftest import CORPUS, make_settings

CENTRE = "centre/cpmr-mission-and-mandate.txt"
COUNCIL = "news/2024-07-06_asrmu-10th-anniversary-council-meeting.txt"
CHUNKING = ChunkingSettings()
NEW_FACT = "In 2025 the Centre opened a zebrafish laboratory for young researchers."


def pdf_bytes(pages: list[list[str]]) -> bytes:
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for lines in pages:
        for row, line in enumerate(lines):
            pdf.drawString(72, 740 - 18 * row, line)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def locked(data: bytes) -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="RC4-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


BAD_FILES: dict[str, tuple[bytes, str]] = {
    "news/empty.txt": (b"", "empty"),
    "news/image.txt": (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "binary"),
    "news/broken.pdf": (b"%PDF-1.4 this is not really a PDF", "corrupt PDF"),
    "news/locked.pdf": (locked(pdf_bytes([["A locked report."]])), "encrypted PDF"),
    "news/report.docx": (b"PK\x03\x04 zipped", "unsupported file type"),
    "news/crumbs.html": (b"<html><body><p>Home &gt; News</p></body></html>", "no text"),
}


def copy_corpus(target: Path, *doc_ids: str) -> Path:
    for doc_id in doc_ids:
        (target / doc_id).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CORPUS / doc_id, target / doc_id)
    return target


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def store(tmp_path: Path, embedder) -> VectorStore:
    return open_store(make_settings(tmp_path), embedder.model_id, embedder.dimension)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return copy_corpus(tmp_path / "corpus", CENTRE, COUNCIL)


def sync(corpus: Path, store: VectorStore, embedder, **kwargs) -> IndexReport:
    return sync_corpus(corpus, store, embedder, CHUNKING, **kwargs)


def stored_by_doc(store: VectorStore) -> dict[str, list[str]]:
    by_doc: dict[str, list[str]] = {}
    for chunk in store.all_chunks():
        by_doc.setdefault(chunk.doc_id, []).append(chunk.text)
    return by_doc


def test_incremental_add_skip_update_remove(corpus, store, embedder):
    first = sync(corpus, store, embedder)
    assert first.added == (CENTRE, COUNCIL) and first.ok, f"both files are new: {first}"
    assert first.chunks_written == first.chunks_total == store.count() > 2, (
        f"every chunk written should be in the store: {first}"
    )
    assert store.document_hashes() == {d: sha256(corpus / d) for d in (CENTRE, COUNCIL)}

    revision = store.revision()
    calls: list[tuple[str, int, int]] = []
    again = sync(corpus, store, embedder, progress=lambda *a: calls.append(a))
    assert again.unchanged == (CENTRE, COUNCIL), f"nothing changed on disk: {again}"
    assert (again.added, again.updated, again.removed, again.chunks_written) == ((), (), (), 0)
    assert calls == [], "unchanged documents must not be embedded again"
    assert store.revision() == revision, "an unchanged corpus must not write to the store"

    path = corpus / CENTRE
    path.write_text(path.read_text(encoding="utf-8") + f"\n\n{NEW_FACT}\n", encoding="utf-8")
    changed = sync(corpus, store, embedder)
    assert changed.updated == (CENTRE,) and changed.unchanged == (COUNCIL,), f"{changed}"
    centre_chunks = [c for c in store.all_chunks() if c.doc_id == CENTRE]
    assert {c.doc_hash for c in centre_chunks} == {sha256(path)}, "no chunk of the old version"
    assert any(NEW_FACT in c.text for c in centre_chunks), "the new sentence is indexed"
    hits = store.query(embedder.embed_query("zebrafish laboratory"), 1)
    assert hits[0][0].doc_id == CENTRE and NEW_FACT in hits[0][0].text, f"searchable: {hits}"

    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 3], encoding="utf-8")
    shrunk = sync(corpus, store, embedder)
    assert shrunk.updated == (CENTRE,)
    kept = [c for c in store.all_chunks() if c.doc_id == CENTRE]
    assert [c.index for c in kept] == list(range(len(kept))), "no stale tail chunks remain"
    assert all(c.text in path.read_text(encoding="utf-8") for c in kept), "only current text"

    (corpus / COUNCIL).unlink()
    removed = sync(corpus, store, embedder)
    assert removed.removed == (COUNCIL,) and removed.unchanged == (CENTRE,), f"{removed}"
    assert set(stored_by_doc(store)) == {CENTRE}, "the deleted file's chunks are gone"
    assert removed.chunks_total == store.count(), "chunks_total counts what the store holds"


def test_progress_counts_embedded_chunks(corpus, store, embedder):
    calls: list[tuple[str, int, int]] = []
    report = sync(corpus, store, embedder, progress=lambda *a: calls.append(a))
    assert calls, "progress should be reported while embedding"
    assert {stage for stage, _, _ in calls} == {"Embedding"}
    done = [d for _, d, _ in calls]
    assert done == sorted(done) and done[-1] == report.chunks_written, f"progress: {calls}"
    # Files are chunked while earlier ones are embedded: the total is what is chunked so far,
    # never below what is done, and every chunk by the end.
    totals = [t for _, _, t in calls]
    assert totals == sorted(totals) and totals[-1] == report.chunks_written, f"{calls}"
    assert all(d <= t for _, d, t in calls), f"done never passes the total: {calls}"


def test_bad_files_are_reported_and_the_rest_indexed(corpus, store, embedder):
    for name, (data, _) in BAD_FILES.items():
        (corpus / name).parent.mkdir(parents=True, exist_ok=True)
        (corpus / name).write_bytes(data)
    report = sync(corpus, store, embedder)
    reasons = {f.path: f.reason for f in report.failures}
    assert set(reasons) == set(BAD_FILES), f"each bad file is reported by name: {reasons}"
    for name, (_, expected) in BAD_FILES.items():
        assert expected in reasons[name], f"{name}: reason should say {expected!r}: {reasons[name]}"
    assert report.added == (CENTRE, COUNCIL), "the good files are indexed all the same"
    assert set(stored_by_doc(store)) == {CENTRE, COUNCIL}, "no bad file reaches the store"
    assert not report.ok, "a run with failures is not ok"


def test_a_file_that_fails_to_load_keeps_its_indexed_version(corpus, store, embedder):
    sync(corpus, store, embedder)
    before = stored_by_doc(store)[COUNCIL]
    (corpus / COUNCIL).write_bytes(b"\x00\x01\x02 half-written \x00" * 40)
    report = sync(corpus, store, embedder)
    assert [f.path for f in report.failures] == [COUNCIL], f"the bad write is reported: {report}"
    assert report.removed == () and COUNCIL not in report.unchanged
    assert stored_by_doc(store)[COUNCIL] == before, "the last good version stays searchable"
    shutil.copy(CORPUS / COUNCIL, corpus / COUNCIL)
    fixed = sync(corpus, store, embedder)
    assert fixed.ok and fixed.unchanged == (CENTRE, COUNCIL), "same bytes again: nothing to do"


def test_rebuild_reindexes_everything(corpus, store, embedder):
    first = sync(corpus, store, embedder)
    revision = store.revision()
    rebuilt = sync(corpus, store, embedder, rebuild=True)
    assert rebuilt.rebuilt and rebuilt.added == (CENTRE, COUNCIL), f"all re-added: {rebuilt}"
    assert rebuilt.unchanged == () and rebuilt.chunks_written == first.chunks_written
    assert store.count() == first.chunks_total, "same corpus, same chunks"
    assert store.revision() != revision, "a rebuild is a change"


def test_pdf_pages_reach_the_store(tmp_path, store, embedder):
    corpus = tmp_path / "pdfs"
    (corpus / "news").mkdir(parents=True)
    pages = [
        [f"Page {p} line {n}: the partnership programme grew in its year {p}." for n in range(18)]
        for p in (1, 2, 3)
    ]
    (corpus / "news" / "report.pdf").write_bytes(pdf_bytes(pages))
    report = sync(corpus, store, embedder)
    assert report.added == ("news/report.pdf",), f"the PDF is indexed: {report}"
    chunks = store.all_chunks()
    assert {c.page for c in chunks} == {1, 2, 3}, f"pages per chunk: {[c.page for c in chunks]}"
    for c in chunks:
        assert c.text.startswith(f"Page {c.page} "), f"{c.chunk_id} names page {c.page}"


def test_a_missing_corpus_folder_is_a_clear_error(tmp_path, store, embedder):
    with pytest.raises(ConfigError, match="does not exist"):
        sync(tmp_path / "nowhere", store, embedder)


# -- crashes, rebuilds and parsing only what changed ------------------------------------------


class SimulatedCrash(BaseException):
    """Stands for the process dying between two store calls (BaseException: nothing in the
    code under test may catch it, as nothing can catch a SIGKILL)."""


def crash_at(monkeypatch: pytest.MonkeyPatch, call: int) -> list[str]:
    """Make the `call`-th Chroma write from now on (upsert, delete, modify) kill the run."""
    from chromadb.api.models.Collection import Collection

    seen: list[str] = []
    for name in ("upsert", "delete", "modify"):
        original = getattr(Collection, name)

        def wrapper(self, *args, _original=original, _name=name, **kwargs):
            seen.append(_name)
            if len(seen) == call:
                raise SimulatedCrash(f"killed at store write {call} ({_name})")
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Collection, name, wrapper)
    return seen


def live_texts(store: VectorStore) -> dict[str, list[str]]:
    by_doc: dict[str, list[str]] = {}
    for chunk in store.all_chunks():
        by_doc.setdefault(chunk.doc_id, []).append(chunk.text)
    return by_doc


OLD_VERSIONS = {0: 1, 1: 1, 2: 1, 3: 1}
# 0 and 3 change (longer), 1 stays, 2 is removed, 4 is added.
NEW_VERSIONS = {0: 2, 1: 1, 3: 2, 4: 1}


@pytest.mark.slow
def test_a_crash_at_any_store_write_leaves_every_document_whole(tmp_path, embedder, monkeypatch):
    from assistant.consistency import verify
    from tests.corpora import SMALL_BATCH, SMALL_CHUNKS, Remembering, write_corpus

    remembering = Remembering(embedder)

    def run(corpus: Path, store: VectorStore) -> IndexReport:
        return sync_corpus(corpus, store, remembering, SMALL_CHUNKS, write_batch=SMALL_BATCH)

    reference = tmp_path / "reference"
    ref_store = open_store(make_settings(reference), embedder.model_id, embedder.dimension)
    run(write_corpus(reference / "corpus", OLD_VERSIONS), ref_store)
    old = live_texts(ref_store)
    assert all(len(texts) > SMALL_BATCH for texts in old.values()), "documents span batches"
    with monkeypatch.context() as patch:
        calls = crash_at(patch, 0)
        run(write_corpus(reference / "corpus", NEW_VERSIONS), ref_store)
    new = live_texts(ref_store)
    assert len(calls) > 10, f"the update takes many store writes: {calls}"

    # Every second write position, and the last ones (the removal), on a fresh store each.
    points = sorted({*range(1, len(calls) + 1, 2), len(calls) - 1, len(calls)})
    for point in points:
        base = tmp_path / f"crash-{point}"
        settings = make_settings(base)
        store = open_store(settings, embedder.model_id, embedder.dimension)
        corpus = write_corpus(base / "corpus", OLD_VERSIONS)
        run(corpus, store)
        write_corpus(corpus, NEW_VERSIONS)
        with monkeypatch.context() as patch:
            crash_at(patch, point)
            with pytest.raises(SimulatedCrash):
                run(corpus, store)
        reader = open_store(settings, embedder.model_id, embedder.dimension)
        seen = live_texts(reader)
        for doc_id in set(old) | set(new):
            versions = [v for v in (old.get(doc_id), new.get(doc_id)) if v is not None]
            if doc_id not in old or doc_id not in new:
                versions.append(None)  # an added or removed document may be absent
            assert seen.get(doc_id) in versions, (
                f"crash at write {point} ({calls[point - 1]}): {doc_id} must be whole-old or "
                f"whole-new, got {len(seen.get(doc_id) or [])} chunks"
            )
        again = open_store(settings, embedder.model_id, embedder.dimension)
        run(corpus, again)
        assert live_texts(again) == new, f"crash at write {point}: the rerun finishes the job"
        check = verify(corpus, again)
        assert check.ok, f"crash at write {point}: verify after the rerun: {check.lines()}"


def test_unchanged_files_are_not_parsed_again(corpus, store, embedder, monkeypatch):
    from assistant import loaders

    parsed: list[str] = []
    real = loaders.parse_document

    def spy(data: bytes, doc_id: str):
        parsed.append(doc_id)
        return real(data, doc_id)

    monkeypatch.setattr(loaders, "parse_document", spy)
    sync(corpus, store, embedder)
    assert sorted(parsed) == [CENTRE, COUNCIL], f"new files are parsed once each: {parsed}"
    parsed.clear()
    report = sync(corpus, store, embedder)
    assert parsed == [] and report.unchanged == (CENTRE, COUNCIL), (
        f"an unchanged file must not reach the parser: {parsed}"
    )
    path = corpus / CENTRE
    path.write_text(path.read_text(encoding="utf-8") + f"\n\n{NEW_FACT}\n", encoding="utf-8")
    sync(corpus, store, embedder)
    assert parsed == [CENTRE], f"only the changed file is parsed: {parsed}"


@pytest.mark.slow
def test_readers_never_see_an_empty_or_partial_index_during_a_rebuild(tmp_path, embedder):
    import threading

    from tests.corpora import SMALL_BATCH, SMALL_CHUNKS, write_corpus

    settings = make_settings(tmp_path)
    corpus = write_corpus(tmp_path / "corpus", {n: 1 for n in range(6)})
    writer = open_store(settings, embedder.model_id, embedder.dimension)
    first = sync_corpus(corpus, writer, embedder, SMALL_CHUNKS, write_batch=SMALL_BATCH)
    expected = {len(d) for d in live_texts(writer).values()}
    reader = open_store(settings, embedder.model_id, embedder.dimension)
    query = embedder.embed_query("pharmacology volunteers in Almaty")
    seen: list[tuple[int, int, int]] = []
    done = threading.Event()

    def read() -> None:
        while not done.is_set():
            chunks = reader.all_chunks()
            per_doc: dict[str, int] = {}
            for chunk in chunks:
                per_doc[chunk.doc_id] = per_doc.get(chunk.doc_id, 0) + 1
            hits = reader.query(query, 5)
            seen.append((len(chunks), len(per_doc), len(hits)))
            assert set(per_doc.values()) <= expected, f"a partial document: {per_doc}"

    thread = threading.Thread(target=read)
    thread.start()
    try:
        rebuilt = sync_corpus(
            corpus, writer, embedder, SMALL_CHUNKS, write_batch=SMALL_BATCH, rebuild=True
        )
    finally:
        done.set()
        thread.join()
    assert rebuilt.chunks_written == first.chunks_total
    assert len(seen) > 3, f"the reader should have read throughout the rebuild: {len(seen)}"
    wrong = [s for s in seen if s != (first.chunks_total, 6, 5)]
    assert not wrong, f"the reader saw an empty or partial index: {wrong[:5]}"
    assert reader.revision() == writer.revision(), "the reader follows the switch"


# -- the pipeline: files are chunked in a background thread while the encoder runs ---------


class _EmbedSignals:
    """The real embedder, telling when its first encode call has begun."""

    def __init__(self, embedder) -> None:
        import threading

        self._embedder = embedder
        self.first_embed = threading.Event()

    def __getattr__(self, name: str):
        return getattr(self._embedder, name)

    def embed(self, texts, **kwargs):
        self.first_embed.set()
        return self._embedder.embed(texts, **kwargs)

    def embed_spans(self, texts, spans):
        self.first_embed.set()
        return self._embedder.embed_spans(texts, spans)


def test_chunking_runs_while_earlier_documents_are_embedded(tmp_path, embedder, monkeypatch):
    import threading

    from assistant import chunking
    from tests.corpora import SMALL_BATCH, SMALL_CHUNKS, write_corpus

    corpus = write_corpus(tmp_path / "corpus", {0: 2, 1: 2, 2: 2, 3: 2})
    store = open_store(make_settings(tmp_path), embedder.model_id, embedder.dimension)
    signals = _EmbedSignals(embedder)
    threads: set[str] = set()
    waited: list[bool] = []
    real = chunking.chunk_document

    def chunk_after_the_first_embed(doc, **kwargs):
        threads.add(threading.current_thread().name)
        if doc.doc_id == max(p.relative_to(corpus).as_posix() for p in corpus.rglob("*.md")):
            # The last file is chunked only once the encoder has started on earlier ones; a
            # pipeline that chunked everything first would wait here in vain.
            waited.append(signals.first_embed.wait(timeout=60))
        return real(doc, **kwargs)

    monkeypatch.setattr(chunking, "chunk_document", chunk_after_the_first_embed)
    report = sync_corpus(corpus, store, signals, SMALL_CHUNKS, write_batch=SMALL_BATCH)
    assert waited == [True], "the encoder started before the last file was chunked"
    assert threads == {"index-prepare"}, f"chunking runs in the background thread: {threads}"
    assert report.ok and report.chunks_written == store.count() > SMALL_BATCH, f"{report}"


def test_a_failure_while_chunking_stops_the_run_with_that_error(tmp_path, embedder, monkeypatch):
    import threading

    from assistant import chunking
    from tests.corpora import SMALL_BATCH, SMALL_CHUNKS, write_corpus

    corpus = write_corpus(tmp_path / "corpus", {0: 2, 1: 2, 2: 2})
    store = open_store(make_settings(tmp_path), embedder.model_id, embedder.dimension)
    real = chunking.chunk_document
    seen: list[str] = []

    def failing_on_the_second(doc, **kwargs):
        seen.append(doc.doc_id)
        if len(seen) == 2:
            raise RuntimeError("chunker bug")
        return real(doc, **kwargs)

    monkeypatch.setattr(chunking, "chunk_document", failing_on_the_second)
    with pytest.raises(RuntimeError, match="chunker bug"):
        sync_corpus(corpus, store, embedder, SMALL_CHUNKS, write_batch=SMALL_BATCH)
    assert not any(t.name == "index-prepare" for t in threading.enumerate()), (
        "the background thread must not outlive the run"
    )
    monkeypatch.setattr(chunking, "chunk_document", real)
    again = sync_corpus(corpus, store, embedder, SMALL_CHUNKS, write_batch=SMALL_BATCH)
    assert again.ok and len(again.added) + len(again.unchanged) == 3, f"a rerun completes: {again}"


def test_a_store_failure_stops_the_background_thread(tmp_path, embedder, monkeypatch):
    import threading

    from tests.corpora import SMALL_BATCH, SMALL_CHUNKS, write_corpus

    corpus = write_corpus(tmp_path / "corpus", {0: 3, 1: 3, 2: 3, 3: 3})
    store = open_store(make_settings(tmp_path), embedder.model_id, embedder.dimension)

    def refuse(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store, "write_chunks", refuse)
    with pytest.raises(OSError, match="disk full"):
        sync_corpus(corpus, store, embedder, SMALL_CHUNKS, write_batch=SMALL_BATCH)
    assert not any(t.name == "index-prepare" for t in threading.enumerate()), (
        "the background thread ends when the writer fails"
    )


def test_the_first_groups_are_small_so_the_encoder_starts_early():
    """The encoder takes a small first group (it would otherwise wait for a whole write batch
    to be chunked), then groups doubling up to the write batch; a document is never split."""
    from assistant.indexing import _groups

    docs = [(f"doc{i}", [object()] * 10) for i in range(40)]
    sizes = [sum(len(chunks) for _, chunks in group) for group in _groups(docs, 100, 20)]
    assert sizes == [20, 40, 80, 100, 100, 60], f"group sizes in chunks: {sizes}"
    whole = [sum(len(c) for _, c in g) for g in _groups([("big", [object()] * 300)], 100, 20)]
    assert whole == [300], "a document bigger than a batch is a group alone"
