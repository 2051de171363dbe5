"""What a format reader hands back: raw text parts plus the metadata the file itself states.

Readers only read; cleaning, injection stripping, title fallbacks and path-based metadata (kind,
file-name date) are applied once, to every format alike, by `assistant.loaders`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Part:
    """A stretch of raw text; `page` is the 1-based PDF page, None for unpaged formats."""

    text: str
    page: int | None = None


@dataclass(frozen=True, slots=True)
class Extraction:
    """A file's text parts and stated metadata (None = the file does not say)."""

    parts: tuple[Part, ...]
    title: str | None = None
    date: dt.date | None = None
    publisher: str | None = None
    kind: str | None = None
