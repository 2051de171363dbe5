"""Document metadata from what a file states: its front-matter header, date labels, its name.

A corpus file may open with a small YAML header between `---` lines (title, kind, date,
publisher, original). Without one, the date comes only from an explicit publication label in
the text ("Published: 16 February 2026", "Changed on 24 November, 2016", "Posted on ...",
"Date: ...") or from a `YYYY-MM-DD` prefix of the file name. Nothing is guessed: an event date
in a sentence is not a publication date, so an unlabelled date is left alone and an unknown
stays None. Numeric dates are read day-first only where that is unambiguous or dotted
(`24.11.2016`, the convention of the sites this corpus comes from); `03/04/2025` is refused.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict

from assistant.errors import DocumentError

log = logging.getLogger(__name__)

KINDS = ("centre page", "news", "document")
_HEADER_FIELDS = frozenset({"title", "kind", "date", "publisher", "original"})

_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"),
            ("february", "feb"),
            ("march", "mar"),
            ("april", "apr"),
            ("may",),
            ("june", "jun"),
            ("july", "jul"),
            ("august", "aug"),
            ("september", "sep", "sept"),
            ("october", "oct"),
            ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}
_MONTH_NAMES = "|".join(sorted(_MONTHS, key=len, reverse=True))
_MONTH = rf"(?P<month>{_MONTH_NAMES})\.?"
_DAY = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR = r"(?P<year>\d{4})"
_DATE_FORMS = (
    re.compile(r"(?P<year>\d{4})-(?P<month>\d{1,2})-(?P<day>\d{1,2})(?!\d)"),
    re.compile(rf"{_DAY}\s+(?:of\s+)?{_MONTH},?\s+{_YEAR}", re.IGNORECASE),
    re.compile(rf"{_MONTH}\s+{_DAY},?\s+{_YEAR}", re.IGNORECASE),
    re.compile(r"(?P<day>\d{1,2})\.(?P<month>\d{1,2})\.(?P<year>\d{4})"),
    re.compile(r"(?P<first>\d{1,2})/(?P<second>\d{1,2})/(?P<year>\d{4})"),
)
_DATE = (
    r"(?:\d{4}-\d{1,2}-\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTH_NAMES})\.?,?\s+\d{{4}}"
    rf"|(?:{_MONTH_NAMES})\.?\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}"
    r"|\d{1,2}[./]\d{1,2}[./]\d{4})"
)
_TIME = r"(?:\s*[,\-–—]?\s*(?:at\s+)?\d{1,2}:\d{2}(?::\d{2})?(?:\s*[ap]\.?m\.?)?)"

# Labels that state when the page was published or changed. "Date:" is weaker: in a body it
# often announces an event ("Date: 5 March, Venue: Hall B"), so it counts only near the top.
_PUBLISHED = r"published|posted|created|date of publication|publication date"
_CHANGED = r"changed|updated|last updated|last modified|modified|last changed"
_LABEL = re.compile(
    rf"^(?P<label>{_PUBLISHED}|{_CHANGED}|date)\s*:?\s*(?:on\s+)?(?P<date>{_DATE})",
    re.IGNORECASE,
)
# A whole line that is only a stamp: label, date, optional time, optional "· source".
_SOURCE = r"(?:\s*[·•|]\s*(?P<source>[^.!?·•|]{1,60}))?"
_STAMP = re.compile(
    rf"^(?:{_PUBLISHED}|{_CHANGED})\s*:?\s*(?:on\s+)?(?P<date>{_DATE}){_TIME}?{_SOURCE}\s*$",
    re.IGNORECASE,
)
_BARE_DATE = re.compile(rf"{_DATE}{_TIME}?", re.IGNORECASE)
_NAME_DATE = re.compile(r"^(\d{4}-\d{2}-\d{2})(?:[_\-. ]|$)")
_HEADING = re.compile(r"^#\s+(.+?)\s*#*\s*$")
_TITLE_LIMIT = 150
# A corpus header is five short fields; anything much larger is not a header we wrote.
MAX_HEADER_BYTES = 4096
# Longest value kept per text field. A longer title is cut: a title stuffed with words
# would match every question and pull its document into every answer.
FIELD_LIMITS = {"title": _TITLE_LIMIT, "kind": 40, "publisher": 200, "original": 2000}


class _PlainYamlLoader(yaml.SafeLoader):
    """`yaml.SafeLoader` without anchors and aliases.

    About 400 bytes of nested aliases ("billion laughs") expand to gigabytes once a value is
    turned into a string; a front-matter header never needs them, so any anchor or alias is
    refused before a single node is built.
    """

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.peek_event()  # type: ignore[no-untyped-call]
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None) is not None:
            raise yaml.YAMLError(
                "anchors and aliases (& and *) are not allowed in a front-matter header"
            )
        return super().compose_node(parent, index)


class FrontMatter(BaseModel):
    """The YAML header of a corpus file; every field is optional."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    title: str | None = None
    kind: str | None = None
    date: dt.date | None = None
    publisher: str | None = None
    original: str | None = None


@dataclass(frozen=True, slots=True)
class Stamp:
    """A publication label found in a text: its date and, when stated, its source."""

    date: dt.date
    publisher: str | None = None


def _date_from_match(match: re.Match[str]) -> dt.date | None:
    parts = match.groupdict()
    year = int(parts["year"])
    if "first" in parts:
        first, second = int(parts["first"]), int(parts["second"])
        if first <= 12 and second <= 12 and first != second:
            return None  # 03/04/2025 is March or April depending on the writer
        day, month = (first, second) if first > 12 or first == second else (second, first)
    else:
        day = int(parts["day"])
        raw = parts["month"]
        month = int(raw) if raw.isdigit() else _MONTHS[raw.lower().rstrip(".")]
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def parse_date(text: str) -> dt.date | None:
    """The date that `text` starts with (ISO, '24 November, 2016', 'July 6, 2024', '24.11.2016')."""
    text = text.strip()
    for form in _DATE_FORMS:
        match = form.match(text)
        if match:
            return _date_from_match(match)
    return None


def _unwrapped(line: str) -> str:
    """A line without surrounding emphasis marks: '*Published: 4 May 2026*' is still a stamp."""
    return line.strip().strip("*_").strip()


def _label_rank(label: str) -> int:
    label = label.lower()
    if re.fullmatch(_PUBLISHED, label):
        return 0
    return 1 if label == "date" else 2


def find_stamp(text: str, *, top_lines: int = 8) -> Stamp | None:
    """The publication date a text states with a label, preferring 'Published' over 'Changed'.

    'Date:' counts only within the first `top_lines` non-empty lines (see `_LABEL`).
    """
    best: tuple[int, Stamp] | None = None
    lines = [_unwrapped(line) for line in text.splitlines() if _unwrapped(line)]
    for number, line in enumerate(lines):
        match = _LABEL.match(line)
        if not match:
            continue
        rank = _label_rank(match["label"])
        if rank == 1 and number >= top_lines:
            continue
        date = parse_date(match["date"])
        if date is None or (best is not None and best[0] <= rank):
            continue
        stamp_line = _STAMP.match(line)
        source = stamp_line["source"] if stamp_line else None
        best = (rank, Stamp(date, source.strip() if source and source.strip() else None))
    return best[1] if best else None


def is_date_stamp(line: str) -> bool:
    """True for a line that is nothing but a publication/change stamp ('Changed on ...')."""
    return bool(_STAMP.match(_unwrapped(line)))


def date_from_filename(name: str) -> dt.date | None:
    """The date of a `YYYY-MM-DD_...` file name, else None."""
    match = _NAME_DATE.match(name)
    return parse_date(match.group(1)) if match else None


def first_heading(text: str) -> str | None:
    """The first markdown '# ' heading of a text, without its markers."""
    for line in text.splitlines():
        match = _HEADING.match(line.strip())
        if match:
            return match.group(1)
    return None


def title_from_text(text: str) -> str | None:
    """The first non-empty line that is not a bare date, shortened when it is a paragraph."""
    for line in text.splitlines():
        line = line.strip()
        if not line or _BARE_DATE.fullmatch(line):
            continue
        if len(line) <= _TITLE_LIMIT:
            return line
        return line[:_TITLE_LIMIT].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return None


def _as_text(value: Any, field: str) -> str | None:
    # YAML reads `title: 2016` as a number and `title: Yes` as a bool; a title is still text.
    if value is None:
        return None
    if isinstance(value, (dict, list, set, tuple)):
        raise DocumentError(
            f"front-matter {field} must be a single value, not a list or a mapping: "
            f"write it as '{field}: text'"
        )
    text = " ".join(str(value).split())
    limit = FIELD_LIMITS[field]
    if len(text) > limit:
        log.warning("front matter: %s cut to %d characters", field, limit)
        text = text[:limit].rsplit(" ", 1)[0].rstrip(",;:") + "…"
    return text or None


def _as_date(value: Any) -> dt.date | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    parsed = parse_date(str(value))
    if parsed is None:
        raise DocumentError(
            f"front-matter date {value!r} is not a date: write it as yyyy-mm-dd (e.g. 2026-02-16)"
        )
    return parsed


def _front_matter(fields: dict[str, Any]) -> FrontMatter:
    unknown = sorted(set(fields) - _HEADER_FIELDS)
    if unknown:
        log.warning("front matter: ignoring unknown field(s) %s", ", ".join(unknown))
    kind = _as_text(fields.get("kind"), "kind")
    if kind is not None and kind not in KINDS:
        raise DocumentError(
            f"front-matter kind {kind!r} is not one of {', '.join(repr(k) for k in KINDS)}"
        )
    return FrontMatter(
        title=_as_text(fields.get("title"), "title"),
        kind=kind,
        date=_as_date(fields.get("date")),
        publisher=_as_text(fields.get("publisher"), "publisher"),
        original=_as_text(fields.get("original"), "original"),
    )


def split_front_matter(text: str) -> tuple[FrontMatter | None, str]:
    """Split a text into its YAML header (None when it has none) and the body below it.

    Raises:
        DocumentError: the header is not closed, not valid YAML or has a bad value.
    """
    lines = text.splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return None, text
    size = 0
    for number, line in enumerate(lines[1:], start=1):
        if line.strip() in ("---", "..."):
            header, body = "".join(lines[1:number]), "".join(lines[number + 1 :])
            break
        size += len(line.encode("utf-8"))
        if size > MAX_HEADER_BYTES:
            raise DocumentError(
                f"the front-matter header is longer than {MAX_HEADER_BYTES} bytes: keep it to "
                "title, kind, date, publisher and original, and close it with a '---' line"
            )
    else:
        raise DocumentError(
            "the front-matter header that opens with '---' is never closed: "
            "add a '---' line after the header"
        )
    try:
        fields = yaml.load(header, Loader=_PlainYamlLoader)  # noqa: S506 (safe loader subclass)
    except yaml.YAMLError as exc:
        problem = str(exc).replace("\n", " ")
        raise DocumentError(
            f"bad front-matter header ({problem}): fix the YAML between the '---' lines"
        ) from exc
    if fields is None:
        return FrontMatter(), body
    if not isinstance(fields, dict):
        raise DocumentError(
            "bad front-matter header: expected 'key: value' lines between the '---' lines"
        )
    return _front_matter({str(key): value for key, value in fields.items()}), body
