"""Optional second stage: a sentence-transformers CrossEncoder rescoring the fused passages.

A cross-encoder reads question and passage together, so it ranks better than either first
stage, at the cost of one forward pass per candidate; it only sees the top candidates.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from rag.errors import RagError

if TYPE_CHECKING:
    from rag.retrieve.passage import Passage

RERANK_CANDIDATES = 20


class Reranker:
    """Loads a CrossEncoder by name or local path, failing fast when the hub is unreachable."""

    def __init__(self, model: str, *, max_candidates: int = RERANK_CANDIDATES) -> None:
        self.model_name = model
        self.max_candidates = max_candidates
        self._model = _load_cross_encoder(model)

    def rerank(self, question: str, passages: Sequence["Passage"]) -> list["Passage"]:
        head = list(passages[: self.max_candidates])
        if not head:
            return []
        scores = self._model.predict([(question, p.text) for p in head], show_progress_bar=False)
        for passage, score in zip(head, scores):
            passage.rerank_score = float(score)
        head.sort(key=lambda p: -(p.rerank_score or 0.0))
        return head + list(passages[self.max_candidates :])


def _load_cross_encoder(model: str):  # type: ignore[no-untyped-def]
    """A CrossEncoder from a local directory, the cache, or a reachable hub; else a fast error."""
    from embeddings.errors import (
        EmbedderError,  # deferred: only when a reranker is asked for
    )
    from embeddings.sentence_transformers_backend import (  # deferred: only with --rerank
        _quiet_transformers,
        ensure_loadable,
    )

    path = Path(model).expanduser()
    try:
        local_only = True if path.is_dir() else ensure_loadable(model)
    except EmbedderError as exc:
        raise RagError(str(exc).replace("--embedder st:/path/to/model", "--rerank /path/to/model")
                       .replace(", or use --embedder offline", ", or leave out --rerank")) from None
    from sentence_transformers import CrossEncoder

    _quiet_transformers()
    try:
        return CrossEncoder(str(path.resolve()) if path.is_dir() else model, local_files_only=local_only)
    except (OSError, ValueError) as exc:
        raise RagError(f"cannot load cross-encoder '{model}': {' '.join(str(exc).split())[:200]}") from None
