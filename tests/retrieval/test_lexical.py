"""The BM25 index: a rebuild after a change stems only new or changed chunks, and ranks
exactly as an index built from scratch."""

import pytest

from assistant.retrieval import lexical
from assistant.retrieval.lexical import LexicalIndex
from assistant.types import Chunk
from tests.retrieval.stems import counting_stems

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
    return counting_stems(monkeypatch)


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


# -- saved copies: loaded only for the same revision and the same chunks --------------------

REVISION = "live-a:rev-1"


def _ranking(index: LexicalIndex) -> list[list[tuple[str, float]]]:
    queries = ("memorandum", "laboratory tours hour", "Centre medical research")
    return [[(c.chunk_id, round(s, 6)) for c, s in index.search(q, 10)] for q in queries]


def _only_folder(root):
    folders = [p for p in root.iterdir() if p.is_dir()]
    assert len(folders) == 1, f"one saved index expected under {root}: {folders}"
    return folders[0]


def test_a_saved_index_loads_without_stemming_and_ranks_the_same(tmp_path, stem_calls):
    chunks = _chunks(TEXTS)
    built = LexicalIndex(chunks)
    assert built.save(tmp_path, REVISION) is not None, "the index should be saved"
    stem_calls.clear()
    loaded = LexicalIndex.load(tmp_path, REVISION, list(reversed(chunks)))
    assert loaded is not None, "the index saved for this revision and these chunks loads"
    assert stem_calls == [], f"loading must not stem any chunk: {stem_calls}"
    assert _ranking(loaded) == _ranking(built), "a loaded index ranks like the one saved"
    assert loaded.idf("memorandum") == built.idf("memorandum"), "idf survives the round trip"
    assert loaded.opening_chunk("news/b.txt") == built.opening_chunk("news/b.txt")


def test_an_index_of_another_revision_is_not_loaded(tmp_path):
    chunks = _chunks(TEXTS)
    LexicalIndex(chunks).save(tmp_path, REVISION)
    assert LexicalIndex.load(tmp_path, "live-a:rev-2", chunks) is None, (
        "nothing is saved for the new revision: the caller must build"
    )
    # A folder that claims another revision than its name says (copied by hand, say).
    folder = _only_folder(tmp_path)
    other = tmp_path / lexical._key("live-a:rev-2")
    folder.rename(other)
    assert LexicalIndex.load(tmp_path, "live-a:rev-2", chunks) is None, (
        "an index saved for another revision must not be used"
    )
    assert not other.exists(), "a mismatched copy is deleted so a fresh one can take its place"


def test_a_stale_index_is_rebuilt_not_used(tmp_path):
    chunks = _chunks(TEXTS)
    LexicalIndex(chunks).save(tmp_path, REVISION)
    changed = dict(TEXTS)
    changed["news/b.txt"] = [TEXTS["news/b.txt"][0], "Tours now start every half hour."]
    assert LexicalIndex.load(tmp_path, REVISION, _chunks(changed)) is None, (
        "same revision but other chunk texts (a store written without saving): not used"
    )
    fewer = {k: v for k, v in TEXTS.items() if k != "centre/c.txt"}
    LexicalIndex(chunks).save(tmp_path, REVISION)
    assert LexicalIndex.load(tmp_path, REVISION, _chunks(fewer)) is None, (
        "other chunk ids than the store holds: not used"
    )
    assert not any(tmp_path.iterdir()), "stale copies are deleted"


@pytest.mark.parametrize("damage", ["meta", "array", "bm25", "missing"])
def test_a_corrupt_index_is_detected_and_deleted(tmp_path, damage, caplog):
    chunks = _chunks(TEXTS)
    folder = LexicalIndex(chunks).save(tmp_path, REVISION)
    assert folder is not None
    if damage == "meta":
        (folder / "meta.json").write_text("{not json", encoding="utf-8")
    elif damage == "array":
        (folder / "term_ids.npy").write_bytes(b"\x93NUMPY garbage")
    elif damage == "bm25":
        for path in (folder / "bm25").glob("*.npy"):
            path.write_bytes(path.read_bytes()[:20])
    else:
        (folder / "digests.npy").unlink()
    with caplog.at_level("WARNING", logger="assistant.retrieval.lexical"):
        assert LexicalIndex.load(tmp_path, REVISION, chunks) is None, f"{damage}: not loaded"
    assert "unreadable" in caplog.text, f"the reason is logged: {caplog.text!r}"
    assert not folder.exists(), "a corrupt copy is deleted so that a rebuild can replace it"


def test_a_build_reuses_the_terms_of_the_newest_saved_index(tmp_path, stem_calls):
    LexicalIndex(_chunks(TEXTS)).save(tmp_path, REVISION)
    changed = dict(TEXTS)
    changed["news/d.txt"] = ["A new memorandum on clinical training was signed in Bishkek."]
    stem_calls.clear()
    rebuilt = LexicalIndex(_chunks(changed), previous=LexicalIndex.saved_terms(tmp_path))
    assert len(stem_calls) == 1, f"only the new chunk is stemmed: {stem_calls}"
    assert _ranking(rebuilt) == _ranking(LexicalIndex(_chunks(changed))), (
        "terms reused from disk must rank like a fresh build"
    )
