"""Key-term coverage, one of the signals behind the decision to decline."""

from assistant.answering.evidence import coverage
from assistant.answering.questions import key_terms


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
