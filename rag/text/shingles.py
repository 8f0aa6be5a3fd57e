"""Word shingles: how much of two texts is the same words in the same order.

Shared by syndication detection at ingest (whole articles, MinHash over 5-word shingles) and
retrieval (two passages that are near-copies are never both shown).
"""

from __future__ import annotations

import re
import unicodedata
from collections import deque
from collections.abc import Iterator

_WORD = re.compile(r"\w+", re.UNICODE)


def words(text: str) -> list[str]:
    """Lower-cased words, accents and punctuation aside ("Council’s" and "council's" agree)."""
    text = unicodedata.normalize("NFKC", text or "").casefold().replace("’", "'")
    return _WORD.findall(text)


def shingles(text: str, k: int = 5) -> set[str]:
    """The text's k-word shingles; a text shorter than k words is one shingle of all its words."""
    w = words(text)
    if not w:
        return set()
    if len(w) <= k:
        return {" ".join(w)}
    return {" ".join(w[i:i + k]) for i in range(len(w) - k + 1)}


def iter_shingles(text: str, k: int = 5) -> Iterator[str]:
    """The same shingles as `shingles`, one at a time and possibly repeated: a 50 MB article
    has millions, too many to hold as a set (MinHash does not mind repeats)."""
    normalised = unicodedata.normalize("NFKC", text or "").casefold().replace("’", "'")
    window: deque[str] = deque(maxlen=k)
    seen = 0
    for m in _WORD.finditer(normalised):
        window.append(m.group())
        seen += 1
        if seen >= k:
            yield " ".join(window)
    if 0 < seen < k:
        yield " ".join(window)


def jaccard(a: set[str], b: set[str]) -> float:
    if not a and not b:
        return 0.0
    return len(a & b) / len(a | b)


def near_duplicate_text(a: str, b: str, threshold: float = 0.5, k: int = 3) -> bool:
    """Two passages say the same thing in (nearly) the same words: exact word k-shingle Jaccard.

    For passage-level dedup of retrieved chunks (a few hundred characters), so shingles are
    shorter than for whole articles (3 words, not 5) and the similarity is computed exactly.
    The defaults are measured on tests/news_corpus.py's chunks (500 characters, 100 overlap):
    a chunk of a syndicated copy and its best-matching chunk of another copy score 0.57-1.0
    (chunk boundaries fall in different places), chunks of different articles at most 0.07.
    """
    sa, sb = shingles(a, k), shingles(b, k)
    if not sa or not sb:
        return False
    return jaccard(sa, sb) >= threshold
