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


def test_a_cyrillic_questions_sentences_are_ranked_with_the_encoders_cosines(
    crosslingual_retriever, scorer
):
    """Sentence choice for a Cyrillic question uses the encoder's cosines as its similarity
    features (transliterated terms alone rarely meet an English sentence)."""
    from assistant.answering.evidence import VectorCache, gather_evidence
    from assistant.answering.features import FEATURES
    from assistant.answering.questions import Reading
    from assistant.answering.scorer import load_scorer

    question = "В каком городе прошло юбилейное заседание совета ассоциации?"
    hits = crosslingual_retriever.retrieve(question, k=10)
    scored = gather_evidence(
        Reading.of(question),
        question,
        hits,
        vectors=VectorCache.of(crosslingual_retriever.embedder),
        idf=crosslingual_retriever.lexical_index().idf,
        scorer=load_scorer(),
        crosslingual=scorer.similarities,
    )
    assert scored.rows is not None and scored.rows[:, FEATURES.index("similarity")].any(), (
        "the encoder's cosines should fill the similarity feature"
    )
    top = [e.text for e in scored.evidence[:3]]
    assert any("Guangzhou" in t for t in top), f"the sentence naming the city: {top}"
