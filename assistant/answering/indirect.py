"""A direct English wh-question turned into the clause a sentence can embed ("who the
keeper of the lighthouse is", "when the council approved the budget"), so that a refusal can
say in plain words what the sources do not give.

English grammar, not a list of questions: an embedded question keeps the statement's word
order. After the wh-phrase an inverted auxiliary goes back after its subject, and a "do" that
was only there for the inversion is dropped, its tense moving onto the main verb ("When did
X sign" -> "when X signed"). The asker's "I" becomes the reader's "you". Anything the parse
does not read as one plain such question (a request, two sentences, a question addressed to
"you", a parse that would cut a word in two) gives None, and the caller says it another way.
Left out on purpose, because the clause would state something in the assistant's own voice
(perhaps a claim a hostile question plants): yes/no questions ("whether P") and questions
with a clause of their own ("what proves that P").
"""

from __future__ import annotations

from spacy.tokens import Span, Token

from assistant.answering import claims

# Penn tags of wh-words and of the finite forms a verb takes.
_WH_TAGS = frozenset({"WDT", "WP", "WP$", "WRB"})
_FINITE_TAGS = frozenset({"MD", "VBZ", "VBP", "VBD"})
# Verb forms an auxiliary never governs (a modal or "do" takes a bare verb, "have" a
# participle); the tagger's other slips on a question's last word are let through.
_IMPOSSIBLE_TAGS = {
    "modal": frozenset({"VBG", "VBN", "VBZ"}),
    "do": frozenset({"VBG", "VBN", "VBZ"}),
    "have": frozenset({"VB", "VBG", "VBZ", "VBP"}),
    "be": frozenset({"VB", "VBZ", "VBP"}),
}
# The auxiliaries of English (a closed class, with the modals): only these invert.
_AUXILIARY_LEMMAS = frozenset({"be", "do", "have"})
_SUBJECT_DEPS = frozenset({"nsubj", "nsubjpass", "expl", "csubj"})
# Penn tags of the punctuation a phrase may end at (a hyphen or a quote may not).
_PHRASE_ENDS = frozenset({",", ".", ":", "-RRB-"})
# Clauses inside the question ("which boats *that have* ...", "proof *that it is* ...").
_SUBORDINATE_DEPS = frozenset({"relcl", "acl", "advcl", "ccomp", "xcomp", "pcomp"})
# The right-hand parts of a noun phrase that stay with it when the auxiliary moves after
# it ("the keeper *of the lighthouse* is"); a participle or clause ("the office *located* on
# campus") and an adjective ("is the ferry *free*") belong to the predicate.
_NOUN_PHRASE_DEPS = frozenset({"prep", "case", "appos", "nummod", "punct", "cc", "conj"})
# First person becomes second: the assistant reports what the asker asked.
_PERSON = {"i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself"}
_PERSON |= {"we": "you", "us": "you", "our": "your", "ours": "yours", "ourselves": "yourselves"}
_ADDRESSEE = frozenset({"you", "your", "yours", "yourself", "yourselves"})
_AFTER_YOU = {"am": "are", "was": "were"}

# A word and whether a space follows it.
Piece = tuple[str, bool]


def indirect_question(question: str) -> str | None:
    """`question` as an embedded clause, without its question mark, or None."""
    text = question.strip().rstrip("?!. ").strip()
    if not text:
        return None
    # Parsed with its question mark: the parser reads a question better as one.
    doc = claims.parse(f"{text}?")
    words = doc[:-1] if doc[-1].text == "?" else doc[:]
    if len(list(doc.sents)) != 1 or any(t.lower_ in _ADDRESSEE for t in words):
        return None
    if words[0].tag_ not in _WH_TAGS or _states_something(words):
        return None
    verb = next((t for t in words if t.tag_ in _FINITE_TAGS and _main_clause(t)), None)
    if verb is None or verb.i == 0:
        return None
    head = [_word(t) for t in words[: verb.i]]
    head[0] = (head[0][0].lower(), True)
    head[-1] = (head[-1][0], True)  # "What's" -> "what ... is"
    rest = _statement(words, verb, words[: verb.i])
    return None if rest is None else _join([*head, *rest])


def _states_something(words: Span) -> bool:
    """Whether a clause inside the question has a subject of its own and is introduced as a
    clause ("What proves *that tuition is free*?", "boats *that the council bought*"):
    restated, the assistant would say that clause in its own words."""
    return any(
        any(c.dep_ in _SUBJECT_DEPS for c in t.children)
        and (t.dep_ == "relcl" or any(c.dep_ == "mark" for c in t.children))
        for t in words
    )


def _main_clause(token: Token) -> bool:
    """Whether `token` belongs to the question's own clause, not to a clause inside one of
    its phrases ("which boats *that have* long been moored here ...")."""
    return not any(t.dep_ in _SUBORDINATE_DEPS for t in (token, *token.ancestors))


def _join(pieces: list[Piece]) -> str:
    return "".join(text + (" " if space else "") for text, space in pieces).strip()


def _is_auxiliary(token: Token) -> bool:
    return token.tag_ == "MD" or (token.tag_ in _FINITE_TAGS and token.lemma_ in _AUXILIARY_LEMMAS)


def _statement(words: Span, verb: Token, wh_head: Span) -> list[Piece] | None:
    """The words from `verb` on in statement order: an inverted auxiliary after its subject
    (a supporting "do" dropped and its tense put on the main verb). A verb the wh-phrase is
    the subject of ("who heads X", "which city will host X") stays where it is."""
    rest = words[verb.i + 1 - words.start :]
    if _misparsed(verb):
        return None
    subject = _before_governed(rest, verb) if _is_auxiliary(verb) else None
    # "do" after a wh-phrase is nearly always the inverted support of another verb; read
    # otherwise ("who does the cooking") it would garble the far commoner case.
    wh_subject = not _is_auxiliary(verb) or any(t.dep_ in _SUBJECT_DEPS for t in wh_head)
    if subject is None and wh_subject and verb.lemma_ != "do":
        return [(_full_form(verb), bool(verb.whitespace_)), *(_word(t) for t in rest)]
    if subject is None and verb.lemma_ == "be" and verb.dep_ == "ROOT":
        subject = _parsed_subject(rest)
    if subject is None or not _whole(subject):
        return None
    before = [_word(t) for t in subject]
    before[-1] = (before[-1][0], True)
    after = [t for t in rest if t.i >= subject.end]
    you = subject.text.lower() in ("i", "we")
    if verb.lemma_ == "do":
        # The verb "do" supports: a bare verb, or whatever the parse attached "do" to.
        main = after[0] if after and (after[0].tag_ == "VB" or after[0].i == verb.head.i) else None
        if main is None:
            return None
        inflected = _inflection(main.lemma_, "VBP" if you else verb.tag_) or main.text
        return [*before, (inflected, bool(main.whitespace_)), *(_word(t) for t in after[1:])]
    finite = _full_form(verb)
    finite = _AFTER_YOU.get(finite, finite) if you else finite
    spaced = bool(after) and after[0].pos_ != "PUNCT"
    return [*before, (finite, spaced), *(_word(t) for t in after)]


def _whole(subject: Span) -> bool:
    """Whether `subject` can be a noun phrase the verb moves after: it ends on a noun, a
    pronoun or a number at a word boundary, and opens no quote it does not close (a parse
    that cut "co-chairman" or "'phase I'" in two must not be written out)."""
    if not len(subject):
        return False
    last = subject[-1]
    following = subject.doc[last.i + 1] if last.i + 1 < len(subject.doc) else None
    boundary = bool(last.whitespace_) or following is None or following.tag_ in _PHRASE_ENDS
    if last.pos_ not in ("NOUN", "PROPN", "PRON", "NUM") or not boundary:
        return False
    quotes = sum(t.text in ("'", '"', "‘", "’", "“", "”") for t in subject)
    return quotes % 2 == 0


def _before_governed(rest: Span, verb: Token) -> Span | None:
    """The subject of an inverted auxiliary, read from the parse: the words between it and
    the verb it is attached to ("can *the lab* host", "did *CPMR* sign")."""
    governed = verb.head
    if verb.dep_ not in ("aux", "auxpass") or governed.i <= rest.start:
        return None
    span = rest.doc[rest.start : governed.i]
    return span if any(t.pos_ in ("NOUN", "PROPN", "PRON") for t in span) else None


def _misparsed(verb: Token) -> bool:
    """Whether the verb the auxiliary is attached to has a form no such auxiliary takes
    ("should *hoping*"): the parse is wrong, and so would the clause be."""
    if verb.dep_ not in ("aux", "auxpass"):
        return False
    # In a chain ("will *be* delivered", "has *been* going") the form is the next one's.
    if any(c.dep_ in ("aux", "auxpass") and verb.i < c.i < verb.head.i for c in verb.head.children):
        return False
    kind = "modal" if verb.tag_ == "MD" else verb.lemma_
    return verb.head.tag_ in _IMPOSSIBLE_TAGS.get(kind, frozenset())


def _parsed_subject(rest: Span) -> Span | None:
    """The subject of a copula: the noun phrase the parse calls its subject, else the noun
    phrase that follows it ("who is *the keeper of the lighthouse*")."""
    head = next((t for t in rest if t.dep_ in _SUBJECT_DEPS), None)
    return _noun_phrase(rest, head)


def _noun_phrase(span: Span, head: Token | None) -> Span | None:
    """From the start of `span` to the end of the noun phrase headed by `head` (default: the
    first noun or pronoun of `span`) with its noun-phrase modifiers."""
    if head is None:
        head = next((t for t in span if t.pos_ in ("NOUN", "PROPN", "PRON")), None)
        if head is None:
            return None
    end = head.i + 1
    for child in head.rights:
        if child.dep_ not in _NOUN_PHRASE_DEPS:
            break
        end = max(end, max(t.i for t in child.subtree) + 1)
    return span.doc[span.start : min(end, span.end)]


def _full_form(verb: Token) -> str:
    """The verb written out: a contraction ("'s", "'ll") cannot stand after its subject."""
    if verb.text[:1] not in ("'", "’"):
        return verb.lower_
    if verb.tag_ == "MD":
        return verb.lemma_.lower()
    if verb.lemma_ == "be" and verb.tag_ == "VBP":
        return "are"
    return _inflection(verb.lemma_, verb.tag_) or verb.lower_


def _inflection(lemma: str, tag: str) -> str | None:
    from lemminflect import getInflection

    forms = getInflection(lemma, tag=tag)
    return str(forms[0]) if forms else None


def _word(token: Token) -> Piece:
    """The token as written (a first-person pronoun made second), with the space after it."""
    text = _PERSON.get(token.lower_, token.text) if token.pos_ == "PRON" else token.text
    return text, bool(token.whitespace_)
