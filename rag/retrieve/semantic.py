"""Sentence vectors: what a sentence means, for an embedder that knows meaning.

The answerer compares the question with single sentences ("How many kids were molested?"
and "1,400 children were sexually abused" say the same thing in other words), and retrieval
reorders its head by the best sentence of each passage. Both need sentence vectors from the
index's own embedder. Ingest stores them with each chunk (rag.store.base.ChunkSentences), so
at query time they are read, not computed: `warm` loads those of the passages at hand, keyed
by the sentence's text. With the onnx backend a stored sentence vector is pooled from its
chunk's pass (the mean of the sentence's token embeddings, read in the chunk's context: one
pass per chunk at ingest instead of two); other backends store the sentence encoded alone.
A sentence the store lacks (an index from before they were stored, a passage stretched back a
sentence) is encoded alone then, in one batch, and kept in the same cache.

The hashed `offline` embedder knows shared word parts, not meaning: it gains nothing here
(see bench/fit_reader.py), so `embeddings.base.understands_meaning` is False for it, ingest
stores no sentence vectors for it, and callers keep their lexical rules alone.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from embeddings.base import Embedder
    from rag.retrieve.passage import Passage
    from rag.store.base import Store

#: Sentence vectors kept (384 floats each: 20,000 are about 30 MB).
CACHED_SENTENCES = 20_000


class SentenceVectors:
    """Document-side vectors of sentences from one embedder, cached by text."""

    def __init__(self, embedder: "Embedder", capacity: int = CACHED_SENTENCES) -> None:
        self.embedder = embedder
        self.capacity = capacity
        self._cache: OrderedDict[str, "np.ndarray"] = OrderedDict()
        self._warmed: set[int] = set()
        #: Sentences encoded here rather than read from the store (what bench/ reports).
        self.encoded = 0

    def warm(self, store: "Store", passages: Iterable["Passage"]) -> None:
        """Load the stored sentence vectors of these passages' chunks into the cache (one read)."""
        wanted = list(dict.fromkeys(p.chunk_id for p in passages if p.chunk_id not in self._warmed))
        if not wanted:
            return
        found = store.sentence_vectors(wanted)
        # The spans point into the chunk's own text (a passage may have been stretched back).
        chunks = store.get_chunks(list(found)) if found else {}
        for cid, sentences in found.items():
            if cid in chunks:
                text = chunks[cid].text
                for (a, b), vector in zip(sentences.spans, sentences.vectors):
                    self._remember(text[a:b], vector)
        self._warmed.update(wanted)

    def encode(self, texts: Sequence[str]) -> "np.ndarray":
        """(len(texts), dimension) float32, L2-normalised rows."""
        import numpy as np

        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            self.encoded += len(missing)
            for text, vector in zip(missing, self.embedder.encode_documents(missing)):
                self._remember(text, vector)
        if not texts:
            return np.zeros((0, self.embedder.dimension), dtype=np.float32)
        rows = []
        for text in texts:
            vector = self._cache.get(text)
            if vector is None:  # evicted by this very call (more texts than capacity)
                vector = self.embedder.encode_documents([text])[0]
            rows.append(vector)
        return np.stack(rows).astype(np.float32, copy=False)

    def similarities(self, query_vector: "np.ndarray", texts: Sequence[str]) -> list[float]:
        """Cosine of each text with the query vector."""
        if not texts:
            return []
        return [float(x) for x in self.encode(texts) @ query_vector]

    def _remember(self, text: str, vector: "np.ndarray") -> None:
        self._cache[text] = vector
        self._cache.move_to_end(text)
        while len(self._cache) > self.capacity:
            self._cache.popitem(last=False)
            self._warmed.clear()  # an evicted sentence must be read again, not assumed cached

