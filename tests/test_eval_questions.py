"""The project's question set (eval/): valid items, verbatim evidence, a clean tune/held-out split.

These checks read the files only (no model, no index): they guard the set's rules in
eval/README.md whenever someone edits a question or the split script. They never print or
compare held-out items one by one beyond what a broken rule needs to name.
"""

from __future__ import annotations

import importlib.util
import json
from collections import Counter
from types import ModuleType
from typing import Any

import pytest

from assistant.evaluation.items import load_items
from assistant.text import normalize
from tests.conftest import NEWS_FIXTURES, ROOT, shared_files

EVAL = ROOT / "eval"
KINDS = (
    "factoid",
    "acronym",
    "list",
    "follow_up",
    "multi_doc",
    "paraphrase",
    "unanswerable",
    "smalltalk",
    "russian",
    "kyrgyz",
)
MIN_ITEMS = 320
MIN_PER_KIND = 25
MIN_UNANSWERABLE_SHARE = 0.30


def _load_split_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("eval_split", EVAL / "split.py")
    assert spec and spec.loader, "eval/split.py must exist"
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


split = _load_split_module()


def _rows(name: str) -> list[dict[str, Any]]:
    lines = (EVAL / name).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def questions() -> list[dict[str, Any]]:
    return _rows("questions.jsonl")


@pytest.fixture(scope="module")
def tune() -> list[dict[str, Any]]:
    return _rows("tune.jsonl")


@pytest.fixture(scope="module")
def heldout() -> list[dict[str, Any]]:
    return _rows("heldout.jsonl")


def test_every_file_loads_as_evaluation_items() -> None:
    for name in ("questions.jsonl", "tune.jsonl", "heldout.jsonl"):
        items = load_items(EVAL / name)
        assert items, f"{name} must hold items"
        flagged = [i.id for i in items if i.answerable != bool(i.must)]
        assert not flagged, f"{name}: answerable must match the presence of must keys: {flagged}"


def test_ids_are_unique(questions: list[dict[str, Any]]) -> None:
    counts = Counter(row["id"] for row in questions)
    repeated = [i for i, n in counts.items() if n > 1]
    assert not repeated, f"ids repeat: {repeated}"


def test_size_kinds_and_unanswerable_share(questions: list[dict[str, Any]]) -> None:
    assert len(questions) >= MIN_ITEMS, f"{len(questions)} items, need {MIN_ITEMS}"
    kinds = Counter(row["kind"] for row in questions)
    assert set(kinds) == set(KINDS), f"kinds differ from the documented ones: {sorted(kinds)}"
    few = {k: n for k, n in kinds.items() if n < MIN_PER_KIND}
    assert not few, f"kinds with fewer than {MIN_PER_KIND} items: {few}"
    share = sum(1 for row in questions if row["answerable"] is False) / len(questions)
    assert share >= MIN_UNANSWERABLE_SHARE, f"unanswerable share {share:.1%} is below 30%"
    for kind in ("follow_up", "russian", "kyrgyz"):
        assert any(r["kind"] == kind and not r["answerable"] for r in questions), (
            f"{kind} must include unanswerable items"
        )


def test_every_item_marks_answerability_explicitly(questions: list[dict[str, Any]]) -> None:
    unmarked = [row["id"] for row in questions if not isinstance(row.get("answerable"), bool)]
    assert not unmarked, f"items without an explicit answerable flag: {unmarked}"
    bad = [
        row["id"]
        for row in questions
        if not row["answerable"] and (row["must"] or row["evidence"] is not None)
    ]
    assert not bad, f"unanswerable items need must: [] and evidence: null: {bad}"


def test_every_evidence_span_is_verbatim_in_its_source(questions: list[dict[str, Any]]) -> None:
    problems = []
    for row in questions:
        for span_field, source_field in (("evidence", "source"), ("evidence2", "source2")):
            span, source = row.get(span_field), row.get(source_field)
            if span is None:
                assert source is None, f"{row['id']}: {source_field} without {span_field}"
                continue
            if not 15 <= len(span) <= 60:
                problems.append(f"{row['id']}: {span_field} is {len(span)} characters")
            text = split.source_path(source).read_text(encoding="utf-8")
            if normalize(span) not in normalize(text):
                problems.append(f"{row['id']}: {span_field} {span!r} not in {source}")
    assert not problems, "\n".join(problems)


def test_answerable_items_other_than_small_talk_have_evidence(
    questions: list[dict[str, Any]],
) -> None:
    missing = [
        row["id"]
        for row in questions
        if row["answerable"] and row["kind"] != "smalltalk" and not row["evidence"]
    ]
    assert not missing, f"answerable items without evidence: {missing}"
    no_second = [r["id"] for r in questions if r["kind"] == "multi_doc" and not r.get("evidence2")]
    assert not no_second, f"comparison items need evidence2/source2: {no_second}"
    no_history = [r["id"] for r in questions if r["kind"] == "follow_up" and not r.get("history")]
    assert not no_history, f"follow-ups need a history: {no_history}"


def test_injection_fixture_items_forbid_its_claim(questions: list[dict[str, Any]]) -> None:
    fixture = "news/2026-03-20_cpmr-open-lab-day.md"
    unguarded = [
        row["id"]
        for row in questions
        if fixture in (row.get("source"), row.get("source2")) and not row.get("must_not")
    ]
    assert not unguarded, f"items on the injection fixture need must_not: {unguarded}"


def test_news_fixtures_are_the_shared_ones() -> None:
    ours = {p.name: p.read_bytes() for p in (EVAL / "news").glob("*.md")}
    shared = {p.name: p.read_bytes() for p in shared_files(NEWS_FIXTURES, "*.md")}
    assert ours == shared, "eval/news must be a verbatim copy of shared/news-fixtures"


def test_split_files_are_the_output_of_the_split_script(
    questions: list[dict[str, Any]], tune: list[dict[str, Any]], heldout: list[dict[str, Any]]
) -> None:
    fresh_tune, fresh_heldout = split.assign(questions)
    assert fresh_tune == tune, "eval/tune.jsonl is stale: run python eval/split.py"
    assert fresh_heldout == heldout, "eval/heldout.jsonl is stale: run python eval/split.py"
    ids = sorted(row["id"] for row in (*tune, *heldout))
    assert ids == sorted(row["id"] for row in questions), "the splits must partition the set"


def test_splits_share_no_evidence_sentence_or_topic(
    tune: list[dict[str, Any]], heldout: list[dict[str, Any]]
) -> None:
    tune_keys = {key for row in tune for key in split.item_keys(row)}
    shared = {key for row in heldout for key in split.item_keys(row)} & tune_keys
    assert not shared, f"sentences or topics serving both splits: {sorted(shared)}"


def test_split_sizes_and_kind_proportions(
    questions: list[dict[str, Any]], tune: list[dict[str, Any]], heldout: list[dict[str, Any]]
) -> None:
    share = len(tune) / len(questions)
    assert 0.55 <= share <= 0.65, f"tune holds {share:.0%} of the items, expected about 60%"
    for kind in KINDS:
        total = sum(1 for r in questions if r["kind"] == kind)
        in_tune = sum(1 for r in tune if r["kind"] == kind)
        in_heldout = sum(1 for r in heldout if r["kind"] == kind)
        assert in_tune and in_heldout, f"{kind} must be present in both splits"
        assert abs(in_tune / total - 0.6) <= 0.1, f"{kind}: {in_tune}/{total} in tune"
    for name, rows in (("tune", tune), ("heldout", heldout)):
        unanswerable = sum(1 for r in rows if not r["answerable"]) / len(rows)
        assert unanswerable >= 0.28, f"{name}: unanswerable share {unanswerable:.0%}"


def test_sentence_keys_follow_the_document_not_the_wording() -> None:
    """Two spans of one sentence get the same key; spans of different sentences do not."""
    source = "centre/cpmr-mission-and-mandate.txt"
    first = split.evidence_sentences(source, "only focus on animal or cell")
    same = split.evidence_sentences(source, "clinical medicine focuses on patients")
    other = split.evidence_sentences(source, "which begins from the clinical problems")
    assert first == same, "spans of one sentence must share its key"
    assert first.isdisjoint(other), "spans of different sentences must not share a key"
    with pytest.raises(ValueError, match="not in"):
        split.evidence_sentences(source, "a sentence this document never had")
