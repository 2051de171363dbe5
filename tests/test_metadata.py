"""Header and date parsing: what a file states is read, and nothing else is guessed."""

from __future__ import annotations

import datetime as dt

import pytest
import yaml

from assistant.errors import DocumentError
from assistant.loaders.metadata import (
    FrontMatter,
    date_from_filename,
    find_stamp,
    first_heading,
    is_date_stamp,
    parse_date,
    split_front_matter,
    title_from_text,
)
from tests.conftest import CORPUS, NEWS_FIXTURES, shared_files


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2016-11-24", dt.date(2016, 11, 24)),
        ("24 November, 2016 - 17:58", dt.date(2016, 11, 24)),
        ("16 February 2026 · CPMR news", dt.date(2026, 2, 16)),
        ("July 6, 2024, the meeting", dt.date(2024, 7, 6)),
        ("6th of July 2024", dt.date(2024, 7, 6)),
        ("Sept. 3, 2020", dt.date(2020, 9, 3)),
        ("3 Dec 2021", dt.date(2021, 12, 3)),
        ("24.11.2016", dt.date(2016, 11, 24)),
        ("13/04/2025", dt.date(2025, 4, 13)),
        ("04/13/2025", dt.date(2025, 4, 13)),
    ],
)
def test_parse_date_reads_the_written_forms(text, expected):
    assert parse_date(text) == expected, f"{text!r} should read as {expected}"


@pytest.mark.parametrize("text", ["03/04/2025", "31 February 2024", "2024-13-01", "soon", ""])
def test_parse_date_refuses_ambiguous_or_impossible_dates(text):
    assert parse_date(text) is None, f"{text!r} is ambiguous or impossible and must give None"


@pytest.mark.parametrize("path", shared_files(NEWS_FIXTURES, "*.md"), ids=lambda p: p.name)
def test_find_stamp_reads_the_published_label_of_each_fixture(path):
    stamp = find_stamp(path.read_text(encoding="utf-8"))
    assert stamp is not None, f"{path.name} has a 'Published:' label"
    assert stamp.date == date_from_filename(path.name), (
        f"{path.name}: the label's date should match the date in the file name"
    )
    assert stamp.publisher == "CPMR news", "the source after '·' is the publisher"


def test_find_stamp_reads_a_change_stamp_and_prefers_published():
    assert find_stamp("Body text.\nChanged on 24 November, 2016 - 17:58\nLinks") == (
        find_stamp("Updated: 2016-11-24")
    ), "a 'Changed on' stamp gives its date"
    text = "Updated on 3 May 2025\nTitle\nPosted on 1 May 2025\nBody."
    stamp = find_stamp(text)
    assert stamp is not None and stamp.date == dt.date(2025, 5, 1), (
        "the publication label wins over a later change stamp"
    )


def test_find_stamp_ignores_unlabelled_and_deep_event_dates():
    assert find_stamp("On July 6, 2024, the meeting was held in Guangzhou.") is None, (
        "an event date in a sentence is not a publication date"
    )
    body = "\n".join(f"Paragraph {n} of the announcement." for n in range(12))
    assert find_stamp(body + "\nDate: 5 March 2026\nVenue: Hall B") is None, (
        "'Date:' deep in the body announces an event, not the publication"
    )
    stamp = find_stamp("Seminar series\nDate: 5 March 2026\n" + body)
    assert stamp is not None and stamp.date == dt.date(2026, 3, 5), "'Date:' at the top counts"


def test_is_date_stamp_matches_only_whole_stamp_lines():
    assert is_date_stamp("Changed on 24 November, 2016 - 17:58"), "a change stamp line"
    assert is_date_stamp("Published: 16 February 2026 · CPMR news"), "a published line"
    assert not is_date_stamp("Published on 5 May 2020, the report lists 12 projects."), (
        "a sentence that starts with a label is content"
    )
    assert not is_date_stamp("Date: 5 March 2026"), "'Date:' may be an event date; it stays"


def test_date_from_filename():
    assert date_from_filename("2026-02-16_cpmr-news.md") == dt.date(2026, 2, 16), "prefix"
    assert date_from_filename("cpmr-2026-02-16.md") is None, "only a prefix counts"
    assert date_from_filename("2026-02-30_x.md") is None, "an impossible date is no date"


def test_titles_from_headings_and_first_lines():
    assert first_heading("> note\n\n# The *real* title #\n\n## Sub") == "The *real* title", (
        "the first '# ' heading, without the closing hashes"
    )
    assert first_heading("## Only a subheading\ntext") is None, "'## ' is not a title heading"
    assert title_from_text("24.11.2016 - 17:58\nLab opens\nText.") == "Lab opens", (
        "a bare date line above the headline is not the title"
    )
    long_line = "word " * 60
    title = title_from_text("\n\n" + long_line)
    assert title is not None and len(title) <= 151 and title.endswith("…"), (
        "a paragraph used as a title is shortened at a word boundary"
    )


def test_split_front_matter_reads_every_corpus_header():
    for path in sorted(CORPUS.rglob("*.txt")):
        raw = path.read_text(encoding="utf-8")
        header, body = split_front_matter(raw)
        expected = yaml.safe_load(raw.split("---\n")[1])
        assert header is not None, f"{path} has a header"
        assert header.title == expected["title"], f"{path}: title from the header"
        assert header.kind == expected["kind"], f"{path}: kind from the header"
        assert header.date == expected.get("date"), f"{path}: date from the header"
        assert raw.endswith(body) and not body.startswith("---"), f"{path}: body below header"


def test_split_front_matter_without_header_returns_the_text():
    text = "Title\n---\nnot a header"
    assert split_front_matter(text) == (None, text), "a header must open the file"


def test_split_front_matter_accepts_written_dates_and_empty_headers():
    header, body = split_front_matter("---\ndate: 24 November 2016\n---\nBody")
    assert header == FrontMatter(date=dt.date(2016, 11, 24)) and body == "Body", "text date"
    header, body = split_front_matter("---\n---\nBody")
    assert header == FrontMatter() and body == "Body", "an empty header is allowed"


@pytest.mark.parametrize(
    ("raw", "phrase"),
    [
        ("---\ntitle: x\nBody without a closing line", "never closed"),
        ("---\ntitle: [unclosed\n---\nBody", "fix the YAML"),
        ("---\n- a\n- b\n---\nBody", "key: value"),
        ("---\ndate: next week\n---\nBody", "yyyy-mm-dd"),
        ("---\nkind: blog\n---\nBody", "not one of"),
    ],
)
def test_split_front_matter_rejects_bad_headers(raw, phrase):
    with pytest.raises(DocumentError, match=phrase):
        split_front_matter(raw)


BILLION_LAUGHS = (
    "---\n"
    'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n'
    "b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
    "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
    "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
    "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
    "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
    "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
    "title: [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
    "---\nBody text of the news.\n"
)


def test_front_matter_with_nested_aliases_is_refused_before_it_expands():
    """~400 bytes that would grow to gigabytes in str(value): refused, with the reason."""
    import resource
    import time

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.perf_counter()
    with pytest.raises(DocumentError, match="aliases"):
        split_front_matter(BILLION_LAUGHS)
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert len(BILLION_LAUGHS) < 500, "the attack is a few hundred bytes"
    assert time.perf_counter() - started < 1.0, "the refusal must come at once"
    assert grown_mb < 50, f"memory grew by {grown_mb:.0f} MB while refusing the header"


def test_a_single_anchor_is_refused_too():
    with pytest.raises(DocumentError, match="anchors and aliases"):
        split_front_matter("---\ntitle: &t CPMR news\npublisher: *t\n---\nBody")


def test_an_oversized_header_is_refused_without_reading_it_all():
    header = "---\n" + "".join(f"k{i}: {'x' * 60}\n" for i in range(200)) + "---\nBody"
    with pytest.raises(DocumentError, match="longer than 4096 bytes"):
        split_front_matter(header)


def test_a_stuffed_title_is_cut_and_a_list_title_refused():
    stuffed = " ".join(["CPMR grant scholarship tuition rector admission deadline"] * 40)
    header, _ = split_front_matter(f"---\ntitle: {stuffed}\n---\nBody")
    assert header is not None and header.title is not None
    assert len(header.title) <= 151, f"the title kept {len(header.title)} characters"
    with pytest.raises(DocumentError, match="single value"):
        split_front_matter("---\ntitle: [CPMR, grant]\n---\nBody")
