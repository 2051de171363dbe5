"""Fit the answerability model, the refusal threshold and the quoting gap on the tune split.

    python -m assistant.answering.calibrate eval/tune.jsonl [--weights PATH]

It answers from the index of the settings (`python index.py` first; the tune items need
`eval/news/` indexed as `news/`, as `python -m assistant eval` does), and calibrates the
weights of ASSISTANT_INDEX_LATE_CHUNKING's setting unless --weights says otherwise.

Relevance transfers from SQuAD; answerability does not (SQuAD has no near-miss questions in
this corpus's sense: the centre's phone number, a budget never stated). So the answerability
model, a logistic regression over the few `SET_FEATURES` of the best candidates, is fitted on
the tune split's items (answerable or not), and the threshold is chosen on its
cross-validated probabilities: the one that maximises items handled right (answerable items
answered correctly, unanswerable ones declined), a false refusal costing a little more than a
wrong answer. The gap (how far below the best sentence another is still quoted) is chosen
among a few values by the same count. Only `tune` is read; the result is written into the
weights file, the ranker is left as trained.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from assistant.answering.answerer import Answerer
from assistant.answering.questions import Reading, is_small_talk, standalone_question
from assistant.answering.scorer import (
    PRIOR_FEATURE,
    SET_FEATURES,
    Linear,
    Scorer,
    load_scorer,
    weights_path,
)
from assistant.answering.training import fit_linear
from assistant.evaluation.items import EvalItem, load_items
from assistant.evaluation.metrics import is_correct
from assistant.types import AnswerEvent

GAPS = (1.0, 2.0, 3.0)
_FALSE_REFUSAL_COST = 1.2
_FOLDS = 5
_FLOOR_MARGIN = 1.0
_SEED = 7


def set_rows(answerer: Answerer, items: Sequence[EvalItem]) -> tuple[np.ndarray, np.ndarray]:
    """The answerability features and labels of every item that is not small talk."""
    rows: list[np.ndarray] = []
    labels: list[float] = []
    for item in items:
        reading = Reading.of(item.question)
        if is_small_talk(reading, answerer._known):
            continue
        query = standalone_question(item.question, item.history)
        selection = answerer._select(item.question, query, reading, item.history)
        values = selection.set_values
        rows.append(values if values is not None else np.zeros(len(SET_FEATURES) + 1))
        labels.append(float(item.answerable))
    return np.vstack(rows), np.asarray(labels)


def correct_when_answered(answerer: Answerer, items: Sequence[EvalItem]) -> list[bool]:
    """Whether each non-small-talk item's answer is correct with refusal switched off."""
    marks: list[bool] = []
    for item in items:
        if is_small_talk(Reading.of(item.question), answerer._known):
            continue
        if not item.answerable:
            marks.append(False)
            continue
        final = list(answerer.stream(item.question, item.history))[-1]
        marks.append(isinstance(final, AnswerEvent) and is_correct(final.answer, item))
    return marks


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


def best_threshold(
    probs: Sequence[float], answerable: Sequence[bool], correct: Sequence[bool]
) -> tuple[float, float]:
    """(threshold, utility) maximising right answers plus right refusals. Thresholds lie
    halfway between neighbouring probabilities; of a run of equally good ones the middle is
    taken, which generalises better than its edge."""
    points = sorted({0.0, *probs, 1.0})
    candidates = [(a + b) / 2 for a, b in itertools.pairwise(points)] or [0.5]
    utilities = [_utility(t, probs, answerable, correct) for t in candidates]
    top = max(utilities)
    best = [t for t, u in zip(candidates, utilities, strict=True) if u == top]
    return best[len(best) // 2], top


def cross_validated(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Out-of-fold answerability probabilities (each item scored by a model not fitted on it)."""
    from sklearn.model_selection import StratifiedKFold  # type: ignore[import-untyped]

    probs = np.zeros(len(y))
    folds = StratifiedKFold(n_splits=_FOLDS, shuffle=True, random_state=_SEED)
    for train, test in folds.split(x, y):
        model = fit_linear(x[train], y[train], TUNE_FEATURES, _SEED, c=_C, signs=SIGNS)
        probs[test] = 1.0 / (1.0 + np.exp(-model.logits(x[test])))
    return probs


# Strong regularisation: a few hundred items fit 15 weights.
_C = 0.3
# Every signal of answerability counts for it, except the kind asked for being absent.
TUNE_FEATURES = (*SET_FEATURES, PRIOR_FEATURE)
SIGNS = tuple(-1 if name == "kind_missing" else 1 for name in TUNE_FEATURES)


def calibrate(
    answerer: Answerer, scorer: Scorer, items: Sequence[EvalItem], gaps: Sequence[float] = GAPS
) -> Scorer:
    # The SQuAD model stays as the prior; its logit is one more feature of the tune model, so
    # that what SQuAD taught (a question about nothing here is unanswerable) is kept while the
    # tune items teach the near misses.
    prior = scorer.prior or scorer.answerable
    # Until the tune model exists, answerability is the prior's (weight 1 on its logit).
    passthrough = Linear(
        TUNE_FEATURES,
        np.zeros(len(TUNE_FEATURES)),
        np.ones(len(TUNE_FEATURES)),
        np.eye(len(TUNE_FEATURES))[-1],
        0.0,
    )
    open_scorer = replace(scorer, threshold=-1.0, prior=prior, answerable=passthrough, floor=None)
    answerer.scorer = open_scorer
    x, y = set_rows(answerer, items)
    # A margin below the least answerable-looking answerable tune item (in prior logits).
    floor = float(x[y == 1, -1].min()) - _FLOOR_MARGIN
    answerable_model = fit_linear(x, y, TUNE_FEATURES, _SEED, c=_C, signs=SIGNS)
    probs = cross_validated(x, y)
    results: list[dict[str, float]] = []
    for gap in gaps:
        answerer.scorer = replace(open_scorer, gap=gap)
        correct = correct_when_answered(answerer, items)
        threshold, utility = best_threshold(list(probs), [bool(v) for v in y], correct)
        results.append({"gap": gap, "threshold": round(threshold, 4), "utility": utility})
        print(json.dumps(results[-1]), file=sys.stderr)
    chosen = max(results, key=lambda r: (r["utility"], -r["gap"]))
    meta = dict(scorer.meta)
    meta["calibrated_on"] = "eval/tune.jsonl"
    meta["calibration"] = results
    meta["tune_answerability_auc_cross_validated"] = round(_auc(probs, y), 4)
    return replace(
        scorer,
        prior=prior,
        floor=floor,
        answerable=answerable_model,
        threshold=chosen["threshold"],
        gap=chosen["gap"],
        meta=meta,
    )


def _auc(probs: np.ndarray, y: np.ndarray) -> float:
    from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

    return float(roc_auc_score(y, probs))


def main(argv: Sequence[str] | None = None) -> int:
    from assistant import service

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--weights", type=Path, help="default: the weights of the settings")
    parser.add_argument("--gaps", type=float, nargs="+", default=list(GAPS))
    args = parser.parse_args(argv)
    items = load_items(args.file)
    resources = service.load_resources(with_chat_model=False)
    weights = args.weights or weights_path(late=resources.settings.index.late_chunking)
    scorer = load_scorer(weights)
    answerer = Answerer(resources.settings, resources.retriever, resources.embedder, None, scorer)
    calibrated = calibrate(answerer, scorer, items, args.gaps)
    calibrated.save(weights)
    print(json.dumps({k: calibrated.meta[k] for k in ("calibration",)}, indent=1))
    print(f"threshold {calibrated.threshold:.4f} gap {calibrated.gap}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
