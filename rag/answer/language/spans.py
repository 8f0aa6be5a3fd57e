"""The short answer inside the answer sentence: the number, date, name or place asked for.

"How many children were abused in Rotherham?" is answered by a sentence; the reader wants
"1,400" first. For a question that asks for a thing (rag.answer.language.answer_types: a
number, a date, a person or body, a place) the candidates of that kind in the sentence are
found by pattern; a candidate made only of the question's own words is not an answer; of the
rest, the one nearest the words the sentence shares with the question is chosen (the answer
sits next to what the question says about it). Offsets are into the text given, so the span
is verbatim.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from rag.answer.language.answer_types import question_type
from rag.text.terms import STOP_WORDS, stem, words

_NUMBER_WORD = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|"
    r"seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety|hundred|thousand|"
    r"million|billion|trillion|dozen|dozens|hundreds|thousands|millions|half|a third|a quarter|"
    r"two[- ]thirds|three[- ]quarters)"
)
_MODIFIER = (r"(?:(?:more|fewer|less) than|about|around|almost|nearly|over|under|up to|at least|at most|"
             r"roughly|approximately|some|just over|just under|only)\s+")
_SCALE = r"(?:\s?(?:%|per ?cent|percent)|\s(?:million|billion|trillion|thousand|hundred)|(?:m|bn|k)\b)"
_NUMBER = re.compile(
    rf"\b(?:{_MODIFIER})?(?:[£$€]\s?)?\d[\d,]*(?:\.\d+)?(?:[-–]\d+)?{_SCALE}?(?![\w-])"
    rf"|\b(?:{_MODIFIER})?{_NUMBER_WORD}(?:[\s-]+(?:and\s+)?{_NUMBER_WORD})*{_SCALE}?\b",
    re.I,
)
#: Units a number is counted in: kept in the span ("15 years", "30 km").
_UNIT = re.compile(
    r"\s+(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centuries|miles?|km|kilometres?|"
    r"kilometers?|metres?|meters?|feet|foot|inches|cm|mm|kg|kilograms?|tonnes?|tons?|pounds?|dollars?|euros?|"
    r"degrees?|acres?|hectares?|square (?:miles?|kilometres?|kilometers?|metres?|meters?|feet))\b",
    re.I,
)
_TIME_UNIT = re.compile(r"\b(?:years?|months?|weeks?|days?|hours?|minutes?|seconds?|decades?|centuries)$", re.I)
_MONTH = (r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
          r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?")
_ORDINAL = (r"(?:\d{1,2}(?:st|nd|rd|th)|first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|"
            r"eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|"
            r"twentieth|twenty-first)")
_DATE = re.compile(
    rf"\b{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTH}(?:,?\s+\d{{4}})?\b"
    rf"|\b{_MONTH}\s+(?:of\s+)?\d{{4}}\b"
    rf"|\b(?:the\s+)?(?:early|mid|late)[\s-]+(?:1[0-9]{{3}}|20[0-9]{{2}})s\b"
    r"|\b(?:between|from)\s+(?:1[0-9]{3}|20[0-9]{2})\s+(?:and|to|until)\s+(?:1[0-9]{3}|20[0-9]{2})\b"
    r"|\b(?:1[0-9]{3}|20[0-9]{2})(?:[-–/](?:\d{2}|\d{4}))?s?\b"
    rf"|\b(?:the\s+)?(?:(?:early|mid|late)[\s-]+)?{_ORDINAL}[\s-]+(?:century|centuries|millennium)\b"
    r"|\b(?:yesterday|today|tomorrow|(?:last|next|this) (?:week|month|year|summer|winter|spring|autumn))\b"
    r"|\b(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b",
    re.I,
)
_TITLE = (r"(?:Sir|Dame|Lord|Lady|Baroness|Baron|Mr|Mrs|Ms|Dr|Professor|Prof|President|King|Queen|Prince|Princess|"
          r"Pope|Saint|St|Chief Constable|Chief Inspector|Commissioner|Detective \w+|Rev|Reverend)\.?")
_CAP = r"[A-Z][\w'’&.-]*[\w]"
_CONNECT = r"(?:of|the|for|and|de|la|von|van|du|del|der|al)"
_NAME = re.compile(rf"(?:\bthe\s+)?\b(?:{_TITLE}\s+)?{_CAP}(?:\s+(?:{_CONNECT}\s+)?{_CAP})*(?<!['’]s)")
_NOT_PLACE = frozenset(
    "january february march april may june july august september october november december monday tuesday "
    "wednesday thursday friday saturday sunday".split()
)

Span = tuple[int, int]


def _candidates(kind: str, text: str, start: int, end: int) -> list[Span]:
    sentence = text[start:end]
    if kind == "number":
        found = [m.span() for m in _NUMBER.finditer(sentence)]
        # A year is a date, not a count, unless nothing else is on offer.
        counts = [s for s in found if not re.fullmatch(r"(?:1[5-9]\d\d|20\d\d)", sentence[s[0]:s[1]])]
        found = counts or found
        found = [(a, u.end() if (u := _UNIT.match(sentence, b)) else b) for a, b in found]
    elif kind == "date":
        found = [m.span() for m in _DATE.finditer(sentence)]
    else:
        found = []
        for m in _NAME.finditer(sentence):
            a, b = m.span()
            phrase = sentence[a:b]
            # A capitalised word that only opens the sentence is no name ("Ofsted boss ..." is,
            # "The report ..." is not): keep it only if the word is capitalised elsewhere too.
            lead = re.match(r"(?:the\s+)?(\w+)", phrase, re.I)
            if (a == 0 or sentence[:a].rstrip().endswith((".", "“", '"', ":", "‘", "'"))) and lead:
                if lead.group(1).lower() in STOP_WORDS:
                    rest = re.match(r"(?:the\s+)?\w+\s+(?:(?:of|the|for|and)\s+)?", phrase, re.I)
                    if not rest or rest.end() >= len(phrase):
                        continue
                    a += rest.end()
            if kind == "place" and sentence[a:b].lower().split()[-1] in _NOT_PLACE:
                continue
            found.append((a, b))
    return [(start + a, start + b) for a, b in found]


_SHARE_QUESTION = re.compile(r"\b(?:percentage|proportion|share|fraction|per ?cent|percent)\b", re.I)
_SHARE = re.compile(r"%|\bper ?cent\b|\bpercent\b|\bhalf\b|\bthirds?\b|\bquarters?\b", re.I)
_TITLED = re.compile(rf"(?:the\s+)?{_TITLE}\s", re.I)


def _priority(kind: str, question: str, phrase: str) -> int:
    """Lower is preferred: a share for "what proportion", a person's name for "who"."""
    if kind == "number" and _SHARE_QUESTION.search(question):
        return 0 if _SHARE.search(phrase) else 1
    if kind == "number" and re.search(r"\bhow (?:long|old)\b", question, re.I):
        return 0 if _TIME_UNIT.search(phrase) else 1
    if kind == "number" and (unit := re.search(r"\bhow many (\w+)", question, re.I)) and _UNIT.match(" " + unit.group(1)):
        # "Over how many years ...?": the count of years, not of children.
        return 0 if re.search(rf"\b{re.escape(unit.group(1))}\b", phrase, re.I) else 1
    if kind == "date" and re.search(r"\b(?:period|between|how long|span|range)\b", question, re.I):
        return 0 if re.search(r"\b(?:between|from)\b|[-–]", phrase) else 1
    if kind == "entity" and re.search(r"\bwho\b", question, re.I):
        return 0 if _TITLED.match(phrase) else 1 if len(phrase.split()) >= 2 else 2
    return 0


def _nearest(candidates: list[Span], anchors: "dict[str, list[int]]", rank: "dict[Span, int]") -> Span:
    """The preferred candidate nearest the question's words: the mean over the words the
    sentence shares with the question of the distance to that word's nearest occurrence."""
    def distance(s: Span) -> float:
        middle = (s[0] + s[1]) / 2
        found = [min(abs(middle - x) for x in xs) for xs in anchors.values()]
        return sum(found) / len(found) if found else 0.0

    return min(candidates, key=lambda s: (rank[s], distance(s), s[0]))


Candidates = Callable[[str, str, int, int], list[Span]]


def answer_span(question: str, text: str, start: int, end: int, candidates: Candidates | None = None) -> Span | None:
    """Offsets of the short answer inside text[start:end], or None (the question asks for no
    thing, or the sentence holds none of the kind that the question does not already say).
    `candidates(kind, text, start, end)` replaces the patterns (bench/spacy_vs_rules.py gives
    spaCy's entities)."""
    kind = question_type(question)
    if kind == "other":
        return None
    q_words = set(words(question))
    q_stems = {stem(w) for w in q_words if w not in STOP_WORDS}
    out = []
    for a, b in (candidates or _candidates)(kind, text, start, end):
        ws = [w for w in words(_UNIT.sub("", text[a:b])) if w not in STOP_WORDS]
        if not ws or all(w in q_words or stem(w) in q_stems for w in ws):
            continue  # the question's own words are not its answer, nor are words that say nothing ("The")
        out.append((a, b))
    if not out:
        return None
    anchors: dict[str, list[int]] = {}
    for m in re.finditer(r"[^\W_]+", text[start:end]):
        word = m.group().lower()
        if word not in STOP_WORDS and stem(word) in q_stems:
            anchors.setdefault(stem(word), []).append(start + m.start())
    # A possessive name is who something belongs to, rarely the answer ("Sir Michael's concerns").
    rank = {c: 2 * _priority(kind, question, text[c[0]:c[1]]) + bool(re.match(r"['’]s\b", text[c[1]:c[1] + 3]))
            for c in out}
    a, b = _nearest(out, anchors, rank)
    while b > a and text[b - 1] in ".,;:":
        b -= 1
    return (a, b) if b > a else None
