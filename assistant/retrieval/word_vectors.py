"""Vectors of the corpus's single words, made once per store revision and saved beside the store.

Soft term coverage (`answering.features.soft_matches`) compares the question's words with every
word of every candidate sentence by their MiniLM vectors. Embedding those words on each question
was most of the answer stage's time (a fresh process starts with no vectors, and new questions
keep finding new words), so the writer embeds every distinct word of the stored chunks once and
saves the table, float32 and memory-mapped, in a folder keyed by the store revision, as the BM25
copy is (`lexical`). A word's vector depends only on the model, never on the corpus or on the
other words of an encode call (checked: the encoder's output for a word is bit-identical alone
or in any batch), so the table gives exactly the vectors the live embedder would, answers stay
identical, and a table for a new revision reuses every row of the previous one and embeds only
the new words. A word the table lacks (a question's own word, say) falls back to the embedder.

A saved table is used only when its format, model, revision and the fingerprint of the chunks
it was made from (their ids and text digests, as the BM25 copy verified them) match, its
vectors file has the recorded digest and size, and a few of its rows equal what the model makes
now; otherwise it is deleted and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path

import numpy as np

from assistant.retrieval import saved
from assistant.text import STOPWORDS, words

log = logging.getLogger(__name__)

# Bumped whenever what is saved, or which words are taken (`vocabulary`), changes.
FORMAT = 1
_META = "meta.json"
_WORDS = "words.json"
_VECTORS = "vectors.f32"
_DTYPE = np.dtype("<f4")
# Saved tables of earlier revisions kept for reuse; the newest is the one reused.
# Words embedded per encode call while building: small enough that a question waiting for
# the shared embedder (its lock) waits about half a second, large enough that the encoder,
# which batches a call's texts by token count, finds batches of words of one length (3-11
# tokens each; slices of 256 left batches padded ~15% more and cost ~20% more CPU per word).
_SLICE = 1024
# Rows re-embedded when a saved table is loaded, to catch a table made by another model.
_CHECKED_ROWS = 4
# Encoders on different CPUs may differ in the last bits; another model differs by far more.
_CHECK_TOLERANCE = 1e-4

Embed = Callable[[Sequence[str]], np.ndarray]
"""Unit-length float32 vectors of texts, one row each (the live embedder)."""


def vocabulary(texts: Iterable[str]) -> list[str]:
    """Every distinct word soft coverage may look up in sentences of `texts`, sorted: the
    case-folded words that are not stop words (what `surface_words` can return, and a few
    more that it drops for having no term)."""
    found: set[str] = set()
    for text in texts:
        found.update(words(text))
    return sorted(found - STOPWORDS)


class WordTable:
    """Unit-length float32 vectors of a fixed list of words (memory-mapped when saved)."""

    def __init__(
        self,
        words_: Sequence[str],
        vectors: np.ndarray,
        model_key: str,
        path: Path | None = None,
    ) -> None:
        self.words = list(words_)
        self.model_key = model_key
        self._vectors = vectors
        self._path = path  # the vectors file, when the table is saved
        self._rows = {word: row for row, word in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def __contains__(self, word: object) -> bool:
        return word in self._rows

    @property
    def dimension(self) -> int:
        return int(self._vectors.shape[1])

    def rows(self, words_: Sequence[str]) -> tuple[np.ndarray, list[int]]:
        """The float64 vectors of `words_` in order (zeros where the table has no row) and
        the positions of the words it lacks."""
        out = np.zeros((len(words_), self.dimension), dtype=np.float64)
        found = [(i, self._rows[w]) for i, w in enumerate(words_) if w in self._rows]
        if found:
            at, rows = zip(*found, strict=True)
            out[list(at)] = self._vectors[list(rows)]
        missing = [i for i, w in enumerate(words_) if w not in self._rows]
        return out, missing

    def _read_rows(self, rows: list[int]) -> np.ndarray:
        """Rows (ascending) for a build to reuse, read from the file rather than through the
        map, so that copying a whole table does not make all of it resident here."""
        if self._path is None or not rows:
            return np.asarray(self._vectors[rows], dtype=_DTYPE)
        first, last = rows[0], rows[-1]
        size = self.dimension * _DTYPE.itemsize
        with self._path.open("rb") as handle:
            handle.seek(first * size)
            block = np.frombuffer(handle.read((last - first + 1) * size), dtype=_DTYPE)
        return block.reshape(-1, self.dimension)[[r - first for r in rows]]

    @classmethod
    def build(
        cls,
        words_: Sequence[str],
        embed: Embed,
        model_key: str,
        *,
        previous: WordTable | None = None,
    ) -> WordTable:
        """The table of `words_` in memory (see `make` for one written to disk)."""
        blocks = list(_blocks(words_, embed, model_key, previous))
        return cls(words_, np.concatenate(blocks) if blocks else _empty(previous), model_key)

    @classmethod
    def make(
        cls,
        root: Path,
        revision: str,
        fingerprint: str,
        words_: Sequence[str],
        embed: Embed,
        model_key: str,
        *,
        previous: WordTable | None = None,
    ) -> WordTable | None:
        """Build the table of `words_` for `revision` straight into a folder under `root`
        (one slice of rows in memory at a time; written aside, then renamed into place) and
        return it memory-mapped; None when it could not be written (logged: answering then
        embeds the words itself). `previous`'s row of every word it holds is reused."""
        target = root / _key(revision)
        if not words_:
            return None

        def fill(folder: Path) -> None:
            dimension = 0
            with (folder / _VECTORS).open("wb") as handle:
                for block in _blocks(words_, embed, model_key, previous):
                    dimension = block.shape[1]
                    handle.write(np.ascontiguousarray(block, dtype=_DTYPE).tobytes())
            (folder / _WORDS).write_text(json.dumps(list(words_)), encoding="utf-8")
            meta = {
                "format": FORMAT,
                "revision": revision,
                "fingerprint": fingerprint,
                "model": model_key,
                "rows": len(words_),
                "dimension": dimension,
                "digest": _file_digest(folder / _VECTORS),
            }
            (folder / _META).write_text(json.dumps(meta), encoding="utf-8")

        if not saved.publish(root, "w", target, fill, "the word vectors"):
            return None
        try:
            return cls._read(target, model_key, revision=revision, fingerprint=fingerprint)
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            log.warning("the word vectors just saved in %s are unreadable: %s", target, exc)
            return None

    @classmethod
    def load(
        cls, root: Path, revision: str, fingerprint: str, model_key: str, embed: Embed
    ) -> WordTable | None:
        """The table saved under `root` for `revision` and these chunks (`fingerprint`), made
        by this model; None otherwise. A copy that is unreadable or does not match is deleted."""
        folder = root / _key(revision)
        if not folder.is_dir():
            return None
        try:
            table = cls._read(folder, model_key, revision=revision, fingerprint=fingerprint)
            if table is not None and not table._agrees_with(embed):
                log.warning("the saved word vectors %s were made by another model", folder)
                table = None
        except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
            log.warning("the saved word vectors %s are unreadable (%s): rebuilding", folder, exc)
            table = None
        if table is None:
            shutil.rmtree(folder, ignore_errors=True)
        return table

    @classmethod
    def newest(cls, root: Path, model_key: str) -> WordTable | None:
        """The newest readable saved table of this model (any revision), whose rows a new
        build reuses; None when there is none."""
        for folder in saved.newest_first(root, "w"):
            try:
                table = cls._read(folder, model_key)
            except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
                log.warning("skipping the saved word vectors %s (%s)", folder, exc)
                continue
            if table is not None:
                return table
        return None

    @classmethod
    def _read(
        cls,
        folder: Path,
        model_key: str,
        *,
        revision: str | None = None,
        fingerprint: str | None = None,
    ) -> WordTable | None:
        meta = json.loads((folder / _META).read_text(encoding="utf-8"))
        wanted = {"format": FORMAT, "model": model_key}
        if revision is not None:
            wanted |= {"revision": revision, "fingerprint": fingerprint}
        if any(meta.get(k) != v for k, v in wanted.items()):
            log.info("the saved word vectors %s are of another revision, chunks or model", folder)
            return None
        words_ = json.loads((folder / _WORDS).read_text(encoding="utf-8"))
        rows, dimension = int(meta["rows"]), int(meta["dimension"])
        path = folder / _VECTORS
        if (
            not isinstance(words_, list)
            or len(words_) != rows
            or rows == 0
            or dimension <= 0
            or path.stat().st_size != rows * dimension * _DTYPE.itemsize
        ):
            raise ValueError("its parts do not fit together")
        # Read through a file, not the map: checking the digest must not make every page
        # resident in this process (only the rows questions use should be).
        if _file_digest(path) != meta["digest"]:
            raise ValueError("the vectors do not match their digest")
        vectors = np.memmap(path, dtype=_DTYPE, mode="r", shape=(rows, dimension))
        return cls(words_, vectors, model_key, path)

    def _agrees_with(self, embed: Embed) -> bool:
        step = max(1, len(self.words) // _CHECKED_ROWS)
        sample = self.words[::step][:_CHECKED_ROWS]
        stored, _ = self.rows(sample)
        live = np.asarray(embed(sample), dtype=np.float64)
        return live.shape == stored.shape and bool(
            np.abs(live - stored).max(initial=0.0) <= _CHECK_TOLERANCE
        )


def _blocks(
    words_: Sequence[str], embed: Embed, model_key: str, previous: WordTable | None
) -> Iterator[np.ndarray]:
    """The rows of `words_` in order, `_SLICE` at a time: `previous`'s where it holds the word
    (same model), else embedded."""
    reuse = previous if previous is not None and previous.model_key == model_key else None
    embedded = 0
    for at in range(0, len(words_), _SLICE):
        part = words_[at : at + _SLICE]
        if reuse is None:
            kept: list[tuple[int, int]] = []
        else:
            kept = [(i, reuse._rows[w]) for i, w in enumerate(part) if w in reuse._rows]
        fresh = [i for i in range(len(part)) if reuse is None or part[i] not in reuse._rows]
        made = np.asarray(embed([part[i] for i in fresh]), dtype=_DTYPE) if fresh else None
        dimension = made.shape[1] if made is not None else reuse.dimension  # type: ignore[union-attr]
        block = np.empty((len(part), dimension), dtype=_DTYPE)
        if kept:
            block[[i for i, _ in kept]] = reuse._read_rows([r for _, r in kept])  # type: ignore[union-attr]
        if made is not None:
            block[fresh] = made
        embedded += len(fresh)
        yield block
    log.info("word vectors: %d words, %d embedded", len(words_), embedded)


def _empty(previous: WordTable | None) -> np.ndarray:
    return np.zeros((0, previous.dimension if previous else 0), dtype=_DTYPE)


def lookup(
    table: WordTable | None, fallback: Callable[[Sequence[str]], np.ndarray]
) -> Callable[[Sequence[str]], np.ndarray]:
    """A `WordVectors` function: rows of `table`, and `fallback` (the live embedder, through
    answering's vector cache) for the words it lacks."""

    def vectors(words_: Sequence[str]) -> np.ndarray:
        if table is None:
            return np.asarray(fallback(words_), dtype=np.float64)
        out, missing = table.rows(words_)
        if missing:
            out[missing] = fallback([words_[i] for i in missing])
        return out

    return vectors


def _file_digest(path: Path) -> str:
    digest = hashlib.blake2b(digest_size=16)
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _key(revision: str) -> str:
    return f"w{FORMAT}-{hashlib.sha256(revision.encode()).hexdigest()[:16]}"
