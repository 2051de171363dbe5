"""Sentence splitting and term normalisation shared by the whole pipeline."""

from assistant.text import numbers, split_sentences, terms


def test_offsets_point_at_the_sentence():
    text = "Title line\n\nProf. Elena B. PAVLINOVA spoke. K.Tokayev visited China.\n"
    spans = split_sentences(text)
    assert [s.text for s in spans] == [
        "Title line",
        "Prof. Elena B. PAVLINOVA spoke.",
        "K.Tokayev visited China.",
    ]
    assert all(text[s.start : s.end] == s.text for s in spans)


def test_list_number_stays_with_its_item():
    text = "  5. To conduct seminars and workshops.\n  6. To create an atmosphere."
    assert [s.text for s in split_sentences(text)] == [
        "5. To conduct seminars and workshops.",
        "6. To create an atmosphere.",
    ]


def test_numbers_ignore_thousands_separators():
    assert numbers("4,566 centres and 2 000 factories in 2024") == {"4566", "2000", "2024"}


def test_terms_split_compounds_and_transliterate():
    assert terms("Sino-Russian") == ["sino-russian", "sino", "russian"]
    assert terms("Sino-Russian", compounds=False) == ["sino", "russian"]
    assert "kaznu" in terms("ректором КазНУ")
