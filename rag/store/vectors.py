"""The FAISS half of an index: vectors keyed by chunk id.

Exact inner-product search (IndexIDMap2 over IndexFlatIP) while the index is small; past
`APPROXIMATE_THRESHOLD` vectors an IVF index, which still supports adding and removing ids,
so incremental ingest works at any size. Vectors are L2-normalised, so inner product is cosine.
"""

from __future__ import annotations

import errno
import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from rag.errors import IndexError_
from rag.store.hints import rebuild_hint

if TYPE_CHECKING:
    import faiss

#: Above this many vectors, search switches from exact to IVF (measured in bench/scale.py).
APPROXIMATE_THRESHOLD = 200_000
MIN_NPROBE = 32


def nprobe_for(nlist: int) -> int:
    """Lists an IVF search visits: one in 16, at least 32. A fixed 32 of 4,000 lists found only
    77% of the true top 10 on unclustered 384-d vectors (bench/scale.py, 1M); one in 16 finds
    98.7% at 10 ms, still well under BM25's time at that size."""
    return min(nlist, max(MIN_NPROBE, nlist // 16))


#: OpenMP threads for one query's search ($RAG_FAISS_THREADS). One: a single query vector gains
#: nothing from a team of threads, and on a busy machine the team waits for its slowest member.
#: Measured on this 2-core machine with other work running: exact search over 10k 384-d vectors,
#: top 50, p50 136-152 ms with FAISS's default 2 threads against 0.8-1.2 ms with 1; over 100k,
#: 190-224 ms against 47-51 ms. Building an IVF index still uses every core.
SEARCH_THREADS = int(os.environ.get("RAG_FAISS_THREADS", "1") or 1)
_ALL_THREADS: list[int] = []


def _faiss():  # type: ignore[no-untyped-def]
    import faiss

    if not _ALL_THREADS:
        _ALL_THREADS.append(faiss.omp_get_max_threads())
        faiss.omp_set_num_threads(SEARCH_THREADS)
    return faiss


class VectorIndex:
    """A FAISS index whose ids are chunk ids."""

    def __init__(self, index: "faiss.Index", dimension: int) -> None:
        self.index = index
        self.dimension = dimension

    @classmethod
    def empty(cls, dimension: int) -> "VectorIndex":
        faiss = _faiss()
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), dimension)

    @classmethod
    def load(cls, path: Path, dimension: int) -> "VectorIndex":
        faiss = _faiss()
        if not path.exists():
            raise IndexError_(f"vector file {path} is missing; the index is damaged: {rebuild_hint(path.parent)}")
        try:
            index = faiss.read_index(str(path))
        except RuntimeError:
            raise IndexError_(f"vector file {path} is corrupt; the index is damaged: {rebuild_hint(path.parent)}") from None
        if index.d != dimension:
            raise IndexError_(
                f"vector file {path} has dimension {index.d} but the manifest says {dimension};"
                f" {rebuild_hint(path.parent)}"
            )
        ivf = _ivf(index)
        if ivf is not None:
            ivf.nprobe = nprobe_for(ivf.nlist)
        return cls(index, dimension)

    @property
    def kind(self) -> str:
        ivf = _ivf(self.index)
        return f"ivf{ivf.nlist},nprobe={ivf.nprobe}" if ivf is not None else "flat"

    def __len__(self) -> int:
        return int(self.index.ntotal)

    def add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        if len(ids) == 0:
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.shape != (len(ids), self.dimension):
            raise ValueError(f"expected {(len(ids), self.dimension)} vectors, got {vectors.shape}")
        self.index.add_with_ids(vectors, np.asarray(ids, dtype=np.int64))

    def remove(self, ids: np.ndarray | list[int]) -> int:
        if len(ids) == 0:
            return 0
        return int(self.index.remove_ids(np.asarray(ids, dtype=np.int64)))

    def reconstruct(self, chunk_id: int) -> np.ndarray | None:
        """The stored vector of a chunk, so re-ingesting identical text costs no embedding."""
        try:
            return np.asarray(self.index.reconstruct(int(chunk_id)), dtype=np.float32)
        except RuntimeError:
            return None

    def ids(self) -> np.ndarray:
        faiss = _faiss()
        if isinstance(self.index, faiss.IndexIDMap2) or hasattr(self.index, "id_map"):
            return faiss.vector_to_array(self.index.id_map).astype(np.int64)
        ivf = _ivf(self.index)
        assert ivf is not None
        out = []
        invlists = ivf.invlists
        for lst in range(ivf.nlist):
            size = invlists.list_size(lst)
            if size:
                ptr = invlists.get_ids(lst)
                out.append(faiss.rev_swig_ptr(ptr, size).copy())
        return np.concatenate(out).astype(np.int64) if out else np.zeros(0, dtype=np.int64)

    def search(self, query: np.ndarray, k: int, allowed: Sequence[int] | None = None) -> list[tuple[int, float]]:
        """(chunk id, cosine) best first; with `allowed`, only among those ids (a FAISS ID
        selector inside the search, so k results come back when that many are allowed)."""
        if len(self) == 0 or k <= 0 or (allowed is not None and not len(allowed)):
            return []
        q = np.ascontiguousarray(query, dtype=np.float32).reshape(1, -1)
        if allowed is None:
            scores, ids = self.index.search(q, min(k, len(self)))
        else:
            faiss = _faiss()
            selector = faiss.IDSelectorBatch(np.asarray(allowed, dtype=np.int64))
            params = faiss.SearchParametersIVF(sel=selector, nprobe=self.index.nprobe) if _ivf(self.index) else faiss.SearchParameters(sel=selector)
            scores, ids = self.index.search(q, min(k, len(allowed)), params=params)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0]

    def maybe_make_approximate(self, threshold: int = APPROXIMATE_THRESHOLD) -> bool:
        """Switch an exact index that has grown past `threshold` to IVF; True if it switched."""
        if _ivf(self.index) is not None or len(self) <= threshold:
            return False
        faiss = _faiss()
        ids = self.ids()
        vectors = self.index.index.reconstruct_n(0, len(self))
        nlist = int(4 * math.sqrt(len(self)))
        quantizer = faiss.IndexFlatIP(self.dimension)
        ivf = faiss.IndexIVFFlat(quantizer, self.dimension, nlist, faiss.METRIC_INNER_PRODUCT)
        rng = np.random.default_rng(0)
        sample = vectors[rng.choice(len(vectors), size=min(len(vectors), 64 * nlist), replace=False)]
        faiss.omp_set_num_threads(_ALL_THREADS[0])  # training and adding a million vectors: every core
        try:
            ivf.train(sample)
            ivf.set_direct_map_type(faiss.DirectMap.Hashtable)
            ivf.add_with_ids(vectors, ids)
        finally:
            faiss.omp_set_num_threads(SEARCH_THREADS)
        ivf.nprobe = nprobe_for(nlist)
        self.index = ivf
        return True

    def save(self, path: Path) -> None:
        """Write to a temporary name, fsync, then rename: a reader never sees half a file."""
        faiss = _faiss()
        tmp = path.with_name(path.name + ".tmp")
        try:
            faiss.write_index(self.index, str(tmp))
        except RuntimeError as exc:  # FAISS reports a failed write as text: make it the OSError it is
            tmp.unlink(missing_ok=True)
            text = str(exc)
            code = errno.ENOSPC if "No space left" in text else errno.EROFS if "Read-only" in text else errno.EIO
            raise OSError(code, os.strerror(code), str(tmp)) from None
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)


def _ivf(index: "faiss.Index") -> "faiss.IndexIVF | None":
    faiss = _faiss()
    try:
        return faiss.extract_index_ivf(index)
    except RuntimeError:
        return None
