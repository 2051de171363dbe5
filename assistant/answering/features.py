"""Features of a candidate answer sentence, the same for SQuAD training and for this corpus.

Each candidate is described by general signals only: meaning similarity (MiniLM cosine),
IDF-weighted coverage of the question's terms (in the sentence, with its title, with its
neighbours), whether the question's rarest term is there, word-pair overlap, the question's
names and numbers, whether the sentence holds the *kind* of thing asked for (a date, a number,
a sum, a name, contact details, an expansion), position in the document, and the gap to the
best candidate. `scorer` combines them with fitted weights.
"""

from __future__ import annotations

import difflib
import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rapidfuzz.distance import LCSseq

from assistant.answering.questions import Asks, Reading
from assistant.text import STOPWORDS, numbers, terms, words

FEATURES: tuple[str, ...] = (
    "similarity",
    "similarity_gap",
    "title_similarity",
    "coverage",
    "coverage_gap",
    "title_coverage",
    "neighbour_coverage",
    "term_share",
    "rarest_found",
    "pair_share",
    "names_found",
    "numbers_found",
    "kind_asked",
    "kind_found",
    "new_name",
    "new_number",
    "first_sentence",
    "position",
    "length",
    "heading",
    "soft_coverage",
    "soft_coverage_gap",
)
# The features that need the English embedding model; a question in another script is scored
# without them (their weights are fitted separately, see `scorer`).
SIMILARITY_FEATURES = frozenset(
    {"similarity", "similarity_gap", "title_similarity", "soft_coverage", "soft_coverage_gap"}
)
# Vectors of single words (the same MiniLM, one word at a time), unit length.
WordVectors = Callable[[Sequence[str]], np.ndarray]
# Cosine between two single-word vectors below which they are unrelated (unrelated English
# words score about 0.2-0.35 with MiniLM; synonyms 0.5-0.9); the scale up to 1 above it.
_SOFT_FLOOR = 0.3

_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
DATE_RE = re.compile(
    rf"\b(1[5-9]\d\d|20\d\d)\b|\b({'|'.join(_MONTHS.split())})\b|\b\d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}}\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty "
    "fifty hundred hundreds thousand thousands million millions billion billions dozen dozens "
    "several twice half percent"
)
NUMBER_RE = re.compile(rf"\d|\b({'|'.join(_NUMBER_WORDS.split())})\b", re.IGNORECASE)
MONEY_RE = re.compile(
    r"[$€£¥₽₸]|\b(som|soms|usd|eur|euros?|dollars?|rubles?|roubles?|tenge|yuan|rmb|kgs|pounds?)\b",
    re.IGNORECASE,
)
CONTACT_RE = re.compile(
    r"[\w.+-]+@[\w-]+\.[\w.-]+|\+?\d[\d\s().-]{6,}\d|https?://|www\.|\b(tel|phone|e-?mail)\b",
    re.IGNORECASE,
)
NAME_RE = re.compile(r"(?<!^)(?<![.!?]\s)\b[A-Z][\w'’.-]+|\b[A-Z]{2,}\b")
_HEADING_END_RE = re.compile(r"[.!?;:…\"”»]$")
_MAX_HEADING_WORDS = 14


def acronym_expansion(acronym: str, text: str) -> str | None:
    """The spelled-out name an all-capitals acronym stands for in `text`, if it is there:
    a run of capitalised words whose initials spell it; small linking words ("of", "and")
    may stand between them or give a letter."""
    letters = acronym.upper()
    if len(letters) < 2 or not letters.isalpha():
        return None
    tokens = re.findall(r"[\w'-]+", text)

    def spell(i: int, at: int) -> int | None:
        if at == len(letters):
            return i - 1
        if i >= len(tokens):
            return None
        word = tokens[i]
        if word[0].upper() == letters[at] and (word[0].isupper() or word in _LINKING_WORDS):
            end = spell(i + 1, at + 1)
            if end is not None:
                return end
        if word in _LINKING_WORDS and at > 0:
            return spell(i + 1, at)
        return None

    for start, token in enumerate(tokens):
        if token[0] == letters[0] and token.upper() != letters:
            end = spell(start, 0)
            if end is not None:
                return " ".join(tokens[start : end + 1])
    return None


_LINKING_WORDS = frozenset({"of", "and", "for", "the", "de", "in", "on"})


@dataclass(frozen=True)
class Candidate:
    """A sentence that might answer, with what surrounds it."""

    text: str
    title: str = ""
    before: str = ""
    after: str = ""
    position: int = 0  # index of the sentence in its document (0 = the opening)


def holds_kind(sentence: str, reading: Reading, question_words: set[str]) -> bool:
    """Whether a sentence holds the kind of thing asked for (a date for "when", ...)."""
    asks = reading.asks
    if asks is Asks.EXPANSION and reading.acronyms:
        return any(acronym_expansion(a, sentence) for a in reading.acronyms)
    if asks is Asks.DATE:
        return bool(DATE_RE.search(sentence))
    if asks is Asks.NUMBER:
        return bool(NUMBER_RE.search(sentence))
    if asks is Asks.MONEY:
        return bool(MONEY_RE.search(sentence)) and bool(re.search(r"\d", sentence))
    if asks is Asks.CONTACT:
        return bool(CONTACT_RE.search(sentence))
    if asks in (Asks.NAME, Asks.EXPANSION):
        return has_new_name(sentence, question_words)
    return True


def has_new_name(sentence: str, question_words: set[str]) -> bool:
    """A capitalised word (not opening the sentence) or acronym the question does not use."""
    return any(
        w not in question_words for m in NAME_RE.finditer(sentence) for w in words(m.group(0))
    )


def has_new_number(sentence: str, question_numbers: set[str]) -> bool:
    return bool(numbers(sentence) - question_numbers)


def is_heading(sentence: str) -> bool:
    """A short line with no closing punctuation: a heading, label or headline."""
    return len(words(sentence)) <= _MAX_HEADING_WORDS and not _HEADING_END_RE.search(sentence)


@lru_cache(maxsize=200_000)
def near(term: str, other: str) -> float:
    """How closely two different stems match by spelling: 0.8 for a typo or variant
    ('computr'/'comput', 'centre'/'center'), 0.7 when one holds most of the other
    ('comput'/'supercomput'), else 0."""
    if len(term) < 4 or len(other) < 4 or (term[0] != other[0] and term[-3:] != other[-3:]):
        return 0.0
    # The longest common subsequence (rapidfuzz, in C) bounds from above both what difflib's
    # matching blocks cover and the longest common substring: when it rules both scores out,
    # as it does for almost every pair, difflib (the slow part of a question) is not asked.
    common = LCSseq.similarity(term, other)
    shorter = min(len(term), len(other))
    typo = (
        abs(len(other) - len(term)) <= 2
        and term[:2] == other[:2]
        and 2.0 * common / (len(term) + len(other)) >= 0.8
    )
    contained = common >= 5 and common >= 0.75 * shorter
    if not (typo or contained):
        return 0.0
    matcher = difflib.SequenceMatcher(None, term, other, autojunk=False)
    if typo and matcher.ratio() >= 0.8:
        return 0.8
    longest = matcher.find_longest_match(0, len(term), 0, len(other)).size
    return 0.7 if longest >= 5 and longest >= 0.75 * shorter else 0.0


def term_match(term: str, pool: set[str]) -> float:
    """1 for an exact stem match, less for a near spelling (see `near`)."""
    if term in pool:
        return 1.0
    return max((near(term, other) for other in pool), default=0.0)


class _Matcher:
    """`term_match` for one question's terms over many pools, with the same results: each
    stem is compared with a term once (a pool shares most stems with the last), and a pool's
    near matches are found by set intersection rather than a Python loop over the pool."""

    def __init__(self, q_terms: Sequence[str]) -> None:
        self._seen: dict[str, set[str]] = {t: set() for t in q_terms}
        self._near: dict[str, dict[str, float]] = {t: {} for t in q_terms}

    def __call__(self, term: str, pool: set[str]) -> float:
        if term in pool:
            return 1.0
        seen, found = self._seen[term], self._near[term]
        for other in pool - seen:
            score = near(term, other)
            if score:
                found[other] = score
        seen |= pool
        return max((found[o] for o in found.keys() & pool), default=0.0)


def _coverage(
    q_terms: Sequence[str],
    weights: Sequence[float],
    pool: set[str],
    match: Callable[[str, set[str]], float] = term_match,
) -> float:
    """IDF-weighted share of the question's terms found in `pool`."""
    total = sum(weights)
    if not total:
        return 0.0
    return sum(w * match(t, pool) for t, w in zip(q_terms, weights, strict=True)) / total


def surface_words(text: str) -> dict[str, str]:
    """Each content term of `text` with the first word that carries it, as written
    (lower-cased): a word vector is of a word, a term is a stem."""
    return dict(_surface_pairs(text))


# Both are pure functions of their argument, asked again and again: the same retrieved
# sentences come back across questions, and words repeat across sentences (Zipf). Stemming
# each word of every candidate on every question was the larger part of soft coverage once
# its word vectors came from the corpus table.
@lru_cache(maxsize=16_384)
def _surface_pairs(text: str) -> tuple[tuple[str, str], ...]:
    found: dict[str, str] = {}
    for word in words(text):
        if word in STOPWORDS:
            continue
        for term in _word_terms(word):
            found.setdefault(term, word)
    return tuple(found.items())


@lru_cache(maxsize=100_000)
def _word_terms(word: str) -> tuple[str, ...]:
    return tuple(terms(word, compounds=False))


def soft_matches(
    q_words: dict[str, str], sentences: Sequence[str], word_vectors: WordVectors
) -> np.ndarray:
    """For each sentence, how closely each question term is matched by one of its words:
    1 for the same stem, else the best single-word cosine above `_SOFT_FLOOR`, rescaled to
    0..1. Sees meaning at the word level ("clinics" / "hospitals"), where coverage sees none.
    Rows are sentences, columns the question's terms in `q_words` order."""
    out = np.zeros((len(sentences), len(q_words)))
    if not q_words or not len(sentences):
        return out
    per_sentence = [surface_words(s) for s in sentences]
    vocabulary = sorted({w for sw in per_sentence for w in sw.values()} | set(q_words.values()))
    vectors = word_vectors(vocabulary)
    index = {w: i for i, w in enumerate(vocabulary)}
    q_terms = list(q_words)
    q_matrix = vectors[[index[q_words[t]] for t in q_terms]]
    match = _Matcher(q_terms)
    for i, sw in enumerate(per_sentence):
        if not sw:
            continue
        cos = q_matrix @ vectors[[index[w] for w in sw.values()]].T
        best = np.clip((cos.max(axis=1) - _SOFT_FLOOR) / (1.0 - _SOFT_FLOOR), 0.0, 1.0)
        pool = set(sw)
        exact = np.asarray([match(t, pool) for t in q_terms])
        out[i] = np.maximum(best, exact)
    return out


def _pairs(seq: Sequence[str]) -> set[tuple[str, str]]:
    return set(itertools.pairwise(seq))


def candidate_features(
    reading: Reading,
    candidates: Sequence[Candidate],
    *,
    similarities: np.ndarray,
    title_similarities: np.ndarray,
    idf: Callable[[str], float],
    word_vectors: WordVectors | None = None,
) -> np.ndarray:
    """One row of `FEATURES` per candidate (similarities are cosines with the question).
    Without `word_vectors` (a question the English model cannot read), soft coverage is
    plain coverage."""
    q_terms = list(reading.terms)
    weights = [idf(t) for t in q_terms]
    rarest = max(zip(weights, q_terms, strict=True))[1] if q_terms else None
    q_pairs = _pairs(q_terms)
    names = set(reading.names)
    q_numbers = set(reading.numbers)
    question_words = set(words(reading.question))
    typed = reading.asks is not Asks.ANY
    title_terms: dict[str, set[str]] = {}
    match = _Matcher(q_terms)
    # A sentence is read as a candidate and as its neighbours' neighbour: stem it once.
    stems: dict[str, set[str]] = {}

    def stems_of(text: str) -> set[str]:
        if text not in stems:
            stems[text] = set(terms(text))
        return stems[text]

    rows = np.zeros((len(candidates), len(FEATURES)), dtype=np.float64)
    coverages = np.zeros(len(candidates))
    sentence_terms: list[set[str]] = []
    for i, cand in enumerate(candidates):
        s_list = terms(cand.text, compounds=False)
        s_terms = set(s_list)
        sentence_terms.append(s_terms)
        if cand.title not in title_terms:
            title_terms[cand.title] = set(terms(cand.title, compounds=False))
        t_terms = s_terms | title_terms[cand.title]
        n_terms = t_terms | stems_of(cand.before) | stems_of(cand.after)
        cov = _coverage(q_terms, weights, s_terms, match)
        coverages[i] = cov
        n_words = len(words(cand.text))
        rows[i] = (
            similarities[i],
            0.0,
            title_similarities[i],
            cov,
            0.0,
            _coverage(q_terms, weights, t_terms, match),
            _coverage(q_terms, weights, n_terms, match),
            sum(t in s_terms for t in q_terms) / len(q_terms) if q_terms else 0.0,
            float(rarest is not None and rarest in t_terms),
            len(q_pairs & _pairs(s_list)) / len(q_pairs) if q_pairs else 0.0,
            sum(n in n_terms for n in names) / len(names) if names else 1.0,
            len(q_numbers & numbers(f"{cand.title} {cand.text}")) / len(q_numbers)
            if q_numbers
            else 1.0,
            float(typed),
            float(typed and holds_kind(cand.text, reading, question_words)),
            float(has_new_name(cand.text, question_words)),
            float(has_new_number(cand.text, q_numbers)),
            float(cand.position == 0),
            1.0 / (1.0 + cand.position),
            math.log1p(n_words) / 4.0,
            float(is_heading(cand.text)),
            cov,
            0.0,
        )
    soft = FEATURES.index("soft_coverage")
    q_words = {t: w for t, w in surface_words(reading.question).items() if t in q_terms}
    if word_vectors is not None and q_words and len(candidates) and sum(weights):
        matches = soft_matches(q_words, [c.text for c in candidates], word_vectors)
        # Terms no word of the question carries (a follow-up's topic, added by the reading)
        # count as in plain coverage.
        rest = [(t, w) for t, w in zip(q_terms, weights, strict=True) if t not in q_words]
        for i, s_terms in enumerate(sentence_terms):
            soft_sum = float(matches[i] @ np.asarray([idf(t) for t in q_words]))
            soft_sum += sum(w * match(t, s_terms) for t, w in rest)
            rows[i, soft] = soft_sum / sum(weights)
    if len(candidates):
        rows[:, 1] = similarities - similarities.max()
        rows[:, 4] = coverages - coverages.max()
        rows[:, soft + 1] = rows[:, soft] - rows[:, soft].max()
    return rows
