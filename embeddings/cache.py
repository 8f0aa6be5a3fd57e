"""The user cache directory of rag-news, trusted file hashes, and atomic writes into it.

    RAG_CACHE_DIR                 if set
    $XDG_CACHE_HOME/rag-news      else, if XDG_CACHE_HOME is set
    ~/.cache/rag-news             else

Hashing a 90 MB weights file costs about a quarter of a second, too much for every `rag ask`.
`trusted_sha256` hashes a file once and keeps a small stamp (resolved path, size, mtime in ns,
sha256) in the cache directory; while the file's path, size and mtime are unchanged the stamp
is trusted and the file is not read again. Anything that rewrites the file changes its mtime,
so the next run hashes it again. (A deliberate tamper that also restores the mtime is not
detected: the stamp guards against corruption and accidents, not an attacker who owns the
files; delete the cache directory to force a full re-check.)
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path

STAMP_VERSION = 1
_CHUNK = 1 << 20


def cache_dir() -> Path:
    """Where rag-news keeps derived files (hash stamps, ONNX exports); not created here."""
    override = os.environ.get("RAG_CACHE_DIR")
    if override:
        return Path(override).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "rag-news"


def sha256_file(path: Path) -> str:
    """The hex sha256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_bytes(target: Path, data: bytes) -> None:
    """Write `data` to `target` through a temp file in the same folder and os.replace."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _stamp_path(resolved: Path) -> Path:
    key = hashlib.blake2b(str(resolved).encode("utf-8"), digest_size=10).hexdigest()
    return cache_dir() / "stamps" / f"{key}.json"


def _identity(resolved: Path) -> dict[str, object]:
    st = resolved.stat()
    return {"version": STAMP_VERSION, "path": str(resolved), "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def stamped_sha256(path: Path) -> str | None:
    """The sha256 recorded for `path` if its stamp still matches the file; None otherwise."""
    resolved = Path(path).resolve()
    try:
        stamp = json.loads(_stamp_path(resolved).read_text(encoding="utf-8"))
        identity = _identity(resolved)
    except (OSError, ValueError):
        return None
    if not isinstance(stamp, dict) or any(stamp.get(k) != v for k, v in identity.items()):
        return None
    digest = stamp.get("sha256")
    return digest if isinstance(digest, str) and len(digest) == 64 else None


def trusted_sha256(path: Path) -> str:
    """`path`'s sha256: from its stamp when the file is unchanged, else hashed (and stamped)."""
    known = stamped_sha256(path)
    if known is not None:
        return known
    resolved = Path(path).resolve()
    before = _identity(resolved)
    digest = sha256_file(resolved)
    if _identity(resolved) == before:  # not rewritten while we read it
        try:
            atomic_write_bytes(_stamp_path(resolved), json.dumps({**before, "sha256": digest}).encode("utf-8"))
        except OSError:
            pass  # a read-only cache only costs a re-hash next time
    return digest
