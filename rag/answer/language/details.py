"""The details a question names, and whether an article mentions them.

"How many children were abused in Derby?" is not answered by an article that never says
Derby, however well the rest of a sentence matches. A question's details are its names
(capitalised words after the first) and its numbers. People mistype names ("Primier League",
"Bedigo") and split or join compounds ("Sky Drive" for "SkyDrive"), so a name counts as
mentioned when the article has it within a small edit distance, joined with the next word of
the question, or sharing its first four letters ("Scottish" ~ "Scotland"). A name of several
words must stand as one name in the article: "the California Times" is not the Los Angeles Times
of an article about California. Numbers must match exactly ("2013-14" is not "2015-16") and
stand near the answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from rag.text.terms import NAME, NAME_CONNECTORS, STOP_WORDS, WORD, stem, terms


@dataclass(frozen=True)
class Detail:
    """One name or number of a question, as index terms."""

    word: str  # as typed, lower case
    term: str  # its stem
    joined: tuple[str, ...]  # other ways the article may write it: joined with a neighbour ("sky" + "drive"), a decade ("1970")

    @property
    def is_number(self) -> bool:
        return self.word.isdigit()


def details(question: str) -> list[Detail]:
    """The question's names and numbers, each once, in order."""
    found = [m.group() for m in WORD.finditer(question)]
    out: dict[str, Detail] = {}
    for i, word in enumerate(found):
        if not (word.isdigit() or (i > 0 and word[0].isupper() and word.lower() not in STOP_WORDS)):
            continue
        pairs = [found[j] + found[j + 1] for j in (i - 1, i) if 0 <= j and j + 1 < len(found)]
        joined = tuple(stem(p.lower()) for p in pairs if p.isalpha())
        if len(word) == 2 and word.isdigit() and found[i + 1 : i + 2] == ["s"]:
            joined += (f"19{word}", f"20{word}")  # "the 70's": the 1970s
        out.setdefault(stem(word.lower()), Detail(word.lower(), stem(word.lower()), joined))
    return list(out.values())


def allowed_typos(word: str) -> int:
    """Edits a typed name may differ by: none below five letters, one up to seven, then two."""
    return 0 if len(word) < 5 else 1 if len(word) < 8 else 2


_PUNCTUATION = re.compile(r"[,;:.!?]+(?=\s)|[()\[\]{}\"“”|–—\n]")
_LOWER_WORD = re.compile(r"\b[a-z][a-z]*\b")
_MIDSENTENCE_CAPITAL = re.compile(r"(?<![.!?:\n]\s)(?<![.!?:\n])(?<!^)\b[A-Z][\w'’-]*")


def name_phrases(question: str) -> list[list[str]]:
    """The question's names of two or more words, as word lists: "the California Times" is one
    name, not two words that may stand apart. A possessive ends a name ("Victoria's Mount
    Bogong" holds "Mount Bogong")."""
    out = []
    for m in NAME.finditer(question):
        if m.start() == 0:
            continue
        for part in re.split(r"['’]s\b", m.group()):
            ws = [w.lower() for w in WORD.findall(part) if w.lower() not in NAME_CONNECTORS]
            if len(ws) >= 2:
                out.append(ws)
    return out


class Vocabulary:
    """The terms of one article (with its title and outlet), for checking details against."""

    def __init__(self, text: str) -> None:
        # Words the article writes as names, and the pairs they stand in, for names of several
        # words; a name does not run across punctuation.
        self._capitalised = frozenset(stem(m.group().lower()) for w in _MIDSENTENCE_CAPITAL.finditer(text)
                                      for m in WORD.finditer(w.group()))
        self._lower_case = frozenset(stem(m.group()) for m in _LOWER_WORD.finditer(text))
        all_terms: set[str] = set()
        pairs: set[tuple[str, str]] = set()
        for segment in _PUNCTUATION.split(text):
            segment_terms = terms(segment)
            all_terms.update(segment_terms)
            seq = [t for t in segment_terms if t not in NAME_CONNECTORS and t not in ("s", "t")]  # "'s", "n't"
            pairs.update((a, b) for a, b in zip(seq, seq[1:]) if a in self._capitalised or b in self._capitalised)
        self.terms = frozenset(all_terms)
        self._pairs = frozenset(pairs)
        self._prefixes = frozenset(t[:4] for t in self.terms if len(t) >= 4)
        # Initials of the article's names, every run of two to six consecutive words, for a
        # question that abbreviates one ("HM Inspectorate" for "Her Majesty's Inspectorate").
        self._initials = frozenset(
            "".join(_initial(w) for w in ws[i:j])
            for m in NAME.finditer(text)
            for ws in [[w for w in WORD.findall(m.group()) if w.lower() not in NAME_CONNECTORS and w[0].isupper()]]
            for i in range(len(ws)) for j in range(i + 2, min(len(ws), i + 6) + 1))
        self._by_length: dict[int, list[str]] = {}
        for t in self.terms:
            if not t.isdigit():
                self._by_length.setdefault(len(t), []).append(t)

    def mentions(self, detail: Detail) -> bool:
        if detail.term in self.terms or any(j in self.terms for j in detail.joined):
            return True
        if detail.is_number:
            return False
        if detail.word in self._initials:
            return True
        if len(detail.term) >= 5 and detail.term[:4] in self._prefixes:
            return True
        return bool(self._near(detail.term, allowed_typos(detail.word)))

    def has_name(self, name: list[str]) -> bool:
        """Does the article write these words as one name? Words it knows only in lower case
        ("Who did Emma Marry?") are not part of a name; typos and joined words are allowed."""
        words_: list[str] = []
        # An abbreviation of the article's own name stands for it ("HM" for "Her Majesty's").
        name = [w for w in name if w not in self._initials or stem(w) in self.terms]
        for w in name:
            if words_ and stem(words_[-1] + w) in self.terms:
                words_[-1] += w
            else:
                words_.append(w)
        kept = [(w, s) for w, s in zip(words_, map(stem, words_)) if s in self._capitalised or s not in self._lower_case]
        for (word_a, a), (word_b, b) in zip(kept, kept[1:]):
            if (a, b) in self._pairs:
                continue
            lefts = self._near(a, allowed_typos(word_a)) | ({a} if a in self.terms else set())
            rights = self._near(b, allowed_typos(word_b)) | ({b} if b in self.terms else set())
            if not any((x, y) in self._pairs for x in lefts for y in rights):
                return False
        return True

    def _near(self, term: str, edits: int) -> set[str]:
        """The article's terms within `edits` edits of `term` (itself excluded)."""
        if not edits:
            return set()
        candidates = [t for n in range(len(term) - edits, len(term) + edits + 1) for t in self._by_length.get(n, ())]
        return within_edits(term, candidates, edits) - {term}


_ROMAN_NUMERAL = re.compile(r"[IVX]{2,}")


def _initial(word: str) -> str:
    """A word's part of an abbreviation: its first letter, or a Roman numeral whole ("World War
    II" is "WWII")."""
    return word.lower() if _ROMAN_NUMERAL.fullmatch(word) else word[0].lower()


def within_edits(word: str, candidates: list[str], edits: int) -> set[str]:
    """The candidates at most `edits` edits (transpositions included) from `word`."""
    from rapidfuzz.distance import OSA
    from rapidfuzz.process import extract

    return {t for t, _, _ in extract(word, candidates, scorer=OSA.distance, score_cutoff=edits, limit=None)}


def missing_details(question: str, vocabulary: Vocabulary, also: Sequence[Vocabulary] = ()) -> list[str]:
    """The question's names and numbers that the article never mentions (as typed), nor any of
    the articles `also` read beside it: a question joining two articles names details of both."""
    vocabularies = [vocabulary, *also]
    missing = [d.word for d in details(question) if not any(v.mentions(d) for v in vocabularies)]
    if missing:
        return missing
    return [" ".join(name) for name in name_phrases(question) if not any(v.has_name(name) for v in vocabularies)]


def numbers_missing_near(question: str, text: str, start: int, end: int, reach: int = 300) -> list[str]:
    """The question's numbers that are not within `reach` characters of `text[start:end]`.

    A number the question gives ("How many ... in 2015?") is said next to its answer; one that
    the article has only elsewhere belongs to another fact. (On the SQuAD subset this marks no
    answerable question and 1.7% of the unanswerable ones answered otherwise.)
    """
    nearby = set(terms(text[max(0, start - reach) : end + reach]))
    return [d.word for d in details(question)
            if d.is_number and d.term not in nearby and not any(j in nearby for j in d.joined)]


def respelled(question: str, text: str) -> str:
    """The question with each name it misspells written as `text` spells it ("Rohterham" ->
    "Rotherham"), for a reader that matches word pieces, not edit distances: a name absent from
    `text` becomes the one name of `text` within `allowed_typos` edits of it ("Leeds" never
    becomes "leads"); a name with no such name, or with several, is left as typed."""
    names = [d for d in details(question) if not d.is_number and allowed_typos(d.word)]
    if not names:
        return question  # no name of five letters or more: nothing to respell
    present = set(terms(text))
    surface: dict[str, str] = {}  # the names of `text`: words it capitalises mid-sentence
    for name in _MIDSENTENCE_CAPITAL.finditer(text):
        for m in WORD.finditer(name.group()):
            surface.setdefault(m.group().lower(), m.group())
    out = question
    for detail in names:
        if detail.term in present:
            continue
        edits = allowed_typos(detail.word)
        near = within_edits(detail.word, [w for w in surface if w.isalpha() and abs(len(w) - len(detail.word)) <= edits],
                            edits)
        if len(near) == 1:
            out = re.sub(rf"\b{re.escape(detail.word)}\b", surface[near.pop()], out, count=1, flags=re.IGNORECASE)
    return out
