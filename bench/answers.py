"""Answer latency per backend: time to the first shown sentence and to the whole answer.

    nice -n 10 .venv/bin/python bench/answers.py [--backend extractive --backend local]
        [--questions eval/heldout.jsonl] [--limit N]

Every question of the file (default the held-out set, `eval/heldout.jsonl`, falling back to
`../shared/eval/dev.jsonl`) is answered through the evaluation harness, on the store the
evaluation uses (the corpus plus `eval/news/`, indexed into a temporary folder), once per
backend on that one store. "First sentence" is the moment the first verified sentence is
shown (what a user waits for while the answer streams), "total" the whole answer, both
p50 / p95 in ms. The set is scored and reported as a whole (retrieval hit@5 beside the
timings), never read item by item.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, write_result

HELDOUT = ROOT / "eval" / "heldout.jsonl"
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"


def _ratio(ratio: Any) -> str:
    return f"{ratio.value:.3f} ({ratio.hits}/{ratio.total})" if ratio.total else "n/a"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", action="append", choices=["extractive", "local", "openai"])
    parser.add_argument("--questions", type=Path, help="JSONL file (default: held-out, else dev)")
    parser.add_argument("--limit", type=int, help="only the first N questions (a busy machine)")
    args = parser.parse_args()

    from assistant.config import Settings
    from assistant.evaluation.harness import run_eval, temporary_store, with_backend
    from assistant.evaluation.items import load_items

    path = args.questions or (HELDOUT if HELDOUT.exists() else DEV)
    items = load_items(path)[: args.limit] if args.limit else load_items(path)
    backends = list(dict.fromkeys(args.backend or ["extractive", "local"]))
    settings = Settings()
    figures: dict[str, Any] = {"questions_file": str(path.relative_to(ROOT.parent))}
    extra = [ROOT / "eval" / "news"] if (ROOT / "eval" / "news").is_dir() else []
    with temporary_store(settings, extra_dirs=extra, distractors=None) as store:
        figures["embedding_backend"] = store.resources.embedder.backend
        for backend in backends:
            resources = with_backend(store.resources, backend)
            result = run_eval(items, resources=resources, dataset=str(path))
            latency = result.latency
            figures[backend] = {
                "questions": len(items),
                "first_sentence_p50_ms": round(latency.first_token_ms.p50, 1),
                "first_sentence_p95_ms": round(latency.first_token_ms.p95, 1),
                "total_p50_ms": round(latency.total_ms.p50, 1),
                "total_p95_ms": round(latency.total_ms.p95, 1),
                "retrieval_plus_evidence_p50_ms": round(latency.retrieve_ms.p50, 1),
                "retrieval_plus_evidence_p95_ms": round(latency.retrieve_ms.p95, 1),
                "retrieval_hit_at_5": _ratio(result.overall.hit_at_5),
                "chunks": result.info.corpus_chunks,
                "llm_threads": result.info.llm_threads,
            }
            print(backend, figures[backend], flush=True)
    md = write_result("answers", figures)
    print(md.read_text(encoding="utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
