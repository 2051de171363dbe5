"""The shape of an answer: a lead sentence, a list, a comparison, a scope reply or a refusal.

Every sentence built here is made of the evidence's own words (a name, date, number or
expansion cut from a quoted sentence) inside a short frame from `wording`, and is checked by
the same verification as a model's sentence before it is shown. What the assistant says in
its own voice (labels, refusals, the scope reply) states no fact about the world.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answering.evidence import Evidence
from assistant.answering.features import (
    CONTACT_RE,
    DATE_RE,
    MONEY_RE,
    acronym_expansion,
)
from assistant.answering.indirect import indirect_question
from assistant.answering.questions import Asks, Reading, split_question
from assistant.answering.wording import examples, say
from assistant.sentences import chunk_sentences
from assistant.text import STOPWORDS, numbers, terms, words
from assistant.types import Chunk

_ENUMERATED_RE = re.compile(r"^\s*(?:\d{1,3}[.)]|[a-zA-Z][.)]|[-•*–·▪●]|[ivxIVX]{1,4}[.)])\s*")
_LEAD_IN_RE = re.compile(r"(:|\bthe following|\bas follows|\binclud\w*)\s*$", re.IGNORECASE)
_MAX_LIST_ITEMS = 15
_SHORT_SENTENCE_WORDS = 20
_MIN_CLAUSE_WORDS = 5
_CLAUSE_RE = re.compile(r"[,;:]\s+|\s+[–—-]\s+|\s+(?=which\b|while\b|whereas\b)")
_EXPANSION_POOL = 10
_PER_REPORT = 2
# Amounts: a number with its unit or currency next to it ("600,000 som", "$2 million").
_AMOUNT_RE = re.compile(
    r"(?:[$€£¥₽₸]\s?)?\d+(?:[.,]\d+)*(?:\s?(?:%|percent|per cent))?"
    r"(?:\s+(?:thousand|million|billion))?(?:\s+[^\W\d_]+)?",
)
_DATE_PHRASE_RE = re.compile(
    r"\b(?:\d{1,2}(?:st|nd|rd|th)?\s+)?(?:January|February|March|April|May|June|July|August|"
    r"September|October|November|December)(?:\s+\d{1,2}(?:st|nd|rd|th)?\b,?)?(?:\s+\d{4})?|"
    r"\b\d{1,2}[./]\d{1,2}[./]\d{2,4}\b|\b(?:1[5-9]|20)\d\d\b",
)


@dataclass(frozen=True)
class Part:
    """One unit of a composed answer: text in the assistant's voice or built from evidence.

    `evidence` is what the text cites (empty for the assistant's own words); `kind` is
    'lead' (built from evidence), 'quote', 'item' (a list item), 'label' or 'refusal'.
    """

    text: str
    evidence: tuple[Evidence, ...]
    kind: str


def is_list_item(sentence: str) -> bool:
    return bool(_ENUMERATED_RE.match(sentence))


_LINKING_WORDS = frozenset({"of", "and", "for", "the", "de", "in", "on"})


def _answer_span(sentence: str, reading: Reading) -> str | None:
    """The thing asked for, cut from the sentence: a date, an amount, contact details or a
    name the question does not already use."""
    question_words = set(words(reading.question))
    asks = reading.asks
    if asks is Asks.DATE and DATE_RE.search(sentence):
        found = [m.group(0).strip(" ,") for m in _DATE_PHRASE_RE.finditer(sentence)]
        return max(found, key=len) if found else None
    if asks is Asks.CONTACT:
        m = CONTACT_RE.search(sentence)
        return (
            m.group(0).strip() if m and any(c.isdigit() or c in "@." for c in m.group(0)) else None
        )
    if asks in (Asks.NUMBER, Asks.MONEY):
        if asks is Asks.MONEY and not MONEY_RE.search(sentence):
            return None
        q_numbers = set(reading.numbers)
        for m in _AMOUNT_RE.finditer(sentence):
            text = m.group(0).strip(" ,.")
            last = text.split()[-1]
            if len(text.split()) > 1 and last.casefold() in STOPWORDS:
                text = text[: -len(last)].strip()
            if numbers(text) and not numbers(text) <= q_numbers and not _is_year_only(text):
                return text
        return None
    if asks is Asks.NAME:
        runs = _name_runs(sentence)
        new = [r for r in runs if any(w not in question_words for w in words(r))]
        return max(new, key=len) if new else None
    return None


def _is_year_only(text: str) -> bool:
    return bool(re.fullmatch(r"(1[5-9]|20)\d\d", text))


def _name_runs(sentence: str) -> list[str]:
    """Runs of capitalised words (small linking words allowed inside), not opening the sentence."""
    runs: list[str] = []
    tokens = list(re.finditer(r"[\w'’.-]+", sentence))
    current: list[str] = []
    for i, m in enumerate(tokens):
        token = m.group(0)
        capital = token[0].isupper() and i > 0 and len(token) > 1
        if capital or (current and token in _LINKING_WORDS):
            current.append(token)
            continue
        if current:
            runs.append(" ".join(_trim(current)))
            current = []
    if current:
        runs.append(" ".join(_trim(current)))
    return [r for r in runs if r]


def _trim(tokens: list[str]) -> list[str]:
    while tokens and tokens[-1] in _LINKING_WORDS:
        tokens = tokens[:-1]
    return [t.rstrip(".,") if i == len(tokens) - 1 else t for i, t in enumerate(tokens)]


def lead_sentence(
    reading: Reading, chosen: Sequence[Evidence], pool: Sequence[Evidence] = ()
) -> Part | None:
    """One short sentence naming the thing asked for, in the evidence's own words. An
    expansion may be spelled out in another good sentence than the chosen ones (`pool`)."""
    if reading.asks is Asks.EXPANSION:
        for acronym in reading.acronyms:
            for e in [*chosen, *pool[:_EXPANSION_POOL]]:
                expansion = acronym_expansion(acronym, e.text)
                if expansion:
                    text = say("stands_for", reading.language, acronym=acronym, expansion=expansion)
                    return Part(text, (e,), "lead")
        return None
    if reading.asks is Asks.ANY or not chosen:
        return None
    best = chosen[0]
    span = _answer_span(best.text, reading)
    if not span or len(words(best.text)) <= _SHORT_SENTENCE_WORDS:
        return None
    clause = clause_with(best.text, span)
    if clause is None:
        return None
    return Part(clause, (best,), "lead")


def clause_with(sentence: str, span: str) -> str | None:
    """The clause of a long sentence that holds `span`, verbatim (extended by the next clause
    while it is too short to say anything), as a sentence of its own; None when that clause
    would be the whole sentence."""
    at = sentence.find(span)
    if at < 0:
        return None
    cuts = [0, *(m.end() for m in _CLAUSE_RE.finditer(sentence)), len(sentence)]
    start = max(c for c in cuts if c <= at)
    later = [c for c in cuts if c >= at + len(span)]
    end = later[0]
    while len(words(sentence[start:end])) < _MIN_CLAUSE_WORDS and end < len(sentence):
        end = next((c for c in later if c > end), len(sentence))
    clause = sentence[start:end].strip(" ,;:–-")
    if len(words(clause)) >= len(words(sentence)) - 2 or len(words(clause)) < _MIN_CLAUSE_WORDS:
        return None
    return clause[0].upper() + clause[1:] + ("" if clause.endswith(".") else ".")


def list_items(
    best: Evidence, pool: Sequence[Evidence], document: Sequence[Chunk] = ()
) -> list[Evidence]:
    """The whole list that `best` belongs to, in document order: the enumerated (or bulleted)
    sentences around it, or the items after a lead-in ending in a colon. `document` (the
    chunks of its document, in order) lets a list run across chunk boundaries."""
    chunks = sorted(document, key=lambda c: c.index) if document else [best.chunk]
    if all(c.chunk_id != best.chunk.chunk_id for c in chunks):
        chunks = [best.chunk]
    sequence: list[Evidence] = []
    seen: set[str] = set()
    by_text = {e.text: e for e in pool}
    at = -1
    for chunk in chunks:
        for i, span in enumerate(chunk_sentences(chunk)):
            if chunk.chunk_id == best.chunk.chunk_id and i == best.index:
                at = (
                    len(sequence)
                    if span.text not in seen
                    else next(j for j, e in enumerate(sequence) if e.text == span.text)
                )
            if span.text in seen:
                continue
            seen.add(span.text)
            sequence.append(
                by_text.get(span.text)
                or Evidence(chunk=chunk, span=span, rank=best.rank, score=best.score, index=i)
            )
    if at < 0:
        return []

    def item_at(i: int) -> bool:
        return 0 <= i < len(sequence) and is_list_item(sequence[i].text)

    if item_at(at):
        start = at
        while item_at(start - 1):
            start -= 1
        end = at
        while item_at(end + 1):
            end += 1
    elif _LEAD_IN_RE.search(best.text):
        start = end = at + 1
        while item_at(end + 1):
            end += 1
        if not item_at(start):
            return []
    else:
        return []
    items = sequence[start : min(end, start + _MAX_LIST_ITEMS - 1) + 1]
    return items if len(items) >= 2 else []


def differ(first: Evidence, second: Evidence) -> bool:
    """Whether two reports' claims plainly differ: each gives figures, and not the same."""
    a, b = numbers(first.text), numbers(second.text)
    return bool(a and b and a != b)


def comparison(
    reading: Reading, chosen: Sequence[Evidence], pool: Sequence[Evidence] = ()
) -> list[Part]:
    """Each report's claim with its own citation, side by side, under a plain label: the best
    two documents, each with its best sentences (up to two, from `chosen` or else `pool`)."""
    first = chosen[0]
    second = next((e for e in chosen[1:] if e.chunk.doc_id != first.chunk.doc_id), None)
    if second is None:
        return []
    label = say("differ" if differ(first, second) else "each_says", reading.language)
    parts = [Part(label, (), "label")]
    for doc in (first.chunk.doc_id, second.chunk.doc_id):
        own = [e for e in chosen if e.chunk.doc_id == doc][:_PER_REPORT]
        parts += [Part(e.text, (e,), "item") for e in own]
    return parts


def side_by_side(reading: Reading, reports: Sequence[Sequence[Evidence]]) -> list[Part]:
    """Each report's claim with its own citation, one report after the other, under a label
    that says plainly whether they differ (each gives figures or dates, and not the same)."""
    first, second = reports[0], reports[1]
    differs = _figures(first) and _figures(second) and _figures(first) != _figures(second)
    label = say("differ" if differs else "each_says", reading.language)
    parts = [Part(label, (), "label")]
    for report in reports[:2]:
        parts += [Part(e.text, (e,), "item") for e in report]
    return parts


def _figures(report: Sequence[Evidence]) -> frozenset[str]:
    """The numbers and dates a report's sentences give."""
    found: set[str] = set()
    for e in report:
        found |= numbers(e.text)
        found |= {m.group(0).casefold() for m in _DATE_PHRASE_RE.finditer(e.text)}
    return frozenset(found)


def scope_reply(language: str) -> list[Part]:
    """What the assistant covers and three questions to try: the answer to small talk."""
    parts = [
        Part(say("scope", language), (), "label"),
        Part(say("examples", language), (), "label"),
    ]
    parts += [Part(example, (), "example") for example in examples(language)]
    return parts


def missing_words(reading: Reading, evidence: Sequence[Evidence]) -> str:
    """The question's own words for what the best evidence lacks, in the question's order."""
    present: set[str] = set()
    for e in evidence:
        present |= set(terms(e.text, compounds=False)) | set(terms(e.chunk.title))
    missing_terms = {t for t in reading.terms if t not in present}
    if not missing_terms:
        return ""
    picked: list[str] = []
    for word in re.findall(r"[\w'’-]+", reading.question):
        word_terms = terms(word, compounds=False)
        if word_terms and any(t in missing_terms for t in word_terms):
            picked.append(word)
        elif picked and picked[-1] != "…":
            picked.append("…")
    while picked and picked[-1] == "…":
        picked.pop()
    return " ".join(picked)


def _not_given(reading: Reading, nearest: Sequence[Evidence]) -> str:
    """What the sources lack, in the assistant's words: a plain English wh-question embedded
    whole ("My sources don't say who the keeper of the lighthouse is"); any other question by
    its own words that the nearest evidence lacks."""
    # A question in two parts is embedded part by part ("when X is, or what Y is").
    clauses = (
        [indirect_question(part) for part in split_question(reading.question)]
        if reading.language == "en"
        else [None]
    )
    if all(clause is not None for clause in clauses):
        return say("not_said", "en", clause=", or ".join(c for c in clauses if c))
    missing = missing_words(reading, nearest[:3])
    if missing:
        return say("missing", reading.language, missing=f"“{missing}”")
    return say("refusal", reading.language)


def not_given(reading: Reading, nearest: Sequence[Evidence]) -> Part:
    """What the sources lack, as a sentence of its own: for the part of a question in two
    parts that an answer leaves out."""
    return Part(_not_given(reading, nearest), (), "refusal")


def refusal(
    reading: Reading, nearest: Sequence[Evidence], *, off_topic: bool = False
) -> list[Part]:
    """Say what the sources lack and the nearest thing they do cover, cited, so that the
    reader can judge; never present it as the answer. When nothing retrieved is about the
    question at all (`off_topic`), nothing is near: say what the assistant covers instead."""
    parts = [Part(_not_given(reading, nearest), (), "refusal")]
    if off_topic or not nearest:
        return [*parts, Part(say("scope", reading.language), (), "refusal")]
    if nearest:
        best = nearest[0]
        topic = f"“{best.chunk.title}”"
        parts.append(Part(say("nearest", reading.language, topic=topic), (best,), "refusal"))
    return parts
