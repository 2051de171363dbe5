"""Sentence splitters against pysbd: speed, and agreement on where sentences end.

    .venv/bin/python bench/sentence_splitting.py [--documents 300] [--seed 0]

The pipeline's splitter (`assistant.text.split_sentences`) is pysbd; a citation quotes "a
sentence" and verification checks "a sentence", so a replacement must agree with it almost
everywhere or answers change. Compared, line by line (the pipeline splits lines first):

- `pysbd`: `Segmenter(char_span=True).segment`, the reference;
- `assistant`: the project's splitter (pysbd's own sentences, their offsets found with
  `str.find` instead of one compiled regex per sentence, a cache, and no pysbd call for a line
  without any character pysbd cuts at); it must agree 100%;
- `spacy-sentencizer`: spaCy's rule-based sentencizer (`spacy.blank("en")`), the fast
  well-kept alternative that is installed.

Texts: the project corpus, the shared news fixtures, abbreviation-heavy sentences written for
this benchmark (titles, degrees, initials, decimals, dates, list items), and `--documents`
generated news articles (bench/corpus.py). Agreement: the share of lines whose sentence
(start, end) offsets are identical to pysbd's. Writes bench/results/<date>-<host>-sentence-
splitting.md and .json (machine, date, versions).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, WORK, write_result

from corpus import write_corpus

ABBREVIATIONS = [
    "Dr. Smith met Prof. Jones, Ph.D., at 5 p.m. on Jan. 5, 2024. They talked at length.",
    "The U.S. and the U.K. agreed on e.g. a 12.5 percent cut (see Fig. 2). Done?! Yes...",
    "Prof. Elena B. PAVLINOVA and K.Tokayev met S. D. Asfendiyarov's rector on 22.01.2017.",
    "Assoc. Prof. A. B. Kim, M.D., Ph.D., heads the lab. Mr. Lee, Jr. joined in Sept. 2023.",
    "Funding rose from 1.5 mln. to 2.75 mln. KGS, i.e. by 83 %. Details: see p. 4, No. 7.",
    "1. To conduct seminars. 2. To create an atmosphere. 3. To publish results.",
    "a) clinical trials b) cell culture c) epidemiology",
    'He said: "The centre is open." Then he left. "Why?" she asked.',
    "The meeting (held in Astana on 24.11.2016) ended at 3 p.m. The next is in Oct. 2017.",
    "St. Petersburg State Univ. and Kazan Federal Univ. signed an MoU vs. last year's draft.",
]


Splitter = Callable[[str], list[tuple[int, int]]]


def _pysbd() -> Splitter:
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)

    def split(line: str) -> list[tuple[int, int]]:
        spans = []
        for part in segmenter.segment(line):
            stripped = part.sent.strip()
            if stripped:
                start = part.start + len(part.sent) - len(part.sent.lstrip())
                spans.append((start, start + len(stripped)))
        return spans

    return split


def _assistant() -> Splitter:
    from assistant import text

    def split(line: str) -> list[tuple[int, int]]:
        # The piece-level function: split_sentences also joins a bare list number to its
        # item, which pysbd alone does not.
        return list(text._segment_piece(line))

    return split


def _spacy() -> Splitter:
    import spacy

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")

    def split(line: str) -> list[tuple[int, int]]:
        spans = []
        for sentence in nlp(line).sents:
            raw = sentence.text
            stripped = raw.strip()
            if stripped:
                start = sentence.start_char + len(raw) - len(raw.lstrip())
                spans.append((start, start + len(stripped)))
        return spans

    return split


def _lines(paths: list[Path]) -> list[str]:
    lines = []
    for path in paths:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            # The pipeline cuts lines at 3,000 characters before pysbd sees them.
            lines.extend(line[i : i + 3000] for i in range(0, len(line), 3000) if line.strip())
    return [line for line in lines if line.strip()]


def measure(name: str, split: Splitter, sets: dict[str, list[str]], ref: dict[str, Any]) -> Any:
    figures: dict[str, Any] = {}
    for label, lines in sets.items():
        if name == "assistant":
            from assistant import text

            text._segment_piece.cache_clear()  # timed without the cache's help
        started = time.perf_counter()
        result = [split(line) for line in lines]
        seconds = time.perf_counter() - started
        chars = sum(len(line) for line in lines)
        same = sum(a == b for a, b in zip(result, ref.get(label, result), strict=True))
        figures[label] = {
            "lines": len(lines),
            "ms_per_1k_chars": round(seconds * 1000 / max(chars / 1000, 1e-9), 2),
            "lines_identical_to_pysbd": f"{same / max(len(lines), 1):.1%}",
        }
        ref.setdefault(f"_{name}_{label}", result)
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=300)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    generated = WORK / f"index-corpus-{args.documents}-s{args.seed}"
    write_corpus(generated, documents=args.documents, seed=args.seed)
    shared = ROOT.parent / "shared" / "news-fixtures"
    sets = {
        "corpus": _lines(sorted((ROOT / "corpus").rglob("*.txt"))),
        "news_fixtures": _lines(sorted(shared.rglob("*.md"))),
        "abbreviations": ABBREVIATIONS,
        "generated_news": _lines(sorted(generated.rglob("*.txt"))),
    }
    reference: dict[str, Any] = {}
    figures: dict[str, Any] = {}
    for name, factory in (("pysbd", _pysbd), ("assistant", _assistant), ("spacy", _spacy)):
        split = factory()
        figures[name] = measure(name, split, sets, reference)
        if name == "pysbd":
            reference.update({k: reference[f"_pysbd_{k}"] for k in sets})
    notes = [
        "Adopt a replacement only at (near) 100% agreement: a sentence boundary that moves "
        "changes chunks, quotes and verification.",
    ]
    print(write_result("sentence-splitting", figures, notes))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
