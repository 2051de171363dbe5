"""Reader for PDF files via pypdf: text page by page, so chunks can cite their page.

pypdf returns each page as laid-out lines, so a sentence wrapped across two lines would reach
the sentence splitter as two fragments; wrapped lines are joined back (a line that fills most of
the page width and ends without punctuation continues on the next). Running headers and
footers (a line repeated on most pages) and bare page numbers are dropped. A PDF locked with a
user password is refused with what to do; one whose password only restricts printing or
copying opens with the empty password and is read. Only the title comes from the PDF's
metadata: its creation date is when the file was made, not when the news was published.

A PDF is untrusted input (staff upload them): more than `MAX_PAGES` pages is refused before any
page is read, and text extraction stops with an error once it has run `TIME_LIMIT_S` seconds
(checked between pages; pypdf's own limits bound the work inside one page).
"""

from __future__ import annotations

import io
import re
import time
from collections import Counter
from collections.abc import Callable

from pypdf import PdfReader

from assistant.errors import DocumentError
from assistant.loaders.extraction import Extraction, Part
from assistant.loaders.metadata import find_stamp

_ENDS_CLAUSE = re.compile(r"[.!?:;…][\"'”’»)\]]*$")
_PAGE_NUMBER = re.compile(
    r"(?:page\s+)?[-–—]?\s*\d{1,4}\s*[-–—]?(?:\s*(?:/|of)\s*\d{1,4})?", re.IGNORECASE
)
MAX_PAGES = 500
TIME_LIMIT_S = 60.0
_WRAP_SHARE = 0.6
_RUNNING_SHARE = 0.6
_MIN_PAGES_FOR_RUNNING = 3
_RUNNING_WORDS = 12
# Titles that PDF producers write on their own; they name the file, not the document.
_JUNK_TITLE = re.compile(
    r"^(?:untitled|microsoft (?:word|powerpoint) - .*|document\d*|.*\.(?:docx?|pdf|odt|rtf))$",
    re.IGNORECASE,
)


def _corrupt(exc: Exception) -> DocumentError:
    detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return DocumentError(
        f"corrupt PDF ({detail[:120]}): re-export or re-download the PDF and add it again"
    )


def _open(data: bytes) -> PdfReader:
    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
    except Exception as exc:  # pypdf raises many types on damaged files; all mean "corrupt"
        raise _corrupt(exc) from exc
    if encrypted:
        try:
            opened = bool(reader.decrypt(""))
        except Exception:  # an unsupported cipher is as locked to us as a password
            opened = False
        if not opened:
            raise DocumentError("encrypted PDF: remove the password and re-add it")
    return reader


def _reflow(text: str) -> str:
    lines = [line.strip() for line in text.splitlines()]
    width = max((len(line) for line in lines), default=0)
    out: list[str] = []
    for line in lines:
        previous = out[-1] if out else ""
        wraps = (
            previous
            and line
            and len(previous) >= _WRAP_SHARE * width
            and not _ENDS_CLAUSE.search(previous)
        )
        if wraps:
            joint = "" if previous.endswith("-") and line[:1].islower() else " "
            out[-1] = previous + joint + line
        else:
            out.append(line)
    return "\n".join(out)


def _is_page_number(line: str) -> bool:
    return bool(_PAGE_NUMBER.fullmatch(line))


def _edges(lines: list[str], count: int) -> set[int]:
    """Indexes of the first and last `count` non-empty lines of a page."""
    filled = [i for i, line in enumerate(lines) if line]
    return set(filled[:count] + filled[-count:])


def _drop_at_edges(lines: list[str], count: int, unwanted: Callable[[str], bool]) -> list[str]:
    edges = _edges(lines, count)
    return [line for i, line in enumerate(lines) if not (i in edges and unwanted(line))]


def _strip_furniture(pages: list[str]) -> list[str]:
    """Drop page numbers, and headers and footers: short lines that open or close most pages."""
    split = [
        _drop_at_edges([line.strip() for line in page.splitlines()], 2, _is_page_number)
        for page in pages
    ]
    if len(pages) >= _MIN_PAGES_FOR_RUNNING:
        counts = Counter(lines[i] for lines in split for i in _edges(lines, 1))
        running = {
            line
            for line, n in counts.items()
            if n >= _RUNNING_SHARE * len(pages) and len(line.split()) <= _RUNNING_WORDS
        }
        split = [_drop_at_edges(lines, 1, running.__contains__) for lines in split]
    return ["\n".join(lines) for lines in split]


def _title(reader: PdfReader) -> str | None:
    try:
        metadata = reader.metadata
        title = (metadata.title or "").strip() if metadata else ""
    except Exception:  # a broken info dictionary just means no title
        return None
    return title if title and not _JUNK_TITLE.match(title) else None


def _page_texts(reader: PdfReader, *, max_pages: int, time_limit_s: float) -> list[str]:
    try:
        count = len(reader.pages)
    except Exception as exc:  # a broken page tree
        raise _corrupt(exc) from exc
    if count > max_pages:
        raise DocumentError(
            f"PDF of {count} pages; at most {max_pages} are read: split it into smaller files"
        )
    deadline = time.monotonic() + time_limit_s
    texts: list[str] = []
    for number, page in enumerate(reader.pages, start=1):
        if time.monotonic() > deadline:
            raise DocumentError(
                f"reading the PDF took longer than {time_limit_s:g} s (stopped at page "
                f"{number} of {count}): re-export it as a simpler PDF or add a text version"
            )
        try:
            texts.append(page.extract_text() or "")
        except Exception as exc:  # damaged page streams surface only while extracting
            raise _corrupt(exc) from exc
    return texts


def read_pdf(
    data: bytes, *, max_pages: int = MAX_PAGES, time_limit_s: float = TIME_LIMIT_S
) -> Extraction:
    """Read a PDF's text per page; raises DocumentError when it is corrupt, locked, a scan,
    too long or too slow to read."""
    reader = _open(data)
    raw = _page_texts(reader, max_pages=max_pages, time_limit_s=time_limit_s)
    if not any(page.strip() for page in raw):
        raise DocumentError(
            "PDF with no extractable text (scanned pages?): run OCR on it or add a text version"
        )
    pages = [_reflow(page) for page in _strip_furniture(raw)]
    stamp = find_stamp(next((page for page in pages if page.strip()), ""))
    return Extraction(
        parts=tuple(Part(text, page=number) for number, text in enumerate(pages, start=1)),
        title=_title(reader),
        date=stamp.date if stamp else None,
    )
