"""manifest.json: what an index was built with, checked before anything else is read.

The manifest names the SQLite and FAISS files of the current generation; replacing it with
os.replace is the single atomic step that publishes a new index.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from rag.errors import IndexError_
from rag.store.hints import rag_command, rebuild_hint

MANIFEST_VERSION = 1
MANIFEST_NAME = "manifest.json"


@dataclass
class Manifest:
    generation: int
    sqlite_file: str
    faiss_file: str
    schema_version: int
    embedder_spec: str
    embedder_id: str
    dimension: int
    chunk_size: int
    chunk_overlap: int
    documents: int
    chunks: int
    index_type: str
    built_at: str
    versions: dict[str, str] = field(default_factory=dict)
    manifest_version: int = MANIFEST_VERSION
    #: sha256 of the embedding model's weights, when the embedder knows it.
    model_sha256: str | None = None

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True)


_FIELDS = {
    "generation": int,
    "sqlite_file": str,
    "faiss_file": str,
    "schema_version": int,
    "embedder_spec": str,
    "embedder_id": str,
    "dimension": int,
    "chunk_size": int,
    "chunk_overlap": int,
    "documents": int,
    "chunks": int,
    "index_type": str,
    "built_at": str,
}


def recover_hint(index_dir: Path) -> str:
    """What to say when a manifest cannot be used: the generation files beside it may still be whole."""
    return f"recover its last complete generation with {rag_command(index_dir, 'index recover')}, or {rebuild_hint(index_dir)}"


def read_manifest(index_dir: Path) -> Manifest | None:
    """The manifest, validated field by field; None if the directory holds no manifest."""
    path = index_dir / MANIFEST_NAME
    if not path.exists():
        return None
    return parse_manifest_file(path)


def parse_manifest_file(path: Path) -> Manifest:
    """A manifest file (manifest.json, or a generation's copy of it), validated field by field."""
    try:
        data: Any = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexError_(f"{path} is unreadable ({exc.__class__.__name__}); {recover_hint(path.parent)}") from None
    if not isinstance(data, dict):
        raise IndexError_(f"{path} is not a rag manifest; {recover_hint(path.parent)}")
    version = data.get("manifest_version")
    if isinstance(version, int) and version > MANIFEST_VERSION:
        raise IndexError_(f"{path} comes from a newer rag (manifest version {version}); upgrade rag")
    for name, kind in _FIELDS.items():
        if not isinstance(data.get(name), kind):
            raise IndexError_(f"{path} lacks a valid '{name}'; {recover_hint(path.parent)}")
    for name in ("sqlite_file", "faiss_file"):
        # Only plain names inside the index directory: a manifest must not point elsewhere.
        if Path(data[name]).name != data[name] or data[name].startswith("."):
            raise IndexError_(f"{path} names a file outside the index ('{data[name]}'); refusing to load it")
    versions = data.get("versions", {})
    model_sha256 = data.get("model_sha256")
    if model_sha256 is not None and not (isinstance(model_sha256, str) and re.fullmatch(r"[0-9a-f]{64}", model_sha256)):
        raise IndexError_(f"{path} has an invalid 'model_sha256'; {rebuild_hint(path.parent)}")
    return Manifest(
        **{name: data[name] for name in _FIELDS},
        versions={str(k): str(v) for k, v in versions.items()} if isinstance(versions, dict) else {},
        model_sha256=model_sha256,
    )


def write_manifest(index_dir: Path, manifest: Manifest, name: str = MANIFEST_NAME) -> None:
    """Atomically replace manifest.json (write, fsync, rename, fsync the directory)."""
    path = index_dir / name
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(manifest.to_json())
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    fd = os.open(index_dir, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
