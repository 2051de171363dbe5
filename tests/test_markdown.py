"""Markdown to plain text stays linear on hostile lines (a staff upload is untrusted input)."""

import time

import pytest

from assistant.loaders.markdown import inline_to_text, markdown_to_text

SIZE = 200_000
# Lines of one repeated opener and no closer made the old patterns scan to the end of the line
# from every opener: seconds at 20,000 characters and 4x per doubling.
PATHOLOGICAL = {
    "brackets": "[" * SIZE,
    "images": "![" * (SIZE // 2),
    "link targets": "[x](" * (SIZE // 4),
    "reference links": "[a][" * (SIZE // 4),
    "html comments": "<!--" * (SIZE // 4),
    "tags": "<a" * (SIZE // 2),
    "autolinks": "<http:" * (SIZE // 6),
    "stars": " *a" * (SIZE // 3),
    "underscores": " _a" * (SIZE // 3),
    "bold": "** x " * (SIZE // 5),
    "strike": "~~a " * (SIZE // 4),
    "backticks": "`a" * (SIZE // 2),
    "heading spaces": "# " + " #" * (SIZE // 2) + "x",
    "table": "|" + "---|" * (SIZE // 4) + "x",
    "backslashes": "\\" * SIZE,
}


@pytest.mark.parametrize("name", list(PATHOLOGICAL))
def test_a_200_kb_pathological_line_is_converted_well_under_a_second(name):
    line = PATHOLOGICAL[name]
    started = time.perf_counter()
    markdown_to_text(f"# Title\n\n{line}\n\nLast line.")
    elapsed = time.perf_counter() - started
    # Measured 0.01-0.15 s on the 2-core dev machine; the old patterns took minutes.
    assert elapsed < 1.0, f"{name}: {elapsed:.2f} s for a {len(line)}-character line"


@pytest.mark.parametrize(
    ("markdown", "text"),
    [
        (
            "See [the centre](https://cpmr.example/a) and ![logo](l.png).",
            "See the centre and logo.",
        ),
        (
            "**Bold** and *italic* and _under_ and ~~gone~~ and `code`.",
            "Bold and italic and under and gone and code.",
        ),
        ("A <!-- hidden --> comment and <b>tag</b>.", "A  comment and tag."),
        ("Reference [link][1] here.", "Reference link here."),
        ("Mail <mailto:cpmr@example.org> now.", "Mail mailto:cpmr@example.org now."),
        ("An unclosed <!-- comment runs to the end", "An unclosed "),
        ("Stars * around * spaces stay.", "Stars * around * spaces stay."),
    ],
)
def test_inline_markdown_still_becomes_its_words(markdown, text):
    assert inline_to_text(markdown) == text, f"{markdown!r} should read {text!r}"
