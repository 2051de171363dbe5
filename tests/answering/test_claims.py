"""Verification catches what word overlap cannot see, and still passes honest rewording.

Each case plants one kind of error into a sentence whose faithful twin passes: the two share
their words with the passage, so only the parse-based checks of `claims` tell them apart.
The passages are written for these tests and occur in no question set.
"""

import pytest

from assistant.answering.claims import claim_problems
from assistant.answering.verification import check_sentence

HELD = "On July 6, 2024, the 10th anniversary meeting of the ASRMU Council was held in Guangzhou."
PLANNED = "The institute will open a new genetics laboratory in Bishkek next year."
FEES = "The institute does not charge fees and offers small grants to young researchers."
FOUNDED = (
    "ASRMU was established ten years ago by Sechenov University and Harbin Medical University, "
    "highlighting strategic cooperation between Russia and China."
)
COUNTS = "Today, 4566 medical centers are operating in China, and 120 hospitals in Russia."
JOINED = (
    "In 2015, 12 universities from Russia and 8 universities from China joined the association."
)
LISTS = (
    "The institute has organised seminars and trainings for students, while the faculty has "
    "held workshops and lectures for doctors."
)
SIGNED = (
    "The agreement was signed by Kazan Medical University and Harbin Medical University, "
    "while Sechenov University hosted the council."
)
AGREED = (
    "On 3 May 2025 the Institute of Cardiology (IC) of Osh State University signed a "
    "cooperation agreement with Tallinn Medical College in Estonia."
)
HOSTED = "Sechenov University hosted delegates from Harbin Medical University in Moscow."

# (passage, faithful sentence, the same claim with one planted error, the kind expected)
PLANTED = [
    # who did what to whom
    (
        AGREED,
        "The IC signed a cooperation agreement with Tallinn Medical College.",
        "The IC signed a cooperation agreement with Osh State University.",
        "who did what",
    ),
    (
        AGREED,
        "The IC signed the cooperation agreement with Tallinn Medical College.",
        "The IC signed the Tallinn agreement on behalf of the IC.",
        "who did what",
    ),
    (
        HOSTED,
        "Sechenov University hosted delegates from Harbin Medical University.",
        "Harbin Medical University hosted delegates from Sechenov University.",
        "who did what",
    ),
    # tense and modality
    (
        HELD,
        "The 10th anniversary meeting of the ASRMU Council was held in Guangzhou.",
        "The 10th anniversary meeting of the ASRMU Council will be held in Guangzhou.",
        "future",
    ),
    (
        HELD,
        "The ASRMU Council met in Guangzhou on July 6, 2024.",
        "The ASRMU Council is going to meet in Guangzhou on July 6, 2024.",
        "future",
    ),
    (
        FOUNDED,
        "Sechenov University and Harbin Medical University established ASRMU ten years ago.",
        "Sechenov University and Harbin Medical University plan to establish ASRMU.",
        "future",
    ),
    (
        FOUNDED,
        "ASRMU was established by Sechenov University and Harbin Medical University.",
        "ASRMU may be established by Sechenov University and Harbin Medical University.",
        "possibility",
    ),
    (
        PLANNED,
        "The institute will open a new genetics laboratory in Bishkek.",
        "The institute opened a new genetics laboratory in Bishkek.",
        "as fact",
    ),
    # negation, added and dropped
    (
        FEES,
        "The institute offers small grants to young researchers.",
        "The institute does not offer small grants to young researchers.",
        "negates",
    ),
    (
        FEES,
        "The institute does not charge fees.",
        "The institute charges fees.",
        "negation",
    ),
    (
        FOUNDED,
        "ASRMU was established by Sechenov University.",
        "ASRMU was never established by Sechenov University.",
        "negates",
    ),
    # talk about the passage or the answer
    (
        FOUNDED,
        "ASRMU was established by Sechenov University and Harbin Medical University.",
        "The passage says that ASRMU was established by Sechenov University.",
        "talks about",
    ),
    (
        FOUNDED,
        "ASRMU was established ten years ago.",
        "As mentioned above, ASRMU was established ten years ago.",
        "talks about",
    ),
    (
        HELD,
        "The anniversary meeting was held in Guangzhou.",
        "This answer shows that the anniversary meeting was held in Guangzhou.",
        "talks about",
    ),
    # verbless word salad
    (
        HELD,
        "The anniversary meeting of the ASRMU Council was held in Guangzhou.",
        "Guangzhou, ASRMU Council, anniversary meeting.",
        "not a sentence",
    ),
    (
        FOUNDED,
        "ASRMU highlights strategic cooperation between Russia and China.",
        "Strategic cooperation Russia China Sechenov Harbin.",
        "not a sentence",
    ),
    # a figure or list item attached to another subject than in the passage
    (
        COUNTS,
        "Today, 4566 medical centers are operating in China.",
        "Today, 120 medical centers are operating in China.",
        "gives 120",
    ),
    (
        JOINED,
        "12 universities from Russia joined the association in 2015.",
        "8 universities from Russia joined the association in 2015.",
        "gives 8",
    ),
    (
        LISTS,
        "The institute has organised seminars and trainings for students.",
        "The institute has held workshops and lectures for doctors.",
        "puts",
    ),
    (
        LISTS,
        "The faculty has held workshops and lectures for doctors.",
        "The faculty has organised seminars and trainings for students.",
        "puts",
    ),
    (
        SIGNED,
        "Kazan Medical University and Harbin Medical University signed the agreement.",
        "Sechenov University signed the agreement.",
        "puts",
    ),
]


@pytest.mark.parametrize(("passage", "faithful", "planted", "kind"), PLANTED)
def test_planted_error_is_caught_and_its_faithful_twin_passes(
    embedder, passage, faithful, planted, kind
):
    honest = check_sentence(faithful, [passage], embedder)
    assert honest.supported, f"a faithful sentence was rejected: {faithful!r}: {honest.reasons}"
    verdict = check_sentence(planted, [passage], embedder)
    assert not verdict.supported, f"a planted error ({kind}) passed verification: {planted!r}"
    assert any(kind in reason for reason in verdict.reasons), (
        f"{planted!r} should be rejected for {kind!r}, reasons were {verdict.reasons}"
    )


@pytest.mark.parametrize(
    ("passage", "paraphrase"),
    [
        # active and passive voice swapped
        (FOUNDED, "Sechenov University and Harbin Medical University founded ASRMU."),
        (SIGNED, "Kazan Medical University signed the agreement with Harbin Medical University."),
        # the same negation in other words
        (FEES, "The institute charges no fees."),
        # a plan stays a plan in other words
        (PLANNED, "The institute plans to open a new genetics laboratory in Bishkek next year."),
        # other word order, other date format
        (HELD, "The ASRMU Council met in Guangzhou on 6 July 2024 for its 10th anniversary."),
        (COUNTS, "In China, 4566 medical centers are operating today."),
        (JOINED, "Twelve universities from Russia joined the association in 2015."),
        # a list item copied in the passage's order, verbless as the passage's own list is
        (HELD, "The 10th anniversary meeting of the ASRMU Council."),
        # a shared subject carried into the second verb
        (
            "The institute organises seminars for students and publishes a medical journal.",
            "The institute publishes a medical journal.",
        ),
        # "above" as a preposition of quantity is not talk about the text above
        (
            "The association now includes over 100 universities, having grown fivefold.",
            "The association now includes above 100 universities.",
        ),
        # a "with" relation holds both ways; a passive names its doer with "by"
        (AGREED, "Tallinn Medical College signed a cooperation agreement with the IC."),
        (AGREED, "A cooperation agreement was signed by the IC with Tallinn Medical College."),
        (HOSTED, "Delegates from Harbin Medical University were hosted by Sechenov University."),
        # an infinitive complement of the copula keeps its subject
        (
            "The mission of the institute is to support young scientists.",
            "The institute supports young scientists.",
        ),
    ],
)
def test_honest_rewording_passes(embedder, passage, paraphrase):
    verdict = check_sentence(paraphrase, [passage], embedder)
    assert verdict.supported, f"an honest paraphrase was rejected: {paraphrase!r}: {verdict}"


def test_verbatim_quotes_pass_every_parse_check():
    for passage in (HELD, PLANNED, FEES, FOUNDED, COUNTS, JOINED, LISTS, SIGNED, AGREED, HOSTED):
        assert claim_problems(passage, [passage]) == [], f"a quote failed against itself: {passage}"


def test_cyrillic_sentences_are_left_to_the_word_checks(embedder):
    quote = "Ассоциация была основана десять лет назад."
    assert check_sentence(quote, [quote], embedder).supported, "a verbatim quote must pass"


# -- attribution: "according to the article, X" asserts X and names where it is said ---------

ANNOUNCED = (
    "The institute and Harbin Medical University agreed to open a joint laboratory of "
    "regenerative medicine in Almaty."
)
ANNOUNCED_TITLE = "Tashkent Institute signs a laboratory agreement"


@pytest.mark.parametrize(
    "sentence",
    [
        "According to the Tashkent article, the institute and Harbin Medical University agreed "
        "to open a joint laboratory of regenerative medicine.",
        "The report says that the institute agreed to open a joint laboratory in Almaty.",
        "As the announcement notes, a joint laboratory of regenerative medicine will open in "
        "Almaty.",
        "The institute, the article reports, agreed to open a joint laboratory in Almaty.",
    ],
)
def test_a_claim_attributed_to_its_source_is_checked_as_the_claim(embedder, sentence):
    verdict = check_sentence(sentence, [ANNOUNCED], embedder, titles=[ANNOUNCED_TITLE])
    if "will open" in sentence:  # an agreement to open is not an opening: the claim is checked
        assert not verdict.supported and any("future" in r for r in verdict.reasons), verdict
    else:
        assert verdict.supported, f"an attributed faithful claim was rejected: {verdict}"


@pytest.mark.parametrize(
    ("sentence", "shown"),
    [
        # a source the citation does not show
        (
            "According to the Stanford article, the institute and Harbin Medical University "
            "agreed to open a joint laboratory of regenerative medicine.",
            "Stanford",
        ),
        # a speaker the passage never names
        (
            "The rector said that the institute agreed to open a joint laboratory in Almaty.",
            "rector",
        ),
    ],
)
def test_an_attribution_the_citation_does_not_show_is_rejected(embedder, sentence, shown):
    verdict = check_sentence(sentence, [ANNOUNCED], embedder, titles=[ANNOUNCED_TITLE])
    assert not verdict.supported, f"a wrong attribution passed: {sentence!r}"
    assert any(shown in r for r in verdict.reasons), f"the reason names {shown!r}: {verdict}"


def test_an_attribution_does_not_carry_an_invented_claim(embedder):
    sentence = "The article reports that the institute opened a cardiology clinic in Bishkek."
    verdict = check_sentence(sentence, [ANNOUNCED], embedder, titles=[ANNOUNCED_TITLE])
    assert not verdict.supported, f"an invented claim passed behind an attribution: {verdict}"


def test_talk_about_the_passage_is_still_caught_in_an_attribution(embedder):
    sentence = "The passage says that the institute agreed to open a joint laboratory in Almaty."
    verdict = check_sentence(sentence, [ANNOUNCED], embedder, titles=[ANNOUNCED_TITLE])
    assert not verdict.supported and any("talks about" in r for r in verdict.reasons), verdict


def test_a_title_supports_an_attribution_but_no_claim(embedder):
    sentence = "Tashkent Institute signs a laboratory agreement."
    verdict = check_sentence(sentence, [ANNOUNCED], embedder, titles=[ANNOUNCED_TITLE])
    assert not verdict.supported, f"a title alone supported a claim: {verdict}"
