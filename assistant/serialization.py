"""The documented JSON contract of an answer, shared by every front end that emits JSON.

`python -m assistant ask --json`, the batch mode and the HTTP API (`POST /api/chat` and the
final event of `/api/chat/stream`) all print this one shape, so it is built in one place.
"""

from __future__ import annotations

from typing import Any

from assistant.answering import retrieved_for_display
from assistant.types import Answer, AnswerSentence


def sentence_json(sentence: AnswerSentence) -> dict[str, Any]:
    """One verified answer sentence: text, cited numbers, whether verified, origin."""
    return {
        "text": sentence.text,
        "citations": list(sentence.citations),
        "verified": sentence.verified,
        "origin": sentence.origin,
    }


def answer_json(answer: Answer) -> dict[str, Any]:
    """The documented JSON contract of one answer."""
    return {
        "question": answer.question,
        "answer": answer.text,
        "refused": answer.refused,
        "citations": [
            {
                "n": c.n,
                "source": c.source,
                "title": c.title,
                "date": c.date.isoformat() if c.date else None,
                "quote": c.quote,
                "chunk_id": c.chunk_id,
            }
            for c in answer.citations
        ],
        "sentences": [sentence_json(s) for s in answer.sentences],
        "retrieved": retrieved_for_display(answer.retrieved),
        "timings": {
            "retrieve_ms": round(answer.timings.retrieve_ms, 1),
            "generate_ms": round(answer.timings.generate_ms, 1),
            "total_ms": round(answer.timings.total_ms, 1),
            "first_token_ms": (
                round(answer.timings.first_token_ms, 1)
                if answer.timings.first_token_ms is not None
                else None
            ),
        },
        "backend": answer.backend,
    }
