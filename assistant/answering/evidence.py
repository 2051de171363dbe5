"""Evidence: the candidate sentences of the retrieved chunks, scored, and the decision to answer.

Retrieval returns chunks; an answer needs sentences. Every admissible sentence of the
retrieved chunks becomes a `Candidate`, described by the general features of
`assistant.answering.features` and scored by the fitted ranker of `scorer`; the answerability
model then judges the best of them as a set. One method for every question: no rule here
knows what any particular question is about.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from assistant.answering.answerability import ANSWERABILITY_FEATURES, answerability_features
from assistant.answering.features import (
    FEATURES,
    Candidate,
    WordVectors,
    candidate_features,
    is_heading,
)
from assistant.answering.questions import Reading
from assistant.answering.scorer import Scorer
from assistant.injection import addresses_ai
from assistant.sentences import SpanEmbedder, chunk_sentences, sentence_key, sentence_vectors
from assistant.text import Span, is_latin, words
from assistant.types import Chunk, RetrievedChunk

Embed = Callable[[Sequence[str]], list[list[float]]]
# Chunks -> the vectors of their titles and sentences (`assistant.sentences.sentence_vectors`).
Pool = Callable[[Sequence[Chunk]], Mapping[str, np.ndarray]]
_MIN_WORDS = 3
# A chunk that is not its document's first is some way into the document: its sentences'
# positions start here (the exact offset is not known from the chunk alone).
_LATER_CHUNK_POSITION = 8


def admissible(sentence: str) -> bool:
    """Whether a sentence may serve as evidence at all.

    This is the one place for filters on what a source sentence may be used for. Text that
    addresses an AI system rather than a reader is data, never evidence, even when it reached
    the index (an index built by an older cleaner, a new disguise in a long line).
    """
    return len(words(sentence)) >= _MIN_WORDS and not addresses_ai(sentence)


@dataclass(frozen=True)
class Evidence:
    """A sentence of a retrieved chunk, scored as evidence for one question."""

    chunk: Chunk
    span: Span
    rank: int
    score: float
    index: int  # the sentence's index within its chunk

    @property
    def text(self) -> str:
        return self.span.text


def in_reading_order(chosen: Sequence[Evidence]) -> list[Evidence]:
    """Sentences of one document keep the document's order, so list items read in sequence;
    documents come in the order of their best sentence."""
    first_seen: dict[str, int] = {}
    for i, e in enumerate(chosen):
        first_seen.setdefault(e.chunk.doc_id, i)
    return sorted(chosen, key=lambda e: (first_seen[e.chunk.doc_id], e.chunk.start + e.span.start))


@dataclass(frozen=True)
class Scored:
    """Every candidate of one question, best first, and the verdict on the set."""

    evidence: list[Evidence]
    answerability: float
    answerable: bool
    set_values: np.ndarray | None = None  # the answerability model's input (for calibration)
    rows: np.ndarray | None = None  # candidate features, in `evidence` order (for fitting)
    # The question names something the sources never mention: declined whatever the model.
    unknown: bool = False


class VectorCache:
    """Title, word and sentence vectors, so that each is embedded (or read) once.

    A sentence's vector is kept per chunk (`assistant.sentences.sentence_key`): with late
    chunking it is pooled from its chunk's forward pass, as the indexer stores it and as that
    scorer was fitted."""

    def __init__(self, embed: Embed, size: int = 20_000, pool: Pool | None = None) -> None:
        self._embed = embed
        self._pool = pool
        self._size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    @classmethod
    def of(cls, embedder: SpanEmbedder, *, late: bool = False) -> VectorCache:
        """A cache that makes the vectors of a chunk's sentences it was not given the
        indexer's way (`late`: pooled from the chunk's pass, ASSISTANT_INDEX_LATE_CHUNKING)."""
        return cls(
            embedder.embed, pool=lambda chunks: sentence_vectors(chunks, embedder, late=late)
        )

    def sentences(self, items: Sequence[tuple[Chunk, str]]) -> np.ndarray:
        """The vectors of sentences of their chunks: as remembered (stored at index time),
        else made now by the indexer's own function; without one (tests of other parts),
        each sentence is embedded on its own."""
        keys = [sentence_key(chunk, text) for chunk, text in items]
        found: dict[str, np.ndarray] = {}
        with self._lock:
            for key in keys:
                vector = self._vectors.get(key)
                if vector is not None:
                    found[key] = vector
        missing = {c.chunk_id: c for (c, _), k in zip(items, keys, strict=True) if k not in found}
        if missing and self._pool is not None:
            pooled = {
                k: np.asarray(v, dtype=np.float64)
                for k, v in self._pool(list(missing.values())).items()
            }
            self.remember(pooled)
            found.update(pooled)
        left = [(k, t) for (_, t), k in zip(items, keys, strict=True) if k not in found]
        if left:
            texts = list(dict.fromkeys(t for _, t in left))
            alone = dict(zip(texts, np.asarray(self._embed(texts), dtype=np.float64), strict=True))
            fresh = {k: alone[t] for k, t in left}
            self.remember(fresh)
            found.update(fresh)
        return np.asarray([found[k] for k in keys])

    def remember(self, vectors: Mapping[str, np.ndarray]) -> None:
        """Take vectors made elsewhere (stored at index time) for these texts."""
        with self._lock:
            for text, vector in vectors.items():
                self._vectors[text] = np.asarray(vector, dtype=np.float64)
                self._vectors.move_to_end(text)
            while len(self._vectors) > self._size:
                self._vectors.popitem(last=False)

    def __call__(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            fresh = np.asarray(self._embed(missing), dtype=np.float64)
            with self._lock:
                for text, vector in zip(missing, fresh, strict=True):
                    self._vectors[text] = vector
                while len(self._vectors) > self._size:
                    self._vectors.popitem(last=False)
        with self._lock:
            found = [self._vectors.get(t) for t in texts]
        if any(v is None for v in found):  # evicted meanwhile by another thread
            return np.asarray(self._embed(list(texts)), dtype=np.float64)
        return np.asarray(found)


def candidates_of(
    retrieved: Sequence[RetrievedChunk], *, headings: bool = False
) -> list[tuple[Evidence, Candidate]]:
    """Every distinct admissible sentence of the retrieved chunks, in retrieval order.

    Headings, headlines and labels (short lines without closing punctuation) name a topic but
    state nothing, so they are no candidates unless `headings` asks for them (the newest news
    is told by its headline); they still count as a sentence's neighbours."""
    out: list[tuple[Evidence, Candidate]] = []
    seen: set[str] = set()
    for rank, hit in enumerate(retrieved):
        chunk = hit.chunk
        spans = chunk_sentences(chunk)
        offset = 0 if chunk.index == 0 else _LATER_CHUNK_POSITION
        for i, span in enumerate(spans):
            if span.text in seen or not admissible(span.text):
                continue
            if not headings and is_heading(span.text):
                continue
            seen.add(span.text)
            evidence = Evidence(chunk=chunk, span=span, rank=rank, score=0.0, index=i)
            out.append(
                (
                    evidence,
                    Candidate(
                        text=span.text,
                        title=chunk.title,
                        before=spans[i - 1].text if i else "",
                        after=spans[i + 1].text if i + 1 < len(spans) else "",
                        position=offset + i,
                    ),
                )
            )
    return out


def gather_evidence(
    reading: Reading,
    query: str,
    retrieved: Sequence[RetrievedChunk],
    *,
    vectors: VectorCache,
    idf: Callable[[str], float],
    scorer: Scorer,
    threshold: float | None = None,
    known: Callable[[str], bool] | None = None,
    crosslingual: Callable[[str, Sequence[str]], np.ndarray] | None = None,
    crosslingual_words: WordVectors | None = None,
    word_vectors: WordVectors | None = None,
) -> Scored:
    """Score every candidate sentence of `retrieved` for the question, best first.

    `reading` is the question as asked (its terms must be covered); `query` is its
    standalone form, which the meaning similarity compares against (it carries the topic of
    a follow-up). A question the English embedding model cannot read (another script) is
    scored by the ranker fitted without the similarity features. `word_vectors` gives the
    vectors of single words for soft coverage (the corpus word table); by default `vectors`
    embeds them.
    """
    pairs = candidates_of(retrieved)
    if not pairs:
        return Scored([], 0.0, False)
    # A name the sources never use (anywhere, not only in what was retrieved) cannot be
    # answered about: "Which university partnered with <a name found nowhere>?"
    # Likewise a yes/no question about a thing the sources never mention cannot be confirmed
    # ("Does the centre offer <a thing named nowhere>?").
    rarest = reading.rarest(idf)
    unknown_name = known is not None and (
        any(not known(n) for n in reading.names)
        or (reading.yes_no and rarest is not None and not known(rarest))
    )
    cands = [c for _, c in pairs]
    with_similarity = is_latin(reading.question)
    if with_similarity:
        titles = sorted({c.title for c in cands})
        matrix = vectors([query, *titles])
        q_vec = matrix[0]
        title_sim = dict(zip(titles, matrix[1:] @ q_vec, strict=True))
        similarities = vectors.sentences([(e.chunk, c.text) for e, c in pairs]) @ q_vec
        title_similarities = np.asarray([title_sim[c.title] for c in cands])
    elif crosslingual is not None:
        with_similarity = True
        titles = sorted({c.title for c in cands})
        title_sim = dict(zip(titles, crosslingual(reading.question, titles), strict=True))
        similarities = crosslingual(reading.question, [c.text for c in cands])
        title_similarities = np.asarray([title_sim[c.title] for c in cands])
    else:
        similarities = title_similarities = np.zeros(len(cands))
    rows = candidate_features(
        reading,
        cands,
        similarities=similarities,
        title_similarities=title_similarities,
        idf=idf,
        word_vectors=(word_vectors or vectors) if is_latin(reading.question) else None,
    )
    scores = scorer.rank_scores(rows, with_similarity=with_similarity)
    latin = is_latin(reading.question)
    # The answerability signals (a parse, entities, word vectors) only for a model that
    # reads them; missing, they are NaN.
    extra = (
        answerability_features(
            reading,
            cands,
            scores,
            rows[:, FEATURES.index("similarity")],
            rows[:, FEATURES.index("coverage")],
            idf=idf,
            word_vectors=(word_vectors or vectors) if latin else crosslingual_words,
            multilingual=not latin,
            known=known,
        )
        if set(ANSWERABILITY_FEATURES) & set(scorer.answerable.features)
        else None
    )
    # The answerability model was fitted on MiniLM similarities: the multilingual encoder's
    # cosines rank a question's candidates but are not on its scale.
    values = scorer.set_values(rows, scores, with_similarity=latin, extra=extra)
    probability = scorer.answerability_of(values)
    limit = scorer.threshold if threshold is None else threshold
    order = np.argsort(-scores, kind="stable")
    evidence = [
        Evidence(
            chunk=pairs[i][0].chunk,
            span=pairs[i][0].span,
            rank=pairs[i][0].rank,
            score=float(scores[i]),
            index=pairs[i][0].index,
        )
        for i in order
    ]
    # A model that weighs unknown names itself (`names_unknown`) needs no hard rule for them.
    blocked = unknown_name and "names_unknown" not in scorer.answerable.features
    answerable = probability >= limit and not blocked
    return Scored(evidence, probability, answerable, values, rows[order], unknown_name)


def rerank(
    retrieved: Sequence[RetrievedChunk], evidence: Sequence[Evidence]
) -> list[RetrievedChunk]:
    """Chunks ordered by their best evidence sentence, a finer signal than whole-chunk
    similarity (a chunk is several sentences, and usually one of them answers)."""
    best: dict[str, float] = {}
    for e in evidence:
        best[e.chunk.chunk_id] = max(best.get(e.chunk.chunk_id, -np.inf), e.score)
    order = {hit.chunk.chunk_id: i for i, hit in enumerate(retrieved)}
    return sorted(
        retrieved,
        key=lambda hit: (-best.get(hit.chunk.chunk_id, -np.inf), order[hit.chunk.chunk_id]),
    )


def choose_evidence(
    evidence: Sequence[Evidence], limit: int, gap: float, *, spread: bool = False
) -> list[Evidence]:
    """The sentences to cite: the best, then others scoring within `gap` (in logits) of it.
    With `spread` (a comparison of two reports), the best sentence of the best other document
    comes second, and each of the two documents may add one more sentence within `gap` of its
    own best."""
    if not evidence:
        return []
    best = evidence[0]
    chosen = [best]
    if spread:
        other = next((e for e in evidence[1:] if e.chunk.doc_id != best.chunk.doc_id), None)
        if other is not None:
            chosen.append(other)
            for lead in (best, other):
                extra = next(
                    (
                        e
                        for e in evidence
                        if e.chunk.doc_id == lead.chunk.doc_id
                        and e not in chosen
                        and e.score >= lead.score - gap
                    ),
                    None,
                )
                if extra is not None and len(chosen) < limit:
                    chosen.append(extra)
            return chosen
    for e in evidence[1:]:
        if len(chosen) >= limit:
            break
        if e not in chosen and e.score >= best.score - gap:
            chosen.append(e)
    return chosen
