"""Answer shapes: lead sentences, lists, comparisons, the scope reply, refusals, and the
language of the assistant's own words. Texts and questions are invented for the tests.

Every built lead sentence must pass the same verification as a model's sentence.
"""

import pytest

from assistant.answering import compose, wording
from assistant.answering.evidence import Evidence
from assistant.answering.features import acronym_expansion
from assistant.answering.questions import Reading
from assistant.answering.verification import check_sentence
from assistant.text import split_sentences
from assistant.types import Chunk
from tests.corpora import one_chunk

HARBOUR = (
    "The Northern Harbour Authority (NHA) runs the old port. "
    "After years of delays caused by storms and a dispute over the plans, the new lighthouse "
    "was opened on 14 March 2019 by the harbour master, who thanked the volunteers. "
    "Paid for by the city and by a fund of local shipowners, the tower cost 2.5 million euros "
    "in total, twice the first estimate. "
    "Visitors who want a guided tour of the lamp room can write to info@harbour.example, "
    "the office answers within a week."
)
DUTIES = (
    "The wardens have the following duties:\n"
    "1. To patrol the dunes every morning.\n"
    "2. To count nesting birds in spring.\n"
    "3. To guide school groups along the trail.\n"
    "The reserve was founded by Marta Kowalczyk."
)


def _chunk(text: str, doc: str = "harbour.txt", title: str = "Harbour news") -> Chunk:
    return one_chunk(text, doc_id=doc, title=title)


def _evidence(chunk: Chunk, contains: str, score: float = 1.0) -> Evidence:
    spans = split_sentences(chunk.text)
    index = next(i for i, s in enumerate(spans) if contains in s.text)
    return Evidence(chunk=chunk, span=spans[index], rank=0, score=score, index=index)


@pytest.mark.parametrize(
    ("question", "sentence", "lead"),
    [
        ("What does NHA stand for?", "NHA", "NHA stands for Northern Harbour Authority."),
        (
            "When did the new lighthouse open?",
            "lighthouse",
            "The new lighthouse was opened on 14 March 2019 by the harbour master.",
        ),
        ("How much did the tower cost?", "cost", "The tower cost 2.5 million euros in total."),
        (
            "What e-mail address takes tour requests?",
            "Visitors",
            "Visitors who want a guided tour of the lamp room can write to info@harbour.example.",
        ),
    ],
)
def test_lead_sentence_names_the_thing_in_the_evidence_words(embedder, question, sentence, lead):
    evidence = _evidence(_chunk(HARBOUR), sentence)
    part = compose.lead_sentence(Reading.of(question), [evidence])
    assert part is not None and part.text == lead, (question, part)
    verdict = check_sentence(part.text, [evidence.text], embedder)
    assert verdict.supported, (part.text, verdict.reasons)


def test_a_short_sentence_needs_no_lead():
    chunk = _chunk("The ferry left on 2 May 2020.")
    evidence = _evidence(chunk, "ferry")
    assert compose.lead_sentence(Reading.of("When did the ferry leave?"), [evidence]) is None


def test_no_lead_when_the_evidence_lacks_the_kind_asked_for():
    evidence = _evidence(_chunk(HARBOUR), "Authority")
    assert compose.lead_sentence(Reading.of("When did the port close?"), [evidence]) is None
    assert compose.lead_sentence(Reading.of("Why is the port old?"), [evidence]) is None


def test_name_lead_skips_names_the_question_already_uses():
    text = (
        "The reserve, which covers the dunes north of the village and the marsh beyond them, "
        "was founded in the spring of 1971 by Marta Kowalczyk, a teacher from the town."
    )
    evidence = _evidence(_chunk(text, "reserve.txt", "Dune reserve"), "founded")
    part = compose.lead_sentence(Reading.of("Who founded the reserve?"), [evidence])
    assert part is not None and "Marta Kowalczyk" in part.text, part


def test_acronym_expansion_from_initials():
    text = "Delegates of the Baltic Sailing Federation and of the Ministry of Transport met."
    assert acronym_expansion("BSF", text) == "Baltic Sailing Federation"
    assert acronym_expansion("MOT", text) == "Ministry of Transport"
    assert acronym_expansion("QQQ", text) is None


def test_whole_list_in_document_order():
    chunk = _chunk(DUTIES, "reserve.txt", "Dune reserve")
    middle = _evidence(chunk, "count nesting")
    items = compose.list_items(middle, [middle])
    assert [e.text[:2] for e in items] == ["1.", "2.", "3."], [e.text for e in items]
    lead_in = _evidence(chunk, "following duties")
    assert [e.text[:2] for e in compose.list_items(lead_in, [])] == ["1.", "2.", "3."]
    plain = _evidence(chunk, "founded")
    assert compose.list_items(plain, []) == []


def test_comparison_puts_each_report_side_by_side_and_says_they_differ():
    one = _evidence(_chunk("The fair drew 4,000 visitors.", "a.txt", "Town paper"), "fair")
    two = _evidence(_chunk("The fair drew 6,500 visitors.", "b.txt", "Radio news"), "fair")
    parts = compose.comparison(Reading.of("Do the two reports differ on the fair?"), [one, two])
    assert [p.kind for p in parts] == ["label", "item", "item"], parts
    assert parts[0].text == wording.say("differ", "en"), parts[0]
    assert parts[1].evidence == (one,) and parts[2].evidence == (two,), parts
    same = _evidence(_chunk("The fair drew 4,000 visitors.", "c.txt", "Blog"), "fair")
    agree = compose.comparison(Reading.of("Compare the reports on the fair."), [one, same])
    assert agree[0].text == wording.say("each_says", "en"), agree[0]


def test_refusal_names_what_is_missing_and_cites_the_nearest_thing():
    nearest = _evidence(_chunk(HARBOUR), "lighthouse")
    parts = compose.refusal(Reading.of("How tall is the lighthouse?"), [nearest])
    assert parts[0].text == "My sources don't say how tall the lighthouse is.", parts[0]
    parts = compose.refusal(Reading.of("Is the lighthouse open to visitors?"), [nearest])
    assert "visitors" in parts[0].text and "lighthouse" not in parts[0].text, parts[0]
    assert parts[1].evidence == (nearest,) and "Harbour news" in parts[1].text, parts[1]
    assert all(p.kind == "refusal" for p in parts), parts


def test_a_question_in_two_parts_is_refused_part_by_part():
    reading = Reading.of("How tall is the lighthouse, and who keeps the north pier?")
    parts = compose.refusal(reading, [])
    assert parts[0].text == (
        "My sources don't say how tall the lighthouse is, or who keeps the north pier."
    ), parts[0]
    # The part an answer leaves out gets the same sentence, citing nothing.
    left_out = compose.not_given(Reading.of("who keeps the north pier?"), [])
    assert left_out.text == "My sources don't say who keeps the north pier.", left_out
    assert left_out.kind == "refusal" and not left_out.evidence, left_out


def test_refusal_without_nearest_evidence_says_what_is_covered():
    for parts in (
        compose.refusal(Reading.of("Where do penguins nest?"), []),
        compose.refusal(
            Reading.of("Where do penguins nest?"),
            [_evidence(_chunk(HARBOUR), "lighthouse")],
            off_topic=True,
        ),
    ):
        assert [p.kind for p in parts] == ["refusal", "refusal"], parts
        assert parts[1].text == wording.say("scope", "en") and not parts[1].evidence, parts


@pytest.mark.parametrize("language", ["en", "ru", "ky"])
def test_scope_reply_offers_three_examples_in_the_question_language(language):
    parts = compose.scope_reply(language)
    examples = [p for p in parts if p.kind == "example"]
    assert len(examples) == 3, parts
    assert parts[0].text == wording.WORDS["scope"][language], parts[0]
    assert not any(p.evidence for p in parts), "the scope reply cites nothing"


def test_assistant_words_follow_the_question_language():
    for question, language in (
        ("How tall is the lighthouse?", "en"),
        ("Какой высоты маяк?", "ru"),
        ("Маяктын бийиктиги канча?", "ky"),
    ):
        reading = Reading.of(question)
        assert reading.language == language, question
        first = compose.refusal(reading, [])[0].text
        assert first == wording.say("refusal", language) or "“" in first or "say how" in first
        if language != "en":
            assert first not in {wording.say("refusal", "en")}, first


def test_every_word_table_entry_has_all_three_languages():
    for key, entry in wording.WORDS.items():
        # Only English questions are embedded as clauses (`indirect`).
        assert set(entry) == ({"en"} if key == "not_said" else set(wording.LANGUAGES)), key
    assert set(wording.EXAMPLES) == set(wording.LANGUAGES)
