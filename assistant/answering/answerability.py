"""Signals of answerability: does one place of the evidence hold everything the question asks?

Relevance is the easy half: a near-miss question ("What is the centre's phone number?") has its
topic all over the sources, so the best sentence is relevant and still does not answer. What
tells them apart is whether *every* word the question asks about is matched in one place, and
whether that place holds the kind of thing asked for. The features here describe the best
candidates (already ranked by the relevance ranker) as a set; `scorer` combines them with the
ranker's own set features in a small logistic model calibrated on the tune split
(`calibrate`).

- Word match: each content word of the question is matched against the words of a
  candidate's window (the sentence, its neighbours and its document title): 1 for the same
  stem, else the cosine of the two single words (MiniLM for an English question; the
  multilingual encoder for a Russian or Kyrgyz one, whose words meet the English sources only
  that way), rescaled above the level of unrelated words. Each word weighs by its IDF. From
  the best-covering window: the coverage, the match of the rarest word, the weakest match;
  over the windows: the weakest word's best match anywhere.
- Focus and answer type (English questions; spaCy's parse and entities): the question's
  focus noun ("which *university*", "the phone *number*", "how many *students*") must be
  matched near the top, and a question whose wh-word fixes an entity type ("who" -> a person
  or organisation, "when" -> a date, "how many" -> a number, "where" -> a place) needs an
  entity of that type, not already in the question, in the best sentences.
- Agreement: where the ranker's best sentence stands in the order of meaning similarity and
  in the order of term coverage; the two rankings agree on an answer more often than on a
  near miss.

Every value lies in [0, 1]; a value that cannot be had (no word vectors for the question's
script, no English parse) is NaN, which the model reads as its training mean.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from assistant.answering import claims
from assistant.answering.features import Candidate, WordVectors, surface_words, term_match
from assistant.answering.questions import Asks, Reading
from assistant.text import STOPWORDS, is_latin, terms, words

ANSWERABILITY_FEATURES: tuple[str, ...] = (
    "window_coverage",
    "window_rarest",
    "window_weakest",
    "weakest_anywhere",
    "focus_match",
    "type_missing",
    "type_scarce",
    "similarity_rank_of_best",
    "coverage_rank_of_best",
    "names_unknown",
    "rarest_unknown",
)
# Features that can only raise the verdict when larger (used as sign constraints when fitting).
NEGATIVE_FEATURES = frozenset({"type_missing", "type_scarce", "names_unknown", "rarest_unknown"})
# Cosine between two single words below which they are unrelated (MiniLM: unrelated English
# words score about 0.2-0.35; USE runs a little higher); the scale up to 1 above it.
_UNRELATED = {"minilm": 0.3, "multilingual": 0.4}
# The best candidates looked at as windows (word match) and for the answer type.
_WINDOWS = 8
# spaCy entity labels by the entity type a wh-word asks for. The keys are the closed class of
# English interrogatives (and "how many/much"), the values spaCy's own label set.
_PERSON_OR_BODY = frozenset({"PERSON", "ORG", "NORP"})
_PLACE = frozenset({"GPE", "LOC", "FAC", "ORG"})
_TIME = frozenset({"DATE", "TIME"})
_AMOUNT = frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"})
_WH_TYPES = {"who": _PERSON_OR_BODY, "whom": _PERSON_OR_BODY, "whose": _PERSON_OR_BODY}
_WH_TYPES |= {"when": _TIME, "where": _PLACE}
# The same from the kind of thing a question asks for (read in any of the three languages).
_ASKS_TYPES = {
    Asks.DATE: _TIME,
    Asks.NUMBER: _AMOUNT,
    Asks.MONEY: frozenset({"MONEY", "CARDINAL"}),
    Asks.NAME: _PERSON_OR_BODY | _PLACE,
}
_WH_WORDS = frozenset({"what", "which", "who", "whom", "whose", "when", "where", "how"})


def answerability_features(
    reading: Reading,
    candidates: Sequence[Candidate],
    scores: np.ndarray,
    similarities: np.ndarray,
    coverages: np.ndarray,
    *,
    idf: Callable[[str], float],
    word_vectors: WordVectors | None,
    multilingual: bool = False,
    known: Callable[[str], bool] | None = None,
) -> np.ndarray:
    """`ANSWERABILITY_FEATURES` of one question's candidates (in any order; `scores` are the
    ranker's logits, `similarities` and `coverages` the candidates' own). `known` tells
    whether the indexed sources use a term anywhere."""
    out = dict.fromkeys(ANSWERABILITY_FEATURES, np.nan)
    if known is not None:
        names = reading.names
        out["names_unknown"] = sum(not known(n) for n in names) / len(names) if names else 0.0
        rarest = reading.rarest(idf)
        out["rarest_unknown"] = float(rarest is not None and not known(rarest))
    if not len(candidates):
        return np.asarray([np.nan_to_num(v) for v in out.values()])
    order = np.argsort(-scores, kind="stable")
    best = int(order[0])
    out["similarity_rank_of_best"] = 1.0 / (1.0 + _rank_of(best, similarities))
    out["coverage_rank_of_best"] = 1.0 / (1.0 + _rank_of(best, coverages))
    top = [candidates[i] for i in order[:_WINDOWS]]
    matches, weights = _word_matches(reading, top, idf, word_vectors, multilingual=multilingual)
    if matches is not None and weights is not None:
        coverage = matches @ weights / weights.sum()
        # Best coverage first; among equals the ranker's order (np.argsort is stable).
        place = int(np.argsort(-coverage, kind="stable")[0])
        m = matches[place]
        out["window_coverage"] = float(coverage[place])
        out["window_rarest"] = float(m[int(np.argmax(weights))])
        out["window_weakest"] = float(m.min())
        out["weakest_anywhere"] = float(matches.max(axis=0).min())
    english = is_latin(reading.question) and reading.language == "en"
    if english:
        out["focus_match"] = _focus_match(reading.question, top[:1], word_vectors)
    # The sources are English: their entities are found whatever the question's language.
    wanted = expected_types(reading)
    missing = [_type_missing(reading.question, wanted, c.text, english=english) for c in top]
    out["type_missing"] = missing[0]
    out["type_scarce"] = float(np.mean(missing))
    return np.asarray([out[name] for name in ANSWERABILITY_FEATURES], dtype=np.float64)


def _rank_of(i: int, values: np.ndarray) -> int:
    """The place of candidate `i` when all are ordered by `values`, best first (ties shared)."""
    return int((values > values[i]).sum())


def _window_text(c: Candidate) -> str:
    return f"{c.title} {c.before} {c.text} {c.after}"


def _word_matches(
    reading: Reading,
    windows: Sequence[Candidate],
    idf: Callable[[str], float],
    word_vectors: WordVectors | None,
    *,
    multilingual: bool,
) -> tuple[np.ndarray, np.ndarray] | tuple[None, None]:
    """(windows x question words) best match of each question word in each window, and the
    words' weights (IDF). Terms that no word of the question carries (a follow-up's topic,
    added by the reading) are matched by stem alone."""
    q_surface = {t: w for t, w in surface_words(reading.question).items() if t in reading.terms}
    rest = [t for t in reading.terms if t not in q_surface]
    q_terms = [*q_surface, *rest]
    if not q_terms:
        return None, None
    if word_vectors is None and not is_latin(reading.question):
        return None, None  # no way to compare the words of another script with the sources
    weights = np.asarray([idf(t) for t in q_terms], dtype=np.float64)
    if not weights.sum():
        return None, None
    surfaces = [surface_words(_window_text(c)) for c in windows]
    matches = np.zeros((len(windows), len(q_terms)))
    for i, sw in enumerate(surfaces):
        stems = set(sw) | set(terms(_window_text(windows[i]), compounds=False))
        matches[i] = [term_match(t, stems) for t in q_terms]
    if word_vectors is not None and q_surface:
        vocabulary = sorted({w for sw in surfaces for w in sw.values()})
        if vocabulary:
            q_words = list(q_surface.values())
            vectors = word_vectors([*q_words, *vocabulary])
            cos = vectors[: len(q_words)] @ vectors[len(q_words) :].T
            floor = _UNRELATED["multilingual" if multilingual else "minilm"]
            soft = np.clip((cos - floor) / (1.0 - floor), 0.0, 1.0)
            index = {w: j for j, w in enumerate(vocabulary)}
            for i, sw in enumerate(surfaces):
                columns = [index[w] for w in set(sw.values())]
                if columns:
                    best = soft[:, columns].max(axis=1)
                    matches[i, : len(q_words)] = np.maximum(matches[i, : len(q_words)], best)
    return matches, weights


def focus_words(question: str) -> tuple[str, ...]:
    """The question's focus: the noun the wh-word asks about, with its compound modifiers,
    as lower-cased lemmas ("Which Kazakh university ..." -> kazakh, university; "What is the
    phone number of ..." -> phone, number; "How many students ..." -> students). Found from the
    dependency parse alone: the noun a wh-determiner or "how many" modifies; else the other
    nominal argument of a copula whose subject or attribute is the wh-word; else the first
    noun. Empty when the question has no noun."""
    doc = claims.analyse(question)
    nouns = [t for t in doc if t.pos_ in ("NOUN", "PROPN")]
    head = None
    for token in doc:
        word = token.lower_
        if word in ("which", "what", "whose") and token.dep_ in ("det", "poss"):
            head = token.head
        elif word == "how" and token.head.lower_ in ("many", "much") and token.head.head != token:
            head = token.head.head if token.head.head.pos_ in ("NOUN", "PROPN") else None
        elif word in _WH_WORDS and token.dep_ in ("attr", "nsubj", "nsubjpass"):
            others = [
                c
                for c in token.head.children
                if c is not token
                and c.dep_ in ("attr", "nsubj", "nsubjpass")
                and c.pos_ in ("NOUN", "PROPN")
            ]
            head = others[0] if others else None
        if head is not None and head.pos_ in ("NOUN", "PROPN"):
            break
        head = None
    if head is None:
        if not nouns:
            return ()
        head = nouns[0]
    parts = [
        c
        for c in head.children
        if c.dep_ in ("compound", "amod")
        and c.i < head.i
        and not any(w.lower_ in _WH_WORDS for w in c.subtree)
    ]
    return tuple(t.lower_ for t in [*parts, head] if t.lower_ not in STOPWORDS and t.is_alpha)


def _focus_match(
    question: str, near: Sequence[Candidate], word_vectors: WordVectors | None
) -> float:
    """The weakest focus word's best match in the best of the top candidates (the sentence
    and its document's title)."""
    focus = focus_words(question)
    if not focus:
        return 1.0
    best = 0.0
    for c in near:
        text = f"{c.title} {c.text}"
        stems = set(terms(text, compounds=False))
        scores = [term_match(s, stems) for w in focus for s in terms(w, compounds=False)[:1]]
        values = np.asarray(scores or [0.0])
        if word_vectors is not None:
            window = sorted({w for w in words(text) if w not in STOPWORDS})
            if window:
                vectors = word_vectors([*focus, *window])
                cos = vectors[: len(focus)] @ vectors[len(focus) :].T
                floor = _UNRELATED["minilm"]
                soft = np.clip((cos.max(axis=1) - floor) / (1.0 - floor), 0.0, 1.0)
                if len(soft) == len(values):
                    values = np.maximum(values, soft)
        best = max(best, float(values.min()))
    return best


def expected_types(reading: Reading) -> frozenset[str]:
    """The spaCy entity labels an answer would carry. For an English question, from its
    wh-word: a person or organisation for "who", a date for "when", a place for "where", a
    number for "how many/much"; otherwise (or when the wh-word fixes no type) from the kind
    of thing the reading says it asks for. Empty when nothing fixes a type."""
    if is_latin(reading.question) and reading.language == "en":
        doc = claims.analyse(reading.question)
        for token in doc:
            word = token.lower_
            if word in _WH_TYPES:
                return _WH_TYPES[word]
            following = doc[token.i + 1].lower_ if token.i + 1 < len(doc) else ""
            if word == "how" and following in ("many", "much"):
                return _AMOUNT
    return _ASKS_TYPES.get(reading.asks, frozenset())


def _type_missing(question: str, wanted: frozenset[str], sentence: str, *, english: bool) -> float:
    """1 when an entity type is asked for and the sentence holds none (that the question does
    not already name, for an English question), else 0."""
    if not wanted:
        return 0.0
    asked = {e.text.casefold() for e in claims.analyse(question).ents} if english else set()
    for entity in claims.analyse(sentence).ents:
        if entity.label_ in wanted and entity.text.casefold() not in asked:
            return 0.0
    return 1.0
