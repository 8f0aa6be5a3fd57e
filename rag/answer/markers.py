"""Citation markers as models write them, and a reply cut into sentences with their markers.

Prompted for "[1]", models also write "[1, 4]", "[1][2]", "[1-3]", "[Passage 1]",
"(Passage 1)", "[^1]" (with or without a footnote list at the end), or nothing at all; and
they put the marker before or after the full stop. All of these mean the same thing, so
each sentence is paired with the passage numbers it cites, whatever the shape.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rag.text.sentences import sentence_spans

_LABEL = r"(?:passages?|sources?|documents?|docs?|refs?|references?|context)\s*#?\s*"
_ITEM = r"(?:\^|" + _LABEL + r")?\d+(?:\s*[-–]\s*\d+)?"
_LIST = _ITEM + r"(?:\s*(?:,|;|and|&)\s*" + _ITEM + r")*"
#: "[1]", "[1, 4]", "[1-3]", "[^1]", "[Passage 1]", "[Passages 1 and 2]", "(Passage 1)", "(Sources 2, 3)".
MARKER = re.compile(r"\s*(?:\[\s*(" + _LIST + r")\s*\]|\(\s*(" + _LABEL + r"\d+(?:\s*(?:[-–,;&]|and)\s*" + _ITEM
                    + r")*)\s*\))", re.IGNORECASE)
#: A markdown footnote definition line: "[^1]: Passage 1".
_FOOTNOTE_LINE = re.compile(r"^\s*\[\^?\d+\]:.*$", re.MULTILINE)
_NUMBER = re.compile(r"\d+")


@dataclass(frozen=True)
class ReplySentence:
    """One sentence of a reply: its words without markers, and the passage numbers it cites."""

    text: str
    markers: tuple[int, ...]
    raw: str


def marker_numbers(marker: str) -> list[int]:
    """The passage numbers one marker names: "[1-3]" -> [1, 2, 3], "[Passage 2, 4]" -> [2, 4]."""
    out: list[int] = []
    for part in re.split(r"\s*(?:,|;|and|&)\s*", marker, flags=re.IGNORECASE):
        numbers = [int(n) for n in _NUMBER.findall(part)]
        if len(numbers) == 2 and re.search(r"[-–]", part) and 0 < numbers[1] - numbers[0] < 20:
            out.extend(range(numbers[0], numbers[1] + 1))
        else:
            out.extend(numbers)
    return out


def strip_markers(text: str) -> tuple[str, list[int]]:
    """The text with its markers removed, and the passage numbers they named (in order, once)."""
    numbers: list[int] = []
    for m in MARKER.finditer(text):
        numbers.extend(marker_numbers(m.group(1) or m.group(2)))
    cleaned = MARKER.sub("", text)
    cleaned = re.sub(r"\s+([.,;:!?])", r"\1", cleaned)
    return " ".join(cleaned.split()), list(dict.fromkeys(numbers))


def split_reply(reply: str) -> list[ReplySentence]:
    """The reply's sentences with their markers. A marker standing alone after a full stop
    ("... Rotherham. [1]") belongs to the sentence before it."""
    body = _FOOTNOTE_LINE.sub("", reply)
    pieces: list[list[str]] = []  # [raw, ...] per sentence
    for start, end in sentence_spans(body):
        raw = body[start:end]
        lead = re.match(r"(?:" + MARKER.pattern + r")+", raw, re.IGNORECASE)
        if lead and pieces:
            # Markers opening a sentence close the one before ("... 2013. [1] Sir Tom ...").
            pieces[-1].append(lead.group())
            raw = raw[lead.end():]
        if not strip_markers(raw)[0].strip(" .") and pieces:
            pieces[-1].append(raw)
            continue
        if raw.strip():
            pieces.append([raw])
    out = []
    for parts in pieces:
        raw = " ".join(p.strip() for p in parts)
        text, numbers = strip_markers(raw)
        if text.strip(" ."):
            out.append(ReplySentence(text, tuple(numbers), raw))
    return out
