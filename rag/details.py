"""The details a question names, and whether an article mentions them.

"How many children were abused in Derby?" is not answered by an article that never says
Derby, however well the rest of a sentence matches. A question's details are its names
(capitalised words after the first) and its numbers. People mistype names ("Primier League",
"Bedigo") and split or join compounds ("Sky Drive" for "SkyDrive"), so a name counts as
mentioned when the article has it within a small edit distance, joined with the next word of
the question, or sharing its first four letters ("Scottish" ~ "Scotland"). Numbers must match
exactly: "2013-14" is not "2015-16", and must stand near the answer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rag.terms import STOP_WORDS, stem, terms

_WORD = re.compile(r"[^\W_]+")


@dataclass(frozen=True)
class Detail:
    """One name or number of a question, as index terms."""

    word: str  # as typed, lower case
    term: str  # its stem
    joined: tuple[str, ...]  # stems of the word joined with its neighbours ("sky" + "drive")

    @property
    def is_number(self) -> bool:
        return self.word.isdigit()


def details(question: str) -> list[Detail]:
    """The question's names and numbers, each once, in order."""
    found = [m.group() for m in _WORD.finditer(question)]
    out: dict[str, Detail] = {}
    for i, word in enumerate(found):
        if not (word.isdigit() or (i > 0 and word[0].isupper() and word.lower() not in STOP_WORDS)):
            continue
        pairs = [found[j] + found[j + 1] for j in (i - 1, i) if 0 <= j and j + 1 < len(found)]
        joined = tuple(stem(p.lower()) for p in pairs if p.isalpha())
        out.setdefault(stem(word.lower()), Detail(word.lower(), stem(word.lower()), joined))
    return list(out.values())


def allowed_typos(word: str) -> int:
    """Edits a typed name may differ by: none below five letters, one up to seven, then two."""
    return 0 if len(word) < 5 else 1 if len(word) < 8 else 2


class Vocabulary:
    """The terms of one article (with its title and outlet), for checking details against."""

    def __init__(self, text: str) -> None:
        self.terms = frozenset(terms(text))
        self._prefixes = frozenset(t[:4] for t in self.terms if len(t) >= 4)
        self._by_length: dict[int, list[str]] = {}
        for t in self.terms:
            if not t.isdigit():
                self._by_length.setdefault(len(t), []).append(t)

    @classmethod
    def union(cls, vocabularies: Iterable[Vocabulary]) -> Vocabulary:
        merged = cls("")
        for v in vocabularies:
            merged.terms |= v.terms
            merged._prefixes |= v._prefixes
            for n, ts in v._by_length.items():
                merged._by_length.setdefault(n, []).extend(ts)
        return merged

    def mentions(self, detail: Detail) -> bool:
        if detail.term in self.terms or any(j in self.terms for j in detail.joined):
            return True
        if detail.is_number:
            return False
        if len(detail.term) >= 5 and detail.term[:4] in self._prefixes:
            return True
        return self._near(detail.term, allowed_typos(detail.word))

    def _near(self, term: str, edits: int) -> bool:
        if not edits:
            return False
        from rapidfuzz.distance import OSA
        from rapidfuzz.process import extractOne

        candidates = [t for n in range(len(term) - edits, len(term) + edits + 1) for t in self._by_length.get(n, ())]
        return bool(candidates) and extractOne(term, candidates, scorer=OSA.distance, score_cutoff=edits) is not None


def missing_details(question: str, vocabulary: Vocabulary) -> list[str]:
    """The question's names and numbers that the article never mentions (as typed)."""
    return [d.word for d in details(question) if not vocabulary.mentions(d)]


def numbers_missing_near(question: str, text: str, start: int, end: int, reach: int = 300) -> list[str]:
    """The question's numbers that are not within `reach` characters of `text[start:end]`.

    A number the question gives ("How many ... in 2015?") is said next to its answer; one that
    the article has only elsewhere belongs to another fact. (On the SQuAD subset this marks no
    answerable question and 1.7% of the unanswerable ones answered otherwise.)
    """
    nearby = Vocabulary(text[max(0, start - reach) : end + reach])
    return [d.word for d in details(question) if d.is_number and not nearby.mentions(d)]

