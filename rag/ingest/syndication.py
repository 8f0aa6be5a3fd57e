"""Syndicated copies: the same story published by several outlets, found by MinHash.

Each article's cleaned text becomes a set of word 5-shingles, summarised by a 128-permutation
MinHash (datasketch); a MinHashLSH index proposes candidate pairs, and a pair is linked only when
its estimated Jaccard similarity reaches `threshold`. Groups are the connected components of
those links, so a copy of a copy lands in the same group.

Why 0.5 and not 0.7 (bench/syndication.py, bench/results/syndication.md): an outlet's copy of a
~370-word wire story with its own headline, one paragraph dropped, one added and 2% of words
changed has a 5-shingle Jaccard of 0.58-0.74 with the original (median 0.66), so 0.7 found 12.5%
of true pairs and 0.5 found 94.8%, with no false pair at any threshold tried; a same-story
follow-up that repeats two quoted paragraphs scores at most 0.06. In tests/news_corpus.py the
three copies score 0.60-0.75 with each other and under 0.02 with the follow-ups.

Nothing is pickled: a signature is its 128 hash values as little-endian uint64 bytes
(`signature_bytes`), which a store can keep in a BLOB column beside the document, and a whole
index round-trips through `to_bytes`/`from_bytes` (a small JSON header, then the raw arrays).
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Hashable, Iterable, Iterator
from functools import lru_cache

import numpy as np

from rag.text.shingles import iter_shingles

SHINGLE_WORDS = 5
NUM_PERM = 128
#: Distinct shingles hashed per call while signing (bounds datasketch's hashing matrix to 32 MB).
SIGNATURE_BATCH = 32768
THRESHOLD = 0.5
SEED = 1
#: datasketch's permutation scheme; stored signatures are only comparable within one scheme.
SCHEME = "affine32"
_FORMAT = "rag-syndication/1"


def _hash32(shingle: str) -> int:
    return int.from_bytes(hashlib.blake2b(shingle.encode("utf-8"), digest_size=4).digest(), "little")


def signature(text: str, num_perm: int = NUM_PERM, k: int = SHINGLE_WORDS, seed: int = SEED) -> np.ndarray:
    """The text's MinHash signature: `num_perm` uint64 values (datasketch's permutations)."""
    from datasketch import MinHash

    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=_hash32, scheme=SCHEME)
    # In batches: datasketch hashes a batch into a (num_perm x batch) matrix, 2.5 GB for the
    # 2.5 million shingles of a 50 MB article at once; a minimum does not mind the batching.
    batch: set[str] = set()  # repeats within a batch are hashed once
    for shingle in iter_shingles(text, k):
        batch.add(shingle)
        if len(batch) == SIGNATURE_BATCH:
            m.update_batch(list(batch))
            batch = set()
    if batch:
        m.update_batch(list(batch))
    return np.asarray(m.hashvalues, dtype=np.uint64)


def signature_bytes(sig: np.ndarray) -> bytes:
    """A signature as bytes for a BLOB column (little-endian uint64)."""
    return np.asarray(sig, dtype="<u8").tobytes()


def signature_from_bytes(data: bytes, num_perm: int = NUM_PERM) -> np.ndarray:
    sig = np.frombuffer(data, dtype="<u8")
    if sig.shape != (num_perm,):
        raise ValueError(f"a signature has {num_perm} values; got {sig.size}")
    return sig.astype(np.uint64)


@lru_cache(maxsize=8)
def _bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """datasketch's (bands, rows) for these settings, worked out once: it integrates for them
    on every new index (35 ms, most of what regrouping one new article cost)."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    return lsh.b, lsh.r


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a == b)) / len(a)


class SyndicationIndex:
    """Near-duplicate articles, by key. Keys are any hashable JSON value (str or int)."""

    def __init__(self, threshold: float = THRESHOLD, num_perm: int = NUM_PERM, k: int = SHINGLE_WORDS,
                 seed: int = SEED) -> None:
        from datasketch import MinHashLSH

        if not 0.0 < threshold < 1.0:
            raise ValueError("threshold must be in (0, 1)")
        self.threshold, self.num_perm, self.k, self.seed = threshold, num_perm, k, seed
        self._lsh = MinHashLSH(threshold=threshold, num_perm=num_perm, params=_bands(threshold, num_perm))
        self._sigs: dict[Hashable, np.ndarray] = {}

    @classmethod
    def build(cls, items: Iterable[tuple[Hashable, str]], **settings) -> "SyndicationIndex":
        index = cls(**settings)
        for key, text in items:
            index.add(key, text)
        return index

    def __len__(self) -> int:
        return len(self._sigs)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._sigs

    def signature_of(self, key: Hashable) -> np.ndarray:
        return self._sigs[key]

    def add(self, key: Hashable, text: str) -> None:
        """Add (or replace) one article's text."""
        self.add_signature(key, signature(text, self.num_perm, self.k, self.seed))

    def add_signature(self, key: Hashable, sig: np.ndarray | bytes) -> None:
        """Add (or replace) one article by a stored signature (array or `signature_bytes`)."""
        from datasketch import LeanMinHash

        if isinstance(sig, (bytes, bytearray, memoryview)):
            sig = signature_from_bytes(bytes(sig), self.num_perm)
        sig = np.asarray(sig, dtype=np.uint64)
        if sig.shape != (self.num_perm,):
            raise ValueError(f"a signature has {self.num_perm} values; got {sig.size}")
        if key in self._sigs:
            self.remove(key)
        self._sigs[key] = sig
        self._lsh.insert(key, LeanMinHash(seed=self.seed, hashvalues=sig, scheme=SCHEME))

    def remove(self, key: Hashable) -> None:
        """Forget one article; unknown keys are ignored."""
        if key in self._sigs:
            self._lsh.remove(key)
            del self._sigs[key]

    def _neighbours(self, key: Hashable) -> Iterator[Hashable]:
        from datasketch import LeanMinHash

        sig = self._sigs[key]
        for other in self._lsh.query(LeanMinHash(seed=self.seed, hashvalues=sig, scheme=SCHEME)):
            if other != key and estimated_jaccard(sig, self._sigs[other]) >= self.threshold:
                yield other

    def similar(self, text: str) -> list[tuple[Hashable, float]]:
        """Indexed articles that `text` is a near-copy of, most similar first (not added)."""
        from datasketch import LeanMinHash

        sig = signature(text, self.num_perm, self.k, self.seed)
        hits = [(key, estimated_jaccard(sig, self._sigs[key]))
                for key in self._lsh.query(LeanMinHash(seed=self.seed, hashvalues=sig, scheme=SCHEME))]
        return sorted(((k, s) for k, s in hits if s >= self.threshold), key=lambda h: (-h[1], str(h[0])))

    def group_of(self, key: Hashable) -> list[Hashable]:
        """Every article linked to `key` through near-copies, `key` included, in insertion order."""
        if key not in self._sigs:
            raise KeyError(key)
        seen = self._component(key)
        return [k for k in self._sigs if k in seen]

    def _component(self, key: Hashable) -> set[Hashable]:
        """Every article reachable from `key` through near-copies, `key` included."""
        seen, todo = {key}, [key]
        while todo:
            for other in self._neighbours(todo.pop()):
                if other not in seen:
                    seen.add(other)
                    todo.append(other)
        return seen

    def groups(self, *, singletons: bool = False) -> list[list[Hashable]]:
        """Groups of near-copies (two or more articles unless `singletons`), in insertion order.

        Each group's members are put in order through one position table: ordering each group
        by scanning every key made this quadratic (5.5 s for 10,000 articles)."""
        position = {key: i for i, key in enumerate(self._sigs)}
        done: set[Hashable] = set()
        out: list[list[Hashable]] = []
        for key in self._sigs:
            if key in done:
                continue
            seen = self._component(key)
            done |= seen
            if len(seen) > 1 or singletons:
                out.append(sorted(seen, key=position.__getitem__))
        return out

    # Band keys, for a store to find an article's likely copies --------------------------------

    def band_keys(self, sig: np.ndarray) -> list[int]:
        """One signed 64-bit key per LSH band of `sig` (a hash of the band's index and values).
        The LSH index proposes two articles as copies exactly when they share a band, so they
        share a key; a store that keeps these keys hands back an article's candidates without an
        LSH index of everything (a rare hash collision adds a candidate, never loses one)."""
        sig = np.asarray(sig, dtype="<u8")
        return [int.from_bytes(hashlib.blake2b(band.to_bytes(2, "little") + sig[start:end].tobytes(),
                                               digest_size=8).digest(), "little", signed=True)
                for band, (start, end) in enumerate(self._lsh.hashranges)]

    # Serialisation without pickle ------------------------------------------------------------

    def to_bytes(self) -> bytes:
        """A JSON header (format, settings, keys) then every signature as little-endian uint64."""
        keys = list(self._sigs)
        for key in keys:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError("only str and int keys can be serialised")
        header = json.dumps({"format": _FORMAT, "threshold": self.threshold, "num_perm": self.num_perm,
                             "k": self.k, "seed": self.seed, "scheme": SCHEME, "keys": keys}).encode("utf-8")
        matrix = np.vstack([self._sigs[k] for k in keys]) if keys else np.zeros((0, self.num_perm), np.uint64)
        return struct.pack("<I", len(header)) + header + matrix.astype("<u8").tobytes()

    @classmethod
    def from_bytes(cls, data: bytes) -> "SyndicationIndex":
        if len(data) < 4:
            raise ValueError("not a syndication index")
        (size,) = struct.unpack("<I", data[:4])
        try:
            header = json.loads(data[4:4 + size].decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ValueError("not a syndication index") from exc
        if not isinstance(header, dict) or header.get("format") != _FORMAT:
            raise ValueError(f"not a syndication index (expected format {_FORMAT})")
        if header.get("scheme") != SCHEME:
            raise ValueError(f"syndication index uses scheme {header.get('scheme')!r}, not {SCHEME!r}; rebuild it")
        num_perm, keys = int(header["num_perm"]), header["keys"]
        body = data[4 + size:]
        if len(body) != len(keys) * num_perm * 8:
            raise ValueError("syndication index is truncated or damaged")
        matrix = np.frombuffer(body, dtype="<u8").reshape(len(keys), num_perm)
        index = cls(threshold=float(header["threshold"]), num_perm=num_perm, k=int(header["k"]),
                    seed=int(header["seed"]))
        for key, row in zip(keys, matrix):
            index.add_signature(key, row.astype(np.uint64))
        return index
