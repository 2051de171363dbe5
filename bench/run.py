"""Speed and memory of the assistant on this machine, written down with the machine.

    .venv/bin/python bench/run.py [--backend local|extractive] [--questions N] [--distractors DIR]

Measures: model load times, indexing throughput (the project corpus, plus the distractor
articles when given), question latency (retrieve / generate / total / first shown sentence,
p50 and p95 over the dev questions) and peak resident memory. Writes
bench/results/<date>-<host>-<backend>.md and .json. Figures are measurements, not assertions:
the tests never time anything.
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from assistant import service  # noqa: E402
from assistant.config import LLMSettings, PathSettings, load_settings  # noqa: E402
from assistant.evaluation.report import collect_machine_info  # noqa: E402
from assistant.types import ChatTurn  # noqa: E402

DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["local", "extractive"], default="local")
    parser.add_argument("--questions", type=int, default=40)
    parser.add_argument("--distractors", type=Path, help="folder of extra .txt documents")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="cpmr-bench-"))
    corpus = work / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    extra = 0
    if args.distractors:
        target = corpus / "distractors"
        target.mkdir()
        for path in sorted(args.distractors.glob("*.txt")):
            shutil.copy(path, target / path.name)
            extra += 1
    base = load_settings()
    settings = base.model_copy(
        update={
            "paths": PathSettings(
                corpus_dir=corpus, chroma_dir=work / "chroma", feedback_db=work / "feedback.sqlite3"
            ),
            "llm": LLMSettings(backend=args.backend),
        }
    )
    figures: dict[str, object] = {"backend": args.backend, "distractor_documents": extra}
    try:
        started = time.perf_counter()
        resources = service.load_resources(settings, with_chat_model=False)
        figures["embedding_model_load_s"] = round(time.perf_counter() - started, 2)

        started = time.perf_counter()
        report = service.build_index(resources=resources)
        seconds = time.perf_counter() - started
        figures["index_documents"] = len(report.added)
        figures["index_chunks"] = report.chunks_total
        figures["index_seconds"] = round(seconds, 1)
        figures["index_chunks_per_s"] = round(report.chunks_total / seconds, 1)

        started = time.perf_counter()
        loaded = service.load_resources(settings)
        figures["all_models_load_s"] = round(time.perf_counter() - started, 2)
        resources = loaded
        service.ask("What does the centre do?", resources=resources)  # warm-up, not timed

        items = [json.loads(line) for line in DEV.read_text(encoding="utf-8").splitlines()]
        timings: dict[str, list[float]] = {"retrieve": [], "generate": [], "total": [], "first": []}
        for item in items[: args.questions]:
            history = [ChatTurn(**t) for t in item.get("history", [])]
            answer = service.ask(item["question"], history=history, resources=resources)
            timings["retrieve"].append(answer.timings.retrieve_ms)
            timings["generate"].append(answer.timings.generate_ms)
            timings["total"].append(answer.timings.total_ms)
            timings["first"].append(answer.timings.first_token_ms or answer.timings.total_ms)
        for name, values in timings.items():
            figures[f"{name}_ms_p50"] = round(statistics.median(values), 1)
            figures[f"{name}_ms_p95"] = round(_pct(values, 0.95), 1)
        figures["questions"] = len(timings["total"])
        figures["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    machine = collect_machine_info().model_dump()
    machine["hostname"] = platform.node()
    stamp = datetime.now(UTC)
    out = ROOT / "bench" / "results"
    out.mkdir(parents=True, exist_ok=True)
    name = f"{stamp:%Y-%m-%d}-{machine.get('hostname', 'host')}-{args.backend}"
    if extra:
        name += f"-distractors{extra}"
    record = {"date": stamp.isoformat(timespec="seconds"), "machine": machine, "figures": figures}
    (out / f"{name}.json").write_text(json.dumps(record, indent=2), encoding="utf-8")
    lines = [f"# Benchmark {stamp:%Y-%m-%d %H:%M} UTC", "", "| machine | |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in machine.items()]
    lines += ["", "| figure | value |", "| --- | --- |"]
    lines += [f"| {k} | {v} |" for k, v in figures.items()]
    (out / f"{name}.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
