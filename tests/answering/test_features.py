"""Candidate features: soft term coverage sees meaning at the word level, where plain
coverage sees only shared stems (real MiniLM word vectors); the fast term matcher answering
uses gives exactly `term_match`."""

import numpy as np

from assistant import loaders
from assistant.answering.evidence import VectorCache
from assistant.answering.features import (
    FEATURES,
    Candidate,
    _Matcher,
    candidate_features,
    near,
    surface_words,
    term_match,
)
from assistant.answering.questions import Reading
from assistant.text import split_sentences, terms
from tests.conftest import CORPUS


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


def _difflib_near(term: str, other: str) -> float:
    """`near` as it was before rapidfuzz bounded it: difflib on every pair."""
    import difflib

    if len(term) < 4 or len(other) < 4 or (term[0] != other[0] and term[-3:] != other[-3:]):
        return 0.0
    matcher = difflib.SequenceMatcher(None, term, other, autojunk=False)
    if abs(len(other) - len(term)) <= 2 and term[:2] == other[:2] and matcher.ratio() >= 0.8:
        return 0.8
    shorter = min(len(term), len(other))
    longest = matcher.find_longest_match(0, len(term), 0, len(other)).size
    return 0.7 if longest >= 5 and longest >= 0.75 * shorter else 0.0


def test_near_gives_what_difflib_alone_gave_on_the_corpus_vocabulary():
    documents, _ = loaders.load_corpus(CORPUS)
    vocabulary = sorted({t for doc in documents for t in terms(doc.text, compounds=False)})
    assert len(vocabulary) > 300, "the corpus should give a real vocabulary"
    found = {0.0: 0, 0.7: 0, 0.8: 0}
    for term in vocabulary[::3]:
        for other in vocabulary:
            want = _difflib_near(term, other)
            assert near(term, other) == want, f"near({term!r}, {other!r}) should be {want}"
            found[want] += 1
    assert found[0.7] and found[0.8], f"every outcome should occur, to mean much: {found}"


def _plain_surface_words(text: str) -> dict[str, str]:
    """`surface_words` as it was before its caches: every word stemmed on every call."""
    from assistant.text import STOPWORDS, words

    found: dict[str, str] = {}
    for word in words(text):
        if word in STOPWORDS:
            continue
        for term in terms(word, compounds=False):
            found.setdefault(term, word)
    return found


def _plain_soft_matches(q_words, sentences, word_vectors) -> np.ndarray:
    """`soft_matches` as it was before the shared matcher: `term_match` on every pool."""
    from assistant.answering.features import _SOFT_FLOOR

    out = np.zeros((len(sentences), len(q_words)))
    per_sentence = [_plain_surface_words(s) for s in sentences]
    vocabulary = sorted({w for sw in per_sentence for w in sw.values()} | set(q_words.values()))
    vectors = word_vectors(vocabulary)
    index = {w: i for i, w in enumerate(vocabulary)}
    q_terms = list(q_words)
    q_matrix = vectors[[index[q_words[t]] for t in q_terms]]
    for i, sw in enumerate(per_sentence):
        if not sw:
            continue
        cos = q_matrix @ vectors[[index[w] for w in sw.values()]].T
        best = np.clip((cos.max(axis=1) - _SOFT_FLOOR) / (1.0 - _SOFT_FLOOR), 0.0, 1.0)
        exact = np.asarray([term_match(t, set(sw)) for t in q_terms])
        out[i] = np.maximum(best, exact)
    return out


def test_soft_matches_equal_the_plain_implementation_on_the_corpus(embedder):
    from assistant.answering.features import soft_matches

    documents, _ = loaders.load_corpus(CORPUS)
    sentences = [span.text for doc in documents for span in split_sentences(doc.text)]
    assert len(sentences) > 50, "the corpus should give many real sentences"
    for text in sentences:
        assert surface_words(text) == _plain_surface_words(text), f"surface words of {text!r}"
        assert surface_words(text) == _plain_surface_words(text), "and again, from the cache"
    vectors = VectorCache(embedder.embed)
    # Exact stems, typos and variants ('reserch', 'center'), containment, words found nowhere.
    for question in (
        "What research does the centre support at the university?",
        "Which reserch center partners signed memoranda with supercomputing labs?",
        "How many students volunteer in clinical trials?",
        "Who founded the zzzz foundation?",
    ):
        q_words = surface_words(question)
        got = soft_matches(q_words, sentences, vectors)
        want = _plain_soft_matches(q_words, sentences, vectors)
        assert np.array_equal(got, want), f"{question!r}: soft matches must not change"
