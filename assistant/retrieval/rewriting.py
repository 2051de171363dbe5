"""Question rewriting before search: follow-ups made standalone, two-part questions split,
questions after the newest news recognised.

These read the question's wording (and the conversation) only; they know nothing of the index.
They live beside retrieval until the answer stage (`assistant/answering/`) takes them over.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.text import STOPWORDS, words
from assistant.types import ChatTurn

# Words that only make sense with an antecedent from earlier in the conversation.
_ANAPHORA = frozenset(
    (
        "it its it's they them their theirs this that these those he him his she her hers "
        "there here same such else former latter"
    ).split()
)
_QUESTION_WORDS = frozenset("what which who whom whose when where why how".split())
_HISTORY_CHARS = 400


_SECOND_QUESTION_RE = re.compile(
    r"(?:,|;)?\s+and\s+(?=(?:what|which|who|whom|whose|when|where|why|how)\b)", re.IGNORECASE
)


_LATEST_RE = re.compile(
    r"\b(latest|newest|most recent|recent|last)\b[^?]*\b(news|announcements?|updates?|"
    r"articles?|events?|agreements?|partnerships?)\b|\bwhat'?s new\b",
    re.IGNORECASE,
)


def asks_for_latest(question: str) -> bool:
    """True for questions after the newest news ("What is the latest news about CPMR?")."""
    return bool(_LATEST_RE.search(question))


def split_question(question: str) -> list[str]:
    """The parts of a question that asks two things ("Which conference was held ..., and what
    did the parties sign?"); a single question comes back alone."""
    parts = [p.strip(" ,;") for p in _SECOND_QUESTION_RE.split(question)]
    if len(parts) > 1 and all(len(words(p)) >= 3 for p in parts):
        return parts
    return [question]


def needs_context(question: str) -> bool:
    """True when a question leans on earlier turns: it has an anaphor or almost no content."""
    tokens = words(question)
    if any(t in _ANAPHORA for t in tokens):
        return True
    content = [t for t in tokens if t not in STOPWORDS and t not in _QUESTION_WORDS]
    return len(content) < 2


def standalone_question(question: str, history: Sequence[ChatTurn]) -> str:
    """The question with enough of the conversation attached to be searched on its own.

    The newest user turn names the topic and the assistant's reply to it often names the
    entity ("a Memorandum ... with a Chinese high-tech company"), so both are appended, the
    reply cut short so that it cannot outweigh the question itself.
    """
    if not history or not needs_context(question):
        return question
    last_user = next((t.content for t in reversed(history) if t.role == "user"), "")
    last_reply = next((t.content for t in reversed(history) if t.role == "assistant"), "")
    reply = re.sub(r"\s*\[\d+\]", "", last_reply)[:_HISTORY_CHARS]
    context = " ".join(part for part in (last_user, reply) if part)
    return f"{question} (context: {context})" if context else question
