"""Citation markers: parsing model output and renumbering."""

from assistant import citations


def test_markers_in_order_without_repeats():
    assert citations.markers("A [2] and B [1][2].") == [2, 1]


def test_marker_after_full_stop_belongs_to_previous_sentence():
    pieces = citations.split_cited_sentences("ASRMU has 105 members.[1] It grew fivefold [2].")
    assert pieces == [("ASRMU has 105 members.", [1]), ("It grew fivefold.", [2])], pieces


def test_invented_marker_is_dropped():
    assert citations.valid_markers([1, 7, 2], [1, 2, 3]) == [1, 2]


def test_renumbering_follows_first_use():
    assert citations.renumbering([3, 1, 3, 2]) == {3: 1, 1: 2, 2: 3}


def test_with_markers_goes_before_the_full_stop():
    assert (
        citations.with_markers("It was signed in 2024.", [1, 2]) == "It was signed in 2024 [1][2]."
    )
    assert citations.with_markers("No stop", [1]) == "No stop [1]"


def test_a_documents_own_bracket_number_is_not_a_citation_marker():
    """A quoted sentence 'as shown in [2]' cited as passage 1: the answer's markers are [1]."""
    from assistant.citations import markers, unescape_literal_markers, with_markers

    text = with_markers("As shown in [2], the trial enrolled 40 patients.", [1])
    assert markers(text) == [1], f"only the real marker may be read from {text!r}"
    assert "\\[2\\]" in text, f"the document's [2] stays visible, escaped: {text!r}"
    assert unescape_literal_markers(text).startswith("As shown in [2],"), text
