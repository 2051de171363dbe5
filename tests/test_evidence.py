"""Answer types and key-term coverage: the signals behind the decision to decline."""

import pytest

from assistant.evidence import AnswerType, answer_type, coverage, key_terms


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("When was the association founded?", AnswerType.DATE),
        ("In what year did the meeting take place?", AnswerType.DATE),
        ("How many universities are members?", AnswerType.QUANTITY),
        ("What is the tuition fee for the programme?", AnswerType.MONEY),
        ("What is the e-mail of the dean's office?", AnswerType.EMAIL),
        ("What is the phone number of the library?", AnswerType.PHONE),
        ("Who chairs the council?", AnswerType.NAME),
        ("What does the centre offer students?", AnswerType.ANY),
    ],
)
def test_answer_type(question, expected):
    assert answer_type(question) is expected


def test_key_terms_drop_framing_words():
    assert key_terms("According to the article, what does the report say about grants?") == ["grant"]


def test_rare_missing_term_sinks_coverage():
    idf = {"bed": 5.0, "clinic": 4.0, "cpmr": 1.0}.get
    q = key_terms("How many beds does CPMR's clinic have?")
    assert set(q) == {"bed", "clinic", "cpmr"}, q
    sentence = {"cpmr", "centr", "research"}
    low = coverage(q, sentence, set(), lambda t: idf(t, 1.0))
    full = coverage(q, sentence | {"bed", "clinic"}, set(), lambda t: idf(t, 1.0))
    assert low < 0.2 < full == 1.0, (low, full)


def test_misspelt_term_still_counts():
    q = key_terms("how is the big computr paid for")
    found = coverage(q, {"comput", "big", "paid"}, set(), lambda t: 1.0)
    assert found > 0.9, found
