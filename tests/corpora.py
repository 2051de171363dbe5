"""Small generated corpora whose documents span several store batches (crash and lock tests).

Each document is a few dozen distinct sentences; with 32-token chunks and a write batch of 4
every document takes several store writes, so a crash can land between any two of them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.config import ChunkingSettings
from assistant.types import Chunk

SMALL_CHUNKS = ChunkingSettings(max_tokens=32, overlap_sentences=0)
SMALL_BATCH = 4
_TOPICS = ("cell culture", "pharmacology", "clinical trials", "genetics", "epidemiology", "surgery")
_PLACES = ("Bishkek", "Almaty", "Astana", "Kazan", "Urumqi", "Osh", "Tomsk")


def article(number: int, *, version: int = 1, sentences: int = 18) -> str:
    """A deterministic article; another `version` changes every sentence (and its length)."""
    topic = _TOPICS[number % len(_TOPICS)]
    lines = [f"# Report {number} on {topic}, edition {version}", ""]
    for s in range(sentences + version - 1):
        place = _PLACES[(number + s) % len(_PLACES)]
        lines.append(
            f"In {place} the group {number}-{s} of edition {version} studied {topic} with "
            f"{s + 3} partner laboratories and {number + s * 7} volunteers."
        )
    return "\n".join(lines) + "\n"


def write_corpus(root: Path, documents: dict[int, int]) -> Path:
    """Write `documents` {number: version} as news/report-<number>.md under `root`; files of
    numbers not listed are deleted."""
    news = root / "news"
    news.mkdir(parents=True, exist_ok=True)
    wanted = {news / f"report-{n}.md": version for n, version in documents.items()}
    for path in news.glob("report-*.md"):
        if path not in wanted:
            path.unlink()
    for path, version in wanted.items():
        number = int(path.stem.split("-")[1])
        text = article(number, version=version)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
    return root


class Remembering:
    """The real embedder, remembering vectors across the repeated runs of one test (the
    same texts are indexed again at every crash point; the model gives the same vectors)."""

    def __init__(self, embedder: Any) -> None:
        self._embedder = embedder
        self._spans: dict[Any, Any] = {}

    def __getattr__(self, name: str) -> Any:
        return getattr(self._embedder, name)

    def embed(self, texts: Any, *, show_progress: bool = False, cache: bool = True) -> Any:
        del cache
        return self._embedder.embed(texts, show_progress=show_progress, cache=True)

    def embed_spans(self, texts: Any, spans: Any) -> Any:
        key = tuple((t, tuple(map(tuple, s))) for t, s in zip(texts, spans, strict=True))
        if key not in self._spans:
            self._spans[key] = self._embedder.embed_spans(texts, spans)
        return self._spans[key]


def write_legacy_index(settings: Any, embedder: Any, chunks: list[Any]) -> None:
    """Write `chunks` the way versions before the catalog did: one collection named by the
    setting, chunk ids '<doc>#<n>', no generation, no sentence offsets or vectors, the model
    in the collection's metadata."""
    import chromadb
    from chromadb.api.collection_configuration import (
        CreateCollectionConfiguration,
        CreateHNSWConfiguration,
    )
    from chromadb.config import Settings as ChromaSettings

    client = chromadb.PersistentClient(
        path=str(settings.paths.chroma_dir), settings=ChromaSettings(anonymized_telemetry=False)
    )
    legacy = client.get_or_create_collection(
        settings.store.collection,
        configuration=CreateCollectionConfiguration(hnsw=CreateHNSWConfiguration(space="cosine")),
        metadata={"embedding_model": embedder.model_id, "embedding_dimension": embedder.dimension},
        embedding_function=None,
    )
    old = [c.model_copy(update={"sentences": None}) for c in chunks]
    legacy.upsert(
        ids=[c.chunk_id for c in old],
        embeddings=embedder.embed([c.embedding_text() for c in old]),
        documents=[c.text for c in old],
        metadatas=[c.to_metadata() for c in old],
    )


def one_chunk(
    text: str,
    *,
    doc_id: str,
    title: str,
    sentences: tuple[tuple[int, int], ...] | None = None,
) -> Chunk:
    """A document's only chunk, for tests that score or compose its text directly."""
    return Chunk(
        chunk_id=f"{doc_id}#0",
        doc_id=doc_id,
        index=0,
        text=text,
        title=title,
        kind="news",
        source=doc_id,
        start=0,
        doc_hash="x",
        sentences=sentences,
    )
