"""The Chroma vector store of chunks, embedded on disk or on a Chroma server, behind one class.

`open_store` picks the client (a `PersistentClient` in `.chroma/` by default, an `HttpClient`
when a server host is set) and everything after that is the same code. The collection never
embeds anything itself (no embedding function: Chroma's default would download a model); it
stores the vectors the `Embedder` made, compared by cosine distance. The embedding model and
dimension are written into the collection's metadata, and a store built with another model is
refused until it is rebuilt, because vectors of two models cannot be compared. Every write also
writes a new revision id there, so a process that caches something derived from the store (the
BM25 index) notices when another process re-indexes. An embedded store that notices such a
foreign write also reloads its client: Chroma's in-process vector index never rereads what
another process wrote to disk, so without the reload new chunks would be invisible to search.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, Final, TypeVar

import chromadb
import httpx
from chromadb.api import ClientAPI
from chromadb.api.collection_configuration import (
    CreateCollectionConfiguration,
    CreateHNSWConfiguration,
)
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError, NotFoundError

from assistant.config import Settings
from assistant.errors import AssistantError, StoreError, UnavailableError
from assistant.types import Chunk, DocumentInfo

log = logging.getLogger(__name__)

MODEL_KEY = "embedding_model"
DIMENSION_KEY = "embedding_dimension"
REVISION_KEY = "revision"
SPACE: Final = "cosine"
# Rows fetched per `get` call when reading the whole collection; bounds memory per round trip.
PAGE_SIZE = 1000
REBUILD_HINT = "run python index.py --rebuild"

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


def _connector(settings: Settings) -> Callable[[], ClientAPI]:
    """A function that opens a client for the configured store, raising StoreError."""
    chroma_settings = _client_settings(settings)
    store = settings.store
    if store.host:
        hint = (
            f"start it (chroma run --path .chroma --port {store.port}) or unset "
            "ASSISTANT_STORE_HOST/CHROMA_HOST to use the embedded store"
        )
    else:
        hint = "check that the folder is writable, or set ASSISTANT_CHROMA_DIR"

    def connect() -> ClientAPI:
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
            return chromadb.PersistentClient(
                path=str(settings.paths.chroma_dir), settings=chroma_settings
            )
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


def _evict_cached_system(client: ClientAPI) -> None:
    """Make the next PersistentClient for this path load the store afresh from disk.

    Chroma keeps one in-process "system" per path and hands it to every new client. It is
    evicted from that cache, not stopped: other threads may still be running a query on it.
    """
    from chromadb.api.shared_system_client import SharedSystemClient

    identifier = getattr(client, "_identifier", None)
    systems = getattr(SharedSystemClient, "_identifier_to_system", None)
    counts = getattr(SharedSystemClient, "_identifier_to_refcount", None)
    if identifier is None or not isinstance(systems, dict) or not isinstance(counts, dict):
        log.warning(
            "cannot reload the embedded Chroma store; restart to see other processes' writes"
        )
        return
    systems.pop(identifier, None)
    counts.pop(identifier, None)


def open_store(
    settings: Settings, model_id: str, dimension: int, *, rebuild: bool = False
) -> VectorStore:
    """Connect to the configured Chroma and open (or create) the collection for `model_id`.

    Raises:
        StoreError: Chroma cannot be reached, or the collection was built with another
            embedding model or dimension (unless `rebuild`: then it is dropped and created
            again, empty; a collection of the same model is kept for the indexer to reset).
    """
    return VectorStore(
        _connector(settings),
        settings.store.collection,
        model_id=model_id,
        dimension=dimension,
        location=_location(settings),
        embedded=not settings.store.host,
        rebuild=rebuild,
    )


class VectorStore:
    """One Chroma collection of chunks with their vectors; safe to share between threads."""

    def __init__(
        self,
        connect: Callable[[], ClientAPI],
        name: str,
        *,
        model_id: str,
        dimension: int,
        location: str,
        embedded: bool,
        rebuild: bool = False,
    ) -> None:
        self.model_id = model_id
        self.dimension = dimension
        self.name = name
        self._connect = connect
        self._location = location
        self._embedded = embedded
        self._lock = threading.RLock()
        self._client = connect()
        with self._guard("open the collection"):
            self._collection = self._open(replace_incompatible=rebuild)
        # The revision this process's view of the store reflects (see `revision`).
        self._seen_revision = self._revision_of(self._collection)

    # -- collection lifecycle ------------------------------------------------------------

    def _base_metadata(self) -> dict[str, str | int]:
        return {MODEL_KEY: self.model_id, DIMENSION_KEY: self.dimension}

    def _open(self, *, replace_incompatible: bool = False) -> Collection:
        """The collection for this model, created if missing. One built with another model is
        replaced when asked to or when empty (nothing to lose), and refused otherwise."""
        try:
            collection = self._client.get_collection(self.name, embedding_function=None)
        except NotFoundError:
            return self._create()
        if self._built_for_this_model(collection):
            return collection
        if replace_incompatible or collection.count() == 0:
            self._drop()
            return self._create()
        raise StoreError(self._mismatch(collection))

    def _create(self) -> Collection:
        metadata = {**self._base_metadata(), REVISION_KEY: uuid.uuid4().hex}
        return self._client.get_or_create_collection(
            self.name,
            configuration=CreateCollectionConfiguration(hnsw=CreateHNSWConfiguration(space=SPACE)),
            metadata=metadata,
            embedding_function=None,
        )

    def _drop(self) -> None:
        with contextlib.suppress(NotFoundError):
            self._client.delete_collection(self.name)

    @staticmethod
    def _built_with(collection: Collection) -> tuple[object, object, object]:
        meta = collection.metadata or {}
        space = (collection.configuration.get("hnsw") or {}).get("space", SPACE)
        return meta.get(MODEL_KEY), meta.get(DIMENSION_KEY), space

    def _built_for_this_model(self, collection: Collection) -> bool:
        return self._built_with(collection) == (self.model_id, self.dimension, SPACE)

    def _mismatch(self, collection: Collection) -> str:
        # Vectors of two models live in different spaces: mixing them ranks nonsense.
        model, dimension, space = self._built_with(collection)
        return (
            f"the index in {self._location} was built with the embedding model "
            f"{model or 'unknown'} ({dimension or '?'} dimensions, {space} space), "
            f"not {self.model_id} ({self.dimension} dimensions, {SPACE}): {REBUILD_HINT} "
            "to re-embed every document with the current model"
        )

    @staticmethod
    def _revision_of(collection: Collection) -> str:
        meta = collection.metadata or {}
        return f"{collection.id}:{meta.get(REVISION_KEY, '')}"

    def _current(self) -> Collection:
        with self._lock:
            return self._collection

    def _refresh(self) -> Collection:
        """Fetch the collection again by name (another process may have rebuilt it)."""
        with self._lock:
            self._collection = self._open()
            return self._collection

    def _reload(self) -> None:
        """Reconnect an embedded store so its vector index includes other processes' writes."""
        with self._lock:
            _evict_cached_system(self._client)
            self._client = self._connect()
            self._collection = self._open()

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

    def _call(self, action: str, operation: Callable[[Collection], T]) -> T:
        """Run `operation(collection)`, once more on a fresh handle if the collection was
        dropped and recreated meanwhile (a rebuild by another process or thread)."""
        with self._guard(action):
            try:
                return operation(self._current())
            except NotFoundError:
                return operation(self._refresh())

    def _touch(self, collection: Collection) -> None:
        """Write a new revision id, so readers elsewhere notice the content changed."""
        revision = uuid.uuid4().hex
        collection.modify(metadata={**self._base_metadata(), REVISION_KEY: revision})
        with self._lock:
            self._seen_revision = f"{collection.id}:{revision}"

    # -- writes --------------------------------------------------------------------------

    def upsert_chunks(self, chunks: Sequence[Chunk], embeddings: Sequence[Sequence[float]]) -> None:
        """Insert or replace chunks (by chunk id) with their vectors."""
        if len(chunks) != len(embeddings):
            raise ValueError(f"{len(chunks)} chunks but {len(embeddings)} embeddings")
        if not chunks:
            return
        for vector in embeddings:
            if len(vector) != self.dimension:
                raise StoreError(
                    f"a vector has {len(vector)} dimensions; this index holds {self.dimension}: "
                    f"{REBUILD_HINT}"
                )

        def write(collection: Collection) -> None:
            batch = self._client.get_max_batch_size()
            for at in range(0, len(chunks), batch):
                part = chunks[at : at + batch]
                collection.upsert(
                    ids=[c.chunk_id for c in part],
                    embeddings=_vectors(embeddings[at : at + batch]),
                    documents=[c.text for c in part],
                    metadatas=[c.to_metadata() for c in part],
                )
            self._touch(collection)

        self._call("store chunks", write)

    def delete_documents(self, doc_ids: Iterable[str]) -> None:
        """Delete every chunk of the given documents."""
        ids = sorted(set(doc_ids))
        if not ids:
            return

        def delete(collection: Collection) -> None:
            collection.delete(where={"doc_id": {"$in": ids}})  # type: ignore[dict-item]
            self._touch(collection)

        self._call("delete documents", delete)

    def reset(self) -> None:
        """Drop every chunk: the collection is deleted and created again, empty."""
        with self._guard("reset the collection"), self._lock:
            self._drop()
            self._collection = self._create()
            self._seen_revision = self._revision_of(self._collection)

    # -- reads ---------------------------------------------------------------------------

    def count(self) -> int:
        return self._call("count chunks", lambda c: c.count())

    def is_empty(self) -> bool:
        return self.count() == 0

    def revision(self) -> str:
        """An id that changes whenever the content changes, whoever changed it."""
        with self._guard("read the revision"), self._lock:
            revision = self._revision_of(self._refresh())
            if revision != self._seen_revision:
                if self._embedded:
                    self._reload()
                self._seen_revision = revision
            return revision

    def query(
        self, embedding: Sequence[float], n: int, where: dict[str, Any] | None = None
    ) -> list[tuple[Chunk, float]]:
        """The `n` chunks nearest to `embedding` (optionally filtered), with their cosine
        similarity, best first."""
        if n < 1:
            return []

        def search(collection: Collection) -> list[tuple[Chunk, float]]:
            # Chroma 1.x returns what there is when asked for more (none from an empty
            # collection), so no count() first: one round trip fewer per question.
            result = collection.query(
                query_embeddings=_vectors([embedding]),
                n_results=n,
                where=where,
                include=["documents", "metadatas", "distances"],
            )
            ids = result["ids"][0]
            docs = (result["documents"] or [[]])[0]
            metas = (result["metadatas"] or [[]])[0]
            distances = (result["distances"] or [[]])[0]
            hits = [
                (Chunk.from_record(cid, doc or "", dict(meta or {})), 1.0 - float(dist))
                for cid, doc, meta, dist in zip(ids, docs, metas, distances, strict=True)
            ]
            return sorted(hits, key=lambda hit: -hit[1])

        return self._call("search", search)

    def _records(self, include: list[str]) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """Every (id, document, metadata) of the collection, fetched a page at a time."""
        offset = 0
        while True:

            def page(collection: Collection, at: int = offset) -> Any:
                return collection.get(limit=PAGE_SIZE, offset=at, include=include)  # type: ignore[arg-type]

            batch = self._call("read chunks", page)
            ids = batch["ids"]
            docs = batch.get("documents") or [""] * len(ids)
            metas = batch.get("metadatas") or [{}] * len(ids)
            for cid, doc, meta in zip(ids, docs, metas, strict=True):
                yield cid, doc or "", dict(meta or {})
            if len(ids) < PAGE_SIZE:
                return
            offset += PAGE_SIZE

    def all_chunks(self) -> list[Chunk]:
        """Every chunk in the store, ordered by document and position."""
        chunks = [
            Chunk.from_record(cid, doc, meta)
            for cid, doc, meta in self._records(["documents", "metadatas"])
        ]
        return sorted(chunks, key=lambda c: (c.doc_id, c.index))

    def document_hashes(self) -> dict[str, str]:
        """doc_id -> content hash of the version that was indexed."""
        return {
            str(meta["doc_id"]): str(meta.get("doc_hash", ""))
            for _, _, meta in self._records(["metadatas"])
            if "doc_id" in meta
        }

    def documents(self) -> list[DocumentInfo]:
        """One entry per indexed document, newest first, undated last."""
        counts: dict[str, int] = {}
        first: dict[str, Chunk] = {}
        for cid, doc, meta in self._records(["metadatas"]):
            chunk = Chunk.from_record(cid, doc, meta)
            counts[chunk.doc_id] = counts.get(chunk.doc_id, 0) + 1
            if chunk.doc_id not in first or chunk.index < first[chunk.doc_id].index:
                first[chunk.doc_id] = chunk
        infos = [
            DocumentInfo(
                doc_id=doc_id,
                source=chunk.source,
                title=chunk.title,
                kind=chunk.kind,
                date=chunk.date,
                chunks=counts[doc_id],
            )
            for doc_id, chunk in first.items()
        ]
        infos.sort(key=lambda i: i.title.casefold())
        infos.sort(key=lambda i: i.date.toordinal() if i.date else 0, reverse=True)
        return infos
