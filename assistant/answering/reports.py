"""Which documents a question names, for questions that set two reports side by side.

A comparison ("How do the Herald and the Gazette report the ferry's first week?") names its
reports by words that only one document uses: a name in its title or file name, or a term no other
document contains. Such a term says which document to read, not what to look for in it, so
each report is then searched on its own for the rest of the question. Everything here is read
from the indexed documents' own vocabulary; no word of any question is listed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from assistant.answering.questions import CONJUNCTION_RE, Reading
from assistant.text import terms
from assistant.types import Chunk

# A document named by less than this share of the question's naming weight (IDF) is not one
# of the reports being compared, only a document that happens to share a rare word.
_MIN_SHARE = 0.15


@dataclass(frozen=True)
class Vocabulary:
    """Per document, the terms of its name (title and file name); per term, the documents
    whose name or text holds it, so that finding what a term names does not scan every
    document of a large index on each question."""

    name: dict[str, frozenset[str]]
    text_holders: dict[str, tuple[str, ...]]
    name_holders: dict[str, tuple[str, ...]]

    @classmethod
    def of(cls, chunks: Sequence[Chunk]) -> Vocabulary:
        text: dict[str, set[str]] = defaultdict(set)
        name: dict[str, set[str]] = defaultdict(set)
        for chunk in chunks:
            text[chunk.doc_id].update(terms(chunk.text, compounds=False))
            stem = chunk.doc_id.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            name[chunk.doc_id].update(terms(f"{chunk.title} {stem.replace('-', ' ')}"))
        texts = {d: frozenset(t | name[d]) for d, t in text.items()}
        names = {d: frozenset(t) for d, t in name.items()}
        return cls(names, _holders(texts), _holders(names))

    def naming(self, term: str, *, proper: bool) -> str | None:
        """The one document a term points at: the only one whose name holds it, or, for a
        proper name (an acronym, a capitalised word), the only one whose text does."""
        named = self.name_holders.get(term, ())
        if len(named) == 1:
            return named[0]
        if not proper:
            return None
        holders = self.text_holders.get(term, ())
        return holders[0] if len(holders) == 1 else None


def _holders(vocabulary: dict[str, frozenset[str]]) -> dict[str, tuple[str, ...]]:
    """Term -> the documents holding it, in the documents' order."""
    holders: dict[str, list[str]] = defaultdict(list)
    for doc_id, words in vocabulary.items():
        for word in words:
            holders[word].append(doc_id)
    return {word: tuple(docs) for word, docs in holders.items()}


def named_documents(
    reading: Reading, vocabulary: Vocabulary, idf: Callable[[str], float]
) -> list[str]:
    """The documents the question names, most strongly named first (by the IDF of the
    question's terms that point at each)."""
    weight: dict[str, float] = defaultdict(float)
    for term in reading.terms:
        doc = vocabulary.naming(term, proper=term in reading.names)
        if doc is not None:
            weight[doc] += idf(term)
    total = sum(weight.values())
    ranked = sorted(weight, key=lambda d: -weight[d])
    return [d for d in ranked if total and weight[d] / total >= _MIN_SHARE]


def reading_for(
    reading: Reading, doc_id: str, vocabulary: Vocabulary, others: Sequence[str] = ()
) -> Reading:
    """The question as asked of one report.

    A comparison is one question per report joined by a conjunction ("... the fare in the
    Herald and the timetable in the Gazette"): a part of the question that names only
    another report (one of `others`) is that report's question, not this one's, except the
    question's head before the first report is named ("How does X appear in ..."). Of the rest,
    the names that point at a document go (this one is already chosen), and so do the words
    of its own title or file name when others remain (every sentence of the report is about
    those). Terms the report never uses stay: their weight is the same for all of its
    sentences, and soft coverage may still find a word of like meaning."""
    elsewhere: set[str] = set()
    compared = {doc_id, *others}
    for i, part in enumerate(CONJUNCTION_RE.split(reading.question)):
        part_terms = [t for t in terms(part, compounds=False) if t in reading.terms]
        pointing = [vocabulary.naming(t, proper=t in reading.names) for t in part_terms]
        points_at = set(pointing) & compared
        if not points_at or doc_id in points_at:
            continue
        # The question's head, before the first report is named, is asked of both.
        first = next(j for j, d in enumerate(pointing) if d in compared) if i == 0 else 0
        elsewhere.update(part_terms[first:])
    own_name = vocabulary.name.get(doc_id, frozenset())
    asked = tuple(
        t
        for t in reading.terms
        if t not in elsewhere
        and not (t in reading.names and vocabulary.naming(t, proper=True) is not None)
    )
    kept = tuple(t for t in asked if t not in own_name) or asked
    names = tuple(n for n in reading.names if n in kept)
    return replace(reading, terms=kept or reading.terms, names=names)
