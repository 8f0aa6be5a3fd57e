"""sentence-transformers models, by hub name or local directory, failing fast when offline.

Loading a hub name that is not cached on a machine without hub access would otherwise spend
over a minute in retries. `ensure_loadable` decides in a few seconds: a local directory or a
cached model loads with `local_files_only`; otherwise the hub endpoint must answer a TCP
connect within `PROBE_TIMEOUT` seconds, or we stop with one line that says what to do.
torch and sentence_transformers are imported only when a model is actually loaded.
"""

from __future__ import annotations

import hashlib
import os
import socket
from collections.abc import Sequence
from pathlib import Path
from urllib.parse import urlparse

import numpy as np

from embeddings.base import Embedder, l2_normalise
from embeddings.errors import EmbedderError

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
PROBE_TIMEOUT = 2.0


def repo_id(name: str) -> str:
    """'all-MiniLM-L6-v2' -> 'sentence-transformers/all-MiniLM-L6-v2' (as the library does)."""
    return name if "/" in name else f"sentence-transformers/{name}"


def _cached(name: str) -> bool:
    from huggingface_hub import try_to_load_from_cache

    for filename in ("modules.json", "config.json"):
        found = try_to_load_from_cache(repo_id(name), filename)
        if isinstance(found, str) and os.path.exists(found):
            return True
    return False


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
        raise EmbedderError(
            f"sentence-transformers model '{name}' is not in the local cache and {why}: download it on a"
            " connected machine, pass a local model directory with --embedder st:/path/to/model,"
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


def _local_id(path: Path) -> str:
    """A local model's id: its folder name plus a hash of its config, so two differ."""
    digest = hashlib.blake2b(digest_size=4)
    for name in ("modules.json", "config.json", "config_sentence_transformers.json"):
        if (path / name).exists():
            digest.update((path / name).read_bytes())
    return f"{path.name}-{digest.hexdigest()}"


class SentenceTransformerEmbedder(Embedder):
    """A sentence-transformers model; uses its query/document prompts when it defines them."""

    def __init__(self, name_or_path: str = DEFAULT_MODEL, *, batch_size: int = 64, device: str | None = None) -> None:
        path = Path(name_or_path).expanduser()
        is_local = path.is_dir()
        local_only = True if is_local else ensure_loadable(name_or_path)
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise EmbedderError("the sentence-transformers backend needs `pip install sentence-transformers`") from None
        source = str(path.resolve()) if is_local else repo_id(name_or_path)
        _quiet_transformers()
        try:
            self.model = SentenceTransformer(source, device=device or _device(), local_files_only=local_only)
        except (OSError, ValueError) as exc:
            raise EmbedderError(f"cannot load sentence-transformers model '{name_or_path}': {' '.join(str(exc).split())[:200]}") from None
        self.batch_size = batch_size
        get_dimension = getattr(self.model, "get_embedding_dimension", None) or self.model.get_sentence_embedding_dimension
        dimension = get_dimension()
        if not dimension:
            raise EmbedderError(f"model '{name_or_path}' does not report an embedding dimension")
        self.dimension = int(dimension)
        self.spec = f"st:{source}"
        self.id = f"sentence-transformers:{_local_id(path.resolve()) if is_local else repo_id(name_or_path)}"

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
