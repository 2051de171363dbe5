"""Markdown to plain text: the words stay, the syntax goes.

Staff write news in markdown; chunks, citations and the chat model want plain sentences, and a
quote must read the same on screen as in the file's rendered form. List items keep a '- ' marker
(or their number) because a marked list is content even without full stops, and the cleaner
uses that mark to tell an author's list from a site's trailing link list.
"""

from __future__ import annotations

import re

_FENCE = re.compile(r"^\s*(?:```|~~~)")
_ATX_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_SETEXT_UNDERLINE = re.compile(r"^\s{0,3}(?:=+|-+)\s*$")
_RULE = re.compile(r"^\s{0,3}(?:(?:-\s*){3,}|(?:\*\s*){3,}|(?:_\s*){3,})$")
_QUOTE = re.compile(r"^\s{0,3}(?:>\s?)+")
_BULLET = re.compile(r"^(\s*)[-*+]\s+(?:\[[ xX]\]\s+)?")
_TABLE_RULE = re.compile(r"^\s*\|?\s*:?-{3,}:?\s*(?:\|\s*:?-{3,}:?\s*)*\|?\s*$")
_REFERENCE_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+\S+.*$")
# Every inline pattern is linear in the line's length: the part between two delimiters may
# not contain the opening delimiter, so a scan from one opener stops at the next one instead
# of running to the end of the line (a 20,000-character line of "[" took seconds, and 4x more
# per doubling, with ".+?" and "[^\]]+"). HTML comments are found with str.find for the same
# reason.
_INLINE = (
    (re.compile(r"<br\s*/?>", re.IGNORECASE), " "),
    # An autolink's address is text; any other tag is markup.
    (re.compile(r"<((?:https?|mailto):[^<>\s]+)>"), r"\1"),
    (re.compile(r"</?[A-Za-z][^<>]*>"), ""),
    (re.compile(r"!\[([^\[\]]*)\]\([^()]*\)"), r"\1"),
    (re.compile(r"\[([^\[\]]+)\]\([^()]*\)"), r"\1"),
    (re.compile(r"\[([^\[\]]+)\]\[[^\[\]]*\]"), r"\1"),
    (re.compile(r"`([^`]+)`"), r"\1"),
    (re.compile(r"\*\*(?=\S)((?:[^*]|\*(?!\*))+?)(?<=\S)\*\*"), r"\1"),
    (re.compile(r"__(?=\S)((?:[^_]|_(?!_))+?)(?<=\S)__"), r"\1"),
    (re.compile(r"(?<![\w*])\*(?=[^\s*])([^*]+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w_])_(?=[^\s_])([^_]+?)(?<=\S)_(?![\w_])"), r"\1"),
    (re.compile(r"~~(?=\S)((?:[^~]|~(?!~))+?)(?<=\S)~~"), r"\1"),
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!>|~])"), r"\1"),
)


def _drop_comments(text: str) -> str:
    """Remove <!-- ... --> comments; an unclosed one runs to the end of the text."""
    kept: list[str] = []
    position = 0
    while (start := text.find("<!--", position)) != -1:
        kept.append(text[position:start])
        end = text.find("-->", start + 4)
        if end == -1:
            return "".join(kept)
        position = end + 3
    kept.append(text[position:])
    return "".join(kept)


def inline_to_text(text: str) -> str:
    """Drop inline markdown (emphasis, links, code, tags) from one line, keeping its words."""
    text = _drop_comments(text)
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return text


def _table_row(line: str) -> str:
    cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
    return " | ".join(cell for cell in cells if cell)


def _block_line(line: str) -> str | None:
    """One line outside code fences as plain text; None when it is pure syntax."""
    if _RULE.match(line) or _REFERENCE_DEF.match(line) or _TABLE_RULE.match(line):
        return None
    line = _QUOTE.sub("", line)
    heading = _ATX_HEADING.match(line)
    if heading:
        return heading.group(1)
    line = _BULLET.sub(r"\1- ", line)
    if line.lstrip().startswith("|"):
        return _table_row(line)
    return line


def markdown_to_text(markdown: str) -> str:
    """Plain text of a markdown document; blank lines and line structure are kept."""
    out: list[str] = []
    in_fence = False
    for line in markdown.splitlines():
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if in_fence:
            out.append(line)
            continue
        if _SETEXT_UNDERLINE.match(line) and out and out[-1].strip():
            continue  # the line above is a heading; its underline is syntax
        converted = _block_line(line)
        if converted is not None:
            out.append(inline_to_text(converted))
    return "\n".join(out)
