"""The answer scorer: features, the committed weights, applying them, and the training script
on a tiny SQuAD-format sample (real embedding model; the sample is invented for the test)."""

import json

import numpy as np
import pytest

from assistant.answering import training
from assistant.answering.features import FEATURES, Candidate, candidate_features, holds_kind
from assistant.answering.questions import Reading
from assistant.answering.scorer import SET_FEATURES, WEIGHTS_PATH, from_dict, load_scorer
from assistant.errors import AssistantError


def _rows(question: str, sentences: list[str], idf=lambda t: 1.0) -> np.ndarray:
    cands = [Candidate(text=s, title="Town notes", position=i) for i, s in enumerate(sentences)]
    zeros = np.zeros(len(cands))
    return candidate_features(
        Reading.of(question), cands, similarities=zeros, title_similarities=zeros, idf=idf
    )


def test_sentence_kinds():
    date = Reading.of("When did the ferry start?")
    number = Reading.of("How many ferries are there?")
    assert holds_kind("The ferry started in May 2001.", date, set())
    assert not holds_kind("The ferry is painted blue.", date, set())
    assert holds_kind("There are three ferries.", number, set())
    expansion = Reading.of("What does RFC stand for?")
    assert holds_kind("The Riverside Ferry Company (RFC) runs it.", expansion, set())
    assert not holds_kind("The RFC runs it.", expansion, set())


def test_features_cover_rare_terms_and_the_kind_asked_for():
    rarity = {"ferri": 1.0, "start": 1.0, "lighthous": 6.0}
    rows = _rows(
        "When did the lighthouse ferry start?",
        ["The ferry started in 2001.", "The lighthouse ferry started in 2001.", "Hello."],
        idf=lambda t: rarity.get(t, 2.0),
    )
    col = {name: i for i, name in enumerate(FEATURES)}
    assert rows.shape == (3, len(FEATURES))
    assert rows[1, col["coverage"]] > rows[0, col["coverage"]], rows[:, col["coverage"]]
    assert rows[1, col["rarest_found"]] == 1 and rows[0, col["rarest_found"]] == 0
    assert rows[0, col["kind_found"]] == 1 and rows[2, col["kind_found"]] == 0
    assert rows[1, col["coverage_gap"]] == 0 and rows[0, col["coverage_gap"]] < 0


def test_committed_weights_load_and_rank_the_covering_sentence_first():
    scorer = load_scorer()
    assert scorer.full.features == FEATURES
    assert scorer.answerable.features[: len(SET_FEATURES)] == SET_FEATURES
    assert 0.0 <= scorer.threshold <= 1.0, scorer.threshold
    rows = _rows(
        "When did the lighthouse ferry start?",
        ["Gulls nest on the roof.", "The lighthouse ferry started in 2001."],
    )
    scores = scorer.rank_scores(rows, with_similarity=False)
    assert scores[1] > scores[0], scores
    p = scorer.answerability(rows, scores, with_similarity=False)
    assert 0.0 < p < 1.0, p


def test_weights_round_trip_and_bad_files_fail_clearly(tmp_path):
    scorer = load_scorer()
    again = from_dict(json.loads(json.dumps(scorer.to_dict())))
    np.testing.assert_allclose(again.full.coef, scorer.full.coef, atol=1e-6)
    broken = tmp_path / "w.json"
    broken.write_text('{"ranker": {}}', encoding="utf-8")
    with pytest.raises(AssistantError, match="re-create them"):
        load_scorer(broken)
    assert WEIGHTS_PATH.exists()


def _tiny_squad(path):
    topics = ["river", "castle", "market", "garden", "tower", "bridge"]
    data = []
    for article in ("Northtown", "Southvale"):
        paragraphs = []
        for i, topic in enumerate(topics):
            year = 1900 + 10 * i + (article == "Southvale")
            context = (
                f"The {topic} of {article} is well known. "
                f"The {topic} was built in {year} by local masons. "
                f"Tourists like the {topic} in summer."
            )
            start = context.index(str(year))
            paragraphs.append(
                {
                    "context": context,
                    "qas": [
                        {
                            "question": f"When was the {topic} of {article} built?",
                            "answers": [{"answer_start": start, "text": str(year)}],
                        }
                    ],
                }
            )
        data.append({"title": article, "paragraphs": paragraphs})
    for name in ("train-v1.1.json", "dev-v1.1.json"):
        (path / name).write_text(json.dumps({"data": data}), encoding="utf-8")


def test_training_on_a_tiny_sample_is_reproducible(tmp_path, embedder):
    _tiny_squad(tmp_path)
    cache: dict[str, np.ndarray] = {}

    def embed(texts):
        missing = [t for t in texts if t not in cache]
        if missing:
            cache.update(zip(missing, np.asarray(embedder.embed(missing)), strict=True))
        return np.asarray([cache[t] for t in texts])

    runs = []
    for name in ("a.json", "b.json"):
        out = tmp_path / name
        training.train(
            questions=12,
            articles=2,
            dev_questions=12,
            seed=3,
            squad_dir=tmp_path,
            embed=embed,
            pool=training.pooler(embedder, late=True),
            out=out,
        )
        runs.append(json.loads(out.read_text(encoding="utf-8")))
    first, second = runs
    assert first["ranker"] == second["ranker"], "same seed, same weights"
    dev = first["meta"]["squad_dev"]
    assert dev["questions"] == 12 and dev["selection_accuracy"] >= 0.9, dev
    scorer = load_scorer(tmp_path / "a.json")
    assert scorer.full.features == FEATURES


def test_threshold_separates_answerable_from_unanswerable():
    from assistant.answering.calibrate import best_threshold

    probs = [0.9, 0.8, 0.7, 0.3, 0.2, 0.6]
    answerable = [True, True, True, False, False, False]
    correct = [True, True, False, False, False, False]
    threshold, utility = best_threshold(probs, answerable, correct)
    assert 0.6 < threshold < 0.7, threshold
    assert utility == 2 + 3, utility


def test_monotone_fit_keeps_the_signs_it_is_given():
    from assistant.answering.training import fit_linear

    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    # The second feature truly lowers the odds, the third is noise correlated with the first.
    x[:, 2] = x[:, 0] + rng.normal(scale=0.1, size=200)
    y = (x[:, 0] - x[:, 1] + rng.normal(scale=0.5, size=200) > 0).astype(float)
    model = fit_linear(x, y, ("a", "b", "c"), 0, signs=(1, 1, 1))
    assert (model.coef >= 0).all(), model.coef
    assert model.coef[1] == pytest.approx(0.0, abs=1e-6), "a harmful feature gets no weight"
    free = fit_linear(x, y, ("a", "b", "c"), 0)
    assert free.coef[1] < 0, free.coef
