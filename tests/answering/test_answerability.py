"""Answerability signals and their calibration, on a small invented corpus indexed for real
(real embedding model, real embedded Chroma, spaCy's real parse and entities). The questions
and documents are invented for the test; none occurs in a question set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.answering import calibrate
from assistant.answering.answerability import expected_types, focus_words
from assistant.answering.answerer import Answerer
from assistant.answering.questions import Reading
from assistant.answering.scorer import Scorer, load_scorer
from assistant.evaluation.items import EvalItem
from assistant.types import ChatTurn
from tests.conftest import indexed_resources, make_settings

_DOCUMENTS = {
    "news/ferry.txt": (
        "Lakeside Ferry Company opens a winter route",
        "The Lakeside Ferry Company started its first crossing in May 2001. "
        "Captain Mirela Dobos has commanded the flagship since 2015. "
        "The company runs four boats between Northport and the island of Vell. "
        "A single crossing takes forty minutes in calm weather. "
        "This winter the company opens a second route to the harbour of Osk.",
    ),
    "news/museum.txt": (
        "Harbour museum restores an old lighthouse lens",
        "The Northport Harbour Museum was founded in 1968 by the fishing cooperative. "
        "Its curator, Tomas Lindqvist, restored a lighthouse lens made in Paris in 1893. "
        "The museum holds 3,200 objects about fishing and shipbuilding. "
        "Visitors can see the lens in the east gallery from June onwards.",
    ),
    "news/garden.txt": (
        "Island garden wins a regional prize",
        "The botanical garden on Vell won the regional landscape prize in 2022. "
        "Its glasshouses keep 140 species of ferns from the northern coasts. "
        "Volunteers from the Northport school plant a new bed every spring.",
    ),
}


def _write_corpus(folder: Path) -> None:
    for path, (title, text) in _DOCUMENTS.items():
        target = folder / path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f"---\ntitle: '{title}'\nkind: news\n---\n{text}\n", encoding="utf-8")


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory, embedder: Any) -> Any:
    base = tmp_path_factory.mktemp("answerability")
    settings = make_settings(base)
    _write_corpus(settings.paths.corpus_dir)
    return indexed_resources(settings, embedder)


def _open_answerer(res: Any) -> tuple[Answerer, Scorer]:
    """An answerer whose scorer computes every answerability signal and refuses nothing."""
    scorer = load_scorer()
    answerer = Answerer(res.settings, res.retriever, res.embedder, None, calibrate._open(scorer))
    return answerer, scorer


def _signals(answerer: Answerer, question: str) -> dict[str, float]:
    reading = Reading.of(question)
    selection = answerer._select(question, question, reading, ())
    assert selection.part_values, f"no candidates were scored for {question!r}"
    values = selection.part_values[0][0]
    return dict(zip(answerer.scorer.value_names, values.tolist(), strict=True))


def test_focus_and_answer_type_come_from_the_parse():
    assert focus_words("Which museum bought the old lens?") == ("museum",)
    assert focus_words("What is the opening date of the bridge?") == ("opening", "date")
    assert focus_words("How many boats does the company run?") == ("boats",)
    assert focus_words("Why?") == (), "a question without a noun has no focus"
    assert "PERSON" in expected_types(Reading.of("Who restored the lens?"))
    assert "DATE" in expected_types(Reading.of("When did the route open?"))
    assert "CARDINAL" in expected_types(Reading.of("How many species grow there?"))
    assert "GPE" in expected_types(Reading.of("Where was the lens made?"))
    assert not expected_types(Reading.of("What does the garden grow?")), (
        "'what' fixes no entity type"
    )
    assert "DATE" in expected_types(Reading.of("Когда открылся музей?")), (
        "a Russian question's type comes from the kind it asks for"
    )


def test_the_answer_type_is_looked_for_in_the_best_evidence(small):
    answerer, _ = _open_answerer(small)
    answered = _signals(answerer, "Who restored the lighthouse lens?")
    near_miss = _signals(answerer, "Who waters the ferns in the glasshouses?")
    assert answered["type_missing"] == 0.0, f"a person restored the lens: {answered}"
    assert near_miss["type_missing"] == 1.0, (
        f"no one is named in the sentence about the ferns: {near_miss}"
    )
    assert 0.0 <= near_miss["type_scarce"] <= 1.0, "the share of the best sentences without one"


def test_word_match_finds_the_question_words_and_misses_the_absent_one(small):
    answerer, _ = _open_answerer(small)
    answered = _signals(answerer, "How long does a single ferry crossing take?")
    near_miss = _signals(answerer, "How much does a single ferry ticket cost?")
    assert answered["window_coverage"] > near_miss["window_coverage"], (answered, near_miss)
    assert answered["window_weakest"] > near_miss["window_weakest"], (
        f"'ticket' and 'cost' are matched nowhere: {near_miss}"
    )
    for name in ("window_coverage", "window_rarest", "window_weakest", "weakest_anywhere"):
        assert 0.0 <= answered[name] <= 1.0, f"{name} is a share: {answered[name]}"


def test_similar_words_count_as_a_partial_match(small):
    """'vessels' is not 'boats', but single-word vectors see them as near; a word unrelated to
    every source word gets nothing."""
    answerer, _ = _open_answerer(small)
    synonym = _signals(answerer, "How many vessels does the Lakeside Ferry Company run?")
    unrelated = _signals(answerer, "How many trumpets does the Lakeside Ferry Company run?")
    assert synonym["window_weakest"] > unrelated["window_weakest"], (synonym, unrelated)


def test_names_the_sources_never_use_are_a_signal(small):
    answerer, _ = _open_answerer(small)
    unknown = _signals(answerer, "When did Zanzibar join the Lakeside Ferry Company?")
    known = _signals(answerer, "When did the Lakeside Ferry Company start?")
    assert unknown["names_unknown"] > 0.0 and known["names_unknown"] == 0.0, (unknown, known)


def test_rank_agreement_is_a_share(small):
    answerer, _ = _open_answerer(small)
    values = _signals(answerer, "When was the Northport Harbour Museum founded?")
    for name in ("similarity_rank_of_best", "coverage_rank_of_best"):
        assert 0.0 < values[name] <= 1.0, f"{name}: {values[name]}"
    assert values["coverage_rank_of_best"] == 1.0, (
        f"the founding sentence both ranks best and covers the question best: {values}"
    )


_ITEMS = [
    ("When did the Lakeside Ferry Company start its first crossing?", ("2001",), True),
    ("Who has commanded the ferry flagship since 2015?", ("Dobos",), True),
    ("How many boats does the ferry company run?", ("four",), True),
    ("How long does a single crossing take?", ("forty",), True),
    ("Where does the new winter route go?", ("Osk",), True),
    ("When was the harbour museum founded?", ("1968",), True),
    ("Who is the curator of the harbour museum?", ("Lindqvist",), True),
    ("Where was the lighthouse lens made?", ("Paris",), True),
    ("How many objects does the museum hold?", ("3,200",), True),
    ("Which prize did the botanical garden win?", ("landscape",), True),
    ("How many fern species do the glasshouses keep?", ("140",), True),
    ("How much does a ferry ticket cost?", (), False),
    ("Who founded the botanical garden?", (), False),
    ("What are the museum's opening hours?", (), False),
    ("How many passengers did the ferry carry last year?", (), False),
    ("Who designed the garden glasshouses?", (), False),
    ("What is the phone number of the ferry company?", (), False),
]


def _items() -> list[EvalItem]:
    items = []
    for n, (question, must, answerable) in enumerate(_ITEMS):
        items.append(
            EvalItem(
                id=f"t{n}",
                kind="factoid" if answerable else "unanswerable",
                question=question,
                answer="-",
                answerable=answerable,
                must=(must,) if must else (),
                topic=None if answerable else f"topic{n}",
            )
        )
    # A follow-up of the first question's conversation: the two share a fold.
    items.append(
        EvalItem(
            id="t-follow",
            kind="follow_up",
            question="How many boats does it run?",
            history=(
                ChatTurn(role="user", content=_ITEMS[0][0]),
                ChatTurn(role="assistant", content="It started in May 2001 [1]."),
            ),
            answer="-",
            must=(("four",),),
        )
    )
    return items


def test_conversations_and_topics_stay_in_one_fold():
    items = _items()
    items.append(items[0].model_copy(update={"id": "t-dup-conv", "history": items[-1].history}))
    groups = calibrate._groups(items)
    assert groups[-1] == groups[-2], "two turns of one conversation are one group"
    assert len(set(groups)) == len(items) - 1, groups


def test_calibration_is_reproducible(small):
    answerer, scorer = _open_answerer(small)
    rows = calibrate.tune_rows(answerer, scorer, _items(), gaps=(1.0,))
    assert [r.answerable for r in rows] == [i.answerable for i in _items()]
    first = calibrate.fit(rows, calibrate.WITH_SIGNALS, gap=1.0, seed=3)
    again = calibrate.fit(rows, calibrate.WITH_SIGNALS, gap=1.0, seed=3)
    np.testing.assert_array_equal(first.model.coef, again.model.coef)
    assert (first.threshold, first.floor, first.c) == (again.threshold, again.floor, again.c)
    assert first.c in calibrate.C_GRID, first.c
    runs = calibrate.cross_validate(rows, calibrate.WITH_SIGNALS, gap=1.0, c=None, repeats=2)
    assert runs == calibrate.cross_validate(
        rows, calibrate.WITH_SIGNALS, gap=1.0, c=None, repeats=2
    ), "the same seeds give the same folds and the same figures"
    for f in runs:
        for value in (f.refusal_accuracy, f.false_refusals, f.correct):
            assert 0.0 <= value <= 1.0, f
    calibrated = calibrate.calibrate(
        answerer,
        scorer,
        _items(),
        gaps=(1.0,),
        features=calibrate.WITH_SIGNALS,
        repeats=1,
        rows=rows,
    )
    assert calibrated.answerable.features == calibrate.WITH_SIGNALS
    assert calibrated.meta["tune_cross_validated"]["repeats"] == 1, calibrated.meta
