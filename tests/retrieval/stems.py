"""Counting what the lexical index stems: how tests tell a build from a load or a reuse."""

from __future__ import annotations

import pytest


def counting_stems(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts `assistant.retrieval.lexical` stems from now on, in order."""
    from assistant.retrieval import lexical

    calls: list[str] = []
    original = lexical.terms

    def counting(text: str, **kwargs: object) -> list[str]:
        calls.append(text)
        return original(text, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(lexical, "terms", counting)
    return calls
