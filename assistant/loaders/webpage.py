"""Reader for saved web pages (.html, .htm): the article's main text via trafilatura.

trafilatura separates the article from menus, sidebars and footers and reads the page's title,
site name and date from its markup. Its date search is limited to what the markup states
(`extensive_search=False`): the wider search infers a date from any date-like string in the
page, which for a news item is as often an event date as the publication date. When trafilatura
finds no main text (a tiny or oddly built page), a plain tag stripper that skips scripts, styles
and navigation takes over, and the usual boilerplate cleaning follows either way.
"""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser
from typing import Any

import trafilatura

from assistant.loaders.decoding import declared_charset, decode_text
from assistant.loaders.extraction import Extraction, Part
from assistant.loaders.metadata import find_stamp, parse_date

_SKIPPED = frozenset({"script", "style", "noscript", "template", "svg", "nav", "head"})
_BLOCKS = frozenset(
    {
        "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "table",
        "section", "article", "header", "footer", "blockquote", "pre", "dd", "dt", "hr",
    }
)  # fmt: skip


class _TextCollector(HTMLParser):
    """Visible text of a page, one block element per line, plus its <title> and first <h1>."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.title = ""
        self.h1 = ""
        self._skipping = 0
        self._stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._stack.append(tag)
        if tag in _SKIPPED:
            self._skipping += 1
        if tag in _BLOCKS:
            self.lines.append("")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._stack:
            while self._stack and self._stack.pop() != tag:
                pass
            if tag in _SKIPPED:
                self._skipping = max(0, self._skipping - 1)
        if tag in _BLOCKS:
            self.lines.append("")

    def handle_data(self, data: str) -> None:
        if "title" in self._stack:
            self.title += data
        elif self._skipping == 0:
            self.lines[-1] += data
            if "h1" in self._stack:
                self.h1 += data


def _fallback(html: str) -> tuple[str, str | None]:
    collector = _TextCollector()
    collector.feed(html)
    collector.close()
    text = "\n".join(line.strip() for line in collector.lines)
    title = collector.h1.strip() or collector.title.strip() or None
    return text, title


def _metadata_date(value: Any) -> dt.date | None:
    return parse_date(str(value)) if value else None


def read_html(data: bytes) -> Extraction:
    """Read a saved web page; the page's markup supplies title, site name and date."""
    html = decode_text(data, declared=declared_charset(data))
    result = trafilatura.bare_extraction(
        html,
        with_metadata=True,
        include_comments=False,
        include_tables=True,
        date_extraction_params={"extensive_search": False, "original_date": True},
    )
    fields: dict[str, Any] = {}
    if result is not None:
        fields = result if isinstance(result, dict) else result.as_dict()
    text = fields.get("text") or ""
    title = fields.get("title")
    if not text.strip():
        text, fallback_title = _fallback(html)
        title = title or fallback_title
    stamp = find_stamp(text)
    date = _metadata_date(fields.get("date"))
    sitename = fields.get("sitename")
    return Extraction(
        parts=(Part(text),),
        title=title or None,
        date=date or (stamp.date if stamp else None),
        publisher=sitename or (stamp.publisher if stamp else None),
    )
