"""Shared fixtures: real models loaded once per session, small real corpora in temp folders."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.config import LLMSettings, PathSettings, Settings
from assistant.embeddings import Embedder

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "corpus"
SHARED = ROOT.parent / "shared"
DEV_SET = SHARED / "eval" / "dev.jsonl"
NEWS_FIXTURES = SHARED / "news-fixtures"
DATA = Path(__file__).resolve().parent / "data"


def shared_files(folder: Path, pattern: str) -> list[Path]:
    """The files of a shared fixture folder, sorted; fails loudly when there are none.

    A glob that finds nothing would turn a parametrised test into zero tests and a loop into
    no assertions: the suite would pass while checking nothing.
    """
    found = sorted(folder.glob(pattern))
    if not found:
        pytest.fail(
            f"no {pattern} files in {folder}: the shared fixtures must sit beside the project "
            "(/work/shared linked as ../shared)",
            pytrace=False,
        )
    return found


def shared_file(path: Path) -> Path:
    """A shared fixture file that must exist; fails loudly when it does not."""
    if not path.is_file():
        pytest.fail(
            f"{path} is missing: the shared fixtures must sit beside the project", pytrace=False
        )
    return path


def make_settings(base: Path, *, backend: str = "extractive", **sections: Any) -> Settings:
    """Settings whose every path lies under `base`, so a test touches nothing outside it."""
    return Settings(
        paths=PathSettings(
            corpus_dir=base / "corpus",
            chroma_dir=base / "chroma",
            feedback_db=base / "feedback.sqlite3",
        ),
        llm=LLMSettings(backend=backend),
        **sections,
    )


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real bundled all-MiniLM-L6-v2, loaded once."""
    from assistant.config import EmbeddingSettings

    return Embedder.from_settings(EmbeddingSettings())


@pytest.fixture
def settings_factory(tmp_path: Path) -> Callable[..., Settings]:
    def factory(**kwargs: Any) -> Settings:
        return make_settings(tmp_path, **kwargs)

    return factory


@pytest.fixture
def corpus_copy(tmp_path: Path) -> Iterator[Path]:
    """A private copy of the project corpus that a test may change."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    yield target


@pytest.fixture(scope="session")
def indexed_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings for a private copy of the project corpus, indexed once per session."""
    base = tmp_path_factory.mktemp("indexed")
    shutil.copytree(CORPUS, base / "corpus")
    return make_settings(base)


def indexed_resources(settings: Settings, embedder: Embedder) -> Any:
    """Real embedder + real embedded Chroma holding `settings`' corpus, indexed; no model."""
    from assistant import service
    from assistant.retrieval import HybridRetriever
    from assistant.store import open_store

    store = open_store(settings, embedder.model_id, embedder.dimension)
    retriever = HybridRetriever(store, embedder, settings.retrieval)
    res = service.Resources(settings, embedder, store, retriever, None)
    report = service.build_index(resources=res)
    assert report.ok and report.chunks_total > 0, f"indexing the corpus failed: {report}"
    return res


@pytest.fixture(scope="session")
def resources(indexed_settings: Settings, embedder: Embedder) -> Any:
    """Real embedder + real embedded Chroma holding the project corpus; extractive answers."""
    return indexed_resources(indexed_settings, embedder)


@pytest.fixture(scope="session")
def local_backend(indexed_settings: Settings) -> Any:
    """The real SmolLM2-135M chat model through llama.cpp, loaded once."""
    from assistant.config import LLMSettings
    from assistant.llm import load_chat_backend

    return load_chat_backend(LLMSettings(backend="local"), threads=2)


@pytest.fixture(scope="session")
def local_resources(resources: Any, local_backend: Any) -> Any:
    """The indexed corpus answered by the real local chat model."""
    from dataclasses import replace

    return replace(resources, backend=local_backend, _answerer=None)
