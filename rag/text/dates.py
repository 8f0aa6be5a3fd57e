"""Dates written in text, read strictly: a complete date or nothing.

dateparser and dateutil both complete a year-less date with the current year and accept
relative dates ("yesterday"), which this project must never do: an unknown date stays unknown.
Used by ingest (article metadata) and answering (a question's "as of 13 February 2024").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# ---------------------------------------------------------------------------------------------
# Dates: a small strict parser (dateparser and dateutil both complete a year-less date with the
# current year and accept relative dates, which this module must never do).

_MONTHS = {
    name: i
    for i, names in enumerate(
        [
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
            ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"),
            ("october", "oct"), ("november", "nov"), ("december", "dec"),
        ],
        start=1,
    )
    for name in names
}
WEEKDAYS = {
    name: i
    for i, names in enumerate(
        [("monday", "mon"), ("tuesday", "tue", "tues"), ("wednesday", "wed"), ("thursday", "thu", "thur", "thurs"),
         ("friday", "fri"), ("saturday", "sat"), ("sunday", "sun")]
    )
    for name in names
}
_ZONES = {
    "utc": "+00:00", "gmt": "+00:00", "z": "+00:00", "bst": "+01:00", "cet": "+01:00", "cest": "+02:00",
    "est": "-05:00", "edt": "-04:00", "cst": "-06:00", "cdt": "-05:00", "mst": "-07:00", "mdt": "-06:00",
    "pst": "-08:00", "pdt": "-07:00", "ist": None, "aest": "+10:00", "aedt": "+11:00", "jst": "+09:00",
}
_MONTH_RE = r"(?P<month>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_WEEKDAY_RE = r"(?:(?P<weekday>" + "|".join(sorted(WEEKDAYS, key=len, reverse=True)) + r")\.?,?\s+)?"
_DAY_RE = r"(?P<day>\d{1,2})(?:st|nd|rd|th)?"
_YEAR_RE = r"(?P<year>(?:18|19|20)\d{2})"
_TIME_RE = (
    r"(?P<hour>\d{1,2})[:.](?P<minute>\d{2})(?::(?P<second>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)?"
    r"(?:\s*(?P<zone>[A-Z]{1,4}|[+-]\d{2}:?\d{2})\b)?"
)
_ISO = re.compile(
    r"(?<![\d-])(?P<year>(?:18|19|20)\d{2})-(?P<month>\d{2})-(?P<day>\d{2})"
    r"(?:[T ](?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.\d+)?)?"
    r"\s*(?P<zone>Z|[+-]\d{2}:?\d{2}|UTC|GMT)?)?(?![\d])",
    re.IGNORECASE,
)
_DMY = re.compile(r"\b" + _WEEKDAY_RE + _DAY_RE + r"(?:\s+of)?\s+" + _MONTH_RE + r",?\s+" + _YEAR_RE + r"\b", re.IGNORECASE)
_MDY = re.compile(r"\b" + _WEEKDAY_RE + _MONTH_RE + r"\s+" + _DAY_RE + r",?\s+" + _YEAR_RE + r"\b", re.IGNORECASE)
_NUMERIC = re.compile(r"(?<![\d/.])(?P<a>\d{1,2})([/.])(?P<b>\d{1,2})\2(?P<year>(?:18|19|20)\d{2})(?![\d/.])")
_TIME = re.compile(r"(?<![\d:])" + _TIME_RE, re.IGNORECASE)
_COMPACT = re.compile(r"^(?P<year>(?:18|19|20)\d{2})(?P<month>\d{2})(?P<day>\d{2})$")


@dataclass(frozen=True)
class DateMatch:
    """A complete date found in a string, with where it was."""

    iso: str
    start: int
    end: int


def _zone(text: str | None) -> str | None:
    if not text:
        return None
    text = text.strip()
    if text[0] in "+-":
        digits = text[1:].replace(":", "")
        if len(digits) == 4 and int(digits[:2]) <= 14 and int(digits[2:]) < 60:
            return f"{text[0]}{digits[:2]}:{digits[2:]}"
        return None
    return _ZONES.get(text.lower())


def iso_date(y: int, m: int, d: int, hour: int | None = None, minute: int | None = None,
         second: int | None = None, zone: str | None = None) -> str | None:
    try:
        day = date(y, m, d)
    except ValueError:
        return None
    if hour is None or minute is None:
        return day.isoformat()
    if not (0 <= hour <= 23 and 0 <= minute <= 59 and (second is None or 0 <= second <= 59)):
        return day.isoformat()
    out = f"{day.isoformat()}T{hour:02d}:{minute:02d}" + (f":{second:02d}" if second is not None else "")
    return out + (zone or "")


def _time_near(text: str, start: int, end: int) -> tuple[int, int, int | None, str | None] | None:
    """A clock time written right before or after a date ("14:05 GMT, 3 Mar" / "3 Mar, 2:05 pm")."""
    before = text[max(0, start - 30):start]
    after = text[end:end + 30]
    for piece, anchored in ((after, r"^\s*(?:,|at|-|–|\|)?\s*"), (before, None)):
        if anchored:
            m = re.match(anchored + _TIME_RE, piece, re.IGNORECASE)
        else:
            found = list(_TIME.finditer(piece))
            m = found[-1] if found and re.fullmatch(r"[\s,|–-]*(?:on\s+)?", piece[found[-1].end():], re.IGNORECASE) else None
        if not m:
            continue
        hour, minute = int(m.group("hour")), int(m.group("minute"))
        ampm = (m.group("ampm") or "").replace(".", "").lower()
        if ampm:
            if not 1 <= hour <= 12:
                continue
            hour = hour % 12 + (12 if ampm == "pm" else 0)
        elif "." in m.group(0).split(m.group("minute"))[0] and not re.search(r"[A-Z]{2,4}", m.group(0)):
            continue  # "3.45" with no zone or am/pm could be any number
        second = int(m.group("second")) if m.group("second") else None
        return hour, minute, second, _zone(m.group("zone"))
    return None


def find_date(text: str) -> DateMatch | None:
    """The first complete, unambiguous date written in `text`, as ISO 8601; else None.

    Accepts "2016-03-03[T14:05[:00][Z|+01:00]]", "3 March 2016", "Tuesday 3rd March 2016",
    "March 3, 2016", "Tue, 03 Mar 2016 14:05:00 GMT", "03/14/2016" (only when one field is over
    12, so the order is certain), with a clock time beside it when there is one. Refuses a date
    without a year, an impossible date (30 February), and a weekday that contradicts the date.
    """
    if not text:
        return None
    text = text[:2000]
    found: list[tuple[int, int, str]] = []
    for m in _ISO.finditer(text):
        hour = int(m.group("hour")) if m.group("hour") else None
        minute = int(m.group("minute")) if m.group("minute") else None
        second = int(m.group("second")) if m.group("second") else None
        iso = iso_date(int(m.group("year")), int(m.group("month")), int(m.group("day")), hour, minute, second,
                   _zone(m.group("zone")) if m.group("zone") else None)
        if iso:
            found.append((m.start(), m.end(), iso))
            break
    for pattern in (_DMY, _MDY):
        for m in pattern.finditer(text):
            iso = iso_date(int(m.group("year")), _MONTHS[m.group("month").lower()], int(m.group("day")))
            if not iso:
                continue
            weekday = m.group("weekday")
            if weekday and WEEKDAYS[weekday.lower()] != date.fromisoformat(iso).weekday():
                continue  # "Monday 3 March 2016" was a Thursday: the text is wrong somewhere
            clock = _time_near(text, m.start(), m.end())
            if clock:
                iso = iso_date(int(m.group("year")), _MONTHS[m.group("month").lower()], int(m.group("day")), *clock) or iso
            found.append((m.start(), m.end(), iso))
            break
    for m in _NUMERIC.finditer(text):
        a, b, y = int(m.group("a")), int(m.group("b")), int(m.group("year"))
        if a > 12 and b <= 12:
            iso = iso_date(y, b, a)
        elif b > 12 and a <= 12:
            iso = iso_date(y, a, b)
        else:
            continue  # 03/04/2016: March or April? unknown, not guessed
        if iso:
            found.append((m.start(), m.end(), iso))
            break
    if not found:
        return None
    start, end, iso = min(found)
    return DateMatch(iso, start, end)


def parse_date(value: str | None) -> str | None:
    """A structured date value (a meta tag, JSON-LD) as ISO 8601; None unless it is complete."""
    if not value or not isinstance(value, str):
        return None
    value = value.strip()[:200]
    m = _COMPACT.match(value)
    if m:
        return iso_date(int(m.group("year")), int(m.group("month")), int(m.group("day")))
    found = find_date(value)
    return found.iso if found else None
