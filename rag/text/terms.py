"""Words as the index sees them: lower-cased, Porter-stemmed like SQLite's FTS5 `porter` tokenizer.

The answerer and the abstention check compare question words with passage words through
these terms, and look up their document frequency in the FTS5 vocabulary, so both sides
must stem the same way.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Sequence
from functools import lru_cache

WORD = re.compile(r"[^\W_]+", re.UNICODE)
#: Small words inside names: "University of California", "Guy de Lusignan".
NAME_CONNECTORS = frozenset("of de la le the von van da di du del der bin al".split())
#: A run of capitalised words, connectors allowed between them: a name as written.
NAME = re.compile(
    r"[A-Z][\w'’-]*\.?(?:\s+(?:(?:" + "|".join(sorted(NAME_CONNECTORS)) + r")\s+)*[A-Z][\w'’-]*\.?)*"
)

# Words that carry no topic: question words, auxiliaries, pronouns, prepositions.
STOP_WORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them themselves
    then there these they this those through to too under until up very was we were what when where
    which while who whom why will with would you your yours yourself yourselves many much say said
    says according tell told name named called kind type get got one ones whose""".split()
)


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import snowballstemmer

    return snowballstemmer.stemmer("porter")


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch))


def words(text: str) -> list[str]:
    return WORD.findall(_fold(text))


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    return str(_stemmer().stemWord(word))


def terms(text: str) -> list[str]:
    """Every word's stem, in order (stop words included)."""
    return [stem(w) for w in words(text)]


def content_terms(text: str) -> list[str]:
    """Stems of the words that carry meaning, each once, in order."""
    return list(dict.fromkeys(stem(w) for w in words(text) if w not in STOP_WORDS))


def term_weights(question_terms: Sequence[str], df: dict[str, int], n_chunks: int) -> dict[str, float]:
    """BM25-style idf for terms the index knows; terms it has never seen weigh nothing, since a
    paraphrase has them as often as an unanswerable question does."""
    n = max(n_chunks, 1)
    return {t: math.log(1 + (n - df.get(t, 0) + 0.5) / (df.get(t, 0) + 0.5)) for t in question_terms if df.get(t, 0) > 0}
