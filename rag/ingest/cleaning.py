"""Turn a news page's text into the article's own text.

Pages arrive with boilerplate around the article: the headline repeated, newsletter and
subscription promos, comment prompts, and a trailing list of unrelated stories with bylines.
The rules here are general (line shapes and calls to action), never strings copied from one
site, and they only ever drop whole lines, so an article sentence is never cut in half.
The first line of the cleaned text is the headline, so the title is searchable too.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace

from rag.ingest.metadata import OUTLET_LINES, ArticleMeta, date_line, from_text
from rag.text.terms import STOP_WORDS

#: Bump when the rules change: documents cleaned by older rules are re-processed on ingest.
#: 2: header datelines are read by rag.ingest.metadata (ISO 8601 `published`, "Updated" lines
#: kept apart), and every dateline in the header is dropped, not only the first.
#: 3: a header line that merely holds the headline's words is kept (it was dropped as a headline
#: variant when it ended in markup shown as text); files are also re-read because the loader now
#: reads nearly-UTF-8 files as UTF-8 and deeply nested HTML at all.
CLEANER_VERSION = 3

_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*$|[\"”’]$")
_SEPARATOR = re.compile(r"^[\W_]{1,5}$")
_BYLINE = re.compile(
    r"^(By|From)\s+[A-Z][\w.'’-]*(\s+[A-Za-z][\w.'’-]*){0,5}"
    r"(\s+(Published|Last updated|Updated|Posted)\b.*)?$"
)
# Calls to action that article prose does not use: each is specific enough on its own.
_PROMO = re.compile(
    r"\b(sign\s+up|sign\s+in|log\s+in|subscribe(\s+(to|now|today))?|newsletters?|in\s+your\s+inbox"
    r"|to\s+your\s+inbox|create\s+an\s+account|unlock\s+(full\s+)?access|have\s+your\s+say"
    r"|follow\s+us|share\s+this\s+(article|story)|click\s+here|read\s+more|free\s+(daily|weekly)\s+email"
    r"|advertisement|sponsored\s+content|already\s+a\s+subscriber|register\s+for\s+free)\b",
    re.IGNORECASE,
)
_FUNCTION_WORDS = frozenset(
    "a an and as at but by for from in into like of on or than that the then to with "
    "was were is are has had have its their his her our".split()
)
_WORD = re.compile(r"[A-Za-z]+")


@dataclass(frozen=True)
class CleanedText:
    """The article's own text, with what the page said about itself."""

    text: str
    title: str
    outlet: str | None = None
    #: ISO 8601, from a dateline in the header ("Published 3 March 2016" -> "2016-03-03").
    published: str | None = None
    #: Everything the header says (authors, an "Updated" date, ...), read by rag.ingest.metadata.
    meta: ArticleMeta = ArticleMeta()


_SPACES = str.maketrans({"\u00a0": " ", "\u2007": " ", "\u202f": " ", "\t": " ", "\u200b": None, "\ufeff": None})


def normalise(text: str) -> str:
    """Unicode NFC, one kind of space and newline, no trailing blanks, paragraphs one line apart."""
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_SPACES)
    # Line by line, not one re.sub over the text: that keeps a piece per space, ~700 MB for a
    # 50 MB article. str.split() and the regex \s agree on what whitespace is.
    return "\n".join(" ".join(line.split()) for line in text.split("\n"))


def _words(line: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(line)}


def _is_sentence(line: str) -> bool:
    return bool(_SENTENCE_END.search(line))


def _headline_variant(line: str, title: str) -> bool:
    """A line is a variant of the headline (the page's title and its H1, say) when most of its
    words are the headline's and most of the headline's words are in it. A longer line that
    merely holds the headline's words is article text: a sentence about the same event that ends
    in markup the page shows as text ("... said. <script>alert(1)</script>") is kept."""
    words, headline = _words(line), _words(title)
    if not words or not headline:
        return False
    shared = len(words & headline)
    return shared / min(len(words), len(headline)) >= 0.6 and shared / len(words) >= 0.5


def _is_promo(line: str) -> bool:
    return len(line) < 300 and bool(_PROMO.search(line))


def _is_anchor(line: str) -> bool:
    return bool(_SEPARATOR.match(line) or _BYLINE.match(line))


def _story_list_start(lines: list[str]) -> int:
    """Index where a trailing list of other stories starts (len(lines) if there is none).

    Such a list is a run of short items held apart by separator lines ("-", "•") or closed by
    byline lines ("By Staff Published"). Walking back from the end, at most three short lines
    may stand between anchors; the run counts only with at least two anchors. Before its first
    anchor it may take up to three headline-like lines (no sentence punctuation), never prose.
    """
    filled = [i for i, line in enumerate(lines) if line]
    anchors, first, gap = 0, None, 0
    for pos in range(len(filled) - 1, -1, -1):
        line = lines[filled[pos]]
        if _is_anchor(line):
            anchors, first, gap = anchors + 1, pos, 0
            continue
        gap += 1
        if len(line) > 240 or gap > 3:
            break
    if anchors < 2 or first is None:
        return len(lines)
    taken = 0
    while first > 0 and taken < 3:
        line = lines[filled[first - 1]]
        if _is_sentence(line) or len(line) > 240 or _is_anchor(line):
            break
        first, taken = first - 1, taken + 1
    return filled[first]


def _split_glued_words(text: str) -> str:
    """Put back spaces lost between words ("likeRotherham", "Rotherhamand").

    A token is split only when both halves are words the same document uses on their own,
    and one half is a common function word; names such as "McDonald" or "YouTube" stay whole.
    """
    counts: dict[str, int] = {}
    for m in _WORD.finditer(text):  # not findall: a 50 MB article has 8 million words
        counts[m.group()] = counts.get(m.group(), 0) + 1
    vocabulary = set(counts)
    # Only tokens the document uses once are candidates; the halves must be used on their own.
    rare = {w for w, n in counts.items() if n == 1}

    def split_tail(token: str) -> str:
        # "Rotherhamand": a capitalised word glued to a function word.
        if re.fullmatch(r"[A-Z][a-z]{3,}", token) and token not in vocabulary - rare:
            for cut in range(len(token) - 2, 2, -1):
                head, tail = token[:cut], token[cut:]
                if tail in _FUNCTION_WORDS and head in vocabulary and head.lower() not in STOP_WORDS:
                    return f"{head} {tail}"
        return token

    def fix(token: str) -> str:
        # "likeRotherham" (and "inRotherhamand"): a function word glued to a capitalised word.
        m = re.fullmatch(r"([a-z]{2,})([A-Z][a-z]{2,})", token)
        if m and m.group(1) in _FUNCTION_WORDS:
            rest = m.group(2) if m.group(2) in vocabulary else split_tail(m.group(2))
            if rest != m.group(2) or m.group(2) in vocabulary:
                return f"{m.group(1)} {rest}"
        return split_tail(token)

    # Substitute only the tokens that change (one re.sub over every word keeps a piece per
    # word: ~700 MB for a 50 MB article).
    changed = {token: fixed for token in rare if (fixed := fix(token)) != token}
    if not changed:
        return text
    alternatives = "|".join(re.escape(t) for t in sorted(changed, key=len, reverse=True))
    return re.sub(rf"(?<![A-Za-z])(?:{alternatives})(?![A-Za-z])", lambda m: changed[m.group()], text)


def _line_key(line: str) -> str:
    return re.sub(r"\W+", " ", line.casefold()).strip() or line


def clean_news_text(raw: str, title_hint: str | None = None) -> CleanedText:
    """Clean one article page. Idempotent: cleaning cleaned text changes nothing."""
    lines = normalise(raw).split("\n")
    non_empty = [line for line in lines if line]
    if not non_empty:
        return CleanedText(text="", title=(title_hint or "").strip())
    title = title_hint.strip() if title_hint and title_hint.strip() else non_empty[0]

    header = from_text("\n".join(non_empty[:OUTLET_LINES]))  # it reads no further (a 50 MB page: no 50 MB copy)

    end = _story_list_start(lines)
    # Label each line, then let promo blocks swallow the short taglines inside them.
    body = [line for line in lines[:end] if line]
    promo = [_is_promo(line) or _is_anchor(line) for line in body]
    for i in range(1, len(body) - 1):
        if not promo[i] and promo[i - 1] and promo[i + 1] and len(body[i]) < 200 and not re.search(r"[\"“”]", body[i]):
            promo[i] = True

    kept: list[str] = []
    seen: set[str] = set()
    published = updated = None
    in_header = True
    for line, is_promo in zip(body, promo):
        key = _line_key(line)
        if key in seen or is_promo:  # a line repeated verbatim (headline twice, a promo twice)
            seen.add(key)
            continue
        seen.add(key)
        dated = date_line(line) if in_header else None
        if dated:  # datelines are metadata, not article text
            if dated.updated:
                updated = updated or dated.iso
            else:
                published = published or dated.iso
            continue
        if kept and in_header and not _is_sentence(line) and _headline_variant(line, title):
            continue  # a variant of the headline in the page header
        if not kept and line != title:
            kept.append(title)
        if _is_sentence(line) and len(line) > 80:
            in_header = False
        kept.append(line)
    if not kept:
        kept = [title]
    text = _split_glued_words("\n\n".join(kept))
    published = published or header.published
    meta = replace(header, published=published, updated=updated or header.updated,
                   published_source="text:dateline" if published else None)
    return CleanedText(text=text, title=text.split("\n", 1)[0], outlet=header.outlet, published=published, meta=meta)
