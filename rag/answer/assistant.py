"""Question in, Answer out: retrieval, then an extractive or LLM answer, then verification.

Every front end (CLI, chat, UI, evaluation) goes through `Assistant.ask`, so they all give
the same answers with the same guarantees: each citation's quote is the exact text at its
offsets in the cleaned document, and when the evidence is too weak the assistant abstains
and shows the closest passages instead.
"""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from rag.answer import reader as reader_weights
from rag.answer.extractive import SUPPORT_THRESHOLD, Extract, best_extract, supporting_extract, trim
from rag.answer.language.details import Vocabulary, missing_details, numbers_missing_near, respelled
from rag.answer.language.polarity import contradicts, opposed
from rag.answer.claims import claim_verifier
from rag.answer.condense import acceptable_rewrite
from rag.answer.llm import Fallback, LLMGenerator
from rag.answer.news import (Conflict, conflicting_figures, date_bounds, metadata_question, metadata_topic, reported,
                            time_order)
from rag.answer.notices import nothing_found
from rag.answer.questions import is_follow_up, standalone, validate
from rag.answer.reading import ReadSpan, is_yes_no, read_passages, sentences_holding
from rag.answer.span_reader import SpanReader, load_reader
from rag.answer.language.spans import answer_span
from rag.answer.types import ABSTAIN_TEXT, Answer, AnswerSpan, Citation, dated, listed
from rag.retrieve.hybrid import Retriever
from rag.retrieve.passage import Passage
from rag.retrieve.rerank import Reranker
from rag.store.base import DocumentFilter, Store, StoredDocument
from rag.store.factory import open_store

#: The hand-written abstention rules that still add with the reader: also abstain when one flags
#: its sentence (a number the question gives is not near it, it asserts what the question negates,
#: or says the opposite). Measured by bench/reader_open_corpus.py --calibrate --variants on the
#: held-out training articles: with these, about +0.03 abstention at the same answered rate and F1.
#: "missing_detail" (a name or number the article never mentions) is left out: alone it added 0.006
#: abstention for 0.011 fewer answers, and it refuses paraphrases ("HM" for "Her Majesty's"); the
#: whole rule-based answerer as a veto (lexical support, answer types) lowered F1 by 0.013.
RULES_VETO: "bool | frozenset[str]" = frozenset({"number_far", "contradicts", "opposed"})
#: How many of the top passages the reader reads (its cost grows with each; bench/reader_open_corpus.py).
READ_PASSAGES = 3
#: Characters of each passage's own paragraph the reader also reads either side (whole sentences;
#: 300 raised held-out F1 0.495 -> 0.514 at the same answered rate, bench/reader_open_corpus.py).
READ_CONTEXT = 300
#: A dated article's answer is preferred for "latest" questions if it scores within this of the best.
DATE_PREFERENCE_MARGIN = 0.2
#: How far around a passage a long document is read for the details a question names.
VOCABULARY_REACH = 50_000
VOCABULARIES_KEPT = 64


@dataclass
class Conversation:
    """What a chat remembers: the previous standalone question."""
    questions: list[str] = field(default_factory=list)

    @property
    def previous(self) -> str | None:
        return self.questions[-1] if self.questions else None


class Assistant:
    """Answers questions over one index. Load once, ask many times."""

    def __init__(
        self,
        index_dir: Path | str,
        *,
        mode: str = "hybrid",
        k: int = 5,
        embedder_spec: str | None = None,
        llm: str | None = None,
        reranker: str | None = None,
        support_threshold: float = SUPPORT_THRESHOLD,
        where: DocumentFilter | None = None,
        reader: "reader_weights.ReaderWeights | None | str" = "fitted",
        span_reader: SpanReader | str | None = None,
        rules_veto: "bool | frozenset[str] | None" = None,
        read_passages: int | None = None,
    ) -> None:
        self.store: Store = open_store(index_dir)
        rerank_model = None
        if reranker:
            rerank_model = Reranker(reranker)
        self.retriever = Retriever(self.store, mode, reranker=rerank_model, embedder_spec=embedder_spec)
        self.k = k
        self.where = where
        self.support_threshold = support_threshold
        self.generator = None
        if llm:
            self.generator = LLMGenerator(llm)
        # With an embedder that knows meaning, sentences are also compared with the question by
        # cosine, and a fitted classifier decides abstention (rag.answer.reader); with the
        # offline one, or in lexical mode, the lexical rules and the threshold decide alone.
        self.sentence_vectors = self.retriever.sentence_vectors
        if reader == "fitted":
            reader = reader_weights.load() if self.sentence_vectors is not None else None
        self.reader = reader if isinstance(reader, reader_weights.ReaderWeights) else None
        # The trained reader (rag.answer.span_reader) chooses the short answer and decides
        # abstention; None (`--reader off`) leaves both to the hand-written rules.
        self.span_reader = span_reader if isinstance(span_reader, SpanReader) else load_reader(span_reader)
        if self.generator is not None:  # the reader may check the model's claims too (RAG_CLAIM_VERIFIER)
            self.generator.verifier = claim_verifier(self.span_reader)
        #: Also abstain when the hand-written rules would (measured by bench/calibrate_reader.py).
        #: True: abstain when the whole rule-based answerer would; a set of rule names: when one of
        #: those rules flags the reader's sentence.
        self.rules_veto = RULES_VETO if rules_veto is None else rules_veto
        self.read_passages = READ_PASSAGES if read_passages is None else read_passages
        self.last_read: ReadSpan | None = None
        self.last_shown: list[Passage] = []  # the passages the reader read for the last question
        self.last_extract: Extract | None = None
        self._texts: dict[int, str] = {}
        self._groups: dict[int, list[StoredDocument]] | None = None
        self._outlets: frozenset[str] | None = None
        self._documents: list[StoredDocument] | None = None
        self._vocabularies: OrderedDict[tuple[int, int], Vocabulary] = OrderedDict()

    @property
    def embedder_id(self) -> str:
        return self.store.settings.embedder_id

    @property
    def retrieval_mode(self) -> str:
        return self.retriever.mode

    @property
    def reader_name(self) -> str:
        return self.span_reader.name if self.span_reader else "off"

    @property
    def reader_info(self) -> dict[str, object] | None:
        return self.span_reader.describe() if self.span_reader else None

    @property
    def generator_name(self) -> str:
        return self.generator.name if self.generator else "extractive"

    def document_text(self, document_id: int) -> str:
        if document_id not in self._texts:
            self._texts[document_id] = self.store.document_text(document_id)
        return self._texts[document_id]

    def vocabulary(self, document_id: int, near: int) -> Vocabulary:
        """The terms of the article around offset `near`, with its title and outlet: where a
        detail the question names may sit. An article is read whole; in a document longer than
        twice VOCABULARY_REACH (a book, a dump of many stories) only about that far either side
        of `near`, so one question never reads a 50 MB document through."""
        text = self.document_text(document_id)
        whole = len(text) <= 2 * VOCABULARY_REACH
        bucket = -1 if whole else near // VOCABULARY_REACH
        key = (document_id, bucket)
        if key not in self._vocabularies:
            doc = self.store.document(document_id)
            reach = VOCABULARY_REACH
            window = text if whole else text[max(0, (bucket - 1) * reach) : (bucket + 2) * reach]
            self._vocabularies[key] = Vocabulary(f"{doc.title}\n{doc.outlet or ''}\n{window}")
            while len(self._vocabularies) > VOCABULARIES_KEPT:
                self._vocabularies.popitem(last=False)
        self._vocabularies.move_to_end(key)
        return self._vocabularies[key]

    def cite(self, n: int, passage: Passage, start: int, end: int) -> Citation | None:
        """A citation for document_text[start:end] (offsets into the whole cleaned article).

        Kept only if the passage it was found through matches the stored article at its
        offsets, so a quote can never come from a stale or mismatched chunk.
        """
        text = self.document_text(passage.document_id)
        quote = text[start:end]
        if not quote.strip() or text[passage.start : passage.end] != passage.text:
            return None
        doc = self.store.document(passage.document_id)
        return Citation(n, passage.chunk_id, passage.source, passage.title, start, end, quote,
                        published=doc.published, outlet=doc.outlet, authors=doc.authors, url=doc.url,
                        also_published_by=self._copies_of(doc))

    @property
    def outlets(self) -> frozenset[str]:
        """The outlets the indexed articles come from (so "When did the Courier report ...?" is
        known to ask about a report's date)."""
        if self._outlets is None:
            self._outlets = frozenset(d.outlet for d in self._all_documents() if d.outlet)
        return self._outlets

    def _all_documents(self) -> list[StoredDocument]:
        """Every document record, read once per assistant (a Milvus read is a full scan)."""
        if self._documents is None:
            self._documents = list(self.store.documents().values())
        return self._documents

    def _copies_of(self, doc: StoredDocument) -> tuple[str, ...]:
        """Who else carried the article's story: the outlets (or file names) of its syndication group."""
        if doc.group is None:
            return ()
        if self._groups is None:
            self._groups = {}
            for other in self._all_documents():
                if other.group is not None:
                    self._groups.setdefault(other.group, []).append(other)
        names = [o.outlet or Path(o.source).name for o in self._groups.get(doc.group, []) if o.id != doc.id]
        return tuple(dict.fromkeys(n for n in names if n != doc.outlet))

    def ask(
        self, question: str, conversation: Conversation | None = None, k: int | None = None,
        where: DocumentFilter | None = None,
    ) -> Answer:
        return _last(self.ask_stream(question, conversation, k, where))

    def ask_stream(
        self, question: str, conversation: Conversation | None = None, k: int | None = None,
        where: DocumentFilter | None = None,
    ) -> Iterator[str | Answer]:
        """Yield answer text as it is produced (tokens with an LLM), then the final Answer.

        `where` limits the articles drawn on (dates, outlets, sources); default: the
        assistant's own filter, if it was opened with one."""
        started = time.perf_counter()
        question = validate(question)
        previous = conversation.previous if conversation else None
        if self.generator is not None and previous and is_follow_up(question):
            rewritten = self.generator.condense(question, previous)
            # The model's rewrite only if it is still the question asked (rag.answer.condense).
            query = rewritten if acceptable_rewrite(question, previous, rewritten) else standalone(question, previous)
        else:
            query = standalone(question, previous)
        if conversation is not None:
            conversation.questions.append(query)
        frequencies = self.store.memoised_frequencies()
        where = where if where is not None else self.where
        since, until, query = date_bounds(query)  # "As of 13 February 2024, ...": what was published by then
        if since or until:
            where = _narrowed(where or DocumentFilter(), since, until)
        retrieval = self.retriever.search(query, k or self.k, frequencies, where)
        timings = dict(retrieval.timings_ms)
        passages = retrieval.passages
        t = time.perf_counter()
        answer: Answer | None = None
        fallback: Fallback | None = None
        streamed = False
        if self.generator is not None and passages:
            for item in self.generator.generate(query, passages, self):
                if isinstance(item, str):
                    streamed = True
                    yield item
                elif isinstance(item, Fallback):
                    fallback = item
                else:
                    answer = item
        if answer is None:
            answer = self._extractive(query, passages, frequencies, retrieval.query_vector)
            if self.generator is not None:
                # The answer shown is the extractive one: labelled so, with why the model's is not.
                answer.generator = f"extractive (fallback from {self.generator.name})" if fallback else "extractive"
                answer.fallback_reason = fallback.reason if fallback else None
            if not streamed:  # after streamed tokens the fallback comes only in the Answer, never glued on
                yield answer.answer
        timings["answer"] = (time.perf_counter() - t) * 1000
        timings["total"] = (time.perf_counter() - started) * 1000
        answer.question = question
        answer.reader = self.reader_info
        answer.timings_ms = timings
        answer.filters = where.to_json() if where else None
        if not passages:  # say why: an empty index, or a filter that admits no article
            answer.notice = nothing_found(self.store, where)
        yield answer

    def meaning(self, query_vector: object, passages: Sequence[Passage] = ()) -> "Callable[[list[str]], list[float]] | None":
        """Cosines of the question (its vector) with sentences, or None without a semantic
        embedder; the passages' stored sentence vectors are read first."""
        vectors = self.sentence_vectors
        if vectors is None or query_vector is None:
            return None
        vectors.warm(self.store, passages)
        return lambda texts: vectors.similarities(query_vector, texts)  # type: ignore[arg-type]

    def extract(self, query: str, passages: list[Passage], frequencies: Callable[[Sequence[str]], dict[str, int]],
                query_vector: object = None) -> tuple[Extract | None, float, bool]:
        """The best span, its support (the classifier's probability when one decides) and
        whether it answers."""
        # Sentence cosines are read from the store (stored at ingest); only the reader uses them.
        meaning = self.meaning(query_vector, passages) if self.reader is not None else None
        weights = self.reader if meaning is not None else None
        best = best_extract(query, passages, frequencies, self.store.n_chunks, self, meaning=meaning,
                            meaning_weight=weights.meaning_weight if weights else 0.0,
                            rules=weights.rules if weights else None)
        if best is None:
            return None, 0.0, False
        if weights is not None and weights.abstention == "classifier":
            p = weights.probability(best.features)
            return best, p, p >= weights.threshold
        return best, best.support, best.support >= self.support_threshold

    def _extractive(
        self, query: str, passages: list[Passage], frequencies: Callable[[Sequence[str]], dict[str, int]],
        query_vector: object = None,
    ) -> Answer:
        order = time_order(query)
        asked = metadata_question(query, self.outlets)
        if self.span_reader is not None and not order and not asked:
            return self._read(query, passages, frequencies, query_vector)
        # About the report itself: the sentence to cite is the one that matches the piece asked
        # about (its metadata answers), not one that holds a date or a name.
        best, support, answers = self.extract(metadata_topic(query) if asked else query, passages, frequencies,
                                              query_vector)
        dated = self._by_date(query, passages, frequencies, order) if order else None
        if dated is not None:  # "the latest figure": the newest dated article that answers as well
            best, support, answers = dated, dated.support, True
        self.last_extract = best  # what bench/fit_reader.py reads the features from
        citations: list[Citation] = []
        conflicts: list[Conflict] = []
        extra = None
        if best is not None and answers:
            start, end = trim(best.text, best.start, best.end, query)
            first = self.cite(1, best.passage, start, end)
            if first is not None:
                citations.append(first)
                conflicts = conflicting_figures(query, first.quote, best.passage.document_id, passages,
                                                self.document_text)
                extra = None if conflicts else supporting_extract(query, best, passages, frequencies, self.store.n_chunks)
                self._cite_further(citations, extra, conflicts, lambda text, a, b: trim(text, a, b, query))
                if order and len(citations) > 1 and conflicts:
                    citations = _by_publication(citations, newest_first=order == "latest")
        span = None
        if best is not None and citations and not conflicts:
            documents = [best.passage.document_id] + ([extra.passage.document_id] if extra is not None else [])
            span = self.span(query, list(zip(citations, documents)))
        if asked and citations:
            lead = _metadata_lead(asked, citations[0], plural=bool(re.search(r"\b(?:outlets|papers|newspapers)\b", query)))
            if lead is None:  # the article does not say when, where or by whom: never guessed
                return self.answer_from(query, passages, [], support)
            citations = citations[:1]
            return self.answer_from(query, passages, citations, support, f"{lead}: {citations[0].quote} [1]")
        differ = len(citations) > 1 and bool(conflicts)
        answer = self.answer_from(query, passages, citations, support,
                                  _news_text(citations, differ=differ, order=order, span=span), span=span)
        answer.disagreement = differ
        return answer

    def _read(
        self, query: str, passages: list[Passage], frequencies: Callable[[Sequence[str]], dict[str, int]],
        query_vector: object = None,
    ) -> Answer:
        """The reader's answer: its span leads, the whole sentence that holds it is quoted, and
        other articles' different figures for the same thing are shown beside it."""
        shown = passages[: self.read_passages]
        # The reader sees names as the articles spell them; the rules' checks keep the question as typed.
        spelled = respelled(query, " ".join(p.text for p in shown))
        read = read_passages(self.span_reader, spelled, shown, self.document_text,  # type: ignore[arg-type]
                             context=READ_CONTEXT)
        self.last_read, self.last_shown = read, shown
        support = read.confidence if read is not None else float("-inf")
        answers = read is not None and read.answers
        if answers and self.rules_veto is True:
            answers = self.extract(query, passages, frequencies, query_vector)[2]
        elif answers and self.rules_veto and read is not None:
            answers = not rule_flags(query, read, self, self.rules_veto, shown)
        if not answers or read is None:
            return self.answer_from(query, passages, [], support)
        first = self.cite(1, read.passage, read.sentence_start, read.sentence_end)
        if first is None:
            return self.answer_from(query, passages, [], support)
        citations = [first]
        conflicts = conflicting_figures(query, first.quote, read.passage.document_id, passages, self.document_text)
        extra = None
        if not conflicts:  # a question joining two facts: the sentence for what the first leaves out
            text = self.document_text(read.passage.document_id)
            chosen = Extract(read.passage, text, read.sentence_start, read.sentence_end, support, support)
            extra = supporting_extract(query, chosen, passages, frequencies, self.store.n_chunks)
        self._cite_further(citations, extra, conflicts, sentences_holding)
        differ = len(citations) > 1 and bool(conflicts)
        span = None
        text = self.document_text(read.passage.document_id)
        a, b = read.span_start, read.span_end
        whole = (a, b) == (first.start, first.end)
        if not differ and not whole and not is_yes_no(query) and first.start <= a < b <= first.end:
            span = AnswerSpan(text[a:b], a, b, 1)
        answer = self.answer_from(query, passages, citations, support,
                                  _news_text(citations, differ=differ, order=None, span=span), span=span)
        answer.disagreement = differ
        return answer

    def _cite_further(
        self, citations: list[Citation], extra: Extract | None, conflicts: list[Conflict],
        bounds: Callable[[str, int, int], tuple[int, int]],
    ) -> None:
        """Append the second sentence a two-fact question needs (its bounds in its article by
        `bounds`) and each other article's different figure, numbered after the first."""
        if extra is not None:
            a, b = bounds(self.document_text(extra.passage.document_id), extra.start, extra.end)
            second = self.cite(2, extra.passage, a, b)
            if second is not None:
                citations.append(second)
        for conflict in conflicts:
            other = self.cite(len(citations) + 1, conflict.passage, conflict.start, conflict.end)
            if other is not None:
                citations.append(other)

    def _by_date(
        self, query: str, passages: list[Passage], frequencies: Callable[[Sequence[str]], dict[str, int]], order: str
    ) -> Extract | None:
        """For "What is the latest figure ...?": the newest (or oldest) dated article whose best
        sentence answers about as well as the best overall (within DATE_PREFERENCE_MARGIN)."""
        by_document: dict[int, list[Passage]] = {}
        for passage in passages:
            by_document.setdefault(passage.document_id, []).append(passage)
        dated = {d: self.store.document(d).published for d in by_document}
        if sum(1 for p in dated.values() if p) < 2:
            return None
        candidates = []
        for document_id, group in by_document.items():
            extract = best_extract(query, group, frequencies, self.store.n_chunks, self)
            if extract is not None and extract.support >= self.support_threshold:
                candidates.append((extract, dated[document_id]))
        if not candidates:
            return None
        top = max(e.score for e, _ in candidates)
        close = [(e, when) for e, when in candidates if when and e.score >= top - DATE_PREFERENCE_MARGIN]
        if not close:
            return None
        pick = max if order == "latest" else min
        return pick(close, key=lambda item: item[1] or "")[0]

    def span(self, query: str, cited: list[tuple[Citation, int]]) -> AnswerSpan | None:
        """The short answer inside the first citation that holds one, verbatim-checked
        (citations with the id of the document each quotes)."""
        for c, document_id in cited:
            text = self.document_text(document_id)
            found = answer_span(query, text, c.start, c.end)
            if found is None:
                continue
            a, b = found
            if c.start <= a < b <= c.end and c.quote[a - c.start : b - c.start] == text[a:b]:
                return AnswerSpan(text[a:b], a, b, c.n)
        return None

    def answer_from(
        self, query: str, passages: list[Passage], citations: list[Citation], support: float, text: str | None = None,
        span: AnswerSpan | None = None,
    ) -> Answer:
        if not citations:
            return Answer(query, ABSTAIN_TEXT, True, [], passages, self.embedder_id, self.generator_name,
                          self.retriever.mode, support=support)
        if text is None:
            quoted = " ".join(f"“{c.quote}” [{c.n}]" for c in citations)
            # A thing asked for leads: '1,400 — “... 1,400 children were sexually abused ...” [1]'.
            text = f"{span.text} — {quoted}" if span is not None else " ".join(f"{c.quote} [{c.n}]" for c in citations)
        return Answer(query, text, False, citations, passages, self.embedder_id, self.generator_name,
                      self.retriever.mode, support=support, answer_span=span)

    def close(self) -> None:
        self.store.close()


def rule_flags(query: str, read: ReadSpan, assistant: "Assistant", wanted: Collection[str],
               read_with: Sequence[Passage] = ()) -> frozenset[str]:
    """Which of the `wanted` hand-written abstention rules flag the reader's answer: the question
    names a detail neither its article nor the other articles read with it (`read_with`) mention,
    a number it gives is not near the answer, or the sentence asserts what the question negates
    (or says the opposite). Rules not wanted are not run (the articles' vocabularies, for one,
    are built only for missing_detail)."""
    text = assistant.document_text(read.passage.document_id)
    sentence = text[read.sentence_start:read.sentence_end]

    def missing_detail() -> list[str]:
        others = {p.document_id: p.start for p in read_with if p.document_id != read.passage.document_id}
        return missing_details(query, assistant.vocabulary(read.passage.document_id, read.span_start),
                               [assistant.vocabulary(d, near) for d, near in others.items()])

    checks: dict[str, Callable[[], object]] = {
        "missing_detail": missing_detail,
        "number_far": lambda: numbers_missing_near(query, text, read.sentence_start, read.sentence_end),
        "contradicts": lambda: contradicts(query, sentence),
        "opposed": lambda: opposed(query, sentence),
    }
    return frozenset(name for name, check in checks.items() if name in wanted and check())


def _last(stream: Iterator[str | Answer]) -> Answer:
    result = None
    for item in stream:
        result = item
    assert isinstance(result, Answer)
    return result


def _news_text(citations: list[Citation], *, differ: bool, order: str | None, span: AnswerSpan | None = None) -> str | None:
    """The quotes with their markers, each from a dated article followed by who reported it
    when. When reports differ, the answer says so; for a "latest" (or "earliest") question
    the chosen report leads and the others follow as earlier (or later) ones. None when there
    is nothing to cite."""
    if not citations:
        return None
    parts = []
    for c in citations:
        when = reported(c.outlet, c.published)
        quote = f"“{c.quote}”" if span is not None else c.quote
        parts.append(f"{quote} [{c.n}]" + (f" ({when})" if when else ""))
    if not differ:
        # A thing asked for leads: '1,400 — “... 1,400 children were sexually abused ...” [1]'.
        return (f"{span.text} — " if span is not None else "") + " ".join(parts)
    first, others = citations[0], citations[1:]
    if order and first.published and all(c.published for c in others):
        newer = all((c.published or "") < (first.published or "") for c in others)
        older = all((c.published or "") > (first.published or "") for c in others)
        if (order == "latest" and newer) or (order == "earliest" and older):
            lead, rest = ("The latest report: ", "Earlier: ") if order == "latest" else ("The earliest report: ", "Later: ")
            return lead + parts[0] + " " + rest + " ".join(parts[1:])
    return "Reports differ: " + " ".join(parts)


def _metadata_lead(asked: str, citation: Citation, *, plural: bool) -> str | None:
    """The short answer to a question about the report itself, or None when the article's
    metadata does not say (then the assistant abstains rather than guess)."""
    when = dated(citation.published)  # "on 3 March 2016", "in March 2016", or None
    if asked == "published":
        if not when:
            return None
        return when[0].upper() + when[1:] + (f", in {citation.outlet}" if citation.outlet else "")
    if asked == "outlet":
        if not citation.outlet:
            return None
        outlets = [citation.outlet, *citation.also_published_by] if plural else [citation.outlet]
        return listed(outlets) + (f", {when}" if when else "")
    if not citation.authors:
        return None
    return listed(citation.authors) + (f", in {citation.outlet}" if citation.outlet else "") + (f" {when}" if when else "")


def _narrowed(where: DocumentFilter, since: str | None, until: str | None) -> DocumentFilter:
    """`where` with the question's own date bounds added; a bound the user set stays if tighter."""
    if since and not (where.since and where.since >= since):
        where = replace(where, since=since)
    if until and not (where.until and where.until <= until):
        where = replace(where, until=until)
    return where


def _by_publication(citations: list[Citation], *, newest_first: bool) -> list[Citation]:
    """Reports that disagree, newest (or oldest) first and renumbered; undated ones last."""
    dated = sorted((c for c in citations if c.published), key=lambda c: c.published or "", reverse=newest_first)
    ordered = dated + [c for c in citations if not c.published]
    return [replace(c, n=i) for i, c in enumerate(ordered, start=1)]
