"""Which backend should be the default: `local` (SmolLM2-135M) against `extractive`.

    nice -n 10 .venv/bin/python bench/backends.py [--split eval/heldout.jsonl] [--limit N]

Both backends answer the same items (all, or `--limit` spread evenly over the file so every
kind is represented) from the same temporary store the evaluation command builds (corpus plus
`eval/news/`). Writes summary figures only (the held-out items are never printed): quality,
latency, and for `local` how many sentences the model wrote that verification showed or
dropped. Results: bench/results/<date>-<host>-backends-<split>.md/.json.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from common import ROOT, write_result
from openai_model import _dropped, figures_of, spread

from assistant.config import Settings
from assistant.evaluation.harness import run_eval, temporary_store, with_backend
from assistant.evaluation.items import load_items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", type=Path, default=ROOT / "eval" / "heldout.jsonl")
    parser.add_argument("--limit", type=int, help="evenly spread subset of the split")
    args = parser.parse_args()

    everything = load_items(args.split)
    items = spread(everything, args.limit)
    subset = "all" if len(items) == len(everything) else "evenly spread"
    settings = Settings()
    settings = settings.model_copy(
        update={"llm": settings.llm.model_copy(update={"backend": "extractive"})}
    )
    figures: dict[str, Any] = {"split": args.split.name, "subset": f"{len(items)} ({subset})"}
    with temporary_store(settings, extra_dirs=[ROOT / "eval" / "news"]) as store:
        for backend in ("extractive", "local"):
            resources = with_backend(store.resources, backend)
            with _dropped() as dropped:
                result = run_eval(items, resources=resources, dataset=str(args.split))
            figures[backend] = figures_of(result, len(dropped.sentences))
            print(f"{backend} done", file=sys.stderr, flush=True)
            md = write_result(f"backends-{args.split.stem}", figures)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
