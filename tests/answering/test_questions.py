"""Reading a question: answer types, key terms, focus nouns, named targets, acronyms."""

import pytest

from assistant.answering.questions import (
    AnswerType,
    QuestionProfile,
    acronym_expansion,
    answer_type,
    key_terms,
)


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("When was the association founded?", AnswerType.DATE),
        ("In what year did the meeting take place?", AnswerType.DATE),
        ("How many universities are members?", AnswerType.QUANTITY),
        ("What is the tuition fee for the programme?", AnswerType.MONEY),
        ("What is the e-mail of the dean's office?", AnswerType.EMAIL),
        ("What is the phone number of the library?", AnswerType.PHONE),
        ("Who is the chair of the council?", AnswerType.NAME),
        ("What is the name of the new laboratory?", AnswerType.NAME),
        ("Who else took part in the meeting?", AnswerType.ANY),
        ("What does the centre offer students?", AnswerType.ANY),
    ],
)
def test_answer_type(question, expected):
    assert answer_type(question) is expected


def test_key_terms_drop_framing_words():
    assert key_terms("According to the article, what does the report say about grants?") == [
        "grant"
    ]


@pytest.mark.parametrize(
    ("question", "focus"),
    [
        ("How many beds does the clinic have?", "bed"),
        ("How many joint medical science projects does ASRMU run?", "project"),
        ("Who is the rector of the university?", "rector"),
        ("What is the purpose of the centre?", None),  # abstract heads are not required
    ],
)
def test_focus_is_the_counted_or_held_thing(question, focus):
    assert QuestionProfile.of(question).focus == focus


def test_named_target():
    assert QuestionProfile.of("What is the name of the supercomputer?").named == "supercomput"


def test_acronym_expansion_from_initials():
    text = "Delegates of Omsk State Medical University and of the Ministry of Health met."
    assert acronym_expansion("OSMU", text) == "Omsk State Medical University"
    assert acronym_expansion("MOH", text) == "Ministry of Health"
    assert acronym_expansion("XYZ", text) is None


def test_yes_no_question_focuses_on_its_rarest_term():
    rarity = {"cpmr": 2.0, "offer": 3.0, "scholarship": 9.0}
    profile = QuestionProfile.of("Does CPMR offer scholarships?").with_rarest_focus(
        lambda t: rarity.get(t, 1.0)
    )
    assert profile.yes_no and profile.focus == "scholarship", profile
    open_question = QuestionProfile.of("What does CPMR offer?").with_rarest_focus(rarity.get)
    assert open_question.focus is None


def test_proper_names_skip_the_first_word_but_keep_acronyms():
    from assistant.answering.questions import proper_names

    assert proper_names("Which Kazakh university partnered with Harvard?") == ("kazakh", "harvard")
    assert proper_names("CPMR offers what?") == ("cpmr",)
    assert proper_names("Who is the rector of Ala-Too University?")[0] == "ala-too"
    assert proper_names("Как зовут ректора?") == ()
