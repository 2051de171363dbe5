"""Evidence selection and the answerability decision.

Retrieval returns chunks; an answer needs sentences. Every sentence of the retrieved chunks
is scored against the question by meaning (MiniLM cosine) and by how much of the question's
weighted key terms it covers. Similarity alone cannot tell "What is CPMR's phone number?"
from a real question (it scores just as high), so the decision to answer asks more specific
things of the best evidence (see assistant/questions.py for how a question is read):

- does it hold the *kind* of thing asked for (a date for "when", a number for "how many",
  an e-mail address for "e-mail", a name for "who is the ..."), and the thing counted or held;
- does it cover the question's key terms, each weighted by rarity (IDF), so the one rare
  word that makes the question unanswerable ("beds", "e-mail", "rector") decides the matter.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from assistant.answering.questions import (
    TYPE_CHECKS,
    AnswerType,
    QuestionProfile,
    acronym_expansions,
    key_terms,
    names_next_to,
)
from assistant.injection import addresses_ai
from assistant.text import Span, is_latin, split_sentences, terms, words
from assistant.types import Chunk, RetrievedChunk


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
    names_ok: bool = True

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
        return (
            self.type_ok
            and self.focus_ok
            and self.names_ok
            and self.rest_coverage >= _MIN_REST_COVERAGE
        )


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
_MAX_HEADING_WORDS = 14


def _is_heading(sentence: str) -> bool:
    """A short line with no closing punctuation: a heading, label or headline."""
    short = len(words(sentence)) <= _MAX_HEADING_WORDS
    return short and not re.search(r"[.!?;:…\"”»]$", sentence)


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
    headings: bool = False,
) -> list[Evidence]:
    """Every distinct sentence of the retrieved chunks, scored, best first.

    `question` is what the user asked (its key terms are what must be covered);
    `retrieval_query` is its standalone form (it carries the conversation's topic).
    Headings and labels ("Centre for promotion of Medical Research (CPMR)") name a topic but
    state nothing, so they are left out unless `headings` asks for them (news headlines).
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
            if not headings and _is_heading(span.text):
                continue
            # Text that addresses an AI system is never quoted, even if the cleaner let it
            # through (an index built by an older cleaner, a new disguise in a long line).
            if addresses_ai(span.text):
                continue
            seen.add(span.text)
            candidates.append((hit.chunk, span, rank))
    if not candidates:
        return []
    expansions = acronym_expansions(question, " ".join(hit.chunk.text for hit in retrieved))
    # A name may be stated anywhere in the document (its headline, an earlier paragraph);
    # the retrieved chunks of that document are what we have of it.
    document_terms: dict[str, set[str]] = {}
    for hit in retrieved:
        pool = document_terms.setdefault(hit.chunk.doc_id, set(expansions))
        pool |= set(terms(hit.chunk.embedding_text()))
    vectors = np.asarray(
        embed([retrieval_query] + [f"{c.title}: {s.text}" for c, s, _ in candidates])
    )
    similarities = vectors[1:] @ vectors[0]
    if not is_latin(question):
        # The English-only embedding model cannot compare a Russian question with English
        # text; its similarities would only add noise to the term coverage.
        similarities = np.zeros_like(similarities)
    evidence: list[Evidence] = []
    # Stemming a chunk's title and text once, not once for each of its sentences.
    title_terms = {hit.chunk.chunk_id: set(terms(hit.chunk.title)) for hit in retrieved}
    chunk_terms = {
        hit.chunk.chunk_id: set(terms(hit.chunk.text)) | context_only for hit in retrieved
    }
    for (chunk, span, rank), sim in zip(candidates, similarities, strict=True):
        sentence_terms = set(terms(span.text)) | title_terms[chunk.chunk_id]
        sentence_terms |= {a for a, full in expansions.items() if full in span.text}
        context_terms = chunk_terms[chunk.chunk_id]
        focus_ok = profile.focus is None or _term_match(profile.focus, sentence_terms) > 0
        names_ok = all(_term_match(n, document_terms[chunk.doc_id]) > 0 for n in profile.names)
        type_ok = TYPE_CHECKS[profile.kind](span.text)
        if type_ok and profile.kind is AnswerType.NAME and profile.named:
            type_ok = (
                expansions[profile.named] in span.text
                if profile.named in expansions
                else names_next_to(span.text, profile.named, question_words)
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
                names_ok=names_ok,
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
