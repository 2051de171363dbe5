"""The question path at 1k, 10k and 100k chunks: latency of retrieval, of retrieval plus
evidence scoring, the BM25 build, and the serving process's peak memory.

    nice -n 10 .venv/bin/python bench/question_path.py [--sizes 1000,10000,100000]
        [--work ~/.cache/cpmr-assistant/bench] [--profile [wall|cpu]] [--without-word-table]

The stores are built once into --work (outside the repository, `store-<size>-f2`, the store
format that holds sentence offsets and vectors) and reused: the largest is indexed from the
project corpus plus `bench/corpus.py` news text; each smaller one takes the project corpus and
the first generated documents, with the vectors copied from the largest store (the same text
embeds the same, so nothing is embedded twice). A store of the older format (`store-<size>`)
is upgraded instead, read through the store's API (adopting an old layout as a user's upgrade
would): its chunk vectors as they were, sentence offsets added, sentence vectors made by the
model for the first --embed-limit chunks and borrowed (the chunk's vector plus noise) for the
rest. Each size is then measured in a fresh process, so that its peak memory is that of a
serving process: embedding model, store, BM25 index, extractive answers, no indexing.

Before measuring, the corpus word vectors of each store are made as the writer makes them
after indexing (`make_word_tables`, once per store revision); the measuring process loads them.
`--without-word-table` also measures each size with the table switched off (answering embeds
the words it needs, as before it existed) and notes whether the answers are the same.

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


def _settings(corpus: Path, chroma: Path, *, words: bool = True) -> Any:
    from assistant.config import LLMSettings, PathSettings, load_settings

    base = load_settings()
    return base.model_copy(
        update={
            "paths": PathSettings(
                corpus_dir=corpus, chroma_dir=chroma, feedback_db=chroma.parent / "feedback.db"
            ),
            "llm": LLMSettings(backend="extractive"),
            "index": base.index.model_copy(update={"word_vectors": words}),
        }
    )


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- building the stores (once) ---------------------------------------------------------

# Store folders carry the format of `assistant.store.FORMAT`: a store of an older format is
# upgraded into a new folder (its source is left alone), never measured as if it were current.
FORMAT = 2


def store_dir(work: Path, size: int) -> Path:
    return work / f"store-{size}-f{FORMAT}"


def _legacy_dir(work: Path, size: int) -> Path:
    return work / f"store-{size}"


def _noisy(vector: Any, rng: Any, scale: float = 0.02) -> Any:
    import numpy as np

    noisy = np.asarray(vector, dtype=np.float32) + rng.normal(0.0, scale, len(vector))
    return (noisy / np.linalg.norm(noisy)).astype(np.float32)


class SentenceVectors:
    """The packed title and sentence vectors of chunks, made the indexer's way
    (`assistant.sentences.embed_chunks`, each sentence on its own) for the first
    `limit` chunks and borrowed for the rest: each text gets its chunk's vector plus noise."""

    def __init__(self, embedder: Any, limit: int, seed: int) -> None:
        import numpy as np

        self.embedder = embedder
        self.limit = limit
        self.rng = np.random.default_rng(seed + 7)
        self.counts = {"real": 0, "borrowed": 0}

    def pack(self, chunks: list[Any], vectors: list[Any], *, real_so_far: int) -> list[str]:
        import numpy as np

        from assistant.sentences import embed_chunks, pack, sentence_texts

        room = max(0, self.limit - real_so_far)
        real, rest = chunks[:room], list(zip(chunks[room:], vectors[room:], strict=True))
        # The default settings' vectors (each sentence on its own), as `FORMAT` says.
        packed = embed_chunks(real, self.embedder, late=False).packed if real else []
        for chunk, vector in rest:
            rows = [_noisy(vector, self.rng) for _ in sentence_texts(chunk)]
            packed.append(pack(np.stack(rows)))
        self.counts["real"] += len(real)
        self.counts["borrowed"] += len(rest)
        return packed


def _with_sentences(chunk: Any) -> Any:
    """A chunk of an older store given the sentence offsets the chunker now records."""
    from assistant.text import split_sentences

    if chunk.sentences is not None:
        return chunk
    spans = tuple((s.start, s.end) for s in split_sentences(chunk.text))
    return chunk.model_copy(update={"sentences": spans})


def _doc_order(doc_id: str) -> tuple[bool, str]:
    # The project corpus first, then generated news in name order: smaller stores hold the
    # first documents of the larger, and the vectors of the first are the real ones.
    return (doc_id.startswith(GENERATED + "/"), doc_id)


def _write_documents(store: Any, by_doc: dict[str, list[Any]], sentences: SentenceVectors) -> int:
    """Write whole documents (chunks with their vectors) in order, 2,000 chunks a call."""
    pending: list[tuple[Any, Any]] = []
    written = 0
    last_log = time.perf_counter()

    def flush() -> None:
        nonlocal written, pending
        chunks = [c for c, _ in pending]
        vectors = [list(map(float, v)) for _, v in pending]
        packed = sentences.pack(chunks, vectors, real_so_far=written)
        store.upsert_chunks(chunks, vectors, packed)
        written += len(pending)
        pending = []

    for doc_id in sorted(by_doc, key=_doc_order):
        rows = sorted(by_doc[doc_id], key=lambda row: row[0].index)
        pending.extend((_with_sentences(c), v) for c, v in rows)
        if len(pending) >= 2000:
            flush()
        if time.perf_counter() - last_log > 30:
            last_log = time.perf_counter()
            _log(f"{written:,} chunks written, sentence vectors {sentences.counts}")
    if pending:
        flush()
    return written


def _read_store(chroma: Path, corpus: Path, embedder: Any) -> tuple[dict[str, list[Any]], str, int]:
    """Every live chunk of a store (any layout the product opens, adopting an older one as a
    user's upgrade would) with its vector, by document, read through the store's own API."""
    import numpy as np

    from assistant.store import open_store

    store = open_store(_settings(corpus, chroma), embedder.model_id, embedder.dimension)
    by_doc: dict[str, list[Any]] = {}
    for chunk, vector, _ in store.export():
        by_doc.setdefault(chunk.doc_id, []).append((chunk, np.asarray(vector, dtype=np.float32)))
    return by_doc, store.model_id, store.dimension


def upgrade_store(work: Path, size: int, sentences: SentenceVectors) -> Path | None:
    """store-<size>-f2 from the older store-<size> (its chunks and vectors as they are, plus
    sentence offsets and sentence vectors), when only the older one exists."""
    from assistant.store import open_store

    target, source = store_dir(work, size), _legacy_dir(work, size)
    if (target / "built.json").exists():
        return target
    if not (source / "built.json").exists():
        return None
    if target.exists():
        shutil.rmtree(target)
    corpus = _corpus_dir(work, size)
    started = time.perf_counter()
    _log(f"upgrading {source.name} to format {FORMAT}")
    by_doc, model_id, dimension = _read_store(source, corpus, sentences.embedder)
    real_before = sentences.counts["real"]
    sentences.counts = {"real": 0, "borrowed": 0}
    store = open_store(_settings(corpus, target), model_id, dimension)
    _write_documents(store, by_doc, sentences)
    facts = json.loads((source / "built.json").read_text(encoding="utf-8"))
    facts |= {
        "format": FORMAT,
        "chunks": store.count(),
        "upgraded_from": source.name,
        "sentence_vectors": dict(sentences.counts),
        "upgrade_seconds": round(time.perf_counter() - started, 1),
    }
    sentences.counts["real"] += real_before
    _log(f"upgraded {target.name}: {facts}")
    (target / "built.json").write_text(json.dumps(facts), encoding="utf-8")
    return target


def _corpus_dir(work: Path, size: int) -> Path:
    """The corpus a store was built from (smaller stores share the largest's folder)."""
    own = work / f"corpus-{size}"
    if own.exists():
        return own
    found = sorted(work.glob("corpus-*"), key=lambda p: int(p.name.split("-")[1]))
    return found[-1] if found else own


def build_largest(work: Path, size: int, seed: int, sentences: SentenceVectors) -> Path:
    """The project corpus plus ~`size` chunks of generated news, in store-<size>-f2.

    Documents are read and chunked by the product's own loaders and chunker. The chunks of the
    project corpus and of the first generated documents, up to the embedding limit, are
    embedded by the real model (chunk and sentence vectors); every later chunk borrows the
    vector of a real chunk of the article its document varies (same title), plus noise,
    renormalised, and its sentences borrow its vector likewise. On a shared 2-core machine the
    model embeds 5-50 chunks/s, so embedding 100k chunks (and their ~500k sentences) takes
    hours; the borrowed vectors keep the store's size, dimension and clustering (what search
    speed and memory depend on) at a fraction of that. Retrieval quality is never measured on
    them.
    """
    import random

    import numpy as np

    from assistant import loaders
    from assistant.chunking import chunk_document
    from assistant.store import open_store
    from corpus import MANIFEST, write_corpus

    corpus = work / f"corpus-{size}"
    chroma = store_dir(work, size)
    done = chroma / "built.json"
    if done.exists():
        return chroma
    if chroma.exists():
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
    embedder = sentences.embedder
    documents, failures = loaders.load_corpus(corpus)
    documents.sort(key=lambda d: _doc_order(d.doc_id))
    chunking = settings.chunking
    real_by_title: dict[str, list[np.ndarray]] = {}
    real_all: list[np.ndarray] = []
    rng = np.random.default_rng(seed)
    pick = random.Random(seed)  # noqa: S311 - deterministic benchmark data
    by_doc: dict[str, list[Any]] = {}
    real = 0
    last_log = time.perf_counter()
    for number, doc in enumerate(documents, 1):
        chunks = chunk_document(
            doc,
            max_tokens=chunking.max_tokens,
            overlap_sentences=chunking.overlap_sentences,
            count_tokens=embedder.count_tokens,
            window=embedder.max_tokens,
        )
        if real < sentences.limit:
            vectors = embedder.embed([c.embedding_text() for c in chunks], cache=False)
            arrays = [np.asarray(v, dtype=np.float32) for v in vectors]
            real_by_title.setdefault(doc.title, []).extend(arrays)
            real_all.extend(arrays)
            real += len(chunks)
        else:
            source = re.sub(r" \(part \d+\)$", "", doc.title)
            pool = real_by_title.get(source) or real_all
            arrays = [_noisy(pick.choice(pool), rng) for _ in chunks]
        by_doc[doc.doc_id] = list(zip(chunks, arrays, strict=True))
        if time.perf_counter() - last_log > 30:
            last_log = time.perf_counter()
            _log(f"chunked {number:,}/{len(documents):,} documents")
    store = open_store(settings, embedder.model_id, embedder.dimension)
    _write_documents(store, by_doc, sentences)
    facts = {
        "format": FORMAT,
        "documents": len(documents),
        "failures": len(failures),
        "chunks": store.count(),
        "real_vectors": real,
        "borrowed_vectors": store.count() - real,
        "sentence_vectors": dict(sentences.counts),
        "seconds": round(time.perf_counter() - started, 1),
        "seed": seed,
    }
    _log(f"built {facts}")
    done.write_text(json.dumps(facts), encoding="utf-8")
    return chroma


def derive_smaller(work: Path, largest: int, size: int) -> Path:
    """A store of the project corpus and the first generated documents, ~`size` chunks,
    with the chunk and sentence vectors copied from the largest store."""
    from assistant.store import open_existing, open_store

    chroma = store_dir(work, size)
    done = chroma / "built.json"
    if done.exists():
        return chroma
    if chroma.exists():
        shutil.rmtree(chroma)
    big_corpus = _corpus_dir(work, largest)
    big = open_existing(_settings(big_corpus, store_dir(work, largest)), "all-MiniLM-L6-v2")
    if big is None:
        raise SystemExit(f"{store_dir(work, largest)} holds no index to derive from")
    per_doc: dict[str, int] = {}
    for record in big.records().values():
        per_doc[record.doc_id] = record.chunks
    chosen: set[str] = set()
    total = 0
    for doc_id in sorted(per_doc, key=_doc_order):
        if total >= size and doc_id.startswith(GENERATED + "/"):
            break
        chosen.add(doc_id)
        total += per_doc[doc_id]
    by_doc: dict[str, list[Any]] = {}
    for chunk, vector, packed in big.export():
        if chunk.doc_id in chosen:
            by_doc.setdefault(chunk.doc_id, []).append((chunk, vector, packed))
    store = open_store(_settings(big_corpus, chroma), big.model_id, big.dimension)
    for doc_id in sorted(by_doc, key=_doc_order):
        rows = sorted(by_doc[doc_id], key=lambda row: row[0].index)
        store.upsert_chunks([r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows])
    facts = {"format": FORMAT, "documents": len(chosen), "chunks": store.count()}
    facts["copied_from"] = largest
    _log(f"derived {chroma.name}: {facts}")
    done.write_text(json.dumps(facts), encoding="utf-8")
    return chroma


def build_stores(work: Path, sizes: list[int], seed: int, embed_limit: int) -> None:
    """Every size's store of the current format: upgraded from an older store of that size
    where one exists, else the largest built and the others derived from it."""
    from assistant.config import load_settings
    from assistant.embeddings import Embedder

    missing = [s for s in sizes if not (store_dir(work, s) / "built.json").exists()]
    if not missing:
        return
    embedder = Embedder.from_settings(load_settings().embedding)
    sentences = SentenceVectors(embedder, embed_limit, seed)
    for size in missing:
        upgrade_store(work, size, sentences)
    largest = sizes[-1]
    build_largest(work, largest, seed, sentences)
    for size in sizes[:-1]:
        derive_smaller(work, largest, size)


def _word_table(resources: Any) -> Any:
    # A checkout from before the table has no word_table: the same script measures it too.
    word_table = getattr(resources.retriever, "word_table", None)
    return word_table(wait=True) if word_table is not None else None


def make_word_tables(work: Path, sizes: list[int]) -> dict[str, Any]:
    """The corpus word vectors of each store, made as the writer (`index.py`) makes them after
    indexing, in this process: a serving process only loads them. A table already saved for
    the store's revision is kept."""
    from assistant import service

    made: dict[str, Any] = {}
    for size in sizes:
        settings = _settings(_corpus_dir(work, size), store_dir(work, size))
        resources = service.load_resources(settings, with_chat_model=False)
        resources.retriever.lexical_index()
        started, cpu = time.perf_counter(), time.process_time()
        table = _word_table(resources)
        made[str(size)] = {
            "words": len(table) if table is not None else 0,
            "seconds": round(time.perf_counter() - started, 1),
            "cpu_seconds": round(time.process_time() - cpu, 1),
        }
        _log(f"word vectors of store-{size}: {made[str(size)]}")
    return made


# --- measuring (in a fresh process per size) --------------------------------------------


def _questions() -> list[dict[str, Any]]:
    return [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines() if line]


def measure(work: Path, size: int, profile: str | None, words: bool = True) -> dict[str, Any]:
    from assistant import service
    from assistant.answering.questions import standalone_question
    from assistant.types import ChatTurn

    chroma = store_dir(work, size)
    settings = _settings(_corpus_dir(work, size), chroma, words=words)
    figures: dict[str, Any] = {"target_chunks": size, "word_table": words}
    # The BM25 index an earlier run saved beside the store would be loaded, not built: the
    # figure is the cold build of a replica's first start (later starts load it).
    if settings.lexical_dir.exists():
        shutil.rmtree(settings.lexical_dir)
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

    # The word table the writer saved for this revision, memory-mapped (see make_word_tables).
    started = time.perf_counter()
    table = _word_table(resources)
    figures["word_table_load_s"] = round(time.perf_counter() - started, 2)
    figures["word_table_words"] = len(table) if table is not None else 0
    figures["rss_after_word_table_mb"] = current_rss_mb()

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

    # The parts of retrieval on their own (the query vectors are cached by now): the dense
    # search in Chroma and the BM25 search in memory.
    dense: list[float] = []
    lexical: list[float] = []
    n = settings.retrieval.candidates
    for item, history in zip(items, histories, strict=True):
        query = standalone_question(item["question"], history)
        vector = resources.embedder.embed_query(query)
        began = time.perf_counter()
        resources.store.query(vector, n)
        dense.append((time.perf_counter() - began) * 1000)
        began = time.perf_counter()
        resources.retriever.lexical_index().search(query, n)
        lexical.append((time.perf_counter() - began) * 1000)

    resources.embedder.clear_cache()
    suffix = "" if words else "-no-word-table"
    profiler = cpu_profiler = None
    if profile == "wall":
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001)
        profiler.start()
    elif profile == "cpu":
        import cProfile

        # CPU time of this process (every thread), not wall time: on a shared machine the
        # wall clock mostly measures the other processes.
        cpu_profiler = cProfile.Profile(time.process_time)
        cpu_profiler.enable()
    evidence: list[float] = []
    totals: list[float] = []
    cpu: list[float] = []
    answers: dict[str, str] = {}
    for item, history in zip(items, histories, strict=True):
        began = time.process_time()
        answer = service.ask(item["question"], history=history, resources=resources)
        # CPU seconds of the whole answer, every thread of the process (ONNX Runtime's too):
        # unlike wall time, hardly moved by other processes on a shared machine.
        cpu.append((time.process_time() - began) * 1000)
        evidence.append(answer.timings.retrieve_ms)
        totals.append(answer.timings.total_ms)
        answers[item["id"]] = answer.text + "".join(
            f"\n[{c.n}] {c.chunk_id}: {c.quote}" for c in answer.citations
        )
    text = None
    if profiler is not None:
        profiler.stop()
        text = profiler.output_text(unicode=False, color=False, show_all=False)
    if cpu_profiler is not None:
        import io
        import pstats

        cpu_profiler.disable()
        out = io.StringIO()
        stats = pstats.Stats(cpu_profiler, stream=out).strip_dirs()
        stats.sort_stats("cumulative").print_stats(80)
        text = out.getvalue()
    if text is not None:
        path = work / f"profile-{profile}-{size}{suffix}.txt"
        path.write_text(text, encoding="utf-8")
        figures["profile"] = str(path)

    figures["retrieval"] = summary_ms(retrieval)
    figures["dense_search"] = summary_ms(dense)
    figures["bm25_search"] = summary_ms(lexical)
    figures["retrieval_plus_evidence"] = summary_ms(evidence)
    figures["answer_total_extractive"] = summary_ms(totals)
    figures["answer_cpu"] = summary_ms(cpu)
    figures["peak_rss_mb"] = peak_rss_mb()
    digest = hashlib.sha256(json.dumps(answers, sort_keys=True).encode()).hexdigest()[:16]
    figures["answers_digest"] = digest
    name = f"answers-{size}.json" if words else f"answers-{size}-no-word-table.json"
    (work / name).write_text(json.dumps(answers, indent=1), encoding="utf-8")
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
        help="chunks whose chunk and sentence vectors the model makes; the rest borrow "
        "vectors (see build_largest)",
    )
    parser.add_argument(
        "--profile",
        nargs="?",
        const="wall",
        choices=("wall", "cpu"),
        help="profile the answer pass: pyinstrument (wall time, the default) or cProfile "
        "timed by CPU time (cpu)",
    )
    parser.add_argument("--build-only", action="store_true", help="build the stores and stop")
    parser.add_argument(
        "--without-word-table",
        action="store_true",
        help="also measure each size without the corpus word vectors (answering embeds the "
        "words), and check that the answers are the same",
    )
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)  # the child process
    parser.add_argument("--no-words", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)

    if args.measure:
        figures = measure(args.work, args.measure, args.profile, words=not args.no_words)
        print("RESULT " + json.dumps(figures), flush=True)
        return 0

    sizes = sorted(int(s) for s in args.sizes.split(","))
    largest = sizes[-1]
    build_stores(args.work, sizes, args.seed, args.embed_limit)
    tables = make_word_tables(args.work, sizes)
    if args.build_only:
        return 0

    results: dict[str, Any] = {"word_tables_made": tables}
    notes: list[str] = []
    runs = [(size, True) for size in sizes]
    if args.without_word_table:
        runs = [(size, words) for size in sizes for words in (False, True)]
    for size, words in runs:
        command = [sys.executable, __file__, "--work", str(args.work), "--measure", str(size)]
        if args.profile:
            command += ["--profile", args.profile]
        if not words:
            command.append("--no-words")
        _log(f"measuring {size:,} chunks" + ("" if words else " without the word table"))
        out = subprocess.run(command, capture_output=True, text=True, check=False, cwd=ROOT)
        line = next((x for x in out.stdout.splitlines() if x.startswith("RESULT ")), None)
        if out.returncode != 0 or line is None:
            sys.stderr.write(out.stderr[-4000:])
            raise SystemExit(f"measuring {size} chunks failed (exit {out.returncode})")
        figures = json.loads(line[len("RESULT ") :])
        _log(json.dumps(figures))
        if args.profile and "profile" in figures:
            saved = Path(figures["profile"])
            shutil.copy(saved, RESULTS / f"question-path-{saved.name}")
        if not words:
            results[f"{size}-without-word-table"] = figures
            continue
        results[f"{size}"] = figures
        without = results.get(f"{size}-without-word-table")
        if without is not None:
            same = without["answers_digest"] == figures["answers_digest"]
            notes.append(
                f"{size:,} chunks: answers (text and citations) with and without the word table "
                + ("identical" if same else "DIFFERENT")
                + f" (digest {figures['answers_digest']}); retrieval + evidence p95 "
                f"{without['retrieval_plus_evidence']['p95_ms']} ms without, "
                f"{figures['retrieval_plus_evidence']['p95_ms']} ms with"
            )
        if size == largest:
            p95 = figures["retrieval_plus_evidence"]["p95_ms"]
            rss = figures["peak_rss_mb"]
            verdict = "met" if p95 <= TARGET_P95_MS else f"missed by {p95 - TARGET_P95_MS:.0f} ms"
            notes.append(f"retrieval + evidence p95 {p95} ms vs {TARGET_P95_MS:.0f} ms: {verdict}")
            verdict = "met" if rss <= TARGET_RSS_MB else f"missed by {rss - TARGET_RSS_MB:.0f} MB"
            notes.append(f"peak RSS {rss} MB vs {TARGET_RSS_MB:.0f} MB: {verdict}")
        built = json.loads((store_dir(args.work, size) / "built.json").read_text("utf-8"))
        sentence = built.get("sentence_vectors", {})
        notes.append(
            f"store-{size}-f{FORMAT}: {figures['chunks']:,} chunks; sentence vectors made by "
            f"the model for {sentence.get('real', '?'):,} chunks, borrowed (the chunk's vector "
            f"plus noise) for {sentence.get('borrowed', 0):,}"
            + (f"; upgraded from {built['upgraded_from']}" if "upgraded_from" in built else "")
        )
    md = write_result("question-path", results, notes)
    print(md.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
