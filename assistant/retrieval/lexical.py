"""BM25 over the chunks in the store, derived from the store's own contents, saved beside it.

The lexical index is never a second source of truth: it is built from `VectorStore.all_chunks`
whenever the store's revision changes, so it cannot drift from what Chroma holds. bm25s keeps
eager sparse scores, so a query stays in the low milliseconds at 100k chunks where a
pure-Python scorer (rank_bm25) scans every chunk.

Stemming every chunk is most of a build (minutes at 100k chunks on 2 cores), so an index is
saved to a folder keyed by the store revision it was built for (`save`), and a process that
starts at that revision loads it (`load`: bm25s's arrays memory-mapped, no stemming) instead of
building it again. A saved index is used only when its revision matches and its chunk ids and
text digests equal the chunks the store holds now; a stale, foreign or unreadable one is
deleted and rebuilt. A build after a change reuses the terms of the newest saved index (or of
the index the process already holds) for every chunk whose text did not change, so only new
or changed chunks are stemmed again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
from collections.abc import Sequence
from pathlib import Path

import bm25s
import numpy as np

from assistant.retrieval import saved
from assistant.text import terms
from assistant.types import Chunk

log = logging.getLogger(__name__)

# bm25s logs every index build at DEBUG through its own handler; that is not news to a user.
logging.getLogger("bm25s").setLevel(logging.WARNING)

# Bumped whenever what is saved, or how terms are made (assistant.text.terms), changes.
FORMAT = 1
_META = "meta.json"
_BM25 = "bm25"
_ARRAYS = ("digests", "term_ids", "offsets", "document_frequency")
# Saved indexes of earlier revisions kept for term reuse; the newest is the one used.

TermCache = dict[str, tuple[int, list[str]]]
"""chunk id -> (digest of the indexed text, its terms)."""


def text_digest(text: str) -> int:
    """A stable 64-bit digest of a chunk's indexed text (Python's hash() differs per process)."""
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "little")


class LexicalIndex:
    """An immutable BM25 index over a fixed list of chunks."""

    def __init__(
        self,
        chunks: Sequence[Chunk],
        *,
        previous: LexicalIndex | TermCache | None = None,
    ) -> None:
        self.chunks = list(chunks)
        known = previous.term_cache() if isinstance(previous, LexicalIndex) else previous or {}
        tokenized: list[list[str]] = []
        digests: list[int] = []
        for chunk in self.chunks:
            text = chunk.embedding_text()
            digest = text_digest(text)
            cached = known.get(chunk.chunk_id)
            tokenized.append(
                cached[1] if cached is not None and cached[0] == digest else terms(text)
            )
            digests.append(digest)
        # Term ids are assigned here and handed to bm25s with the vocabulary: given strings,
        # bm25s finds the vocabulary with numpy's unique over every token, most of its build.
        vocab: dict[str, int] = {}
        token_ids = [[vocab.setdefault(t, len(vocab)) for t in tokens] for tokens in tokenized]
        self._bm25 = bm25s.BM25()
        if self.chunks:
            self._bm25.index((token_ids, vocab), show_progress=False)
            vocab = self._bm25.vocab_dict  # the same, plus bm25s's own empty-token entry
        lengths = np.fromiter((len(ids) for ids in token_ids), np.int64, len(token_ids))
        self._digests = np.asarray(digests, dtype=np.uint64)
        self._term_ids = np.fromiter(
            (i for ids in token_ids for i in ids), np.int32, int(lengths.sum())
        )
        self._offsets = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        # Chunks per term: the distinct (chunk, term) pairs, counted by term.
        rows = np.repeat(np.arange(len(tokenized), dtype=np.int64), lengths)
        pairs = np.unique(rows * max(len(vocab), 1) + self._term_ids)
        self._document_frequency = np.bincount(
            pairs % max(len(vocab), 1), minlength=len(vocab)
        ).astype(np.int32)
        self._setup()

    def _setup(self) -> None:
        self._vocab: dict[str, int] = self._bm25.vocab_dict if self.chunks else {}
        self._openings: dict[str, Chunk] = {}
        self._by_document: dict[str, list[Chunk]] = {}
        for chunk in self.chunks:
            self._by_document.setdefault(chunk.doc_id, []).append(chunk)
            first = self._openings.get(chunk.doc_id)
            if first is None or chunk.index < first.index:
                self._openings[chunk.doc_id] = chunk

    def __len__(self) -> int:
        return len(self.chunks)

    def term_cache(self) -> TermCache:
        """Every chunk's digest and terms, for a later build to reuse."""
        words = [""] * len(self._vocab)
        for word, at in self._vocab.items():
            words[at] = word
        starts = self._offsets.tolist()
        ids = self._term_ids.tolist()
        return {
            chunk.chunk_id: (int(digest), [words[i] for i in ids[starts[n] : starts[n + 1]]])
            for n, (chunk, digest) in enumerate(zip(self.chunks, self._digests, strict=True))
        }

    def fingerprint(self) -> str:
        """A digest of which chunks, with which texts, this index was made from (independent
        of their order): what a table derived from the same chunks records, to be matched."""
        cached: str | None = getattr(self, "_fingerprint", None)
        if cached is not None:
            return cached
        order = sorted(range(len(self.chunks)), key=lambda n: self.chunks[n].chunk_id)
        digest = hashlib.blake2b(digest_size=16)
        digest.update("\n".join(self.chunks[n].chunk_id for n in order).encode())
        digest.update(np.asarray(self._digests, dtype="<u8")[order].tobytes())
        self._fingerprint = digest.hexdigest()
        return self._fingerprint

    def opening_chunk(self, doc_id: str) -> Chunk | None:
        """The first chunk of a document (its headline and lead), if it is indexed."""
        return self._openings.get(doc_id)

    def document_chunks(self, doc_id: str) -> list[Chunk]:
        """Every chunk of one document, in the index's order (a scan of all chunks per call
        grew with the corpus: a quarter of a second per comparison question at 100k)."""
        return list(self._by_document.get(doc_id, ()))

    def idf(self, term: str) -> float:
        """Smoothed inverse document frequency of a stemmed term; unseen terms score highest."""
        n = max(len(self.chunks), 1)
        at = self._vocab.get(term)
        df = int(self._document_frequency[at]) if at is not None else 0
        return math.log(1 + (n - df + 0.5) / (df + 0.5))

    def search(self, query: str, k: int) -> list[tuple[Chunk, float]]:
        """The best `k` chunks with a positive BM25 score, best first."""
        query_terms = terms(query)
        if not self.chunks or not query_terms:
            return []
        scores = np.asarray(self._bm25.get_scores(query_terms))
        k = min(k, len(self.chunks))
        top = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(top, key=lambda i: -scores[i])
        return [(self.chunks[i], float(scores[i])) for i in ranked if scores[i] > 0]

    # -- saved copies ------------------------------------------------------------------------

    def save(self, root: Path, revision: str) -> Path | None:
        """Save the index for `revision` under `root` (written aside, then renamed into place,
        so a reader never sees half a folder); returns the folder, or None when it could not
        be written (logged: the index still works, the next process builds it again)."""
        target = root / _key(revision)
        if target.exists() or not self.chunks:
            return target if target.exists() else None

        def fill(folder: Path) -> None:
            self._bm25.save(str(folder / _BM25), show_progress=False)
            for name in _ARRAYS:
                np.save(folder / f"{name}.npy", getattr(self, f"_{name}"), allow_pickle=False)
            meta = {
                "format": FORMAT,
                "revision": revision,
                "chunk_ids": [chunk.chunk_id for chunk in self.chunks],
            }
            (folder / _META).write_text(json.dumps(meta), encoding="utf-8")

        return target if saved.publish(root, "r", target, fill, "the BM25 index") else None

    @classmethod
    def load(cls, root: Path, revision: str, chunks: Sequence[Chunk]) -> LexicalIndex | None:
        """The index saved under `root` for `revision`, if it holds exactly `chunks` (same ids,
        same texts); None otherwise. A copy that is unreadable or does not match is deleted."""
        folder = root / _key(revision)
        if not folder.is_dir():
            return None
        try:
            index = cls._read(folder, revision, chunks)
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            log.warning(
                "the saved BM25 index %s is unreadable (%s): building it again", folder, exc
            )
            index = None
        if index is None:
            shutil.rmtree(folder, ignore_errors=True)
        return index

    @classmethod
    def _read(cls, folder: Path, revision: str, chunks: Sequence[Chunk]) -> LexicalIndex | None:
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT or meta.get("revision") != revision:
            log.warning("the saved BM25 index %s is of another format or revision", folder)
            return None
        by_id = {chunk.chunk_id: chunk for chunk in chunks}
        ids: list[str] = meta["chunk_ids"]
        if len(ids) != len(by_id) or any(i not in by_id for i in ids):
            log.warning("the saved BM25 index %s holds other chunks than the store", folder)
            return None
        ordered = [by_id[i] for i in ids]
        arrays = {name: np.load(folder / f"{name}.npy", allow_pickle=False) for name in _ARRAYS}
        digests = np.fromiter(
            (text_digest(chunk.embedding_text()) for chunk in ordered), np.uint64, len(ordered)
        )
        if not np.array_equal(arrays["digests"], digests):
            log.warning("the saved BM25 index %s holds other chunk texts than the store", folder)
            return None
        bm25 = bm25s.BM25.load(str(folder / _BM25), mmap=True, show_progress=False)
        if bm25.scores["num_docs"] != len(ordered) or len(bm25.vocab_dict) != len(
            arrays["document_frequency"]
        ):
            raise ValueError("its parts do not fit together")
        index = cls.__new__(cls)
        index.chunks = ordered
        index._bm25 = bm25
        for name in _ARRAYS:
            setattr(index, f"_{name}", arrays[name])
        index._setup()
        return index

    @staticmethod
    def saved_terms(root: Path) -> TermCache:
        """The terms of the newest readable saved index under `root` (any revision), so that a
        new build stems only what changed since; empty when there is none."""
        for folder in saved.newest_first(root, "r"):
            try:
                meta = json.loads((folder / _META).read_text(encoding="utf-8"))
                if meta.get("format") != FORMAT:
                    continue
                arrays = {n: np.load(folder / f"{n}.npy", allow_pickle=False) for n in _ARRAYS}
                vocab = json.loads((folder / _BM25 / "vocab.index.json").read_text("utf-8"))
                return _term_cache(meta["chunk_ids"], arrays, vocab)
            except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
                log.warning("skipping the saved BM25 index %s (%s)", folder, exc)
        return {}


def _term_cache(ids: list[str], arrays: dict[str, np.ndarray], vocab: dict[str, int]) -> TermCache:
    words = [""] * len(vocab)
    for word, at in vocab.items():
        words[at] = word
    starts = arrays["offsets"].tolist()
    term_ids = arrays["term_ids"].tolist()
    digests = arrays["digests"].tolist()
    if len(starts) != len(ids) + 1 or len(digests) != len(ids):
        raise ValueError("its parts do not fit together")
    return {
        chunk_id: (int(digests[n]), [words[i] for i in term_ids[starts[n] : starts[n + 1]]])
        for n, chunk_id in enumerate(ids)
    }


def _key(revision: str) -> str:
    # Revisions hold ':' and come from the store; a digest is a safe folder name.
    return f"r{FORMAT}-{hashlib.sha256(revision.encode()).hexdigest()[:16]}"
