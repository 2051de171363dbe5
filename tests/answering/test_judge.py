"""The answer judge: a chat model asked whether the chosen evidence answers the question.

Against a real OpenAI-compatible server (llama.cpp's, serving the bundled SmolLM2: too small
to judge well, which these tests do not ask of it; bench/answer_judge.py measures a capable
model), a port where nothing listens, and a server that never answers."""

import logging
import math
import time

import pytest
from langchain_core.messages import AIMessage

from assistant.answering.answerer import Answerer
from assistant.answering.evidence import Evidence
from assistant.answering.indirect import indirect_question
from assistant.answering.judge import Judge, load_judge, messages, passages, read_verdict
from assistant.answering.questions import split_question
from assistant.config import JudgeSettings
from assistant.llm import packaged_gguf_path
from assistant.sentences import chunk_sentences
from assistant.types import AnswerEvent, StatusEvent
from assistant.ui.render import stage_label
from tests.servers import SilentServer, free_port, llama_server

QUESTION = "What is the mission of CPMR?"
# Two parts, each answered by a different document of the project corpus.
TWO_PARTS = "What is the mission of CPMR, and when was the ASRMU anniversary meeting held?"
# Two parts, the second of which the sources do not answer.
ONE_PART_ANSWERED = (
    "When was the ASRMU anniversary meeting held, and what is the phone number of the centre?"
)


@pytest.fixture(scope="module")
def judge_url():
    with llama_server(packaged_gguf_path()) as url:
        yield url


def _judge(url: str, threshold: float = 0.0, timeout: float = 30.0) -> Judge:
    judge = load_judge(
        JudgeSettings(base_url=url, model="smollm2", threshold=threshold, timeout=timeout)
    )
    assert judge is not None
    return judge


def _answer(resources, judge: Judge | None, question: str = QUESTION):
    answerer = Answerer(
        resources.settings, resources.retriever, resources.embedder, None, judge=judge
    )
    final = list(answerer.stream(question, []))[-1]
    assert isinstance(final, AnswerEvent)
    return final.answer


def test_no_server_no_judge():
    assert load_judge(JudgeSettings()) is None


def test_a_real_server_gives_a_verdict_from_one_token(judge_url):
    judge = _judge(judge_url)
    verdict = judge.verdict("When is the open day?", ["The open day is on 28 March 2026."])
    assert verdict is not None and math.isfinite(verdict) and abs(verdict) <= 20.0, verdict
    # One token is all the verdict needs: the judge asks for no more.
    reply = judge.model.invoke("Write a long story about a lighthouse.")
    assert isinstance(reply, AIMessage) and len(reply.content.split()) <= 1, reply.content


def test_verdicts_below_the_threshold_decline(judge_url, resources):
    plain = _answer(resources, None)
    assert not plain.refused, plain.text
    declining = _answer(resources, _judge(judge_url, threshold=25.0))
    assert declining.refused and declining.citations, declining.text
    agreeing = _answer(resources, _judge(judge_url, threshold=-25.0))
    assert agreeing.text == plain.text


@pytest.mark.parametrize(
    ("content", "verdict"),
    [("Yes.", 1.0), ("no, it does not", -1.0), ("Maybe", None), ("", None)],
)
def test_a_server_without_log_probabilities_is_read_from_its_word(content, verdict):
    assert read_verdict(AIMessage(content=content)) == verdict


def test_log_probabilities_give_the_strength_of_the_verdict():
    top = [
        {"token": "Yes", "logprob": -0.1},
        {"token": " no", "logprob": -2.5},
        {"token": "yes", "logprob": -3.0},
    ]
    reply = AIMessage(
        content="Yes",
        response_metadata={"logprobs": {"content": [{"token": "Yes", "top_logprobs": top}]}},
    )
    assert read_verdict(reply) == pytest.approx(2.4)
    only_no = [{"token": "No", "logprob": -0.01}]
    reply = AIMessage(
        content="No",
        response_metadata={"logprobs": {"content": [{"token": "No", "top_logprobs": only_no}]}},
    )
    assert read_verdict(reply) == pytest.approx(-20.0 + 0.01)


def test_an_unreachable_judge_leaves_the_answer_standing(resources, caplog):
    plain = _answer(resources, None)
    judge = _judge(f"http://127.0.0.1:{free_port()}/v1")
    with caplog.at_level(logging.WARNING, logger="assistant.answering.judge"):
        answer = _answer(resources, judge)
    assert answer.text == plain.text
    assert "ASSISTANT_JUDGE_BASE_URL" in caplog.text, caplog.text


def test_a_hung_judge_times_out_and_the_answer_stands(resources):
    plain = _answer(resources, None)
    with SilentServer() as silent:
        judge = _judge(f"http://127.0.0.1:{silent.port}/v1", timeout=1.0)
        started = time.monotonic()
        assert judge.verdict("When is the open day?", ["The open day is in March."]) is None
        assert time.monotonic() - started < 10, "the judge's timeout bounds the wait"
        answer = _answer(resources, judge)
    assert answer.text == plain.text


def test_the_judge_is_shown_as_a_stage_and_the_latest_news_is_not_judged(judge_url, resources):
    judge = _judge(judge_url, threshold=25.0)
    answerer = Answerer(
        resources.settings, resources.retriever, resources.embedder, None, judge=judge
    )
    events = list(answerer.stream(QUESTION, []))
    assert any(isinstance(e, StatusEvent) and e.stage == "judging" for e in events), events
    assert stage_label("judging") != stage_label("something else")
    # Answered by date, not by the fitted model: nothing for the judge to overrule.
    latest = list(answerer.stream("What is the latest news?", []))[-1]
    assert isinstance(latest, AnswerEvent) and not latest.answer.refused, latest


def test_a_question_in_two_parts_is_judged_part_by_part(judge_url, resources, monkeypatch):
    judge = _judge(judge_url, threshold=-25.0)
    asked: list[tuple[str, tuple[str, ...], float]] = []
    real = judge.verdict

    def recording(question, passages):
        verdict = real(question, passages)
        asked.append((question, tuple(passages), verdict))
        return verdict

    monkeypatch.setattr(judge, "verdict", recording)
    plain = _answer(resources, None, TWO_PARTS)
    assert _answer(resources, judge, TWO_PARTS).text == plain.text
    # Each part is asked alone, with its own sentences.
    assert [question for question, _, _ in asked] == split_question(TWO_PARTS)
    (_, first, v1), (_, second, v2) = asked
    assert first and second and not set(first) & set(second), asked
    assert v1 != v2, "SmolLM2 gives the two parts the same verdict: pick another question"
    kept, dropped = (first, second) if v1 > v2 else (second, first)

    # Between the two verdicts: the answer keeps the part the judge accepts, and only it.
    partial = _answer(resources, _judge(judge_url, threshold=(v1 + v2) / 2), TWO_PARTS)
    assert not partial.refused, partial.text
    quoted = [s.text for s in partial.sentences if s.origin == "evidence"]
    assert quoted and all(any(q in p for p in kept) for q in quoted), (quoted, kept)
    assert not any(q in p for q in quoted for p in dropped), (quoted, dropped)
    # ... and says which part its sources leave unanswered.
    question = next(q for q, passages, _ in asked if passages == dropped)
    clause = indirect_question(question)
    assert clause is not None and partial.sentences[-1].origin == "refusal", partial.text
    assert partial.sentences[-1].text == f"My sources don't say {clause}.", partial.text
    assert _answer(resources, _judge(judge_url, threshold=25.0), TWO_PARTS).refused

    # A part the fitted model already leaves out is not asked about: only the other is.
    asked.clear()
    one_answered = _answer(resources, judge, ONE_PART_ANSWERED)
    assert not one_answered.refused, one_answered.text
    assert [question for question, _, _ in asked] == split_question(ONE_PART_ANSWERED)[:1]


def test_the_judge_reads_each_document_with_its_title_and_date(resources):
    """A name or date the title gives is part of what the judge reads; sentences of one
    document come together, in reading order, whatever order they were chosen in."""
    chunks = [c for c in resources.store.all_chunks() if c.date is not None]
    chunk = max(chunks, key=lambda c: len(chunk_sentences(c)))
    spans = chunk_sentences(chunk)
    assert len(spans) >= 2, chunk.chunk_id
    later, earlier = (Evidence(chunk, spans[i], 0, 0.0, i) for i in (1, 0))
    other = next(c for c in resources.store.all_chunks() if c.doc_id != chunk.doc_id)
    elsewhere = Evidence(other, chunk_sentences(other)[0], 1, 0.0, 0)
    read = passages([later, elsewhere, earlier])
    assert len(read) == 2, read
    assert read[0] == (
        f'From "{chunk.title}" ({chunk.date.isoformat()}): '
        f"{spans[0].text.strip()} {spans[1].text.strip()}"
    ), read[0]
    assert read[1].startswith(f'From "{other.title}"') and read[1].endswith(elsewhere.text.strip())
    prompt = messages("When was it?", read)[-1].content
    assert read[0] in prompt and read[1] in prompt, prompt
