"""CPMR Assistant: grounded, cited answers about Ala-Too International University's Centre for
Promotion of Medical Research and medical-university partnerships.

The public API is the service layer; every front end (CLI, Streamlit app, HTTP API) calls it.
"""

from assistant.config import Settings
from assistant.types import (
    Answer,
    AnswerSentence,
    ChatTurn,
    Chunk,
    Citation,
    Document,
    IndexReport,
    RetrievedChunk,
)

__all__ = [
    "Answer",
    "AnswerSentence",
    "ChatTurn",
    "Chunk",
    "Citation",
    "Document",
    "IndexReport",
    "RetrievedChunk",
    "Settings",
]
