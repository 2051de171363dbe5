"""Split eval/questions.jsonl into eval/tune.jsonl (~60%) and eval/heldout.jsonl (~40%).

The split is by source sentence: items whose evidence (or evidence2) spans fall in the same
sentence of the same document are always on the same side, so a rule fitted on `tune` never
sees the sentence a held-out question is graded on. Items without evidence (unanswerable and
small-talk items, unanswerable follow-ups) carry a `topic`, and items sharing a topic stay
together, so near-duplicate questions ("who heads CPMR?" / "Кто директор CPMR?") cannot sit
on both sides. Groups linked through a shared sentence or topic (a comparison item joins the
groups of both its sentences) are merged into one component first.

Components are then placed one at a time, largest first (ties in a seeded shuffle), on the
side that keeps every kind's count and the answerable/unanswerable counts closest to 60/40.
The result depends only on the question file, the documents and SEED.

    python eval/split.py            # rewrite tune.jsonl and heldout.jsonl
    python eval/split.py --check    # exit 1 if the committed files differ from a fresh split
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from assistant.evaluation.grouping import linked

SEED = 20261122
TUNE_SHARE = 0.6
EVAL_DIR = Path(__file__).resolve().parent
PROJECT = EVAL_DIR.parent
SOURCE_ROOTS = (PROJECT / "corpus", EVAL_DIR)
"""Where a `source` path resolves: the corpus first, then eval/ (eval/news/ holds the news
fixtures, indexed as news/<file> beside the corpus when the project's set is evaluated)."""

_SENTENCE_END = re.compile(r"(?<=[.!?;])\s+(?=[\"'«(A-ZА-ЯЁ0-9])")

Item = dict[str, Any]


def normalize(text: str) -> str:
    """Case-fold and collapse white space (the rule evidence spans are compared by)."""
    text = unicodedata.normalize("NFKC", text).replace("’", "'").replace("‘", "'")
    return re.sub(r"\s+", " ", text).strip().casefold()


def source_path(source: str) -> Path:
    """The file a `source` names, looked up under corpus/ then eval/."""
    for root in SOURCE_ROOTS:
        path = root / source
        if path.is_file():
            return path
    raise FileNotFoundError(f"source {source!r} is in neither corpus/ nor eval/")


def sentences(text: str) -> list[str]:
    """The document's sentences, normalized: lines split at sentence-ending punctuation.

    Deliberately simple and local (not the assistant's own splitter), so that changes to the
    answer path cannot move items between the splits.
    """
    found: list[str] = []
    for line in text.splitlines():
        found += [normalize(part) for part in _SENTENCE_END.split(line) if part.strip()]
    return found


def evidence_sentences(source: str, span: str) -> set[str]:
    """Keys of every sentence of `source` that an occurrence of `span` overlaps."""
    parts = sentences(source_path(source).read_text(encoding="utf-8"))
    joined = " ".join(parts)
    needle = normalize(span)
    starts, offset = [], 0
    for part in parts:
        starts.append(offset)
        offset += len(part) + 1
    keys: set[str] = set()
    at = joined.find(needle)
    while at >= 0:
        end = at + len(needle)
        keys |= {
            f"{source}#{i}"
            for i, begin in enumerate(starts)
            if begin < end and at < begin + len(parts[i])
        }
        at = joined.find(needle, at + 1)
    if not keys:
        raise ValueError(f"evidence {span!r} is not in {source}")
    return keys


def item_keys(item: Item) -> set[str]:
    """What ties an item to others: its evidence sentences and its topic."""
    keys: set[str] = set()
    for span_field, source_field in (("evidence", "source"), ("evidence2", "source2")):
        if item.get(span_field):
            keys |= evidence_sentences(item[source_field], item[span_field])
    if item.get("topic"):
        keys.add(f"topic:{item['topic']}")
    if not keys:
        raise ValueError(f"item {item['id']} has neither evidence nor a topic to group it by")
    return keys


def components(items: Sequence[Item]) -> list[list[Item]]:
    """Items grouped so that two items sharing a key are in the same group (union-find)."""
    groups: dict[int, list[Item]] = defaultdict(list)
    for root, item in zip(linked([sorted(item_keys(i)) for i in items]), items, strict=True):
        groups[root].append(item)
    return list(groups.values())


def _strata(item: Item) -> tuple[str, str]:
    return (f"kind:{item['kind']}", f"answerable:{item.get('answerable', bool(item['must']))}")


def assign(items: Sequence[Item], *, seed: int = SEED) -> tuple[list[Item], list[Item]]:
    """(tune, heldout): whole components placed to keep each stratum near TUNE_SHARE."""
    groups = components(items)
    random.Random(seed).shuffle(groups)  # noqa: S311 - a reproducible split, not a secret
    groups.sort(key=len, reverse=True)  # stable: equal sizes keep the shuffled order
    totals = Counter(s for item in items for s in _strata(item))
    totals["all"] = len(items)
    counts = {"tune": Counter[str](), "heldout": Counter[str]()}
    share = {"tune": TUNE_SHARE, "heldout": 1 - TUNE_SHARE}
    side_of: dict[str, str] = {}

    def cost(side: str, group: list[Item]) -> float:
        added = Counter(s for item in group for s in _strata(item))
        added["all"] = len(group)
        total = 0.0
        for stratum, n in added.items():
            after = counts[side][stratum] + n
            total += ((after - share[side] * totals[stratum]) / totals[stratum]) ** 2
            total -= (
                (counts[side][stratum] - share[side] * totals[stratum]) / totals[stratum]
            ) ** 2
        return total

    for group in groups:
        side = min(("tune", "heldout"), key=lambda s: (cost(s, group), s))
        for item in group:
            side_of[item["id"]] = side
            counts[side].update(_strata(item))
        counts[side]["all"] += len(group)
    tune = [item for item in items if side_of[item["id"]] == "tune"]
    heldout = [item for item in items if side_of[item["id"]] == "heldout"]
    return tune, heldout


def read_jsonl(path: Path) -> list[Item]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


def to_jsonl(items: Iterable[Item]) -> str:
    return "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="verify, do not write")
    args = parser.parse_args(argv)
    items = read_jsonl(EVAL_DIR / "questions.jsonl")
    tune, heldout = assign(items)
    outputs = {
        EVAL_DIR / "tune.jsonl": to_jsonl(tune),
        EVAL_DIR / "heldout.jsonl": to_jsonl(heldout),
    }
    if args.check:
        stale = [
            p.name for p, text in outputs.items() if not p.is_file() or p.read_text("utf-8") != text
        ]
        if stale:
            print(f"out of date: {', '.join(stale)} (run python eval/split.py)", file=sys.stderr)
            return 1
        return 0
    for path, text in outputs.items():
        path.write_text(text, encoding="utf-8")
    kinds = sorted({item["kind"] for item in items})
    print(f"tune {len(tune)}, heldout {len(heldout)}")
    for kind in kinds:
        t = sum(1 for i in tune if i["kind"] == kind)
        h = sum(1 for i in heldout if i["kind"] == kind)
        print(f"  {kind:<13} tune {t:>3}  heldout {h:>3}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
