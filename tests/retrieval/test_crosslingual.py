"""Russian and Kyrgyz questions reach the English passage through the multilingual encoder.

The questions are written for these tests and occur in no question set.
"""

import pytest

from assistant.retrieval import HybridRetriever
from assistant.retrieval.crosslingual import CrossLingualScorer


@pytest.fixture(scope="session")
def scorer() -> CrossLingualScorer:
    """The real multilingual USE v3, loaded once."""
    return CrossLingualScorer(threads=2)


@pytest.fixture(scope="session")
def crosslingual_retriever(resources, scorer) -> HybridRetriever:
    return HybridRetriever(
        resources.store, resources.embedder, resources.settings.retrieval, scorer
    )


def test_scorer_ranks_english_passages_for_a_russian_question(scorer, resources):
    chunks = list(resources.retriever.lexical_index().chunks)
    ranked = scorer.rank("Сколько студентов и преподавателей участвовало в мероприятиях?", chunks)
    assert [c.chunk_id for c, _ in ranked] != [c.chunk_id for c in chunks], "nothing was ranked"
    top = " ".join(c.text for c, _ in ranked[:3])
    assert "25000 students and professors" in top, (
        f"the passage counting students and professors should rank in the top 3: {top[:300]}"
    )


@pytest.mark.parametrize(
    ("question", "passage"),
    [
        ("В каком городе прошло юбилейное заседание совета ассоциации?", "Guangzhou"),
        ("Кайсы шаарда ассоциациянын кеңешинин юбилейлик жыйыны өттү?", "Guangzhou"),
    ],
)
def test_cyrillic_question_retrieves_the_english_passage(crosslingual_retriever, question, passage):
    hits = crosslingual_retriever.retrieve(question, k=5)
    assert any(passage in h.chunk.text for h in hits), (
        f"{question!r} should retrieve the passage naming {passage!r}: "
        f"{[h.chunk.chunk_id for h in hits]}"
    )


def test_english_questions_are_ranked_as_before(crosslingual_retriever, resources):
    question = "Which city hosted the anniversary meeting of the council?"
    with_scorer = [h.chunk.chunk_id for h in crosslingual_retriever.retrieve(question, k=10)]
    without = [h.chunk.chunk_id for h in resources.retriever.retrieve(question, k=10)]
    assert with_scorer == without, "the multilingual encoder must not touch English questions"
