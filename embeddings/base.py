"""The embedder interface: LangChain's `Embeddings` methods, plus numpy batches, an id and a dimension.

Every backend returns float32, L2-normalised rows, so inner product is cosine similarity and
vectors from any backend can go straight into the FAISS index.

`Embedder` has LangChain's `Embeddings` methods (`embed_documents`, `embed_query` and their
async forms) without inheriting the class: importing langchain_core costs ~0.4 s (pydantic,
callbacks, runnables), a third of a cold `rag ask`, which never needs it.
`register_with_langchain` makes `Embedder` a virtual subclass, so `isinstance(e, Embeddings)` holds where
LangChain is used (rag.retrieve.langchain does it on import).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from langchain_core.embeddings import Embeddings


class Embedder(ABC):
    """Turns text into vectors. Subclasses implement `encode_documents` and `encode_query`."""

    #: The factory string that re-creates this embedder (stored in the index manifest).
    spec: str
    #: A stable identity: two embedders with the same id give the same vectors.
    id: str
    dimension: int
    #: sha256 of the model's weights file (for the index manifest); None when there is none or it is unknown.
    model_sha256: str | None = None
    #: What computes the vectors: "offline", "torch" (sentence-transformers) or "onnxruntime".
    backend: str = ""
    #: Weight of this embedder's ranking when fused with BM25 by reciprocal rank.
    fusion_weight: float = 1.0

    def for_bulk(self) -> None:
        """Tune for a long run of batches (ingest) rather than one query at a time; most
        embedders have nothing to tune."""

    @abstractmethod
    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dimension) float32, rows L2-normalised (an empty text gives a zero row)."""

    @abstractmethod
    def encode_query(self, text: str) -> np.ndarray:
        """(dimension,) float32, L2-normalised; may differ from the document encoding."""

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_documents(texts).tolist()  # type: ignore[no-any-return]

    def embed_query(self, text: str) -> list[float]:
        return self.encode_query(text).tolist()  # type: ignore[no-any-return]

    async def aembed_documents(self, texts: list[str]) -> list[list[float]]:
        import asyncio  # only LangChain's async callers need it

        return await asyncio.get_running_loop().run_in_executor(None, self.embed_documents, texts)

    async def aembed_query(self, text: str) -> list[float]:
        import asyncio  # only LangChain's async callers need it

        return await asyncio.get_running_loop().run_in_executor(None, self.embed_query, text)

    def describe(self) -> dict[str, object]:
        """What to report and record (CLI info, UI, eval report, index manifest)."""
        info: dict[str, object] = {"id": self.id, "spec": self.spec, "backend": self.backend,
                                   "dimension": self.dimension, "model_sha256": self.model_sha256}
        location = getattr(self, "location", None)
        if location is not None:
            info.update(model_source=location.source, model_path=str(location.path))
        return info

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r})"


def l2_normalise(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; all-zero rows stay zero."""
    matrix = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (matrix / norms).astype(np.float32, copy=False)


def understands_meaning(embedder: "Embedder | None") -> bool:
    """Does this embedder place paraphrases together? (A backend may say so itself with a
    `semantic` attribute; otherwise every backend but the hashed offline one does.) Only such
    an embedder's sentence vectors are worth storing and comparing with a question."""
    if embedder is None:
        return False
    flag = getattr(embedder, "semantic", None)
    if isinstance(flag, bool):
        return flag
    return not str(getattr(embedder, "id", "")).startswith("offline")


def register_with_langchain() -> None:
    """Make every `Embedder` a LangChain `Embeddings` for isinstance checks (a virtual subclass)."""
    from langchain_core.embeddings import Embeddings  # ~0.4 s: only for LangChain callers

    if not issubclass(Embedder, Embeddings):
        Embeddings.register(Embedder)

