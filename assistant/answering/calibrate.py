"""Fit the answerability model, the refusal threshold and the quoting gap on the tune split.

    python -m assistant.answering.calibrate eval/tune.jsonl [--weights PATH] [--cv-only]

It calibrates the weights of ASSISTANT_INDEX_LATE_CHUNKING's setting unless --weights says
otherwise.

Relevance transfers from SQuAD; answerability does not (SQuAD has no near-miss questions in
this corpus's sense: the centre's phone number, a budget never stated). So the answerability
model, a small logistic regression with an L2 penalty, is fitted on the tune split's items
(answerable or not) over the set features of the best candidates (`SET_FEATURES`, the SQuAD
answerability model's logit as a prior, and the word-match, focus, answer-type and agreement
signals of `answerability`).

Everything is chosen by cross-validation on tune alone, grouped so that near-duplicates (one
conversation's turns, one topic asked in three languages) never sit on both sides of a fold:

- the penalty, by inner cross-validated log loss on the training folds;
- the threshold, on the training folds' out-of-fold probabilities: the one that maximises
  items handled right (answerable items answered correctly, unanswerable ones declined), a
  false refusal costing a little more than a wrong answer;
- the model (which feature set), by repeated outer cross-validation: refusal accuracy, false
  refusals and correct answers of held-out folds, mean and spread over repeats
  (`--cv-only` prints this comparison and writes nothing).

The tune items are answered from a temporary store of the corpus plus `eval/news`, as the
evaluation command does. Only `tune` is read; the result is written into the weights file,
the ranker is left as trained.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from assistant.answering import claims
from assistant.answering.answerability import ANSWERABILITY_FEATURES, NEGATIVE_FEATURES
from assistant.answering.answerer import Answerer
from assistant.answering.questions import Reading, is_small_talk, standalone_question
from assistant.answering.scorer import (
    ALL_SET_FEATURES,
    PRIOR_FEATURE,
    SET_FEATURES,
    Linear,
    Scorer,
    load_scorer,
    weights_path,
)
from assistant.answering.training import fit_linear
from assistant.evaluation.grouping import linked
from assistant.evaluation.items import EvalItem, load_items
from assistant.evaluation.metrics import is_correct
from assistant.types import AnswerEvent

GAPS = (1.0, 2.0, 3.0)
_FALSE_REFUSAL_COST = 1.2
_FOLDS = 5
_REPEATS = 10
_FLOOR_MARGIN = 1.0
_SEED = 7
# The L2 penalties tried (scikit-learn's C: smaller is stronger); a few hundred items.
C_GRID = (0.01, 0.03, 0.1, 0.3, 1.0)

# The feature sets compared by cross-validation: the model main shipped with (the ranker's
# set features and the SQuAD prior, C fixed at 0.3) and the same with the answerability
# signals added.
BASELINE = (*SET_FEATURES, PRIOR_FEATURE)
WITH_SIGNALS = (*SET_FEATURES, *ANSWERABILITY_FEATURES, PRIOR_FEATURE)
WITH_RULED = tuple(f for f in WITH_SIGNALS if f not in ("names_unknown", "rarest_unknown"))
MODELS: dict[str, tuple[tuple[str, ...], float | None]] = {
    "baseline": (BASELINE, 0.3),
    "baseline-cv": (BASELINE, None),
    "signals": (WITH_SIGNALS, None),
    "signals-ruled": (WITH_RULED, None),
}
DESCRIPTIONS = {
    "baseline": "main's model: set features + SQuAD prior, C 0.3, unknown names declined by rule",
    "baseline-cv": "the same, C by inner CV",
    "signals": "with the answerability signals (unknown names a feature), C by inner CV",
    "signals-ruled": "with the answerability signals, unknown names declined by rule",
}
# The model `calibrate` writes unless told otherwise: the one cross-validation on tune
# favoured (README, "Answerability"). The signals did not raise refusal accuracy
# at the calibrated threshold, so the shipped model stays main's.
CHOSEN = "baseline"
_NEGATIVE = {"kind_missing", *NEGATIVE_FEATURES}


def signs(features: Sequence[str]) -> tuple[int, ...]:
    """Every signal of answerability counts for it, except those saying something is missing:
    a monotone model, which a few hundred items cannot turn against common sense."""
    return tuple(-1 if name in _NEGATIVE else 1 for name in features)


@dataclass(frozen=True)
class TuneRow:
    """One tune item as the answerability model sees it."""

    item_id: str
    answerable: bool
    group: str  # items of one group always share a fold
    small_talk: bool  # answered with the scope reply, whatever the model
    values: np.ndarray  # of the part the SQuAD prior finds most answerable (for fitting)
    parts: tuple[tuple[np.ndarray, bool], ...]  # each part's values and "names the unknown"
    fixed: bool | None  # a decision the model does not make (latest news), else None
    correct: dict[float, bool]  # answered correctly when answered, by gap


def _groups(items: Sequence[EvalItem]) -> list[str]:
    """A group per item: items that share a conversation (the first turn of their history)
    or a topic (one question asked in three languages) are joined (union-find)."""
    keys = [
        (["conversation:" + item.history[0].content] if item.history else [])
        + (["topic:" + item.topic] if item.topic else [])
        for item in items
    ]
    return [items[root].id for root in linked(keys)]


def _open(scorer: Scorer) -> Scorer:
    """The scorer with refusal switched off (threshold below any probability)."""
    prior = scorer.prior or scorer.answerable
    names = (*ALL_SET_FEATURES, PRIOR_FEATURE)
    # Until the tune model exists, answerability is the prior's (weight 1 on its logit).
    passthrough = Linear(
        names, np.zeros(len(names)), np.ones(len(names)), np.eye(len(names))[-1], 0.0
    )
    return replace(scorer, threshold=-1.0, prior=prior, answerable=passthrough, floor=None)


def tune_rows(
    answerer: Answerer, scorer: Scorer, items: Sequence[EvalItem], gaps: Sequence[float] = GAPS
) -> list[TuneRow]:
    """Every tune item's answerability inputs and, for each gap, whether its answer is correct
    when the model lets it through."""
    opened = _open(scorer)
    groups = _groups(items)
    rows: list[TuneRow] = []
    for n, (item, group) in enumerate(zip(items, groups, strict=True)):
        print(f"\r{n + 1}/{len(items)}", end="", file=sys.stderr, flush=True)
        reading = Reading.of(item.question)
        query = standalone_question(item.question, item.history)
        talk = is_small_talk(
            reading, answerer._known, follow_up=query != item.question, tagger=claims.word_tags
        )
        correct: dict[float, bool] = {}
        for gap in gaps:
            answerer.scorer = replace(opened, gap=gap)
            final = list(answerer.stream(item.question, item.history))[-1]
            good = isinstance(final, AnswerEvent) and is_correct(final.answer, item)
            correct[gap] = item.answerable and good
        answerer.scorer = opened
        width = len((*ALL_SET_FEATURES, PRIOR_FEATURE))
        if talk:
            rows.append(
                TuneRow(item.id, item.answerable, group, True, np.zeros(width), (), True, correct)
            )
            continue
        selection = answerer._select(item.question, query, reading, item.history)
        fixed = None if selection.part_values else selection.answerable
        values = selection.set_values if selection.set_values is not None else np.zeros(width)
        rows.append(
            TuneRow(
                item.id,
                item.answerable,
                group,
                False,
                values,
                selection.part_values,
                fixed,
                correct,
            )
        )
    print(file=sys.stderr)
    answerer.scorer = scorer
    return rows


# --- fitting --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fitted:
    """An answerability model with its decision: threshold and floor (prior logit)."""

    model: Linear
    threshold: float
    floor: float
    c: float


def _columns(features: Sequence[str]) -> list[int]:
    names = (*ALL_SET_FEATURES, PRIOR_FEATURE)
    return [names.index(f) for f in features]


def _matrix(rows: Sequence[TuneRow], features: Sequence[str]) -> np.ndarray:
    return np.vstack([r.values for r in rows])[:, _columns(features)]


def _filled(x: np.ndarray) -> np.ndarray:
    """Missing values (NaN) replaced by their column's mean, which is what the fitted model
    reads a missing value as."""
    means = np.nanmean(np.where(np.isnan(x).all(axis=0), 0.0, x), axis=0)
    return np.where(np.isnan(x), means, x)


def _fit(x: np.ndarray, y: np.ndarray, features: Sequence[str], c: float, seed: int) -> Linear:
    return fit_linear(_filled(x), y, tuple(features), seed, c=c, signs=signs(features))


def _probabilities(model: Linear, x: np.ndarray) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-model.logits(x))))


def _folds(
    rows: Sequence[TuneRow], seed: int, n_splits: int = _FOLDS
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Stratified (answerable or not) folds over groups, shuffled by `seed`."""
    from sklearn.model_selection import StratifiedGroupKFold  # type: ignore[import-untyped]

    y = np.asarray([r.answerable for r in rows])
    groups = [r.group for r in rows]
    # No more folds than groups, nor than items of the rarer class (a tiny set in a test).
    splits = max(2, min(n_splits, len(set(groups)), int(y.sum()), int((~y).sum())))
    folds = StratifiedGroupKFold(n_splits=splits, shuffle=True, random_state=seed)
    return list(folds.split(np.zeros(len(rows)), y, groups))


def _log_loss(p: np.ndarray, y: np.ndarray) -> float:
    eps = 1e-9
    return float(-np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps)))


def fit(
    rows: Sequence[TuneRow],
    features: Sequence[str],
    *,
    gap: float,
    c: float | None = None,
    seed: int = _SEED,
) -> Fitted:
    """The model, its penalty (inner CV unless given), threshold and floor, from `rows` only."""
    fitted = [r for r in rows if not r.small_talk and r.fixed is None]
    x = _matrix(fitted, features)
    y = np.asarray([float(r.answerable) for r in fitted])
    inner = _folds(fitted, seed)

    def out_of_fold(c_value: float) -> np.ndarray:
        probs = np.zeros(len(y))
        for train, test in inner:
            model = _fit(x[train], y[train], features, c_value, seed)
            probs[test] = _probabilities(model, x[test])
        return probs

    if c is None:
        losses = {c_value: _log_loss(out_of_fold(c_value), y) for c_value in C_GRID}
        c = min(losses, key=lambda k: (losses[k], k))
    probs = out_of_fold(c)
    threshold, _ = best_threshold(
        list(probs), [bool(v) for v in y], [r.correct[gap] for r in fitted]
    )
    # A margin below the least answerable-looking answerable item (in prior logits).
    prior = np.asarray([r.values[-1] for r in fitted])
    floor = float(prior[y == 1].min()) - _FLOOR_MARGIN
    return Fitted(_fit(x, y, features, c, seed), threshold, floor, c)


def answered(fitted: Fitted, row: TuneRow) -> bool:
    """Whether the assistant answers the item under this model (as `gather_evidence` and the
    answerer decide: any part above the threshold that names nothing unknown, above the
    floor)."""
    if row.small_talk:
        return True
    if row.fixed is not None:
        return row.fixed
    columns = _columns(fitted.model.features)
    # Without its own features for them, unknown names are declined by a rule (`evidence`).
    blocks = "names_unknown" not in fitted.model.features
    for values, unknown in row.parts:
        if (unknown and blocks) or values[-1] < fitted.floor:
            continue
        if _probabilities(fitted.model, values[None, columns])[0] >= fitted.threshold:
            return True
    return False


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


# --- cross-validated comparison -----------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """One pass over every item: the evaluation's three answerability measures."""

    refusal_accuracy: float
    false_refusals: float
    correct: float


def figures(decisions: Sequence[bool], rows: Sequence[TuneRow], gap: float) -> Figures:
    unanswerable = [not a for a, r in zip(decisions, rows, strict=True) if not r.answerable]
    answerable = [(a, r) for a, r in zip(decisions, rows, strict=True) if r.answerable]
    return Figures(
        refusal_accuracy=sum(unanswerable) / max(1, len(unanswerable)),
        false_refusals=sum(not a for a, _ in answerable) / max(1, len(answerable)),
        correct=sum(a and r.correct[gap] for a, r in answerable) / max(1, len(answerable)),
    )


def cross_validate(
    rows: Sequence[TuneRow],
    features: Sequence[str],
    *,
    gap: float,
    c: float | None,
    repeats: int = _REPEATS,
) -> list[Figures]:
    """Repeated grouped, stratified k-fold over the tune items: each repeat decides every item
    once, by a model (penalty and threshold included) fitted without its fold."""
    out: list[Figures] = []
    for repeat in range(repeats):
        decisions = [False] * len(rows)
        for train, test in _folds(rows, _SEED + 1000 * (repeat + 1)):
            fitted = fit([rows[i] for i in train], features, gap=gap, c=c, seed=_SEED + repeat)
            for i in test:
                decisions[i] = answered(fitted, rows[i])
        out.append(figures(decisions, rows, gap))
    return out


def summary(runs: Sequence[Figures]) -> dict[str, str]:
    """Mean ± standard deviation over repeats, in per cent."""
    result = {}
    for name in ("refusal_accuracy", "false_refusals", "correct"):
        values = np.asarray([getattr(f, name) for f in runs]) * 100
        result[name] = f"{values.mean():.1f} ± {values.std():.1f}"
    return result


def compare(
    rows: Sequence[TuneRow], gap: float, repeats: int = _REPEATS
) -> dict[str, dict[str, str]]:
    return {
        name: summary(cross_validate(rows, features, gap=gap, c=c, repeats=repeats))
        for name, (features, c) in MODELS.items()
    }


def calibrate(
    answerer: Answerer,
    scorer: Scorer,
    items: Sequence[EvalItem],
    gaps: Sequence[float] = GAPS,
    *,
    features: Sequence[str] = MODELS[CHOSEN][0],
    c: float | None = MODELS[CHOSEN][1],
    repeats: int = _REPEATS,
    rows: Sequence[TuneRow] | None = None,
) -> Scorer:
    """The scorer with its answerability model, threshold, floor and gap fitted on `items`
    (the penalty by inner CV when `c` is None)."""
    rows = list(rows) if rows is not None else tune_rows(answerer, scorer, items, gaps)
    results: list[dict[str, float]] = []
    for gap in gaps:
        fitted = fit(rows, features, gap=gap, c=c)
        runs = cross_validate(rows, features, gap=gap, c=fitted.c, repeats=repeats)
        handled = float(np.mean([_handled(f, rows) for f in runs]))
        results.append(
            {"gap": gap, "threshold": round(fitted.threshold, 4), "handled": round(handled, 4)}
        )
        print(json.dumps(results[-1]), file=sys.stderr)
    chosen = max(results, key=lambda r: (r["handled"], -r["gap"]))
    fitted = fit(rows, features, gap=chosen["gap"], c=c)
    cv = summary(cross_validate(rows, features, gap=chosen["gap"], c=c, repeats=repeats))
    meta = dict(scorer.meta)
    meta["calibrated_on"] = "eval/tune.jsonl"
    meta["calibration"] = results
    meta["answerability_c"] = fitted.c
    meta["tune_cross_validated"] = {"folds": _FOLDS, "repeats": repeats, **cv}
    meta.pop("tune_answerability_auc_cross_validated", None)
    return replace(
        scorer,
        prior=scorer.prior or scorer.answerable,
        floor=fitted.floor,
        answerable=fitted.model,
        threshold=fitted.threshold,
        gap=chosen["gap"],
        meta=meta,
    )


def _handled(f: Figures, rows: Sequence[TuneRow]) -> float:
    """Items handled right per item, from the three rates."""
    n_answerable = sum(r.answerable for r in rows)
    n_unanswerable = len(rows) - n_answerable
    return (f.correct * n_answerable + f.refusal_accuracy * n_unanswerable) / len(rows)


def main(argv: Sequence[str] | None = None) -> int:
    from assistant.config import Settings
    from assistant.evaluation.harness import temporary_store

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--weights", type=Path, help="default: the weights of the settings")
    parser.add_argument("--gaps", type=float, nargs="+", default=list(GAPS))
    parser.add_argument("--repeats", type=int, default=_REPEATS)
    parser.add_argument("--extra", type=Path, nargs="*", default=[Path("eval/news")])
    parser.add_argument("--model", choices=sorted(MODELS), default=CHOSEN)
    parser.add_argument(
        "--cv-only", action="store_true", help="compare the models by CV; write nothing"
    )
    args = parser.parse_args(argv)
    items = load_items(args.file)
    settings = Settings()
    weights = args.weights or weights_path(late=settings.index.late_chunking)
    scorer = load_scorer(weights)
    with temporary_store(settings, extra_dirs=[p for p in args.extra if p.is_dir()]) as store:
        resources = store.resources
        answerer = Answerer(
            resources.settings, resources.retriever, resources.embedder, None, scorer
        )
        rows = tune_rows(answerer, scorer, items, args.gaps)
    if args.cv_only:
        gap = scorer.gap if scorer.gap in args.gaps else args.gaps[-1]
        figures = compare(rows, gap, args.repeats)
        print(f"tune, {_FOLDS}-fold x {args.repeats}, grouped and stratified; gap {gap}")
        for name, result in figures.items():
            print(f"{name:14s} {json.dumps(result, ensure_ascii=False)}  ({DESCRIPTIONS[name]})")
        return 0
    features, c = MODELS[args.model]
    calibrated = calibrate(
        answerer, scorer, items, args.gaps, features=features, c=c, repeats=args.repeats, rows=rows
    )
    calibrated.save(weights)
    print(json.dumps(calibrated.meta["tune_cross_validated"], indent=1, ensure_ascii=False))
    c_used = calibrated.meta["answerability_c"]
    print(f"{args.model}: threshold {calibrated.threshold:.4f} gap {calibrated.gap} C {c_used}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
