"""Fitted weights that turn candidate features into scores, applied with numpy alone.

Two small logistic models, fitted by `assistant.answering.training` on SQuAD 1.1 and stored as
JSON next to this module (`scorer_weights.json`, reproducible from its seed):

- the *ranker* scores each candidate sentence: does it hold the answer? It comes in two
  variants, "full" and "lexical" (no embedding features, for questions the English
  embedding model cannot read);
- the *answerability* model scores the best candidates as a set: do the sources answer at
  all? Its decision threshold is calibrated on `eval/tune.jsonl`.

scikit-learn is needed to fit them, never to apply them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from assistant.answering.answerability import ANSWERABILITY_FEATURES
from assistant.answering.features import FEATURES, SIMILARITY_FEATURES
from assistant.errors import AssistantError

WEIGHTS_PATH = Path(__file__).with_name("scorer_weights.json")
# Fitted on sentence vectors pooled from their chunk's pass (ASSISTANT_INDEX_LATE_CHUNKING).
LATE_WEIGHTS_PATH = Path(__file__).with_name("scorer_weights_late.json")


def weights_path(*, late: bool) -> Path:
    """The weights fitted on the sentence vectors the indexer makes with this setting."""
    return LATE_WEIGHTS_PATH if late else WEIGHTS_PATH


SET_FEATURES: tuple[str, ...] = (
    "top_score",
    "margin",
    "top_similarity",
    "top_coverage",
    "top_title_coverage",
    "top_neighbour_coverage",
    "top_rarest_found",
    "top_names_found",
    "top_numbers_found",
    "kind_missing",
    "max_similarity",
    "max_coverage",
    "max_neighbour_coverage",
    "kind_found_near_top",
    "rarest_anywhere",
)
PRIOR_FEATURE = "squad_answerability"
# Everything the tune-fitted answerability model may use (its own `features` say which).
ALL_SET_FEATURES: tuple[str, ...] = (*SET_FEATURES, *ANSWERABILITY_FEATURES)
_TOP_FEATURES = {
    "top_similarity": "similarity",
    "top_coverage": "coverage",
    "top_title_coverage": "title_coverage",
    "top_neighbour_coverage": "neighbour_coverage",
    "top_rarest_found": "rarest_found",
    "top_names_found": "names_found",
    "top_numbers_found": "numbers_found",
}
_NEAR_TOP = 3


@dataclass(frozen=True)
class Linear:
    """A standardised logistic model: sigmoid(((x - mean) / scale) . coef + intercept)."""

    features: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float

    @classmethod
    def from_dict(cls, data: dict[str, object]) -> Linear:
        features = tuple(str(f) for f in data["features"])  # type: ignore[attr-defined]
        mean, scale, coef = (
            np.asarray(data[k], dtype=np.float64) for k in ("mean", "scale", "coef")
        )
        if any(a.shape != (len(features),) for a in (mean, scale, coef)):
            raise ValueError("weights do not match their feature list")
        return cls(features, mean, scale, coef, float(data["intercept"]))  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, object]:
        return {
            "features": list(self.features),
            "mean": [round(float(v), 6) for v in self.mean],
            "scale": [round(float(v), 6) for v in self.scale],
            "coef": [round(float(v), 6) for v in self.coef],
            "intercept": round(self.intercept, 6),
        }

    def logits(self, rows: np.ndarray) -> np.ndarray:
        """Logits of `rows`; a missing value (NaN) counts as the training mean."""
        z = np.nan_to_num((rows - self.mean) / self.scale, nan=0.0)
        return np.asarray(z @ self.coef + self.intercept)


@dataclass(frozen=True)
class Scorer:
    """The fitted ranker and answerability models, with the calibrated threshold."""

    full: Linear
    lexical: Linear
    answerable: Linear
    threshold: float
    meta: dict[str, object]
    # How far (in ranker logits) below the best sentence another may be and still be quoted.
    gap: float = 1.0
    # The answerability model fitted on SQuAD, when `answerable` is the one fitted on the tune
    # split on top of it: its logit is then the tune model's last feature (`PRIOR_FEATURE`).
    prior: Linear | None = None
    # Below this prior logit nothing retrieved is about the question at all (the weather on
    # Mars): declined whatever the tune model says, which never saw such questions. Set by
    # `calibrate` below every answerable tune item's prior logit.
    floor: float | None = None

    def rank_scores(self, rows: np.ndarray, *, with_similarity: bool = True) -> np.ndarray:
        """A logit per candidate row (rows follow `features.FEATURES`)."""
        model = self.full if with_similarity else self.lexical
        columns = [FEATURES.index(f) for f in model.features]
        return model.logits(rows[:, columns])

    def set_values(
        self,
        rows: np.ndarray,
        scores: np.ndarray,
        *,
        with_similarity: bool = True,
        extra: np.ndarray | None = None,
    ) -> np.ndarray:
        """The answerability inputs of a candidate set: `SET_FEATURES`, then
        `ANSWERABILITY_FEATURES` (`extra`, NaN when not given), then the prior's logit when
        there is a prior (`value_names` lists them). Without similarity (a question in
        another script) the similarity features take their training mean, so they neither
        raise nor lower the verdict."""
        values = set_features(rows, scores)
        base = self.prior or self.answerable
        if not with_similarity:
            for i, name in enumerate(SET_FEATURES):
                if "similarity" in name and name in base.features:
                    values[i] = base.mean[base.features.index(name)]
        more = extra if extra is not None else np.full(len(ANSWERABILITY_FEATURES), np.nan)
        prior = self.prior.logits(values[None, :])[0] if self.prior is not None else None
        values = np.concatenate([values, more])
        if prior is not None:
            values = np.append(values, prior)
        return values

    @property
    def value_names(self) -> tuple[str, ...]:
        """The names of `set_values`' entries, in order."""
        return (*ALL_SET_FEATURES, PRIOR_FEATURE) if self.prior is not None else ALL_SET_FEATURES

    def answerability(
        self, rows: np.ndarray, scores: np.ndarray, *, with_similarity: bool = True
    ) -> float:
        """Probability that the best candidates answer the question."""
        return self.answerability_of(self.set_values(rows, scores, with_similarity=with_similarity))

    def answerability_of(self, values: np.ndarray) -> float:
        if self.prior is not None and self.floor is not None and values[-1] < self.floor:
            return 0.0
        names = self.value_names
        columns = [names.index(f) for f in self.answerable.features]
        return _sigmoid(float(self.answerable.logits(values[None, columns])[0]))

    def to_dict(self) -> dict[str, object]:
        return {
            "ranker": {"full": self.full.to_dict(), "lexical": self.lexical.to_dict()},
            "answerable": self.answerable.to_dict(),
            **({"prior": self.prior.to_dict()} if self.prior is not None else {}),
            "threshold": round(self.threshold, 6),
            "gap": round(self.gap, 6),
            **({"floor": round(self.floor, 6)} if self.floor is not None else {}),
            "meta": self.meta,
        }

    def save(self, path: Path = WEIGHTS_PATH) -> None:
        path.write_text(json.dumps(self.to_dict(), indent=1) + "\n", encoding="utf-8")


def set_features(rows: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """`SET_FEATURES` of a candidate set: the best candidate's signals and the set's maxima."""
    if not len(rows):
        return np.zeros(len(SET_FEATURES))
    order = np.argsort(-scores)
    top = rows[order[0]]
    near = rows[order[:_NEAR_TOP]]
    col = {name: i for i, name in enumerate(FEATURES)}
    values = {
        "top_score": scores[order[0]],
        "margin": scores[order[0]] - scores[order[1]] if len(order) > 1 else 5.0,
        "kind_missing": top[col["kind_asked"]] - top[col["kind_found"]],
        "max_similarity": rows[:, col["similarity"]].max(),
        "max_coverage": rows[:, col["coverage"]].max(),
        "max_neighbour_coverage": rows[:, col["neighbour_coverage"]].max(),
        "kind_found_near_top": near[:, col["kind_found"]].max(),
        "rarest_anywhere": rows[:, col["rarest_found"]].max(),
    }
    values.update({name: top[col[f]] for name, f in _TOP_FEATURES.items()})
    return np.asarray([values[name] for name in SET_FEATURES], dtype=np.float64)


def _sigmoid(x: float) -> float:
    return float(1.0 / (1.0 + np.exp(-x)))


def lexical_features() -> tuple[str, ...]:
    return tuple(f for f in FEATURES if f not in SIMILARITY_FEATURES)


def from_dict(data: dict[str, object]) -> Scorer:
    ranker = data["ranker"]
    assert isinstance(ranker, dict)
    return Scorer(
        full=Linear.from_dict(ranker["full"]),
        lexical=Linear.from_dict(ranker["lexical"]),
        answerable=Linear.from_dict(data["answerable"]),  # type: ignore[arg-type]
        threshold=float(data["threshold"]),  # type: ignore[arg-type]
        meta=dict(data.get("meta", {})),  # type: ignore[call-overload]
        gap=float(data.get("gap", 1.0)),  # type: ignore[arg-type]
        prior=Linear.from_dict(data["prior"]) if "prior" in data else None,  # type: ignore[arg-type]
        floor=float(data["floor"]) if "floor" in data else None,  # type: ignore[arg-type]
    )


@lru_cache(maxsize=4)
def load_scorer(path: Path = WEIGHTS_PATH) -> Scorer:
    """The committed weights (read once per process)."""
    try:
        return from_dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, KeyError, TypeError, AssertionError) as error:
        raise AssistantError(
            f"cannot load the answer scorer's weights from {path}: {error}; "
            "re-create them with `python -m assistant.answering.training`"
        ) from error
