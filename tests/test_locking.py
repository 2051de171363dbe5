"""One index writer at a time, across real processes: a second writer waits (bounded by
ASSISTANT_INDEX_LOCK_TIMEOUT) or gives up naming the holder (pid, host, since when); removing
a document takes the same lock; two index.py runs at once both finish and leave a consistent
index."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant import service
from assistant.config import IndexSettings, Settings
from assistant.errors import IndexBusyError
from assistant.retrieval import HybridRetriever
from assistant.store import open_store
from tests.conftest import ROOT, make_settings
from tests.corpora import SMALL_CHUNKS, write_corpus

HOLDER = """
import sys
from pathlib import Path
from assistant.locking import index_lock
with index_lock(Path(sys.argv[1]), timeout=0, purpose="indexing"):
    print("held", flush=True)
    sys.stdin.read()
"""


@pytest.fixture
def holder(tmp_path: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the index lock of the store under tmp_path until it ends."""
    lock = make_settings(tmp_path).index_lock_file
    process = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(lock)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert process.stdout is not None and process.stdout.readline().strip() == "held"
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()


def resources_for(tmp_path: Path, embedder, timeout: float) -> service.Resources:
    settings: Settings = make_settings(
        tmp_path, index=IndexSettings(lock_timeout=timeout), chunking=SMALL_CHUNKS
    )
    write_corpus(settings.paths.corpus_dir, {0: 1})
    store = open_store(settings, embedder.model_id, embedder.dimension)
    retriever = HybridRetriever(store, embedder, settings.retrieval)
    return service.Resources(settings, embedder, store, retriever, None)


def test_a_second_writer_gives_up_naming_the_holder(tmp_path, embedder, holder):
    resources = resources_for(tmp_path, embedder, timeout=0.5)
    started = time.monotonic()
    with pytest.raises(IndexBusyError) as caught:
        service.build_index(resources=resources)
    message = str(caught.value)
    assert time.monotonic() - started >= 0.5, "the loser waits for the configured time"
    for part in (f"pid {holder.pid}", socket.gethostname(), "since", "UTC", "indexing"):
        assert part in message, f"the message should name the holder ({part}): {message}"
    assert resources.store.is_empty(), "the loser wrote nothing"


def test_removing_a_document_takes_the_same_lock(tmp_path, embedder, holder):
    resources = resources_for(tmp_path, embedder, timeout=0)
    path = resources.settings.paths.corpus_dir / "news" / "report-0.md"
    with pytest.raises(IndexBusyError, match=f"pid {holder.pid}"):
        service.remove_document("news/report-0.md", resources=resources)
    assert path.exists(), "a refused removal deletes nothing"


def test_a_waiting_writer_proceeds_when_the_holder_finishes(tmp_path, embedder, holder):
    resources = resources_for(tmp_path, embedder, timeout=120)
    result: dict[str, object] = {}

    def index() -> None:
        started = time.monotonic()
        result["report"] = service.build_index(resources=resources)
        result["waited"] = time.monotonic() - started

    thread = threading.Thread(target=index)
    thread.start()
    time.sleep(1.5)
    assert thread.is_alive() and "report" not in result, "the writer waits for the lock"
    assert holder.stdin is not None
    holder.stdin.close()  # the holder finishes
    thread.join(timeout=300)
    assert not thread.is_alive()
    report = result["report"]
    assert report.added == ("news/report-0.md",), f"indexed after the wait: {report}"  # type: ignore[attr-defined]
    assert float(result["waited"]) >= 1.5, f"it waited for the holder: {result['waited']}"  # type: ignore[arg-type]


def index_py(base: Path, *args: str, timeout: float = 600) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ASSISTANT_", "CHROMA_"))}
    env.update(
        PYTHONPATH=str(ROOT),
        ASSISTANT_CORPUS_DIR=str(base / "corpus"),
        ASSISTANT_CHROMA_DIR=str(base / "chroma"),
        ASSISTANT_INDEX_LOCK_TIMEOUT=str(timeout),
        ASSISTANT_CHUNK_MAX_TOKENS=str(SMALL_CHUNKS.max_tokens),
    )
    return subprocess.Popen(
        [sys.executable, str(ROOT / "index.py"), "--quiet", *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_index_py_refused_by_a_held_lock_says_who_holds_it(tmp_path, holder):
    write_corpus(tmp_path / "corpus", {0: 1})
    process = index_py(tmp_path, timeout=0)
    out, err = process.communicate(timeout=600)
    assert process.returncode == 2, f"a busy index is a fatal error for this run: {out}{err}"
    assert f"pid {holder.pid}" in err and len(err.strip().splitlines()) == 1, (
        f"one line naming the holder: {err}"
    )


@pytest.mark.slow
def test_two_index_py_runs_at_once_both_finish_consistently(tmp_path):
    write_corpus(tmp_path / "corpus", {n: 1 for n in range(4)})
    first, second = index_py(tmp_path), index_py(tmp_path)
    results = [p.communicate(timeout=900) for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], f"both runs succeed: {results}"
    check = index_py(tmp_path, "--verify")
    out, err = check.communicate(timeout=600)
    assert check.returncode == 0 and "4 documents" in out, f"--verify: {out}{err}"
