"""Pick an embedder from a string: a CLI flag, RAG_EMBEDDER, or the index manifest (the CLI
reads the first two; an index re-creates its embedder from the spec in its manifest).

    offline                  hashed features, no weights needed (offline:DIM for another size)
    st:NAME_OR_PATH          a sentence-transformers model (also sentence-transformers:...)
    auto                     the default sentence-transformers model if it can be loaded,
                             else offline, with a one-line notice
"""

from __future__ import annotations

import sys

from embeddings.base import Embedder
from embeddings.errors import EmbedderError

VALID = "auto, offline, offline:DIM, st:MODEL_OR_PATH"


def create_embedder(spec: str) -> Embedder:
    """The embedder a spec names; EmbedderError (one line) for anything else."""
    spec = (spec or "auto").strip()
    kind, _, arg = spec.partition(":")
    if spec == "auto":
        return _auto()
    if kind == "offline":
        from embeddings.offline import DEFAULT_DIMENSION, VERSION, OfflineEmbedder

        if not arg or arg == VERSION:
            return OfflineEmbedder()
        dim = arg.rsplit(":", 1)[-1]
        if dim.isdigit() and 32 <= int(dim) <= 4096:
            return OfflineEmbedder(int(dim))
        raise EmbedderError(f"'{spec}': offline takes a dimension between 32 and 4096 (default {DEFAULT_DIMENSION})")
    if kind in ("st", "sentence-transformers") and arg:
        from embeddings.sentence_transformers_backend import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(arg)
    raise EmbedderError(f"unknown embedder '{spec}'; use one of: {VALID}")


def _auto() -> Embedder:
    from embeddings.offline import OfflineEmbedder
    from embeddings.sentence_transformers_backend import DEFAULT_MODEL, SentenceTransformerEmbedder

    try:
        return SentenceTransformerEmbedder(DEFAULT_MODEL)
    except EmbedderError:
        fallback = OfflineEmbedder()
        print(
            f"Notice: sentence-transformers model '{DEFAULT_MODEL.split('/')[-1]}' is not available offline"
            f" (not cached, model hub unreachable); using the offline embedder {fallback.id}.",
            file=sys.stderr,
        )
        return fallback
