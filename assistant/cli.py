"""Command line: `python -m assistant ask|index|eval|serve ...`.

`ask --batch FILE.jsonl --json` is how evaluations drive the product: one JSON object in per
line, one out per line, in order, models loaded once. Errors print one line and exit non-zero;
no traceback reaches the user (set ASSISTANT_DEBUG=1 to see one).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from pydantic import BaseModel, ValidationError

from assistant import service
from assistant.cli_edge import guarded
from assistant.errors import InputError
from assistant.serialization import answer_json
from assistant.types import Answer, ChatTurn

log = logging.getLogger("assistant")


class BatchItem(BaseModel):
    """One line of an `ask --batch` file."""

    question: str
    history: list[ChatTurn] = []


def format_plain(answer: Answer) -> str:
    lines = [answer.text]
    if answer.citations:
        lines.append("")
        lines.append("Sources:")
        for c in answer.citations:
            when = f", {c.date.isoformat()}" if c.date else ""
            page = f", page {c.page}" if c.page else ""
            lines.append(f"[{c.n}] {c.title}{when} ({c.source}{page})")
            lines.append(f'    "{c.quote}"')
    return "\n".join(lines)


def _read_batch(path: Path) -> Iterator[BatchItem]:
    try:
        handle = path.open(encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror}") from exc
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                yield BatchItem.model_validate_json(line)
            except ValidationError as exc:
                first = exc.errors()[0]
                where = ".".join(str(p) for p in first["loc"]) or "line"
                raise InputError(f"{path}:{number}: {where}: {first['msg']}") from exc


def _ask(args: argparse.Namespace, out: TextIO) -> int:
    resources = service.load_resources(progress=_progress_to_stderr)
    if args.batch:
        for item in _read_batch(Path(args.batch)):
            try:
                answer = service.ask(item.question, history=item.history, resources=resources)
                record: dict[str, Any] = answer_json(answer)
            except InputError as exc:
                record = {"question": item.question, "error": str(exc)}
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            out.flush()
        return 0
    if not args.question:
        raise InputError('give a question: python -m assistant ask "What does CPMR offer?"')
    answer = service.ask(args.question, resources=resources)
    if args.json:
        out.write(json.dumps(answer_json(answer), ensure_ascii=False, indent=2) + "\n")
    else:
        out.write(format_plain(answer) + "\n")
    return 0


def _progress_to_stderr(stage: str, done: int, total: int) -> None:
    if stage != "Ready":
        print(f"{stage}…", file=sys.stderr, flush=True)


def _index(args: argparse.Namespace, out: TextIO) -> int:
    from assistant.index_cli import main as index_main

    return index_main(args.rest, out=out)


def _eval(args: argparse.Namespace, out: TextIO) -> int:
    from assistant.evaluation.cli import main as eval_main

    return eval_main(args.rest)


def _serve(args: argparse.Namespace, out: TextIO) -> int:
    from assistant.api import serve

    serve(host=args.host, port=args.port, workers=args.workers)
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m assistant",
        description="CPMR Assistant: grounded, cited answers from the CPMR corpus.",
    )
    commands = parser.add_subparsers(dest="command", required=True)
    ask = commands.add_parser("ask", help="answer a question (or a JSONL batch)")
    ask.add_argument("question", nargs="?", help="the question")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument(
        "--batch", metavar="FILE.jsonl", help='questions, one {"question", "history"} per line'
    )
    ask.set_defaults(run=_ask)
    idx = commands.add_parser(
        "index",
        help="index the corpus (same as python index.py)",
        add_help=False,
        prefix_chars="\0",
    )
    idx.add_argument("rest", nargs=argparse.REMAINDER)
    idx.set_defaults(run=_index)
    ev = commands.add_parser(
        "eval", help="evaluate on a question file", add_help=False, prefix_chars="\0"
    )
    ev.add_argument("rest", nargs=argparse.REMAINDER)
    ev.set_defaults(run=_eval)
    srv = commands.add_parser("serve", help="run the HTTP API and the website widget")
    srv.add_argument("--host", default="127.0.0.1", help="address to listen on")
    srv.add_argument("--port", type=int, default=8000, help="port to listen on")
    srv.add_argument(
        "--workers", type=int, default=1, help="server processes (each loads the models)"
    )
    srv.set_defaults(run=_serve)
    return parser


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    logging.basicConfig(
        level=os.environ.get("ASSISTANT_LOG_LEVEL", "WARNING").upper(),
        format="%(levelname)s %(name)s: %(message)s",
    )
    args = build_parser().parse_args(argv)
    return guarded(lambda: int(args.run(args, out or sys.stdout)))
