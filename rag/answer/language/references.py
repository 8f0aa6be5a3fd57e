"""Names a sentence refers to without spelling them out.

News and encyclopaedia text names a person in full once ("Sir Tom Winsor"), then shortens
("Sir Tom", "Winsor") or uses a pronoun ("He told the BBC ..."). A question usually spells the
name out ("Which broadcaster did David Simmonds speak to?"), so the sentence that answers it
looks like it misses the name. This module finds, for one sentence, the stems of the names it
means: the rest of a shortened name (from the nearest earlier mention that holds it in full),
the long name an acronym stands for and the acronym of a long name ("LGA"), the person a
leading "He"/"She" stands for (the first person named in the nearest sentence before it that
names one, with the description after the name), and what "it" is in "..., it said" (the
report or body last said to have said something). Only text shortly before the sentence is
read, so the cost per sentence is bounded whatever the article's length.
"""

from __future__ import annotations

import re

from rag.text.sentences import sentence_spans
from rag.text.terms import NAME, STOP_WORDS, stem, terms, words

#: How far back a shortened name looks for its full form, and a pronoun for its person.
NAME_LOOKBACK = 5_000
PRONOUN_LOOKBACK = 600
REPORTER_LOOKBACK = 1_500

_TITLES = frozenset(
    "sir dame lord lady mr mrs ms miss dr professor prof chief constable president king queen prince princess "
    "duke duchess earl count bishop pope saint st general colonel captain judge justice senator governor mayor".split()
)
#: Words that make a capitalised phrase a body or a place rather than a person.
_NOT_PERSON = frozenset(
    "council association government board committee police inspectorate office department ministry "
    "university college school party league company corporation agency service services court parliament "
    "church bank group institute society union authority trust foundation news times week report "
    "city county state kingdom republic street river island islands sea ocean mountains valley".split()
)
_POSSESSIVE = re.compile(r"['’]s$")
_REPORTING = r"(?:said|says|found|finds|warned|warns|concluded|stated|noted|added|adds|reported|argued|claimed)"
#: "..., it said." / "But it warned that ...": a document or body said it.
_IT_REPORTS = re.compile(rf"\bit\s+{_REPORTING}\b", re.IGNORECASE)
#: "The report – titled ... – said", "found the report": what "it" stands for.
_REPORTER = re.compile(
    rf"\b(?:the|a|this|that)\s+(?P<noun>[a-z]+)\s+(?:[–—-][^–—]{{0,200}}[–—-]\s+)?{_REPORTING}\b"
    rf"|\b{_REPORTING}\s+the\s+(?P<noun2>[a-z]+)\b",
    re.IGNORECASE,
)
_PERSON_PRONOUN_START = re.compile(r"(?:(?:In|On|At)\s+(?:his|her)\s+\w+,\s+)?(?:He|She|His|Her)\b")


def _name_words(mention: str) -> list[str]:
    """A mention's words that identify someone: no titles, possessives or stop words."""
    out = []
    for w in mention.split():
        w = _POSSESSIVE.sub("", w).strip(".")
        low = w.lower()
        if w and low not in _TITLES and low not in STOP_WORDS and not low.isdigit():
            out.append(low)
    return out


def _mentions(text: str) -> list[tuple[int, str, list[str], bool]]:
    """(offset, mention, its name words, looks like a person) for each capitalised phrase."""
    out = []
    for m in NAME.finditer(text):
        names = _name_words(m.group())
        if not names:
            continue
        lowered = m.group().lower().split()
        titled = lowered[0].strip(".") in _TITLES
        person = titled or (2 <= len(names) <= 4 and not any(n in _NOT_PERSON for n in names))
        out.append((m.start(), m.group(), names, person))
    return out


def _completed(names: list[str], earlier: list[tuple[int, str, list[str], bool]]) -> list[str]:
    """A shortened name in full, from the nearest earlier mention that holds all its words."""
    wanted = set(names)
    for _, _, full, _ in reversed(earlier):
        if wanted < set(full):
            return full
    return names


def _initials(names: list[str]) -> str | None:
    """"Local Government Association" -> "lga": the acronym a long name may go by."""
    return "".join(n[0] for n in names) if len(names) >= 2 else None


def _description(text: str, end: int) -> str:
    """The apposition after a name: "David Simmonds, chairman of the LGA's board, said" -> "chairman ..."."""
    m = re.match(r",\s+([^,;:.!?]{3,120}),", text[end:])
    return m.group(1) if m and not m.group(1)[0].isupper() else ""


def referred_terms(text: str, start: int, end: int) -> frozenset[str]:
    """Stems of the names `text[start:end]` refers to but does not spell out."""
    sentence = text[start:end]
    found: set[str] = set()
    lookback = max(0, start - NAME_LOOKBACK)
    own = _mentions(sentence)
    if own:
        earlier = _mentions(text[lookback:start])
        acronyms = {_initials(names): names for _, _, names, person in earlier + own if not person and _initials(names)}
        for _, mention, names, person in own:
            found.update(_completed(names, earlier))
            if not person and (initials := _initials(names)) is not None:
                found.add(initials)
            for word in (_POSSESSIVE.sub("", w) for w in mention.split()):
                if word.isupper() and word.lower() in acronyms:
                    found.update(acronyms[word.lower()])
    if _PERSON_PRONOUN_START.match(sentence):
        window_start = max(0, start - PRONOUN_LOOKBACK)
        window = text[window_start:start]
        for a, b in reversed(sentence_spans(window)):
            people = [(offset, mention, names) for offset, mention, names, person in _mentions(window[a:b]) if person]
            if people:
                offset, mention, names = people[0]
                at = window_start + a + offset
                found.update(_completed(names, _mentions(text[lookback:at])))
                found.update(words(_description(text, at + len(mention))))
                break
    if _IT_REPORTS.search(sentence):
        window = text[max(0, start - REPORTER_LOOKBACK) : start]
        reporters = list(_REPORTER.finditer(window))
        if reporters:
            found.add((reporters[-1].group("noun") or reporters[-1].group("noun2")).lower())
    own_words = set(words(sentence))
    return frozenset(stem(w) for n in found for w in words(n) if len(w) > 1 and w not in own_words and w not in STOP_WORDS)


def meant_terms(text: str, start: int, end: int) -> set[str]:
    """The terms `text[start:end]` says, and those of the names it means without spelling out."""
    return set(terms(text[start:end])) | referred_terms(text, start, end)

