"""Sentence vectors: what a sentence means, for an embedder that knows meaning.

The answerer compares the question with single sentences ("How many kids were molested?"
and "1,400 children were sexually abused" say the same thing in other words), and retrieval
reorders its head by the best sentence of each passage. Both need sentence vectors from the
index's own embedder. Sentences repeat across questions (the same passages come back), so
vectors are cached by text; a miss costs one batched `encode_documents` call per question.

The hashed `offline` embedder knows shared word parts, not meaning: it gains nothing here
(see bench/fit_reader.py), so `understands_meaning` is False for it and callers keep their
lexical rules alone.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

    from embeddings.base import Embedder

#: Sentence vectors kept (384 floats each: 20,000 are about 30 MB).
CACHED_SENTENCES = 20_000


def understands_meaning(embedder: "Embedder | None") -> bool:
    """Does this embedder place paraphrases together? (A backend may say so itself with a
    `semantic` attribute; otherwise every backend but the hashed offline one does.)"""
    if embedder is None:
        return False
    flag = getattr(embedder, "semantic", None)
    if isinstance(flag, bool):
        return flag
    return not str(getattr(embedder, "id", "")).startswith("offline")


class SentenceVectors:
    """Cached document-side vectors of sentences, from one embedder."""

    def __init__(self, embedder: "Embedder", capacity: int = CACHED_SENTENCES) -> None:
        self.embedder = embedder
        self.capacity = capacity
        self._cache: OrderedDict[str, "np.ndarray"] = OrderedDict()

    def encode(self, texts: Sequence[str]) -> "np.ndarray":
        """(len(texts), dimension) float32, L2-normalised rows."""
        import numpy as np

        missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            for text, vector in zip(missing, self.embedder.encode_documents(missing)):
                self._cache[text] = vector
            while len(self._cache) > self.capacity:
                self._cache.popitem(last=False)
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
