"""The answer judge with a capable model: does its verdict improve answerability?

    nice -n 10 .venv/bin/python bench/answer_judge.py [--model 0.5b|1.5b] [--threshold T]

Benchmark only, never a dependency or a CI step. It fetches and checks the same pinned
Qwen2.5-Coder-Instruct GGUF as `bench/openai_model.py`, serves it with llama.cpp's
OpenAI-compatible server on a free local port, and answers the tune, held-out and dev
question files twice on one temporary store (corpus plus `eval/news/`): extractively as
shipped, and with the model as judge (`ASSISTANT_JUDGE_*`: the answers the fitted model lets
through are declined when the model says the chosen evidence does not answer). Summary
figures only; no item is printed. Results:
bench/results/<date>-<host>-answer-judge-qwen-<model, 0_5b or 1_5b>.md/.json.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

from common import ROOT, WORK, write_result
from openai_model import MODELS, MODELS_DIR, fetch, quality_of, serve

from assistant.config import Settings
from assistant.evaluation.harness import run_eval, temporary_store
from assistant.evaluation.items import load_items

SPLITS = (
    ROOT / "eval" / "tune.jsonl",
    ROOT / "eval" / "heldout.jsonl",
    ROOT.parent / "shared" / "eval" / "dev.jsonl",
)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="1.5b")
    parser.add_argument("--threshold", type=float, default=0.0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--splits", type=Path, nargs="+", default=list(SPLITS))
    args = parser.parse_args()

    model = MODELS[args.model]
    gguf = fetch(model, MODELS_DIR)
    figures: dict[str, Any] = {
        "model": model.name,
        "gguf_sha256": model.sha256,
        "threshold": args.threshold,
    }
    name = f"answer-judge-qwen-{args.model.replace('.', '_')}"
    log_path = WORK / f"llama-server-judge-{args.model}.log"
    with serve(gguf, threads=args.threads, context=2048, log=log_path) as base:
        settings = Settings()
        judge = settings.judge.model_copy(
            update={
                "base_url": base,
                "model": "bench",
                "timeout": 300.0,
                "threshold": args.threshold,
            }
        )
        with temporary_store(settings, extra_dirs=[ROOT / "eval" / "news"]) as store:
            plain = store.resources
            judged = replace(
                plain, settings=plain.settings.model_copy(update={"judge": judge}), _answerer=None
            )
            for path in args.splits:
                items = load_items(path)
                for label, resources in (("shipped", plain), ("judged", judged)):
                    print(f"{path.name}, {label}: {len(items)} items", file=sys.stderr, flush=True)
                    result = run_eval(items, resources=resources, dataset=str(path))
                    figures[f"{path.stem}.{label}"] = quality_of(result)
                # Written after each file: on a busy machine the last may not finish.
                print(write_result(name, figures), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
