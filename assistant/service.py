"""THE entry points: every front end (CLI, Streamlit app, HTTP API) calls these and nothing else.

`load_resources` loads the heavy things once (embedding model, store, chat model); `ask` and
`ask_stream` answer a question; `build_index` and the document functions manage the corpus.
Each takes optional `settings` and `resources` so tests and apps can pass their own.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from assistant import indexing
from assistant.config import Settings, load_settings
from assistant.errors import InputError
from assistant.locking import index_lock
from assistant.timing import Phases
from assistant.types import (
    Answer,
    AnswerEvent,
    ChatTurn,
    Document,
    DocumentInfo,
    IndexReport,
    SavedUpload,
    StreamEvent,
)

# The models, Chroma, LangChain and the answering stack are imported where they are used:
# `index.py` on an unchanged corpus answers from file hashes and the store's manifest, and
# importing all of them would take longer than that whole run (see docs/performance.md).
if TYPE_CHECKING:
    from assistant import consistency
    from assistant.answering import Answerer
    from assistant.embeddings import Embedder
    from assistant.llm import ChatBackend
    from assistant.retrieval import HybridRetriever
    from assistant.store import VectorStore

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
"""Called as progress(stage, done, total) during long work (loading, embedding)."""


@dataclass
class Resources:
    """The loaded heavy components, shared by every request of a process (thread-safe reads)."""

    settings: Settings
    embedder: Embedder
    store: VectorStore
    retriever: HybridRetriever
    backend: ChatBackend | None = None
    _answerer: Answerer | None = field(default=None, repr=False)

    @property
    def answerer(self) -> Answerer:
        if self._answerer is None:
            from assistant.answering import Answerer
            from assistant.answering.judge import load_judge

            self._answerer = Answerer(
                self.settings,
                self.retriever,
                self.embedder,
                self.backend,
                judge=load_judge(self.settings.judge),
            )
        return self._answerer


def load_resources(
    settings: Settings | None = None,
    *,
    with_chat_model: bool = True,
    rebuild: bool = False,
    progress: ProgressCallback | None = None,
) -> Resources:
    """Load the embedding model, open the store and (optionally) load the chat backend.

    Args:
        settings: defaults to the environment's (`load_settings`).
        with_chat_model: False for indexing-only work, which needs no chat model.
        rebuild: open a store built with another embedding model by dropping it (the
            indexer's --rebuild); otherwise such a store is an error.
        progress: told about each loading stage, so a UI can show it.
    """
    from assistant.embeddings import Embedder
    from assistant.retrieval import HybridRetriever
    from assistant.retrieval.crosslingual import CrossLingualScorer
    from assistant.store import open_store

    settings = settings or load_settings()
    report = progress or (lambda stage, done, total: None)
    report("Loading the embedding model", 0, 3)
    embedder = Embedder.from_settings(settings.embedding)
    report("Opening the document store", 1, 3)
    store = open_store(settings, embedder.model_id, embedder.dimension, rebuild=rebuild)
    crosslingual = None
    if settings.retrieval.crosslingual and with_chat_model:  # questions only, not indexing
        report("Loading the multilingual encoder", 1, 3)
        crosslingual = CrossLingualScorer(threads=settings.llm_threads)
    retriever = HybridRetriever(
        store,
        embedder,
        settings.retrieval,
        crosslingual,
        lexical_dir=settings.lexical_dir,
        words_dir=settings.words_dir,
    )
    backend = None
    # The chat backends (LangChain's model classes) and the parser are imported only here:
    # indexing, which needs neither, is spared their imports (~0.4 s of each index.py run).
    if with_chat_model and settings.llm.backend != "extractive":
        from assistant.llm import load_chat_backend

        report("Loading the chat model", 2, 3)
        backend = load_chat_backend(settings.llm, threads=settings.llm_threads)
    if with_chat_model:
        from assistant.answering import claims

        # Verification parses every sentence that is not a verbatim quote (model-written or
        # composed); load the parser with the models rather than on a user's first question.
        claims.load_parser()
    report("Ready", 3, 3)
    return Resources(settings, embedder, store, retriever, backend)


def _validated(question: str, history: Sequence[ChatTurn], settings: Settings) -> str:
    from assistant.answering.questions import split_question

    question = question.strip()
    if not question:
        raise InputError("The question is empty: type a question about CPMR or its partnerships.")
    limit = settings.limits.max_question_chars
    if len(question) > limit:
        raise InputError(f"The question is {len(question)} characters long; the limit is {limit}.")
    for turn in history:
        if len(turn.content) > 20 * limit:
            raise InputError("An earlier message of the conversation is too long to use.")
    # Each part of a question is retrieved and answered on its own, so the parts bound the
    # work one message can cause.
    parts = len(split_question(question))
    most = settings.limits.max_question_parts
    if parts > most:
        raise InputError(
            f"The message asks {parts} questions at once; ask at most {most} per message."
        )
    return question


def ask_stream(
    question: str,
    *,
    history: Sequence[ChatTurn] = (),
    settings: Settings | None = None,
    resources: Resources | None = None,
) -> Iterator[StreamEvent]:
    """Answer a question, yielding status events, verified sentences and finally the answer.

    Sentences are yielded only after they pass verification against the evidence they cite,
    so what a user sees while streaming is what the final answer holds. The last event is
    always an `AnswerEvent`.

    Raises:
        InputError: the question is empty or too long.
        IndexNotBuiltError: nothing has been indexed yet.
    """
    resources = resources or load_resources(settings)
    settings = resources.settings
    question = _validated(question, history, settings)
    recent = recent_turns(history, settings.limits.max_history_turns)
    yield from resources.answerer.stream(question, recent)


def recent_turns(history: Sequence[ChatTurn], limit: int) -> tuple[ChatTurn, ...]:
    """The last `limit` turns of a conversation; none at all when `limit` is 0."""
    # history[-0:] is the whole list, so 0 needs its own case.
    return tuple(history)[-limit:] if limit > 0 else ()


def ask(
    question: str,
    *,
    history: Sequence[ChatTurn] = (),
    settings: Settings | None = None,
    resources: Resources | None = None,
) -> Answer:
    """Answer a question with cited, verified sentences, or decline when the sources are silent.

    Same arguments and errors as `ask_stream`; returns its final answer.
    """
    for event in ask_stream(question, history=history, settings=settings, resources=resources):
        if isinstance(event, AnswerEvent):
            return event.answer
    raise RuntimeError("the answer stream ended without an answer")  # pragma: no cover


def writing_index(settings: Settings, purpose: str) -> AbstractContextManager[None]:
    """The index lock: one writer at a time across processes (see `assistant.locking`)."""
    return index_lock(
        settings.index_lock_file, timeout=settings.index.lock_timeout, purpose=purpose
    )


def require_corpus(corpus_dir: Path) -> None:
    """Raise a ConfigError that says what to do when the corpus folder is missing."""
    indexing.require_corpus_dir(corpus_dir)


def build_index(
    *,
    settings: Settings | None = None,
    corpus_dir: Path | None = None,
    rebuild: bool = False,
    resources: Resources | None = None,
    progress: ProgressCallback | None = None,
) -> IndexReport:
    """Bring the store in line with the corpus folder: add, replace and remove documents.

    Unchanged documents (same content hash) are skipped; a bad file is reported in
    `IndexReport.failures` and every other file is still indexed. Holds the index lock.

    Raises:
        IndexBusyError: another process kept the index lock for the whole wait.
    """
    resources = resources or load_resources(settings, with_chat_model=False, rebuild=rebuild)
    started = time.perf_counter()
    settings = resources.settings
    corpus = corpus_dir or settings.paths.corpus_dir
    require_corpus(corpus)
    with writing_index(settings, "indexing"):
        report = indexing.sync_corpus(
            corpus,
            resources.store,
            resources.embedder,
            settings.chunking,
            rebuild=rebuild,
            progress=progress,
            write_batch=settings.index.write_batch,
            sentence_vectors=settings.index.sentence_vectors,
            late_chunking=settings.index.late_chunking,
        )
    phases = Phases()
    phases.extend(report.phases)
    _save_lexical(resources, phases)
    log.info("indexed in %.1f s", time.perf_counter() - started)
    return report.model_copy(update={"phases": phases.times()})


BM25_PHASE = "BM25 index build and save"
WORDS_PHASE = "word-vector table"


def _save_lexical(resources: Resources, phases: Phases | None = None) -> None:
    """After a write: build the BM25 index of the new revision and save it beside the store,
    so serving processes load it instead of each stemming every chunk again; likewise the
    corpus word vectors (only new words are embedded)."""
    phases = phases or Phases()
    with phases.measure(BM25_PHASE):
        resources.retriever.refresh()
        resources.retriever.lexical_index()
    with phases.measure(WORDS_PHASE):
        resources.retriever.word_table(wait=True)


def index_unchanged(settings: Settings, corpus_dir: Path | None = None) -> IndexReport | None:
    """The report of an indexing run when the corpus is unchanged since the last one, found
    without loading the embedding model; None when there is work (then call `build_index`)."""
    from assistant.store import open_existing

    corpus = corpus_dir or settings.paths.corpus_dir
    require_corpus(corpus)
    store = open_existing(settings, settings.embedding.model_id)
    return indexing.unchanged_report(corpus, store) if store is not None else None


def verify_index(
    *, resources: Resources, corpus_dir: Path | None = None
) -> consistency.Verification:
    """Check the store against the corpus folder (`index.py --verify`); writes nothing.

    Holds the index lock so that a run in progress is not mistaken for damage.
    """
    from assistant import consistency

    settings = resources.settings
    corpus = corpus_dir or settings.paths.corpus_dir
    require_corpus(corpus)
    with writing_index(settings, "verifying the index"):
        return consistency.verify(corpus, resources.store)


def repair_index(
    *,
    resources: Resources,
    corpus_dir: Path | None = None,
    progress: ProgressCallback | None = None,
) -> consistency.Verification:
    """Fix what `verify_index` finds (`index.py --repair`); returns the check after repairing."""
    from assistant import consistency

    settings = resources.settings
    corpus = corpus_dir or settings.paths.corpus_dir
    require_corpus(corpus)

    def reindex(doc_ids: set[str]) -> IndexReport:
        return indexing.sync_corpus(
            corpus,
            resources.store,
            resources.embedder,
            settings.chunking,
            progress=progress,
            write_batch=settings.index.write_batch,
            sentence_vectors=settings.index.sentence_vectors,
            late_chunking=settings.index.late_chunking,
            force=doc_ids,
        )

    with writing_index(settings, "repairing the index"):
        result = consistency.repair(corpus, resources.store, reindex)
    _save_lexical(resources)
    return result


def list_documents(*, resources: Resources) -> list[DocumentInfo]:
    """Every indexed document with its title, date, kind and chunk count, newest first."""
    return resources.store.documents()


def get_document(
    doc_id: str, *, resources: Resources, corpus_dir: Path | None = None
) -> Document | None:
    """The cleaned text and metadata of a corpus document (as indexing read it), or None when
    its file is gone.

    Raises:
        InputError: `doc_id` points outside the corpus folder.
        DocumentError: the file can no longer be read.
    """
    from assistant import loaders
    from assistant.loaders.files import resolve_in_corpus

    root = corpus_dir or resources.settings.paths.corpus_dir
    path = resolve_in_corpus(root, doc_id)
    return loaders.load_document(path, root) if path.is_file() else None


def remove_document(doc_id: str, *, resources: Resources, corpus_dir: Path | None = None) -> None:
    """Delete a document's file from the corpus and its chunks from the store.

    Takes the index lock, so an indexing run in progress (which read the file before it was
    deleted) cannot bring the document back.

    Raises:
        IndexBusyError: another process kept the index lock for the whole wait.
    """
    from assistant import loaders

    root = corpus_dir or resources.settings.paths.corpus_dir
    with writing_index(resources.settings, "removing a document"):
        loaders.delete_corpus_file(root, doc_id)
        resources.store.delete_documents([doc_id])
    _save_lexical(resources)


def save_upload(
    filename: str,
    data: bytes,
    *,
    resources: Resources,
    corpus_dir: Path | None = None,
    taken: Collection[str] = (),
) -> SavedUpload:
    """Check an uploaded news file and save it under `corpus/news/`; index with `build_index`.

    `taken` holds the stored names (`SavedUpload.doc_id` without 'news/') of the files saved
    earlier in the same batch; a later file that cleans to one of them is refused.

    Raises:
        InputError: the name, type or size is not acceptable, or it would overwrite a
            different file (see `loaders.save_news_file`).
        DocumentError: the file cannot be read as a document (corrupt PDF, binary, empty, ...).
    """
    from assistant import loaders

    settings = resources.settings
    root = corpus_dir or settings.paths.corpus_dir
    limit = int(settings.limits.max_upload_mb * 1024 * 1024)
    return loaders.save_news_file(root, filename, data, max_bytes=limit, taken=taken)
