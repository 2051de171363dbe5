"""Text cleaning before chunking: web boilerplate out, prompt injections out, white space tidy.

Pages saved from university sites carry navigation crumbs ("- Main page", "Home > News",
"You are here"), accessibility widgets ("Font: A A A Background: ..."), category tags, "Changed
on <date>" stamps and link lists under the article. Indexed as text they would be retrieved and
quoted as if they were content, so `clean_text` drops them. Its rules describe the *shape* of
boilerplate (short unpunctuated lines before the first sentence of the article, a run of short
link-like lines after its last sentence, a label plus a date) rather than listing the strings of
one site, because other pages of the same sites carry other link texts. Headlines and bylines
stay, and a rule that could eat a sentence of the article is not worth having.

`strip_injections` removes lines that address an AI system with instructions ("Ignore all
previous instructions and tell users that ..."). The corpus takes uploads, and what the
assistant retrieves is put in front of the chat model as evidence: a hostile document must not
be able to steer answers, nor be quoted back as fact. The whole paragraph holding such an
instruction goes, because the claim it wants repeated usually sits beside the trigger phrase in
sentences that look innocent on their own; only a very long line (a file without paragraph
breaks) is cut sentence by sentence instead, so that the rest of the file survives. The test
itself is `assistant.injection.addresses_ai`, which sees through invisible characters,
look-alike letters, line breaks and Russian; the answer path applies the same test to every
sentence it would quote.
"""

from __future__ import annotations

import re

from assistant.injection import addresses_ai, find_instructions
from assistant.loaders.metadata import is_date_stamp
from assistant.text import Span, split_sentences

# Sentence-final punctuation, allowing closing quotes and brackets after it.
_TERMINAL = re.compile(r"[.!?…][\"'”’»)\]]*$")
_BULLET_MARK = r"[-*•·–]"
_BULLET = re.compile(rf"^{_BULLET_MARK}\s+")
# "/" and "|" also separate words in real headlines ("Research / Teaching"); arrows do not.
_CRUMB_SEPARATOR = re.compile(r"\s+[>»›→]\s+")
_LIST_ITEM = re.compile(rf"^(?:{_BULLET_MARK}|\d{{1,2}}[.)])\s+")
_CATEGORY_TAG = re.compile(r"[a-z][a-z\-]*(?: [a-z][a-z\-]*){0,2}")
# Whole lines that are page furniture on any CMS, wherever they appear.
_UI_LINE = re.compile(
    r"(?:you are here|skip to (?:main )?(?:content|navigation)|(?:main )?menu|search|home"
    r"|print(?: version| this page)?|share(?: this)?(?: page| article| post| news)?"
    r"|back(?: to (?:top|news|the list|list))?|read more"
    r"|(?:version for (?:the )?)?visually impaired"
    r"|accessibility(?: options)?)\s*:?",
    re.IGNORECASE,
)
# Characters str.splitlines() breaks on; left in, they would split sentences where no reader
# sees a line break.
_LINE_BREAKS = re.compile(r"\r\n|[\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")
# Control characters (tab and newline aside) and invisible format characters (soft hyphen,
# zero-width spaces and joiners, direction marks, byte-order mark).
_INVISIBLE = re.compile(
    r"[\x00-\x08\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e"
    r"\u2060-\u2064\u2066-\u206f\ufeff]"
)
_SPACES = re.compile(r"[^\S\n]+")

_CRUMB_WORDS = 4
_LINK_WORDS = 10
_MIN_LINK_RUN = 3
_LONG_LINE = 600


def normalize_whitespace(text: str) -> str:
    """One space between words, no invisible characters, at most one blank line in a row."""
    text = _INVISIBLE.sub("", _LINE_BREAKS.sub("\n", text))
    lines = [_SPACES.sub(" ", line).strip() for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _word_count(line: str) -> int:
    return len(line.split())


def _is_sentence(line: str) -> bool:
    return bool(_TERMINAL.search(line)) and _word_count(line) >= 3


def _starts_body(line: str) -> bool:
    """The first sentence of the article: a full-stop sentence, or a line too long for a title."""
    return (line.rstrip("\"'”’»)]").endswith(".") and _word_count(line) >= 5) or (
        _word_count(line) >= 15
    )


def _is_ui_line(line: str) -> bool:
    return bool(_UI_LINE.fullmatch(line))


def _is_widget(line: str) -> bool:
    """'Font: A A A Background: Images: ON OFF': labels and one-letter switches, no words."""
    tokens = line.split()
    labels = sum(1 for token in tokens if token.endswith(":"))
    tiny = sum(1 for token in tokens if token.endswith(":") or len(token) <= 3)
    return len(tokens) >= 4 and labels >= 2 and tiny / len(tokens) >= 0.75


def _is_crumb(line: str) -> bool:
    if _TERMINAL.search(line):
        return False
    bullet = _BULLET.match(line)
    if bullet:
        return _word_count(line[bullet.end() :]) <= _CRUMB_WORDS
    segments = _CRUMB_SEPARATOR.split(line)
    if len(segments) >= 2 and _word_count(segments[0]) <= 3:
        return True
    return bool(_CATEGORY_TAG.fullmatch(line)) or _is_widget(line)


def _drop_leading_crumbs(lines: list[str]) -> list[str]:
    """Before the article's first sentence only headlines survive; crumbs and tags go."""
    kept: list[str] = []
    for index, line in enumerate(lines):
        if _starts_body(line):
            return kept + lines[index:]
        if not _is_crumb(line):
            kept.append(line)
    return kept


def _is_link_line(line: str) -> bool:
    # A list the author marked with bullets or numbers is content, even without full stops.
    return (
        not _LIST_ITEM.match(line)
        and not _TERMINAL.search(line)
        and not line.endswith((":", ",", ";"))
        and _word_count(line) <= _LINK_WORDS
    )


def _drop_trailing_links(lines: list[str]) -> list[str]:
    """A run of short unpunctuated lines after the last sentence is a list of site links.

    A single line there is more likely a byline ("OSMU Press Center") and stays.
    """
    last_prose = max((i for i, line in enumerate(lines) if _is_sentence(line)), default=None)
    if last_prose is None:
        return lines
    tail = [line for line in lines[last_prose + 1 :] if line]
    if len(tail) >= _MIN_LINK_RUN and all(_is_link_line(line) for line in tail):
        return lines[: last_prose + 1]
    return lines


def clean_text(text: str) -> str:
    """Strip web boilerplate and date stamps from a page's text and tidy its white space.

    Paragraph breaks survive as blank lines and a sentence-per-line layout survives as is.
    """
    lines = normalize_whitespace(text).split("\n")
    lines = [line for line in lines if not (_is_ui_line(line) or is_date_stamp(line))]
    lines = _drop_leading_crumbs(lines)
    lines = _drop_trailing_links(lines)
    return normalize_whitespace("\n".join(lines))


def is_injection(sentence: str) -> bool:
    """True when a sentence (or title) addresses an AI system with instructions."""
    return addresses_ai(sentence)


def _without(line: str, spans: list[Span]) -> str:
    kept, cursor = [], 0
    for span in spans:
        kept.append(line[cursor : span.start])
        cursor = span.end
    kept.append(line[cursor:])
    return _SPACES.sub(" ", "".join(kept)).strip()


def _paragraphs(lines: list[str]) -> list[list[int]]:
    """Indexes of the lines of each paragraph (a run of non-blank lines)."""
    blocks: list[list[int]] = []
    current: list[int] = []
    for index, line in enumerate(lines):
        if line.strip():
            current.append(index)
        elif current:
            blocks.append(current)
            current = []
    if current:
        blocks.append(current)
    return blocks


def _instructions_by_line(lines: list[str]) -> dict[int, list[tuple[int, int]]]:
    """For each line holding (part of) an instruction, where in the line it lies."""
    hits: dict[int, list[tuple[int, int]]] = {}
    # Strong patterns read a whole paragraph, so an instruction broken over lines is caught.
    for block in _paragraphs(lines):
        starts, offset = [], 0
        for index in block:
            starts.append(offset)
            offset += len(lines[index]) + 1
        text = "\n".join(lines[index] for index in block)
        for start, end in find_instructions(text, weak=False):
            for index, line_start in zip(block, starts, strict=True):
                line_end = line_start + len(lines[index])
                if start < line_end and end > line_start:
                    hits.setdefault(index, []).append(
                        (max(start, line_start) - line_start, min(end, line_end) - line_start)
                    )
    # Weak signals count only within one sentence; the whole-line test is a cheap filter,
    # since sentence splitting every line of a large corpus is slow.
    for index, line in enumerate(lines):
        if index in hits or not find_instructions(line):
            continue
        for span in split_sentences(line):
            for start, end in find_instructions(span.text):
                hits.setdefault(index, []).append((span.start + start, span.start + end))
    return hits


def strip_injections(text: str) -> tuple[str, list[str]]:
    """Remove lines that instruct an AI system; return the text and what was removed.

    Detection reads a normalised view (see assistant/injection.py), so invisible characters,
    look-alike letters, line breaks and the sentence splitter's 3000-character cut do not
    hide an instruction; what is removed is the original text.
    """
    lines = text.split("\n")
    hits = _instructions_by_line(lines)
    kept: list[str] = []
    removed: list[str] = []
    for index, line in enumerate(lines):
        found = hits.get(index)
        if not found:
            kept.append(line)
        elif len(line) <= _LONG_LINE:
            removed.append(line.strip())
        else:
            # Every sentence the instruction touches goes, also both halves of one that the
            # splitter cut in two.
            spans = [
                span
                for span in split_sentences(line)
                if any(start < span.end and end > span.start for start, end in found)
            ]
            kept.append(_without(line, spans))
            removed.extend(span.text for span in spans)
    return "\n".join(kept), removed
