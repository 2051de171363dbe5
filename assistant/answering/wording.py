"""The assistant's own words, in the question's language (English, Russian, Kyrgyz).

One table: refusals, the scope reply to small talk, and the labels around quotes. Quotes from
the sources are never translated; only what the assistant says in its own voice is.
"""

from __future__ import annotations

LANGUAGES = ("en", "ru", "ky")

WORDS: dict[str, dict[str, str]] = {
    "refusal": {
        "en": "I can't answer that from my sources.",
        "ru": "Я не могу ответить на этот вопрос по своим источникам.",
        "ky": "Мен бул суроого өз булактарым боюнча жооп бере албайм.",
    },
    "missing": {
        "en": "My sources don't give {missing}.",
        "ru": "В моих источниках нет сведений о следующем: {missing}.",
        "ky": "Менин булактарымда бул тууралуу маалымат жок: {missing}.",
    },
    # English only: a wh-question embedded as a clause (`indirect`); other languages and
    # other questions name the question's words the sources lack ("missing").
    "not_said": {"en": "My sources don't say {clause}."},
    "nearest": {
        "en": "The nearest thing they cover is {topic}.",
        "ru": "Ближе всего к вопросу в них: {topic}.",
        "ky": "Суроого эң жакын маалымат: {topic}.",
    },
    "scope": {
        "en": (
            "I'm the CPMR Assistant: I answer questions about the Centre for Promotion of "
            "Medical Research (CPMR) at Ala-Too International University and about "
            "medical-university partnership news, quoting my sources with citations."
        ),
        "ru": (
            "Я ассистент CPMR: отвечаю на вопросы о Центре содействия медицинским "
            "исследованиям (CPMR) Международного университета Ала-Тоо и о новостях "
            "партнёрства медицинских университетов, с цитатами из источников."
        ),
        "ky": (
            "Мен CPMR ассистентимин: Ала-Тоо эл аралык университетинин Медициналык "
            "изилдөөлөрдү колдоо борбору (CPMR) жана медициналык университеттердин "
            "өнөктөштүгү тууралуу суроолорго булактарга шилтеме менен жооп берем."
        ),
    },
    "examples": {
        "en": "You could ask:",
        "ru": "Например, можно спросить:",
        "ky": "Мисалы, мындай сурасаңыз болот:",
    },
    "differ": {
        "en": "The reports differ:",
        "ru": "Сообщения расходятся:",
        "ky": "Билдирүүлөр айырмаланат:",
    },
    "each_says": {
        "en": "Each report says:",
        "ru": "Что говорит каждое сообщение:",
        "ky": "Ар бир билдирүү эмне дейт:",
    },
    "stands_for": {
        "en": "{acronym} stands for {expansion}.",
        "ru": "{acronym} означает {expansion}.",
        "ky": "{acronym} — бул {expansion}.",
    },
}

# Three questions the sources answer, offered with the scope reply; kept as plain examples
# of what the assistant covers (they are not rules and no answer depends on them).
EXAMPLES: dict[str, tuple[str, str, str]] = {
    "en": (
        "What is the mission of CPMR?",
        "What does CPMR's mandate include?",
        "Which medical universities signed partnership agreements recently?",
    ),
    "ru": (
        "Какова миссия CPMR?",
        "Что входит в задачи CPMR?",
        "Какие медицинские университеты недавно подписали соглашения о партнёрстве?",
    ),
    "ky": (
        "CPMRдин миссиясы кандай?",
        "CPMRдин милдеттерине эмнелер кирет?",
        "Кайсы медициналык университеттер жакында өнөктөштүк келишимине кол койду?",
    ),
}


def say(key: str, language: str, **values: str) -> str:
    """The assistant's words for `key` in `language` (English when it has no such entry)."""
    entry = WORDS[key]
    return entry.get(language, entry["en"]).format(**values)


def examples(language: str) -> tuple[str, str, str]:
    return EXAMPLES.get(language, EXAMPLES["en"])
