"""What makes a news answer different from a text answer: when it was reported, which report
is the latest, and where reports disagree.

- `time_order`: a question that asks for the latest (or earliest) figure wants the newest (or
  oldest) dated article that answers it, not the best-worded one.
- `reported`: an answer from a dated article says who reported it and when.
- `conflicting_figures`: when another article states the same thing with a different number
  ("1,400 homes" / "2,100 homes"), the answer shows both, each with its source and date,
  instead of picking one silently.
- `as_of`: "As of 13 February 2024, ...?" limits the question to articles published by then.
- `metadata_question`: "When was it published?", "Which outlet ...?", "Who wrote ...?" are
  answered from the cited article's metadata, and abstain when the article does not say.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass

from rag.answer.language.answer_types import question_type
from rag.answer.types import dated
from rag.retrieve.passage import Passage
from rag.text.dates import find_date
from rag.text.sentences import sentence_spans
from rag.text.terms import STOP_WORDS, stem, terms

_LATEST = re.compile(r"\b(?:latest|most recent(?:ly)?|newest|current(?:ly)?|now|so far|to date|updated)\b", re.I)
_EARLIEST = re.compile(r"\b(?:earliest|first (?:reported|report|figure|estimate|count)|initial(?:ly)?|original(?:ly)?|at first)\b",
                       re.I)
#: A figure: a number (with thousands separators or decimals, or written as "1.2 million")
#: and the word that says what it counts.
#: Money ("£1.2m"), shares ("50%") and measures glued to their unit ("40mm") are not counts.
_FIGURE = re.compile(r"(?<![\w.,£$€])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?)(?![\w%,.]*[\w%])"
                     r"(?:\s+(?:million|billion|thousand))?(?:\s+([A-Za-z][a-z-]+))?")
#: Share of content terms (numbers aside) two sentences must have in common to say the same thing.
SAME_CLAIM = 0.4
#: ... or it holds this share of the question's own content terms (at least two of them).
SAME_QUESTION = 0.75
#: How far around a retrieved passage its article is read for a sentence restating a figure.
ARTICLE_REACH = 3_000
_STOP_STEMS = frozenset(stem(w) for w in STOP_WORDS)


def time_order(question: str) -> str | None:
    """'latest', 'earliest' or None: whether the question asks for the newest or oldest report."""
    if _LATEST.search(question):
        return "latest"
    if _EARLIEST.search(question):
        return "earliest"
    return None


def reported(outlet: str | None, published: str | None) -> str | None:
    """'reported by The Week on 3 March 2016' for a dated article; None when undated."""
    when = dated(published)
    if not when:
        return None
    return f"reported by {outlet} {when}" if outlet else f"reported {when}"


@dataclass(frozen=True)
class Figure:
    value: float
    unit: str  # the stem of the counted word; "" when none follows ("... homes evacuated was 2,350.")
    start: int  # offsets into the text it was found in
    end: int


def figures(text: str) -> list[Figure]:
    """The counted quantities a sentence states ("1,400 homes", "2.5 million people")."""
    out = []
    for m in _FIGURE.finditer(text):
        number = float(m.group(1).replace(",", ""))
        if "million" in m.group(0):
            number *= 1e6
        elif "billion" in m.group(0):
            number *= 1e9
        elif "thousand" in m.group(0):
            number *= 1e3
        unit = stem(m.group(2).lower()) if m.group(2) else ""
        if unit in _STOP_STEMS:
            unit = ""
        if not unit and (1900 <= number <= 2100 and "," not in m.group(1)):
            continue  # a bare year is a date, not a count
        out.append(Figure(number, unit, m.start(), m.end()))
    return out


_COUNTING = re.compile(r"\b(?:how many|how much|number of|figures?|count|total)\b", re.I)


def _same_thing(ours: Figure, theirs: Figure, our_terms: set[str], their_terms: set[str], counting: bool) -> bool:
    """Do two figures count the same thing? The same word after each number; or one bare
    number in a sentence that names what the other counts; two bare numbers only when the
    question asks for a count."""
    if ours.unit and theirs.unit:
        return ours.unit == theirs.unit
    if ours.unit:
        return ours.unit in their_terms
    if theirs.unit:
        return theirs.unit in our_terms
    return counting


def _claim_terms(text: str) -> set[str]:
    return {t for t in terms(text) if t and not t[0].isdigit() and t not in _STOP_STEMS}


@dataclass(frozen=True)
class Conflict:
    """Another article's sentence giving a different figure for the same claim."""

    passage: Passage
    start: int  # offsets into the passage's document
    end: int
    ours: Figure
    theirs: Figure


def conflicting_figures(
    question: str, span: str, span_document: int, passages: Sequence[Passage],
    document_text: Callable[[int], str] | None = None,
) -> list[Conflict]:
    """Sentences in the other retrieved articles that say what `span` says (most of its content
    words) but with a different number for the same counted thing; at most one per article.
    With `document_text`, each article is read around its passage (ARTICLE_REACH characters
    either side), since the sentence that restates the figure is often outside the chunk.

    Only figures the question is about count: it asks for a number ("How many ...?"), or names
    the thing counted ("... homes evacuated"); a figure the answer merely mentions does not."""
    asked = set(terms(question))
    counting = question_type(question) == "number" or bool(_COUNTING.search(question))
    ours = [f for f in figures(span) if counting or (f.unit and f.unit in asked)]
    if not ours:
        return []
    claim = _claim_terms(span)
    question_claim = _claim_terms(question)
    found: dict[int, Conflict] = {}
    for passage in passages:
        if passage.document_id == span_document or passage.document_id in found:
            continue
        if document_text is not None:
            whole = document_text(passage.document_id)
            offset = max(0, passage.start - ARTICLE_REACH)
            text = whole[offset : passage.end + ARTICLE_REACH]
        else:
            offset, text = passage.start, passage.text
        for a, b in sentence_spans(text):
            sentence = text[a:b]
            theirs_terms = _claim_terms(sentence)
            says_the_same = bool(claim) and len(claim & theirs_terms) / min(len(claim), len(theirs_terms) or 1) >= SAME_CLAIM
            # Or it answers the question itself in other words (a headline's "1,400 homes evacuated"
            # and "the final count of homes evacuated during the flood was 2,350").
            answers_the_same = (len(question_claim) >= 2
                                and len(question_claim & theirs_terms) / len(question_claim) >= SAME_QUESTION)
            if not (says_the_same or answers_the_same):
                continue
            # Same counted thing: the same word after the number, or a bare number in a sentence
            # that names the thing ("the final count of homes evacuated was 2,350").
            pairs = [(o, t) for o in ours for t in figures(sentence) if o.value != t.value
                     and _same_thing(o, t, claim, theirs_terms, counting)]
            if pairs:
                o, t = pairs[0]
                found[passage.document_id] = Conflict(passage, offset + a, offset + b, o, t)
                break
    return list(found.values())


_UNTIL = r"as of|as at|by|before|up to|until|no later than"
_ON = r"(?:published|reported|dated|printed|posted|written|filed)\s+on"
_SINCE = r"since|after|from"
_DATE_BOUND = re.compile(rf"\b(?:(?P<until>{_UNTIL})|(?P<on>{_ON})|(?P<since>{_SINCE}))\s+(?:the\s+)?", re.I)
#: A verb of publishing ("report" only as a verb: "did the Courier report that", not "the Ofsted
#: report" nor "the report that ..."; "post" not as a capitalised name: "the Alder Valley Post's").
_REPORT_VERB = (r"(?:publish(?:ed|es)?|reported|(?<!\bthe\s)(?<!\ba\s)(?<!\bthis\s)(?<!\bits\s)(?<!\btheir\s)"
                r"report(?=\s+(?:that|on|it)\b)|print(?:ed)?|(?-i:post(?:ed)?)|run|ran|"
                r"appear(?:ed|s)?|release[ds]?|carr(?:y|ied|ies)|wr(?:ote|itten|ite)|cover(?:ed)?|broke)")
#: "first reported", "originally published": the verb with what may lead it.
_PUBLISHING = rf"(?:first\s+|originally\s+)?{_REPORT_VERB}"
_OUTLET = r"(?:news\s*)?(?:outlet|newspaper|paper|publication|site|website|broadcaster|title|media)s?"
_WRITER = r"(?:journalist|reporter|correspondent|writer|author)s?"
#: How a question about the report's date begins: "When was", "On what date did" ...
_ASKING_WHEN = r"^\s*(?:when|on what (?:date|day)|what (?:date|day)|which (?:date|day))\s+(?:was|were|did|had|has)\s+"
_WHICH_OUTLET = re.compile(rf"\b(?:which|what)\s+{_OUTLET}\b(?=.*\b{_REPORT_VERB}\b)", re.I)
_PIECE = r"(?:article|report|story|piece|explainer|coverage|column|feature)s?"
_WHO_WROTE = re.compile(
    rf"^\s*(?:who\s+(?:wrote|authored|filed|reported)\s+(?:the|this|that|an?)\s+(?:[\w'’-]+\s+){{0,4}}?{_PIECE}\b"
    rf"|whose byline|which\s+{_WRITER}\s+{_REPORT_VERB})", re.I)


def date_bounds(question: str) -> tuple[str | None, str | None, str]:
    """(since, until, the question without the phrase) for the dates a question bounds itself
    by: "As of 13 February 2024, ...?" (until), "... reports published on 12 February 2024?"
    (that day), "since 1 March 2016" (since). A year-less date is no bound (never guessed)."""
    for m in _DATE_BOUND.finditer(question):
        found = find_date(question[m.end() : m.end() + 60])
        if found is None or found.start != 0:
            continue
        day = found.iso[:10]
        end = m.end() + found.end
        if m.group("on"):  # "reports published on DATE": keep "reports", drop the bound
            start, bound = m.start("on"), (day, day)
        else:
            start, bound = m.start(), ((None, day) if m.group("until") else (day, None))
        rest = re.sub(r"\s{2,}", " ", (question[:start] + question[end:]).strip(" ,"))
        rest = re.sub(r"\s+([?.,])", r"\1", rest)
        return bound[0], bound[1], rest
    return None, None, question


_ABOUT_A_PIECE = re.compile(r"\b(?:article|story|piece|explainer|coverage|column|feature)s?\b|\breport\s+that\b", re.I)
#: "When was <subject> published?", "When did <subject> report that ...?"
_WHEN_SUBJECT = re.compile(rf"{_ASKING_WHEN}(?P<subject>.+?)\s+{_PUBLISHING}\b", re.I)
#: The asking of a question about the report itself, and its verb of publishing (metadata_topic).
_ASKING = re.compile(
    rf"{_ASKING_WHEN}|^\s*(?:(?:in\s+)?(?:which|what)\s+{_OUTLET}|who|whose byline|which\s+{_WRITER})"
    rf"\s+(?:(?:was|were|did|had|has)\s+)?", re.I)
_PUBLISHING_VERB = re.compile(rf"\b{_PUBLISHING}\b", re.I)


def metadata_topic(question: str) -> str:
    """What identifies the piece a question about the report itself asks about, without the
    asking: "When was the Post's article on council tax relief published?" -> "the Post's
    article on council tax relief". The answer is the piece's metadata, so the sentence to cite
    is the one that matches the piece, not one holding a date or a name."""
    topic = _PUBLISHING_VERB.sub(" ", _ASKING.sub("", question, count=1))
    return re.sub(r"\s{2,}", " ", topic).strip(" ?")


def metadata_question(question: str, outlets: Collection[str] = ()) -> str | None:
    """'published', 'outlet' or 'authors' when the question asks about the report itself
    (when it appeared, in which outlet, who wrote it) rather than what the report says:
    "Which outlet reported ...?" (not "Which broadcaster did he speak to?"), "Who wrote the
    Courier's report ...?" (not "Who wrote that ...?"), and "When did the Courier report that
    ...?" or "When was the explainer published?" (a piece, or one of `outlets`, is the subject;
    not "When was the MPs' report into ... published?", which the text answers)."""
    if _WHO_WROTE.search(question):
        return "authors"
    if _WHICH_OUTLET.search(question):
        return "outlet"
    m = _WHEN_SUBJECT.search(question)
    if m:
        subject = m.group("subject")
        named = {w.casefold() for w in re.findall(r"[A-Za-z]{4,}", subject)}
        by_outlet = any(o.split()[-1].casefold() in named for o in outlets if o and len(o.split()[-1]) >= 4)
        if _ABOUT_A_PIECE.search(subject) or by_outlet:
            return "published"
    return None

