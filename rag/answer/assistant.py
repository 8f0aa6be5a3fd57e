"""Question in, Answer out: retrieval, then an extractive or LLM answer, then verification.

Every front end (CLI, chat, UI, evaluation) goes through `Assistant.ask`, so they all give
the same answers with the same guarantees: each citation's quote is the exact text at its
offsets in the cleaned document, and when the evidence is too weak the assistant abstains
and shows the closest passages instead.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rag.answer.extractive import (
    SUPPORT_THRESHOLD,
    Extract,
    best_extract,
    supporting_extract,
    trim,
)
from rag.answer import reader as reader_weights
from rag.answer.language.details import Vocabulary
from rag.answer.llm import LLMGenerator
from rag.answer.questions import is_follow_up, standalone, validate
from rag.answer.language.spans import answer_span
from rag.answer.types import ABSTAIN_TEXT, Answer, AnswerSpan, Citation
from rag.retrieve.hybrid import Retriever
from rag.retrieve.passage import Passage
from rag.retrieve.rerank import Reranker
from rag.store.base import Store
from rag.store.factory import open_store

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
        reader: "reader_weights.ReaderWeights | None | str" = "fitted",
    ) -> None:
        self.store: Store = open_store(index_dir)
        rerank_model = None
        if reranker:
            rerank_model = Reranker(reranker)
        self.retriever = Retriever(self.store, mode, reranker=rerank_model, embedder_spec=embedder_spec)
        self.k = k
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
        self.last_extract: Extract | None = None
        self._texts: dict[int, str] = {}
        self._vocabularies: OrderedDict[tuple[int, int], Vocabulary] = OrderedDict()

    @property
    def embedder_id(self) -> str:
        return self.store.settings.embedder_id

    @property
    def retrieval_mode(self) -> str:
        return self.retriever.mode

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
        return Citation(n, passage.chunk_id, passage.source, passage.title, start, end, quote)

    def ask(self, question: str, conversation: Conversation | None = None, k: int | None = None) -> Answer:
        return _last(self.ask_stream(question, conversation, k))

    def ask_stream(
        self, question: str, conversation: Conversation | None = None, k: int | None = None
    ) -> Iterator[str | Answer]:
        """Yield answer text as it is produced (tokens with an LLM), then the final Answer."""
        started = time.perf_counter()
        question = validate(question)
        previous = conversation.previous if conversation else None
        if self.generator is not None and previous and is_follow_up(question):
            query = self.generator.condense(question, previous)
        else:
            query = standalone(question, previous)
        if conversation is not None:
            conversation.questions.append(query)
        frequencies = self.store.memoised_frequencies()
        retrieval = self.retriever.search(query, k or self.k, frequencies)
        timings = dict(retrieval.timings_ms)
        passages = retrieval.passages
        t = time.perf_counter()
        answer: Answer | None = None
        if self.generator is not None and passages:
            for item in self.generator.generate(query, passages, self):
                if isinstance(item, str):
                    yield item
                else:
                    answer = item
        if answer is None:
            answer = self._extractive(query, passages, frequencies, retrieval.query_vector)
            yield answer.answer
        timings["answer"] = (time.perf_counter() - t) * 1000
        timings["total"] = (time.perf_counter() - started) * 1000
        answer.question = question
        answer.timings_ms = timings
        yield answer

    def meaning(self, query_vector: object) -> "Callable[[list[str]], list[float]] | None":
        """Cosines of the question (its vector) with sentences, or None without a semantic embedder."""
        vectors = self.sentence_vectors
        if vectors is None or query_vector is None:
            return None
        return lambda texts: vectors.similarities(query_vector, texts)  # type: ignore[arg-type]

    def extract(self, query: str, passages: list[Passage], frequencies: Callable[[Sequence[str]], dict[str, int]],
                query_vector: object = None) -> tuple[Extract | None, float, bool]:
        """The best span, its support (the classifier's probability when one decides) and
        whether it answers."""
        meaning = self.meaning(query_vector)
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
        best, support, answers = self.extract(query, passages, frequencies, query_vector)
        self.last_extract = best  # what bench/fit_reader.py reads the features from
        citations: list[Citation] = []
        extra = None
        if best is not None and answers:
            start, end = trim(best.text, best.start, best.end, query)
            first = self.cite(1, best.passage, start, end)
            if first is not None:
                citations.append(first)
                extra = supporting_extract(query, best, passages, frequencies, self.store.n_chunks)
                if extra is not None:
                    text = self.document_text(extra.passage.document_id)
                    a, b = trim(text, extra.start, extra.end, query)
                    second = self.cite(2, extra.passage, a, b)
                    if second is not None:
                        citations.append(second)
        span = None
        if best is not None and citations:
            documents = [best.passage.document_id] + ([extra.passage.document_id] if extra is not None else [])
            span = self.span(query, list(zip(citations, documents)))
        return self.answer_from(query, passages, citations, support, span=span)

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


def _last(stream: Iterator[str | Answer]) -> Answer:
    result = None
    for item in stream:
        result = item
    assert isinstance(result, Answer)
    return result
