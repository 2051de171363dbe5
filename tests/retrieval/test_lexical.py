"""The BM25 index: a rebuild after a change stems only new or changed chunks, and ranks
exactly as an index built from scratch."""

import pytest

from assistant.retrieval import lexical
from assistant.retrieval.lexical import LexicalIndex
from assistant.types import Chunk

TEXTS = {
    "news/a.txt": [
        "Rectors of medical universities met in Guangzhou to sign a memorandum.",
        "The memorandum covers joint research in pharmacology and student exchange.",
    ],
    "news/b.txt": [
        "The Centre opened a cell-culture laboratory for student volunteers.",
        "Guided tours of the laboratory start every hour.",
    ],
    "centre/c.txt": ["The Centre promotes medical research at Ala-Too International University."],
}


def _chunks(texts: dict[str, list[str]]) -> list[Chunk]:
    return [
        Chunk(
            chunk_id=f"{doc_id}#{i}",
            doc_id=doc_id,
            index=i,
            text=text,
            title=doc_id.split("/")[1],
            kind=doc_id.split("/")[0],
            source=doc_id,
            start=0,
            doc_hash=str(hash(tuple(parts))),
        )
        for doc_id, parts in texts.items()
        for i, text in enumerate(parts)
    ]


@pytest.fixture
def stem_calls(monkeypatch):
    calls: list[str] = []
    original = lexical.terms

    def counting(text: str, **kwargs):
        calls.append(text)
        return original(text, **kwargs)

    monkeypatch.setattr(lexical, "terms", counting)
    return calls


def test_rebuild_stems_only_new_and_changed_chunks(stem_calls):
    first = LexicalIndex(_chunks(TEXTS))
    assert len(stem_calls) == 5, "a first build stems every chunk"
    changed = dict(TEXTS)
    changed["news/b.txt"] = [TEXTS["news/b.txt"][0], "Tours now start every half hour."]
    changed["news/d.txt"] = ["A new memorandum on clinical training was signed in Bishkek."]
    stem_calls.clear()
    second = LexicalIndex(_chunks(changed), previous=first)
    assert len(stem_calls) == 2, f"only the changed and the new chunk: {stem_calls}"

    fresh = LexicalIndex(_chunks(changed))
    for query in ("memorandum", "laboratory tours hour", "clinical training Bishkek"):
        incremental = [(c.chunk_id, round(s, 6)) for c, s in second.search(query, 10)]
        scratch = [(c.chunk_id, round(s, 6)) for c, s in fresh.search(query, 10)]
        assert incremental == scratch, f"{query!r}: a rebuild must rank like a fresh index"
    assert second.idf("memorandum") == fresh.idf("memorandum")


def test_opening_chunk_is_the_first_of_its_document():
    index = LexicalIndex(list(reversed(_chunks(TEXTS))))
    opening = index.opening_chunk("news/a.txt")
    assert opening is not None and opening.index == 0, opening
    assert index.opening_chunk("news/missing.txt") is None
