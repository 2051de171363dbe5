"""The question path at 1k, 10k and 100k chunks: latency of retrieval, of retrieval plus
evidence scoring, the BM25 build, and the serving process's peak memory.

    nice -n 10 .venv/bin/python bench/question_path.py [--sizes 1000,10000,100000]
        [--work ~/.cache/cpmr-assistant/bench] [--profile]

The stores are built once into --work (outside the repository) and reused: the largest is
indexed from the project corpus plus `bench/corpus.py` news text; each smaller one takes the
project corpus and the first generated documents, with the vectors copied from the largest
store (the same text embeds the same, so nothing is embedded twice). Each size is then
measured in a fresh process, so that its peak memory is that of a serving process: embedding
model, store, BM25 index, extractive answers, no indexing.

Per dev question (`../shared/eval/dev.jsonl`): "retrieval" is the hybrid retriever alone on
the standalone question (dense + BM25 + fusion); "retrieval + evidence" is the answer stage's
own `retrieve_ms` (retrieval, sentence evidence gathering and scoring, choice of what to
cite), answered by the extractive backend. The query-vector cache is emptied between the two
passes, so both pay for embedding the question once. The answers are written to --work so a
later run can tell whether a speed-up changed any answer.

Targets (issue 10) at 100k chunks on 2 cores: retrieval + evidence p95 <= 150 ms, peak
memory <= 2 GB.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    RESULTS,
    ROOT,
    WORK,
    current_rss_mb,
    peak_rss_mb,
    summary_ms,
    write_result,
)

DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"
TARGET_P95_MS = 150.0
TARGET_RSS_MB = 2048.0
GENERATED = "generated"


def _settings(corpus: Path, chroma: Path) -> Any:
    from assistant.config import LLMSettings, PathSettings, load_settings

    base = load_settings()
    return base.model_copy(
        update={
            "paths": PathSettings(
                corpus_dir=corpus, chroma_dir=chroma, feedback_db=chroma.parent / "feedback.db"
            ),
            "llm": LLMSettings(backend="extractive"),
        }
    )


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- building the stores (once) ---------------------------------------------------------


def build_largest(work: Path, size: int, seed: int, embed_limit: int) -> Path:
    """The project corpus plus ~`size` chunks of generated news, in work/store-<size>.

    Documents are read and chunked by the product's own loaders and chunker. The chunks of the
    project corpus and of the first generated documents, up to `embed_limit` chunks, are
    embedded by the real model; every later chunk borrows the vector of a real chunk of the
    article its document varies (same title), plus noise, renormalised. On a shared 2-core
    machine the model embeds 5-50 chunks/s, so embedding 100k chunks takes 0.5-5 hours; the
    borrowed vectors keep the store's size, dimension and clustering (what search speed and
    memory depend on) at a fraction of that. Retrieval quality is never measured on them.
    """
    import random

    import numpy as np

    from assistant import loaders
    from assistant.chunking import chunk_document
    from assistant.embeddings import Embedder
    from assistant.store import open_store
    from corpus import MANIFEST, write_corpus

    corpus = work / f"corpus-{size}"
    chroma = work / f"store-{size}"
    done = chroma / "built.json"
    if done.exists():
        return chroma
    if chroma.exists() and not (chroma / "resume").exists():
        shutil.rmtree(chroma)
    manifest = corpus / GENERATED / MANIFEST
    wanted = {"estimate_for": size, "seed": seed}
    previous = json.loads(manifest.read_text()) if manifest.exists() else {}
    if {k: previous.get(k) for k in wanted} != wanted:
        if corpus.exists():
            shutil.rmtree(corpus)
        shutil.copytree(ROOT / "corpus", corpus)
        _log(f"writing ~{size:,} chunks of generated news into {corpus}")
        written = write_corpus(corpus / GENERATED, chunks=size, seed=seed)
        manifest.write_text(json.dumps({**written, "estimate_for": size}), encoding="utf-8")
        _log(f"generated {written}")
    settings = _settings(corpus, chroma)
    started = time.perf_counter()
    embedder = Embedder.from_settings(settings.embedding)
    store = open_store(settings, embedder.model_id, embedder.dimension)
    if (chroma / "resume").exists():
        return _resume(store, embedder, corpus, chroma, seed, started, size)
    documents, failures = loaders.load_corpus(corpus)
    documents.sort(key=lambda d: (d.doc_id.startswith(GENERATED + "/"), d.doc_id))
    chunking = settings.chunking
    real_by_title: dict[str, list[np.ndarray]] = {}
    real_all: list[np.ndarray] = []
    rng = np.random.default_rng(seed)
    pick = random.Random(seed)  # noqa: S311 - deterministic benchmark data
    counts = {"real": 0, "borrowed": 0}
    pending: tuple[list[Any], list[list[float]]] = ([], [])
    last_log = time.perf_counter()
    for number, doc in enumerate(documents, 1):
        chunks = chunk_document(
            doc,
            max_tokens=chunking.max_tokens,
            overlap_sentences=chunking.overlap_sentences,
            count_tokens=embedder.count_tokens,
            window=embedder.max_tokens,
        )
        if counts["real"] < embed_limit:
            vectors = embedder.embed([c.embedding_text() for c in chunks], cache=False)
            arrays = [np.asarray(v, dtype=np.float32) for v in vectors]
            real_by_title.setdefault(doc.title, []).extend(arrays)
            real_all.extend(arrays)
            counts["real"] += len(chunks)
        else:
            source = re.sub(r" \(part \d+\)$", "", doc.title)
            pool = real_by_title.get(source) or real_all
            vectors = []
            for _ in chunks:
                noisy = pick.choice(pool) + rng.normal(0.0, 0.02, embedder.dimension)
                vectors.append((noisy / np.linalg.norm(noisy)).astype(np.float32).tolist())
            counts["borrowed"] += len(chunks)
        pending[0].extend(chunks)
        pending[1].extend(vectors)
        if len(pending[0]) >= 2000 or number == len(documents):
            store.upsert_chunks(pending[0], pending[1])
            pending = ([], [])
        if time.perf_counter() - last_log > 30:
            last_log = time.perf_counter()
            _log(f"{number:,}/{len(documents):,} documents, {counts}")
    facts = {
        "documents": len(documents),
        "failures": len(failures),
        "chunks": store.count(),
        "real_vectors": counts["real"],
        "borrowed_vectors": counts["borrowed"],
        "seconds": round(time.perf_counter() - started, 1),
        "seed": seed,
        "embedding_backend": getattr(settings.embedding, "backend", "torch"),
    }
    _log(f"built {facts}")
    done.write_text(json.dumps(facts), encoding="utf-8")
    return chroma


_SENTENCE = re.compile(r"[^.!?]+(?:[.!?]+|$)\s*")


def _resume(
    store: Any, embedder: Any, corpus: Path, chroma: Path, seed: int, started: float, size: int
) -> Path:
    """Finish a build that was stopped (touch <store>/resume): the documents not yet in the
    store are cut into ~84-word runs of sentences (no tokenizer: on a loaded machine the real
    chunker took ~0.2 s per document) and get borrowed vectors (see build_largest)."""
    import random

    import chromadb
    import numpy as np
    from chromadb.config import Settings as ChromaSettings

    from assistant import loaders
    from assistant.chunking import _make_chunk  # a bench may build chunks the product's way

    client = chromadb.PersistentClient(
        path=str(chroma), settings=ChromaSettings(anonymized_telemetry=False)
    )
    collection = client.get_collection(store.name)
    present: set[str] = set()
    by_title: dict[str, list[np.ndarray]] = {}
    pool: list[np.ndarray] = []
    offset = 0
    while True:
        page = collection.get(limit=5000, offset=offset, include=["metadatas", "embeddings"])
        for meta, vector in zip(page["metadatas"] or [], page["embeddings"], strict=True):  # type: ignore[arg-type]
            present.add(str((meta or {}).get("doc_id")))
            array = np.asarray(vector, dtype=np.float32)
            by_title.setdefault(str((meta or {}).get("title")), []).append(array)
            pool.append(array)
        if len(page["ids"]) < 5000:
            break
        offset += 5000
    _log(f"resuming: {len(present):,} documents, {len(pool):,} chunks already stored")
    files = [
        p for p in loaders.discover_files(corpus) if loaders.doc_id_for(p, corpus) not in present
    ]
    rng = np.random.default_rng(seed + 1)
    pick = random.Random(seed + 1)  # noqa: S311 - deterministic benchmark data
    pending: tuple[list[Any], list[list[float]]] = ([], [])
    borrowed = resumed = 0
    last_log = time.perf_counter()
    for number, path in enumerate(files, 1):
        if len(pool) + borrowed >= size:
            break
        doc = loaders.load_document(path, corpus)
        spans: list[tuple[int, int]] = []
        begin = end = words = 0
        for match in _SENTENCE.finditer(doc.text):
            if words and words + len(match.group().split()) > 84:
                spans.append((begin, end))
                begin, words = match.start(), 0
            end = match.end()
            words += len(match.group().split())
        if end > begin:
            spans.append((begin, end))
        chunks = [_make_chunk(doc, i, a, b) for i, (a, b) in enumerate(spans)]
        source = re.sub(r" \(part \d+\)$", "", doc.title)
        candidates = by_title.get(source) or pool
        for _ in chunks:
            noisy = pick.choice(candidates) + rng.normal(0.0, 0.02, embedder.dimension)
            pending[1].append((noisy / np.linalg.norm(noisy)).astype(np.float32).tolist())
        pending[0].extend(chunks)
        borrowed += len(chunks)
        resumed += 1
        if len(pending[0]) >= 2000:
            store.upsert_chunks(pending[0], pending[1])
            pending = ([], [])
        if time.perf_counter() - last_log > 30:
            last_log = time.perf_counter()
            _log(f"resume: {number:,}/{len(files):,} documents, {borrowed:,} chunks")
    store.upsert_chunks(pending[0], pending[1])
    facts = {
        "documents": len(present) + resumed,
        "chunks": store.count(),
        "resumed_documents": resumed,
        "resumed_chunks_cut_by_words": borrowed,
        "seconds_of_resume": round(time.perf_counter() - started, 1),
        "seed": seed,
    }
    _log(f"built {facts}")
    (chroma / "built.json").write_text(json.dumps(facts), encoding="utf-8")
    return chroma


def derive_smaller(work: Path, largest: int, size: int) -> Path:
    """A store of the project corpus and the first generated documents, ~`size` chunks,
    with the vectors copied from the largest store."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    from assistant.store import open_store
    from assistant.types import Chunk

    chroma = work / f"store-{size}"
    done = chroma / "built.json"
    if done.exists():
        return chroma
    if chroma.exists():
        shutil.rmtree(chroma)
    big_settings = _settings(work / f"corpus-{largest}", work / f"store-{largest}")
    client = chromadb.PersistentClient(
        path=str(work / f"store-{largest}"), settings=ChromaSettings(anonymized_telemetry=False)
    )
    collection = client.get_collection(big_settings.store.collection)
    per_doc: dict[str, int] = {}
    offset = 0
    while True:
        page = collection.get(limit=5000, offset=offset, include=["metadatas"])
        for meta in page["metadatas"] or []:
            doc_id = str((meta or {}).get("doc_id"))
            per_doc[doc_id] = per_doc.get(doc_id, 0) + 1
        if len(page["ids"]) < 5000:
            break
        offset += 5000
    own = sorted(d for d in per_doc if not d.startswith(GENERATED + "/"))
    chosen = list(own)
    total = sum(per_doc[d] for d in own)
    for doc_id in sorted(d for d in per_doc if d.startswith(GENERATED + "/")):
        if total >= size:
            break
        chosen.append(doc_id)
        total += per_doc[doc_id]
    settings = _settings(work / f"corpus-{size}", chroma)
    embedder_id = (collection.metadata or {}).get("embedding_model", "all-MiniLM-L6-v2")
    dimension = int((collection.metadata or {}).get("embedding_dimension", 384))
    store = open_store(settings, str(embedder_id), dimension)
    for at in range(0, len(chosen), 200):
        part = chosen[at : at + 200]
        rows = collection.get(
            where={"doc_id": {"$in": part}}, include=["documents", "metadatas", "embeddings"]
        )
        chunks = [
            Chunk.from_record(cid, doc or "", dict(meta or {}))
            for cid, doc, meta in zip(
                rows["ids"], rows["documents"] or [], rows["metadatas"] or [], strict=True
            )
        ]
        vectors = [list(map(float, v)) for v in rows["embeddings"]]  # type: ignore[union-attr]
        store.upsert_chunks(chunks, vectors)
    facts = {"documents": len(chosen), "chunks": store.count(), "copied_from": largest}
    _log(f"derived store-{size}: {facts}")
    done.write_text(json.dumps(facts), encoding="utf-8")
    return chroma


# --- measuring (in a fresh process per size) --------------------------------------------


def _questions() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line]


def measure(work: Path, size: int, profile: bool) -> dict[str, Any]:
    from assistant import service
    from assistant.answering.questions import standalone_question
    from assistant.types import ChatTurn

    chroma = work / f"store-{size}"
    settings = _settings(work / f"corpus-{size}", chroma)
    figures: dict[str, Any] = {"target_chunks": size}
    started = time.perf_counter()
    resources = service.load_resources(settings, with_chat_model=False)
    figures["load_s"] = round(time.perf_counter() - started, 2)
    figures["chunks"] = resources.store.count()
    figures["rss_after_load_mb"] = current_rss_mb()

    started = time.perf_counter()
    resources.retriever.lexical_index()
    figures["bm25_build_s"] = round(time.perf_counter() - started, 2)
    figures["rss_after_bm25_mb"] = current_rss_mb()
    figures["bm25_rss_delta_mb"] = round(
        figures["rss_after_bm25_mb"] - figures["rss_after_load_mb"], 1
    )

    service.ask("What does the centre do?", resources=resources)  # warm-up, not timed
    items = _questions()
    histories = [[ChatTurn(**t) for t in item.get("history", [])] for item in items]
    top_k = settings.retrieval.top_k

    retrieval: list[float] = []
    for item, history in zip(items, histories, strict=True):
        query = standalone_question(item["question"], history)
        began = time.perf_counter()
        resources.retriever.retrieve(query, k=top_k * 2)
        retrieval.append((time.perf_counter() - began) * 1000)

    resources.embedder.clear_cache()
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001)
        profiler.start()
    evidence: list[float] = []
    totals: list[float] = []
    answers: dict[str, str] = {}
    for item, history in zip(items, histories, strict=True):
        answer = service.ask(item["question"], history=history, resources=resources)
        evidence.append(answer.timings.retrieve_ms)
        totals.append(answer.timings.total_ms)
        answers[item["id"]] = answer.text
    if profiler is not None:
        profiler.stop()
        text = profiler.output_text(unicode=False, color=False, show_all=False)
        (work / f"profile-{size}.txt").write_text(text, encoding="utf-8")
        figures["profile"] = str(work / f"profile-{size}.txt")

    figures["retrieval"] = summary_ms(retrieval)
    figures["retrieval_plus_evidence"] = summary_ms(evidence)
    figures["answer_total_extractive"] = summary_ms(totals)
    figures["peak_rss_mb"] = peak_rss_mb()
    digest = hashlib.sha256(json.dumps(answers, sort_keys=True).encode()).hexdigest()[:16]
    figures["answers_digest"] = digest
    (work / f"answers-{size}.json").write_text(json.dumps(answers, indent=1), encoding="utf-8")
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="chunk counts, 1,2,...")
    parser.add_argument("--work", type=Path, default=WORK, help="stores and corpora (not the repo)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--embed-limit",
        type=int,
        default=10_500,
        help="chunks embedded by the model; the rest borrow vectors (see build_largest)",
    )
    parser.add_argument("--profile", action="store_true", help="pyinstrument the answer pass")
    parser.add_argument("--build-only", action="store_true", help="build the stores and stop")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    if args.measure:
        print("RESULT " + json.dumps(measure(args.work, args.measure, args.profile)), flush=True)
        return 0

    sizes = sorted(int(s) for s in args.sizes.split(","))
    largest = sizes[-1]
    build_largest(args.work, largest, args.seed, args.embed_limit)
    for size in sizes[:-1]:
        derive_smaller(args.work, largest, size)
    if args.build_only:
        return 0

    results: dict[str, Any] = {}
    notes: list[str] = []
    for size in sizes:
        command = [sys.executable, __file__, "--work", str(args.work), "--measure", str(size)]
        if args.profile:
            command.append("--profile")
        _log(f"measuring {size:,} chunks")
        out = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
        line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
        if out.returncode != 0 or line is None:
            sys.stderr.write(out.stderr[-4000:])
            raise SystemExit(f"measuring {size} chunks failed (exit {out.returncode})")
        figures = json.loads(line[len("RESULT ") :])
        results[f"{size}"] = figures
        _log(json.dumps(figures))
        if size == largest:
            p95 = figures["retrieval_plus_evidence"]["p95_ms"]
            rss = figures["peak_rss_mb"]
            verdict = "met" if p95 <= TARGET_P95_MS else f"missed by {p95 - TARGET_P95_MS:.0f} ms"
            notes.append(f"retrieval + evidence p95 {p95} ms vs {TARGET_P95_MS:.0f} ms: {verdict}")
            verdict = "met" if rss <= TARGET_RSS_MB else f"missed by {rss - TARGET_RSS_MB:.0f} MB"
            notes.append(f"peak RSS {rss} MB vs {TARGET_RSS_MB:.0f} MB: {verdict}")
        if args.profile and "profile" in figures:
            shutil.copy(figures["profile"], RESULTS / f"question-path-profile-{size}.txt")
    md = write_result("question-path", results, notes)
    print(md.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
