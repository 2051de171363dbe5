"""Comparisons of two reports: which documents a question names, and each report searched on
its own, shown side by side (issue 7, section 3), on a small real corpus in `tmp_path`."""

import pytest

from assistant import service
from assistant.answering.questions import Reading
from assistant.answering.reports import Vocabulary, named_documents, reading_for
from assistant.types import Chunk
from tests.corpora import one_chunk

_FERRY_HERALD = """# Lakeside ferry line reopens

The Lakeside ferry line reopened on 3 May after two years of repairs.
The Herald counted 1,200 passengers on the first weekend.
The mayor said the new boats are quieter and use less fuel.
Tickets can be bought at the pier or online.
"""
_FERRY_GAZETTE = """# Ferry service returns to Lakeside

The ferry between the two Lakeside harbours is running again.
According to the Gazette, 950 passengers travelled during the opening weekend.
Local traders hope that visitors will return to the old harbour market.
The operator plans a night crossing in summer.
"""
_ORCHARD = """# Orchard festival announced

The orchard festival takes place in September in the hill villages.
Growers will show forty kinds of apples and pears.
"""


def _chunk(doc_id: str, title: str, text: str) -> Chunk:
    return one_chunk(text, doc_id=doc_id, title=title)


def _vocabulary() -> Vocabulary:
    return Vocabulary.of(
        [
            _chunk("news/herald-ferry.md", "Lakeside ferry line reopens", _FERRY_HERALD),
            _chunk("news/gazette-ferry.md", "Ferry service returns to Lakeside", _FERRY_GAZETTE),
            _chunk("news/orchard.md", "Orchard festival announced", _ORCHARD),
        ]
    )


def test_reports_are_named_by_names_and_file_names_not_by_shared_words():
    question = "How many passengers do the Herald and the Gazette reports give for the ferry?"
    named = named_documents(Reading.of(question), _vocabulary(), lambda t: 1.0)
    assert named[:2] == ["news/herald-ferry.md", "news/gazette-ferry.md"] or named[:2] == [
        "news/gazette-ferry.md",
        "news/herald-ferry.md",
    ], f"'Herald' and 'Gazette' each name one report, 'ferry' names none: {named}"
    single = named_documents(Reading.of("When does the ferry run?"), _vocabulary(), lambda t: 1.0)
    assert len(single) < 2, f"a word both reports use names neither: {single}"


def test_each_report_is_asked_without_the_other_reports_name():
    reading = Reading.of("How many passengers do the Herald and the Gazette reports give?")
    asked = reading_for(reading, "news/gazette-ferry.md", _vocabulary())
    assert "herald" not in asked.terms and "gazett" not in asked.terms, asked.terms
    assert "passeng" in asked.terms, f"what is asked about stays: {asked.terms}"


def test_a_part_of_the_question_that_names_the_other_report_is_that_reports_question():
    reading = Reading.of(
        "What is said about fuel in the Herald report and about the market in the Gazette?"
    )
    herald = reading_for(reading, "news/herald-ferry.md", _vocabulary(), ["news/gazette-ferry.md"])
    gazette = reading_for(reading, "news/gazette-ferry.md", _vocabulary(), ["news/herald-ferry.md"])
    assert "fuel" in herald.terms and "market" not in herald.terms, herald.terms
    assert "market" in gazette.terms, gazette.terms
    assert "fuel" in gazette.terms, (
        f"the question's head, before the first report is named, is asked of both: {gazette.terms}"
    )


@pytest.fixture(scope="module")
def ferry_resources(tmp_path_factory, embedder):
    from tests.conftest import indexed_resources, make_settings

    base = tmp_path_factory.mktemp("ferry")
    news = base / "corpus" / "news"
    news.mkdir(parents=True)
    (news / "herald-ferry.md").write_text(_FERRY_HERALD, encoding="utf-8")
    (news / "gazette-ferry.md").write_text(_FERRY_GAZETTE, encoding="utf-8")
    (news / "orchard.md").write_text(_ORCHARD, encoding="utf-8")
    return indexed_resources(make_settings(base), embedder)


def test_a_comparison_shows_each_report_with_its_own_citation(ferry_resources):
    answer = service.ask(
        "How many passengers travelled on the opening weekend according to the Herald and "
        "according to the Gazette?",
        resources=ferry_resources,
    )
    assert not answer.refused, answer.text
    sources = {c.source for c in answer.citations}
    assert {"news/herald-ferry.md", "news/gazette-ferry.md"} <= sources, (
        f"both reports are cited: {answer.text}"
    )
    assert "1,200" in answer.text and "950" in answer.text, (
        f"each report's own figure is shown: {answer.text}"
    )
    assert answer.sentences[0].origin == "assistant" and "differ" in answer.sentences[0].text, (
        f"different figures are said to differ, plainly: {answer.text}"
    )
