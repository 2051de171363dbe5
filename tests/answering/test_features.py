"""Candidate features: soft term coverage sees meaning at the word level, where plain
coverage sees only shared stems (real MiniLM word vectors)."""

import numpy as np

from assistant.answering.evidence import VectorCache
from assistant.answering.features import FEATURES, Candidate, candidate_features, surface_words
from assistant.answering.questions import Reading


def _rows(embedder, question: str, sentences: list[str], *, with_words: bool = True):
    cands = [Candidate(text=s, title="A report") for s in sentences]
    zeros = np.zeros(len(cands))
    return candidate_features(
        Reading.of(question),
        cands,
        similarities=zeros,
        title_similarities=zeros,
        idf=lambda t: 1.0,
        word_vectors=VectorCache(embedder.embed) if with_words else None,
    )


def test_soft_coverage_matches_synonyms_that_share_no_stem(embedder):
    rows = _rows(
        embedder,
        "How many clinics joined the trial?",
        ["Three hospitals take part in the pilot.", "The weather stayed dry all week."],
    )
    cov, soft = FEATURES.index("coverage"), FEATURES.index("soft_coverage")
    assert rows[0, cov] == rows[1, cov] == 0.0, "no stem is shared with either sentence"
    assert rows[0, soft] > rows[1, soft] + 0.1, (
        f"'hospitals' is near 'clinics', the weather is not: {rows[:, soft]}"
    )
    gap = FEATURES.index("soft_coverage_gap")
    assert rows[0, gap] == 0.0 and rows[1, gap] < 0.0, "the gap is to the best candidate"


def test_soft_coverage_is_one_for_the_same_stem_and_plain_coverage_without_vectors(embedder):
    sentences = ["The clinic opened in May.", "Nothing related here at all."]
    rows = _rows(embedder, "When did the clinic open?", sentences)
    soft, cov = FEATURES.index("soft_coverage"), FEATURES.index("coverage")
    assert rows[0, soft] == 1.0, f"every term is in the sentence: {rows[0, soft]}"
    plain = _rows(embedder, "When did the clinic open?", sentences, with_words=False)
    assert np.array_equal(plain[:, soft], plain[:, cov]), "without vectors, soft is plain"


def test_surface_words_keep_the_written_form_of_each_term():
    assert surface_words("The hospitals were opened") == {"hospit": "hospitals", "open": "opened"}
