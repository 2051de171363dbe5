"""Fakes for what a real component cannot show deterministically.

`FakeChatBackend` returns scripted replies: the real 135M model cannot be made to invent a
given number or repeat a given line on demand, and verification must be shown to catch both.
"""

from collections.abc import Iterator

from langchain_core.messages import BaseMessage


class FakeChatBackend:
    """A chat backend that streams the queued replies word by word, one reply per call."""

    name = "fake"

    def __init__(self, replies: list[str]) -> None:
        self.replies = list(replies)
        self.prompts: list[list[BaseMessage]] = []

    def stream(self, messages: list[BaseMessage]) -> Iterator[str]:
        self.prompts.append(messages)
        reply = self.replies.pop(0) if self.replies else ""
        for i, word in enumerate(reply.split(" ")):
            yield word if i == 0 else f" {word}"
