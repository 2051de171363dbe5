"""`python index.py`: summary, exit status 0/1/2, one-line fatal errors, --rebuild after a
model change, --quiet. Runs `index.main` in-process (the model loads once) and the script
itself once as a real program."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import index_cli as index
from assistant import indexing, service
from assistant.embeddings import packaged_model_path
from assistant.store import open_store
from assistant.types import IndexReport, PhaseTime
from tests.conftest import CORPUS, ROOT, make_settings

CENTRE = "centre/cpmr-mission-and-mandate.txt"
COUNCIL = "news/2024-07-06_asrmu-10th-anniversary-council-meeting.txt"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A corpus of two real documents and a store, both under tmp_path, set through the env."""
    corpus = tmp_path / "corpus"
    for doc_id in (CENTRE, COUNCIL):
        (corpus / doc_id).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(CORPUS / doc_id, corpus / doc_id)
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus))
    monkeypatch.setenv("ASSISTANT_CHROMA_DIR", str(tmp_path / "chroma"))
    for name in ("CHROMA_HOST", "ASSISTANT_STORE_HOST", "ASSISTANT_EMBEDDING_MODEL"):
        monkeypatch.delenv(name, raising=False)
    return corpus


def counted(summary: str, label: str) -> int:
    """The number the summary gives for `label` ('added', 'unchanged', ...)."""
    match = re.search(rf"^\s*{label}\s+(\d+)\s*$", summary, re.MULTILINE)
    assert match, f"the summary should have an {label!r} line: {summary}"
    return int(match.group(1))


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    status = index.main(list(argv), out=out)
    return status, out.getvalue()


def test_index_then_nothing_to_do(env, embedder, capsys):
    status, out = run()
    assert status == 0, f"a clean corpus indexes with status 0: {out}"
    assert counted(out, "added") == 2 and "chunks" in out, f"summary of the first run: {out}"
    assert "Embedding" in capsys.readouterr().err, "a progress bar is shown while embedding"
    status, out = run()
    assert status == 0 and counted(out, "unchanged") == 2 and counted(out, "added") == 0, (
        f"second run: {out}"
    )
    assert "0 written" in out, "nothing is embedded again"
    assert set(index.parse_times(out)) == {index.STARTUP, index.UNCHANGED_CHECK}, (
        f"an unchanged run spends its time starting and hashing, nothing else: {out}"
    )


def test_the_summary_says_where_the_time_went(env, embedder):
    status, out = run()
    assert status == 0, out
    times = index.parse_times(out)
    sync = [indexing.HASHING, indexing.WAITING, indexing.ENCODING, indexing.WRITING]
    expected = {index.STARTUP, index.UNCHANGED_CHECK, index.MODEL_LOAD, indexing.CHUNKING}
    expected |= {*sync, service.BM25_PHASE, service.WORDS_PHASE}
    assert set(times) == expected, f"every phase of a first run is listed once: {out}"
    assert times[indexing.ENCODING][0] > 0 and (times[indexing.ENCODING][1] or 0) > 0, out
    assert all(wall >= 0 and (cpu is None or cpu >= 0) for wall, cpu in times.values()), out
    took = float(re.search(r"in (\d+\.\d) s\.", out).group(1))
    # The main thread's phases of the sync run one after another: together no longer than it.
    assert sum(times[name][0] for name in sync) <= took + 0.1, (
        f"the sync's phases overlap or are counted twice (run took {took} s): {out}"
    )


def test_phase_times_round_trip_through_the_summary():
    phases = (
        PhaseTime(name="start-up (interpreter, imports, settings)", seconds=1.25, cpu_seconds=1.2),
        PhaseTime(name="waiting for chunks", seconds=0.5, cpu_seconds=None),
        PhaseTime(name="encoding chunks and sentences", seconds=61.0, cpu_seconds=120.4),
    )
    summary = index.format_summary(IndexReport(chunks_written=3, phases=phases))
    assert index.parse_times(summary) == {p.name: (p.seconds, p.cpu_seconds) for p in phases}, (
        f"the bench reads back what the summary printed: {summary}"
    )
    assert index.parse_times(index.format_summary(IndexReport())) == {}, "no phases, no times"


def test_failures_give_status_1_and_are_listed_by_path(env, embedder):
    (env / "news" / "broken.pdf").write_bytes(b"%PDF-1.4 not a real PDF")
    (env / "news" / "empty.txt").write_bytes(b"")
    status, out = run()
    assert status == 1, f"a bad file makes the status 1: {out}"
    lines = out.splitlines()
    assert any(line.strip().startswith("news/broken.pdf: corrupt PDF") for line in lines), out
    assert any(line.strip().startswith("news/empty.txt: empty") for line in lines), out
    assert counted(out, "added") == 2, "the good files are indexed anyway"


def test_a_fatal_error_is_one_line_with_status_2(env, embedder, tmp_path, capsys):
    status, out = run("--corpus", str(tmp_path / "missing"))
    err = capsys.readouterr().err.strip().splitlines()
    assert status == 2, "a missing corpus folder is fatal"
    assert out == "", "no summary for a run that did nothing"
    assert len(err) == 1 and err[0].startswith("error: ") and "missing" in err[0], (
        f"one line naming the problem, no traceback: {err}"
    )


def test_a_model_change_asks_for_rebuild_and_rebuild_works(env, embedder, monkeypatch, capsys):
    assert run()[0] == 0
    # The same weights under another name: the index cannot tell the vectors apart, so the
    # model id alone must decide.
    other = str(packaged_model_path())
    monkeypatch.setenv("ASSISTANT_EMBEDDING_MODEL", other)
    capsys.readouterr()
    status, out = run()
    err = capsys.readouterr().err
    assert status == 2 and "python index.py --rebuild" in err, f"asks for --rebuild: {err}"
    status, out = run("--rebuild")
    assert status == 0 and "rebuilt" in out and counted(out, "added") == 2, f"rebuild: {out}"
    settings = make_settings(env.parent)
    rebuilt = open_store(settings, other, embedder.dimension)
    assert rebuilt.count() > 0, "the rebuilt index belongs to the new model"


def test_quiet_prints_nothing_on_success(env, embedder, capsys):
    status, out = run("--quiet")
    captured = capsys.readouterr()
    assert status == 0 and out == "", f"--quiet prints no summary: {out}"
    assert "Embedding" not in captured.err, "--quiet shows no progress bar"


def test_the_script_runs_as_a_program(env, tmp_path):
    (env / "news" / "broken.pdf").write_bytes(b"%PDF-1.4 not a real PDF")
    result = subprocess.run(
        [sys.executable, "-X", "importtime", str(ROOT / "index.py"), "--corpus", str(env)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=os.environ.copy(),
        timeout=300,
    )
    assert result.returncode == 1, f"status 1 for a corpus with a bad file: {result.stderr}"
    assert "news/broken.pdf: corrupt PDF" in result.stdout, result.stdout
    assert "Traceback" not in result.stderr, result.stderr
    imported = set(re.findall(r"\|\s+([\w.]+)$", result.stderr, re.MULTILINE))
    assert "assistant.embeddings" in imported, "-X importtime lists what the run imported"
    assert not imported & {"assistant.llm", "assistant.answering.claims"}, (
        "indexing needs no chat backend and no claim parser: their imports are start-up cost"
    )


def test_an_unchanged_corpus_is_settled_without_loading_the_model(env, embedder, monkeypatch):
    from assistant.embeddings import Embedder

    assert run()[0] == 0
    loads: list[object] = []
    real = Embedder.from_settings.__func__  # type: ignore[attr-defined]

    def counting(cls, settings):
        loads.append(settings)
        return real(cls, settings)

    monkeypatch.setattr(Embedder, "from_settings", classmethod(counting))
    status, out = run()
    assert status == 0 and counted(out, "unchanged") == 2, f"nothing to do: {out}"
    assert loads == [], "an unchanged corpus must not load the embedding model"
    (env / CENTRE).write_text("A changed centre page about the zebrafish laboratory.\n")
    status, out = run()
    assert status == 0 and counted(out, "updated") == 1, f"a change is indexed: {out}"
    assert len(loads) == 1, "a change needs the model"


def test_an_index_of_an_older_format_says_how_to_upgrade(env, embedder, tmp_path):
    from assistant import loaders
    from assistant.chunking import chunk_document
    from tests.corpora import write_legacy_index

    settings = make_settings(tmp_path)
    documents, _ = loaders.load_corpus(env)
    chunks = [
        c
        for d in documents
        for c in chunk_document(
            d, max_tokens=160, overlap_sentences=1, count_tokens=embedder.count_tokens
        )
    ]
    write_legacy_index(settings, embedder, chunks)
    status, out = run()
    assert status == 0 and "index.py --rebuild" in out, f"the summary says how to upgrade: {out}"
    status, out = run("--rebuild")
    assert status == 0 and "--rebuild" not in out, f"after the rebuild nothing to upgrade: {out}"
    status, out = run()
    assert "--rebuild" not in out, f"an unchanged current index needs nothing: {out}"
