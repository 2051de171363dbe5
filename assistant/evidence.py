"""Evidence selection and the answerability decision.

Retrieval returns chunks; an answer needs sentences. Every sentence of the retrieved chunks
is scored against the question by meaning (MiniLM cosine) and by how much of the question's
weighted key terms it covers. Similarity alone cannot tell "What is CPMR's phone number?"
from a real question (it scores just as high), so the decision to answer asks two more
specific things of the best evidence:

- does it hold the *kind* of thing asked for (a date for "when", a number for "how many",
  an e-mail address for "e-mail", a person or body for "who", ...), and
- does it cover the question's key terms, each weighted by rarity (IDF), so the one rare
  word that makes the question unanswerable ("beds", "e-mail", "rector") decides the matter.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import Enum
from functools import lru_cache

import numpy as np

from assistant.text import (
    STOPWORDS,
    Span,
    is_latin,
    split_sentences,
    stem,
    terms,
    transliterate,
    words,
)
from assistant.types import Chunk, RetrievedChunk

# Words that frame a question rather than carry its content ("according to the article").
_FRAME_WORDS = frozenset(
    stem(w)
    for w in (
        "according article articles document documents text texts report reports reported "
        "mention mentioned mentions say says said state states stated statement describe "
        "described tell told know known information source sources per please many much kind "
        "kinds type types sort name named called exactly actually also else "
    ).split()
)
_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
_DATE_RE = re.compile(
    rf"\b(1[89]\d\d|20\d\d)\b|\b({'|'.join(_MONTHS.split())})\b|\b\d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}}\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty "
    "fifty hundred hundreds thousand thousands million millions billion billions dozen dozens "
    "several twice fivefold tenfold half"
)
_QUANTITY_RE = re.compile(rf"\d|\b({'|'.join(_NUMBER_WORDS.split())})\b", re.IGNORECASE)
_MONEY_RE = re.compile(
    r"[$€£¥₽₸]|\b(som|soms|usd|eur|euro|euros|dollars?|rubles?|roubles?|tenge|yuan|rmb|kgs)\b",
    re.IGNORECASE,
)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_PHONE_RE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_URL_RE = re.compile(r"https?://|www\.", re.IGNORECASE)
_NAME_RE = re.compile(r"\b[A-Z][a-z]+(?:[\s.-]+[A-Z][\w.-]*)+|\b[A-Z]{2,}\b")


class AnswerType(Enum):
    """The kind of thing a question asks for, when the question makes it plain."""

    ANY = "any"
    DATE = "date"
    QUANTITY = "quantity"
    MONEY = "money"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    NAME = "name"


_TYPE_PATTERNS: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    (AnswerType.EMAIL, re.compile(r"\be-?mail", re.I)),
    (AnswerType.PHONE, re.compile(r"\b(phone|telephone|fax|whatsapp)\b", re.I)),
    (AnswerType.URL, re.compile(r"\b(website|web site|url|web page|homepage)\b", re.I)),
    (
        AnswerType.MONEY,
        re.compile(
            r"\bhow much (money|funding|does .* cost)|\b(cost|costs|price|fee|fees|tuition|"
            r"salary|stipend)\b|\bworth\b",
            re.I,
        ),
    ),
    (
        AnswerType.DATE,
        re.compile(r"\bwhen\b|\b(what|which) (year|date|day|month)\b|\bsince when\b", re.I),
    ),
    (
        AnswerType.QUANTITY,
        re.compile(
            r"\bhow (many|much|often|long|large|big|old)\b|\b(what|which) (number|percentage|"
            r"share|proportion|amount)\b|\bnumber of\b",
            re.I,
        ),
    ),
    # Only questions after the identity of someone or something want a proper name; "to
    # whom" or "who else took part" are as well answered by "individual research groups".
    (
        AnswerType.NAME,
        re.compile(
            r"\bwho (is|was) (the|a|an)\b|\b(what|which) (is|was|are|were) the (full |official )?"
            r"names?\b|\bwhat is \w+ called\b",
            re.I,
        ),
    ),
)

_TYPE_CHECKS: dict[AnswerType, Callable[[str], bool]] = {
    AnswerType.ANY: lambda s: True,
    AnswerType.DATE: lambda s: bool(_DATE_RE.search(s)),
    AnswerType.QUANTITY: lambda s: bool(_QUANTITY_RE.search(s)),
    AnswerType.MONEY: lambda s: bool(_MONEY_RE.search(s)) and bool(re.search(r"\d", s)),
    AnswerType.EMAIL: lambda s: bool(_EMAIL_RE.search(s)),
    AnswerType.PHONE: lambda s: bool(_PHONE_RE.search(s)),
    AnswerType.URL: lambda s: bool(_URL_RE.search(s)),
    AnswerType.NAME: lambda s: bool(_NAME_RE.search(s)),
}


def answer_type(question: str) -> AnswerType:
    """The kind of answer the question asks for (ANY when it does not say)."""
    for kind, pattern in _TYPE_PATTERNS:
        if pattern.search(question):
            return kind
    return AnswerType.ANY


def key_terms(question: str) -> list[str]:
    """The question's content terms, stemmed, without framing words; order kept, no repeats.
    A question in another script contributes its Latin transliteration only: that is the form
    that can meet the English documents (names, acronyms, international words)."""
    if not is_latin(question):
        question = transliterate(question)
    seen: dict[str, None] = {}
    for term in terms(question, compounds=False):
        if term not in _FRAME_WORDS and term not in STOPWORDS:
            seen.setdefault(term, None)
    return list(seen)


# The thing a question counts or whose holder it asks for: "how many <beds> does ...",
# "who is the <rector> of ...". Such a head noun names the answer's subject, so evidence
# that never mentions it cannot answer. ("What is the <purpose> of ..." is not used: abstract
# heads rarely appear in the sentence that answers them.)
_NP_END = (
    r"(?=\s+(?:of|for|in|at|on|to|from|with|by|about|does|do|did|is|are|was|were|has|have|"
    r"had|will|would|can|could|that|which|who|there|per)\b|\s*[?,.!]|\s*$)"
)
_FOCUS_RE = re.compile(
    r"\b(?:how (?:many|much)|who (?:is|was|are|were) (?:the|a|an))\s+((?:[\w'-]+\s+){0,4}?[\w'-]+)"
    + _NP_END,
    re.IGNORECASE,
)
# A price is the price of something: a question about tuition or a fee needs evidence that
# names it, not just any sum of money ("600,000 som" for a grant is no tuition fee).
_PRICED_RE = re.compile(r"\b(tuition|fees?|prices?|salary|salaries|stipends?|rent)\b", re.I)
_YES_NO_RE = re.compile(
    r"^\s*(does|do|did|is|are|was|were|can|could|will|would|has|have|had|should)\b", re.I
)
_NAMED_RE = re.compile(r"\b(?:name|called|named)\s+(?:of\s+)?(?:the\s+|a\s+|an\s+)?([\w'-]+)", re.I)


@dataclass(frozen=True)
class QuestionProfile:
    """What a question asks for, as far as its wording shows."""

    kind: AnswerType
    terms: tuple[str, ...]
    focus: str | None = None
    named: str | None = None
    yes_no: bool = False

    @classmethod
    def of(cls, question: str) -> QuestionProfile:
        focus_match = _FOCUS_RE.search(question)
        focus = None
        if focus_match:
            head = terms(focus_match.group(1).split()[-1], compounds=False)
            focus = head[-1] if head else None
        priced = _PRICED_RE.search(question)
        if priced:
            focus = stem(priced.group(1).casefold())
        named_match = _NAMED_RE.search(question)
        named = terms(named_match.group(1), compounds=False) if named_match else []
        return cls(
            kind=answer_type(question),
            terms=tuple(key_terms(question)),
            focus=focus,
            named=named[0] if named else None,
            yes_no=bool(_YES_NO_RE.match(question)),
        )

    def with_rarest_focus(self, idf: Callable[[str], float]) -> QuestionProfile:
        """A yes/no question ("Does CPMR offer scholarships?") is about its most specific term:
        evidence that never mentions it can neither confirm nor deny."""
        if not self.yes_no or self.focus or not self.terms:
            return self
        return replace(self, focus=max(self.terms, key=idf))


def _expansions(question: str, text: str) -> dict[str, str]:
    """Stemmed acronym of the question -> its spelled-out form found in `text`."""
    found: dict[str, str] = {}
    for token in re.findall(r"\b[A-Z]{2,}\b", question):
        full = acronym_expansion(token, text)
        if full:
            found[stem(token.casefold())] = full
    return found


def acronym_expansion(acronym: str, text: str) -> str | None:
    """The spelled-out name an all-capitals acronym stands for in `text`, if it is there:
    a run of capitalised words whose initials spell it ("Omsk State Medical University" for
    OSMU); small linking words ("of", "and") may stand between them or give a letter (MOH)."""
    letters = acronym.upper()
    if len(letters) < 2 or not letters.isalpha():
        return None
    tokens = re.findall(r"[\w'-]+", text)

    def spell(i: int, at: int) -> int | None:
        """Index of the last token when tokens[i:] spell letters[at:], else None."""
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
        if token[0] == letters[0]:
            end = spell(start, 0)
            if end is not None:
                return " ".join(tokens[start : end + 1])
    return None


_LINKING_WORDS = frozenset({"of", "and", "for", "the", "de"})


def _names_next_to(sentence: str, target: str, question_words: set[str]) -> bool:
    """True when a capitalised or quoted word that the question does not use stands right
    next to `target` ("the nanosatellite «Al-Farabi-2»", "a company called Inspur")."""
    tokens = re.findall(r"«[^»]+»|\"[^\"]+\"|[\w'-]+", sentence)
    stems = [stem(t.casefold()) for t in tokens]
    for i, token_stem in enumerate(stems):
        if token_stem != target:
            continue
        for j in (i - 1, i + 1, i + 2):
            if 0 <= j < len(tokens) and tokens[j].casefold() not in question_words:
                neighbour = tokens[j]
                if neighbour[0] in '«"' or (neighbour[0].isupper() and j != 0):
                    return True
    return False


@dataclass(frozen=True)
class Evidence:
    """A sentence of a retrieved chunk, scored as evidence for one question."""

    chunk: Chunk
    span: Span
    rank: int
    similarity: float
    coverage: float
    type_ok: bool
    focus_ok: bool = True
    rest_coverage: float = 1.0
    typed: bool = False

    @property
    def text(self) -> str:
        return self.span.text

    @property
    def score(self) -> float:
        # Meaning and key-term coverage count equally; holding the kind of thing asked for
        # (a number for "how many") counts too; the retrieval rank breaks near-ties.
        bonus = _TYPE_BONUS if self.typed and self.type_ok else 0.0
        return self.similarity + self.coverage + bonus + 0.02 / (1 + self.rank)

    @property
    def qualifies(self) -> bool:
        """Holds the kind of thing asked for, about the thing asked about."""
        return self.type_ok and self.focus_ok and self.rest_coverage >= _MIN_REST_COVERAGE


# A sentence that mentions the focus ("rector") must also be about the question's subject
# ("Ala-Too International University"): at least this share of the other weighted terms.
_MIN_REST_COVERAGE = 0.4
# Below both of these, nothing retrieved is about the question at all ("weather on Mars").
_OFF_TOPIC_COVERAGE = 0.2
_OFF_TOPIC_SIMILARITY = 0.45
_CONTEXT_CREDIT = 0.5
# "The mandate of the Centre shall be the following" introduces evidence but states none.
_LEAD_IN_RE = re.compile(r"(:|\bthe following|\bas follows)\s*$", re.IGNORECASE)
_TYPE_BONUS = 0.3


@lru_cache(maxsize=200_000)
def _near(term: str, other: str) -> float:
    """How closely two different stems match by spelling: 0.8 for a typo or variant
    ('computr'/'comput', 'centre'/'center'), 0.7 when one holds most of the other
    ('comput'/'supercomput', a transliterated 'departament'/'depart'), else 0."""
    if len(term) < 4 or len(other) < 4:
        return 0.0
    matcher = difflib.SequenceMatcher(None, term, other, autojunk=False)
    if abs(len(other) - len(term)) <= 2 and term[:2] == other[:2] and matcher.ratio() >= 0.8:
        return 0.8
    shorter = min(len(term), len(other))
    longest = matcher.find_longest_match(0, len(term), 0, len(other)).size
    return 0.7 if longest >= 5 and longest >= 0.75 * shorter else 0.0


def _term_match(term: str, pool: set[str]) -> float:
    """1 for an exact stem match, less for a near spelling (see `_near`)."""
    if term in pool:
        return 1.0
    return max((_near(term, other) for other in pool), default=0.0)


def coverage(
    question_terms: Sequence[str],
    sentence_terms: set[str],
    context_terms: set[str],
    idf: Callable[[str], float],
) -> float:
    """IDF-weighted share of the question's terms found in the sentence (or its document's
    title: full weight) or elsewhere in its chunk (half weight: nearby, but maybe about
    something else)."""
    if not question_terms:
        return 0.0
    total = found = 0.0
    for term in question_terms:
        weight = idf(term)
        total += weight
        found += weight * max(
            _term_match(term, sentence_terms), _CONTEXT_CREDIT * _term_match(term, context_terms)
        )
    return found / total if total else 0.0


def gather_evidence(
    question: str,
    retrieval_query: str,
    retrieved: Sequence[RetrievedChunk],
    *,
    embed: Callable[[Sequence[str]], list[list[float]]],
    idf: Callable[[str], float],
) -> list[Evidence]:
    """Every distinct sentence of the retrieved chunks, scored, best first.

    `question` is what the user asked (its key terms are what must be covered);
    `retrieval_query` is its standalone form (it carries the conversation's topic).
    """
    profile = QuestionProfile.of(question if is_latin(question) else retrieval_query)
    profile = profile.with_rarest_focus(idf)
    q_terms = list(profile.terms)
    rest_terms = [t for t in q_terms if t != profile.focus]
    context_only = set(key_terms(retrieval_query)) - set(q_terms)
    question_words = set(words(question))
    candidates: list[tuple[Chunk, Span, int]] = []
    seen: set[str] = set()
    for rank, hit in enumerate(retrieved):
        for span in split_sentences(hit.chunk.text):
            if span.text in seen or len(words(span.text)) < 3 or _LEAD_IN_RE.search(span.text):
                continue
            seen.add(span.text)
            candidates.append((hit.chunk, span, rank))
    if not candidates:
        return []
    expansions = _expansions(question, " ".join(hit.chunk.text for hit in retrieved))
    vectors = np.asarray(
        embed([retrieval_query] + [f"{c.title}: {s.text}" for c, s, _ in candidates])
    )
    similarities = vectors[1:] @ vectors[0]
    if not is_latin(question):
        # The English-only embedding model cannot compare a Russian question with English
        # text; its similarities would only add noise to the term coverage.
        similarities = np.zeros_like(similarities)
    evidence: list[Evidence] = []
    for (chunk, span, rank), sim in zip(candidates, similarities, strict=True):
        sentence_terms = set(terms(span.text)) | set(terms(chunk.title))
        sentence_terms |= {a for a, full in expansions.items() if full in span.text}
        context_terms = set(terms(chunk.text)) | context_only
        focus_ok = profile.focus is None or _term_match(profile.focus, sentence_terms) > 0
        type_ok = _TYPE_CHECKS[profile.kind](span.text)
        if type_ok and profile.kind is AnswerType.NAME and profile.named:
            type_ok = (
                expansions[profile.named] in span.text
                if profile.named in expansions
                else _names_next_to(span.text, profile.named, question_words)
            )
        evidence.append(
            Evidence(
                chunk=chunk,
                span=span,
                rank=rank,
                similarity=float(sim),
                coverage=coverage(q_terms, sentence_terms, context_terms, idf),
                type_ok=type_ok,
                typed=profile.kind is not AnswerType.ANY,
                focus_ok=focus_ok,
                rest_coverage=(
                    coverage(rest_terms, sentence_terms, context_terms, idf)
                    if profile.focus and rest_terms
                    else 1.0
                ),
            )
        )
    evidence.sort(key=lambda e: -e.score)
    return evidence


def is_answerable(evidence: Sequence[Evidence], question: str, depth: int = 8) -> bool:
    """Whether the evidence can answer: some top sentence qualifies, and the evidence as a
    whole is about the question at all.

    A question in another script (Russian) is matched through its transliteration only, which
    meets names, acronyms and numbers but not ordinary words, and the English-only embedding
    model cannot judge it; there, one shared term must do.
    """
    top = evidence[:depth]
    if not top:
        return False
    best_coverage = max(e.coverage for e in top)
    if not is_latin(question):
        return best_coverage > 0 and any(e.qualifies for e in top)
    off_topic = (
        best_coverage < _OFF_TOPIC_COVERAGE
        and max(e.similarity for e in top) < _OFF_TOPIC_SIMILARITY
    )
    return not off_topic and any(e.qualifies for e in top)


def rerank(
    retrieved: Sequence[RetrievedChunk], evidence: Sequence[Evidence]
) -> list[RetrievedChunk]:
    """Chunks ordered by their best evidence sentence, a finer signal than whole-chunk
    similarity (a chunk is several sentences, and usually one of them answers)."""
    best: dict[str, float] = {}
    for e in evidence:
        best[e.chunk.chunk_id] = max(best.get(e.chunk.chunk_id, -1.0), e.score)
    order = {hit.chunk.chunk_id: i for i, hit in enumerate(retrieved)}
    return sorted(
        retrieved,
        key=lambda hit: (-best.get(hit.chunk.chunk_id, -1.0), order[hit.chunk.chunk_id]),
    )


def choose_evidence(evidence: Sequence[Evidence], limit: int) -> list[Evidence]:
    """The sentences to cite: the best qualifying sentence, then others nearly as good,
    preferring sentences from documents not yet used (questions spanning two reports)."""
    qualifying = [e for e in evidence if e.qualifies]
    if not qualifying:
        return []
    best = qualifying[0]
    chosen = [best]
    floor = best.score - 0.25
    for e in qualifying[1:]:
        if len(chosen) >= limit:
            break
        if e.score >= floor or (
            all(c.chunk.doc_id != e.chunk.doc_id for c in chosen) and e.score >= floor - 0.1
        ):
            chosen.append(e)
    return chosen
