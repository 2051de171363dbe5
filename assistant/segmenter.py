"""pysbd's English sentence rules, with its abbreviation pass doing each distinct edit once.

pysbd spends most of its time in `AbbreviationReplacer.search_for_abbreviations_in_string`:
for every abbreviation of its list found in a line it collects each occurrence (its pattern
has no word boundary, so "is" occurs at every word that starts with "is") and rewrites the
whole line once per occurrence, with a substitution that depends only on the occurrence's
text. Those substitutions turn a "." into "∯" where a fixed context holds; applying one again,
after any others, finds nothing new: its look-behind holds letters and white space, which no
substitution changes, and its look-ahead only loses matches when a "." becomes "∯". So one
call per distinct occurrence text gives the same line. Where that reasoning does not hold
(an abbreviation with a "." in it, read as a regex wildcard; a line with "{", where pysbd's
next-character lookup can match and make the edit depend on the position) pysbd's own loop
runs. A scan that cannot match at a word start is skipped. `tests/test_segmenter.py` checks
the sentences against stock pysbd on real and generated text; pysbd is pinned in
pyproject.toml because this leans on its internals.
"""

from __future__ import annotations

import re

import pysbd
from pysbd.lang.english import English

# The only characters that match an ASCII letter under re.IGNORECASE without being one (ſ, K,
# İ, ı), found by testing every code point; İ and K also lower() to ASCII.
_CASE_FOLDS_TO_ASCII = re.compile("[\u017f\u212a\u0130\u0131]")


def _word_starts(text: str, lowered: str) -> str | None:
    r"""The lower-cased text behind a space, white space made spaces: " abbr" occurs in it
    exactly where pysbd's `(?:^|\s)abbr` matches under IGNORECASE. None when a character
    folds to ASCII only case-insensitively, where the two could disagree."""
    if len(lowered) != len(text) or _CASE_FOLDS_TO_ASCII.search(text):
        return None
    return " " + re.sub(r"\s", " ", lowered)


class _AbbreviationReplacer(English.AbbreviationReplacer):  # type: ignore[misc]
    def search_for_abbreviations_in_string(self, text: str) -> str:
        # With "{" in the line pysbd's next-character lookup can match: its own loop, exactly.
        exact = "{" in text
        lowered = text.lower()
        starts = _word_starts(text, lowered)
        for abbr in self.lang.Abbreviation.ABBREVIATIONS:
            stripped = abbr.strip()
            if stripped not in lowered:
                continue
            if exact or not stripped.isalpha():
                text = self._search_one(text, stripped)
                continue
            # pysbd's own test is a substring anywhere ("is" in "this"); most of its scans
            # then find nothing at a word start, and this check is one `in` instead of a scan.
            if starts is not None and " " + stripped not in starts:
                continue
            found = re.findall(rf"(?:^|\s|\r|\n){stripped}", text, flags=re.IGNORECASE)
            done: set[str] = set()
            for match in found:
                key = match.strip()
                if key not in done:
                    done.add(key)
                    # No "{" in the line, so pysbd's next-character list is empty.
                    text = self.scan_for_replacements(text, match, 0, [])
        return text

    def _search_one(self, text: str, stripped: str) -> str:
        """pysbd's own loop for one abbreviation (the body of its per-abbreviation step)."""
        found = re.findall(rf"(?:^|\s|\r|\n){stripped}", text, flags=re.IGNORECASE)
        if not found:
            return text
        char_array = re.findall(r"(?<={" + re.escape(stripped) + "} ).{1}", text)
        for index, match in enumerate(found):
            text = self.scan_for_replacements(text, match, index, char_array)
        return text


class _English(English):  # type: ignore[misc]
    AbbreviationReplacer = _AbbreviationReplacer


def english_segmenter() -> pysbd.Segmenter:
    """A `pysbd.Segmenter` for English (offsets on, no cleaning) with the faster pass."""
    segmenter = pysbd.Segmenter(language="en", clean=False, char_span=True)
    segmenter.language_module = _English
    return segmenter
