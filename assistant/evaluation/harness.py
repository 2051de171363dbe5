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
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from assistant import service
from assistant.answering import verification
from assistant.config import PathSettings, Settings
from assistant.errors import AssistantError, InputError
from assistant.evaluation.grading import error_item, score_item
from assistant.evaluation.items import EvalItem
from assistant.evaluation.metrics import SentenceChecker, latency, summarize, summarize_by_kind
from assistant.evaluation.results import EvalResult, ItemResult, RunInfo
from assistant.llm import packaged_gguf_path
from assistant.service import ProgressCallback, Resources

log = logging.getLogger(__name__)

WARMUP_QUESTION = "What does the centre do?"
"""Asked once, untimed, before the items: the first question pays for lazy set-up (BM25
index, model warm-up), which is not what a user waits for on later questions."""

DISTRACTOR_FOLDER = "distractors"


def sentence_checker(resources: Resources) -> SentenceChecker:
    """The answer path's own sentence-support check, bound to the loaded embedder."""
    embedder = resources.embedder

    def check(sentence: str, quotes: Sequence[str]) -> verification.Support:
        return verification.check_sentence(sentence, quotes, embedder)

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


@contextmanager
def distractor_resources(
    settings: Settings,
    folder: Path,
    *,
    progress: ProgressCallback | None = None,
) -> Iterator[TempStore]:
    """Resources over a temporary store of the project corpus plus every .txt in `folder`.

    The corpus is copied with the distractors in a `distractors/` subfolder and indexed into
    a temporary Chroma directory; both are deleted on exit.
    """
    files = distractor_files(folder)
    with tempfile.TemporaryDirectory(prefix="cpmr-eval-") as tmp:
        workdir = Path(tmp)
        temp_settings = _with_paths(settings, workdir)
        corpus = temp_settings.paths.corpus_dir
        shutil.copytree(settings.paths.corpus_dir, corpus)
        target = corpus / DISTRACTOR_FOLDER
        target.mkdir(exist_ok=True)
        for path in files:
            shutil.copyfile(path, target / path.name)
        resources = service.load_resources(temp_settings, progress=progress)
        started = time.perf_counter()
        index = service.build_index(resources=resources, progress=progress)
        seconds = time.perf_counter() - started
        if index.failures:
            log.warning("%d distractor files could not be indexed", len(index.failures))
        failed = sum(1 for f in index.failures if DISTRACTOR_FOLDER in Path(f.path).parts)
        yield TempStore(resources, len(files) - failed, seconds)
