"""Text shaping for the Streamlit pages: escaping, citation badges, highlighting; no widgets here.

Everything shown in the app that comes from documents or users passes through these functions:
Markdown is backslash-escaped so a document cannot inject links, images, LaTeX or colour
directives, and HTML (used only to highlight a quoted passage inside its document) is built
from `html.escape`d pieces. `[n]` citation markers become blue badges whose numbers match the
numbered source list under each answer.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from assistant.citations import unescape_literal_markers
from assistant.types import Answer, AnswerSentence, Citation

# A real marker; a document's own "[2]" reaches here escaped as "\[2\]" and is not one.
_MARKER = re.compile(r"(?<!\\)\[(\d{1,3})\]")
# Every ASCII punctuation character may be backslash-escaped in CommonMark; these are the ones
# that start Markdown, HTML, LaTeX ($) or Streamlit directive (:) syntax.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|$~:=&])")
_SPACE = re.compile(r"\s+")

BADGE_COLOR = "blue"
EVIDENCE_NOTE = (
    "Lines shown as quotes are passages copied word for word from the sources; the other "
    "sentences were written by the assistant and checked against the passages they cite."
)

_STAGES: tuple[tuple[str, str], ...] = (
    ("rewrit", "Understanding the follow-up question…"),
    ("retriev", "Searching the documents…"),
    ("search", "Searching the documents…"),
    ("generat", "Writing the answer…"),
    ("judg", "Checking that the sources answer the question…"),
    ("quot", "Picking the passages that answer it…"),
    ("writ", "Writing the answer…"),
    ("verif", "Checking the answer against the sources…"),
    ("check", "Checking the answer against the sources…"),
)


# Streamlit's Markdown (remark-gfm) turns bare addresses into links even inside escaped text:
# "www.x.org", "https://x.org" and "name@x.org". A word joiner (U+2060, invisible, no break)
# after the scheme or "www" and before "@" keeps them plain text.
_WORD_JOINER = "\u2060"
_AUTOLINKS = (
    (re.compile(r"(?i)\b((?:https?|ftp|mailto|xmpp)):"), rf"\1{_WORD_JOINER}:"),
    (re.compile(r"(?i)\b(www)\."), rf"\1{_WORD_JOINER}."),
    (re.compile(r"@"), f"{_WORD_JOINER}@"),
)


def _unlinked(text: str) -> str:
    for pattern, replacement in _AUTOLINKS:
        text = pattern.sub(replacement, text)
    return text


# Where things live on the server is for its log, not for the page: URLs and host:port (a
# Chroma server, the model server), absolute, home and Windows paths.
_LOCATIONS = (
    re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>()]+"),
    re.compile(
        r"\b(?:localhost|\d{1,3}(?:\.\d{1,3}){3}|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+):\d{2,5}\b"
    ),
    re.compile(r"\b[A-Za-z]:\\[^\s'\"<>()]+"),
    re.compile(r"(?<![\w.~/-])~?/[^\s'\"<>(),;]+"),
)


def without_locations(message: str) -> str:
    """An error message with its URLs, server addresses and file paths replaced by '(…)'."""
    for pattern in _LOCATIONS:
        message = pattern.sub("(…)", message)
    return message


def escape_markdown(text: str) -> str:
    """Text that Streamlit's Markdown shows literally, on one line, with no clickable links."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", _unlinked(_SPACE.sub(" ", text).strip()))


def badge(n: int) -> str:
    """The Markdown for citation number `n`, the same in answers and in source lists."""
    return f":{BADGE_COLOR}-badge[{n}]"


def with_badges(text: str, extra: Iterable[int] = ()) -> str:
    """Escape `text` and turn its `[n]` markers into badges; `extra` numbers are appended
    when the text carries no markers of its own."""
    pieces: list[str] = []
    position = 0
    found = False
    for match in _MARKER.finditer(text):
        pieces.append(escape_markdown(unescape_literal_markers(text[position : match.start()])))
        pieces.append(badge(int(match.group(1))))
        position = match.end()
        found = True
    pieces.append(escape_markdown(unescape_literal_markers(text[position:])))
    if not found:
        pieces.extend(badge(n) for n in extra)
    return " ".join(piece for piece in pieces if piece)


def sentence_markdown(sentence: AnswerSentence) -> str:
    """One answer sentence as a Markdown fragment: a verbatim fallback quote becomes its own
    block quote, so readers can tell it from sentences the model wrote.

    The badges come from the sentence's citations only: a `[2]` in its text is the
    document's own and is shown as written.
    """
    pieces = [escape_markdown(sentence.text), *(badge(n) for n in sentence.citations)]
    body = " ".join(piece for piece in pieces if piece)
    if sentence.origin == "evidence":
        return f"\n\n> {body}\n\n"
    return f"{body} "


def answer_markdown(answer: Answer) -> str:
    """The whole answer as Markdown, the same pieces that were streamed."""
    if not answer.sentences:
        return with_badges(answer.text)
    return "".join(sentence_markdown(s) for s in answer.sentences).strip()


def has_evidence_quotes(answer: Answer) -> bool:
    return any(s.origin == "evidence" for s in answer.sentences)


def stage_label(stage: str) -> str:
    """A reader-facing status line for a pipeline stage name."""
    lowered = stage.lower()
    for key, label in _STAGES:
        if key in lowered:
            return label
    return "Working on the answer…"


def source_heading(citation: Citation) -> str:
    """'[n] **Title** · date · kind · page' as escaped Markdown."""
    parts = [f"{badge(citation.n)} **{escape_markdown(citation.title or citation.source)}**"]
    if citation.date:
        parts.append(f"{citation.date.day} {citation.date:%B %Y}")
    if citation.kind:
        parts.append(escape_markdown(citation.kind))
    if citation.page:
        parts.append(f"page {citation.page}")
    return " · ".join(parts)


def quote_markdown(quote: str) -> str:
    return f"> {escape_markdown(quote)}"


def find_passage(text: str, quote: str) -> tuple[int, int] | None:
    """Where `quote` lies in `text`, tolerating differences in whitespace and case."""
    words = quote.split()
    if not words:
        return None
    pattern = r"\s+".join(re.escape(word) for word in words)
    match = re.search(pattern, text, flags=re.IGNORECASE)
    return (match.start(), match.end()) if match else None


_BOX = (
    "white-space: pre-wrap; line-height: 1.55; font-size: 0.95rem; padding: 0.75rem 1rem; "
    "border: 1px solid rgba(128,128,128,0.35); border-radius: 0.5rem;"
)
_SCROLL = " max-height: 60vh; overflow-y: auto;"
_MARK = "background: #ffe58a; color: #1f1f1f; padding: 0 0.1em; border-radius: 0.2em;"


def _marked(text: str, span: tuple[int, int] | None) -> str:
    if span is None:
        return html.escape(text)
    start, end = span
    return (
        html.escape(text[:start])
        + f'<mark style="{_MARK}">'
        + html.escape(text[start:end])
        + "</mark>"
        + html.escape(text[end:])
    )


def highlighted_document_html(text: str, quote: str) -> tuple[str, bool]:
    """The whole document as escaped HTML with the quoted passage marked; and whether the
    passage was found."""
    span = find_passage(text, quote)
    return f'<div style="{_BOX}{_SCROLL}">{_marked(text, span)}</div>', span is not None


def highlighted_excerpt_html(text: str, quote: str, context: int = 500) -> str | None:
    """The passage with up to `context` characters either side, marked; None when absent."""
    span = find_passage(text, quote)
    if span is None:
        return None
    start = max(0, span[0] - context)
    end = min(len(text), span[1] + context)
    # Cut at whitespace so the excerpt does not open or close mid-word.
    if start > 0:
        start = next((i for i in range(start, span[0]) if text[i].isspace()), span[0])
    if end < len(text):
        end = next((i for i in range(end, span[1], -1) if text[i - 1].isspace()), span[1])
    body = _marked(text[start:end], (span[0] - start, span[1] - start))
    prefix = "… " if start > 0 else ""
    suffix = " …" if end < len(text) else ""
    return f'<div style="{_BOX}">{prefix}{body}{suffix}</div>'
