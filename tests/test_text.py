"""Sentence splitting and term normalisation shared by the whole pipeline."""

import pytest

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


def _pysbd_reference(text):
    """Sentences as pysbd's own `segment(char_span=True)` places them (stripped)."""
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    found = []
    for part in segmenter.segment(text):
        stripped = part.sent.strip()
        if stripped:
            start = part.start + len(part.sent) - len(part.sent.lstrip())
            found.append((start, start + len(stripped), stripped))
    return found


@pytest.mark.parametrize(
    "line",
    [
        "Dr. Smith met Prof. Jones, Ph.D., at 5 p.m. on Jan. 5, 2024. They talked at length.",
        "The U.S. and the U.K. agreed on e.g. a 12.5 percent cut (see Fig. 2). Done?! Yes...",
        "Yes. Yes. Yes. No. Yes.",
        'He said: "Go home." Then he left. "Why?" she asked.',
        "a) one item b) another item c) the last one.",
        "  1. First item 2. Second item  ",
        "Prof. Elena B. PAVLINOVA and K.Tokayev met S. D. Asfendiyarov's rector on 22.01.2017.",
        "A heading without any full stop",
    ],
)
def test_sentence_offsets_are_pysbds_own(line):
    # text.py finds pysbd's sentences in the text itself (faster than pysbd's char_span
    # search); the sentences and their offsets must stay exactly pysbd's.
    ours = [(s.start, s.end, s.text) for s in split_sentences(line)]
    assert ours == _pysbd_reference(line), f"the splitter must place pysbd's sentences: {ours}"


def test_repeated_lines_are_split_once():
    from assistant.text import _segment_piece

    _segment_piece.cache_clear()
    line = "The centre opened in 2019. It runs seminars."
    first = split_sentences(line)
    second = split_sentences(line)
    assert first == second, "a cached split must equal the first one"
    info = _segment_piece.cache_info()
    assert info.hits >= 1, f"the second split of the same line should come from the cache: {info}"
