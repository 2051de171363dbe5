"""The BM25 index at scale: building it from the store against loading the saved copy.

    .venv/bin/python bench/lexical.py [--store DIR]

`DIR` is an embedded store built by bench/question_path.py (default: its 100k-chunk store,
`~/.cache/cpmr-assistant/bench/store-100000`). Each step runs in a fresh process, as a
serving process starting up would:

1. build: read every chunk from the store, stem it and build the bm25s index (what every
   serving process did at start before indexes were saved), then save it;
2. load: read every chunk from the store and load the saved index (memory-mapped arrays,
   no stemming): what a serving process does now when the store has not changed since the
   index was saved by `index.py` (or by another process);
3. rebuild after a change: one document's chunks are left out, the build reuses the saved
   terms of every other chunk (what `index.py` does after adding a week of news).

Reports seconds and resident memory (RSS after minus before) of each, the size on disk,
and checks that the loaded index ranks exactly like the built one.
Writes bench/results/<date>-<host>-lexical.md and .json (machine, date, versions).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, WORK, current_rss_mb, write_result

QUERIES = (
    "memorandum of cooperation between medical universities",
    "laboratory opened for young researchers",
    "conference on public health in Astana",
)


def _store(path: Path) -> Any:
    from assistant.config import PathSettings, load_settings
    from assistant.store import open_existing

    base = load_settings()
    paths = PathSettings(corpus_dir=path, chroma_dir=path, feedback_db=base.paths.feedback_db)
    settings = base.model_copy(update={"paths": paths})
    store = open_existing(settings, settings.embedding.model_id)
    if store is None:
        raise SystemExit(f"no index in {path}: run bench/question_path.py first")
    return store


def step(mode: str, store_dir: Path, lexical_dir: Path) -> dict[str, Any]:
    """One measurement, in this (fresh) process."""
    from assistant.retrieval.lexical import LexicalIndex

    store = _store(store_dir)
    revision = store.revision()
    before = current_rss_mb()
    started = time.perf_counter()
    chunks = store.all_chunks()
    read_s = time.perf_counter() - started
    figures: dict[str, Any] = {"chunks": len(chunks), "read_chunks_s": round(read_s, 1)}
    started = time.perf_counter()
    if mode == "build":
        index = LexicalIndex(chunks)
        figures["build_s"] = round(time.perf_counter() - started, 1)
        saving = time.perf_counter()
        folder = index.save(lexical_dir, revision)
        figures["save_s"] = round(time.perf_counter() - saving, 1)
        if folder is not None:
            size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
            figures["saved_mb"] = round(size / 2**20, 1)
    elif mode == "load":
        loaded = LexicalIndex.load(lexical_dir, revision, chunks)
        if loaded is None:
            raise SystemExit("the saved index did not load")
        index = loaded
        figures["load_s"] = round(time.perf_counter() - started, 1)
    else:  # rebuild after a change: one document fewer, terms reused from the saved copy
        dropped = chunks[0].doc_id
        kept = [c for c in chunks if c.doc_id != dropped]
        index = LexicalIndex(kept, previous=LexicalIndex.saved_terms(lexical_dir))
        figures["rebuild_s"] = round(time.perf_counter() - started, 1)
    figures["rss_delta_mb"] = round(current_rss_mb() - before, 1)
    figures["rss_mb"] = current_rss_mb()
    timings = []
    rankings = []
    for query in QUERIES:
        started = time.perf_counter()
        hits = index.search(query, 40)
        timings.append((time.perf_counter() - started) * 1000)
        rankings.append([(c.chunk_id, round(s, 5)) for c, s in hits])
    figures["query_ms_max"] = round(max(timings), 1)
    figures["rankings"] = rankings
    return figures


def _run(mode: str, store_dir: Path, lexical_dir: Path) -> dict[str, Any]:
    done = subprocess.run(
        [
            sys.executable,
            __file__,
            "--step",
            mode,
            "--store",
            str(store_dir),
            "--lexical-dir",
            str(lexical_dir),
        ],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"},
    )
    if done.returncode != 0:
        raise SystemExit(f"{mode} failed: {done.stderr[-2000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, default=WORK / "store-100000")
    parser.add_argument("--lexical-dir", type=Path, default=None)
    parser.add_argument("--step", choices=("build", "load", "rebuild"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    lexical_dir = args.lexical_dir or WORK / f"lexical-{args.store.name}"
    if args.step:
        print(json.dumps(step(args.step, args.store, lexical_dir)))
        return 0
    shutil.rmtree(lexical_dir, ignore_errors=True)
    figures: dict[str, Any] = {}
    for mode in ("build", "load", "rebuild"):
        print(f"[{time.strftime('%H:%M:%S')}] {mode}", file=sys.stderr, flush=True)
        figures[mode] = _run(mode, args.store, lexical_dir)
    same = figures["build"].pop("rankings") == figures["load"].pop("rankings")
    figures["rebuild"].pop("rankings")
    figures["loaded_ranks_like_built"] = same
    figures["load_average"] = round(os.getloadavg()[0], 2)
    notes = [
        "Each step runs in a fresh process (a serving process starting up). rss_delta_mb: "
        "resident memory after the step minus before it (the store client already open); "
        "the loaded index's arrays are memory-mapped, so their pages count only once read.",
        "read_chunks_s is the store read every start needs in both cases (the index keeps the "
        "chunks in memory to return them).",
    ]
    print(write_result("lexical", figures, notes))
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
