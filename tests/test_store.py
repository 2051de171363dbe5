"""The Chroma store, embedded and as a real server: round trips, cosine similarity, date
filters, revisions seen across clients and processes, and refusal to mix embedding models."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from string import Template

import httpx
import pytest

from assistant import store as store_module
from assistant.chunking import chunk_document
from assistant.config import Settings, StoreSettings
from assistant.embeddings import Embedder
from assistant.errors import StoreError
from assistant.sentences import embed_chunks, sentence_key, sentence_texts
from assistant.store import VectorStore, open_store
from assistant.types import Chunk, Document
from tests import corpora
from tests.conftest import ROOT, make_settings
from tests.servers import free_port, stop

TEXTS = {
    "news/open-lab-day.md": (
        "CPMR invites students to an Open Laboratory Day",
        dt.date(2026, 3, 20),
        "Visitors can tour the cell-culture and molecular biology laboratories. Research "
        "groups are looking for student volunteers. Guided tours start every hour.",
    ),
    "news/asrmu-council.txt": (
        "Council of the Association of Rectors of Medical Universities meets",
        dt.date(2024, 7, 6),
        "The council met to mark the tenth anniversary of the association. Rectors from "
        "Russia and China signed a plan of joint research in pharmacology.",
    ),
    "centre/mission.txt": (
        "CPMR mission statement",
        None,
        "The Centre promotes translational medicine, linking clinical practice and "
        "laboratory findings. It conducts seminars, workshops and extension lectures.",
    ),
    "news/astana-conference.txt": (
        "Strategic partnership conference in Astana",
        dt.date(2016, 11, 24),
        "Universities discussed a strategic partnership in medical education and research.",
    ),
}


def make_document(doc_id: str, *, extra: str = "") -> Document:
    title, date, text = TEXTS[doc_id]
    text = f"{text} {extra}".strip()
    return Document(
        doc_id=doc_id,
        source=doc_id,
        title=title,
        kind="news" if doc_id.startswith("news/") else "centre page",
        date=date,
        publisher="Test publisher" if date else None,
        text=text,
        content_hash=hashlib.sha256(text.encode()).hexdigest(),
    )


def chunks_of(doc: Document, embedder: Embedder, max_tokens: int = 16) -> list[Chunk]:
    return chunk_document(
        doc,
        max_tokens=max_tokens,
        overlap_sentences=0,
        count_tokens=embedder.count_tokens,
        window=embedder.max_tokens,
    )


def add(store: VectorStore, embedder: Embedder, *doc_ids: str) -> list[Chunk]:
    chunks = [c for doc_id in doc_ids for c in chunks_of(make_document(doc_id), embedder)]
    store.upsert_chunks(chunks, embedder.embed([c.embedding_text() for c in chunks]))
    return chunks


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def store(settings: Settings, embedder: Embedder) -> VectorStore:
    return open_store(settings, embedder.model_id, embedder.dimension)


def server_settings(base: Path, port: int, collection: str, token: str = "") -> Settings:
    store = StoreSettings.model_validate(
        {"CHROMA_HOST": "127.0.0.1", "CHROMA_PORT": port, "collection": collection, "token": token}
    )
    return make_settings(base, store=store)


# -- embedded store -------------------------------------------------------------------------


def test_all_chunks_round_trips_every_field(store, embedder):
    chunks = add(store, embedder, *TEXTS)
    assert store.count() == len(chunks), "every chunk should be stored once"
    assert store.all_chunks() == sorted(chunks, key=lambda c: (c.doc_id, c.index)), (
        "chunks read back must equal what was written (metadata round trip)"
    )


def test_all_chunks_pages_through_the_collection(store, embedder, monkeypatch):
    chunks = add(store, embedder, *TEXTS)
    monkeypatch.setattr(store_module, "PAGE_SIZE", 3)
    assert len(chunks) > 3, "the test needs more chunks than one page"
    assert len(store.all_chunks()) == len(chunks), "paging must not lose or repeat chunks"
    assert len(store.document_hashes()) == len(TEXTS), "paging must reach every document"


def test_query_returns_cosine_similarity_best_first(store, embedder):
    chunks = add(store, embedder, *TEXTS)
    vectors = dict(
        zip(
            [c.chunk_id for c in chunks],
            embedder.embed([c.embedding_text() for c in chunks]),
            strict=True,
        )
    )
    question = embedder.embed_query("When can students tour the cell culture laboratories?")
    hits = store.query(question, 5)
    assert len(hits) == 5, "five hits were asked for and more are stored"
    scores = [score for _, score in hits]
    assert scores == sorted(scores, reverse=True), f"hits must come best first: {scores}"
    assert all(-1.0 <= s <= 1.0 for s in scores), f"cosine similarity lies in [-1, 1]: {scores}"
    for chunk, score in hits:
        expected = sum(a * b for a, b in zip(question, vectors[chunk.chunk_id], strict=True))
        assert math.isclose(score, expected, abs_tol=1e-3), (
            f"{chunk.chunk_id}: score {score} should be the cosine similarity {expected}"
        )
    assert hits[0][0].doc_id == "news/open-lab-day.md", f"best hit should be the lab day: {hits}"


def test_query_clips_n_and_handles_an_empty_store(store, embedder):
    vector = embedder.embed_query("anything")
    assert store.query(vector, 10) == [], "an empty store has nothing to return"
    assert store.is_empty(), "a new store is empty"
    chunks = add(store, embedder, "centre/mission.txt")
    assert len(store.query(vector, 100)) == len(chunks), "n larger than the store is clipped"
    assert store.query(vector, 0) == [], "n=0 asks for nothing"


def test_date_filter_compares_yyyymmdd_numbers(store, embedder):
    add(store, embedder, *TEXTS)
    vector = embedder.embed_query("medical research partnership")
    recent = store.query(vector, 50, where={"date": {"$gte": 20240101}})
    assert {c.doc_id for c, _ in recent} == {"news/open-lab-day.md", "news/asrmu-council.txt"}, (
        f"only documents dated 2024 or later should pass the filter: {recent}"
    )
    window = store.query(
        vector, 50, where={"$and": [{"date": {"$gt": 0}}, {"date": {"$lt": 20200101}}]}
    )
    assert {c.doc_id for c, _ in window} == {"news/astana-conference.txt"}, (
        f"dated before 2020 (undated excluded) should be the Astana item only: {window}"
    )


def test_documents_lists_newest_first_with_chunk_counts(store, embedder):
    chunks = add(store, embedder, *TEXTS)
    listed = store.documents()
    assert [d.doc_id for d in listed] == [
        "news/open-lab-day.md",
        "news/asrmu-council.txt",
        "news/astana-conference.txt",
        "centre/mission.txt",
    ], "newest first, undated last"
    for info in listed:
        expected = sum(1 for c in chunks if c.doc_id == info.doc_id)
        assert info.chunks == expected, f"{info.doc_id} should count {expected} chunks"
        assert info.title == TEXTS[info.doc_id][0] and info.date == TEXTS[info.doc_id][1]
    hashes = store.document_hashes()
    assert hashes == {d: make_document(d).content_hash for d in TEXTS}, "hash per document"


def test_delete_documents_removes_only_their_chunks(store, embedder):
    chunks = add(store, embedder, *TEXTS)
    store.delete_documents(["news/open-lab-day.md", "not/indexed.txt"])
    remaining = store.all_chunks()
    assert {c.doc_id for c in remaining} == set(TEXTS) - {"news/open-lab-day.md"}
    assert len(remaining) == len([c for c in chunks if c.doc_id != "news/open-lab-day.md"])
    hits = store.query(embedder.embed_query("open laboratory day tours"), 50)
    assert all(c.doc_id != "news/open-lab-day.md" for c, _ in hits), "deleted chunks are gone"


def test_revision_changes_on_every_write_and_only_then(store, embedder):
    seen = [store.revision()]
    store.count()
    store.all_chunks()
    assert store.revision() == seen[0], "reads must not change the revision"
    add(store, embedder, "centre/mission.txt")
    seen.append(store.revision())
    store.delete_documents(["centre/mission.txt"])
    seen.append(store.revision())
    store.reset()
    seen.append(store.revision())
    assert len(set(seen)) == len(seen), f"each write should give a new revision: {seen}"


def test_reset_empties_the_store(store, embedder):
    add(store, embedder, *TEXTS)
    store.reset()
    assert store.is_empty() and store.count() == 0, "reset drops every chunk"
    assert store.document_hashes() == {}, "no document is left after a reset"


def test_store_persists_across_clients(settings, embedder):
    first = open_store(settings, embedder.model_id, embedder.dimension)
    chunks = add(first, embedder, "news/asrmu-council.txt")
    again = open_store(settings, embedder.model_id, embedder.dimension)
    assert again.count() == len(chunks), "an embedded store keeps its chunks on disk"
    assert again.revision() == first.revision(), "both clients see the same revision"


def test_another_model_is_refused_until_rebuild(settings, store, embedder):
    chunks = add(store, embedder, *TEXTS)
    for model_id, dimension in (("another-model", embedder.dimension), (embedder.model_id, 768)):
        with pytest.raises(StoreError, match=r"python index\.py --rebuild") as caught:
            open_store(settings, model_id, dimension)
        assert embedder.model_id in str(caught.value), "the message names the model in use"
    assert store.count() == len(chunks), "a refused open must not touch the index"
    rebuilt = open_store(settings, "another-model", embedder.dimension, rebuild=True)
    assert rebuilt.count() == len(chunks), "opening for a rebuild keeps the live index whole"
    assert rebuilt.model_id == "another-model"
    rebuilt.start_rebuild()
    rebuilt.upsert_chunks(chunks[:1], embedder.embed([chunks[0].embedding_text()]))
    assert store.count() == len(chunks), "readers see the old index until the switch"
    rebuilt.finish_rebuild()
    assert rebuilt.count() == 1, "after the switch the rebuilt index is live"
    with pytest.raises(StoreError, match="another-model"):
        open_store(settings, embedder.model_id, embedder.dimension)


def test_an_empty_collection_of_another_model_is_taken_over(settings, store, embedder):
    assert store.is_empty()
    other = open_store(settings, "another-model", 16)
    assert other.is_empty() and other.dimension == 16, "nothing to lose, so no rebuild needed"


def test_vectors_of_the_wrong_size_are_refused(store, embedder):
    chunks = chunks_of(make_document("centre/mission.txt"), embedder)
    with pytest.raises(StoreError, match="dimensions"):
        store.upsert_chunks(chunks[:1], [[0.1] * (embedder.dimension - 1)])
    with pytest.raises(ValueError, match="embeddings"):
        store.upsert_chunks(chunks[:2], [[0.1] * embedder.dimension])
    assert store.is_empty(), "a refused write stores nothing"


def test_unreachable_server_says_where_and_what_to_do(tmp_path, embedder):
    port = free_port()
    settings = server_settings(tmp_path, port, "cpmr")
    with pytest.raises(StoreError) as caught:
        open_store(settings, embedder.model_id, embedder.dimension)
    message = str(caught.value)
    assert f"127.0.0.1:{port}" in message and "chroma run" in message, (
        f"the error should name the address and how to start the server: {message}"
    )


WRITER = """
import json, sys
from assistant.store import open_store
from tests.conftest import make_settings
from assistant.types import Chunk
from pathlib import Path
payload = json.loads(sys.stdin.read())
store = open_store(make_settings(Path(payload["base"])), payload["model"], payload["dim"])
store.upsert_chunks([Chunk.model_validate(payload["chunk"])], [payload["vector"]])
"""


def test_embedded_store_sees_another_process_writes(tmp_path, settings, store, embedder):
    add(store, embedder, "centre/mission.txt")
    before = store.revision()
    assert store.query(embedder.embed_query("tour"), 10), "warm the in-process vector index"
    chunk = chunks_of(make_document("news/open-lab-day.md"), embedder, max_tokens=200)[0]
    payload = {
        "base": str(tmp_path),
        "model": embedder.model_id,
        "dim": embedder.dimension,
        "chunk": chunk.model_dump(mode="json"),
        "vector": embedder.embed([chunk.embedding_text()])[0],
    }
    subprocess.run(
        [sys.executable, "-c", WRITER],
        input=json.dumps(payload),
        text=True,
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    assert store.revision() != before, "a write by another process must change the revision"
    hits = store.query(embedder.embed_query("Open Laboratory Day tours"), 10)
    assert hits and hits[0][0].chunk_id == chunk.chunk_id, (
        f"the other process's chunk should now be searchable: {hits}"
    )


# -- Chroma server --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chroma_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """A real `chroma run` server on a free port; yields the port."""
    port = free_port()
    path = tmp_path_factory.mktemp("chroma-server")
    log = (path / "server.log").open("wb")
    process = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "chroma"),
            "run",
            "--path",
            str(path / "data"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v2/heartbeat", timeout=1).is_success:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chroma server did not start: {(path / 'server.log').read_text()}")
            time.sleep(0.2)
        yield port
    finally:
        stop(process)
        log.close()


@pytest.fixture
def remote_settings(tmp_path, chroma_server, request) -> Settings:
    collection = f"t{abs(hash(request.node.nodeid)) % 10**12}"
    return server_settings(tmp_path, chroma_server, collection)


@pytest.mark.server
def test_server_add_query_filter_delete(remote_settings, embedder):
    store = open_store(remote_settings, embedder.model_id, embedder.dimension)
    chunks = add(store, embedder, *TEXTS)
    assert store.all_chunks() == sorted(chunks, key=lambda c: (c.doc_id, c.index))
    hits = store.query(embedder.embed_query("student volunteers for laboratories"), 3)
    assert hits[0][0].doc_id == "news/open-lab-day.md", f"best hit should be the lab day: {hits}"
    dated = store.query(embedder.embed_query("partnership"), 50, where={"date": {"$gte": 20240101}})
    assert {c.doc_id for c, _ in dated} == {"news/open-lab-day.md", "news/asrmu-council.txt"}
    store.delete_documents(["news/open-lab-day.md"])
    assert "news/open-lab-day.md" not in store.document_hashes(), "deleted on the server too"
    assert store.documents()[0].doc_id == "news/asrmu-council.txt"


@pytest.mark.server
def test_server_revision_follows_another_clients_writes(remote_settings, embedder):
    reader = open_store(remote_settings, embedder.model_id, embedder.dimension)
    writer = open_store(remote_settings, embedder.model_id, embedder.dimension)
    before = reader.revision()
    chunks = add(writer, embedder, "news/asrmu-council.txt")
    after = reader.revision()
    assert after != before, "another client's write must change the revision the reader sees"
    assert {c.chunk_id for c in reader.all_chunks()} == {c.chunk_id for c in chunks}
    writer.reset()
    assert reader.query(embedder.embed_query("rectors"), 5) == [], (
        "after another client's reset the reader searches the new, empty collection"
    )
    assert reader.revision() != after, "a rebuild elsewhere changes the revision too"


@pytest.mark.server
def test_server_refuses_another_model(remote_settings, embedder):
    store = open_store(remote_settings, embedder.model_id, embedder.dimension)
    add(store, embedder, "centre/mission.txt")
    with pytest.raises(StoreError, match=r"--rebuild"):
        open_store(remote_settings, "another-model", embedder.dimension)


# -- Chroma server behind the token-checking proxy of docs/deployment.md ---------------------

NGINX_MAIN = """daemon off;
master_process off;
pid $base/nginx.pid;
error_log $base/error.log;
events {}
http {
    access_log off;
    client_body_temp_path $base/body;
    proxy_temp_path $base/proxy;
    fastcgi_temp_path $base/fastcgi;
    uwsgi_temp_path $base/uwsgi;
    scgi_temp_path $base/scgi;
$server
}
"""


def _wait_for(url: str, process: subprocess.Popen, log: Path) -> None:  # type: ignore[type-arg]
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(url, timeout=1).is_success:
                return
        except httpx.HTTPError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{url} did not come up: {log.read_text() if log.exists() else ''}")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def token_proxy(
    chroma_server: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int, str]]:
    """deploy/nginx/chroma-token.conf.template, run by a real nginx in front of the real
    `chroma run` server; yields the proxy's port and the token it accepts."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        pytest.skip("nginx is not installed (scripts/setup.sh --dev installs nginx-light)")
    token = secrets.token_urlsafe(24)
    port = free_port()
    base = tmp_path_factory.mktemp("nginx")
    template = (ROOT / "deploy" / "nginx" / "chroma-token.conf.template").read_text()
    server = Template(template).safe_substitute(
        LISTEN=f"127.0.0.1:{port}", CHROMA_UPSTREAM=f"127.0.0.1:{chroma_server}", CHROMA_TOKEN=token
    )
    config = base / "nginx.conf"
    config.write_text(Template(NGINX_MAIN).safe_substitute(base=base, server=server))
    process = subprocess.Popen(
        [nginx, "-p", str(base), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=(base / "stderr.log").open("wb"),
    )
    try:
        _wait_for(f"http://127.0.0.1:{port}/api/v2/heartbeat", process, base / "error.log")
        yield port, token
    finally:
        stop(process)


@pytest.mark.server
def test_server_with_a_token_behind_the_proxy(tmp_path, token_proxy, embedder):
    port, token = token_proxy
    settings = server_settings(tmp_path, port, "tokened", token=token)
    store = open_store(settings, embedder.model_id, embedder.dimension)
    store.reset()
    chunks = add(store, embedder, *TEXTS)
    assert {c.chunk_id for c in store.all_chunks()} == {c.chunk_id for c in chunks}, (
        "every chunk written through the proxy should be read back through it"
    )
    hits = store.query(embedder.embed_query("student volunteers for laboratories"), 3)
    assert hits[0][0].doc_id == "news/open-lab-day.md", f"search should work too: {hits}"
    assert "Bearer" not in repr(settings) and token not in repr(settings), (
        "the token must never show in the settings' repr (logs, error pages)"
    )


@pytest.mark.server
@pytest.mark.parametrize("token", ["", "not-the-token"], ids=["missing", "wrong"])
def test_server_without_the_right_token_is_refused_clearly(tmp_path, token_proxy, embedder, token):
    port, _ = token_proxy
    settings = server_settings(tmp_path, port, "tokened", token=token)
    with pytest.raises(StoreError) as caught:
        open_store(settings, embedder.model_id, embedder.dimension)
    message = str(caught.value)
    assert "ASSISTANT_STORE_TOKEN" in message and f"127.0.0.1:{port}" in message, (
        f"a refused token should say which setting to fix and where: {message}"
    )


def write_legacy_index(settings: Settings, embedder: Embedder) -> list[Chunk]:
    chunks = [c for d in TEXTS for c in chunks_of(make_document(d), embedder)]
    corpora.write_legacy_index(settings, embedder, chunks)
    return chunks


def test_an_index_of_the_layout_before_the_catalog_is_adopted(settings, embedder):
    chunks = write_legacy_index(settings, embedder)
    store = open_store(settings, embedder.model_id, embedder.dimension)
    assert store.count() == len(chunks), "the old index is adopted whole"
    assert {c.chunk_id for c in store.all_chunks()} == {c.chunk_id for c in chunks}
    hits = store.query(embedder.embed_query("Open Laboratory Day tours"), 1)
    assert hits and hits[0][0].doc_id == "news/open-lab-day.md", f"searchable: {hits}"
    add_new = chunks_of(make_document("news/open-lab-day.md", extra="Tea is served."), embedder)
    store.upsert_chunks(add_new, embedder.embed([c.embedding_text() for c in add_new]))
    stored = [
        s for s in store.stored_chunks(live_only=False) if s.chunk.doc_id == add_new[0].doc_id
    ]
    assert len(stored) == len(add_new), "replacing an adopted document deletes its old chunks"
    assert store.count() == len(chunks) - len(
        [c for c in chunks if c.doc_id == add_new[0].doc_id]
    ) + len(add_new)


def test_an_old_index_of_exactly_whole_pages_is_adopted(settings, embedder, monkeypatch):
    # Paging such an index ends with an empty page; adopting it once failed there ("Non-empty
    # lists are required"), so an upgraded install could not open its index.
    chunks = write_legacy_index(settings, embedder)
    monkeypatch.setattr(store_module, "PAGE_SIZE", len(chunks))
    store = open_store(settings, embedder.model_id, embedder.dimension)
    assert store.count() == len(chunks), "an index of exactly one full page is adopted whole"
    hits = store.query(embedder.embed_query("Open Laboratory Day tours"), 1)
    assert hits and hits[0][0].doc_id == "news/open-lab-day.md", f"searchable: {hits}"


def test_sentence_vectors_are_stored_with_their_chunks(store, embedder):
    chunks = [c for d in TEXTS for c in chunks_of(make_document(d), embedder)]
    pooled = embed_chunks(chunks, embedder, late=False)
    store.upsert_chunks(chunks, pooled.chunk_vectors, pooled.packed)
    read = store.all_chunks()
    assert all(c.sentences for c in read), "every chunk comes back with its sentence offsets"
    vectors = store.sentence_vectors(read)
    wanted = {c.title for c in read} | {
        sentence_key(c, t) for c in read for t in sentence_texts(c)[1:]
    }
    assert set(vectors) == wanted, f"one vector per title and sentence: {set(vectors) ^ wanted}"
    assert store.stores_sentence_vectors(), "a store written now is of the current format"


def test_an_adopted_old_index_has_no_sentence_vectors_and_says_so(settings, embedder):
    write_legacy_index(settings, embedder)
    store = open_store(settings, embedder.model_id, embedder.dimension)
    chunks = store.all_chunks()
    assert all(c.sentences is None for c in chunks), "an old index holds no sentence offsets"
    assert store.sentence_vectors(chunks) == {}, "and no sentence vectors"
    assert not store.stores_sentence_vectors(), "its format is reported as older"


OPEN_AT_ONCE = """
import sys, time
from pathlib import Path
from assistant.store import open_store
from tests.conftest import make_settings

base, go = Path(sys.argv[1]), Path(sys.argv[2])
print("ready", flush=True)
while not go.exists():  # every process is imported and waiting: open together
    time.sleep(0.005)
store = open_store(make_settings(base), "model-a", 4)
print(store.count())
"""


@pytest.mark.slow
def test_processes_opening_a_new_embedded_store_at_once_all_succeed(tmp_path):
    # Chroma creates its tables on first open without guarding against other processes;
    # unguarded, about one process in ten failed with "table collections already exists".
    for round_ in range(3):
        base, go = tmp_path / f"round-{round_}", tmp_path / f"go-{round_}"
        processes = [
            subprocess.Popen(
                [sys.executable, "-c", OPEN_AT_ONCE, str(base), str(go)],
                cwd=ROOT,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        for process in processes:
            assert process.stdout is not None
            assert process.stdout.readline().strip() == "ready", process.communicate()
        go.touch()
        results = [p.communicate(timeout=300) for p in processes]
        assert [p.returncode for p in processes] == [0] * 4, f"round {round_}: {results}"
        assert [out.strip() for out, _ in results] == ["0"] * 4, "one empty index for all"
