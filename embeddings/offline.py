"""An embedder that needs no downloaded weights: signed feature hashing of words and their parts.

Each text becomes a bag of features (word stems, adjacent-stem pairs, and character 3-5-grams
of each word, which match "abused" with "abuse" and survive typos), weighted by sublinear
term frequency and hashed with a stable hash into `dimension` signed buckets. No state is
fitted, so nothing needs persisting and the same text gives the same vector on every machine.
Words are weighted by a fixed English-frequency IDF (wordfreq), not one fitted on the corpus.
It knows nothing of meaning beyond shared word parts; fused with BM25 at a low weight it adds
fuzzy lexical matching (measured in bench/retrieval_quality.py).
"""

from __future__ import annotations

import math
import re
import unicodedata
import zlib
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache

import numpy as np

from embeddings.base import Embedder, l2_normalise

VERSION = "hash-v1"
DEFAULT_DIMENSION = 768
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
# Words that carry no topic; they are left out of the features entirely.
_STOP = frozenset(
    """a about after all also an and any are as at be been being but by can could did do does
    for from had has have he her his how i if in into is it its me my no not of on or our she so
    than that the their them then there these they this those to too us was we were what when
    where which while who whom why will with would you your""".split()
)
UNIGRAM, BIGRAM, NGRAM = 1.0, 0.3, 0.15


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import snowballstemmer

    return snowballstemmer.stemmer("porter")


def _hash(feature: str) -> int:
    return zlib.crc32(feature.encode("utf-8"))


@lru_cache(maxsize=262_144)
def rarity(word: str) -> float:
    """A fixed, corpus-independent IDF: how rare the word is in English (wordfreq's Zipf scale).

    "the" weighs almost nothing, "children" a little, "Rotherham" a lot; an unknown word most.
    """
    from wordfreq import zipf_frequency

    return max(0.05, (8.0 - zipf_frequency(word, "en")) / 4.0)


@lru_cache(maxsize=262_144)
def _word_features(word: str, dimension: int) -> tuple[np.ndarray, np.ndarray]:
    """Bucket indices and signed weights for one word: its stem and its character n-grams."""
    stem = str(_stemmer().stemWord(word))
    features = [("w:" + stem, UNIGRAM)]
    marked = f"<{word}>"
    grams = [marked[i : i + n] for n in (3, 4, 5) for i in range(len(marked) - n + 1)]
    if grams:
        share = NGRAM / math.sqrt(len(grams))
        features += [("g:" + g, share) for g in grams]
    hashes = np.array([_hash(f) for f, _ in features], dtype=np.uint64)
    signs = np.where((hashes >> np.uint64(31)) & np.uint64(1), -1.0, 1.0)
    weights = np.array([w for _, w in features], dtype=np.float32) * signs.astype(np.float32) * rarity(word)
    return (hashes % np.uint64(dimension)).astype(np.int64), weights


@lru_cache(maxsize=262_144)
def _pair_feature(a: str, b: str, dimension: int) -> tuple[int, float]:
    h = _hash(f"b:{_stemmer().stemWord(a)} {_stemmer().stemWord(b)}")
    weight = BIGRAM * math.sqrt(rarity(a) * rarity(b))
    return h % dimension, (-weight if (h >> 31) & 1 else weight)


def _words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text.lower())
    folded = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return [w for w in _WORD.findall(folded) if w not in _STOP]


class OfflineEmbedder(Embedder):
    """Deterministic hashed-feature vectors; fast on a CPU (tens of thousands of chunks a second)."""

    #: Its weight in reciprocal-rank fusion with BM25. Hashed words mostly repeat what BM25
    #: already knows, so at full weight they only add noise; at 0.1 they break ties and nudge
    #: recall up without ever costing any (bench/retrieval_quality.py, README "Embedders").
    fusion_weight = 0.1
    backend = "offline"

    def __init__(self, dimension: int = DEFAULT_DIMENSION) -> None:
        if dimension < 32:
            raise ValueError("dimension must be at least 32")
        self.dimension = dimension
        self.id = f"offline:{VERSION}:{dimension}"
        self.spec = "offline" if dimension == DEFAULT_DIMENSION else f"offline:{dimension}"

    def _vector(self, text: str) -> np.ndarray:
        vector = np.zeros(self.dimension, dtype=np.float32)
        words = _words(text)
        for word, count in Counter(words).items():
            idx, weights = _word_features(word, self.dimension)
            np.add.at(vector, idx, weights * (1.0 + math.log(count)))
        for (a, b), count in Counter(zip(words, words[1:])).items():
            i, w = _pair_feature(a, b, self.dimension)
            vector[i] += w * (1.0 + math.log(count))
        return vector

    def encode_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return l2_normalise(np.vstack([self._vector(t) for t in texts]))

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode_documents([text])[0]
