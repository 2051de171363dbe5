"""Which documents a question names, for questions that set two reports side by side.

A comparison ("How do the OSMU and the SibMed reports describe ...?") names its reports by
words that only one document uses: a name in its title or file name, or a term no other
document contains. Such a term says which document to read, not what to look for in it, so
each report is then searched on its own for the rest of the question. Everything here is read
from the indexed documents' own vocabulary; no word of any question is listed.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from assistant.answering.questions import Reading
from assistant.text import terms
from assistant.types import Chunk

# A document named by less than this share of the question's naming weight (IDF) is not one
# of the reports being compared, only a document that happens to share a rare word.
_MIN_SHARE = 0.15


@dataclass(frozen=True)
class Vocabulary:
    """Per document: the terms of its text, and of its name (title and file name)."""

    text: dict[str, frozenset[str]]
    name: dict[str, frozenset[str]]

    @classmethod
    def of(cls, chunks: Sequence[Chunk]) -> Vocabulary:
        text: dict[str, set[str]] = defaultdict(set)
        name: dict[str, set[str]] = defaultdict(set)
        for chunk in chunks:
            text[chunk.doc_id].update(terms(chunk.text, compounds=False))
            stem = chunk.doc_id.rsplit("/", 1)[-1].rsplit(".", 1)[0]
            name[chunk.doc_id].update(terms(f"{chunk.title} {stem.replace('-', ' ')}"))
        return cls(
            {d: frozenset(t | name[d]) for d, t in text.items()},
            {d: frozenset(t) for d, t in name.items()},
        )

    def naming(self, term: str, *, proper: bool) -> str | None:
        """The one document a term points at: the only one whose name holds it, or, for a
        proper name (an acronym, a capitalised word), the only one whose text does."""
        named = [d for d, words in self.name.items() if term in words]
        if len(named) == 1:
            return named[0]
        if not proper:
            return None
        holders = [d for d, words in self.text.items() if term in words]
        return holders[0] if len(holders) == 1 else None


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


def reading_for(reading: Reading, doc_id: str, vocabulary: Vocabulary) -> Reading:
    """The question as asked of one report: without the names that point at a document
    (this one is already chosen) and without the terms the report never uses (the other
    report's), nor those of its own title: every sentence of the report is about those."""
    words = vocabulary.text.get(doc_id, frozenset())
    own_name = vocabulary.name.get(doc_id, frozenset())
    kept = tuple(
        t
        for t in reading.terms
        if t in words
        and t not in own_name
        and not (t in reading.names and vocabulary.naming(t, proper=True))
    )
    names = tuple(n for n in reading.names if n in kept)
    return replace(reading, terms=kept or reading.terms, names=names)
