"""`python -m assistant eval FILE.jsonl`: run a question file and write the quality report.

The metrics are reported, not asserted: the command exits 0 whenever the run completes and
leaves the comparison with the targets to the report. It exits 1 with one line on stderr when
the run cannot happen (bad question file, no index, missing model), and 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import get_args

from assistant import service
from assistant.cli_edge import guarded
from assistant.config import LLMSettings, Settings
from assistant.errors import InputError
from assistant.evaluation.harness import TempStore, distractor_resources, run_eval
from assistant.evaluation.items import EvalItem, load_items
from assistant.evaluation.report import collect_machine_info, render_summary, write_report
from assistant.evaluation.results import EvalResult

DEFAULT_REPORT_DIR = Path("reports/eval")
BACKENDS: tuple[str, ...] = get_args(LLMSettings.model_fields["backend"].annotation)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m assistant eval",
        description="Answer every question of a JSONL file through the assistant and report "
        "correctness, refusals, citations, faithfulness, retrieval and latency.",
    )
    parser.add_argument("file", type=Path, help="question file, e.g. ../shared/eval/dev.jsonl")
    parser.add_argument(
        "--report",
        type=Path,
        default=DEFAULT_REPORT_DIR,
        metavar="DIR",
        help=f"folder for the Markdown and JSON reports (default {DEFAULT_REPORT_DIR})",
    )
    parser.add_argument(
        "--backend", choices=BACKENDS, help="chat backend; overrides ASSISTANT_LLM_BACKEND"
    )
    parser.add_argument(
        "--distractors",
        type=Path,
        metavar="DIR",
        help="also index every .txt in DIR into a temporary store (see distractors.py)",
    )
    parser.add_argument("--limit", type=int, metavar="N", help="evaluate only the first N items")
    return parser


def _progress(stage: str, done: int, total: int) -> None:
    """Progress on stderr, one overwritten line, so stdout keeps only the summary."""
    end = "\n" if done >= total else ""
    print(f"\r{stage[:48]:<48} {done}/{total}", end=end, file=sys.stderr, flush=True)


def _settings(backend: str | None) -> Settings:
    settings = Settings()
    if backend:
        llm = settings.llm.model_copy(update={"backend": backend})
        settings = settings.model_copy(update={"llm": llm})
    return settings


@contextmanager
def _store(settings: Settings, distractors: Path | None) -> Iterator[TempStore]:
    if distractors is None:
        yield TempStore(service.load_resources(settings, progress=_progress), 0, None)
        return
    with distractor_resources(settings, distractors, progress=_progress) as store:
        yield store


def _run(args: argparse.Namespace) -> EvalResult:
    items: list[EvalItem] = load_items(args.file)
    if args.limit is not None:
        if args.limit < 1:
            raise InputError("--limit must be at least 1.")
        items = items[: args.limit]
    settings = _settings(args.backend)
    with _store(settings, args.distractors) as store:
        return run_eval(
            items,
            resources=store.resources,
            progress=_progress,
            dataset=str(args.file),
            distractor_documents=store.distractor_documents,
            index_seconds=store.index_seconds,
        )


def main(argv: list[str] | None = None) -> int:
    """Run the eval command with `argv` (the arguments after `eval`); returns the exit code."""
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, or bad arguments (argparse printed why)
        return exc.code if isinstance(exc.code, int) else 2

    def run_and_report() -> int:
        result = _run(args)
        title = f"CPMR Assistant evaluation: {Path(args.file).name}, backend {result.info.backend}"
        md_path, json_path = write_report(
            result, args.report, title=title, machine_info=collect_machine_info()
        )
        print(render_summary(result))
        print(f"\nreport: {md_path}\n        {json_path}")
        return 0

    return guarded(run_and_report, fatal=1, interrupted="\ninterrupted: no report written")


if __name__ == "__main__":
    sys.exit(main())
