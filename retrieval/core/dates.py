"""Dates, once: reading published dates (ingest, search, display) and what a question says about time.

Published dates are stored as ISO 8601 strings; `day()` reads any of the forms sources give (ISO, RFC 2822),
and the other helpers derive what each step needs from it (an ordinal for vectorised filters, a YYYYMMDD
number for Chroma's `$gte`/`$lte`, YYYY-MM-DD for display).

`read_time(question, as_of)` resolves how people ask about news against a reference time: "today",
"yesterday", "this/last week|month|year", "in the past N days", "since Monday", "before/after <date>", "in
February" (the latest February not after as_of), "so far this year" become a window; "latest", "current",
"recent" ask for recent evidence first; "how did X develop", "timeline of X" ask for a chronology. The shape of
the phrase (since, before, last ...) is matched here; the dates inside it ("Monday", "October 6", "February",
"3 weeks ago") are resolved by dateparser against as_of, so weekdays, month arithmetic and yearless dates
follow a maintained parser rather than rules of our own.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any

from retrieval.core.errors import SourceError

log = logging.getLogger(__name__)

# ------------------------------------------------------------------ published dates


def normalise(value: Any) -> str | None:
    """Any date-ish value -> ISO 8601 string, or None when it is empty or unreadable."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value).strip()
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat()
    except ValueError:
        pass
    try:
        return date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text).isoformat()
    except (TypeError, ValueError, IndexError):
        log.warning("unreadable date %r ignored", text)
        return None


# A published date later than now is refused at ingest (an article dated in the future would be invisible to
# every question until then, and would win every "which version is newer" comparison): a date-time with its
# zone may be FUTURE_SKEW ahead of this machine's clock; a date or a date-time without a zone is read as UTC
# and may be UNZONED_SKEW ahead (the widest UTC offset, +14:00: it is already that day somewhere).
FUTURE_SKEW = timedelta(minutes=10)
UNZONED_SKEW = timedelta(hours=14)


def instant(value: Any) -> datetime | None:
    """The moment a published date stands for, as an aware datetime (a date, or a date-time without a zone, is
    read as UTC); None when there is none or it is unreadable. Compare published dates with this, never as
    strings: "2023-10-02T09:00:00+02:00" is earlier than "2023-10-02T08:00:00+00:00"."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            try:
                moment = parsedate_to_datetime(text)
            except (TypeError, ValueError, IndexError):
                return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


_EARLIEST = datetime.min.replace(tzinfo=UTC)


def order_key(value: Any) -> datetime:
    """A sort key of published dates by instant; undated sorts first."""
    return instant(value) or _EARLIEST


def zoned(value: Any) -> bool:
    """Whether a published date says its time zone."""
    moment = None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            moment = None
    return moment is not None and moment.tzinfo is not None


def in_future(value: Any, now_: datetime | None = None) -> bool:
    """Whether a published date is later than now beyond the clock skew allowed (see FUTURE_SKEW)."""
    moment = instant(value)
    if moment is None:
        return False
    skew = FUTURE_SKEW if zoned(value) else UNZONED_SKEW
    try:
        return moment > (now_ or now()) + skew
    except OverflowError:
        return False


def day(value: Any) -> date | None:
    """The calendar day of a stored or given date (ISO or RFC 2822), or None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        pass
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        return None


def ordinal(value: Any) -> int:
    """date.toordinal() of the day, 0 when there is none (for numpy filters)."""
    parsed = day(value)
    return parsed.toordinal() if parsed else 0


def day_number(value: Any) -> int | None:
    """20230927 for 2023-09-27: lets Chroma filter dates with $gte/$lte."""
    parsed = day(value)
    return parsed.year * 10000 + parsed.month * 100 + parsed.day if parsed else None


def display(value: str | None) -> str | None:
    """YYYY-MM-DD for a readable date; None for none; anything else as given."""
    if not value or not value.strip():
        return None
    parsed = day(value)
    return parsed.isoformat() if parsed else value.strip()


def month_words(value: Any) -> str:
    """'September 2023': what BM25 indexes so a month named in a question matches."""
    parsed = day(value)
    return parsed.strftime("%B %Y") if parsed else ""


def now() -> datetime:
    return datetime.now(UTC)


AS_OF_YEARS = (1000, 8999)  # an as_of outside them is refused: windows around it would leave the calendar


def parse_as_of(value: str | datetime | date | None) -> datetime | None:
    """A reference time from a face: ISO date or datetime (naive = UTC), in the years AS_OF_YEARS. ValueError
    tells what to write."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=UTC)
    elif isinstance(value, date):
        moment = datetime(value.year, value.month, value.day, 23, 59, 59, tzinfo=UTC)
    else:
        text = str(value).strip()
        try:
            if len(text) == 10:
                parsed = date.fromisoformat(text)
                moment = datetime(parsed.year, parsed.month, parsed.day, 23, 59, 59, tzinfo=UTC)
            else:
                moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"as_of {text!r} is not a date: use YYYY-MM-DD or an ISO 8601 date-time") from None
        moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    low, high = AS_OF_YEARS
    if not low <= moment.year <= high:
        day_ = moment.date().isoformat()
        raise ValueError(f"as_of {day_} is outside the years {low}-{high} that questions are read in")
    return moment


# ------------------------------------------------------------------ dates written out in a question

_MONTHS = {
    name: i
    for i, names in enumerate(
        [("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",), ("june", "jun"),
         ("july", "jul"), ("august", "aug"), ("september", "sep", "sept"), ("october", "oct"),
         ("november", "nov"), ("december", "dec")],
        start=1,
    )
    for name in names
}  # fmt: skip
_MONTH_RE = "|".join(sorted(_MONTHS, key=len, reverse=True))
# "October 6, 2023", "Oct. 6 2023", "6 October 2023", "2023-10-06"; a month with a year: "October 2023"
_DAY_MDY = re.compile(rf"\b({_MONTH_RE})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?,?\s+(\d{{4}})\b", re.I)
_DAY_DMY = re.compile(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?({_MONTH_RE})\.?,?\s+(\d{{4}})\b", re.I)
_DAY_ISO = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_MONTH_YEAR = re.compile(rf"\b({_MONTH_RE})\.?,?\s+(?:of\s+)?(\d{{4}})\b", re.I)


def find_dates(text: str) -> tuple[tuple[date, ...], tuple[tuple[int, int], ...]]:
    """Exact days, and (year, month) pairs mentioned without a day (the search's date bonuses)."""
    days: list[date] = []
    day_spans: list[tuple[int, int]] = []

    def add(year: int, month: int, day_: int, span: tuple[int, int]) -> None:
        try:
            value = date(year, month, day_)
        except ValueError:
            return
        day_spans.append(span)
        if value not in days:
            days.append(value)

    for m in _DAY_MDY.finditer(text):
        add(int(m.group(3)), _MONTHS[m.group(1).lower()], int(m.group(2)), m.span())
    for m in _DAY_DMY.finditer(text):
        add(int(m.group(3)), _MONTHS[m.group(2).lower()], int(m.group(1)), m.span())
    for m in _DAY_ISO.finditer(text):
        add(int(m.group(1)), int(m.group(2)), int(m.group(3)), m.span())
    months: list[tuple[int, int]] = []
    for m in _MONTH_YEAR.finditer(text):
        if any(s <= m.start() < e for s, e in day_spans):
            continue
        if m.group(1).lower() == "may" and text[m.start()].islower():
            continue  # "may 2024" is more likely the verb
        value = (int(m.group(2)), _MONTHS[m.group(1).lower()])
        if value not in months:
            months.append(value)
    return tuple(days), tuple(months)


def published(value: Any) -> str | None:
    """A published date as stored (ISO 8601), None when none is given; SourceError when one is given that is not
    a date (an article silently left undated would be in scope for every as_of)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    normalised = normalise(value)
    if normalised is None or instant(normalised) is None:
        raise SourceError(
            f"published_at {str(value)[:64]!r} is not a date: use ISO 8601 (2024-05-02 or 2024-05-02T09:30:00+02:00) "
            "or RFC 2822, or leave it out"
        )
    return normalised


_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


def parse_duration(text: str) -> float:
    """'90s', '30m', '1h', '1h30m', '2d' or a plain number of seconds -> seconds (at least 1)."""
    value = text.strip().lower().replace(" ", "")
    if re.fullmatch(r"\d+(\.\d+)?", value):
        seconds = float(value)
    elif value and _DURATION.sub("", value) == "":
        seconds = sum(float(n) * _UNITS[unit] for n, unit in _DURATION.findall(value))
    else:
        raise ValueError(f"cannot read {text!r} as a duration; write it like 90s, 30m, 1h or 1h30m")
    if seconds < 1:
        raise ValueError(f"the interval {text!r} is shorter than one second; use at least 1s")
    return seconds
