"""What a question asks for, read from its wording alone.

The answerability decision (assistant/evidence.py) needs more than similarity: the *kind* of
thing asked for (a date for "when", a number for "how many", an e-mail address, a name), the
thing counted or held ("how many <beds>", "who is the <rector>"), the question's content terms,
and the acronyms it uses. This module extracts those; it knows nothing of the documents.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import Enum

from assistant.text import STOPWORDS, is_latin, stem, terms, transliterate

# Words that frame a question rather than carry its content ("according to the article").
_FRAME_WORDS = frozenset(
    stem(w)
    for w in (
        "according article articles document documents text texts report reports reported "
        "mention mentioned mentions say says said state states stated statement describe "
        "described tell told know known information source sources per please many much kind "
        "kinds type types sort name named called exactly actually also else "
    ).split()
)
_MONTHS = (
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec"
)
_DATE_RE = re.compile(
    rf"\b(1[89]\d\d|20\d\d)\b|\b({'|'.join(_MONTHS.split())})\b|\b\d{{1,2}}[./]\d{{1,2}}[./]\d{{2,4}}\b",
    re.IGNORECASE,
)
_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve fifteen twenty thirty forty "
    "fifty hundred hundreds thousand thousands million millions billion billions dozen dozens "
    "several twice fivefold tenfold half"
)
_QUANTITY_RE = re.compile(rf"\d|\b({'|'.join(_NUMBER_WORDS.split())})\b", re.IGNORECASE)
_MONEY_RE = re.compile(
    r"[$€£¥₽₸]|\b(som|soms|usd|eur|euro|euros|dollars?|rubles?|roubles?|tenge|yuan|rmb|kgs)\b",
    re.IGNORECASE,
)
_EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_PHONE_RE = re.compile(r"\+?\d[\d\s().-]{6,}\d")
_URL_RE = re.compile(r"https?://|www\.", re.IGNORECASE)
_NAME_RE = re.compile(r"\b[A-Z][a-z]+(?:[\s.-]+[A-Z][\w.-]*)+|\b[A-Z]{2,}\b")


class AnswerType(Enum):
    """The kind of thing a question asks for, when the question makes it plain."""

    ANY = "any"
    DATE = "date"
    QUANTITY = "quantity"
    MONEY = "money"
    EMAIL = "email"
    PHONE = "phone"
    URL = "url"
    NAME = "name"


_TYPE_PATTERNS: tuple[tuple[AnswerType, re.Pattern[str]], ...] = (
    (AnswerType.EMAIL, re.compile(r"\be-?mail", re.I)),
    (AnswerType.PHONE, re.compile(r"\b(phone|telephone|fax|whatsapp)\b", re.I)),
    (AnswerType.URL, re.compile(r"\b(website|web site|url|web page|homepage)\b", re.I)),
    (
        AnswerType.MONEY,
        re.compile(
            r"\bhow much (money|funding|does .* cost)|\b(cost|costs|price|fee|fees|tuition|"
            r"salary|stipend)\b|\bworth\b",
            re.I,
        ),
    ),
    (
        AnswerType.DATE,
        re.compile(r"\bwhen\b|\b(what|which) (year|date|day|month)\b|\bsince when\b", re.I),
    ),
    (
        AnswerType.QUANTITY,
        re.compile(
            r"\bhow (many|much|often|long|large|big|old)\b|\b(what|which) (number|percentage|"
            r"share|proportion|amount)\b|\bnumber of\b",
            re.I,
        ),
    ),
    # Only questions after the identity of someone or something want a proper name; "to
    # whom" or "who else took part" are as well answered by "individual research groups".
    (
        AnswerType.NAME,
        re.compile(
            r"\bwho (is|was) (the|a|an)\b|\b(what|which) (is|was|are|were) the (full |official )?"
            r"names?\b|\bwhat is \w+ called\b",
            re.I,
        ),
    ),
)

TYPE_CHECKS: dict[AnswerType, Callable[[str], bool]] = {
    AnswerType.ANY: lambda s: True,
    AnswerType.DATE: lambda s: bool(_DATE_RE.search(s)),
    AnswerType.QUANTITY: lambda s: bool(_QUANTITY_RE.search(s)),
    AnswerType.MONEY: lambda s: bool(_MONEY_RE.search(s)) and bool(re.search(r"\d", s)),
    AnswerType.EMAIL: lambda s: bool(_EMAIL_RE.search(s)),
    AnswerType.PHONE: lambda s: bool(_PHONE_RE.search(s)),
    AnswerType.URL: lambda s: bool(_URL_RE.search(s)),
    AnswerType.NAME: lambda s: bool(_NAME_RE.search(s)),
}


def answer_type(question: str) -> AnswerType:
    """The kind of answer the question asks for (ANY when it does not say)."""
    for kind, pattern in _TYPE_PATTERNS:
        if pattern.search(question):
            return kind
    return AnswerType.ANY


def key_terms(question: str) -> list[str]:
    """The question's content terms, stemmed, without framing words; order kept, no repeats.
    A question in another script contributes its Latin transliteration only: that is the form
    that can meet the English documents (names, acronyms, international words)."""
    if not is_latin(question):
        question = transliterate(question)
    seen: dict[str, None] = {}
    for term in terms(question, compounds=False):
        if term not in _FRAME_WORDS and term not in STOPWORDS:
            seen.setdefault(term, None)
    return list(seen)


# The thing a question counts or whose holder it asks for: "how many <beds> does ...",
# "who is the <rector> of ...". Such a head noun names the answer's subject, so evidence
# that never mentions it cannot answer. ("What is the <purpose> of ..." is not used: abstract
# heads rarely appear in the sentence that answers them.)
_NP_END = (
    r"(?=\s+(?:of|for|in|at|on|to|from|with|by|about|does|do|did|is|are|was|were|has|have|"
    r"had|will|would|can|could|that|which|who|there|per)\b|\s*[?,.!]|\s*$)"
)
_FOCUS_RE = re.compile(
    r"\b(?:how (?:many|much)|who (?:is|was|are|were) (?:the|a|an))\s+((?:[\w'-]+\s+){0,4}?[\w'-]+)"
    + _NP_END,
    re.IGNORECASE,
)
# A price is the price of something: a question about tuition or a fee needs evidence that
# names it, not just any sum of money ("600,000 som" for a grant is no tuition fee).
_PRICED_RE = re.compile(r"\b(tuition|fees?|prices?|salary|salaries|stipends?|rent)\b", re.I)
_YES_NO_RE = re.compile(
    r"^\s*(does|do|did|is|are|was|were|can|could|will|would|has|have|had|should)\b", re.I
)
_NAMED_RE = re.compile(r"\b(?:name|called|named)\s+(?:of\s+)?(?:the\s+|a\s+|an\s+)?([\w'-]+)", re.I)


@dataclass(frozen=True)
class QuestionProfile:
    """What a question asks for, as far as its wording shows."""

    kind: AnswerType
    terms: tuple[str, ...]
    focus: str | None = None
    named: str | None = None
    yes_no: bool = False
    names: tuple[str, ...] = ()

    @classmethod
    def of(cls, question: str) -> QuestionProfile:
        focus_match = _FOCUS_RE.search(question)
        focus = None
        if focus_match:
            head = terms(focus_match.group(1).split()[-1], compounds=False)
            focus = head[-1] if head else None
        priced = _PRICED_RE.search(question)
        if priced:
            focus = stem(priced.group(1).casefold())
        named_match = _NAMED_RE.search(question)
        named = terms(named_match.group(1), compounds=False) if named_match else []
        return cls(
            kind=answer_type(question),
            terms=tuple(key_terms(question)),
            focus=focus,
            named=named[0] if named else None,
            yes_no=bool(_YES_NO_RE.match(question)),
            names=proper_names(question),
        )

    def with_rarest_focus(self, idf: Callable[[str], float]) -> QuestionProfile:
        """A yes/no question ("Does CPMR offer scholarships?") is about its most specific term:
        evidence that never mentions it can neither confirm nor deny."""
        if not self.yes_no or self.focus or not self.terms:
            return self
        return replace(self, focus=max(self.terms, key=idf))


_CAPITALISED_RE = re.compile(r"\b[A-Z][\w'’-]*")


def proper_names(question: str) -> tuple[str, ...]:
    """Stems of the names a question mentions: capitalised words after the first, and
    acronyms anywhere ("Which Kazakh university partnered with Harvard?" -> kazakh, harvard).
    Sources that never mention a name cannot answer a question about it."""
    if not is_latin(question):
        return ()
    first = question.strip().split(maxsplit=1)[0] if question.strip() else ""
    found: dict[str, None] = {}
    for match in _CAPITALISED_RE.finditer(question):
        token = match.group(0).rstrip("'’s").rstrip("'’")
        is_first = match.start() == question.find(first) and not token.isupper()
        if is_first or len(token) < 2:
            continue
        for term in terms(token):
            if term not in _FRAME_WORDS and term not in STOPWORDS:
                found.setdefault(term, None)
                break  # a compound name counts once, as a whole
    return tuple(found)


def acronym_expansions(question: str, text: str) -> dict[str, str]:
    """Stemmed acronym of the question -> its spelled-out form found in `text`."""
    found: dict[str, str] = {}
    for token in re.findall(r"\b[A-Z]{2,}\b", question):
        full = acronym_expansion(token, text)
        if full:
            found[stem(token.casefold())] = full
    return found


def acronym_expansion(acronym: str, text: str) -> str | None:
    """The spelled-out name an all-capitals acronym stands for in `text`, if it is there:
    a run of capitalised words whose initials spell it ("Omsk State Medical University" for
    OSMU); small linking words ("of", "and") may stand between them or give a letter (MOH)."""
    letters = acronym.upper()
    if len(letters) < 2 or not letters.isalpha():
        return None
    tokens = re.findall(r"[\w'-]+", text)

    def spell(i: int, at: int) -> int | None:
        """Index of the last token when tokens[i:] spell letters[at:], else None."""
        if at == len(letters):
            return i - 1
        if i >= len(tokens):
            return None
        word = tokens[i]
        if word[0].upper() == letters[at] and (word[0].isupper() or word in _LINKING_WORDS):
            end = spell(i + 1, at + 1)
            if end is not None:
                return end
        if word in _LINKING_WORDS and at > 0:
            return spell(i + 1, at)
        return None

    for start, token in enumerate(tokens):
        if token[0] == letters[0]:
            end = spell(start, 0)
            if end is not None:
                return " ".join(tokens[start : end + 1])
    return None


_LINKING_WORDS = frozenset({"of", "and", "for", "the", "de"})


def names_next_to(sentence: str, target: str, question_words: set[str]) -> bool:
    """True when a capitalised or quoted word that the question does not use stands right
    next to `target` ("the nanosatellite «Al-Farabi-2»", "a company called Inspur")."""
    tokens = re.findall(r"«[^»]+»|\"[^\"]+\"|[\w'-]+", sentence)
    stems = [stem(t.casefold()) for t in tokens]
    for i, token_stem in enumerate(stems):
        if token_stem != target:
            continue
        for j in (i - 1, i + 1, i + 2):
            if 0 <= j < len(tokens) and tokens[j].casefold() not in question_words:
                neighbour = tokens[j]
                if neighbour[0] in '«"' or (neighbour[0].isupper() and j != 0):
                    return True
    return False
