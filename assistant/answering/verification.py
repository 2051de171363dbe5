"""Sentence-level verification: is a sentence supported by the passages it cites?

A deterministic, explainable check (no model judge: small local judges give NaN and
timeouts, and their verdicts cannot be explained). A sentence is supported when

1. every number in it appears in the cited quotes (the 135M model invents figures),
2. every name in it (capitalised words after the first, acronyms, words with digits)
   appears in the quotes (it invents people, places and dates: months are names too),
3. its content words are mostly the quotes' words, or fairly so and the sentence means
   the same as a quote by embedding similarity (so a faithful paraphrase by a strong model
   passes while a fluent invention fails),
4. its parse agrees with the quotes' (`claims`): no future, conditional or obligation the
   passage does not state (and no plan stated as done), no negation added or dropped, no talk
   about the passage or the answer, no verbless word salad, and no figure, name or list item
   attached to something other than what the passage attaches it to, and no participant of
   a verb moved to another side of it (who signed with whom).
A sentence that names its source ("according to the article, X", "the report says that X")
is checked as X; the words naming the source must be shown by the citation (its quote or its
document's title), so "the rector said" needs a passage that has the rector.

Word overlap (1-3) cannot see what 4 checks: "will be held" and "was held" share their words.

The same check runs in the answer path (before a sentence is shown) and in the evaluation
harness (re-checking final answers), so "faithfulness" means one documented thing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from assistant.answering.claims import attribution_problem, claim_problems, split_attribution
from assistant.citations import strip_markers
from assistant.text import STOPWORDS, is_latin, normalize, numbers, stem, terms, words

# Thresholds chosen from the shape of the problem, not from any question: a copied or lightly
# edited sentence keeps >= 75% of its content words; a paraphrase keeps half and stays close
# in meaning (cosine of MiniLM sentence vectors >= 0.6 is a near-paraphrase).
MIN_PRECISION = 0.75
MIN_PARAPHRASE_PRECISION = 0.6
MIN_PARAPHRASE_SIMILARITY = 0.7
# An added clause ("... and were invited to future events hosted by the organization") is a
# run of content words the passage never uses; four in a row is invention, not paraphrase.
MAX_UNSUPPORTED_RUN = 4
_CAPITALISED_RE = re.compile(r"\b[A-Z][\w'’.-]*")


class SentenceEmbedder(Protocol):
    def embed(self, texts: Sequence[str], *, show_progress: bool = False) -> list[list[float]]: ...


@dataclass(frozen=True)
class Support:
    """The verdict on one sentence, with the reasons a reader can check."""

    supported: bool
    score: float
    reasons: tuple[str, ...] = ()


def _names(sentence: str) -> set[str]:
    """Proper-name-like words: capitalised words not first in the sentence, acronyms, codes."""
    found: set[str] = set()
    tokens = _CAPITALISED_RE.findall(sentence)
    first = words(sentence)[:1]
    for token in tokens:
        for word in words(token):
            if word in STOPWORDS or (first and word == first[0] and not token.isupper()):
                continue
            found.add(word)
    found.update(w for w in words(sentence) if any(c.isdigit() for c in w) and not w.isdigit())
    return found


def _cosine(a: Sequence[float], b: Sequence[float]) -> float:
    return float(sum(x * y for x, y in zip(a, b, strict=True)))


def check_sentence(
    sentence: str,
    quotes: Sequence[str],
    embedder: SentenceEmbedder | None = None,
    *,
    titles: Sequence[str] = (),
) -> Support:
    """Decide whether `sentence` is supported by `quotes` (the passages it cites); `titles`
    are their documents' titles, which may name the source in an attribution ("according to
    the Nordhavn announcement, ...") but support no claim."""
    claim = strip_markers(sentence)
    if not quotes:
        return Support(False, 0.0, ("cites no passage",))
    if is_verbatim(claim, quotes):
        return Support(True, 1.0)
    reasons: list[str] = []
    if is_latin(claim):  # the parser is English
        # The attribution is checked against what the citation shows; the rest is the claim.
        whole = claim
        claim, attribution = split_attribution(whole)
        if attribution:
            problem = attribution_problem(whole, [*quotes, *titles])
            reasons.extend([problem] if problem else [])
            if is_verbatim(claim, quotes) and not reasons:
                return Support(True, 1.0)
    evidence = " ".join(quotes)

    missing_numbers = sorted(numbers(claim) - numbers(evidence))
    if missing_numbers:
        reasons.append(f"number(s) not in the cited passage: {', '.join(missing_numbers)}")

    evidence_words = set(words(evidence))
    evidence_stems = {stem(w) for w in evidence_words} | set(terms(evidence))
    missing_names = sorted(
        n for n in _names(claim) if n not in evidence_words and stem(n) not in evidence_stems
    )
    if missing_names:
        reasons.append(f"name(s) not in the cited passage: {', '.join(missing_names)}")

    content = terms(claim, compounds=False)
    if not content:
        return Support(False, 0.0, ("states nothing checkable", *reasons))
    supported_terms = [t in evidence_stems for t in content]
    precision = sum(supported_terms) / len(content)
    run = longest = 0
    for ok in supported_terms:
        run = 0 if ok else run + 1
        longest = max(longest, run)
    if longest >= MAX_UNSUPPORTED_RUN:
        reasons.append(f"adds {longest} words in a row that the cited passage does not have")
    similarity = 0.0
    if precision < MIN_PRECISION and embedder is not None:
        vectors = embedder.embed([claim, *quotes])
        similarity = max(_cosine(vectors[0], v) for v in vectors[1:])
    wording_ok = precision >= MIN_PRECISION or (
        precision >= MIN_PARAPHRASE_PRECISION and similarity >= MIN_PARAPHRASE_SIMILARITY
    )
    if not wording_ok:
        reasons.append(
            f"only {precision:.0%} of its words are in the cited passage"
            + (f" (meaning similarity {similarity:.2f})" if similarity else "")
        )
    if is_latin(claim):  # the parser is English; Cyrillic answers keep checks 1-3
        reasons.extend(claim_problems(claim, quotes))
    return Support(not reasons, precision, tuple(reasons))


def is_verbatim(sentence: str, quotes: Sequence[str]) -> bool:
    """True when the sentence is (case- and space-insensitively) inside one of the quotes."""
    claim = normalize(strip_markers(sentence)).rstrip(".")
    return any(claim and claim in normalize(q) for q in quotes)
