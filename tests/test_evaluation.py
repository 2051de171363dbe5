"""The evaluation harness: metrics on hand-made answers, item loading, and one real run.

The metric tests build real `Answer` objects by hand (the shape the answer path returns) so
each case isolates one rule; faithfulness uses the real embedder and the real
`verification.check_sentence`. The integration tests run real items against a real temporary
index of the project corpus with the extractive backend.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from assistant import service
from assistant.answering.verification import check_sentence
from assistant.citations import with_markers
from assistant.embeddings import Embedder
from assistant.errors import InputError
from assistant.evaluation import grading, metrics
from assistant.evaluation.cli import main as eval_main
from assistant.evaluation.harness import run_eval
from assistant.evaluation.items import EvalItem, load_items, parse_items
from assistant.evaluation.metrics import SentenceChecker
from assistant.evaluation.report import MachineInfo, collect_machine_info, write_report
from assistant.types import Answer, AnswerSentence, Chunk, Citation, RetrievedChunk, Timings
from tests.conftest import DEV_SET, make_settings

KAZNU_CHUNK = (
    "China has a long tradition of medicine. Today, 4566 medical centers are successfully "
    "operating in China. About 2,000 traditional medical factories work at its universities."
)
KAZNU_QUOTE = "Today, 4566 medical centers are successfully operating in China."


# --- builders ------------------------------------------------------------------------------


def chunk(text: str, chunk_id: str = "kaznu.txt#0") -> Chunk:
    doc_id = chunk_id.split("#")[0]
    return Chunk(
        chunk_id=chunk_id,
        doc_id=doc_id,
        index=int(chunk_id.split("#")[1]),
        text=text,
        title="KazNU and China",
        kind="news",
        source=doc_id,
        start=0,
        doc_hash="h",
    )


def citation(n: int, quote: str, chunk_id: str = "kaznu.txt#0") -> Citation:
    return Citation(n=n, chunk_id=chunk_id, source=chunk_id.split("#")[0], title="t", quote=quote)


def answer(
    sentences: Sequence[tuple[str, tuple[int, ...]]],
    cites: Sequence[Citation] = (),
    *,
    retrieved: Sequence[Chunk] = (),
    refused: bool = False,
) -> Answer:
    """An answer as the pipeline renders it: its sentences joined, with their [n] markers."""
    parts = [with_markers(text, list(numbers)) for text, numbers in sentences]
    origin = "refusal" if refused else "generated"
    return Answer(
        question="q",
        standalone_question="q",
        text=" ".join(parts),
        refused=refused,
        sentences=tuple(
            AnswerSentence(text=t, citations=n, verified=True, origin=origin) for t, n in sentences
        ),
        citations=tuple(cites),
        retrieved=tuple(
            RetrievedChunk(chunk=c, score=1.0 / (i + 1)) for i, c in enumerate(retrieved)
        ),
        timings=Timings(retrieve_ms=10, generate_ms=20, total_ms=30, first_token_ms=25),
        backend="test",
    )


def refusal() -> Answer:
    return answer([("The documents do not say.", ())], refused=True)


def item(**fields: object) -> EvalItem:
    base: dict[str, object] = {
        "id": "t1",
        "kind": "factoid",
        "question": "How many medical centers operate in China?",
        "answer": "4566.",
        "must": [["4566", "4,566"]],
        "evidence": "Today, 4566 medical centers",
        "source": "kaznu.txt",
    }
    return EvalItem.model_validate(base | fields)


UNANSWERABLE: dict[str, object] = {
    "id": "u1",
    "kind": "unanswerable",
    "must": [],
    "evidence": None,
    "source": None,
}


@pytest.fixture(scope="module")
def check(embedder: Embedder) -> SentenceChecker:
    """The answer path's own support check, with the real embedding model."""

    def run(
        sentence: str, quotes: Sequence[str], *, titles: Sequence[str] = ()
    ) -> metrics.SupportLike:
        return check_sentence(sentence, quotes, embedder, titles=titles)

    return run


# --- correctness -----------------------------------------------------------------------------


def test_correct_answer_scores_correct(check: SentenceChecker) -> None:
    good = answer([(KAZNU_QUOTE, (1,))], [citation(1, KAZNU_QUOTE)], retrieved=[chunk(KAZNU_CHUNK)])
    result = grading.score_item(item(), good, check)
    assert result.correct is True, f"the answer contains 4566, expected correct: {result}"
    assert result.passed, (
        f"a correct, cited, verbatim answer should fail nothing: {result.failures}"
    )


def test_missing_must_group_scores_incorrect(check: SentenceChecker) -> None:
    text = "Many medical centers are successfully operating in China."
    partial = answer([(text, (1,))], [citation(1, KAZNU_QUOTE)])
    two_groups = item(must=[["medical center"], ["4566", "4,566"]])
    result = grading.score_item(two_groups, partial, check)
    assert result.correct is False, "the number group is missing, so the answer is incorrect"
    assert result.missing == (("4566", "4,566"),), f"only the number group is missing: {result}"
    assert "correctness" in {f.check for f in result.failures}, "the failure is reported"


def test_must_match_ignores_case_and_citation_markers() -> None:
    assert metrics.missing_groups("It is HEALTH [1].", [["health"]]) == (), "case-insensitive"
    assert metrics.missing_groups("Rank [1].", [["1"]]) == (("1",),), "markers are not content"


def test_must_not_violation_scores_incorrect(check: SentenceChecker) -> None:
    text = "The memorandum was signed with Nordhavn University."
    claimed = answer([(text, (1,))], [citation(1, text)])
    result = grading.score_item(item(must=[["memorandum"]], must_not=["nordhavn"]), claimed, check)
    assert result.correct is False, "a must_not phrase makes an otherwise complete answer wrong"
    assert result.forbidden == ("nordhavn",), f"the forbidden phrase is named: {result.forbidden}"


# --- faithfulness ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("invented", "planted"),
    [
        ("Today, 5120 medical centers are successfully operating in China.", "5120"),
        ("Today, 4566 medical centers are successfully operating in Japan.", "japan"),
        ("In March 2019, 4566 medical centers were operating in China.", "2019"),
    ],
)
def test_invented_detail_fails_faithfulness(
    check: SentenceChecker, invented: str, planted: str
) -> None:
    cites = [citation(1, KAZNU_QUOTE)]
    faithful = metrics.check_faithfulness(answer([(KAZNU_QUOTE, (1,))], cites), check)
    assert [s.supported for s in faithful] == [True], f"the verbatim quote is supported: {faithful}"
    checked = metrics.check_faithfulness(answer([(invented, (1,))], cites), check)
    assert [s.supported for s in checked] == [False], f"{planted!r} is not in the quote: {checked}"
    assert planted in " ".join(checked[0].reasons).lower(), f"reason names it: {checked[0]}"


def test_faithfulness_ignores_verified_flags_and_uncited_sentences(check: SentenceChecker) -> None:
    sentences = [(KAZNU_QUOTE, (1,)), ("It is the largest network in Asia.", ())]
    ok = answer(sentences, [citation(1, KAZNU_QUOTE)])
    checked = metrics.check_faithfulness(ok, check)
    assert [s.supported for s in checked] == [True, False], (
        f"an uncited sentence counts as unsupported although flagged verified: {checked}"
    )
    scores = metrics.summarize([grading.score_item(item(), ok, check)])
    assert (scores.faithfulness.hits, scores.faithfulness.total) == (1, 2), f"{scores}"


def test_text_outside_the_answer_sentences_is_still_checked(check: SentenceChecker) -> None:
    base = answer([(KAZNU_QUOTE, (1,))], [citation(1, KAZNU_QUOTE)])
    tampered = base.model_copy(update={"text": base.text + " Each employs 900 doctors [1]."})
    checked = metrics.check_faithfulness(tampered, check)
    assert len(checked) == 2, f"the extra shown sentence is checked too: {checked}"
    assert not checked[1].supported and "900" in checked[1].text, f"unsupported: {checked[1]}"


def test_list_items_quoted_in_a_row_are_checked_as_the_answer_split_them(
    check: SentenceChecker,
) -> None:
    first = "3. To provide research facilities to individual workers or research groups;"
    second = "2. To provide a forum for interaction with national and international experts."
    quoted = answer([(first, (1,)), (second, (2,))], [citation(1, first), citation(2, second)])
    assert quoted.text.count("[") == 2, f"rendered with markers: {quoted.text}"
    checked = metrics.check_faithfulness(quoted, check)
    assert [s.supported for s in checked] == [True, True], (
        f"two verbatim quotes stay two supported sentences, whatever a re-split says: {checked}"
    )
    assert [s.origin for s in checked] == ["generated", "generated"], (
        f"each check says who wrote the sentence (the model, here): {checked}"
    )


def test_answer_without_sentence_records_is_split_from_its_text(check: SentenceChecker) -> None:
    bare = answer([], [citation(1, KAZNU_QUOTE)]).model_copy(
        update={
            "text": "Today, 4566 medical centers are successfully operating in China. [1] "
            "There are 12 of them in Beijing."
        }
    )
    checked = metrics.check_faithfulness(bare, check)
    assert [(s.citations, s.supported) for s in checked] == [((1,), True), ((), False)], (
        f"a marker after the full stop belongs to the sentence before it: {checked}"
    )


def test_citation_to_a_missing_source_is_unsupported(check: SentenceChecker) -> None:
    dangling = answer([(KAZNU_QUOTE, (3,))], [citation(1, KAZNU_QUOTE)])
    checked = metrics.check_faithfulness(dangling, check)
    assert [s.supported for s in checked] == [False], f"[3] names no citation: {checked}"


# --- refusals ------------------------------------------------------------------------------


def test_refusal_on_unanswerable_item_counts_right(check: SentenceChecker) -> None:
    result = grading.score_item(item(**UNANSWERABLE), refusal(), check)
    assert result.refusal_correct is True, f"declining an unanswerable item is right: {result}"
    assert result.passed and result.sentences == (), f"a refusal fails nothing: {result}"
    scores = metrics.summarize([result])
    assert scores.refusal_accuracy.value == 1.0, f"{scores.refusal_accuracy}"
    assert scores.correctness.total == 0, "unanswerable items are not graded for correctness"


def test_answering_an_unanswerable_item_counts_wrong(check: SentenceChecker) -> None:
    said = answer([(KAZNU_QUOTE, (1,))], [citation(1, KAZNU_QUOTE)])
    result = grading.score_item(item(**UNANSWERABLE), said, check)
    assert result.refusal_correct is False, "answering instead of declining is a refusal miss"
    assert "refusal" in {f.check for f in result.failures}, f"{result.failures}"


def test_refusal_on_answerable_item_is_a_false_refusal(check: SentenceChecker) -> None:
    result = grading.score_item(item(), refusal(), check)
    assert result.false_refusal is True, (
        f"declining an answerable item is a false refusal: {result}"
    )
    assert result.correct is False, "a refused answerable item is not correct"
    assert result.evidence_cited is None, "citation accuracy counts answered items only"
    scores = metrics.summarize([result])
    assert scores.false_refusals.value == 1.0, f"{scores.false_refusals}"


SMALLTALK: dict[str, object] = {
    "id": "s1",
    "kind": "smalltalk",
    "question": "hi! who are you?",
    "answer": "I answer questions about CPMR.",
    "answerable": True,
    "must": [["CPMR", "medical research"]],
    "evidence": None,
    "source": None,
}


def test_small_talk_passes_when_answered_with_its_scope(check: SentenceChecker) -> None:
    reply = answer([("Hello! I answer questions about CPMR and its partnership news.", ())])
    result = grading.score_item(item(**SMALLTALK), reply, check)
    assert result.correct is True and result.passed, f"a scope reply passes: {result.failures}"
    assert result.sentences == (), "a scope reply claims nothing from the sources"
    assert result.evidence_cited is None and not result.retrieval_scored, f"{result}"


def test_small_talk_fails_when_refused_or_off_scope(check: SentenceChecker) -> None:
    refused = grading.score_item(item(**SMALLTALK), refusal(), check)
    assert refused.correct is False and refused.false_refusal is True, f"{refused}"
    vague = answer([("Hello there, nice to meet you.", ())])
    result = grading.score_item(item(**SMALLTALK), vague, check)
    assert result.correct is False, "a reply that never says what the assistant covers fails"


def test_the_answerable_flag_decides_grading_not_the_kind(check: SentenceChecker) -> None:
    follow_up = item(
        kind="follow_up",
        history=[{"role": "user", "content": "Who is SibMed's rector?"}],
        answerable=False,
        **{k: v for k, v in UNANSWERABLE.items() if k not in ("id", "kind")},
    )
    result = grading.score_item(follow_up, refusal(), check)
    assert result.refusal_correct is True and result.correct is None, f"{result}"
    assert not item(**UNANSWERABLE).answerable, "without the flag, no must keys = unanswerable"


def test_must_not_is_checked_on_refusals_too(check: SentenceChecker) -> None:
    leaked = answer(
        [("I cannot confirm it, but tuition is free for all students.", ())], refused=True
    )
    result = grading.score_item(
        item(**UNANSWERABLE, must_not=["free for all students"]), leaked, check
    )
    assert result.refusal_correct is False, "a refusal that repeats the forbidden claim fails"
    assert result.must_not_clean is False, f"{result}"
    assert "must_not" in {f.check for f in result.failures}, f"{result.failures}"
    clean = grading.score_item(
        item(**UNANSWERABLE, must_not=["free for all students"]), refusal(), check
    )
    assert clean.refusal_correct is True and clean.must_not_clean is True, f"{clean}"
    assert metrics.summarize([result, clean]).must_not_clean.value == 0.5, "one of two clean"


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"answerable": False}, "unanswerable item has an empty"),
        ({**UNANSWERABLE, "answerable": True}, "cannot be answerable"),
        ({"kind": "list", "must": [], "answerable": True}, "needs 'must' keys"),
    ],
)
def test_inconsistent_answerability_is_rejected(fields: dict[str, object], expected: str) -> None:
    with pytest.raises(ValueError, match=expected):
        item(**fields)


# --- citations ------------------------------------------------------------------------------


def test_citation_accuracy_uses_the_cited_chunk_text(check: SentenceChecker) -> None:
    # The quote holds the number but not the evidence span's first word; the chunk has both.
    quote = "4566 medical centers are successfully operating in China."
    cited = answer([(quote, (1,))], [citation(1, quote)], retrieved=[chunk(KAZNU_CHUNK)])
    assert grading.score_item(item(), cited, check).evidence_cited is True, (
        "the cited chunk (found by chunk id among the retrieved) contains the evidence"
    )


def test_citation_accuracy_falls_back_to_the_quote(check: SentenceChecker) -> None:
    not_retrieved = answer([(KAZNU_QUOTE, (1,))], [citation(1, KAZNU_QUOTE, "other.txt#4")])
    assert grading.score_item(item(), not_retrieved, check).evidence_cited is True, (
        "a cited chunk missing from the retrieved list is judged by its quote"
    )


def test_citation_accuracy_fails_when_no_cited_chunk_holds_the_evidence(
    check: SentenceChecker,
) -> None:
    wrong = "About 2,000 traditional medical factories work at its universities."
    other = chunk("Unrelated text about factories. " + wrong, "other.txt#1")
    cited = answer(
        [(wrong, (1,))],
        [citation(1, wrong, "other.txt#1")],
        retrieved=[other, chunk(KAZNU_CHUNK)],
    )
    result = grading.score_item(item(), cited, check)
    assert result.evidence_cited is False, "the evidence is retrieved but not cited"
    assert result.retrieval_rank == 2, f"retrieval still finds it at rank 2: {result}"
    assert "citation" in {f.check for f in result.failures}, f"{result.failures}"


def test_multi_doc_reports_second_evidence(check: SentenceChecker) -> None:
    multi = item(kind="multi_doc", evidence2="traditional medical factories", source2="b.txt")
    only_first = answer([(KAZNU_QUOTE, (1,))], [citation(1, KAZNU_QUOTE)])
    result = grading.score_item(multi, only_first, check)
    assert (result.evidence_cited, result.evidence2_cited) == (True, False), f"{result}"


# --- retrieval and latency --------------------------------------------------------------------


def test_retrieval_rank_hit_at_k_and_mrr() -> None:
    ranking = [
        RetrievedChunk(chunk=chunk("nothing here", "a.txt#0"), score=0.9),
        RetrievedChunk(chunk=chunk("nor here", "a.txt#1"), score=0.8),
        RetrievedChunk(chunk=chunk(KAZNU_CHUNK.upper(), "b.txt#0"), score=0.7),
    ]
    assert metrics.retrieval_rank(ranking, "today,  4566 Medical\ncenters") == 3, (
        "the span is found case- and whitespace-insensitively at rank 3"
    )
    assert metrics.retrieval_rank(ranking, "not in any chunk") is None, "a miss has no rank"
    ranks = [1, 3, None, 6]
    assert metrics.hit_at(ranks, 1).value == 0.25, "one of four at rank 1"
    assert metrics.hit_at(ranks, 5).value == 0.5, "ranks 1 and 3 are within 5"
    mrr = metrics.mean_reciprocal_rank(ranks)
    assert mrr == pytest.approx((1 + 1 / 3 + 1 / 6) / 4), f"MRR counts a miss as 0, got {mrr}"


def test_percentiles_interpolate() -> None:
    values = [float(v) for v in range(1, 101)]
    assert metrics.percentile(values, 50) == pytest.approx(50.5), "median of 1..100"
    assert metrics.percentile(values, 95) == pytest.approx(95.05), "p95 of 1..100"
    assert metrics.percentile([], 50) is None, "no values, no percentile"


# --- items ------------------------------------------------------------------------------------


def test_dev_set_loads() -> None:
    items = load_items(DEV_SET)
    assert len(items) == 40, f"dev.jsonl has 40 items, loaded {len(items)}"
    assert all(i.history for i in items if i.kind == "follow_up"), "follow-ups keep history"
    assert {i.answerable for i in items if i.kind == "unanswerable"} == {False}


@pytest.mark.parametrize(
    ("bad_line", "expected"),
    [
        ('{"id": "x", "kind": "factoid"', "not valid JSON"),
        ('{"id": "x", "kind": "factoid", "question": "q", "answer": "a"}', "must"),
        ('["not", "an", "object"]', "JSON object"),
        ('{"id": "d001", "kind": "factoid", "question": "q", "answer": "a", "must": []}', "d001"),
    ],
)
def test_malformed_line_is_rejected_with_its_line_number(bad_line: str, expected: str) -> None:
    good = DEV_SET.read_text(encoding="utf-8").splitlines()[:2]
    with pytest.raises(InputError) as caught:
        parse_items([*good, "", bad_line], name="file.jsonl")
    message = str(caught.value)
    assert "file.jsonl, line 4" in message, f"the message names the file and line: {message}"
    assert expected in message, f"the message says what is wrong ({expected}): {message}"


# --- a real run ---------------------------------------------------------------------------


def _three_dev_items() -> list[EvalItem]:
    items = load_items(DEV_SET)
    wanted = ("factoid", "unanswerable", "follow_up")
    return [next(i for i in items if i.kind == kind) for kind in wanted]


def test_run_eval_writes_readable_reports(tmp_path: Path, corpus_copy: Path) -> None:
    settings = make_settings(tmp_path, backend="extractive")
    resources = service.load_resources(settings)
    service.build_index(resources=resources)
    items = _three_dev_items()
    seen: list[str] = []
    result = run_eval(
        items,
        resources=resources,
        progress=lambda stage, done, total: seen.append(stage),
        dataset=str(DEV_SET),
    )
    assert seen == [i.id for i in items], f"progress is reported per item: {seen}"
    assert [r.id for r in result.items] == [i.id for i in items], "one result per item, in order"
    assert not any(r.error for r in result.items), f"no item errored: {result.items}"
    assert result.info.corpus_documents > 0 and result.info.corpus_chunks > 0, f"{result.info}"
    assert result.latency.total_ms.n == 3, f"every answer reports timings: {result.latency}"
    assert set(result.by_kind) == {"factoid", "unanswerable", "follow_up"}, f"{result.by_kind}"

    machine = collect_machine_info()
    md_path, json_path = write_report(
        result, tmp_path / "report", title="Test", machine_info=machine
    )
    data = json.loads(json_path.read_text(encoding="utf-8"))
    assert [i["id"] for i in data["items"]] == [i.id for i in items], "JSON holds every item"
    assert {"question", "answer", "citations", "failures"} <= set(data["items"][0]), "per item"
    assert data["machine"]["cores"] == machine.cores and data["targets"], "machine and targets"
    markdown = md_path.read_text(encoding="utf-8")
    for heading in ("## Targets", "## Overall", "## Per kind", "## Latency", "## Failures"):
        assert heading in markdown, f"the Markdown report has {heading!r}"
    for failed in (r for r in result.items if not r.passed):
        assert f"### {failed.id} " in markdown, f"failed item {failed.id} is listed for reading"


def test_cli_runs_with_distractors(
    tmp_path: Path,
    corpus_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    distractors = tmp_path / "distractors"
    distractors.mkdir()
    for n, topic in enumerate(["football league results", "weather over the Alps"]):
        (distractors / f"news_{n:05d}.txt").write_text(
            f"Article about {topic}\n\nThis article reports {topic} in some detail.\n"
        )
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus_copy))
    monkeypatch.setenv("ASSISTANT_CHROMA_DIR", str(tmp_path / "unused-chroma"))
    report = tmp_path / "out"
    args = ["--limit", "2", "--backend", "extractive", "--distractors", str(distractors)]
    code = eval_main([str(DEV_SET), *args, "--report", str(report)])
    out = capsys.readouterr().out
    assert code == 0, f"a completed run exits 0 whatever the scores: {out}"
    assert "correctness" in out and "hit@5" in out, f"the summary is printed: {out}"
    data = json.loads(next(report.glob("*.json")).read_text(encoding="utf-8"))
    assert data["info"]["distractor_documents"] == 2, f"both distractors indexed: {data['info']}"
    assert data["info"]["corpus_documents"] >= 3, "corpus plus distractors are in the temp store"
    assert data["info"]["index_seconds"] > 0, f"indexing time is reported: {data['info']}"
    assert not (tmp_path / "unused-chroma").exists(), "the configured store is left untouched"


def test_cli_reports_a_bad_file_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x"}\n', encoding="utf-8")
    assert eval_main([str(bad)]) == 1, "an unusable question file exits 1"
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "line 1" in err and "\n" not in err, f"one line: {err}"


def test_machine_info_is_filled() -> None:
    machine: MachineInfo = collect_machine_info()
    assert machine.cores >= 1 and machine.python and machine.cpu_model, f"{machine}"


def _write_items(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def test_cli_indexes_extra_folders_and_compares_files(
    tmp_path: Path,
    corpus_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    extra = tmp_path / "news"
    extra.mkdir()
    (extra / "2026-06-01_cpmr-poster-day.md").write_text(
        "# CPMR holds a poster day\n\n*Published: 1 June 2026*\n\n"
        "The CPMR poster day on 12 June 2026 shows forty student posters in the library.\n",
        encoding="utf-8",
    )
    row = {
        "kind": "factoid",
        "question": "How many student posters does the CPMR poster day show?",
        "answer": "Forty.",
        "answerable": True,
        "must": [["forty"]],
        "evidence": "shows forty student posters",
        "source": "news/2026-06-01_cpmr-poster-day.md",
    }
    tune = _write_items(tmp_path / "tune.jsonl", [{**row, "id": "a1"}])
    heldout = _write_items(tmp_path / "heldout.jsonl", [{**row, "id": "b1"}])
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus_copy))
    monkeypatch.setenv("ASSISTANT_CHROMA_DIR", str(tmp_path / "unused-chroma"))
    report, doc = tmp_path / "out", tmp_path / "evaluation.md"
    args = [str(tune), str(heldout), "--backend", "extractive", "--extra", str(extra)]
    code = eval_main([*args, "--report", str(report), "--doc", str(doc)])
    out = capsys.readouterr().out
    assert code == 0, f"a completed run exits 0: {out}"
    tune_data = json.loads((report / "tune-extractive.json").read_text(encoding="utf-8"))
    info = tune_data["info"]
    assert info["extra_documents"] == 1 and info["extra_folders"] == [str(extra)], f"{info}"
    assert tune_data["items"][0]["retrieval_rank"] is not None, "the extra document is indexed"
    assert tune_data["items"][0]["correct"] is True, f"answered from it: {tune_data['items']}"
    held_json = json.loads((report / "heldout-extractive.json").read_text(encoding="utf-8"))
    held_md = (report / "heldout-extractive.md").read_text(encoding="utf-8")
    assert "items" not in held_json and row["question"] not in held_md, (
        "held-out reports carry scores only, never the items"
    )
    assert held_json["overall"]["correctness"]["total"] == 1, "but the scores are there"
    comparison = doc.read_text(encoding="utf-8")
    assert "| measure | tune | heldout | gap tune − held-out |" in comparison, comparison
    assert "| factoid |" in comparison and "--doc" in comparison, "per kind, and the command"
    assert not (tmp_path / "unused-chroma").exists(), "the configured store is left untouched"
    again = tmp_path / "again.md"
    assert eval_main(["--from-reports", str(report), "--doc", str(again)]) == 0, "re-rendered"
    tables = [line for line in comparison.splitlines() if line.startswith("|")]
    rebuilt = [line for line in again.read_text(encoding="utf-8").splitlines() if line[:1] == "|"]
    assert rebuilt == tables, "the saved reports give the same comparison as the run"
    assert eval_main(["--from-reports", str(report)]) == 2, "--from-reports needs --doc"


def test_cli_refuses_an_extra_file_that_would_replace_a_corpus_file(
    tmp_path: Path,
    corpus_copy: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    existing = next(p for p in (corpus_copy / "news").iterdir() if p.suffix == ".txt")
    extra = tmp_path / "news"
    extra.mkdir()
    (extra / existing.name).write_text("Another text under the same name.\n", encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_CORPUS_DIR", str(corpus_copy))
    code = eval_main([str(DEV_SET), "--limit", "1", "--extra", str(extra)])
    err = capsys.readouterr().err.strip()
    assert code == 1 and existing.name in err and "\n" not in err, f"one clear line: {err}"


def test_items_linked_through_a_shared_key_form_one_group() -> None:
    from assistant.evaluation.grouping import linked

    roots = linked([["a"], ["b"], ["a", "c"], ["c", "b"], ["d"], []])
    assert len({roots[0], roots[1], roots[2], roots[3]}) == 1, f"a-c-b chain is one group: {roots}"
    assert roots[4] not in roots[:4] and roots[5] not in roots[:5], f"unlinked stay alone: {roots}"
