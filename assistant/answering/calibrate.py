"""Calibrate the refusal threshold and the quoting gap on the tune split, and only there.

    python -m assistant.answering.calibrate eval/tune.jsonl [--weights PATH]

Every tune item is answered once per candidate gap with refusal switched off, and graded; its
answerability probability is recorded. The threshold is then the one that maximises the share
of items handled right (answerable items answered correctly, unanswerable items declined),
with a false refusal counted as a little worse than a wrong answer: a user who is refused has
nothing, one who is answered wrongly still sees the cited quote. The chosen values are
written into the weights file; nothing else is changed.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from assistant.answering.answerer import Answerer
from assistant.answering.questions import Reading, is_small_talk, standalone_question
from assistant.answering.scorer import WEIGHTS_PATH, load_scorer
from assistant.evaluation.items import EvalItem, load_items
from assistant.evaluation.metrics import is_correct
from assistant.types import AnswerEvent

GAPS = (0.5, 1.0, 1.5, 2.0, 3.0)
_FALSE_REFUSAL_COST = 1.2


def probabilities(answerer: Answerer, items: Sequence[EvalItem]) -> list[float]:
    """The answerability probability of each item (1.0 for small talk, never refused)."""
    out: list[float] = []
    for item in items:
        reading = Reading.of(item.question)
        if is_small_talk(reading, answerer._known):
            out.append(1.0)
            continue
        query = standalone_question(item.question, item.history)
        out.append(answerer._select(item.question, query, reading, item.history).answerability)
    return out


def correct_when_answered(answerer: Answerer, items: Sequence[EvalItem]) -> list[bool]:
    """Whether each answerable item's answer is correct when refusal is switched off."""
    marks: list[bool] = []
    for item in items:
        if not item.answerable:
            marks.append(False)
            continue
        events = list(answerer.stream(item.question, item.history))
        final = events[-1]
        marks.append(isinstance(final, AnswerEvent) and is_correct(final.answer, item))
    return marks


def best_threshold(
    probs: Sequence[float], answerable: Sequence[bool], correct: Sequence[bool]
) -> tuple[float, float]:
    """(threshold, utility) maximising right answers plus right refusals."""
    candidates = sorted({0.0, *probs, 1.0 + 1e-9})
    utilities = [_utility(t, probs, answerable, correct) for t in candidates]
    top = max(utilities)
    # The middle of the run of equally good thresholds generalises better than its edge.
    equal = [t for t, u in zip(candidates, utilities, strict=True) if u == top]
    return equal[len(equal) // 2], top


def _utility(
    t: float, probs: Sequence[float], answerable: Sequence[bool], correct: Sequence[bool]
) -> float:
    utility = 0.0
    for p, ok, good in zip(probs, answerable, correct, strict=True):
        answered = p >= t
        if ok:
            utility += (1.0 if good else 0.0) if answered else -(_FALSE_REFUSAL_COST - 1.0)
        else:
            utility += 0.0 if answered else 1.0
    return utility


def main(argv: Sequence[str] | None = None) -> int:
    from assistant import service

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--weights", type=Path, default=WEIGHTS_PATH)
    args = parser.parse_args(argv)
    items = load_items(args.file)
    resources = service.load_resources(with_chat_model=False)
    scorer = load_scorer(args.weights)
    answerable = [item.answerable for item in items]
    results = []
    for gap in GAPS:
        open_scorer = replace(scorer, threshold=-1.0, gap=gap)
        answerer = Answerer(
            resources.settings, resources.retriever, resources.embedder, None, open_scorer
        )
        probs = probabilities(answerer, items)
        correct = correct_when_answered(answerer, items)
        threshold, utility = best_threshold(probs, answerable, correct)
        results.append({"gap": gap, "threshold": threshold, "utility": utility})
        print(json.dumps(results[-1]), file=sys.stderr)
    chosen = max(results, key=lambda r: r["utility"])
    meta = dict(scorer.meta)
    meta["calibrated_on"] = args.file.name
    meta["calibration"] = results
    replace(scorer, threshold=chosen["threshold"], gap=chosen["gap"], meta=meta).save(args.weights)
    print(json.dumps(chosen))
    return 0


if __name__ == "__main__":
    sys.exit(main())
