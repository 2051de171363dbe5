"""Recognising text that addresses an AI system: one detector for the loaders and the answers.

The corpus takes staff uploads, and what the assistant retrieves is shown to the chat model as
evidence and quoted to users; a hostile document must neither steer answers nor be quoted as
fact. `addresses_ai` is the one test. It reads a *detection view* of the text, built before any
pattern runs, because the disguises are cheap: a zero-width space or soft hyphen inside
"Ig\u200bnore", full-width or accented letters, Cyrillic or Greek letters that look Latin
("Ignоre" with a Cyrillic о), and the instruction written in Russian. The view is NFKD with
combining marks, invisible characters and control characters removed, look-alike letters
folded to Latin, and case folded; Russian instructions are matched on a second view folded the
other way (Latin look-alikes to Cyrillic), so "игнoрируй" with a Latin o is caught too.

`find_instructions` returns where in the *original* text each instruction lies (the view keeps
an offset map), so the cleaner can remove the sentences and lines it spans even when it runs
over a line break or across the 3000-character cut of the sentence splitter.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

# Letters that render like Latin ones in common fonts (Unicode confusables.txt, Cyrillic and
# Greek to Latin). Folding them lets one English pattern see through the disguise.
_TO_LATIN = str.maketrans(
    {
        **dict(zip("АВЕЅІЈКМНОРСТХУ", "ABESIJKMHOPCTXY", strict=True)),
        **dict(zip("аеоросухіјѕԁһӏԛԝɡ", "aeopocyxijsdhlqwg", strict=True)),
        **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX", strict=True)),
        **dict(zip("αβεικνορτυχ", "abeiknoptux", strict=True)),
        # Cyrillic letters whose lower case has no Latin twin but whose shape does.
        "р": "p",
        "ѵ": "v",
    }
)
# The other way, for Russian instructions disguised with Latin letters.
_TO_CYRILLIC = str.maketrans(dict(zip("aeopcyxABEKMHOPCTXY", "аеорсухАВЕКМНОРСТХУ", strict=True)))
_INVISIBLE_CATEGORIES = frozenset({"Mn", "Me", "Cf", "Cc", "Co", "Cs"})

_STRONG_EN = re.compile(
    "|".join(
        (
            r"\b(?:ignore|disregard|forget|override|bypass)\b[^.!?]{0,40}?"
            r"\b(?:previous|prior|above|earlier|preceding|foregoing|all|any|your|the)\b"
            r"[^.!?]{0,30}?\b(?:instructions?|prompts?|rules|directions|guidelines|context)\b",
            r"\bsystem\s+(?:note|prompt|message|instructions?|override)s?\b",
            r"\b(?:note|message|instructions?|attention)\s+(?:for|to)\s+(?:all\s+)?"
            r"(?:ai|a\.i\.|llms?|(?:large\s+)?language\s+models?|chatbots?|assistants?|bots?)\b",
            r"\b(?:do\s+not|don't|never)\s+(?:mention|reveal|disclose|repeat|cite|quote)\s+"
            r"(?:this|these)\s+(?:notes?|messages?|instructions?|prompts?|texts?|lines?)\b",
            r"\b(?:if\s+)?you\s+are\s+(?:now\s+)?an?\s+"
            r"(?:ai|a\.i\.|llm|(?:large\s+)?language\s+model|chatbot|ai\s+assistant)\b",
            r"\bas\s+an?\s+(?:ai|a\.i\.|llm|(?:large\s+)?language\s+model)"
            r"(?:\s+(?:assistant|(?:language\s+)?model|system|chatbot))?"
            r"\s*,\s*(?:you|your|always|never|please)\b",
            r"\b(?:ai|llm)\s+(?:assistants?|agents?|chatbots?|models?)\s*:",
        )
    )
)
# Each of these also occurs in honest news ("the app will tell users that ..."); two in one
# sentence are an instruction to a machine.
_WEAK_EN = (
    re.compile(
        r"\b(?:tell|inform|answer|reply\s+to|respond\s+to)\s+(?:all\s+)?(?:the\s+)?users?\b"
    ),
    re.compile(r"\b(?:ai|llm)\s+(?:assistants?|agents?|chatbots?)\b"),
    re.compile(r"\b(?:do\s+not|don't|never)\s+(?:mention|reveal|disclose)\b"),
    re.compile(r"\binstructions?\b"),
)
# Russian, on the Cyrillic view: combining marks are gone, so й reads и and ё reads е.
_STRONG_RU = re.compile(
    "|".join(
        (
            r"(?:игнорир|проигнорир|забуд|забыва|не\s+обраща\w*\s+внимани)\w*[^.!?]{0,40}?"
            r"(?:предыдущ|прежн|вышеуказанн|все|любые|сво|ранее)\w*[^.!?]{0,30}?"
            r"(?:инструкци|указани|правил|подсказ|промпт|команд)",
            r"системн\w*\s+(?:промпт|сообщени|инструкци|указани)",
            r"(?:примечани|сообщени|инструкци|указани)\w*\s+(?:для|к)\s+(?:всех\s+)?"
            r"(?:ии|искусственн\w+\s+интеллект|нейросет|языков\w+\s+модел|чат-?бот|ассистент)",
            r"(?:если\s+)?ты\s+(?:—\s+|-\s+)?(?:ии|языков\w+\s+модель|чат-?бот|нейросеть)\b",
            r"\bкак\s+(?:ии|языков\w+\s+модель)\s*,\s*(?:ты|вы|всегда|никогда)",
            r"\b(?:ии|чат-?бот\w*|ассистент\w*|нейросет\w*)\s*:\s*(?:скажи|сообщи|отвечай|ответь)",
            r"\bне\s+(?:упоминай|раскрывай|цитируй|повторяй)\w*\s+(?:эт\w+)\s+"
            r"(?:примечани|сообщени|инструкци|текст|строк)",
        )
    )
)
_WEAK_RU = (
    re.compile(r"(?:скажи|сообщи|отвечай|ответь)\w*\s+(?:всем\s+)?пользовател"),
    re.compile(r"\b(?:ии|чат-?бот\w*|нейросет\w*)\b"),
    re.compile(r"\bне\s+(?:упоминай|раскрывай|сообщай)"),
    re.compile(r"инструкци"),
)


@dataclass(frozen=True, slots=True)
class _View:
    """A detection view of a text and, for each of its characters, the original offset
    (None when the view has the text's own offsets)."""

    text: str
    origin: tuple[int, ...] | None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original [start, end) that the view's [start, end) came from."""
        if self.origin is None:
            return start, end
        return self.origin[start], self.origin[end - 1] + 1


_ASCII_SPACE = str.maketrans("\t\n\r\x0b\x0c", "     ")
_CYRILLIC = re.compile(r"[\u0400-\u04ff]")


@lru_cache(maxsize=8192)
def _fold_char(char: str, table_id: int) -> str:
    table = _TO_LATIN if table_id == 0 else _TO_CYRILLIC
    kept = (
        piece
        for piece in unicodedata.normalize("NFKD", char)
        if unicodedata.category(piece) not in _INVISIBLE_CATEGORIES or piece.isspace()
    )
    # White space of any kind is a space: an instruction split over lines reads as one.
    return "".join(" " if c.isspace() else c for c in "".join(kept).translate(table).casefold())


def _view(text: str, table_id: int) -> _View:
    if text.isascii():
        # Most of the corpus: nothing to fold but case, offsets unchanged.
        return _View(text.translate(_ASCII_SPACE).lower(), None)
    chars: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        folded = _fold_char(char, table_id)
        chars.append(folded)
        origin.extend([index] * len(folded))
    return _View("".join(chars), tuple(origin))


def normalize_for_detection(text: str) -> str:
    """The Latin detection view of `text` (for tests and logs): what the patterns read."""
    return _view(text, 0).text


def _matches(
    view: _View, strong: re.Pattern[str], weak: tuple[re.Pattern[str], ...] | None
) -> Iterator[tuple[int, int]]:
    for match in strong.finditer(view.text):
        yield view.span(match.start(), match.end())
    if weak is None:
        return
    hits = [match for match in (pattern.search(view.text) for pattern in weak) if match]
    if len(hits) >= 2:
        yield view.span(min(m.start() for m in hits), max(m.end() for m in hits))


def find_instructions(text: str, *, weak: bool = True) -> list[tuple[int, int]]:
    """Where `text` addresses an AI system: (start, end) offsets into the original text.

    Weak signals (two harmless-alone phrases such as "tell users" and "instructions") count
    only when `weak` is set; pass one sentence then, since two of them in different sentences
    of a paragraph are ordinary news.
    """
    found = list(_matches(_view(text, 0), _STRONG_EN, _WEAK_EN if weak else None))
    # Russian patterns need Cyrillic letters; a text without any cannot hold one.
    if _CYRILLIC.search(text):
        found.extend(_matches(_view(text, 1), _STRONG_RU, _WEAK_RU if weak else None))
    return sorted(found)


def addresses_ai(text: str) -> bool:
    """True when `text` (a sentence, title or short paragraph) addresses an AI system with
    instructions, however it is disguised. Such text is never quoted as an answer."""
    return bool(find_instructions(text))
