"""What an article says about itself: headline, outlet, authors, dates and address.

Two readers, one result type:

- `from_html(html)` reads a page's structured signals (JSON-LD, OpenGraph and `article:*` meta,
  `<meta name=author|byl|dc.*|parsely-*|sailthru.*>`, microdata, `<time datetime>`, the canonical
  link), takes trafilatura's `extract_metadata` as a fallback for headline, authors, outlet and
  URL, and reads the page's visible header lines (nav, asides, footers, scripts and related-story
  lists skipped) with the same rules as plain text.
- `from_text(text)` reads a plain-text article's header: the first line as headline, a dated
  line near the top, a byline, and the outlet where the text names it ("Subscribe to X").
  This is the one place that reads text headers; `rag.ingest.cleaning` calls it.

Unknown stays None. A date is only ever one the source wrote down, complete with its year:
never today, never a file time, never a day and month completed with a guessed year, never an
ambiguous numeric date ("03/04/2016") resolved by guessing the order, never a relative date
("2 hours ago"), and never one whose written weekday contradicts it. Dates come out as ISO 8601,
as precise as the source: "2016-03-03", or "2016-03-03T14:05+00:00" when a time (and zone) was
given.

Nothing is executed: scripts are only ever read as JSON-LD data, never returned as text. The
input is capped (`MAX_HTML_CHARS`) so a huge page costs bounded time.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import date

from rag.text.dates import WEEKDAYS, DateMatch, find_date, iso_date, parse_date

#: Only the first this-many characters of a page are parsed; article metadata sits in the head
#: and the first screens of the body.
MAX_HTML_CHARS = 1_500_000
#: trafilatura (only a fallback, and the slowest part) sees at most this much of the page.
MAX_FALLBACK_CHARS = 250_000
#: Only this many characters of one JSON-LD block are decoded.
MAX_JSONLD_CHARS = 200_000
#: Header lines read for a date, a byline and a headline.
HEADER_LINES = 15
#: Lines read for an outlet named in a promo ("Subscribe to The Week" sits mid-page).
OUTLET_LINES = 400


@dataclass(frozen=True)
class ArticleMeta:
    """An article's metadata; None (or an empty tuple) where the source does not say.

    `published_source` names the signal the date came from: "json-ld", "meta:<name>",
    "microdata", "html:time", "text:dateline", "url" or "htmldate". `updated` is a separate
    "updated"/"modified" date. `dates_disagree` is True when the page's structured publication
    date and the date it shows readers fall on different days; `visible_published` then holds
    the shown one (see `from_html` for which wins).
    """

    headline: str | None = None
    outlet: str | None = None
    authors: tuple[str, ...] = ()
    published: str | None = None
    url: str | None = None
    published_source: str | None = None
    updated: str | None = None
    dates_disagree: bool = False
    visible_published: str | None = None

    @property
    def published_day(self) -> str | None:
        """The publication date to day precision ("2016-03-03"), for filters and ordering."""
        return self.published[:10] if self.published and len(self.published) >= 10 else None


# Header lines ------------------------------------------------------------------------------

_LABEL = re.compile(
    r"^\s*(?P<label>published|first published|posted|updated|last updated|last modified|modified|date|dated|filed)"
    r"(?:\s+(?:on|at))?\s*:?\s*",
    re.IGNORECASE,
)
_UPDATED_WORD = re.compile(r"\b(updated|modified|amended)\b", re.IGNORECASE)
_PUBLISHED_WORD = re.compile(r"\b(published|posted|first published|filed)\b", re.IGNORECASE)


@dataclass(frozen=True)
class DateLine:
    """A header line that is a dateline: its date and whether it says it is an update."""

    iso: str
    updated: bool


def date_line(line: str) -> DateLine | None:
    """`line` as a dateline ("Published 3 March 2016", "Updated 14:05 GMT, 3 Mar 2016",
    "Tuesday 3 March 2016 09.12 GMT", "By Jane Smith | March 3, 2016"); None for anything else,
    prose that mentions a date included."""
    line = line.strip()
    if not line or len(line) > 120:
        return None
    found = find_date(line)
    if not found:
        return None
    before, after = line[:found.start], line[found.end:]
    rest = (before + " " + after).strip()
    words = re.findall(r"[A-Za-z]+", rest)
    # A dateline holds the date, a label, a clock time, a zone, a byline or an outlet; not a sentence.
    if len(words) > 12 or re.search(r"[.!?][\"'”’]?$", line) and len(words) > 6:
        return None
    head = before.strip()
    starts_ok = (
        not head
        or _LABEL.match(head + " ")
        or re.fullmatch(r"[\W\d:.apmAPM]*(?:[A-Z]{2,4})?[\W]*", head)  # a clock time or zone
        or re.match(r"^(?:By|From)\s", head)
        or re.fullmatch(r"(?:[A-Z][\w&'’.-]*\s?){1,4}[|•·—–-]\s*", head)  # "The Week |"
        or _WEEKDAY_ONLY.fullmatch(head)
    )
    if not starts_ok:
        return None
    updated = bool(_UPDATED_WORD.search(line)) and not _PUBLISHED_WORD.search(before)
    return DateLine(found.iso, updated)


_WEEKDAY_ONLY = re.compile(r"(?:" + "|".join(WEEKDAYS) + r")\.?,?", re.IGNORECASE)

# Bylines -----------------------------------------------------------------------------------

_BYLINE = re.compile(r"^\s*(?:By|BY|by|Words by|Written by|Reporting by)[:\s]\s*(?P<names>.+)$")
_ROLE_WORDS = re.compile(
    r"\b(editor|correspondent|reporter|writer|staff|contributor|columnist|producer|analyst|chief|desk|bureau"
    r"|political|affairs|senior|deputy|associate|news|agency|team|published|updated|posted|minutes?|read|photos?"
    r"|video|sport|business|health|science|technology|home|international|community|economics|crime|education)\b",
    re.IGNORECASE,
)
_PARTICLES = {"de", "da", "del", "della", "der", "den", "van", "von", "al", "el", "bin", "la", "le", "du", "dos", "di", "ter"}
_NAME_TOKEN = re.compile(r"^(?:[A-Z][\w'’.-]*|[A-Z]\.|Mc[A-Z]\w*|O['’][A-Z]\w*|[\"“][A-Z][\w'’.-]*|[A-Z][\w'’.-]*[\"”])$")


def looks_like_name(text: str) -> bool:
    """"Jane Smith", "Dana A. Ford", "Lauren del Valle"; not "Home Affairs Editor" or a URL."""
    text = text.strip()
    if not text or len(text) > 60 or re.search(r"\d|@|https?:|www\.|\.(com|org|net|co)\b|[/|()]", text):
        return False
    tokens = text.split()
    if not 2 <= len(tokens) <= 5 or _ROLE_WORDS.search(text):
        return False
    return all(_NAME_TOKEN.match(t) or t.lower() in _PARTICLES for t in tokens) and _NAME_TOKEN.match(tokens[0]) is not None


def split_names(text: str) -> tuple[str, ...]:
    """Person names in a byline or an author field: "By Jane Smith and John Doe", "Jane Smith,
    Home Affairs Editor", "A Smith, B Jones & C Brown in Leeds"."""
    if not text:
        return ()
    text = " ".join(text.split())
    m = _BYLINE.match(text)
    if m:
        text = m.group("names")
    found = find_date(text)
    if found:
        text = text[:found.start]
    text = re.split(r"\s*(?:[|•·—–]|\s-\s|\bPublished\b|\bUpdated\b|\bPosted\b)\s*", text)[0]
    text = re.sub(r"\s+(?:in|at|for)\s+[A-Z][\w .'’-]*$", "", text)
    if text.isupper():
        text = text.title()
    names: list[str] = []
    for part in re.split(r"\s*(?:,|;|\band\b|&|\bwith\b)\s*", text):
        part = part.strip(" .:")
        if looks_like_name(part) and part not in names:
            names.append(part)
    return tuple(names)


def byline(line: str) -> tuple[str, ...]:
    """The names in a line that is a byline ("By ..."), else ()."""
    line = line.strip()
    if len(line) > 200 or not _BYLINE.match(line):
        return ()
    return split_names(line)


# Outlets named in text -----------------------------------------------------------------------

_OUTLET_NAME = r"((?:The\s+)?[A-Z][\w&'’.-]*(?:\s+[A-Z][\w&'’.-]*){0,3})"
_OUTLET_FROM_PROMO = re.compile(r"\b(?i:subscribe)\s+to\s+" + _OUTLET_NAME)
_OUTLET_FROM_COPYRIGHT = re.compile(r"^(?:©|\(c\)|Copyright)\s*(?:©\s*)?(?:(?:18|19|20)\d{2}\s+)?" + _OUTLET_NAME + r"\.?(?:\s+All rights reserved\.?)?$")
_OUTLET_FROM_CREDIT = re.compile(r"^(?:This (?:article|story) (?:was )?(?:first |originally )?(?:appeared|published) (?:in|on|by))\s+" + _OUTLET_NAME)


def outlet_line(line: str) -> str | None:
    """The outlet a line names: a promo ("Subscribe to The Week"), a copyright line
    ("© 2024 Harbour Herald") or a credit ("This article first appeared in X")."""
    line = line.strip()
    if not line or len(line) > 300:
        return None
    for pattern in (_OUTLET_FROM_PROMO, _OUTLET_FROM_COPYRIGHT, _OUTLET_FROM_CREDIT):
        m = pattern.search(line) if pattern is _OUTLET_FROM_PROMO else pattern.match(line)
        if m:
            return m.group(1).strip().rstrip(".")
    return None


def _lines(text: str) -> list[str]:
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = re.sub(r"[\u00a0\u2007\u202f\t]", " ", text).replace("\u200b", "").replace("\ufeff", "")
    return [" ".join(line.split()) for line in text.split("\n") if line.strip()]


def _headline_shaped(line: str) -> bool:
    """A headline is short and is not a full sentence of prose (it rarely ends with a full stop)."""
    n = len(line.split())
    return len(line) <= 160 and not (n > 12 and re.search(r"[.!?][\"'”’)]?$", line))


def from_text(text: str) -> ArticleMeta:
    """A plain-text article's metadata from its header lines.

    Headline: the first line that is not a dateline, byline or promo, if it is headline-shaped
    (at most 160 characters and not a long sentence ending in a full stop); else unknown. Published: the first
    dateline among the first `HEADER_LINES` lines that is not marked "Updated"; an "Updated"
    line fills `updated` only, since an update time is not the publication time. Authors: the
    first byline there. Outlet: the first line naming one (promo, copyright or credit line),
    anywhere in the first `OUTLET_LINES` lines. Nothing else is inferred.
    """
    return _from_lines(_lines(text or "")[:OUTLET_LINES])


def _from_lines(lines: list[str], *, headline: bool = True) -> ArticleMeta:
    title = published = updated = None
    authors: tuple[str, ...] = ()
    for line in lines[:HEADER_LINES]:
        dl = date_line(line)
        names = byline(line)
        if names and not authors:
            authors = names
        if dl:
            if dl.updated:
                updated = updated or dl.iso
            elif published is None:
                published = dl.iso
            continue
        if names or _BYLINE.match(line):
            continue
        if headline and title is None and not outlet_line(line) and _headline_shaped(line):
            title = line
    outlet = next((o for o in map(outlet_line, lines) if o), None)
    return ArticleMeta(
        headline=title,
        outlet=outlet,
        authors=authors,
        published=published,
        published_source="text:dateline" if published else None,
        updated=updated,
    )


# ---------------------------------------------------------------------------------------------
# HTML

_ARTICLE_TYPES = {
    "newsarticle", "article", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
    "backgroundnewsarticle", "reviewnewsarticle", "blogposting", "liveblogposting", "report",
    "scholarlyarticle", "socialmediaposting", "techarticle", "webpage",
}
_SKIP_TAGS = {"script", "style", "noscript", "template", "nav", "aside", "footer", "form", "button", "select",
              "svg", "iframe", "object", "embed", "head", "menu"}
_SKIP_CLASS = re.compile(
    r"(?:^|[\s_-])(related|promo|newsletter|nav|navigation|menu|sidebar|footer|more-stories|most-read|popular"
    r"|recommended|trending|share|social|comments?|advert|ad-slot|cookie|subscribe|signup|teaser|outbrain|taboola)(?:$|[\s_-])",
    re.IGNORECASE,
)
_BLOCK_TAGS = {"p", "div", "h1", "h2", "h3", "h4", "h5", "h6", "li", "header", "section", "article", "time",
               "span", "address", "figcaption", "blockquote", "td", "dd", "dt", "main", "br"}
_META_DATE_NAMES = [
    # (attribute value, lower-cased) in order of trust
    "article:published_time", "og:article:published_time", "article:published", "og:published_time",
    "datepublished", "pubdate", "publishdate", "publish-date", "publish_date", "published_time", "article.published",
    "parsely-pub-date", "sailthru.date", "dc.date.issued", "dcterms.issued", "dc.date", "dcterms.date",
    "dcterms.created", "dc.date.created", "citation_publication_date", "citation_date", "originalpublicationdate",
    "article_date_original", "date", "displaydate", "og:pubdate", "cxenseparse:recs:publishtime", "rnews:datepublished",
]
_META_MODIFIED_NAMES = [
    "article:modified_time", "og:updated_time", "article:modified", "dcterms.modified", "dc.date.modified",
    "lastmod", "last-modified", "datemodified", "parsely-updated", "sailthru.lastmodified",
]
_META_AUTHOR_NAMES = ["author", "article:author", "byl", "parsely-author", "sailthru.author", "dc.creator",
                      "dcterms.creator", "citation_author", "og:article:author", "twitter:creator:name"]
_META_OUTLET_NAMES = ["og:site_name", "application-name", "publisher", "dc.publisher", "dcterms.publisher",
                      "article:publisher_name", "cxenseparse:site", "twitter:app:name:iphone"]
_META_TITLE_NAMES = ["og:title", "twitter:title", "headline", "dc.title", "sailthru.title", "parsely-title",
                     "citation_title", "title"]


def _clean(value: object, limit: int = 300) -> str | None:
    if not isinstance(value, str):
        return None
    value = " ".join(unicodedata.normalize("NFC", value).split())
    value = re.sub(r"<[^>]{0,200}>", "", value) if "<" in value else value
    return value[:limit].strip() or None


def _parse(html: str):
    import lxml.html
    from lxml import etree

    parser = lxml.html.HTMLParser(recover=True, no_network=True, remove_comments=True, remove_pis=True,
                                  huge_tree=False, collect_ids=False)
    html = html[:MAX_HTML_CHARS]
    html = re.sub(r"^\s*<\?xml[^>]{0,200}\?>", "", html)  # lxml refuses a str with an encoding declaration
    try:
        root = lxml.html.document_fromstring(html, parser=parser)
    except (etree.ParserError, ValueError):
        return None
    return root


def _jsonld_objects(root) -> Iterator[dict]:
    """Every JSON object in the page's JSON-LD blocks, @graph and lists flattened; broken blocks skipped."""
    for script in root.iter("script"):
        kind = (script.get("type") or "").lower().strip()
        if "ld+json" not in kind:
            continue
        raw = (script.text or "")[:MAX_JSONLD_CHARS].strip()
        raw = re.sub(r"^\s*(?:<!--|//\s*<!\[CDATA\[|<!\[CDATA\[)|(?://\s*\]\]>|\]\]>|-->)\s*$", "", raw).strip()
        data = None
        for attempt in (raw, re.sub(r",\s*([}\]])", r"\1", raw)):
            try:
                data = json.loads(attempt, strict=False)
                break
            except (ValueError, RecursionError):
                continue
        if data is None:
            continue
        yield from _flatten(data, 0)


def _flatten(data: object, depth: int) -> Iterator[dict]:
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data[:200]:
            yield from _flatten(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        if "@graph" in data:
            yield from _flatten(data["@graph"], depth + 1)


def _types(obj: dict) -> set[str]:
    t = obj.get("@type")
    values = t if isinstance(t, list) else [t]
    return {v.lower().rsplit("/", 1)[-1] for v in values if isinstance(v, str)}


def _name_of(value: object) -> list[tuple[str, bool]]:
    """Names in a JSON-LD author/publisher value, each with whether it is a Person."""
    out: list[tuple[str, bool]] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            out.append((item, True))
        elif isinstance(item, dict):
            name = item.get("name")
            if isinstance(name, list):
                name = next((n for n in name if isinstance(n, str)), None)
            if isinstance(name, str):
                out.append((name, "organization" not in _types(item) and "newsmediaorganization" not in _types(item)))
    return out


def _jsonld_article(root) -> dict | None:
    best, best_rank = None, 99
    for obj in _jsonld_objects(root):
        types = _types(obj)
        if not types & _ARTICLE_TYPES:
            continue
        rank = 0 if types & {"newsarticle", "reportagenewsarticle", "analysisnewsarticle", "opinionnewsarticle",
                             "backgroundnewsarticle", "reviewnewsarticle"} else 1 if "webpage" not in types else 2
        if rank == 2 and not obj.get("datePublished"):
            continue
        if rank < best_rank:
            best, best_rank = obj, rank
    return best


def _jsonld_publisher(root) -> str | None:
    for obj in _jsonld_objects(root):
        if _types(obj) & {"newsmediaorganization", "organization"} and isinstance(obj.get("name"), str):
            return _clean(obj["name"], 120)
    return None


def _meta(root) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for el in root.iter("meta"):
        key = (el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv") or "").strip().lower()
        value = el.get("content")
        if key and value is not None and value.strip():
            out.setdefault(key, []).append(value)
    return out


def _classes(el) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}"


def _skipped(el) -> bool:
    tag = el.tag if isinstance(el.tag, str) else ""
    if tag in _SKIP_TAGS:
        return True
    role = (el.get("role") or "").lower()
    if role in {"navigation", "complementary", "contentinfo", "banner", "search"} and tag != "header":
        return True
    return bool(_SKIP_CLASS.search(_classes(el))) or el.get("hidden") is not None or el.get("aria-hidden") == "true"


def _visible_lines(root, limit: int = 400) -> list[str]:
    """The page's visible text as lines, in order, without scripts, navigation, asides, footers
    and related-story lists."""
    lines: list[str] = []
    buf: list[str] = []

    def flush() -> None:
        text = " ".join(" ".join(buf).split())
        if text:
            lines.append(text)
        buf.clear()

    def walk(el, depth: int) -> None:
        if len(lines) >= limit or depth > 60:
            return
        tag = el.tag if isinstance(el.tag, str) else ""
        if not tag or _skipped(el):
            if el.tail and tag:
                buf.append(el.tail)
            return
        block = tag in _BLOCK_TAGS and tag != "span"
        if block:
            flush()
        if el.text:
            buf.append(el.text)
        for child in el:
            walk(child, depth + 1)
        if block:
            flush()
        if el.tail:
            buf.append(el.tail)

    body = root.find("body")
    walk(body if body is not None else root, 0)
    flush()
    return lines[:limit]


def _text_of(el) -> str:
    parts: list[str] = []

    def walk(node) -> None:
        tag = node.tag if isinstance(node.tag, str) else ""
        if tag in {"script", "style", "noscript", "template"}:
            if node.tail:
                parts.append(node.tail)
            return
        if node.text:
            parts.append(node.text)
        for child in node:
            walk(child)
        if node.tail and node is not el:
            parts.append(node.tail)

    walk(el)
    return " ".join(" ".join(parts).split())


def _in_skipped(el) -> bool:
    node = el
    while node is not None:
        if _skipped(node):
            return True
        node = node.getparent()
    return False


def _visible_time(root) -> str | None:
    """The date a `<time>` shows readers: one marked as the publication time, else the first one
    outside navigation, asides, footers and related-story lists."""
    marked, first = None, None
    for el in root.iter("time"):
        value = parse_date(el.get("datetime") or "") or parse_date(_text_of(el))
        if not value or _in_skipped(el):
            continue
        hint = f"{_classes(el)} {el.get('itemprop') or ''} {el.get('pubdate') is not None and 'pubdate' or ''}".lower()
        parent = el.getparent()
        hint += " " + (_classes(parent).lower() if parent is not None else "")
        if re.search(r"publish|pubdate|posted|created", hint):
            marked = marked or value
        elif first is None and not re.search(r"updat|modif", hint):
            first = value
        if marked:
            break
    return marked or first


def _microdata(root, prop: str) -> list[str]:
    out = []
    for el in root.xpath(f'//*[@itemprop="{prop}"]')[:20]:
        if _in_skipped(el):
            continue
        value = el.get("content") or el.get("datetime")
        if value is None:
            inner = el.xpath('.//*[@itemprop="name"]')
            value = _text_of(inner[0]) if inner else _text_of(el)
        if value and value.strip():
            out.append(value)
    return out


def _split_title(title: str, h1: str | None) -> tuple[str, str | None]:
    """"Headline | Outlet" -> ("Headline", "Outlet") when the suffix is clearly the site's name."""
    m = re.match(r"^(?P<head>.{12,}?)\s+(?P<sep>[|–—-]|::|--)\s+(?P<tail>[^|–—]{2,40})$", title)
    if not m:
        return title, None
    head, tail = m.group("head").strip(), m.group("tail").strip()
    if not re.match(r"^[A-Z0-9]", tail) or len(tail.split()) > 5 or len(tail) >= len(head):
        return title, None
    if h1 and _same_words(h1, head):
        return head, tail
    if m.group("sep") == "|":
        return head, tail
    return title, None


def _same_words(a: str, b: str) -> bool:
    wa, wb = set(re.findall(r"\w+", a.lower())), set(re.findall(r"\w+", b.lower()))
    return bool(wa and wb) and len(wa & wb) / max(len(wa), len(wb)) >= 0.8


def _canonical(root) -> str | None:
    for el in root.iter("link"):
        rel = (el.get("rel") or "").lower().split()
        href = (el.get("href") or "").strip()
        if "canonical" in rel and re.match(r"^https?://", href):
            return href[:2000]
    return None


def _authors(values: Iterable[str], outlet: str | None = None) -> tuple[str, ...]:
    names: list[str] = []
    for value in values:
        value = _clean(value, 400)
        if not value:
            continue
        for name in split_names(value) if not looks_like_name(value) else (value,):
            if name not in names and (not outlet or name.lower() != outlet.lower()):
                names.append(name)
    return tuple(names)


def _trafilatura(html: str, url_hint: str | None):
    try:
        from trafilatura import extract_metadata

        return extract_metadata(html[:MAX_FALLBACK_CHARS], default_url=url_hint, extensive=False)
    except Exception:  # a third-party parser failing on odd markup: it is only a fallback
        return None


def _url_date(url: str | None) -> str | None:
    m = re.search(r"/((?:19|20)\d{2})[/-](\d{1,2})[/-](\d{1,2})(?:/|$|[-_])", url or "")
    return iso_date(int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def _local_form(iso: str, source: str, candidates: list[tuple[str, str]]) -> tuple[str, str]:
    """The same instant as written in the outlet's own zone, when another signal gives it.

    Many pages put a UTC timestamp in JSON-LD ("2023-11-09T03:28:35Z") and the local time in
    another tag ("2023-11-08 22:28:35", "Sat, 19 Oct 2019 00:04:00 +0200"). The local form says
    which day the outlet published on, so it is preferred; it is only taken when it is provably
    the same instant: the same time with another offset, or a time without a zone that differs
    by a whole number of quarter hours (at most 14 h) with equal minutes and seconds, whose
    offset then follows by arithmetic.
    """
    utc = _instant(iso)
    if utc is None or utc.utcoffset() is None or utc.utcoffset().total_seconds() != 0:
        return iso, source
    for other, other_source in candidates:
        when = _instant(other)
        if when is None or other == iso:
            continue
        if when.tzinfo is not None:
            if when == utc and when.utcoffset().total_seconds() != 0:
                return other, other_source
            continue
        delta = (when - utc.replace(tzinfo=None)).total_seconds()
        if delta and abs(delta) <= 14 * 3600 and delta % 900 == 0 and when.second == utc.second and ":" in other[11:]:
            sign = "+" if delta > 0 else "-"
            minutes = int(abs(delta)) // 60
            return f"{other}{sign}{minutes // 60:02d}:{minutes % 60:02d}", other_source
    return iso, source


def _same_day(a: str, b: str) -> bool:
    """Two dates name the same publication day, allowing for a UTC timestamp against a local
    date (a day either way) and for the same instant written in two zones."""
    if a[:10] == b[:10]:
        return True
    ta, tb = _instant(a), _instant(b)
    if ta is not None and tb is not None and (ta.tzinfo is None) == (tb.tzinfo is None) and ta == tb:
        return True
    for stamp, day in ((ta, b), (tb, a)):
        if stamp is not None and stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0 and len(day) == 10:
            return abs((date.fromisoformat(day) - stamp.date()).days) <= 1
    return False


def _instant(iso: str):
    from datetime import datetime as _dt

    if len(iso) <= 10:
        return None
    try:
        return _dt.fromisoformat(iso)
    except ValueError:
        return None


def from_html(html: str, url_hint: str | None = None) -> ArticleMeta:
    """A news page's metadata.

    Each field takes the most trusted signal present:
    - headline: JSON-LD `headline`, og/twitter title, the `<h1>`, the `<title>` without its
      " | Outlet" suffix, trafilatura's title;
    - outlet: `og:site_name` and other publisher meta (a " | tagline" dropped), the JSON-LD
      publisher, a NewsMediaOrganization object, the `<title>` suffix, an outlet line in the
      visible text;
    - authors: JSON-LD author (Persons first; an Organization only when no person is named),
      author meta (`author`, `byl`, `parsely-author`, `sailthru.author`, `dc.creator`, ...;
      URLs ignored), microdata `author`, a byline element or a "By ..." line, trafilatura;
    - url: the canonical link, `og:url`, JSON-LD url, `url_hint`;
    - published: JSON-LD `datePublished`, then publication-date meta (`article:published_time`,
      `parsely-pub-date`, `sailthru.date`, `dc.date`, ...), microdata `datePublished`, the
      visible `<time>`, a dateline in the visible text, a /YYYY/MM/DD/ date in the URL, and last
      htmldate (through trafilatura, with its free-text search off).

    A UTC timestamp is replaced by the same instant written in the outlet's zone when another
    signal provably gives it (see `_local_form`), so the day is the outlet's day. When the
    structured date (JSON-LD, meta, microdata) and the date shown to readers (a `<time>` or
    dateline) fall on different days (a UTC timestamp against a bare local date a day apart is
    not counted: that is a time zone, not a disagreement), the structured one wins: the shown date is
    more often an "updated" time, a time zone shift, or a related story's date that a rule took
    for the article's, while `datePublished` is the field publishers fill for search engines and
    aggregators precisely to say when the article was first published. Both are kept:
    `dates_disagree` is set and `visible_published` holds the shown date.
    """
    root = _parse(html or "")
    if root is None:
        return ArticleMeta(url=url_hint)
    meta = _meta(root)
    ld = _jsonld_article(root) or {}

    def first_meta(names: list[str]) -> tuple[str, str] | None:
        for name in names:
            for value in meta.get(name, []):
                if value.strip():
                    return name, value
        return None

    # headline
    h1_el = next((el for el in root.iter("h1") if not _in_skipped(el)), None)
    h1 = _clean(_text_of(h1_el)) if h1_el is not None else None
    title_el = root.find(".//title")
    page_title = _clean(_text_of(title_el)) if title_el is not None else None
    title_head, title_outlet = _split_title(page_title, h1) if page_title else (None, None)
    headline = _clean(ld.get("headline")) or _clean(ld.get("name") if _types(ld) - {"webpage"} else None)
    if not headline:
        found = first_meta(_META_TITLE_NAMES)
        headline = _clean(found[1]) if found else None
        if headline:
            headline = _split_title(headline, h1)[0]
    headline = headline or h1 or title_head

    # outlet
    # og:site_name first: on hosted platforms the JSON-LD publisher is often the platform ("Blogger").
    outlet = None
    found = first_meta(_META_OUTLET_NAMES)
    if found and not re.match(r"^(https?:|www\.)", found[1].strip()):
        outlet = _clean(re.split(r"\s+[|–—]\s+|\s+-\s+(?=[A-Z])", found[1].strip())[0], 120)
    publisher = _name_of(ld.get("publisher")) if ld else []
    if not outlet and publisher:
        outlet = _clean(publisher[0][0], 120)
    outlet = outlet or _jsonld_publisher(root) or title_outlet

    # url
    url = _canonical(root)
    if not url:
        found = first_meta(["og:url", "twitter:url"])
        url = found[1].strip() if found and re.match(r"^https?://", found[1].strip()) else None
    if not url and ld:
        for key in ("url", "mainEntityOfPage"):
            value = ld.get(key)
            value = value.get("@id") or value.get("url") if isinstance(value, dict) else value
            if isinstance(value, str) and re.match(r"^https?://", value.strip()):
                url = value.strip()
                break
    url = url or url_hint

    # authors
    authors: tuple[str, ...] = ()
    if ld.get("author") is not None:
        named = _name_of(ld.get("author"))
        people = [n for n, person in named if person]
        authors = _authors(people or [n for n, _ in named], outlet=None if not people else outlet)
    if not authors:
        values = [v for name in _META_AUTHOR_NAMES for v in meta.get(name, []) if not re.match(r"^\s*(https?:|www\.|@)", v)]
        authors = _authors(values, outlet)
    if not authors:
        authors = _authors(_microdata(root, "author"), outlet)
    visible = _visible_lines(root)
    start = next((i for i, line in enumerate(visible) if h1 and line == h1), 0)
    header = visible[start:start + HEADER_LINES + 5]
    text_meta = _from_lines(header, headline=False)
    if not authors:
        for el in root.xpath('//*[contains(concat(" ", normalize-space(@class), " "), "byline")'
                             ' or contains(@class, "author") or @rel="author"]')[:10]:
            if _in_skipped(el):
                continue
            authors = _authors([_text_of(el)], outlet)
            if authors:
                break
    authors = authors or text_meta.authors

    # dates
    candidates: list[tuple[str, str]] = []  # (iso, source), most trusted first
    if ld and isinstance(ld.get("datePublished"), str):
        candidates.append((parse_date(ld["datePublished"]) or "", "json-ld"))
    candidates += [(parse_date(v) or "", f"meta:{name}") for name in _META_DATE_NAMES for v in meta.get(name, [])]
    candidates += [(parse_date(v) or "", "microdata") for v in _microdata(root, "datePublished")]
    candidates = [(iso, src) for iso, src in candidates if iso]
    structured, source = candidates[0] if candidates else (None, None)
    shown = _visible_time(root)
    shown_source = "html:time" if shown else None
    if not shown and text_meta.published:
        shown, shown_source = text_meta.published, "text:dateline"
    if structured:
        local, local_source = _local_form(structured, source, candidates + ([(shown, shown_source)] if shown else []))
        if local != structured and local_source in ("html:time", "text:dateline"):
            local_source = source  # the structured date, written in the zone the page shows
        structured, source = local, local_source
    published, published_source = structured, source
    disagree = bool(structured and shown and not _same_day(structured, shown))
    if not published and shown:
        published, published_source = shown, shown_source
    if not published:
        published = _url_date(url) or _url_date(url_hint)
        published_source = "url" if published else None

    updated = parse_date(ld.get("dateModified")) if ld and isinstance(ld.get("dateModified"), str) else None
    if not updated:
        found = first_meta(_META_MODIFIED_NAMES)
        updated = parse_date(found[1]) if found else None
    updated = updated or text_meta.updated

    if not (headline and outlet and authors and published):
        traf = _trafilatura(html, url_hint)
        if traf is not None:
            headline = headline or _clean(getattr(traf, "title", None))
            site = _clean(getattr(traf, "sitename", None), 120)
            if not outlet and site and "." not in site:  # trafilatura falls back to the host name
                outlet = site
            if not authors and getattr(traf, "author", None):
                authors = _authors(str(traf.author).split(";"), outlet)
            if not published and getattr(traf, "date", None):
                published = parse_date(traf.date)
                published_source = "htmldate" if published else None
    if not outlet:
        outlet = next((o for o in map(outlet_line, visible[-60:]) if o), None)

    return ArticleMeta(
        headline=headline,
        outlet=outlet,
        authors=authors,
        published=published,
        url=url,
        published_source=published_source,
        updated=updated,
        dates_disagree=disagree,
        visible_published=shown if disagree else None,
    )


def merge(primary: ArticleMeta, secondary: ArticleMeta) -> ArticleMeta:
    """`primary`'s fields, with `secondary` filling the ones it leaves unknown.

    Typical use: `merge(from_html(page), from_text(extracted_text))`, so a byline or dateline
    that only the article text carries completes the page's metadata. A date is taken as a
    whole (with its source), never mixed from two signals; when both give a publication date on
    different days, `dates_disagree` is set and the secondary's is kept as `visible_published`.
    """
    published, source = primary.published, primary.published_source
    disagree, visible = primary.dates_disagree, primary.visible_published
    if not published:
        published, source = secondary.published, secondary.published_source
        disagree, visible = secondary.dates_disagree, secondary.visible_published
    elif secondary.published and secondary.published[:10] != published[:10] and not disagree:
        disagree, visible = True, secondary.published
    return replace(
        primary,
        headline=primary.headline or secondary.headline,
        outlet=primary.outlet or secondary.outlet,
        authors=primary.authors or secondary.authors,
        published=published,
        published_source=source,
        url=primary.url or secondary.url,
        updated=primary.updated or secondary.updated,
        dates_disagree=disagree,
        visible_published=visible,
    )


def to_dict(meta: ArticleMeta) -> dict:
    """JSON-ready form (authors as a list), for a store's metadata column or a CLI."""
    return {
        "headline": meta.headline, "outlet": meta.outlet, "authors": list(meta.authors),
        "published": meta.published, "url": meta.url, "published_source": meta.published_source,
        "updated": meta.updated, "dates_disagree": meta.dates_disagree, "visible_published": meta.visible_published,
    }


__all__ = ["ArticleMeta", "DateLine", "DateMatch", "byline", "date_line", "find_date", "from_html", "from_text",
           "looks_like_name", "merge", "outlet_line", "parse_date", "split_names", "to_dict"]
