"""Sentence verification catches invented numbers, names and dates, and passes faithful text."""

import pytest

from assistant.answering.verification import check_sentence, is_verbatim

QUOTE = (
    "ASRMU was established ten years ago by Sechenov University and Harbin Medical University, "
    "highlighting strategic cooperation between Russia and China."
)
DATED = "On July 6, 2024, the 10th anniversary meeting of the ASRMU Council was held in Guangzhou."


def test_verbatim_sentence_is_supported(embedder):
    verdict = check_sentence(QUOTE + " [1]", [QUOTE], embedder)
    assert verdict.supported, verdict.reasons


def test_faithful_paraphrase_is_supported(embedder):
    claim = "ASRMU was established by Sechenov University and Harbin Medical University."
    verdict = check_sentence(claim, [QUOTE], embedder)
    assert verdict.supported, verdict.reasons


@pytest.mark.parametrize(
    ("claim", "why"),
    [
        ("ASRMU was established 25 years ago by Sechenov University.", "number"),
        ("ASRMU was established by Moscow State University and Harbin Medical University.", "name"),
        ("The meeting was held on August 6, 2024 in Guangzhou.", "name"),  # invented month
        ("The meeting was held on July 6, 2023 in Guangzhou.", "number"),  # invented year
        ("The association is funded by the Chinese government to promote space science.", "words"),
    ],
)
def test_invented_details_fail(embedder, claim, why):
    verdict = check_sentence(claim, [QUOTE, DATED], embedder)
    assert not verdict.supported, f"an invented {why} passed verification: {claim}"
    assert verdict.reasons, "a failed check must say why"


def test_sentence_citing_nothing_is_unsupported(embedder):
    assert not check_sentence("ASRMU was established ten years ago.", [], embedder).supported


def test_thousands_separators_agree(embedder):
    quote = "Today, 4566 medical centers are successfully operating in China."
    assert check_sentence(
        "4,566 medical centers are operating in China.", [quote], embedder
    ).supported


def test_is_verbatim_ignores_case_space_and_markers():
    assert is_verbatim("asrmu WAS established  ten years ago [1].", [QUOTE])
    assert not is_verbatim("ASRMU was founded ten years ago.", [QUOTE])


def test_verbatim_source_sentence_is_supported_even_if_it_says_document(embedder):
    quote = (
        "The document was signed by Prof. Petr GLYBOCHKO, ASRMU co-chairman from the Russian side."
    )
    assert check_sentence(quote, [quote], embedder).supported


def test_talk_about_the_passages_is_not_an_answer(embedder):
    verdict = check_sentence(
        "The passage is about ASRMU and Sechenov University.", [QUOTE], embedder
    )
    assert not verdict.supported and "sources" in verdict.reasons[0]
