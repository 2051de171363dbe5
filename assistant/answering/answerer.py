"""From a question to a verified, cited answer, streamed sentence by sentence.

retrieve -> gather and score evidence sentences -> decide whether the sources answer at all
(and, when a judge model is configured, ask it too) -> number the chosen passages -> let the
model write (or quote, with no model) -> verify each sentence against the passages it cites
before it is shown -> renumber citations.

The model is never trusted with facts or citation ids: a sentence that fails verification is
dropped, a marker naming no passage is removed, and when nothing verified remains the answer
quotes the evidence verbatim. Generation also stops early once the model has produced two
unsupported sentences in a row: by then it is inventing, and waiting only adds latency.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import date

import numpy as np
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage

from assistant import citations
from assistant.answering import claims, compose, prompts
from assistant.answering.evidence import (
    Evidence,
    VectorCache,
    candidates_of,
    choose_evidence,
    gather_evidence,
    in_reading_order,
    rerank,
)
from assistant.answering.features import WordVectors
from assistant.answering.judge import Judge
from assistant.answering.judge import passages as judged_passages
from assistant.answering.questions import (
    Reading,
    asks_for_latest,
    is_small_talk,
    key_terms,
    proper_names,
    split_question,
    standalone_question,
)
from assistant.answering.reports import Vocabulary, named_documents, reading_for
from assistant.answering.scorer import Scorer, load_scorer, weights_path
from assistant.answering.verification import check_sentence
from assistant.config import Settings
from assistant.embeddings import Embedder
from assistant.llm import ChatBackend
from assistant.retrieval import ChunkFilter, HybridRetriever
from assistant.retrieval.word_vectors import lookup as word_lookup
from assistant.sentences import chunk_sentences
from assistant.text import normalize, split_sentences, terms
from assistant.types import (
    Answer,
    AnswerEvent,
    AnswerSentence,
    ChatTurn,
    Chunk,
    Citation,
    RetrievedChunk,
    SentenceEvent,
    SentenceOrigin,
    StatusEvent,
    StreamEvent,
    Timings,
)

log = logging.getLogger(__name__)

_MAX_UNSUPPORTED_IN_A_ROW = 2
# How many of the best sentences are searched for the list a list question asks for.
_LIST_SEARCH = 5
# How many sentences of each report a comparison shows.
_PER_REPORT = 2
# How each composed part is recorded: built sentences and quotes are claims that are checked;
# labels, the scope reply and refusals are the assistant's own words and state no fact.
_ORIGINS: dict[str, SentenceOrigin] = {
    "lead": "built",
    "quote": "evidence",
    "item": "evidence",
    "label": "assistant",
    "example": "assistant",
    "refusal": "refusal",
}


def _round_robin(per_part: Sequence[Sequence[Evidence]], limit: int) -> list[Evidence]:
    """Up to `limit` sentences taken in turn from each part's picks, so that every part gets
    its best sentence first; a sentence two parts share is taken once."""
    chosen: list[Evidence] = []
    for rank in range(limit):
        for picks in per_part:
            if (
                rank < len(picks)
                and len(chosen) < limit
                and picks[rank].text not in {c.text for c in chosen}
            ):
                chosen.append(picks[rank])
    return chosen


def _not_answered(selection: _Selection) -> list[compose.Part]:
    """A sentence for each part of the question the sources do not answer ("My sources don't
    say when the meeting was held."), after the parts they do."""
    return [
        compose.not_given(Reading.of(part), selection.evidence) for part in selection.unanswered
    ]


def _with_topic(reading: Reading, query: str, history: Sequence[ChatTurn]) -> Reading:
    """A follow-up ("When was it founded?") is about the previous question's subject: its
    names (or, without names, its key terms) join the terms the evidence must cover."""
    if query == reading.question or not history:
        return reading
    last_user = next((t.content for t in reversed(history) if t.role == "user"), "")
    topic = proper_names(last_user) or tuple(key_terms(last_user))
    extra = tuple(t for t in topic if t not in reading.terms)
    return replace(reading, terms=reading.terms + extra)


@dataclass(frozen=True)
class Passage:
    """An evidence sentence as numbered for the model."""

    n: int
    evidence: Evidence

    @property
    def quote(self) -> str:
        return self.evidence.text

    def label(self) -> str:
        chunk = self.evidence.chunk
        return f"{chunk.title}, {chunk.date.isoformat()}" if chunk.date else chunk.title

    def citation(self, n: int) -> Citation:
        chunk = self.evidence.chunk
        return Citation(
            n=n,
            chunk_id=chunk.chunk_id,
            source=chunk.source,
            title=chunk.title,
            date=chunk.date,
            kind=chunk.kind,
            page=chunk.page,
            quote=self.quote,
        )


@dataclass(frozen=True)
class _Asked:
    """What every answer to one question carries, whatever is said."""

    question: str
    standalone_question: str
    retrieved: tuple[RetrievedChunk, ...]


@dataclass(frozen=True)
class _Selection:
    """What retrieval and evidence selection decided for one question."""

    retrieved: list[RetrievedChunk]
    chosen: list[Evidence]
    evidence: list[Evidence]  # every candidate, best first (the nearest, for a refusal)
    answerable: bool
    answerability: float = 0.0
    set_values: np.ndarray | None = None  # of the most answerable part (for calibration)
    # For a comparison: each report's best sentences, searched within that report alone.
    reports: tuple[tuple[Evidence, ...], ...] = ()
    # Each part's answerability inputs and whether it names something the sources never
    # mention (declined whatever the model says): what calibration refits the model on.
    part_values: tuple[tuple[np.ndarray, bool], ...] = ()
    # Each answerable part of a question in two parts, with its own best sentences (what the
    # judge is shown for that part alone).
    part_picks: tuple[tuple[str, tuple[Evidence, ...]], ...] = ()
    # The parts of a question in two parts that the sources do not answer, as asked: the
    # answer gives the other part and says so, rather than passing over it in silence.
    unanswered: tuple[str, ...] = ()


class Answerer:
    """Answers questions over one retriever, with an optional chat backend."""

    def __init__(
        self,
        settings: Settings,
        retriever: HybridRetriever,
        embedder: Embedder,
        backend: ChatBackend | None,
        scorer: Scorer | None = None,
        judge: Judge | None = None,
    ) -> None:
        self.settings = settings
        self.retriever = retriever
        self.embedder = embedder
        self.backend = backend
        self.judge = judge
        late = settings.index.late_chunking
        self.scorer = scorer or load_scorer(weights_path(late=late))
        self.vectors = VectorCache.of(embedder, late=late)
        self._vocabularies: tuple[object, Vocabulary] | None = None

    def stream(self, question: str, history: Sequence[ChatTurn]) -> Iterator[StreamEvent]:
        started = time.perf_counter()
        yield StatusEvent(stage="retrieving")
        reading = Reading.of(question)
        query = standalone_question(question, history)
        if is_small_talk(
            reading, self._known, follow_up=query != question, tagger=claims.word_tags
        ):
            yield from self._said(
                _Asked(question, query, ()), compose.scope_reply(reading.language), started
            )
            return
        selection = self._select(question, query, reading, history)
        retrieve_ms = (time.perf_counter() - started) * 1000
        base = _Asked(question, query, tuple(selection.retrieved))

        if not selection.answerable:
            # Answerability 0 means below the floor: nothing retrieved is about the question.
            parts = compose.refusal(
                reading, selection.evidence, off_topic=selection.answerability <= 0.0
            )
            yield from self._said(base, parts, started, refused=True, retrieve_ms=retrieve_ms)
            return
        # Only what the fitted model decided is judged; the latest news (no parts, no model
        # values) is answered by date, whatever the question's words.
        if self.judge is not None and selection.part_values:
            yield StatusEvent(stage="judging")
            judged = self._judged(self.judge, query, selection)
            if judged is None:
                parts = compose.refusal(reading, selection.evidence)
                yield from self._said(base, parts, started, refused=True, retrieve_ms=retrieve_ms)
                return
            selection = judged

        chosen = selection.chosen
        if not self.backend:
            yield StatusEvent(stage="quoting")
            parts = self._plan(reading, selection, query) + _not_answered(selection)
            yield from self._said(base, parts, started, retrieve_ms=retrieve_ms)
            return

        passages = [Passage(n=i + 1, evidence=e) for i, e in enumerate(chosen)]
        yield StatusEvent(stage="generating")
        generate_started = time.perf_counter()
        first_token_ms: float | None = None
        shown: list[tuple[AnswerSentence, list[Passage]]] = []
        mapping: dict[int, int] = {}
        for sentence, cited in self._generated(question, passages):
            shown.append((sentence, cited))
            if first_token_ms is None:
                first_token_ms = (time.perf_counter() - started) * 1000
            yield self._event(sentence, cited, mapping, first=len(shown) == 1)
        # The best evidence is always in the answer: quoted when no verified sentence cites
        # it (a small model's verified sentence can be true and still miss the point), and
        # all of the chosen evidence is quoted when nothing the model wrote survived.
        cited_numbers = {p.n for _, cited in shown for p in cited}
        quotes = self._quoted(passages) if not shown else self._quoted(passages[:1])
        for sentence, cited in quotes:
            if cited[0].n in cited_numbers:
                continue
            shown.append((sentence, cited))
            if first_token_ms is None:
                first_token_ms = (time.perf_counter() - started) * 1000
            yield self._event(sentence, cited, mapping, first=len(shown) == 1)
        for part in _not_answered(selection):
            sentence = AnswerSentence(text=part.text, verified=True, origin="refusal")
            shown.append((sentence, []))
            yield self._event(sentence, [], mapping, first=False)

        used = [p for _, cited in shown for p in cited]
        order = citations.renumbering(p.n for p in used)
        by_number = {p.n: p for p in used}
        final_citations = [by_number[old].citation(new) for old, new in order.items()]
        final_sentences = [
            s.model_copy(update={"citations": tuple(order[p.n] for p in cited)})
            for s, cited in shown
        ]
        now = time.perf_counter()
        yield AnswerEvent(
            answer=self._answer(
                base,
                final_sentences,
                final_citations,
                refused=False,
                timings=Timings(
                    retrieve_ms=retrieve_ms,
                    generate_ms=(now - generate_started) * 1000,
                    total_ms=(now - started) * 1000,
                    first_token_ms=first_token_ms,
                ),
            )
        )

    def _document(self, doc_id: str) -> list[Chunk]:
        """Every chunk of one document, from the store's contents (for a list that runs on)."""
        return self.retriever.lexical_index().document_chunks(doc_id)

    def _known(self, term: str) -> bool:
        """Whether the indexed sources use a term at all (an unseen term has the top IDF)."""
        index = self.retriever.lexical_index()
        return index.idf(term) < index.idf("\x00")

    def _plan(self, reading: Reading, selection: _Selection, query: str = "") -> list[compose.Part]:
        """The extractive answer: a lead sentence naming the thing asked for, then the
        supporting quotes; the whole list for a list question; each report's claim side by
        side for a comparison."""
        if len(selection.reports) >= 2:
            return compose.side_by_side(reading, selection.reports)
        chosen = selection.chosen
        best = chosen[0]
        if reading.wants_list:
            # The list may hang off another of the best sentences than the very best.
            items: list[Evidence] = []
            for candidate in [*chosen, *selection.evidence[:_LIST_SEARCH]]:
                items = compose.list_items(
                    candidate, selection.evidence, self._document(candidate.chunk.doc_id)
                )
                if items:
                    best = candidate
                    break
            if items:
                lead = [e for e in chosen if e.chunk.doc_id == best.chunk.doc_id][:1]
                intro = self._intro_of(best, items)
                head = [compose.Part(intro.text, (intro,), "quote")] if intro else []
                if not head and lead and lead[0] not in items:
                    head = [compose.Part(lead[0].text, (lead[0],), "quote")]
                return head + [compose.Part(e.text, (e,), "item") for e in items]
        if reading.compares:
            side_by_side = compose.comparison(reading, chosen, selection.evidence)
            if side_by_side:
                return side_by_side
        parts: list[compose.Part] = []
        # A follow-up's lead names something new to the conversation, not to the question
        # alone: the names of the earlier turns (in the standalone query) are no answer.
        lead_reading = replace(reading, question=query) if query else reading
        lead_part = compose.lead_sentence(lead_reading, chosen, selection.evidence)
        if lead_part is not None and self._supported(lead_part):
            parts.append(lead_part)
        limit = self.settings.answer.max_sentences
        return (
            parts + [compose.Part(e.text, (e,), "quote") for e in in_reading_order(chosen)][:limit]
        )

    @staticmethod
    def _intro_of(best: Evidence, items: Sequence[Evidence]) -> Evidence | None:
        """The sentence that introduces a list ("The tasks are the following:"), if any."""
        first = items[0]
        if first.index == 0:
            return None
        spans = chunk_sentences(first.chunk)
        span = spans[first.index - 1]
        if not span.text.rstrip().endswith(":"):
            return None
        return Evidence(
            chunk=first.chunk, span=span, rank=best.rank, score=best.score, index=first.index - 1
        )

    def _supported(self, part: compose.Part) -> bool:
        return check_sentence(part.text, [e.text for e in part.evidence], self.embedder).supported

    def _said(
        self,
        base: _Asked,
        parts: Sequence[compose.Part],
        started: float,
        *,
        refused: bool = False,
        retrieve_ms: float = 0.0,
    ) -> Iterator[StreamEvent]:
        """Stream composed parts as sentences, numbering the evidence they cite in order."""
        numbers: dict[int, int] = {}
        passages: list[Passage] = []
        sentences: list[AnswerSentence] = []
        pieces: list[str] = []
        first_ms: float | None = None
        parts_kinds: list[str] = []
        for part in parts:
            cited: list[int] = []
            for e in part.evidence:
                key = id(e)
                if key not in numbers:
                    numbers[key] = len(numbers) + 1
                    passages.append(Passage(n=numbers[key], evidence=e))
                cited.append(numbers[key])
            sentence = AnswerSentence(
                text=part.text,
                citations=tuple(cited),
                verified=True,
                origin=_ORIGINS[part.kind],
            )
            shown = citations.with_markers(part.text, cited)
            if part.kind in ("item", "example"):
                bullet = "" if compose.is_list_item(part.text) else "- "
                text = f"\n{bullet}{shown}" if pieces else f"{bullet}{shown}"
            elif parts_kinds and parts_kinds[-1] in ("item", "example"):
                text = f"\n\n{shown}"
            else:
                text = f" {shown}" if pieces else shown
            pieces.append(text)
            sentences.append(sentence)
            parts_kinds.append(part.kind)
            if first_ms is None:
                first_ms = (time.perf_counter() - started) * 1000
            yield SentenceEvent(sentence=sentence, text=text)
        now = time.perf_counter()
        final_citations = [p.citation(p.n) for p in passages]
        yield AnswerEvent(
            answer=Answer(
                question=base.question,
                standalone_question=base.standalone_question,
                text="".join(pieces),
                refused=refused,
                sentences=tuple(sentences),
                citations=tuple(final_citations),
                retrieved=base.retrieved,
                timings=Timings(
                    retrieve_ms=retrieve_ms or (now - started) * 1000,
                    generate_ms=0.0,
                    total_ms=(now - started) * 1000,
                    first_token_ms=first_ms,
                ),
                backend=self.backend.name if self.backend else "extractive",
            )
        )

    def _select(
        self, question: str, query: str, reading: Reading, history: Sequence[ChatTurn]
    ) -> _Selection:
        """Retrieve, score the evidence and choose what to cite, one part of the question at
        a time when it asks two things ("Who wrote X, and when was it published?")."""
        top_k = self.settings.retrieval.top_k
        limit = self.settings.answer.max_passages
        if asks_for_latest(question):
            return self._latest(query)
        parts = split_question(question)
        # Twice the passages are read for evidence; the best sentences then rerank them.
        candidates = self.retriever.retrieve(query, k=top_k * 2)
        if len(parts) > 1:
            seen = {hit.chunk.chunk_id for hit in candidates}
            for part in parts:
                for hit in self.retriever.retrieve(f"{part} ({query})", k=top_k):
                    if hit.chunk.chunk_id not in seen:
                        seen.add(hit.chunk.chunk_id)
                        candidates.append(hit)
        self._load_sentence_vectors(candidates)
        idf = self.retriever.lexical_index().idf
        all_evidence: list[Evidence] = []
        per_part: list[tuple[str, list[Evidence]]] = []
        unanswered: list[str] = []
        answerable = False
        probability = 0.0
        values: np.ndarray | None = None
        part_values: list[tuple[np.ndarray, bool]] = []
        for part in parts:
            part_reading = reading if len(parts) == 1 else Reading.of(part)
            part_reading = _with_topic(part_reading, query, history)
            part_query = query if len(parts) == 1 else f"{part} ({query})"
            scored = gather_evidence(
                part_reading,
                part_query,
                candidates,
                vectors=self.vectors,
                idf=idf,
                scorer=self.scorer,
                known=self._known,
                crosslingual=self._crosslingual(),
                crosslingual_words=self._crosslingual_words(),
                word_vectors=self._word_vectors(),
            )
            if scored.set_values is not None:
                part_values.append((scored.set_values, scored.unknown))
            all_evidence.extend(scored.evidence)
            if values is None or scored.answerability > probability:
                values = scored.set_values
            probability = max(probability, scored.answerability)
            if scored.answerable:
                answerable = True
                picks = choose_evidence(
                    scored.evidence, limit, self.scorer.gap, spread=reading.compares
                )
                per_part.append((standalone_question(part, history), picks))
            elif len(parts) > 1:
                unanswered.append(part)
        all_evidence.sort(key=lambda e: -e.score)
        reports = self._reports(reading, question, all_evidence, idf) if answerable else ()
        chosen = _round_robin([picks for _, picks in per_part], limit)
        if reports:
            chosen = [e for report in reports for e in report][:limit]
        return _Selection(
            rerank(candidates, all_evidence)[:top_k],
            chosen,
            all_evidence,
            answerable and bool(chosen),
            probability,
            values,
            reports,
            tuple(part_values),
            tuple((part, tuple(picks)) for part, picks in per_part) if len(parts) > 1 else (),
            tuple(unanswered) if per_part and not reports else (),
        )

    def _judged(self, judge: Judge, query: str, selection: _Selection) -> _Selection | None:
        """The selection with only what the judge accepts, or None when it accepts nothing.

        A question in two parts is judged part by part, each with its own sentences (only the
        parts the fitted model answers): asked as one, a judge declines the whole answer when
        the sources give only one part, and lets a part through on the strength of the other.
        A comparison is one question."""
        if not selection.part_picks or selection.reports:
            if judge.declines(query, judged_passages(selection.chosen)):
                return None
            return selection
        kept: list[tuple[Evidence, ...]] = []
        declined: list[str] = []
        for part, picks in selection.part_picks:
            if judge.declines(part, judged_passages(picks)):
                declined.append(part)
            else:
                kept.append(picks)
        if not kept:
            return None
        return replace(
            selection,
            chosen=_round_robin(kept, self.settings.answer.max_passages),
            unanswered=(*selection.unanswered, *declined),
        )

    def _crosslingual(self) -> Callable[[str, Sequence[str]], np.ndarray] | None:
        """The multilingual encoder's cosines, when the retriever has one (for questions
        the English embedding model cannot read)."""
        scorer = getattr(self.retriever, "crosslingual", None)
        if scorer is None:
            return None
        return scorer.similarities  # type: ignore[no-any-return]

    def _word_vectors(self) -> WordVectors:
        """Single-word vectors for soft coverage: the corpus word table's rows (made at
        indexing, the same vectors), and the embedder for any word it lacks."""
        return word_lookup(self.retriever.word_table(), self.vectors)

    def _crosslingual_words(self) -> Callable[[Sequence[str]], np.ndarray] | None:
        """The multilingual encoder's single-word vectors, when the retriever has it."""
        scorer = getattr(self.retriever, "crosslingual", None)
        if scorer is None:
            return None
        return scorer.word_vectors  # type: ignore[no-any-return]

    def _load_sentence_vectors(self, hits: Sequence[RetrievedChunk]) -> None:
        """Put the vectors the indexer stored for these chunks' sentences in the cache that
        evidence scoring reads; for chunks of an older index (or one written without them)
        the cache pools them by the indexer's own function (`VectorCache.of`)."""
        self.vectors.remember(self.retriever.store.sentence_vectors([h.chunk for h in hits]))

    def _vocabulary(self) -> Vocabulary:
        """The documents' vocabularies, rebuilt when the index changes."""
        index = self.retriever.lexical_index()
        cached = self._vocabularies
        if cached is None or cached[0] is not index:
            cached = (index, Vocabulary.of(index.chunks))
            self._vocabularies = cached
        return cached[1]

    def _reports(
        self,
        reading: Reading,
        question: str,
        evidence: Sequence[Evidence],
        idf: Callable[[str], float],
    ) -> tuple[tuple[Evidence, ...], ...]:
        """For a question that sets two reports side by side, each report's best sentences,
        searched within that report alone; () for any other question.

        A comparison is told by its grammar ("compare", "differ", "both", "the two reports")
        or by naming two documents in one question joined by a conjunction; the reports are
        the two it names, or else the two whose sentences score best."""
        vocabulary = self._vocabulary()
        named = named_documents(reading, vocabulary, idf)
        if not (reading.compares or (len(named) >= 2 and reading.conjoined)):
            return ()
        docs = named[:2]
        for e in evidence:
            if len(docs) >= 2:
                break
            if e.chunk.doc_id not in docs:
                docs.append(e.chunk.doc_id)
        if len(docs) < 2:
            return ()
        reports: list[tuple[Evidence, ...]] = []
        for doc in docs:
            hits = [RetrievedChunk(chunk=c, score=0.0) for c in self._document(doc)]
            self._load_sentence_vectors(hits)
            scored = gather_evidence(
                reading_for(reading, doc, vocabulary, [d for d in docs if d != doc]),
                question,
                hits,
                vectors=self.vectors,
                idf=idf,
                scorer=self.scorer,
                word_vectors=self._word_vectors(),
            )
            best = scored.evidence[:_PER_REPORT]
            if not best:
                return ()
            # Two sentences each: a comparison often has no one fact to rank by.
            reports.append(tuple(best))
        return tuple(reports)

    def _latest(self, query: str) -> _Selection:
        """For "what is the latest news ...": the opening sentence of each of the newest news
        documents among those retrieved, newest first (dates are stored, so they sort)."""
        top_k = self.settings.retrieval.top_k
        hits = self.retriever.retrieve(query, k=top_k * 4, where=ChunkFilter(kind="news"))
        dated = sorted(
            (h for h in hits if h.chunk.date), key=lambda h: h.chunk.date or date.min, reverse=True
        )
        if not dated:
            return _Selection(hits[:top_k], [], [], False)
        chosen: list[Evidence] = []
        for hit in dated:
            if len(chosen) >= min(3, self.settings.answer.max_passages):
                break
            if any(c.chunk.doc_id == hit.chunk.doc_id for c in chosen):
                continue
            # A news item is told by its headline and lead, at the start of the document.
            opening = self.retriever.opening_chunk(hit.chunk.doc_id) or hit.chunk
            lead = candidates_of([RetrievedChunk(chunk=opening, score=hit.score)], headings=True)
            if lead:
                # The headline: the opening line that says most of what the title says.
                title = set(terms(opening.title))
                chosen.append(max(lead, key=lambda pair: len(title & set(terms(pair[0].text))))[0])
        return _Selection(dated[:top_k], chosen, chosen, bool(chosen), 1.0 if chosen else 0.0)

    def _event(
        self,
        sentence: AnswerSentence,
        cited: Sequence[Passage],
        mapping: dict[int, int],
        *,
        first: bool,
    ) -> SentenceEvent:
        """A sentence event whose markers already carry the final (renumbered) citations."""
        numbers = [mapping.setdefault(p.n, len(mapping) + 1) for p in cited]
        shown = sentence.model_copy(update={"citations": tuple(numbers)})
        text = citations.with_markers(sentence.text, numbers)
        return SentenceEvent(sentence=shown, text=text if first else f" {text}")

    def _answer(
        self,
        base: _Asked,
        sentences: Sequence[AnswerSentence],
        cited: Sequence[Citation],
        *,
        refused: bool,
        timings: Timings,
    ) -> Answer:
        text = " ".join(citations.with_markers(s.text, list(s.citations)) for s in sentences)
        return Answer(
            question=base.question,
            standalone_question=base.standalone_question,
            text=text,
            refused=refused,
            sentences=tuple(sentences),
            citations=tuple(cited),
            retrieved=base.retrieved,
            timings=timings,
            backend=self.backend.name if self.backend else "extractive",
        )

    def _quoted(
        self, passages: Sequence[Passage]
    ) -> Iterator[tuple[AnswerSentence, list[Passage]]]:
        """The evidence itself, verbatim: the answer when there is no model or it failed.
        Sentences of one document keep the document's order, so list items read in sequence."""
        picked = list(passages[: self.settings.answer.max_sentences])
        first_seen = {p.evidence.chunk.doc_id: i for i, p in reversed(list(enumerate(picked)))}
        picked.sort(
            key=lambda p: (
                first_seen[p.evidence.chunk.doc_id],
                p.evidence.chunk.start + p.evidence.span.start,
            )
        )
        for passage in picked:
            yield AnswerSentence(text=passage.quote, verified=True, origin="evidence"), [passage]

    def _messages(self, question: str, passages: Sequence[Passage]) -> list[BaseMessage]:
        listing = "\n".join(
            prompts.PASSAGE.format(n=p.n, source_label=p.label(), text=p.quote) for p in passages
        )
        system = prompts.SYSTEM.format(
            refusal=prompts.NOT_IN_SOURCES, max_sentences=self.settings.answer.max_sentences
        )
        return [
            SystemMessage(content=system),
            HumanMessage(content=prompts.USER.format(passages=listing, question=question)),
        ]

    def _generated(
        self, question: str, passages: Sequence[Passage]
    ) -> Iterator[tuple[AnswerSentence, list[Passage]]]:
        """Verified sentences of the model's answer, as soon as each one is complete."""
        assert self.backend is not None
        by_number = {p.n: p for p in passages}
        labels = {p.label() for p in passages}
        buffer = ""
        emitted: list[str] = []
        unsupported_in_a_row = 0
        limit = self.settings.answer.max_sentences

        def settle(text: str) -> tuple[AnswerSentence, list[Passage]] | None:
            nonlocal unsupported_in_a_row
            for said, cited_numbers in citations.split_cited_sentences(text):
                sentence = without_echoed_label(said, labels)
                verdict = self._verify(sentence, cited_numbers, by_number)
                key = normalize(sentence)
                if verdict is None or key in emitted:
                    unsupported_in_a_row += 1
                    log.debug("dropped unsupported or repeated sentence: %r", sentence)
                    continue
                unsupported_in_a_row = 0
                emitted.append(key)
                return verdict
            return None

        for piece in self.backend.stream(self._messages(question, passages)):
            buffer += piece
            if prompts.NOT_IN_SOURCES.lower() in buffer.lower():
                return
            spans = split_sentences(buffer)
            # The last span may still be growing; everything before it is complete.
            while len(spans) > 1:
                complete, buffer = buffer[: spans[1].start], buffer[spans[1].start :]
                result = settle(complete)
                if result:
                    yield result
                if len(emitted) >= limit or unsupported_in_a_row >= _MAX_UNSUPPORTED_IN_A_ROW:
                    return
                spans = split_sentences(buffer)
        if buffer.strip() and len(emitted) < limit:
            result = settle(buffer)
            if result:
                yield result

    def _verify(
        self, sentence: str, cited_numbers: Sequence[int], by_number: dict[int, Passage]
    ) -> tuple[AnswerSentence, list[Passage]] | None:
        """The sentence with the passages that support it, or None if none does."""
        cited = [by_number[n] for n in citations.valid_markers(cited_numbers, list(by_number))]
        if (
            cited
            and check_sentence(
                sentence,
                [p.quote for p in cited],
                self.embedder,
                titles=[p.evidence.chunk.title for p in cited],
            ).supported
        ):
            return AnswerSentence(text=sentence, verified=True, origin="generated"), cited
        # The model's markers are hints; a sentence backed by a passage it forgot to cite
        # keeps that passage.
        for passage in by_number.values():
            if passage in cited:
                continue
            if check_sentence(
                sentence, [passage.quote], self.embedder, titles=[passage.evidence.chunk.title]
            ).supported:
                return AnswerSentence(text=sentence, verified=True, origin="generated"), [passage]
        return None


def without_echoed_label(sentence: str, labels: set[str]) -> str:
    """`sentence` without a leading "(source label)" copied from the passage listing: models
    echo the prompt's `[n] (title, date) text` shape, whole or in part, and the label is the
    citation's job, not a claim to verify or show."""
    stripped = sentence.lstrip()
    for label in labels:  # whole (a title may hold parentheses of its own)
        if stripped.startswith(f"({label})"):
            return stripped[len(label) + 2 :].lstrip(" :-\u2014")
    match = _LEADING_PARENTHESIS_RE.match(sentence)
    if not match:
        return sentence
    pieces = [p.strip() for p in match.group(1).split(",") if p.strip()]
    if pieces and all(any(piece in label for label in labels) for piece in pieces):
        return sentence[match.end() :].lstrip(" :-\u2014")
    return sentence


_LEADING_PARENTHESIS_RE = re.compile(r"\s*\(([^()]{1,300})\)")


def retrieved_for_display(retrieved: Sequence[RetrievedChunk]) -> list[dict[str, object]]:
    """The retrieved chunks as plain dictionaries (for JSON output)."""
    return [
        {
            "chunk_id": r.chunk.chunk_id,
            "source": r.chunk.source,
            "score": round(r.score, 6),
            "text": r.chunk.text,
        }
        for r in retrieved
    ]
