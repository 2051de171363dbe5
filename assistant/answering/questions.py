"""Reading a question: its language, what kind of thing it asks for, its terms and parts.

Everything here is read from the wording alone, in general categories (a date, a number, a
sum of money, a name, contact details, what an abbreviation stands for, a list, a comparison,
small talk); nothing names a thing the documents or any question set mention. The answer
stage (`evidence`, `compose`) turns these categories into features and answer shapes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import Enum

from assistant.text import STOPWORDS, is_latin, numbers, stem, terms, transliterate, words
from assistant.types import ChatTurn


class Asks(Enum):
    """The kind of thing a question asks for, when its wording makes that plain."""

    ANY = "any"
    DATE = "date"
    NUMBER = "number"
    MONEY = "money"
    NAME = "name"  # a person, an organisation or a place
    CONTACT = "contact"
    EXPANSION = "expansion"  # what an abbreviation stands for


# Words that frame a question rather than carry its content ("according to the report").
_FRAME_WORDS = frozenset(
    stem(w)
    for w in (
        "according article articles document documents text texts report reports reported "
        "mention mentioned mentions say says said state states stated describe described tell "
        "told know known information source sources please many much kind kinds type types "
        "sort name names named called exactly actually also else list give help ask asked "
        "answer answers question questions topic topics nice meet see later"
    ).split()
)

# Question cues for each category: interrogatives and general category nouns only.
_CUES: tuple[tuple[Asks, re.Pattern[str]], ...] = (
    (
        Asks.EXPANSION,
        re.compile(
            r"\b(stand|stands) for\b|\babbreviat|\bacronym|\bfull (name|form)\b|"
            r"\bwhat (is|are) (the )?(?-i:[A-Z]{2,})\s*[?.]?\s*$|"
            r"\bwhat does (?-i:[A-Z]{2,}) mean\b|"
            r"\bрасшифр|\bаббревиатур|\bкыскартма|\bчто (такое|означает) (?-i:[A-ZА-Я]{2,})",
            re.I,
        ),
    ),
    (
        Asks.CONTACT,
        re.compile(
            r"\b(contact|e-?mail|phone|telephone|fax|website|web site|url|address)\b|"
            r"\bсвяза|\bтелефон|\bпочт|\bсайт|\bбайланыш",
            re.I,
        ),
    ),
    (
        Asks.MONEY,
        re.compile(
            r"\bhow much (money|funding|does|did|do|is|was)\b|\b(cost|costs|price|fee|fees|"
            r"tuition|salary|stipend)\b|\bсколько стоит|\bстоимост|\bбаа",
            re.I,
        ),
    ),
    (
        Asks.DATE,
        re.compile(
            r"\bwhen\b|\b(what|which) (year|date|day|month)\b|\bsince when\b|\bкогда\b|"
            r"\bв каком году\b|\bкачан\b|\bкайсы жылы\b",
            re.I,
        ),
    ),
    (
        Asks.NUMBER,
        re.compile(
            r"\bhow (many|much|often|long|large|big|old)\b|\b(what|which) (number|percentage|"
            r"share|proportion|amount)\b|\bnumber of\b|\bсколько\b|\bканча\b",
            re.I,
        ),
    ),
    (
        Asks.NAME,
        re.compile(
            r"^\s*(who|whom|whose|where)\b|\b(who|where) (is|was|are|were|did|does|do)\b|"
            r"\b(which|what) (person|people|university|universities|institution|institutions|"
            r"organi[sz]ations?|company|companies|country|countries|city|cities|place|"
            r"partner|partners)\b|\bкто\b|\bгде\b|\bкаки[ем] (университет|организац)|\bким\b|"
            r"\bкайда\b",
            re.I,
        ),
    ),
)
_LIST_RE = re.compile(
    r"^\s*(list|name|enumerate)\b|\b(all|every|each) (the )?\w+|\bwhat (are|were) (the|its|their)"
    r"\b|\bwhich \w+ (are|were|have|has)\b|\bwhat \w+ (does|do|did) \w+ (offer|include|have)\b|"
    r"\bперечисл|\bкакие\b|\bкандай\b",
    re.I,
)
_COMPARE_RE = re.compile(
    r"\bcompar|\bdiffer|\bdifference|\bboth\b|\bversus\b|\bvs\.?\b|\bsame as\b|"
    r"\bin common\b|\b(two|each|either)\b[^?]*\b(reports?|articles?|documents?|sources?)\b|"
    r"\b(report|article|document)\b[^?]*\band\b[^?]*\b(report|article|document)\b|"
    r"\bсравн|\bотлича|\bоба\b|\bобоих\b|\bдвух\b|\bсалыштыр|\bэки\b|\bэкөө",
    re.I,
)
# The grammar of talk addressed to the assistant rather than about the sources, in the three
# languages: the closed classes of greeting, thanking and leave-taking formulae (with the
# idioms that ask how one is), the second person, and the few nouns a user calls the assistant
# by. None of these names anything the sources or a question set are about.
_FORMULA_RE = re.compile(
    r"^\W*(hi|hiya|hello|hey|howdy|yo|greetings|good (morning|afternoon|evening|night|day)|"
    r"thanks?|thank you|thx|ty|many thanks|much appreciated|appreciate it|cheers|bye|goodbye|"
    r"good-?bye|farewell|see (you|ya)|take care|ok|okay|great|cool|nice|awesome|perfect|"
    r"what'?s up|sup|how'?s it going|how are (you|things)|how do you do|"
    r"привет\w*|здравствуй\w*|здоров\w*|добр\w+ (утро|день|вечер|ночи)|доброго \w+|"
    r"спасибо|благодар\w*|пока|до свидания|до встречи|всего доброго|хорошо|ладно|понятно|"
    r"как (дела|ты|вы|поживаешь|поживаете)|"
    r"салам\w*|саламатсыз\w*|рахмат\w*|ыракмат\w*|кош( бол\w*| келиң\w*)?|"
    r"кандайсы\w*|кандайсың|жакшы\w*|макул|түшүндүм|саламатчылык\w*)\b",
    re.I,
)
_ADDRESS_RE = re.compile(
    r"\b(you|your|yours|yourself|u|ya|bot|chatbot|chat bot|assistant|robot|ai|"
    r"ты|вы|тебя|вас|тебе|вам|тобой|вами|твой|твоя|твои|ваш|ваша|ваши|бот|чат-бот|"
    r"ассистент\w*|помощник\w*|сен|сиз|сени|сизди|сага|сизге|сенин|сиздин|"
    r"сенден|сизден|ботсуң|ботсуз)\b",
    re.I,
)
# Words of the formulae above and the assistant's names: never topical content.
_SOCIAL_WORDS = frozenset(
    stem(w)
    for w in (
        "hi hiya hello hey howdy yo greetings good morning afternoon evening night day thanks "
        "thank thx ty appreciated appreciate cheers bye goodbye farewell care ok okay great cool "
        "nice awesome perfect lot sup bot chatbot chat assistant robot ai helpful fine well "
        "today tonight now doing going"
    ).split()
)
# Parts of speech that can name a topic: a question about the sources names one (a noun, a
# name, a number, a quality); verbs and function words ("how are you") name none.
_TOPICAL_POS = frozenset({"NOUN", "PROPN", "NUM", "ADJ", "X"})
_WH_RE = re.compile(
    r"\b(what|which|who|whom|whose|when|where|why|how|что|кто|где|когда|почему|как|как\w+|"
    r"сколько|эмне|ким|кайда|качан|кантип|канча|кайсы)\b",
    re.I,
)
CONJUNCTION_RE = re.compile(r"\b(and|or|as well as|versus|vs|и|или|а также|жана|же|менен)\b", re.I)
_YES_NO_RE = re.compile(
    r"^\s*(does|do|did|is|are|was|were|can|could|will|would|has|have|had|should)\b", re.I
)
_LATEST_RE = re.compile(
    r"\b(latest|newest|most recent|recent|last)\b[^?]*\b(news|announcements?|updates?|"
    r"articles?|events?|agreements?|partnerships?)\b|\bwhat'?s new\b|\bпоследн\w* новост",
    re.IGNORECASE,
)
_SECOND_QUESTION_RE = re.compile(
    r"(?:,|;)?\s+and\s+(?=(?:what|which|who|whom|whose|when|where|why|how)\b)", re.IGNORECASE
)
# Words that only make sense with an antecedent from earlier in the conversation.
_ANAPHORA = frozenset(
    (
        "it its it's they them their theirs this that these those he him his she her hers "
        "there here same such else former latter он она оно они его её их этот эта это эти "
        "тот та те ал алар анын алардын бул ошол"
    ).split()
)
_QUESTION_WORDS = frozenset("what which who whom whose when where why how".split())
# Russian and Kyrgyz function and question words: grammar, not content (the English list is
# bm25s's).
_CYRILLIC_STOPWORDS = frozenset(
    (
        "что такое как какой какая какие каких каким кто где когда почему зачем сколько ли "
        "это этот эта эти тот та те в во на и а но или с со по о об от до для из у к за при "
        "же не ни был была были было есть будет быть его её их он она они оно мне мы вы ты "
        "я так также уже чем чего кого кому о чём можно нужно ли ещё какое каково какова "
        "эмне кандай канча качан ким кайда кайсы эмнеге жана менен үчүн бул ошол деген "
        "болуп боюнча жөнүндө барбы жок бар дагы да деп эле го бы мен сен сиз биз алар ал "
        "анын кылат кылган"
    ).split()
)
_HISTORY_CHARS = 400
_ACRONYM_RE = re.compile(r"\b[A-ZА-Я]{2,}\b")
_CAPITALISED_RE = re.compile(r"\b[A-Z][\w'’-]*")
# Letters that Kyrgyz writes and Russian does not; and frequent Kyrgyz function words.
_KYRGYZ_LETTERS = frozenset("ңөүҢӨҮ")
_KYRGYZ_WORDS = frozenset(
    "жана менен үчүн эмне кандай канча качан ким кайда барбы жок бул ошол деген болуп "
    "боюнча жөнүндө кайсы эмнеге кимдер".split()
)


def language_of(text: str) -> str:
    """'ky' for Kyrgyz (its own letters or function words), 'ru' for other Cyrillic, else 'en'."""
    letters = [c for c in text if c.isalpha()]
    cyrillic = sum(1 for c in letters if "\u0400" <= c <= "\u04ff")
    if not letters or cyrillic / len(letters) < 0.5:
        return "en"
    tokens = words(text)
    if any(c in _KYRGYZ_LETTERS for c in text) or any(w in _KYRGYZ_WORDS for w in tokens):
        return "ky"
    # Kyrgyz is agglutinative: its function words also open longer words ("кандайсыз").
    if any(w.startswith(k) for w in tokens for k in _KYRGYZ_WORDS if len(k) >= 5):
        return "ky"
    return "ru"


def asks_for(question: str) -> Asks:
    """The kind of thing the question asks for (ANY when its wording does not say)."""
    for kind, pattern in _CUES:
        if pattern.search(question):
            return kind
    return Asks.ANY


def key_terms(question: str) -> list[str]:
    """The question's content terms, stemmed, without framing words; order kept, no repeats.
    A question in another script contributes its Latin transliteration only: that is the form
    that can meet the English documents (names, acronyms, international words); its function
    words are dropped first."""
    if not is_latin(question):
        content = [
            w for w in re.findall(r"[\w'’-]+", question) if w.casefold() not in _CYRILLIC_STOPWORDS
        ]
        question = transliterate(" ".join(content))
    seen: dict[str, None] = {}
    for term in terms(question, compounds=False):
        if term not in _FRAME_WORDS and term not in STOPWORDS:
            seen.setdefault(term, None)
    return list(seen)


def proper_names(question: str) -> tuple[str, ...]:
    """Stems of the names a question mentions: capitalised words after the first, and
    acronyms anywhere. Sources that never mention a name cannot answer a question about it."""
    if not is_latin(question):
        return tuple(stem(a.casefold()) for a in _ACRONYM_RE.findall(transliterate(question)))
    stripped = question.strip()
    found: dict[str, None] = {}
    for match in _CAPITALISED_RE.finditer(stripped):
        token = match.group(0).rstrip("'’s").rstrip("'’")
        if (match.start() == 0 and not token.isupper()) or len(token) < 2:
            continue
        for term in terms(token):
            if term not in _FRAME_WORDS and term not in STOPWORDS:
                found.setdefault(term, None)
                break  # a compound name counts once, as a whole
    return tuple(found)


def acronyms(question: str) -> tuple[str, ...]:
    """The all-capitals abbreviations a question uses, as written."""
    return tuple(dict.fromkeys(_ACRONYM_RE.findall(question)))


@dataclass(frozen=True)
class Reading:
    """What a question asks for, as far as its wording shows."""

    question: str
    language: str
    asks: Asks
    terms: tuple[str, ...]
    names: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()
    acronyms: tuple[str, ...] = ()
    wants_list: bool = False
    compares: bool = False
    conjoined: bool = False  # two things joined ("X and Y"): maybe two reports named
    social: bool = False
    yes_no: bool = False

    @classmethod
    def of(cls, question: str) -> Reading:
        latin = question if is_latin(question) else transliterate(question)
        asks = asks_for(question)
        abbreviations = acronyms(question)
        content = tuple(key_terms(question))
        if asks is Asks.EXPANSION and abbreviations:
            # "What does X stand for?" is about X alone; the rest is the frame of the question.
            content = tuple(dict.fromkeys(stem(a.casefold()) for a in abbreviations))
        return cls(
            question=question,
            language=language_of(question),
            asks=asks,
            terms=content,
            names=proper_names(question),
            numbers=tuple(sorted(numbers(latin))),
            acronyms=abbreviations,
            wants_list=bool(_LIST_RE.search(question)),
            compares=bool(_COMPARE_RE.search(question)),
            conjoined=bool(CONJUNCTION_RE.search(question)),
            social=bool(_FORMULA_RE.search(question) or _ADDRESS_RE.search(question)),
            yes_no=bool(_YES_NO_RE.match(question)),
        )

    def rarest(self, idf: Callable[[str], float]) -> str | None:
        """The question's most specific term: evidence that lacks it rarely answers."""
        return max(self.terms, key=idf) if self.terms else None


# Part-of-speech tags of a text's words, (word, tag) in order (spaCy's, injected: this module
# stays pure).
Tagger = Callable[[str], Sequence[tuple[str, str]]]


def topical_terms(reading: Reading, tagger: Tagger | None = None) -> tuple[str, ...]:
    """The question's terms that could name a topic of the sources: in English, with a
    `tagger`, those of its nouns, names, numbers and adjectives; otherwise all of its content
    terms. Greeting formulae and the assistant's names are left out."""
    candidates = [t for t in reading.terms if t not in _SOCIAL_WORDS]
    if not candidates or tagger is None or not is_latin(reading.question):
        return tuple(candidates)
    topical: set[str] = set()
    for word, tag in tagger(reading.question):
        if tag in _TOPICAL_POS:
            topical.update(terms(word, compounds=False))
    return tuple(t for t in candidates if t in topical)


def _asks_more(rest: str) -> bool:
    """Whether what follows a greeting formula asks about something ("Hi, when ...?")."""
    return any(t not in _SOCIAL_WORDS for t in key_terms(rest)) and (
        "?" in rest or bool(_WH_RE.search(rest))
    )


def is_small_talk(
    reading: Reading,
    known: Callable[[str], bool],
    *,
    follow_up: bool = False,
    tagger: Tagger | None = None,
) -> bool:
    """Talk addressed to the assistant rather than a question about the sources.

    - A greeting, thanks or farewell that asks nothing ("Cheers, have a nice day").
    - Social wording (a formula, the second person, the assistant's name) with no topical
      term the sources know ("What languages do you speak?", "Who built this chatbot?").
    - Outside a conversation, a message with no content term at all ("What's up?").
    """
    if not reading.terms and not follow_up:
        return True
    if not reading.social:
        return False
    rest = _FORMULA_RE.sub("", reading.question, count=1)
    if _FORMULA_RE.search(reading.question) and not _asks_more(rest):
        return True
    return not any(known(t) for t in topical_terms(reading, tagger))


def asks_for_latest(question: str) -> bool:
    """True for questions after the newest news ("What is the latest news about ...?")."""
    return bool(_LATEST_RE.search(question))


def split_question(question: str) -> list[str]:
    """The parts of a question that asks two things ("Who wrote the report, and when was it
    published?"); a single question comes back alone."""
    parts = [p.strip(" ,;") for p in _SECOND_QUESTION_RE.split(question)]
    if len(parts) > 1 and all(len(words(p)) >= 3 for p in parts):
        return parts
    return [question]


def needs_context(question: str) -> bool:
    """True when a question leans on earlier turns: it has an anaphor or almost no content."""
    tokens = words(question)
    if any(t in _ANAPHORA for t in tokens):
        return True
    content = [t for t in tokens if t not in STOPWORDS and t not in _QUESTION_WORDS]
    return len(content) < 2


def standalone_question(question: str, history: Sequence[ChatTurn]) -> str:
    """The question with enough of the conversation attached to be searched on its own.

    The newest user turn names the topic and the assistant's reply to it often names the
    entity, so both are appended, the reply cut short so that it cannot outweigh the question.
    """
    if not history or not needs_context(question):
        return question
    last_user = next((t.content for t in reversed(history) if t.role == "user"), "")
    last_reply = next((t.content for t in reversed(history) if t.role == "assistant"), "")
    reply = re.sub(r"\s*\[\d+\]", "", last_reply)[:_HISTORY_CHARS]
    context = " ".join(part for part in (last_user, reply) if part)
    return f"{question} (context: {context})" if context else question
