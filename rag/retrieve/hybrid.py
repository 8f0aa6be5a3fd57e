"""Hybrid retrieval: the store's BM25 and dense rankings fused by reciprocal rank.

Each ranker returns its top candidates (a backend whose engine fuses inside does it there); reciprocal-rank fusion needs no score calibration
between them. An optional cross-encoder reorders the fused list. Chunks that overlap an
already chosen passage of the same document, or repeat its text, are dropped, so the same
passage is never shown twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Sequence
from typing import TYPE_CHECKING

from embeddings.base import understands_meaning
from rag.errors import RagError
from rag.retrieve.passage import Passage, Retrieval
from rag.retrieve.semantic import SentenceVectors
from rag.store.base import DocumentFilter, HybridHits, Store, fused_hits
from rag.text.sentences import LEADING_PRONOUN, sentence_spans
from rag.text.shingles import near_duplicate_text
from rag.text.terms import content_terms, term_weights, terms

if TYPE_CHECKING:
    import numpy as np

    from rag.retrieve.rerank import Reranker

MODES = ("hybrid", "lexical", "dense")
#: How far back a passage opening with a pronoun looks for the sentence that names its person.
ANTECEDENT_REACH = 400
SENTENCE_RERANK_DEPTH = 20
#: With an embedder that knows meaning, the best question-sentence cosine of each of the first
#: MEANING_RERANK_DEPTH fused passages joins the sentence rerank at this weight. 0.5 was best on
#: the SQuAD subset (bench/retrieval_meaning.py, held out by article: recall@1 0.882 -> 0.899).
#: The sentence vectors are stored at ingest, so it costs a read: warm p50 14.6 -> 15.8 ms on the
#: SQuAD index (encoding them per question had cost ~290 ms). The offline embedder never uses it.
MEANING_WEIGHT = 0.5
MEANING_RERANK_DEPTH = 10


def _overlaps(a: Passage, b: Passage) -> bool:
    """The same passage twice: overlapping chunks of one article, or near-copies of one text
    in two (a syndicated story carried by several outlets)."""
    if a.text == b.text:
        return True
    if a.document_id != b.document_id:
        return near_duplicate_text(a.text, b.text)
    shared = min(a.end, b.end) - max(a.start, b.start)
    return shared > 0.5 * min(a.end - a.start, b.end - b.start)


class Retriever:
    """Finds the passages most likely to answer a question."""

    def __init__(
        self,
        store: Store,
        mode: str = "hybrid",
        *,
        candidates: int = 50,
        reranker: "Reranker | None" = None,
        embedder_spec: str | None = None,
    ) -> None:
        if mode not in MODES:
            raise RagError(f"unknown retrieval mode '{mode}'; choose one of {', '.join(MODES)}")
        self.store = store
        self.mode = mode
        self.candidates = candidates
        self.reranker = reranker
        self.embedder = store.embedder(embedder_spec) if mode != "lexical" else None
        #: Sentence vectors shared with the answerer (None for the offline embedder).
        self.sentence_vectors = SentenceVectors(self.embedder) if understands_meaning(self.embedder) else None
        self.meaning_weight = MEANING_WEIGHT

    def search(
        self,
        question: str,
        k: int = 5,
        frequencies: Callable[[Sequence[str]], dict[str, int]] | None = None,
        where: DocumentFilter | None = None,
    ) -> Retrieval:
        """The k best passages; with `where`, only from the articles it admits (filtered inside
        each search, so k passages still come back when the admitted articles have them)."""
        timings: dict[str, float] = {}
        n = max(self.candidates, 4 * k)
        within = self.store.matching_documents(where) if where else None
        if within is not None and not within:
            return Retrieval([], timings)
        vector = None
        if self.mode in ("hybrid", "dense") and self.embedder is not None:
            t = time.perf_counter()
            vector = self.embedder.encode_query(question)
            timings["embed"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        hits = self._ranked(question, vector, n, within)
        timings["search"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        chunks = self.store.get_chunks(hits.order[: max(3 * k, SENTENCE_RERANK_DEPTH)])
        candidates = [
            Passage(
                rank=0,
                chunk_id=cid,
                document_id=c.document_id,
                source=c.source,
                title=c.title,
                start=c.start,
                end=c.end,
                text=c.text,
                score=hits.scores[cid],
                bm25_rank=hits.lexical_rank.get(cid),
                dense_rank=hits.dense_rank.get(cid),
            )
            for cid in hits.order
            if (c := chunks.get(cid)) is not None
        ]
        timings["fuse"] = (time.perf_counter() - t) * 1000
        t = time.perf_counter()
        if self.reranker is not None and candidates:
            candidates = self.reranker.rerank(question, candidates)
        elif self.mode != "dense" and candidates:
            candidates = self._sentence_rerank(question, candidates, frequencies or self.store.memoised_frequencies(),
                                               vector)
        timings["rerank"] = (time.perf_counter() - t) * 1000
        chosen: list[Passage] = []
        for passage in candidates:
            if any(_overlaps(passage, other) for other in chosen):
                continue
            passage.rank = len(chosen) + 1
            chosen.append(passage)
            if len(chosen) == k:
                break
        for passage in chosen:
            self._take_in_antecedent(passage)
        return Retrieval(chosen, timings, vector)

    def _ranked(self, question: str, vector: "np.ndarray | None", n: int, within: Collection[int] | None) -> HybridHits:
        """Candidates from the rankers the mode asks for, fused (by the store when it can)."""
        if self.mode == "lexical" or vector is None:
            return fused_hits([cid for cid, _ in self.store.lexical_search(question, n, within)], [], 0.0)
        assert self.embedder is not None
        if self.mode == "dense":
            dense = [cid for cid, _ in self.store.dense_search(vector, n, within)]
            return fused_hits([], dense, self.embedder.fusion_weight)
        return self.store.hybrid_search(question, vector, n, self.embedder.fusion_weight, within)

    def _take_in_antecedent(self, passage: Passage) -> None:
        """A passage that opens with "He said ..." starts one sentence earlier, where he is named:
        a reader (and an answer to "Who said ...?") needs that sentence."""
        if not LEADING_PRONOUN.match(passage.text):
            return
        before = self.store.text_before(passage.document_id, passage.start, ANTECEDENT_REACH)
        spans = sentence_spans(before)
        if not spans:
            return
        passage.text = before[spans[-1][0] :] + passage.text
        passage.start -= len(before) - spans[-1][0]

    def _sentence_rerank(
        self, question: str, candidates: list[Passage], frequencies: Callable[[Sequence[str]], dict[str, int]],
        vector: "np.ndarray | None" = None,
    ) -> list[Passage]:
        """Reorder the head of the fused list by its best single sentence.

        A question is usually answered by one sentence, so a chunk holding a sentence that
        covers most of the question's (rarity-weighted) terms beats one that spreads them thin.
        Score: best sentence coverage + half the chunk's coverage + 0.2 / fused rank
        (weights chosen on SQuAD: recall@1 0.827 -> 0.851, bench/retrieval_quality.py).
        """
        q_terms = content_terms(question)
        weights = term_weights(q_terms, frequencies(q_terms), self.store.n_chunks)
        total = sum(weights.values())
        if not total:
            return candidates
        head, tail = candidates[:SENTENCE_RERANK_DEPTH], candidates[SENTENCE_RERANK_DEPTH:]

        def coverage(found: set[str]) -> float:
            return sum(w for t, w in weights.items() if t in found) / total

        spans = [sentence_spans(p.text) for p in head]
        meaning = [0.0] * len(head)
        if self.sentence_vectors is not None and vector is not None and self.meaning_weight:
            # The best sentence by meaning, for the first few passages: their vectors are read
            # from the store (stored at ingest), only an older index's are encoded here.
            deep = head[:MEANING_RERANK_DEPTH]
            self.sentence_vectors.warm(self.store, deep)
            flat = self.sentence_vectors.similarities(vector, [p.text[a:b] for p, ss in zip(deep, spans) for a, b in ss])
            at = 0
            for i, ss in enumerate(spans[: len(deep)]):
                meaning[i] = self.meaning_weight * max(flat[at : at + len(ss)], default=0.0)
                at += len(ss)
        scored = []
        for rank, (passage, passage_spans) in enumerate(zip(head, spans), start=1):
            best = max((coverage(set(terms(passage.text[a:b]))) for a, b in passage_spans), default=0.0)
            scored.append((best + 0.5 * coverage(set(terms(passage.text))) + 0.2 / rank + meaning[rank - 1], -rank,
                           passage))
        scored.sort(key=lambda item: (item[0], item[1]), reverse=True)
        return [p for _, _, p in scored] + tail
