"""`python -m assistant eval FILE.jsonl [FILE ...]`: run question files, write the reports.

All files (and all `--backend`s) of one run are answered from one store: by default the
corpus plus `eval/news/` (the news fixtures the project's question set asks about), indexed
into a temporary store, so tune, held-out and dev are measured on the same documents.
`--doc` adds the side-by-side comparison (docs/evaluation.md).

The metrics are reported, not asserted: the command exits 0 whenever the run completes and
leaves the comparison with the targets to the report. It exits 1 with one line on stderr when
the run cannot happen (bad question file, no index, missing model), and 2 on bad arguments.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import get_args

from assistant import service
from assistant.cli_edge import guarded
from assistant.config import LLMSettings, Settings
from assistant.errors import InputError
from assistant.evaluation.compare import load_reports, write_comparison
from assistant.evaluation.harness import TempStore, run_eval, temporary_store, with_backend
from assistant.evaluation.items import EvalItem, load_items
from assistant.evaluation.report import collect_machine_info, render_summary, write_report
from assistant.evaluation.results import EvalResult

DEFAULT_REPORT_DIR = Path("reports/eval")
DEFAULT_EXTRA = Path("eval/news")
"""Indexed beside the corpus by default: the news fixtures the project's question set asks
about. Every file of a run is answered from that one store, so tune, held-out and dev are
measured on the same documents."""
BACKENDS: tuple[str, ...] = get_args(LLMSettings.model_fields["backend"].annotation)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m assistant eval",
        description="Answer every question of one or more JSONL files through the assistant "
        "and report correctness, refusals, citations, faithfulness, retrieval and latency, "
        "per file and side by side.",
    )
    parser.add_argument(
        "files",
        type=Path,
        nargs="*",
        metavar="FILE",
        help="question files, e.g. eval/tune.jsonl eval/heldout.jsonl ../shared/eval/dev.jsonl",
    )
    parser.add_argument(
        "--report",
        type=Path,
        default=DEFAULT_REPORT_DIR,
        metavar="DIR",
        help=f"folder for the Markdown and JSON reports (default {DEFAULT_REPORT_DIR})",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        action="append",
        help="chat backend; repeat to compare several on the same store "
        "(default: ASSISTANT_LLM_BACKEND)",
    )
    parser.add_argument(
        "--extra",
        type=Path,
        action="append",
        metavar="DIR",
        help=f"index DIR beside the corpus, under its own name, into a temporary store; "
        f"repeatable (default: {DEFAULT_EXTRA} when it exists)",
    )
    parser.add_argument(
        "--no-extra", action="store_true", help=f"do not index {DEFAULT_EXTRA} by default"
    )
    parser.add_argument(
        "--distractors",
        type=Path,
        metavar="DIR",
        help="also index every .txt in DIR into the temporary store (see distractors.py)",
    )
    parser.add_argument(
        "--doc",
        type=Path,
        metavar="PATH",
        help="also write the side-by-side comparison of all files and backends to PATH "
        "(e.g. docs/evaluation.md)",
    )
    parser.add_argument(
        "--from-reports",
        type=Path,
        metavar="DIR",
        help="answer nothing: write --doc from the JSON reports already in DIR "
        "(e.g. runs of different backends made separately)",
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


def _extra_dirs(args: argparse.Namespace) -> list[Path]:
    if args.extra:
        return list(args.extra)
    if args.no_extra or not DEFAULT_EXTRA.is_dir():
        return []
    return [DEFAULT_EXTRA]


@contextmanager
def _store(
    settings: Settings, extra_dirs: list[Path], distractors: Path | None
) -> Iterator[TempStore]:
    if not extra_dirs and distractors is None:
        yield TempStore(service.load_resources(settings, progress=_progress), 0, None)
        return
    with temporary_store(
        settings, extra_dirs=extra_dirs, distractors=distractors, progress=_progress
    ) as store:
        yield store


def _load(args: argparse.Namespace) -> list[tuple[Path, list[EvalItem]]]:
    """Every file validated before anything heavy is loaded."""
    if args.limit is not None and args.limit < 1:
        raise InputError("--limit must be at least 1.")
    loaded = []
    for path in args.files:
        items = load_items(path)
        loaded.append((path, items[: args.limit] if args.limit else items))
    return loaded


def _run(args: argparse.Namespace) -> list[EvalResult]:
    files = _load(args)
    backends: list[str | None] = list(dict.fromkeys(args.backend or [None]))
    settings = _settings(backends[0])
    results = []
    with _store(settings, _extra_dirs(args), args.distractors) as store:
        for backend in backends:
            resources = with_backend(store.resources, backend or settings.llm.backend)
            for path, items in files:
                result = run_eval(
                    items,
                    resources=resources,
                    progress=_progress,
                    dataset=str(path),
                    distractor_documents=store.distractor_documents,
                    index_seconds=store.index_seconds,
                    extra_folders=store.extra_folders,
                    extra_documents=store.extra_documents,
                )
                _write(result, args)
                results.append(result)
    return results


def _write(result: EvalResult, args: argparse.Namespace) -> None:
    name, backend = Path(result.info.dataset).name, result.info.backend
    title = f"CPMR Assistant evaluation: {name}, backend {backend}"
    md_path, json_path = write_report(
        result, args.report, title=title, machine_info=collect_machine_info()
    )
    print(f"\n== {result.info.dataset} (backend {result.info.backend})")
    print(render_summary(result))
    print(f"report: {md_path}\n        {json_path}")


def _command(argv: list[str]) -> str:
    return " ".join(["python -m assistant eval", *(shlex.quote(a) for a in argv)])


def main(argv: list[str] | None = None) -> int:
    """Run the eval command with `argv` (the arguments after `eval`); returns the exit code."""
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help, or bad arguments (argparse printed why)
        return exc.code if isinstance(exc.code, int) else 2
    if bool(args.files) == bool(args.from_reports) or (args.from_reports and not args.doc):
        print("error: give question files, or --from-reports DIR with --doc", file=sys.stderr)
        return 2

    def run_and_report() -> int:
        results = load_reports(args.from_reports) if args.from_reports else _run(args)
        if args.doc:
            path = write_comparison(
                results,
                args.doc,
                machine=collect_machine_info(),
                command=_command(argv),
                title="Evaluation: tune, held-out and dev side by side",
            )
            print(f"\ncomparison: {path}")
        return 0

    return guarded(
        run_and_report,
        fatal=1,
        interrupted="\ninterrupted: the reports of finished files are written",
    )


if __name__ == "__main__":
    sys.exit(main())
