"""Questions embedded as clauses for refusals: English word order restored, never a garbled
clause (None instead). The phrasings occur in no question set."""

import pytest

from assistant.answering.indirect import indirect_question


@pytest.mark.parametrize(
    ("question", "clause"),
    [
        # The wh-phrase is the subject: the order stays.
        ("Who repaints the lighthouse?", "who repaints the lighthouse"),
        ("Which ferry will leave first?", "which ferry will leave first"),
        ("Who has inspected the pier?", "who has inspected the pier"),
        # An inverted auxiliary goes back after its subject.
        ("Where is the harbour office located?", "where the harbour office is located"),
        ("Who is the keeper of the lighthouse?", "who the keeper of the lighthouse is"),
        ("How many boats can the marina hold?", "how many boats the marina can hold"),
        ("When will the new pier open?", "when the new pier will open"),
        ("Why was the ferry cancelled?", "why the ferry was cancelled"),
        # "do" only served the inversion: dropped, its tense moved onto the verb.
        ("When did the council approve the budget?", "when the council approved the budget"),
        ("What does the harbour master inspect?", "what the harbour master inspects"),
        ("Which islands do the ferries serve?", "which islands the ferries serve"),
        # The asker's "I" is the reader's "you".
        ("Where can I park near the pier?", "where you can park near the pier"),
        ("Where am I allowed to fish?", "where you are allowed to fish"),
        ("What do we need for the tour?", "what you need for the tour"),
        # Contractions are written out where the verb moves.
        ("What's the height of the lighthouse?", "what the height of the lighthouse is"),
        ("Where're the tide tables?", "where the tide tables are"),
    ],
)
def test_questions_become_clauses_in_statement_order(question, clause):
    assert indirect_question(question) == clause


@pytest.mark.parametrize(
    "question",
    [
        "Tell me about the ferry timetable.",  # a request, not a question
        # A yes/no question as "whether P" would state P in the assistant's voice.
        "Is the ferry free for children?",
        "Has the council published its report?",
        # Nor would a clause with a subject of its own inside the question.
        "What proves that the ferry is free?",
        "What is the name of the ship that the council bought?",
        "Can you list the harbour fees?",  # addressed to the assistant
        "Where is the pier? When does it open?",  # two questions
        "",
    ],
)
def test_what_cannot_be_embedded_gives_none(question):
    assert indirect_question(question) is None
