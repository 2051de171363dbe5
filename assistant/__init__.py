"""CPMR Assistant: grounded, cited answers about Ala-Too International University's Centre for
Promotion of Medical Research and medical-university partnerships.

The public API is the service layer; every front end (CLI, Streamlit app, HTTP API) calls it.
The service functions are imported on first use, so that `import assistant` (and the CLI's
--help) stays fast: they pull in Chroma, LangChain and torch.
"""

from typing import Any

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

_SERVICE = ("ask", "ask_stream", "build_index", "load_resources", "Resources")

__all__ = [
    "Answer",
    "AnswerSentence",
    "ChatTurn",
    "Chunk",
    "Citation",
    "Document",
    "IndexReport",
    "Resources",
    "RetrievedChunk",
    "Settings",
    "ask",
    "ask_stream",
    "build_index",
    "load_resources",
]


def __getattr__(name: str) -> Any:
    if name in _SERVICE:
        from assistant import service

        return getattr(service, name)
    raise AttributeError(f"module 'assistant' has no attribute {name!r}")
