"""Candidate features: the fast term matcher answering uses gives exactly `term_match`."""

from __future__ import annotations

from assistant import loaders
from assistant.answering.features import _Matcher, term_match
from assistant.text import split_sentences, terms
from tests.conftest import CORPUS


def test_the_matcher_of_one_question_equals_term_match_on_every_pool():
    documents, _ = loaders.load_corpus(CORPUS)
    pools = [
        set(terms(span.text, compounds=False))
        for doc in documents
        for span in split_sentences(doc.text)
    ]
    # Stems that match exactly, by a typo or variant, by containment, and not at all.
    q_terms = ["centr", "center", "research", "reserch", "supercomput", "univers", "zzzz", "cpmr"]
    match = _Matcher(q_terms)
    near_hits = 0
    for pool in pools:
        for term in q_terms:
            want = term_match(term, pool)
            assert match(term, pool) == want, f"{term} over {sorted(pool)}: expected {want}"
            near_hits += 0.0 < want < 1.0
    assert near_hits, "the corpus should hold near (not exact) matches for the test to mean much"
