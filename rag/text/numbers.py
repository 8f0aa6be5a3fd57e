"""Figures in text: their value, whether they are ordinals or percentages, and the hedge before
them ("more than 300"), so "1400" and "1,400", "two million" and "2 million" compare equal
while "300" and "more than 300" do not.

The claim check (rag.answer.claims) compares a model's figures with the cited sentence's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WORD_VALUES = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15, "sixteen": 16,
    "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50,
    "sixty": 60, "seventy": 70, "eighty": 80, "ninety": 90, "hundred": 100, "dozen": 12,
}
_SCALES = {"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12, "bn": 1e9, "m": 1e6, "k": 1e3}
#: Hedges, grouped by what they claim: a figure is compatible only with the same group.
_HEDGES = {
    "above": ("more than", "over", "above", "in excess of", "upwards of", "greater than", "exceeding"),
    "below": ("less than", "fewer than", "under", "below", "just under"),
    "near": ("nearly", "almost", "close to", "just short of"),
    "about": ("about", "around", "approximately", "roughly", "some", "an estimated", "estimated", "circa",
              "approx.", "an approximate", "on the order of"),
    "least": ("at least", "no fewer than", "no less than"),
    "most": ("up to", "as many as", "at most", "no more than"),
}
_HEDGE = re.compile(
    r"\b(" + "|".join(sorted((re.escape(h) for hs in _HEDGES.values() for h in hs), key=len, reverse=True))
    + r")\s+$", re.IGNORECASE)
_GROUP = {h: g for g, hs in _HEDGES.items() for h in hs}
_DIGITS = re.compile(
    r"(?<![\w.])(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(st|nd|rd|th)?(?:\s*(%|per ?cent\b|percent\b))?"
    r"(?:\s*[-–]?\s*(thousand|million|billion|trillion|bn\b|m\b|k\b))?", re.IGNORECASE)
_SPELLED = re.compile(
    r"\b((?:" + "|".join(_WORD_VALUES) + r")(?:[- ](?:" + "|".join(_WORD_VALUES) + r"))*)"
    r"(?:\s+(thousand|million|billion|trillion))?\b", re.IGNORECASE)


@dataclass(frozen=True)
class Figure:
    """One figure: [start, end) in the text, its value, and how it is stated."""

    start: int
    end: int
    value: float
    ordinal: bool
    percent: bool
    hedge: str | None  # a key of _HEDGES, or None
    #: Where the hedge starts ("more than 300": at "more"); `start` when there is none.
    hedge_start: int = -1

    def same_number(self, other: "Figure") -> bool:
        """The same quantity, whatever the notation (1400 == 1,400 == 1.4 thousand)."""
        return (abs(self.value - other.value) <= 1e-9 * max(1.0, abs(self.value))
                and self.ordinal == other.ordinal and self.percent == other.percent)

    def hedged_alike(self, other: "Figure") -> bool:
        """Do the hedges agree? An approximate figure may drop or add "about"; "more than 300"
        and a bare "300" state different things."""
        if self.hedge == other.hedge:
            return True
        return {self.hedge, other.hedge} <= {None, "about"}


def _spelled_value(words: str) -> float:
    total, current = 0.0, 0.0
    for word in re.split(r"[- ]", words.lower()):
        value = _WORD_VALUES[word]
        if value == 100:
            current = max(current, 1.0) * 100
        else:
            current += value
    return total + current


def figures(text: str) -> list[Figure]:
    """Every figure in `text`, in order. A year range "2015-16" is read as 2015 and 2016."""
    found: list[Figure] = []
    taken: list[tuple[int, int]] = []
    for m in _DIGITS.finditer(text):
        whole, fraction, suffix, percent, scale = m.groups()
        value = float(whole.replace(",", "") + (fraction or ""))
        if scale:
            value *= _SCALES[scale.lower()]
        end = m.end()
        found.append(Figure(m.start(), end, value, bool(suffix), bool(percent), *_hedge(text, m.start())))
        taken.append((m.start(), end))
    # "2015-16": the second figure is the same century's year.
    for i in range(1, len(found)):
        a, b = found[i - 1], found[i]
        if 1000 <= a.value < 3000 and b.value < 100 and re.fullmatch(r"[-–/]", text[a.end:b.start]) \
                and text[b.start:b.end].isdigit() and len(text[b.start:b.end]) == 2:
            found[i] = Figure(b.start, b.end, float(int(a.value) // 100 * 100 + b.value), False, False, b.hedge,
                              b.hedge_start)
    for m in _SPELLED.finditer(text):
        if any(a < m.end() and m.start() < b for a, b in taken):
            continue
        if m.group(1).lower() == "one" and not m.group(2):  # "one of them": a pronoun, not a count
            continue
        value = _spelled_value(m.group(1)) * (_SCALES[m.group(2).lower()] if m.group(2) else 1)
        found.append(Figure(m.start(), m.end(), value, False, False, *_hedge(text, m.start())))
    return sorted(found, key=lambda f: f.start)


def _hedge(text: str, start: int) -> tuple[str | None, int]:
    """The hedge group just before a figure, and where the hedge starts."""
    lo = max(0, start - 24)
    m = _HEDGE.search(text[lo:start])
    if not m or (m.start() + lo > 0 and text[m.start() + lo - 1].isalnum()):
        return None, start
    return _GROUP[m.group(1).lower()], lo + m.start()
