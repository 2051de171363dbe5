"""Runs evaluation items through the same answer path the app uses, and scores them.

Resources are loaded once by the caller; every item goes through `service.ask` with its
history, so follow-ups are rewritten exactly as in a chat. `distractor_resources` builds a
throw-away store holding the project corpus plus a folder of distractor articles, to measure
whether retrieval holds when the corpus grows.
"""

from __future__ import annotations

import datetime as dt
import logging
import shutil
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import NamedTuple

from assistant import service
from assistant.answering import claims, verification
from assistant.config import PathSettings, Settings
from assistant.errors import AssistantError, InputError
from assistant.evaluation.grading import error_item, score_item
from assistant.evaluation.items import EvalItem
from assistant.evaluation.metrics import SentenceChecker, latency, summarize, summarize_by_kind
from assistant.evaluation.results import EvalResult, ItemResult, RunInfo
from assistant.llm import load_chat_backend, packaged_gguf_path
from assistant.loaders.files import discover_files
from assistant.service import ProgressCallback, Resources

log = logging.getLogger(__name__)

WARMUP_QUESTION = "What does the centre do?"
"""Asked once, untimed, before the items: the first question pays for lazy set-up (BM25
index, model warm-up), which is not what a user waits for on later questions."""

DISTRACTOR_FOLDER = "distractors"


def sentence_checker(resources: Resources) -> SentenceChecker:
    """The answer path's own sentence-support check, bound to the loaded embedder."""
    embedder = resources.embedder

    def check(
        sentence: str, quotes: Sequence[str], *, titles: Sequence[str] = ()
    ) -> verification.Support:
        return verification.check_sentence(sentence, quotes, embedder, titles=titles)

    return check


def evaluate_item(item: EvalItem, resources: Resources, check: SentenceChecker) -> ItemResult:
    """Ask one item's question (with its history) and grade the answer.

    A failure of the answer path on one item is recorded in its result rather than raised,
    so one bad question does not lose the rest of a long run.
    """
    try:
        answer = service.ask(item.question, history=item.history, resources=resources)
    except AssistantError as exc:
        return error_item(item, f"{type(exc).__name__}: {exc}")
    except Exception as exc:  # a pipeline bug: record it for the report, keep going
        log.warning("item %s failed", item.id, exc_info=True)
        return error_item(item, f"unexpected {type(exc).__name__}: {exc}")
    return score_item(item, answer, check)


def chat_model_name(settings: Settings) -> str:
    """The chat model a run used, as the report names it."""
    llm = settings.llm
    if llm.backend == "extractive":
        return "none (extractive: answers quote the evidence)"
    if llm.backend == "openai":
        return f"{llm.model} at {llm.base_url}"
    return Path(llm.model_path).name if llm.model_path else packaged_gguf_path().name


def corpus_size(resources: Resources) -> tuple[int, int]:
    """(documents, chunks) in the store the run answers from."""
    documents = service.list_documents(resources=resources)
    return len(documents), sum(doc.chunks for doc in documents)


def run_eval(
    items: Sequence[EvalItem],
    *,
    resources: Resources,
    progress: ProgressCallback | None = None,
    dataset: str = "",
    distractor_documents: int = 0,
    index_seconds: float | None = None,
    extra_folders: Sequence[str] = (),
    extra_documents: int = 0,
    warmup: bool = True,
) -> EvalResult:
    """Answer and score every item, then aggregate overall, per kind and latency.

    Args:
        items: the questions, e.g. from `load_items`.
        resources: loaded once by the caller (`service.load_resources`).
        progress: told progress(item_id, done, total) after each item.
        dataset: name of the question file, for the report.
        distractor_documents: how many distractor articles the store holds, for the report.
        index_seconds: how long building that store took, for the report.
        extra_folders: folders indexed beside the corpus (e.g. eval/news), for the report.
        extra_documents: how many documents those folders added.
        warmup: ask one untimed question first (see `WARMUP_QUESTION`).

    Raises:
        AssistantError: the warm-up question failed (no index, model missing, ...), which
            would fail every item the same way.
    """
    report = progress or (lambda stage, done, total: None)
    started = dt.datetime.now(dt.UTC)
    clock = time.perf_counter()
    if warmup:
        service.ask(WARMUP_QUESTION, resources=resources)
    check = sentence_checker(resources)
    results: list[ItemResult] = []
    for done, item in enumerate(items, start=1):
        results.append(evaluate_item(item, resources, check))
        report(item.id, done, len(items))
    documents, chunks = corpus_size(resources)
    settings = resources.settings
    info = RunInfo(
        dataset=dataset,
        backend=settings.llm.backend,
        started=started,
        seconds=time.perf_counter() - clock,
        corpus_documents=documents,
        corpus_chunks=chunks,
        distractor_documents=distractor_documents,
        index_seconds=index_seconds,
        extra_folders=tuple(extra_folders),
        extra_documents=extra_documents,
        embedding_model=resources.embedder.model_id,
        chat_model=chat_model_name(settings),
        llm_threads=settings.llm_threads,
        top_k=settings.retrieval.top_k,
        settings=settings.model_dump(mode="json"),
    )
    return EvalResult(
        info=info,
        overall=summarize(results),
        by_kind=summarize_by_kind(results),
        latency=latency(results),
        items=tuple(results),
    )


def distractor_files(folder: Path) -> list[Path]:
    """The .txt articles of a distractor folder, sorted.

    Raises:
        InputError: the folder is missing or holds no .txt files.
    """
    if not folder.is_dir():
        raise InputError(
            f"the distractor folder {folder} does not exist: write one with "
            "`python ../shared/tools/distractors.py --out DIR`."
        )
    files = sorted(folder.glob("*.txt"))
    if not files:
        raise InputError(f"the distractor folder {folder} holds no .txt files.")
    return files


def extra_files(folder: Path) -> list[Path]:
    """The indexable documents of an extra folder (as the indexer would see them), sorted.

    Raises:
        InputError: the folder is missing or holds no document the indexer reads.
    """
    if not folder.is_dir():
        raise InputError(f"the folder {folder} to index beside the corpus does not exist.")
    files = discover_files(folder)
    if not files:
        raise InputError(f"the folder {folder} holds no document to index.")
    return sorted(files)


def _with_paths(settings: Settings, workdir: Path) -> Settings:
    paths = PathSettings(
        corpus_dir=workdir / "corpus",
        chroma_dir=workdir / "chroma",
        feedback_db=workdir / "feedback.sqlite3",
    )
    return settings.model_copy(update={"paths": paths})


class TempStore(NamedTuple):
    """A store to answer from, with what the report says about it."""

    resources: Resources
    distractor_documents: int
    index_seconds: float | None
    extra_folders: tuple[str, ...] = ()
    extra_documents: int = 0


def _copy_extra(folder: Path, corpus: Path) -> list[Path]:
    """Copy an extra folder into the temporary corpus under its own name; the copies.

    `eval/news` lands in `news/`, so its documents get the ids `news/<file>` that the
    project's question set names as sources. A file the corpus already has is an error:
    silently replacing either version would change what the questions are graded against.
    """
    copies = []
    for path in extra_files(folder):
        target = corpus / folder.name / path.relative_to(folder)
        if target.exists():
            raise InputError(
                f"{folder / path.relative_to(folder)} would replace the corpus file "
                f"{target.relative_to(corpus)}: rename one of them."
            )
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        copies.append(target)
    return copies


def temporary_store(
    settings: Settings,
    *,
    extra_dirs: Sequence[Path] = (),
    distractors: Path | None = None,
    progress: ProgressCallback | None = None,
) -> AbstractContextManager[TempStore]:
    """Resources over a temporary store of the corpus plus extra folders and distractors.

    The corpus is copied into a temporary directory; each extra folder is copied in under its
    own name (see `_copy_extra`) and the distractors into `distractors/`; the whole is indexed
    into a temporary Chroma directory. Both are deleted on exit; the configured store is never
    touched. Every question file of a run is answered from the same store, so their figures
    are comparable.
    """
    return _temporary_store(settings, tuple(extra_dirs), distractors, progress)


@contextmanager
def _temporary_store(
    settings: Settings,
    extra_dirs: tuple[Path, ...],
    distractors: Path | None,
    progress: ProgressCallback | None,
) -> Iterator[TempStore]:
    files = distractor_files(distractors) if distractors is not None else []
    with tempfile.TemporaryDirectory(prefix="cpmr-eval-") as tmp:
        workdir = Path(tmp)
        temp_settings = _with_paths(settings, workdir)
        corpus = temp_settings.paths.corpus_dir
        shutil.copytree(settings.paths.corpus_dir, corpus)
        extras = [copy for folder in extra_dirs for copy in _copy_extra(folder, corpus)]
        if files:
            target = corpus / DISTRACTOR_FOLDER
            target.mkdir(exist_ok=True)
            for path in files:
                shutil.copyfile(path, target / path.name)
        resources = service.load_resources(temp_settings, progress=progress)
        started = time.perf_counter()
        index = service.build_index(resources=resources, progress=progress)
        seconds = time.perf_counter() - started
        if index.failures:
            log.warning("%d files of the temporary store could not be indexed", len(index.failures))
        failed = {str(f.path) for f in index.failures}
        distractors_failed = sum(1 for f in failed if DISTRACTOR_FOLDER in Path(f).parts)
        extra_failed = [
            p for p in extras if str(p) in failed or p.relative_to(corpus).as_posix() in failed
        ]
        if extra_failed:
            raise InputError(
                "documents of the extra folders could not be indexed: "
                + ", ".join(p.relative_to(corpus).as_posix() for p in extra_failed)
            )
        yield TempStore(
            resources,
            len(files) - distractors_failed,
            seconds,
            tuple(str(folder) for folder in extra_dirs),
            len(extras),
        )


def distractor_resources(
    settings: Settings,
    folder: Path,
    *,
    progress: ProgressCallback | None = None,
) -> AbstractContextManager[TempStore]:
    """Resources over a temporary store of the project corpus plus every .txt in `folder`."""
    return temporary_store(settings, distractors=folder, progress=progress)


def with_backend(resources: Resources, backend: str) -> Resources:
    """The same store, embedder and retriever answering with another chat backend.

    Loading the store and index once and swapping only the chat model keeps the backends'
    figures comparable (same documents, same chunks) and saves re-indexing per backend.
    """
    settings = resources.settings
    if settings.llm.backend == backend:
        return resources
    llm = settings.llm.model_copy(update={"backend": backend})
    settings = settings.model_copy(update={"llm": llm})
    chat = None if backend == "extractive" else load_chat_backend(llm, threads=settings.llm_threads)
    if chat is not None:
        claims.load_parser()  # as load_resources does: not inside the first timed item
    return Resources(settings, resources.embedder, resources.store, resources.retriever, chat)
