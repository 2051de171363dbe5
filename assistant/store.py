"""The Chroma vector store of chunks, embedded on disk or on a Chroma server, behind one class.

`open_store` picks the client (a `PersistentClient` in `.chroma/` by default, an `HttpClient`
when a server host is set) and everything after that is the same code. Chroma never embeds
anything itself (no embedding function: its default would download a model); it stores the
vectors the `Embedder` made, compared by cosine distance.

Layout, so that no crash can leave a document half-replaced and no rebuild empties the index:

- `<name>-catalog`: a collection used only for its metadata: the embedding model and
  dimension, which *space* is live, and a revision id that every committed write changes.
  Readers in other processes compare revisions to notice a re-index; an embedded reader then
  opens a fresh Chroma system, because Chroma's in-process vector index never rereads what
  another process wrote to disk.
- a space = `<name>-g<id>` (the chunks, with their vectors) and `<name>-g<id>-docs` (the
  manifest: one record per document with its content hash, chunk count, title and the
  *generation* its live chunks carry). A rebuild fills a new space and switches the catalog
  to it in one write; the old space is dropped afterwards.
- A document is replaced by writing its new chunks under a new generation (chunk record ids
  are `<chunk id>@<generation>`, so they never overwrite the live ones), then switching its
  manifest record to that generation in one write, then deleting the other generations.
  Readers only see chunks whose generation is the one their manifest record names, so a run
  killed at any point leaves each document whole-old or whole-new. A record stays marked
  `dirty` while chunks of other generations may exist; the next writer (`tidy`) deletes them.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Final, TypeVar

import chromadb
import httpx
import numpy as np
from chromadb.api import ClientAPI
from chromadb.api.collection_configuration import (
    CreateCollectionConfiguration,
    CreateHNSWConfiguration,
)
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError, NotFoundError
from filelock import FileLock, Timeout

from assistant.config import Settings
from assistant.errors import AssistantError, IndexNotBuiltError, StoreError, UnavailableError
from assistant.types import SENTENCE_VECTORS_KEY, Chunk, DocumentInfo, int_to_date

log = logging.getLogger(__name__)

MODEL_KEY = "embedding_model"
DIMENSION_KEY = "embedding_dimension"
REVISION_KEY = "revision"
LIVE_KEY = "live"
GENERATION_KEY = "generation"
# The generation given to the chunks of an index written before generations existed.
LEGACY_GENERATION = "legacy"
SPACE: Final = "cosine"
# What the chunks of a space carry: 2 = sentence offsets and each sentence's vector encoded
# on its own; 3 = the same offsets with sentence vectors pooled from their chunk's forward
# pass (late chunking, ASSISTANT_INDEX_LATE_CHUNKING; `assistant.sentences`); 1 = neither.
# The two kinds of vector are never mixed (each has its own fitted scorer): a space whose
# format is not the one the settings write still answers (the vectors are then made per
# question, the settings' way), and `python index.py --rebuild` rewrites it.
FORMAT_KEY = "format"
STANDALONE_FORMAT = 2
LATE_FORMAT = 3
FORMAT = STANDALONE_FORMAT
CATALOG_SUFFIX = "-catalog"
# Rows fetched per `get` call when reading a whole collection; bounds memory per round trip.
PAGE_SIZE = 1000
REBUILD_HINT = "run python index.py --rebuild"
# Manifest records need a vector; they are never searched.
_NO_VECTOR: Final = [1.0]

# What a Chroma client raises when the store is unreachable, corrupt or refuses an operation.
# ValueError is included because HttpClient reports "Could not connect" as one.
_CHROMA_FAILURES = (ChromaError, httpx.HTTPError, OSError, ValueError, RuntimeError)

T = TypeVar("T")


def _vectors(rows: Sequence[Sequence[float]]) -> list[Sequence[float] | Sequence[int]]:
    return [[float(x) for x in row] for row in rows]


def _reason(exc: Exception) -> str:
    return str(exc).strip().rstrip(".") or type(exc).__name__


def _location(settings: Settings) -> str:
    store = settings.store
    if store.host:
        scheme = "https" if store.ssl else "http"
        return f"the Chroma server at {scheme}://{store.host}:{store.port}"
    return f"the Chroma store in {settings.paths.chroma_dir}"


def _client_settings(settings: Settings) -> ChromaSettings:
    """Chroma client settings; with a token, Chroma's own token provider sends it on every
    request (Chroma 1.x servers authenticate nothing themselves: a proxy in front checks it,
    see docs/deployment.md)."""
    token = settings.store.token.get_secret_value()
    if not (settings.store.host and token):
        return ChromaSettings(anonymized_telemetry=False)
    return ChromaSettings(
        anonymized_telemetry=False,
        chroma_client_auth_provider="chromadb.auth.token_authn.TokenAuthClientProvider",
        chroma_client_auth_credentials=token,
        chroma_auth_token_transport_header=settings.store.token_header,
    )


def _refused(exc: Exception) -> bool:
    """True when the server (or its proxy) turned the request away for its credentials."""
    text = str(exc).lower()
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return status in (401, 403) or any(
        word in text for word in ("401", "403", "unauthorized", "forbidden")
    )


_REFUSED_HINT = (
    "the Chroma server refused the request's credentials: set ASSISTANT_STORE_TOKEN "
    "(or CHROMA_CLIENT_AUTH_CREDENTIALS) to the server's token, and "
    "ASSISTANT_STORE_TOKEN_HEADER if it expects X-Chroma-Token"
)


def _connector(settings: Settings) -> Callable[[bool], ClientAPI]:
    """A function that opens a client for the configured store, raising StoreError.

    `connect(True)` gives an embedded client its own freshly started Chroma system (which
    also serves the next clients this process opens for that folder): the way to see what
    other processes wrote since the old system loaded its vector index.
    """
    chroma_settings = _client_settings(settings)
    store = settings.store
    if store.host:
        hint = (
            f"start it (chroma run --path .chroma --port {store.port}) or unset "
            "ASSISTANT_STORE_HOST/CHROMA_HOST to use the embedded store"
        )
    else:
        hint = "check that the folder is writable, or set ASSISTANT_CHROMA_DIR"

    def connect(fresh: bool = False) -> ClientAPI:
        try:
            if store.host:
                return _timed_http_client(
                    lambda: chromadb.HttpClient(
                        host=store.host, port=store.port, ssl=store.ssl, settings=chroma_settings
                    ),
                    httpx.Timeout(store.server_timeout, connect=store.server_connect_timeout),
                    _location(settings),
                )
            settings.paths.chroma_dir.mkdir(parents=True, exist_ok=True)
            path = str(settings.paths.chroma_dir)
            if fresh:
                return _fresh_persistent_client(path)
            return chromadb.PersistentClient(path=path, settings=chroma_settings)
        except _CHROMA_FAILURES as exc:
            if store.host and _refused(exc):
                raise StoreError(f"cannot open {_location(settings)}: {_REFUSED_HINT}") from exc
            raise StoreError(f"cannot open {_location(settings)}: {_reason(exc)}. {hint}") from exc

    return connect


def _timed_http_client(
    create: Callable[[], ClientAPI], timeout: httpx.Timeout, location: str
) -> ClientAPI:
    """An HttpClient whose requests time out. Chroma's client makes its HTTP session with no
    timeout at all (a hung server blocks a caller forever) and already talks to the server
    while it is constructed, so construction runs under a deadline in a helper thread and
    the session gets the timeout afterwards."""
    deadline = (timeout.connect or 0) + (timeout.read or 0)
    box: list[ClientAPI | BaseException] = []

    def build() -> None:
        try:
            box.append(create())
        except BaseException as exc:
            box.append(exc)

    worker = threading.Thread(target=build, name="chroma-connect", daemon=True)
    worker.start()
    worker.join(deadline)
    if not box:
        raise UnavailableError(
            f"{location} did not answer within {deadline:g} s; check that it is running "
            "(ASSISTANT_STORE_SERVER_TIMEOUT sets how long to wait)"
        )
    if isinstance(box[0], BaseException):
        raise box[0]
    client = box[0]
    session = getattr(getattr(client, "_server", None), "_session", None)
    if isinstance(session, httpx.Client):
        session.timeout = timeout
    else:
        log.warning("cannot set timeouts on Chroma's HTTP client; a hung server may block")
    return client


def _fresh_persistent_client(path: str) -> ClientAPI:
    """A PersistentClient on a newly started system for `path` (Chroma's public
    `Client.from_system`); the old system is not stopped, other threads may be using it."""
    from chromadb.api import ServerAPI
    from chromadb.api.client import Client
    from chromadb.config import System

    # The same settings PersistentClient would build, so later clients share this system.
    system = System(
        ChromaSettings(anonymized_telemetry=False, is_persistent=True, persist_directory=path)
    )
    system.instance(ServerAPI)  # type: ignore[type-abstract]
    system.start()
    return Client.from_system(system)


OPEN_LOCK_NAME: Final = "open.lock"
# Opening takes well under a second; a holder this slow is stuck, and the error says where.
OPEN_LOCK_TIMEOUT_S: Final = 120.0


def _open_lock(settings: Settings) -> Path | None:
    return None if settings.store.host else settings.paths.chroma_dir / OPEN_LOCK_NAME


@contextlib.contextmanager
def _first_open(path: Path | None) -> Iterator[None]:
    """Hold the opening lock at `path` (nothing when None).

    Chroma's embedded client creates its SQLite tables on first use without guarding against
    another process doing the same: two processes opening a new folder at once can fail with
    "table collections already exists" (seen with two index.py runs started together). The
    catalog is created under the same lock, so both find one catalog. It is separate from
    the index lock so that readers never wait for an indexing run.
    """
    if path is None:
        yield
        return
    lock = FileLock(path, timeout=OPEN_LOCK_TIMEOUT_S, preserve_lock_file=True)
    held = False
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        lock.acquire()
        held = True
    except Timeout:
        raise StoreError(
            f"cannot open the Chroma store in {path.parent}: another process has been opening "
            f"it for {OPEN_LOCK_TIMEOUT_S:g} s (it holds {path}); stop that process and retry"
        ) from None
    except OSError as exc:
        # A read-only store cannot be created by anyone, so there is no race to guard; the
        # client reports the folder itself if it is unusable.
        log.debug("opening %s without the opening lock: %s", path.parent, exc)
    try:
        yield
    finally:
        if held:
            with contextlib.suppress(OSError):
                lock.release()


def open_store(
    settings: Settings, model_id: str, dimension: int, *, rebuild: bool = False
) -> VectorStore:
    """Connect to the configured Chroma and open (or create) the index for `model_id`.

    Raises:
        StoreError: Chroma cannot be reached, or the index was built with another embedding
            model or dimension (unless `rebuild`: the indexer then builds a new space and
            switches to it, and the catalog takes the new model).
    """
    return VectorStore(
        _connector(settings),
        settings.store.collection,
        model_id=model_id,
        dimension=dimension,
        location=_location(settings),
        embedded=not settings.store.host,
        rebuild=rebuild,
        open_lock=_open_lock(settings),
        sentence_format=LATE_FORMAT if settings.index.late_chunking else STANDALONE_FORMAT,
    )


def open_existing(settings: Settings, model_id: str) -> VectorStore | None:
    """The store, if it already holds an index of `model_id`, opened with the dimension its
    catalog records (so the model need not be loaded to learn it); None otherwise."""
    connect = _connector(settings)
    name = f"{settings.store.collection}{CATALOG_SUFFIX}"
    with _first_open(_open_lock(settings)):
        client = connect(False)
        try:
            catalog = client.get_collection(name, embedding_function=None)
        except NotFoundError:
            return None
        except _CHROMA_FAILURES as exc:
            raise StoreError(f"cannot read {_location(settings)}: {_reason(exc)}") from exc
    meta = catalog.metadata or {}
    dimension = meta.get(DIMENSION_KEY)
    if meta.get(MODEL_KEY) != model_id or not isinstance(dimension, int):
        return None
    return open_store(settings, model_id, dimension)


@dataclass(frozen=True)
class IndexedDocument:
    """A document's manifest record: what the index holds of it, independent of its chunks."""

    doc_id: str
    doc_hash: str = ""
    generation: str = ""  # "" = no live version (being added, or being removed)
    chunks: int = 0
    title: str = ""
    kind: str = "document"
    source: str = ""
    date: int = 0
    dirty: bool = False  # chunks of other generations may exist and must be deleted

    def to_metadata(self) -> dict[str, str | int | bool]:
        return {
            "doc_hash": self.doc_hash,
            GENERATION_KEY: self.generation,
            "chunks": self.chunks,
            "title": self.title,
            "kind": self.kind,
            "source": self.source,
            "date": self.date,
            "dirty": self.dirty,
        }

    @classmethod
    def from_metadata(cls, doc_id: str, meta: Mapping[str, Any]) -> IndexedDocument:
        return cls(
            doc_id=doc_id,
            doc_hash=str(meta.get("doc_hash", "")),
            generation=str(meta.get(GENERATION_KEY, "")),
            chunks=int(meta.get("chunks", 0) or 0),
            title=str(meta.get("title", "")),
            kind=str(meta.get("kind", "document")),
            source=str(meta.get("source", "")),
            date=int(meta.get("date", 0) or 0),
            dirty=bool(meta.get("dirty", False)),
        )

    @classmethod
    def of(cls, chunks: Sequence[Chunk], generation: str) -> IndexedDocument:
        """The record of a document whose complete chunk list is `chunks`."""
        first = chunks[0]
        meta = first.to_metadata()
        return cls(
            doc_id=first.doc_id,
            doc_hash=first.doc_hash,
            generation=generation,
            chunks=len(chunks),
            title=first.title,
            kind=first.kind,
            source=first.source,
            date=int(meta["date"]),
        )


def new_generation() -> str:
    return uuid.uuid4().hex[:16]


def record_id(chunk: Chunk, generation: str) -> str:
    return f"{chunk.chunk_id}@{generation}"


def chunk_id_of(record: str) -> str:
    return record.rsplit("@", 1)[0]


@dataclass(frozen=True)
class StoredChunk:
    """A chunk record as the store holds it, live or not (for checks and repairs)."""

    record_id: str
    chunk: Chunk
    generation: str


@dataclass
class _Space:
    """One generation of the whole index: chunk collection plus manifest collection."""

    name: str
    chunks: Collection
    docs: Collection


@dataclass(frozen=True)
class _View:
    """What readers see at one revision: the live space and each document's live generation."""

    revision: str
    space: _Space | None
    records: dict[str, IndexedDocument]
    live: dict[str, str]  # doc_id -> generation
    has_strays: bool


class VectorStore:
    """The chunk index in Chroma; safe to share between threads. Writers must hold the index
    lock (`assistant.locking`), readers need none."""

    def __init__(
        self,
        connect: Callable[[bool], ClientAPI],
        name: str,
        *,
        model_id: str,
        dimension: int,
        location: str,
        embedded: bool,
        rebuild: bool = False,
        open_lock: Path | None = None,
        sentence_format: int = FORMAT,
    ) -> None:
        """`open_lock`: a file that serialises opening an embedded store between processes
        (see `_first_open`); None for a server, which serialises its own writes.
        `sentence_format`: the `FORMAT_KEY` this process writes and reads sentence vectors
        of (2 or 3, see `FORMAT`)."""
        self.model_id = model_id
        self.sentence_format = sentence_format
        self.dimension = dimension
        self.name = name
        self._catalog_name = f"{name}{CATALOG_SUFFIX}"
        self._space_re = re.compile(rf"^{re.escape(name)}-g[0-9a-f]{{12}}(-docs)?$")
        self._connect = connect
        self._location = location
        self._embedded = embedded
        self._allow_other_model = rebuild
        self._lock = threading.RLock()
        self._target: _Space | None = None  # the space a rebuild is filling
        self._view_cache: _View | None = None
        with _first_open(open_lock):
            self._client = connect(False)
            with self._guard("open the index"):
                catalog = self._open_catalog()
                self._seen_revision = self._revision_of(catalog)
                self._live_space = self._space_of(catalog)

    # -- catalog and spaces --------------------------------------------------------------

    def _base_metadata(self) -> dict[str, str | int]:
        return {MODEL_KEY: self.model_id, DIMENSION_KEY: self.dimension}

    def _open_catalog(self) -> Collection:
        try:
            catalog = self._client.get_collection(self._catalog_name, embedding_function=None)
        except NotFoundError:
            live = self._adopt_legacy()
            return self._client.get_or_create_collection(
                self._catalog_name,
                metadata={**self._base_metadata(), LIVE_KEY: live, REVISION_KEY: new_generation()},
                embedding_function=None,
            )
        if self._built_with(catalog) == (self.model_id, self.dimension):
            return catalog
        live = str((catalog.metadata or {}).get(LIVE_KEY, ""))
        empty = not live or self._client.get_collection(live).count() == 0
        if self._allow_other_model or empty:
            return catalog  # the rebuild (or first write) takes the catalog over
        raise StoreError(self._mismatch(catalog))

    def _adopt_legacy(self) -> str:
        """Take over the single collection `name` that versions before the catalog wrote
        (chunk ids without a generation): tag its chunks with a generation and write their
        manifest, so an existing index keeps answering without a re-embed. Returns the space
        name, or "" when there is nothing of this model to adopt."""
        try:
            legacy = self._client.get_collection(self.name, embedding_function=None)
        except NotFoundError:
            return ""
        if self._built_with(legacy) != (self.model_id, self.dimension) or legacy.count() == 0:
            return ""  # another model's vectors: the next writer drops the collection
        by_doc: dict[str, list[Chunk]] = {}
        for batch in self._pages(legacy, ["metadatas"]):
            metas = [dict(m or {}) for m in batch["metadatas"] or []]
            legacy.update(
                ids=batch["ids"],
                metadatas=[{**m, GENERATION_KEY: LEGACY_GENERATION} for m in metas],
            )
            for rid, meta in zip(batch["ids"], metas, strict=True):
                chunk = Chunk.from_record(chunk_id_of(rid), "", meta)
                by_doc.setdefault(chunk.doc_id, []).append(chunk)
        docs = self._client.get_or_create_collection(f"{self.name}-docs", embedding_function=None)
        records = [
            IndexedDocument.of(sorted(chunks, key=lambda c: c.index), LEGACY_GENERATION)
            for chunks in by_doc.values()
        ]
        self._put_records(_Space(self.name, legacy, docs), records)
        log.warning("adopted the index of an earlier version: %d documents", len(records))
        return self.name

    @staticmethod
    def _built_with(catalog: Collection) -> tuple[object, object]:
        meta = catalog.metadata or {}
        return meta.get(MODEL_KEY), meta.get(DIMENSION_KEY)

    def _mismatch(self, catalog: Collection) -> str:
        # Vectors of two models live in different spaces: mixing them ranks nonsense.
        model, dimension = self._built_with(catalog)
        return (
            f"the index in {self._location} was built with the embedding model "
            f"{model or 'unknown'} ({dimension or '?'} dimensions), not {self.model_id} "
            f"({self.dimension} dimensions): {REBUILD_HINT} to re-embed every document with "
            "the current model"
        )

    def _catalog(self) -> Collection:
        """The catalog as stored now (Chroma reads collection metadata from disk each time)."""
        try:
            return self._client.get_collection(self._catalog_name, embedding_function=None)
        except NotFoundError:
            return self._open_catalog()

    @staticmethod
    def _revision_of(catalog: Collection) -> str:
        meta = catalog.metadata or {}
        return f"{meta.get(LIVE_KEY, '')}:{meta.get(REVISION_KEY, '')}"

    def _space_of(self, catalog: Collection) -> _Space | None:
        live = str((catalog.metadata or {}).get(LIVE_KEY, ""))
        if not live:
            return None
        try:
            return _Space(
                live,
                self._client.get_collection(live, embedding_function=None),
                self._client.get_collection(f"{live}-docs", embedding_function=None),
            )
        except NotFoundError as exc:
            raise StoreError(
                f"the index in {self._location} names the collection {live}, which is "
                f"missing: {REBUILD_HINT}"
            ) from exc

    def _create_space(self) -> _Space:
        name = f"{self.name}-g{uuid.uuid4().hex[:12]}"
        chunks = self._client.create_collection(
            name,
            configuration=CreateCollectionConfiguration(hnsw=CreateHNSWConfiguration(space=SPACE)),
            metadata={**self._base_metadata(), FORMAT_KEY: self.sentence_format},
            embedding_function=None,
        )
        docs = self._client.create_collection(f"{name}-docs", embedding_function=None)
        return _Space(name, chunks, docs)

    def _drop_space(self, name: str) -> None:
        for collection in (name, f"{name}-docs"):
            with contextlib.suppress(NotFoundError):
                self._client.delete_collection(collection)

    def _set_catalog(self, live: str) -> None:
        """Commit point: one metadata write names the live space and a new revision."""
        revision = new_generation()
        catalog = self._catalog()
        catalog.modify(metadata={**self._base_metadata(), LIVE_KEY: live, REVISION_KEY: revision})
        with self._lock:
            self._seen_revision = f"{live}:{revision}"
            self._view_cache = None

    def _bump(self) -> None:
        """Write a new revision id, so readers elsewhere notice the content changed."""
        with self._lock:
            live = self._live_space.name if self._live_space else ""
        self._set_catalog(live)

    @contextlib.contextmanager
    def _guard(self, action: str) -> Iterator[None]:
        try:
            yield
        except AssistantError:
            raise
        except httpx.TimeoutException as exc:
            raise UnavailableError(
                f"{self._location} did not answer in time while trying to {action}; "
                "try again shortly"
            ) from exc
        except _CHROMA_FAILURES as exc:
            if not self._embedded and _refused(exc):
                raise StoreError(f"{self._location} failed to {action}: {_REFUSED_HINT}") from exc
            raise StoreError(
                f"{self._location} failed to {action}: {_reason(exc)}. Check that it is "
                f"running and reachable; if the problem persists, {REBUILD_HINT}"
            ) from exc

    # -- revision and the readers' view --------------------------------------------------

    def revision(self) -> str:
        """An id that changes whenever the content changes, whoever changed it."""
        with self._guard("read the revision"), self._lock:
            catalog = self._catalog()
            revision = self._revision_of(catalog)
            if revision != self._seen_revision:
                if self._embedded:
                    self._client = self._connect(True)
                    catalog = self._catalog()
                    revision = self._revision_of(catalog)
                self._live_space = self._space_of(catalog)
                self._seen_revision = revision
                self._view_cache = None
            return revision

    def _view(self, *, fresh: bool = True) -> _View:
        revision = self.revision() if fresh or self._view_cache is None else None
        with self._lock:
            cached = self._view_cache
            if cached is not None and (revision is None or cached.revision == revision):
                return cached
            space = self._live_space
            revision = self._seen_revision
        records = self._manifest(space) if space else {}
        view = _View(
            revision=revision,
            space=space,
            records=records,
            live={d: r.generation for d, r in records.items() if r.generation},
            has_strays=any(r.dirty for r in records.values()),
        )
        with self._lock:
            if self._seen_revision == revision:
                self._view_cache = view
        return view

    def _read(self, action: str, operation: Callable[[_View], T]) -> T:
        """Run a read on the current view, once more on a fresh one if a switch elsewhere
        dropped the collection meanwhile.

        A dropped collection does not always raise: embedded Chroma may answer an empty page.
        So an empty result read at a revision that is no longer current is read again, rather
        than shown as an empty index; a non-empty result needs no extra round trip.
        """
        with self._guard(action):
            try:
                view = self._view(fresh=False)
                result = operation(view)
                if result or self.revision() == view.revision:
                    return result
            except NotFoundError:
                pass
            with self._lock:
                self._view_cache = None
            return operation(self._view())

    # -- manifest ------------------------------------------------------------------------

    def _pages(
        self, collection: Collection, include: list[str], where: Any = None
    ) -> Iterator[Any]:
        """Non-empty pages of `collection`. A collection whose size is a multiple of the page
        size ends with an empty page; callers that write per page (adopting an old index)
        must not see it: Chroma refuses an update with empty lists."""
        offset = 0
        while True:
            batch = collection.get(limit=PAGE_SIZE, offset=offset, include=include, where=where)  # type: ignore[arg-type]
            if batch["ids"]:
                yield batch
            if len(batch["ids"]) < PAGE_SIZE:
                return
            offset += PAGE_SIZE

    def _manifest(self, space: _Space) -> dict[str, IndexedDocument]:
        records: dict[str, IndexedDocument] = {}
        for batch in self._pages(space.docs, ["metadatas"]):
            for doc_id, meta in zip(batch["ids"], batch["metadatas"] or [], strict=True):
                records[doc_id] = IndexedDocument.from_metadata(doc_id, meta or {})
        return records

    def manifest(self) -> dict[str, IndexedDocument]:
        """doc_id -> record, of the space writes go to (the rebuild's new one while it runs)."""
        with self._guard("read the manifest"):
            space = self._target or self._live_space
            return self._manifest(space) if space else {}

    # -- writes (under the index lock) -----------------------------------------------------

    def _write_space(self) -> _Space:
        with self._lock:
            if self._target is not None:
                return self._target
            if self._live_space is None:
                self._live_space = self._create_space()
                self._set_catalog(self._live_space.name)
            return self._live_space

    def _put_records(self, space: _Space, records: Sequence[IndexedDocument]) -> None:
        batch = self._client.get_max_batch_size()
        for at in range(0, len(records), batch):
            part = records[at : at + batch]
            space.docs.upsert(
                ids=[r.doc_id for r in part],
                embeddings=_vectors([_NO_VECTOR] * len(part)),
                metadatas=[r.to_metadata() for r in part],
            )

    def begin(self, records: Sequence[IndexedDocument]) -> None:
        """Mark documents as being replaced before any of their new chunks are written, so an
        interrupted run leaves a trace the next one follows (`tidy`)."""
        if not records:
            return
        with self._guard("prepare documents"):
            self._put_records(self._write_space(), [replace(r, dirty=True) for r in records])

    def write_chunks(
        self,
        chunks: Sequence[Chunk],
        embeddings: Sequence[Sequence[float]],
        generations: Mapping[str, str],
        sentence_vectors: Sequence[str] | None = None,
    ) -> None:
        """Store chunks of new generations (invisible to readers until `commit`), with the
        packed vectors of their sentences (`assistant.sentences`) when given."""
        if len(chunks) != len(embeddings):
            raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} embeddings")
        if sentence_vectors is not None and len(sentence_vectors) != len(chunks):
            raise ValueError(f"{len(chunks)} chunks but {len(sentence_vectors)} sentence vectors")
        for vector in embeddings:
            if len(vector) != self.dimension:
                raise StoreError(
                    f"a vector has {len(vector)} dimensions; this index holds {self.dimension}: "
                    f"{REBUILD_HINT}"
                )
        if not chunks:
            return
        with self._guard("store chunks"):
            space = self._write_space()
            batch = self._client.get_max_batch_size()
            for at in range(0, len(chunks), batch):
                part = chunks[at : at + batch]
                metadatas = []
                for n, c in enumerate(part, at):
                    meta: dict[str, str | int] = c.to_metadata()
                    meta[GENERATION_KEY] = generations[c.doc_id]
                    if sentence_vectors is not None and sentence_vectors[n]:
                        meta[SENTENCE_VECTORS_KEY] = sentence_vectors[n]
                    metadatas.append(meta)
                space.chunks.upsert(
                    ids=[record_id(c, generations[c.doc_id]) for c in part],
                    embeddings=_vectors(embeddings[at : at + batch]),
                    documents=[c.text for c in part],
                    metadatas=metadatas,  # type: ignore[arg-type]
                )

    def commit(self, records: Sequence[IndexedDocument]) -> None:
        """Make the given generations live (one manifest write), then delete the others."""
        if not records:
            return
        with self._guard("commit documents"):
            space = self._write_space()
            switched = [replace(r, dirty=True) for r in records]
            self._put_records(space, switched)
            self._delete_strays(space, switched)
            self._put_records(space, [replace(r, dirty=False) for r in records])
            if space is not self._target:
                self._bump()

    def _delete_strays(self, space: _Space, records: Sequence[IndexedDocument]) -> None:
        """Delete every chunk of these documents that is not of their live generation."""
        for at in range(0, len(records), 100):
            part = records[at : at + 100]
            ids = [r.doc_id for r in part]
            keep = [r.generation for r in part if r.generation] or ["-"]
            space.chunks.delete(
                where={"$and": [{"doc_id": {"$in": ids}}, {GENERATION_KEY: {"$nin": keep}}]}  # type: ignore[dict-item]
            )

    def upsert_chunks(
        self,
        chunks: Sequence[Chunk],
        embeddings: Sequence[Sequence[float]],
        sentence_vectors: Sequence[str] | None = None,
    ) -> None:
        """Store complete documents (all chunks of each document given) and make them live."""
        by_doc: dict[str, list[Chunk]] = {}
        for chunk in chunks:
            by_doc.setdefault(chunk.doc_id, []).append(chunk)
        generations = {doc_id: new_generation() for doc_id in by_doc}
        known = self.manifest()
        self.begin([known.get(d) or IndexedDocument(doc_id=d) for d in by_doc])
        self.write_chunks(chunks, embeddings, generations, sentence_vectors)
        self.commit([IndexedDocument.of(c, generations[d]) for d, c in by_doc.items()])

    def delete_documents(self, doc_ids: Iterable[str]) -> None:
        """Remove documents: first from the manifest's live view, then their chunks."""
        ids = sorted(set(doc_ids))
        if not ids:
            return
        with self._guard("delete documents"):
            space = self._target or self._live_space
            if space is None:
                return
            gone = [IndexedDocument(doc_id=d, dirty=True) for d in ids]
            self._put_records(space, gone)
            if space is not self._target:
                self._bump()
            self._delete_strays(space, gone)
            space.docs.delete(ids=ids)

    def delete_records(self, record_ids: Sequence[str]) -> None:
        """Delete chunk records by id (repairs of records no reader sees)."""
        with self._guard("delete chunk records"):
            space = self._target or self._live_space
            if space is None or not record_ids:
                return
            batch = self._client.get_max_batch_size()
            for at in range(0, len(record_ids), batch):
                space.chunks.delete(ids=list(record_ids[at : at + batch]))

    def tidy(self) -> list[str]:
        """Finish what an interrupted writer left: delete chunks of dead generations, drop
        records of removed documents and spaces of abandoned rebuilds. Returns the doc ids."""
        with self._guard("tidy the index"):
            self.revision()  # another process may have switched spaces since we last looked
            self._drop_abandoned_spaces()
            space = self._target or self._live_space
            if space is None:
                return []
            dirty = [r for r in self._manifest(space).values() if r.dirty]
            if not dirty:
                return []
            self._delete_strays(space, dirty)
            gone = [r.doc_id for r in dirty if not r.generation]
            if gone:
                space.docs.delete(ids=gone)
            self._put_records(space, [replace(r, dirty=False) for r in dirty if r.generation])
            if space is not self._target:
                self._bump()
            log.warning("finished %d interrupted document replacement(s)", len(dirty))
            return sorted(r.doc_id for r in dirty)

    def _drop_abandoned_spaces(self) -> None:
        keep = {s.name for s in (self._live_space, self._target) if s is not None}
        for collection in self._client.list_collections():
            name = collection if isinstance(collection, str) else collection.name
            base = name.removesuffix("-docs")
            # `name` alone is the single collection versions before the catalog wrote.
            if (self._space_re.match(name) or base == self.name) and base not in keep:
                with contextlib.suppress(NotFoundError):
                    self._client.delete_collection(name)

    def start_rebuild(self) -> None:
        """Direct writes to a new, empty space; readers keep the live one until `finish_rebuild`."""
        with self._guard("start a rebuild"), self._lock:
            self.revision()
            self._drop_abandoned_spaces()
            self._target = self._create_space()

    def finish_rebuild(self) -> None:
        """Switch readers to the rebuilt space in one catalog write, then drop the old one."""
        with self._guard("switch to the rebuilt index"), self._lock:
            target, old = self._target, self._live_space
            if target is None:
                return
            self._set_catalog(target.name)
            self._live_space, self._target = target, None
            if old is not None:
                self._drop_space(old.name)

    def abandon_rebuild(self) -> None:
        """Drop a rebuild's space (its run failed); the live index is untouched."""
        with self._guard("abandon the rebuild"), self._lock:
            if self._target is not None:
                self._drop_space(self._target.name)
                self._target = None

    def reset(self) -> None:
        """Drop every chunk: an empty space becomes live at once."""
        self.start_rebuild()
        self.finish_rebuild()

    # -- reads ---------------------------------------------------------------------------

    def count(self) -> int:
        """Live chunks."""
        return sum(r.chunks for r in self._view().records.values() if r.generation)

    def is_empty(self) -> bool:
        return self.count() == 0

    def query(
        self, embedding: Sequence[float], n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[Chunk, float]]:
        """The `n` live chunks nearest to `embedding` (optionally filtered), with their cosine
        similarity, best first."""
        if n < 1:
            return []

        def search(view: _View) -> list[tuple[Chunk, float]]:
            if view.space is None:
                return []
            # Chunks of an interrupted write may take places in the ranking: ask for more.
            # Chroma 1.x returns what there is when asked for more (none from an empty
            # collection), so no count() first: one round trip fewer per question.
            wanted = n * 2 + 10 if view.has_strays else n
            result = view.space.chunks.query(
                query_embeddings=_vectors([embedding]),
                n_results=wanted,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
            ids = result["ids"][0]
            docs = (result["documents"] or [[]])[0]
            metas = (result["metadatas"] or [[]])[0]
            distances = (result["distances"] or [[]])[0]
            hits = []
            for rid, doc, stored, dist in zip(ids, docs, metas, distances, strict=True):
                meta: dict[str, object] = dict(stored or {})
                if view.live.get(str(meta.get("doc_id"))) != meta.get(GENERATION_KEY):
                    continue
                hits.append((Chunk.from_record(chunk_id_of(rid), doc or "", meta), 1.0 - dist))
            hits.sort(key=lambda hit: -hit[1])
            return hits[:n]

        return self._read("search", search)

    def sentence_vectors(self, chunks: Sequence[Chunk]) -> dict[str, np.ndarray]:
        """text -> vector of the titles and sentences of these live chunks, as the indexer
        stored them (one round trip); chunks written without them, and every chunk of an index
        of an older format, are left out."""
        from assistant.sentences import stored_vectors  # pysbd and more: not at import time

        wanted = {c.chunk_id: c for c in chunks if c.sentences is not None}
        if not wanted:
            return {}

        def read(view: _View) -> dict[str, np.ndarray]:
            if view.space is None:
                return {}
            if (view.space.chunks.metadata or {}).get(FORMAT_KEY) != self.sentence_format:
                return {}  # not made the way this scorer expects (see FORMAT)
            ids = [
                f"{chunk_id}@{view.live[c.doc_id]}"
                for chunk_id, c in wanted.items()
                if c.doc_id in view.live
            ]
            if not ids:
                return {}
            rows = view.space.chunks.get(ids=ids, include=["metadatas"])
            found: dict[str, np.ndarray] = {}
            for rid, meta in zip(rows["ids"], rows["metadatas"] or [], strict=True):
                chunk = wanted.get(chunk_id_of(rid))
                if chunk is not None and meta:
                    found.update(
                        stored_vectors(chunk, meta.get(SENTENCE_VECTORS_KEY), self.dimension)
                    )
            return found

        return self._read("read sentence vectors", read)

    def index_format(self) -> int:
        """The format the live index was written in (see `FORMAT`; 1 when it records none)."""

        def read(view: _View) -> int:
            if view.space is None:
                return self.sentence_format  # the next write creates a space of this format
            stored = (view.space.chunks.metadata or {}).get(FORMAT_KEY, 1)
            return stored if isinstance(stored, int) else 1

        return self._read("read the index format", read)

    def stores_sentence_vectors(self) -> bool:
        """Whether the live index holds sentence offsets and sentence vectors made the way
        these settings answer with (else answering computes them per question: slower)."""
        return self.index_format() == self.sentence_format

    def stored_chunks(self, *, live_only: bool = True) -> list[StoredChunk]:
        """Chunk records of the live space (all generations unless `live_only`)."""

        def read(view: _View) -> list[StoredChunk]:
            if view.space is None:
                return []
            found = []
            for batch in self._pages(view.space.chunks, ["documents", "metadatas"]):
                docs = batch.get("documents") or [""] * len(batch["ids"])
                metas = batch.get("metadatas") or [{}] * len(batch["ids"])
                for rid, doc, meta in zip(batch["ids"], docs, metas, strict=True):
                    meta = dict(meta or {})
                    generation = str(meta.get(GENERATION_KEY, ""))
                    if live_only and view.live.get(str(meta.get("doc_id"))) != generation:
                        continue
                    chunk = Chunk.from_record(chunk_id_of(rid), doc or "", meta)
                    found.append(StoredChunk(rid, chunk, generation))
            return found

        return self._read("read chunks", read)

    def export(self) -> Iterator[tuple[Chunk, list[float], str]]:
        """Every live chunk with its vector and its packed sentence vectors ("" when it has
        none), a page at a time: for copying an index (benchmarks derive stores this way)."""
        with self._guard("export chunks"):
            view = self._view()
            if view.space is None:
                return
            pages = self._pages(view.space.chunks, ["documents", "metadatas", "embeddings"])
            for batch in pages:
                rows = zip(
                    batch["ids"],
                    batch["documents"],
                    batch["metadatas"],
                    batch["embeddings"],
                    strict=True,
                )
                for rid, doc, meta, vector in rows:
                    meta = dict(meta or {})
                    if view.live.get(str(meta.get("doc_id"))) != meta.get(GENERATION_KEY):
                        continue
                    chunk = Chunk.from_record(chunk_id_of(rid), doc or "", meta)
                    packed = meta.get(SENTENCE_VECTORS_KEY)
                    yield (
                        chunk,
                        [float(x) for x in vector],
                        packed if isinstance(packed, str) else "",
                    )

    def all_chunks(self) -> list[Chunk]:
        """Every live chunk, ordered by document and position."""
        chunks = [stored.chunk for stored in self.stored_chunks()]
        return sorted(chunks, key=lambda c: (c.doc_id, c.index))

    def document_hashes(self) -> dict[str, str]:
        """doc_id -> content hash of the live version of each indexed document."""
        return {d: r.doc_hash for d, r in self._view().records.items() if r.generation}

    def records(self) -> dict[str, IndexedDocument]:
        """The live space's manifest as readers see it now."""
        return dict(self._view().records)

    def documents(self) -> list[DocumentInfo]:
        """One entry per indexed document, newest first, undated last."""
        infos = [
            DocumentInfo(
                doc_id=r.doc_id,
                source=r.source,
                title=r.title,
                kind=r.kind,
                date=int_to_date(r.date),
                chunks=r.chunks,
            )
            for r in self._view().records.values()
            if r.generation
        ]
        infos.sort(key=lambda i: i.title.casefold())
        infos.sort(key=lambda i: i.date.toordinal() if i.date else 0, reverse=True)
        return infos

    def require_index(self) -> None:
        """Raise IndexNotBuiltError when nothing is indexed yet."""
        if self.is_empty():
            raise IndexNotBuiltError(
                "the document index is empty: run `python index.py` to index the corpus"
            )
