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
from dataclasses import dataclass
from enum import Enum

import numpy as np

from assistant.text import STOPWORDS, Span, is_latin, split_sentences, stem, terms, words
from assistant.types import Chunk, RetrievedChunk

# Words that frame a question rather than carry its content ("according to the article").
_FRAME_WORDS = frozenset(
    stem(w)
    for w in (
        "according article articles document documents text texts report reports reported "
        "mention mentioned mentions say says said state states stated statement describe "
        "described tell told know known information source sources per please many much kind "
        "kinds type types sort name named called exactly actually also else"
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
    (AnswerType.NAME, re.compile(r"^\s*who\b|\bwhom\b|\b(what|which) is the name\b", re.I)),
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
    """The question's content terms, stemmed, without framing words; order kept, no repeats."""
    seen: dict[str, None] = {}
    for term in terms(question):
        if term not in _FRAME_WORDS and term not in STOPWORDS:
            seen.setdefault(term, None)
    return list(seen)


@dataclass(frozen=True)
class Evidence:
    """A sentence of a retrieved chunk, scored as evidence for one question."""

    chunk: Chunk
    span: Span
    rank: int
    similarity: float
    coverage: float
    type_ok: bool

    @property
    def text(self) -> str:
        return self.span.text

    @property
    def score(self) -> float:
        # Meaning and key-term coverage count equally; the retrieval rank breaks near-ties.
        return self.similarity + self.coverage + 0.02 / (1 + self.rank)


def _term_match(term: str, pool: set[str]) -> float:
    """1 for an exact stem match, 0.8 for a near spelling ('computr', 'centre'/'center')."""
    if term in pool:
        return 1.0
    if len(term) >= 4:
        for other in pool:
            if abs(len(other) - len(term)) <= 2 and other[:2] == term[:2]:
                ratio = difflib.SequenceMatcher(None, term, other).ratio()
                if ratio >= 0.8:
                    return 0.8
    return 0.0


def coverage(
    question_terms: Sequence[str],
    sentence_terms: set[str],
    context_terms: set[str],
    idf: Callable[[str], float],
) -> float:
    """IDF-weighted share of the question's terms found in the sentence (full weight) or
    elsewhere in its chunk and title (70%: the chunk says who or what the sentence is about)."""
    if not question_terms:
        return 0.0
    total = found = 0.0
    for term in question_terms:
        weight = idf(term)
        total += weight
        found += weight * max(
            _term_match(term, sentence_terms), 0.7 * _term_match(term, context_terms)
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
    wanted = answer_type(retrieval_query if not is_latin(question) else question)
    q_terms = key_terms(question)
    context_only = set(key_terms(retrieval_query)) - set(q_terms)
    candidates: list[tuple[Chunk, Span, int]] = []
    seen: set[str] = set()
    for rank, hit in enumerate(retrieved):
        for span in split_sentences(hit.chunk.text):
            if span.text in seen or len(words(span.text)) < 3:
                continue
            seen.add(span.text)
            candidates.append((hit.chunk, span, rank))
    if not candidates:
        return []
    vectors = np.asarray(
        embed([retrieval_query] + [f"{c.title}: {s.text}" for c, s, _ in candidates])
    )
    similarities = vectors[1:] @ vectors[0]
    evidence: list[Evidence] = []
    for (chunk, span, rank), sim in zip(candidates, similarities, strict=True):
        sentence_terms = set(terms(span.text))
        context_terms = set(terms(chunk.embedding_text())) | context_only
        evidence.append(
            Evidence(
                chunk=chunk,
                span=span,
                rank=rank,
                similarity=float(sim),
                coverage=coverage(q_terms, sentence_terms, context_terms, idf),
                type_ok=_TYPE_CHECKS[wanted](span.text),
            )
        )
    evidence.sort(key=lambda e: -e.score)
    return evidence


def is_answerable(evidence: Sequence[Evidence], min_coverage: float, depth: int = 8) -> bool:
    """Whether some top sentence holds the kind of thing asked for and covers the key terms."""
    return any(e.type_ok and e.coverage >= min_coverage for e in evidence[:depth])


def choose_evidence(
    evidence: Sequence[Evidence], min_coverage: float, limit: int
) -> list[Evidence]:
    """The sentences to cite: the best qualifying sentence, then others nearly as good,
    preferring sentences from documents not yet used (questions spanning two reports)."""
    qualifying = [e for e in evidence if e.type_ok and e.coverage >= min_coverage]
    if not qualifying:
        return []
    best = qualifying[0]
    chosen = [best]
    floor = best.score - 0.25
    for e in evidence:
        if len(chosen) >= limit:
            break
        if e is best or e.score < floor:
            continue
        new_document = all(c.chunk.doc_id != e.chunk.doc_id for c in chosen)
        if e.coverage >= min_coverage or (new_document and e.coverage >= min_coverage * 0.75):
            chosen.append(e)
    return chosen
