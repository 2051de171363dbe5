"""Reading a question: language, the kind of thing asked for, terms, parts, small talk.

Phrasings here are invented for the tests and occur in no question set.
"""

import pytest

from assistant.answering.questions import (
    Asks,
    Reading,
    asks_for,
    asks_for_latest,
    is_small_talk,
    key_terms,
    language_of,
    needs_context,
    proper_names,
    split_question,
    standalone_question,
)
from assistant.types import ChatTurn


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("When did the library open its doors?", Asks.DATE),
        ("In which year was the bridge rebuilt?", Asks.DATE),
        ("How many rooms does the dormitory have?", Asks.NUMBER),
        ("What is the yearly fee for the evening course?", Asks.MONEY),
        ("What is the e-mail of the admissions office?", Asks.CONTACT),
        ("How do I reach the museum by phone?", Asks.CONTACT),
        ("Who chairs the ethics committee?", Asks.NAME),
        ("Where is the botanical garden?", Asks.NAME),
        ("Which companies sponsored the regatta?", Asks.NAME),
        ("What does WHO stand for?", Asks.EXPANSION),
        ("What is the abbreviation of the student union?", Asks.EXPANSION),
        ("Why do bees swarm?", Asks.ANY),
        ("Когда открылась библиотека?", Asks.DATE),
        ("Сколько студентов в группе?", Asks.NUMBER),
    ],
)
def test_kind_asked_for(question, expected):
    assert asks_for(question) is expected, question


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Where is the nearest pharmacy?", "en"),
        ("Где находится ближайшая аптека?", "ru"),
        ("Эң жакын дарыкана кайда?", "ky"),  # Kyrgyz letters
        ("Бул китеп кимдики?", "ky"),  # Kyrgyz function word, no special letter
        ("", "en"),
    ],
)
def test_language(text, language):
    assert language_of(text) == language, text


def test_key_terms_drop_framing_and_foreign_function_words():
    assert key_terms("According to the brochure, what does the report say about grants?") == [
        "brochur",
        "grant",
    ]
    assert "chto" not in key_terms("Что такое UNESCO?"), key_terms("Что такое UNESCO?")


def test_expansion_question_is_about_the_abbreviation_alone():
    reading = Reading.of("What does NATO stand for?")
    assert reading.asks is Asks.EXPANSION and reading.terms == ("nato",), reading


def test_lists_comparisons_and_yes_no():
    assert Reading.of("List all the museums of the old town.").wants_list
    assert Reading.of("What are the duties of a lifeguard?").wants_list
    assert not Reading.of("When did the ferry sink?").wants_list
    assert Reading.of("How do the two weather reports differ on rainfall?").compares
    assert Reading.of("Is the pool open on Sundays?").yes_no


def test_small_talk_is_social_wording_without_known_content():
    vocabulary = {"museum", "ticket"}
    known = vocabulary.__contains__
    assert is_small_talk(Reading.of("hello there!"), known)
    assert is_small_talk(Reading.of("Thanks a lot"), known)
    assert is_small_talk(Reading.of("what can you do?"), known)
    assert is_small_talk(Reading.of("Привет! Кто ты?"), known)
    assert not is_small_talk(Reading.of("Hello, how much is a museum ticket?"), known)
    assert not is_small_talk(Reading.of("When does the museum open?"), known)


@pytest.mark.parametrize(
    "message",
    [
        "Cheers, have a nice day",  # a formula that asks nothing, though "day" is known
        "Thanks a lot, that was helpful.",
        "What languages do you speak?",  # second person, no topical term the sources know
        "Who built this chatbot?",
        "What's up?",  # no content term at all
        "Как дела?",
        "Ты бот?",
        "Кандайсыз?",
        "Сиз кимсиз?",
    ],
)
def test_small_talk_is_told_by_grammar_not_by_known_phrasings(message):
    known = {"museum", "ticket", "day", "help", "speak", "today"}.__contains__
    assert is_small_talk(Reading.of(message), known), f"{message!r} is talk to the assistant"


@pytest.mark.parametrize(
    "message",
    [
        "Hi, when does the museum open?",  # a greeting, then a question about the sources
        "Can you tell me the ticket price?",  # the second person asking about a known thing
        "What is the weather on the moon?",  # off-topic: declined, not small talk
    ],
)
def test_questions_about_the_sources_are_not_small_talk(message):
    known = {"museum", "ticket", "day", "price"}.__contains__
    assert not is_small_talk(Reading.of(message), known), f"{message!r} asks about the sources"


def test_a_follow_up_without_content_is_not_small_talk():
    known = {"museum"}.__contains__
    assert is_small_talk(Reading.of("And why?"), known), "alone, it asks about nothing"
    assert not is_small_talk(Reading.of("And why?"), known, follow_up=True), (
        "in a conversation it points back at the previous question"
    )


def test_kyrgyz_is_told_by_its_agglutinated_function_words():
    assert language_of("Кандайсыз?") == "ky", "'кандай' opens the word"
    assert language_of("Как дела?") == "ru"


def test_proper_names_skip_the_first_word_but_keep_acronyms():
    assert proper_names("Which Danish harbour hosted UNESCO?") == ("danish", "unesco")
    assert proper_names("Как зовут директора?") == ()


def test_two_part_questions_split():
    parts = split_question("Which band played the festival, and what did the mayor announce?")
    assert parts == ["Which band played the festival", "what did the mayor announce?"], parts
    assert split_question("Salt and pepper?") == ["Salt and pepper?"]


def test_follow_up_takes_the_conversation_along():
    history = [
        ChatTurn(role="user", content="Tell me about the Riverside Rowing Club."),
        ChatTurn(role="assistant", content="The Riverside Rowing Club trains on the lake [1]."),
    ]
    query = standalone_question("When was it founded?", history)
    assert "Riverside Rowing Club" in query and "[1]" not in query, query
    assert standalone_question("When was the zoo founded?", history) == (
        "When was the zoo founded?"
    )
    assert needs_context("And then?") and not needs_context("Who painted the harbour mural?")


def test_latest_news():
    assert asks_for_latest("What is the most recent news about the port?")
    assert not asks_for_latest("What did the port announce in 1999?")
