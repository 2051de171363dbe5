"""`python index.py [--corpus DIR] [--rebuild | --verify | --repair] [--quiet]` (also
`python -m assistant index`): index the corpus folder into Chroma, through `service.build_index`;
check the index against the corpus (`--verify`, exit 1 naming each problem) or fix it
(`--repair`).

Only new and changed documents are embedded; removed files leave the index; a bad file is
reported and everything else is still indexed. Exit status: 0 when every file was indexed,
1 when some file failed, 2 when nothing could be done (one line on stderr, no traceback; set
ASSISTANT_DEBUG=1 to see one). After changing the embedding model, pass --rebuild.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, TextIO

from assistant.cli_edge import guarded

if TYPE_CHECKING:
    from tqdm import tqdm

    from assistant.consistency import Verification
    from assistant.types import IndexReport


EXIT_OK, EXIT_FAILURES, EXIT_FATAL = 0, 1, 2
# Beyond this many documents in one category the summary gives the count only.
MAX_LISTED = 10
# Phases `run` times itself; the others come from `service.build_index`.
STARTUP = "start-up (interpreter, imports, settings)"
UNCHANGED_CHECK = "checking for an unchanged corpus"
MODEL_LOAD = "loading the model, opening the store"
TIMES_HEADING = "Where the time went (wall s, CPU s of all threads):"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python index.py",
        description="Index the corpus folder: embed new and changed documents, drop removed "
        "ones. Exit status 0 = all indexed, 1 = some files failed, 2 = fatal error.",
    )
    parser.add_argument(
        "--corpus", type=Path, metavar="DIR", help="corpus folder (default: ASSISTANT_CORPUS_DIR)"
    )
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="drop the index and embed everything again (needed after changing the model)",
    )
    parser.add_argument(
        "--quiet", action="store_true", help="no progress bar and no summary; failures only"
    )
    check = parser.add_mutually_exclusive_group()
    check.add_argument(
        "--verify",
        action="store_true",
        help="check the index against the corpus and name what is wrong (exit 1 if anything)",
    )
    check.add_argument(
        "--repair", action="store_true", help="fix what --verify finds, then check again"
    )
    return parser


class _ProgressBar:
    """A tqdm bar on stderr that follows progress(stage, done, total) callbacks."""

    def __init__(self) -> None:
        self._bar: tqdm[NoReturn] | None = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        from tqdm import tqdm

        bar = self._bar
        if bar is None or bar.desc != stage:
            self.close()
            bar = self._bar = tqdm(total=total, desc=stage, unit="chunk", file=sys.stderr)
        elif bar.total != total:
            # Files are still being chunked while the first ones are embedded: the total grows.
            bar.total = total
            bar.refresh()
        bar.update(done - bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def run(corpus: Path | None, *, rebuild: bool, quiet: bool) -> IndexReport:
    """Load the embedding model, open the store and sync the corpus into it."""
    from assistant.timing import Phases, process_age

    phases = Phases()
    started, cpu = time.perf_counter(), time.process_time()
    # Imported here so that `--help` and argument errors answer at once, without torch.
    from assistant import service
    from assistant.config import load_settings

    settings = load_settings()
    # Checked before the model loads, so a wrong path answers at once.
    service.require_corpus(corpus or settings.paths.corpus_dir)
    age = process_age()  # the interpreter and imports before this function ran
    phases.add(
        STARTUP,
        time.perf_counter() - started if age is None else age,
        time.process_time() if age is not None else time.process_time() - cpu,
    )
    if not rebuild:
        # A scheduled run on an unchanged corpus answers from file hashes, no model load.
        with phases.measure(UNCHANGED_CHECK):
            report = service.index_unchanged(settings, corpus)
        if report is not None:
            return report.model_copy(update={"phases": phases.times()})
    with phases.measure(MODEL_LOAD):
        resources = service.load_resources(settings, with_chat_model=False, rebuild=rebuild)
    bar = None if quiet else _ProgressBar()
    try:
        report = service.build_index(
            resources=resources, corpus_dir=corpus, rebuild=rebuild, progress=bar
        )
    finally:
        if bar is not None:
            bar.close()
    phases.extend(report.phases)
    return report.model_copy(update={"phases": phases.times()})


def check(corpus: Path | None, *, repair: bool, quiet: bool) -> Verification:
    """--verify / --repair: open the store (no chat model) and check or fix it."""
    from assistant import service
    from assistant.config import load_settings

    settings = load_settings()
    service.require_corpus(corpus or settings.paths.corpus_dir)
    resources = service.load_resources(settings, with_chat_model=False)
    if not repair:
        return service.verify_index(resources=resources, corpus_dir=corpus)
    bar = None if quiet else _ProgressBar()
    try:
        return service.repair_index(resources=resources, corpus_dir=corpus, progress=bar)
    finally:
        if bar is not None:
            bar.close()


def _category(label: str, doc_ids: Sequence[str]) -> list[str]:
    lines = [f"  {label:<10} {len(doc_ids)}"]
    if len(doc_ids) <= MAX_LISTED:
        lines.extend(f"    {doc_id}" for doc_id in doc_ids)
    return lines


def format_summary(report: IndexReport) -> str:
    """The human summary of a run: what changed, chunk counts, time and each failure."""
    action = "Index rebuilt" if report.rebuilt else "Index updated"
    lines = [
        f"{action} in {report.seconds:.1f} s.",
        *_category("added", report.added),
        *_category("updated", report.updated),
        *_category("removed", report.removed),
        f"  {'unchanged':<10} {len(report.unchanged)}",
        f"  {'chunks':<10} {report.chunks_written} written, {report.chunks_total} in the index",
    ]
    lines.extend(f"Note: {note}" for note in report.notes)
    if report.phases:
        lines.append(TIMES_HEADING)
        lines.extend(
            f"  {phase.name:<44} {phase.seconds:8.2f} "
            + ("       -" if phase.cpu_seconds is None else f"{phase.cpu_seconds:8.2f}")
            for phase in report.phases
        )
    if report.failures:
        lines.append(f"Failed files ({len(report.failures)}):")
        lines.extend(format_failures(report))
    return "\n".join(lines)


def parse_times(summary: str) -> dict[str, tuple[float, float | None]]:
    """The phases `format_summary` printed: name -> (wall s, CPU s or None)."""
    if TIMES_HEADING not in summary:
        return {}
    times: dict[str, tuple[float, float | None]] = {}
    for line in summary.split(TIMES_HEADING, 1)[1].splitlines()[1:]:
        found = re.fullmatch(r"  (\S.*?)\s+(\d+\.\d+)\s+(\d+\.\d+|-)", line)
        if found is None:
            break
        name, wall, cpu = found.groups()
        times[name] = (float(wall), None if cpu == "-" else float(cpu))
    return times


def format_failures(report: IndexReport) -> list[str]:
    return [f"  {failure.path}: {failure.reason}" for failure in report.failures]


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    """Run the indexer; returns the exit status."""
    args = build_parser().parse_args(argv)
    stream = out or sys.stdout
    # The model loader's own progress bars are noise here; ours shows the embedding.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # --quiet: the loaders' per-file warnings would repeat the failure lines printed below.
    logging.basicConfig(
        level=os.environ.get("ASSISTANT_LOG_LEVEL", "ERROR" if args.quiet else "WARNING").upper(),
        format="%(levelname)s %(name)s: %(message)s",
    )

    def check_and_report() -> int:
        result = check(args.corpus, repair=args.repair, quiet=args.quiet)
        print("\n".join(result.lines()), file=stream if result.ok else sys.stderr)
        return EXIT_OK if result.ok else EXIT_FAILURES

    def index_and_report() -> int:
        report = run(args.corpus, rebuild=args.rebuild, quiet=args.quiet)
        if args.quiet:
            for line in format_failures(report):
                print(line.strip(), file=sys.stderr)
        else:
            print(format_summary(report), file=stream)
        return EXIT_OK if report.ok else EXIT_FAILURES

    if (args.verify or args.repair) and args.rebuild:
        build_parser().error("--rebuild cannot be combined with --verify or --repair")
    return guarded(
        check_and_report if args.verify or args.repair else index_and_report,
        fatal=EXIT_FATAL,
        interrupted="interrupted: what was written is kept; run again to finish",
    )
