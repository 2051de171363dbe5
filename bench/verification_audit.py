"""What the parse-based checks reject among the sentences a chat model really writes.

    nice -n 10 .venv/bin/python bench/verification_audit.py [--file eval/tune.jsonl]
        [--limit N] [--backend local|openai]

Answers the questions of a file (tune or dev, never held-out: every sentence is printed)
with a chat backend and records every sentence the model wrote together with the passages it
was checked against. For each it reports the word-level verdict (numbers, names, wording) and
what the parse-based checks (`assistant.answering.claims`) add. The sentences the parse alone
rejects are listed in full, so a reader can judge each rejection: a false rejection costs a
good sentence, a true one keeps an unfaithful sentence from the user.
Results: bench/results/<date>-<host>-verification-audit-<backend>.md/.json.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from common import ROOT, write_result
from openai_model import spread

from assistant import service
from assistant.answering import answerer, claims, verification
from assistant.config import Settings
from assistant.evaluation.harness import temporary_store
from assistant.evaluation.items import load_items


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, default=ROOT / "eval" / "tune.jsonl")
    parser.add_argument("--limit", type=int, default=80)
    parser.add_argument("--backend", choices=["local", "openai"], default="local")
    args = parser.parse_args()
    if "heldout" in args.file.name:
        raise SystemExit("this audit prints every sentence: run it on tune or dev, not held-out")

    seen: dict[tuple[str, tuple[str, ...]], tuple[list[str], list[str]]] = {}
    original = verification.check_sentence

    def recording(
        sentence: str, quotes: Sequence[str], embedder: Any = None
    ) -> verification.Support:
        verdict = original(sentence, quotes, embedder)
        parse = (
            claims.claim_problems(sentence, list(quotes))
            if not verification.is_verbatim(sentence, quotes)
            else []
        )
        words = [r for r in verdict.reasons if r not in parse]
        seen[(sentence, tuple(quotes))] = (words, parse)
        return verdict

    answerer.check_sentence = recording  # type: ignore[assignment]
    settings = Settings()
    settings = settings.model_copy(
        update={"llm": settings.llm.model_copy(update={"backend": args.backend})}
    )
    items = spread(load_items(args.file), args.limit)
    with temporary_store(settings, extra_dirs=[ROOT / "eval" / "news"]) as store:
        for done, item in enumerate(items, 1):
            service.ask(item.question, history=item.history, resources=store.resources)
            print(f"\r{done}/{len(items)}", end="", file=sys.stderr, flush=True)
    # A sentence is checked against each passage in turn; it passed if any passage took it.
    by_sentence: dict[str, list[tuple[list[str], list[str], tuple[str, ...]]]] = {}
    for (sentence, quotes), (words, parse) in seen.items():
        by_sentence.setdefault(sentence, []).append((words, parse, quotes))
    passed = [s for s, runs in by_sentence.items() if any(not w and not p for w, p, _ in runs)]
    words_ok = [s for s, runs in by_sentence.items() if any(not w for w, _, _ in runs)]
    parse_only = [s for s in words_ok if s not in passed]
    figures = {
        "file": args.file.name,
        "questions": len(items),
        "model_sentences": len(by_sentence),
        "passed_word_checks": len(words_ok),
        "passed_all_checks": len(passed),
        "rejected_by_parse_only": len(parse_only),
    }
    notes = []
    for sentence in parse_only:
        runs = by_sentence[sentence]
        words, parse, quotes = next(r for r in runs if not r[0])
        notes.append(f"{sentence!r} — {'; '.join(parse)} — against {quotes[0]!r}")
    notes += [f"passed: {s!r}" for s in passed]
    md = write_result(f"verification-audit-{args.backend}", figures, notes)
    print(f"\n{md}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
