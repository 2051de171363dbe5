"""Citation markers: parsing [n] from model output, and renumbering what an answer cites.

Numbers are assigned by the application to the passages it gives the model; the model's
markers are only hints. A marker naming no given passage is dropped, and the final answer is
renumbered 1..m in order of first use, so every marker has a listed citation and every
listed citation is used.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from assistant.text import split_sentences

_MARKER_RE = re.compile(r"\[(\d{1,3})\]")
_LEADING_MARKERS_RE = re.compile(r"^(\s*\[\d{1,3}\][.,;:]?)+")
# A document's own "[2]" (a reference in a paper) written into an answer as "\[2\]", so that
# it is neither read as a citation marker nor shown as a badge.
_LITERAL_RE = re.compile(r"\\\[(\d{1,3})\\\]")


def markers(text: str) -> list[int]:
    """The citation numbers in `text`, in order, without repeats."""
    seen: dict[int, None] = {}
    for match in _MARKER_RE.finditer(text):
        seen.setdefault(int(match.group(1)), None)
    return list(seen)


def strip_markers(text: str) -> str:
    return re.sub(r"\s*\[\d{1,3}\]", "", text).strip()


def split_cited_sentences(text: str) -> list[tuple[str, list[int]]]:
    """Split model output into sentences with the markers that belong to each.

    Models put markers before or after the full stop ("... grant [1]." / "... grant.[1]");
    a marker that starts a sentence fragment belongs to the sentence before it.
    """
    pieces: list[tuple[str, list[int]]] = []
    for span in split_sentences(text):
        body = span.text
        lead = _LEADING_MARKERS_RE.match(body)
        if lead and pieces:
            previous, cited = pieces[-1]
            pieces[-1] = (previous, cited + [n for n in markers(lead.group(0)) if n not in cited])
            body = body[lead.end() :].strip()
        if body:
            pieces.append((strip_markers(body), markers(body)))
    return [(sentence, cited) for sentence, cited in pieces if sentence]


def valid_markers(cited: Iterable[int], available: Sequence[int]) -> list[int]:
    """Only the markers that name a passage the model was actually given."""
    allowed = set(available)
    return [n for n in cited if n in allowed]


def renumbering(used_in_order: Iterable[int]) -> dict[int, int]:
    """Map passage numbers to 1..m in order of first use."""
    mapping: dict[int, int] = {}
    for n in used_in_order:
        mapping.setdefault(n, len(mapping) + 1)
    return mapping


def escape_literal_markers(text: str) -> str:
    """Text from a document with its own `[n]` written as `\\[n\\]`: not a citation marker."""
    return _MARKER_RE.sub(r"\\[\1\\]", text)


def unescape_literal_markers(text: str) -> str:
    """The document's own `[n]` back, for showing text that `escape_literal_markers` wrote."""
    return _LITERAL_RE.sub(r"[\1]", text)


def with_markers(sentence: str, numbers: Sequence[int]) -> str:
    """`sentence` with its markers placed before the closing punctuation; any `[n]` the
    sentence itself holds is escaped first, so the answer's markers are only the real ones."""
    sentence = escape_literal_markers(sentence)
    if not numbers:
        return sentence
    tags = "".join(f"[{n}]" for n in numbers)
    match = re.search(r"([.!?…]+[\"'”’)]*)$", sentence)
    if match:
        return f"{sentence[: match.start()]} {tags}{match.group(1)}"
    return f"{sentence} {tags}"
