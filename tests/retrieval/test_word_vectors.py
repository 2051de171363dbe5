"""The corpus word-vector table: made by the writer beside the store, keyed by the store
revision; it holds exactly the vectors the live embedder makes, so answers are identical with
and without it; a missing, stale or corrupt table is made again (reusing the rows of unchanged
words), and a word it lacks is embedded live."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest

from assistant import service
from assistant.answering.evidence import VectorCache, gather_evidence
from assistant.answering.features import surface_words
from assistant.answering.questions import Reading, standalone_question
from assistant.retrieval import HybridRetriever
from assistant.retrieval import word_vectors as wv
from assistant.retrieval.word_vectors import WordTable, lookup, vocabulary
from assistant.sentences import chunk_sentences
from assistant.store import open_store
from tests.conftest import make_settings
from tests.corpora import SMALL_CHUNKS, write_corpus

# Questions about the project corpus (the centre, its partners, their news) and a few it does
# not answer: what matters here is that every one is answered the same with the table.
QUESTIONS = (
    "What does CPMR offer?",
    "Please spell out the abbreviation CPMR.",
    "Enumerate every item in the centre's mandate.",
    "What does SibMed want to launch in the near future?",
    "Which universities signed agreements with the centre?",
    "Who can take part in the centre's research projects?",
    "How do students join the laboratory?",
    "When was the memorandum with the Kazakh university signed?",
    "What is the fax number of the centre's accountant?",
    "Do hospitals in the partnership run clinical trials of vaccines?",
)


class CountingEmbed:
    """The real embedder's vectors, counting the texts asked for (what a build embeds)."""

    def __init__(self, embedder) -> None:
        self.embedder = embedder
        self.texts: list[str] = []

    def __call__(self, texts):
        self.texts.extend(texts)
        return np.asarray(self.embedder.embed(list(texts), cache=False), dtype=np.float32)


def _retriever(settings, embedder, words_dir) -> HybridRetriever:
    store = open_store(settings, embedder.model_id, embedder.dimension)
    return HybridRetriever(store, embedder, settings.retrieval, words_dir=words_dir)


def _folders(root):
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


@pytest.fixture
def small(tmp_path, embedder):
    """A small generated corpus, indexed by the real service (which makes the table)."""
    settings = make_settings(tmp_path, chunking=SMALL_CHUNKS)
    write_corpus(settings.paths.corpus_dir, {0: 1, 1: 1})
    res = service.Resources(
        settings,
        embedder,
        (store := open_store(settings, embedder.model_id, embedder.dimension)),
        HybridRetriever(store, embedder, settings.retrieval, words_dir=settings.words_dir),
    )
    report = service.build_index(resources=res)
    assert report.ok, f"indexing the small corpus failed: {report}"
    return res


def test_indexing_saves_a_table_of_every_corpus_word_with_the_live_vectors(small, embedder):
    root = small.settings.words_dir
    assert root is not None and len(_folders(root)) == 1, "the writer saved one table"
    reader = _retriever(small.settings, embedder, root)
    table = reader.word_table()
    assert table is not None, "a new process loads the saved table without waiting"
    chunks = reader.lexical_index().chunks
    needed = {w for c in chunks for s in chunk_sentences(c) for w in surface_words(s.text).values()}
    assert needed and needed <= set(table.words), (
        f"every word soft coverage can ask for is in the table: {sorted(needed - set(table.words))}"
    )
    sample = sorted(needed)[::7]
    stored, missing = table.rows(sample)
    live = np.asarray(embedder.embed(sample, cache=False), dtype=np.float64)
    assert not missing and np.array_equal(stored, live), (
        "the table holds exactly the live embedder's vectors (float32, as it makes them)"
    )


def test_a_word_the_table_lacks_is_embedded_live(small, embedder):
    table = _retriever(small.settings, embedder, small.settings.words_dir).word_table()
    assert table is not None
    asked = ["volunteers", "zebrafish", "laboratories"]
    assert "zebrafish" not in table and "volunteers" in table, "the corpus never says zebrafish"
    got = lookup(table, VectorCache(embedder.embed))(asked)
    live = np.asarray(embedder.embed(asked, cache=False), dtype=np.float64)
    assert np.array_equal(got, live), "table rows and the live fallback give the same vectors"


def test_answers_are_identical_with_and_without_the_table(resources, embedder, tmp_path):
    """On the real project corpus: every candidate feature, and so every answer."""
    with_table = HybridRetriever(
        resources.store, embedder, resources.settings.retrieval, words_dir=tmp_path / "words"
    )
    table = with_table.word_table(wait=True)
    assert table is not None and len(table) > 500, "the corpus vocabulary was embedded"
    answered = replace(resources, retriever=with_table, _answerer=None)
    scorer = answered.answerer.scorer
    idf = resources.retriever.lexical_index().idf
    for question in QUESTIONS:
        query = standalone_question(question, [])
        hits = resources.retriever.retrieve(query, k=resources.settings.retrieval.top_k * 2)
        scored = {}
        for name, words in (("live", None), ("table", lookup(table, VectorCache(embedder.embed)))):
            scored[name] = gather_evidence(
                Reading.of(question),
                query,
                hits,
                vectors=VectorCache(embedder.embed),
                idf=idf,
                scorer=scorer,
                word_vectors=words,
            )
        for part in ("rows", "set_values"):
            live, fast = getattr(scored["live"], part), getattr(scored["table"], part)
            same = (live is None and fast is None) or (
                live is not None and fast is not None and np.array_equal(live, fast, equal_nan=True)
            )
            assert same, f"{question!r}: every {part} value must be the same with the table"
        plain = service.ask(question, resources=resources)
        fast = service.ask(question, resources=answered)
        assert (fast.text, fast.citations) == (plain.text, plain.citations), (
            f"{question!r}: the answer must not change with the table"
        )


def test_a_new_revision_gets_a_new_table_that_embeds_only_new_words(small, embedder):
    root = small.settings.words_dir
    old = WordTable.newest(root, f"{embedder.model_id}/{embedder.backend}")
    assert old is not None
    write_corpus(small.settings.paths.corpus_dir, {0: 1, 1: 1, 2: 1})
    (small.settings.paths.corpus_dir / "news" / "zebrafish.md").write_text(
        "# Zebrafish\n\nThe centre opened a zebrafish aquarium in Tokmok.\n", encoding="utf-8"
    )
    counting = CountingEmbed(embedder)
    small.retriever._embed = counting
    service.build_index(resources=small)
    table = small.retriever.word_table()
    assert table is not None and "zebrafish" in table, "the new revision's words are in it"
    new_words = set(table.words) - set(old.words)
    assert new_words and set(counting.texts) == new_words, (
        "the new table embeds the new words and reuses the rows of every other: "
        f"{sorted(set(counting.texts) ^ new_words)[:10]}"
    )
    assert len(_folders(root)) == 2, "the previous revision's table is kept for reuse"


def test_a_missing_table_is_made_in_the_background_while_questions_embed(small, embedder):
    root = small.settings.words_dir
    for folder in _folders(root):
        for part in folder.iterdir():
            part.unlink()
        folder.rmdir()
    reader = _retriever(small.settings, embedder, root)
    assert reader.word_table() is None, "a question does not wait for the table to be made"
    building = reader._words_thread
    assert building is not None, "it is made in the background meanwhile"
    building.join(timeout=300)
    table = reader.word_table()
    assert table is not None and len(_folders(root)) == 1, "the table was made and saved again"
    again = _retriever(small.settings, embedder, root).word_table()
    assert again is not None and again.words == table.words, "the next process loads it"


@pytest.mark.parametrize("damage", ["truncated", "garbage", "meta", "other model", "stale"])
def test_a_corrupt_or_stale_table_is_deleted_and_made_again(small, embedder, damage):
    root = small.settings.words_dir
    (folder,) = _folders(root)
    vectors, meta_path = folder / wv._VECTORS, folder / wv._META
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    if damage == "truncated":
        vectors.write_bytes(vectors.read_bytes()[:1000])
    elif damage == "garbage":
        data = bytearray(vectors.read_bytes())
        data[100:108] = b"\xff" * 8
        vectors.write_bytes(bytes(data))
    elif damage == "meta":
        meta_path.write_text("{not json", encoding="utf-8")
    elif damage == "other model":
        # Whole and self-consistent, but not this model's vectors: the load check sees it.
        shuffled = np.fromfile(vectors, dtype="<f4").reshape(meta["rows"], -1)[::-1].copy()
        vectors.write_bytes(shuffled.tobytes())
        meta["digest"] = wv._file_digest(vectors)
        meta_path.write_text(json.dumps(meta), encoding="utf-8")
    else:  # made from other chunks than the store holds at this revision
        meta["fingerprint"] = "0" * 32
        meta_path.write_text(json.dumps(meta), encoding="utf-8")
    reader = _retriever(small.settings, embedder, root)
    key = f"{embedder.model_id}/{embedder.backend}"
    lexical = reader.lexical_index()
    revision = reader.store.revision()
    assert WordTable.load(root, revision, lexical.fingerprint(), key, reader._embed) is None, (
        f"a {damage} table must not be used"
    )
    assert not folder.exists(), f"a {damage} table is deleted"
    table = reader.word_table(wait=True)
    assert table is not None, f"after a {damage} table, a new one is made"
    words = table.words[::11]
    stored, _ = table.rows(words)
    assert np.array_equal(stored, np.asarray(embedder.embed(words, cache=False))), (
        "the new table holds the live vectors"
    )


def test_vocabulary_leaves_out_stop_words():
    found = vocabulary(["The Centre's volunteers met the rector of KSMA in Bishkek."])
    assert "volunteers" in found and "bishkek" in found and "ksma" in found, found
    assert "the" not in found and "of" not in found, f"stop words are never looked up: {found}"
    assert found == sorted(found), "the table's words are sorted"
