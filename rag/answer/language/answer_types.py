"""What kind of thing a question asks for, and whether a piece of text holds one.

"How many children ...?" wants a number, "When ...?" a date, "Who ...?" a person or a body,
"Where ...?" a place. A sentence that matches the question's words but holds nothing of the
kind asked for does not answer it. The kind is set by the question's first question phrase,
so "Who led the troops when Cyprus was conquered?" asks for a person, not a date.
"""

from __future__ import annotations

import re

from rag.text.terms import STOP_WORDS, words

KINDS = ("number", "date", "entity", "place", "other")

_PATTERNS = (
    ("number", r"\bhow (?:many|much|old|long|large|big|far|tall|high)\b|\bnumber of\b"
               r"|\bwhat (?:percentage|proportion|share|fraction|amount)\b"
               # "What is the population of ...?" asks for a count as surely as "How many ...?".
               r"|\bwhat (?:is|was|are|were) (?:the )?(?:\w+ )?(?:population|total|cost|price|budget|salary|turnout"
               r"|death toll)\b"),
    ("date", r"\bwhen\b|\bsince when\b|\b(?:what|which|in what|in which) (?:year|date|month|day|time|century|decade|period)\b"),
    ("entity", r"\bwho\b|\bwhom\b|\bwhose\b"
               r"|\bwhich (?:person|man|woman|body|organi[sz]ation|group|agency|watchdog|official|company|party)\b"
               # Bodies and people news names ("Which broadcaster ...?", "Which senior policeman ...?").
               r"|\b(?:which|what) (?:\w+ )?(?:broadcaster|newspaper|committee|charity|council|union|ministry"
               r"|department|regulator|inspectorate|forces?|policeman|politician|minister|officer|chief|leader"
               r"|firm|bank|team|club|university|network|channel|court)\b"),
    ("place", r"\bwhere\b|\b(?:what|which) (?:town|city|country|place|county|region|areas?|places|towns|cities|countries|state)\b"
              r"|\bwhat (?:is|was) (?:the )?capital\b"),
)

_NUMBER_WORDS = frozenset(
    "one two three four five six seven eight nine ten eleven twelve dozen dozens twenty thirty forty fifty "
    "hundred hundreds thousand thousands million millions billion half third quarter percent per cent".split()
)
_DATE_WORDS = frozenset(
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday "
    "saturday sunday yesterday today century decade".split()
)
_ORDINAL_WORDS = (
    "first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|"
    "fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|twenty-first"
)
_DATE = re.compile(
    r"\b(?:1[0-9]{3}|20[0-9]{2})s?\b"  # a year or a decade: 1997, 1990s
    rf"|\b(?:\d{{1,2}}(?:st|nd|rd|th)|{_ORDINAL_WORDS})[\s-]+(?:century|centuries|millennium)\b",
    re.I,
)
_DIGIT = re.compile(r"\d")
_YEAR = re.compile(r"(?<![\d,.£$€])\b(?:1[5-9]\d\d|20\d\d)s?\b(?![,.]?\d)(?!\s?(?:%|per ?cent|million|billion|people|children))")
_PERSON = re.compile(
    r"\b(?:Sir|Dame|Lord|Lady|Mr|Mrs|Ms|Dr|Professor|Chief Constable)\.?\s+[A-Z][\w'’-]+"
    r"|\b[A-Z][a-z][\w'’-]*(?:\s+(?:of\s+|the\s+)?[A-Z][\w'’-]+)+|\b[A-Z]{2,}s?\b"
)
_CAPITALISED = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][a-zA-Z'’-]+")


def question_type(question: str) -> str:
    """One of KINDS: the kind of the question phrase that comes first."""
    q = question.lower()
    found = [(m.start(), kind) for kind, pattern in _PATTERNS if (m := re.search(pattern, q))]
    return min(found)[1] if found else "other"


def has_type(text: str, kind: str, question_words: set[str]) -> bool:
    """Does `text` hold something of `kind` that the question does not already say?"""
    new_words = [w for w in words(text) if w not in question_words]
    if kind == "number":
        # A year is a date, not a count: "by 1901 Melbourne had become the largest city" does
        # not say how many people live there.
        return bool(_DIGIT.search(_YEAR.sub(" ", text))) or any(w in _NUMBER_WORDS for w in new_words)
    if kind == "date":
        return bool(_DATE.search(text)) or any(w in _DATE_WORDS for w in new_words)
    if kind == "entity":
        # A person or body: a title and a name, two capitalised words, or an acronym.
        names = [m.group() for m in _PERSON.finditer(text)]
        return any(not set(words(n)) <= question_words for n in names)
    if kind == "place":
        names = {m.group().lower() for m in _CAPITALISED.finditer(text)}
        return any(n not in question_words and n not in STOP_WORDS for n in names)
    return True


_AUXILIARIES = frozenset(
    "is are was were be been being do does did has have had will would can could shall should may might must".split()
)
_WH = frozenset("who whom whose what which where when why how".split())


def focus_words(question: str) -> list[str]:
    """The words that say what is asked: the noun of "which/what X" and the verb right after
    "who/what" ("Who commissioned the report that found ...?" asks about commissioning; the
    rest describes the report, and may be said in another sentence)."""
    ws = words(question)
    out = []
    for i, w in enumerate(ws[:-1]):
        if w not in _WH:
            continue
        nxt = ws[i + 1]
        if nxt in _AUXILIARIES or nxt in STOP_WORDS:
            continue
        out.append(nxt)
        break
    return out
