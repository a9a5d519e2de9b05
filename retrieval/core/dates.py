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
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache
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


# ------------------------------------------------------------------ time in a question


@dataclass(frozen=True)
class TimeFrame:
    """What a question asks about time, resolved against as_of."""

    as_of: date
    since: date | None = None  # the window, inclusive (None: open)
    until: date | None = None
    phrase: str | None = None  # the words that set the window, as written
    recency: bool = False  # "latest", "recent", "current": the most recent relevant evidence first
    current: bool = False  # about a current state: the answer says "As of <date>,"
    timeline: bool = False  # "how did X develop": a dated, chronological list

    @property
    def window(self) -> bool:
        return self.since is not None or self.until is not None

    def without_window(self) -> TimeFrame:
        return TimeFrame(self.as_of, recency=self.recency, current=self.current, timeline=self.timeline)

    def describe(self) -> str:
        if self.since and self.until:
            span = self.since.isoformat() if self.since == self.until else f"{self.since} to {self.until}"
        elif self.since:
            span = f"since {self.since}"
        else:
            span = f"until {self.until}"
        return f"{self.phrase} ({span})" if self.phrase else span


_NUMBERS = {w: i for i, w in enumerate("one two three four five six seven eight nine ten eleven twelve".split(), 1)}
_NUMBERS.update({"a": 1, "an": 1, "a couple of": 2, "couple of": 2, "a few": 3, "few": 3, "several": 3})
_UNIT = r"(day|week|month|year)s?"
_COUNT = r"(\d{1,3}|" + "|".join(sorted(map(re.escape, _NUMBERS), key=len, reverse=True)) + ")"
_PAST_N = re.compile(rf"\b(?:in|over|during|within|for)?\s*the\s+(?:past|last)\s+(?:{_COUNT}\s+)?{_UNIT}\b", re.I)
_N_AGO = re.compile(rf"\b{_COUNT}\s+{_UNIT}\s+ago\b", re.I)
_THIS_LAST = re.compile(r"\b(this|last|past)\s+(week|month|year)\b", re.I)
_TODAY = re.compile(r"\b(today|yesterday)\b", re.I)
_SO_FAR_YEAR = re.compile(r"\bso\s+far\s+this\s+year\b|\bthis\s+year\s+so\s+far\b|\byear\s+to\s+date\b", re.I)
# a date phrase after since/before/after/in/during: a weekday, "October 6", "February", "Oct 6, 2023"
WEEKDAYS_AND_MONTHS = [*"Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(), *_MONTHS]
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_DATE_WORDS = (
    rf"(?:last\s+)?{_WEEKDAY}|(?:{_MONTH_RE})\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?(?:,?\s+\d{{4}})?"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?(?:{_MONTH_RE})\.?(?:,?\s+\d{{4}})?|\d{{4}}-\d{{2}}-\d{{2}}"
)
_SINCE = re.compile(
    rf"\b(since|from|after|before|until|till|prior\s+to|earlier\s+than)\s+(?:the\s+)?({_DATE_WORDS})\b", re.I
)
_IN = re.compile(rf"\b(in|during|throughout)\s+(?:the\s+month\s+of\s+)?({_DATE_WORDS})\b", re.I)
_BETWEEN = re.compile(rf"\bbetween\s+({_DATE_WORDS})\s+and\s+({_DATE_WORDS})\b", re.I)
_RECENT = re.compile(
    r"\b(latest|newest|most\s+recent(?:ly)?|recent(?:ly)?|lately|current(?:ly)?|right\s+now|now|so\s+far"
    r"|at\s+present|presently|still|up\s+to\s+date|these\s+days)\b",
    re.I,
)
_CURRENT = re.compile(
    r"\b(latest|current(?:ly)?|right\s+now|now|so\s+far|at\s+present|presently|still|these\s+days|status)\b",
    re.I,
)
_TIMELINE = re.compile(
    r"\b(timeline|chronolog\w*|how\s+(?:did|has|have|had)\b.{0,80}?\b(?:develop|evolve|unfold|progress|chang)\w*"
    r"|(?:develop|evolv|unfold)\w*\s+over\s+time|sequence\s+of\s+events)",
    re.I | re.S,
)
_UNIT_DAYS = {"day": 1, "week": 7}
# A long compound question describes its evidence with time words ("which company, recently scrutinized by
# TechCrunch, ...", "present at her concerts in November"); only a shorter question's time words set its scope.
# All 105 MultiHop-RAG dev questions with time words have 28 words or more, and each of them is such a
# description: read as windows or recency requests they cost held-out MRR@10 .826 -> .794 (bench/time_questions.py).
LONG_QUESTION_WORDS = 24
# words about time, not about a topic (the search does not take them for names a question asks about)
TIME_WORDS = [
    *"latest newest recent recently lately current currently now today yesterday week month year since before "
    "after until so far this last past timeline".split(),
    *(w.lower() for w in WEEKDAYS_AND_MONTHS),
]
# A date written with its year ("on October 6, 2023", "before November 5, 2023") names an article by its date
# more often than a window: of the 228 MultiHop-RAG dev questions that name dates, 125 have evidence outside
# the date they name ("between the report on Oct 6, 2023 and the later one"). Those stay soft (the search's day
# and month bonuses); relative and yearless phrases ("last week", "in February", "since Monday") are windows.
_YEAR = re.compile(r"\d{4}")


@lru_cache(maxsize=1)
def _parser_class() -> Any:
    from dateparser.date import DateDataParser  # imported on first use: it loads its language data

    return DateDataParser


def _resolve(words: str, as_of: date) -> tuple[date, str] | None:
    """(date, period: day|week|month|year) of a date phrase, the latest reading not after as_of."""
    base = datetime(as_of.year, as_of.month, as_of.day, 12)
    parser = _parser_class()(
        languages=["en"],
        settings={"RELATIVE_BASE": base, "PREFER_DATES_FROM": "past", "RETURN_TIME_AS_PERIOD": True},
    )
    words = (
        re.sub(r"^last\s+", "", words.strip(), flags=re.I) if re.match(rf"last\s+{_WEEKDAY}", words, re.I) else words
    )
    found = parser.get_date_data(words)
    if found is None or found.date_obj is None:
        return None
    value = found.date_obj.date()
    if value > as_of:  # "Monday" said on a Monday means the one before; a date later than as_of, a year before
        value = value - timedelta(days=7) if found.period == "day" and re.fullmatch(_WEEKDAY, words, re.I) else value
        if value > as_of:
            try:
                value = value.replace(year=value.year - 1)
            except ValueError:
                value = value - timedelta(days=365)
    return value, str(found.period or "day")


def _span(value: date, period: str) -> tuple[date, date]:
    """The first and last day of the period a resolved date stands for."""
    if period == "year":
        return date(value.year, 1, 1), date(value.year, 12, 31)
    if period == "month":
        return _month(value.year, value.month)
    return value, value


def _month(year: int, month: int) -> tuple[date, date]:
    first = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return first, following - timedelta(days=1)


def _count(word: str | None) -> int:
    if not word:
        return 1
    word = word.lower()
    return int(word) if word.isdigit() else _NUMBERS.get(word, 1)


def _back(as_of: date, n: int, unit: str) -> date:
    """as_of minus n units (month and year arithmetic by dateparser's relative reading)."""
    unit = unit.lower()
    if unit in _UNIT_DAYS:
        return as_of - timedelta(days=n * _UNIT_DAYS[unit])
    resolved = _resolve(f"{n} {unit}s ago", as_of)
    return resolved[0] if resolved else as_of - timedelta(days=n * (30 if unit == "month" else 365))


def _window(text: str, as_of: date) -> tuple[date | None, date | None, str] | None:
    """The first window phrase of the question: (since, until, phrase)."""
    found: list[tuple[int, date | None, date | None, str]] = []
    for m in _TODAY.finditer(text):
        when = as_of if m.group(1).lower() == "today" else as_of - timedelta(days=1)
        found.append((m.start(), when, when, m.group()))
    for m in _SO_FAR_YEAR.finditer(text):
        found.append((m.start(), date(as_of.year, 1, 1), as_of, m.group()))
    for m in _PAST_N.finditer(text):
        found.append((m.start(), _back(as_of, _count(m.group(1)), m.group(2)), as_of, m.group().strip()))
    for m in _N_AGO.finditer(text):
        start = _back(as_of, _count(m.group(1)), m.group(2))
        unit = m.group(2).lower()
        end = start + timedelta(days=6) if unit == "week" else _span(start, unit)[1] if unit != "day" else start
        found.append((m.start(), start, min(end, as_of), m.group()))
    taken = [(f[0], f[0] + len(f[3])) for f in found]
    for m in _THIS_LAST.finditer(text):
        if any(a <= m.start() < b for a, b in taken):
            continue
        which, unit = m.group(1).lower(), m.group(2).lower()
        if unit == "week":
            monday = as_of - timedelta(days=as_of.weekday())
            span = (monday, as_of) if which == "this" else (monday - timedelta(days=7), monday - timedelta(days=1))
            if which == "past":
                span = (as_of - timedelta(days=7), as_of)
        elif unit == "month":
            first, _ = _month(as_of.year, as_of.month)
            prior = first - timedelta(days=1)
            span = (first, as_of) if which == "this" else _month(prior.year, prior.month)
            if which == "past":
                span = (_back(as_of, 1, "month"), as_of)
        else:
            span = (date(as_of.year, 1, 1), as_of) if which == "this" else _span(date(as_of.year - 1, 1, 1), "year")
            if which == "past":
                span = (_back(as_of, 1, "year"), as_of)
        found.append((m.start(), span[0], span[1], m.group()))
    for m in _BETWEEN.finditer(text):
        if _YEAR.search(m.group()):
            continue
        low, high = _resolve(m.group(1), as_of), _resolve(m.group(2), as_of)
        if low and high:
            found.append((m.start(), _span(*low)[0], _span(*high)[1], m.group()))
    for m in _SINCE.finditer(text):
        if _YEAR.search(m.group(2)):
            continue
        resolved = _resolve(m.group(2), as_of)
        if resolved is None:
            continue
        first, last = _span(*resolved)
        word = m.group(1).lower()
        if word in ("since", "from"):
            found.append((m.start(), first, as_of, m.group()))
        elif word == "after":
            found.append((m.start(), last + timedelta(days=1), as_of, m.group()))
        else:  # before, until, prior to ...
            found.append(
                (m.start(), None, first - timedelta(days=1) if word != "until" and word != "till" else last, m.group())
            )
    for m in _IN.finditer(text):
        if _YEAR.search(m.group(2)) or any(a <= m.start() < b for a, b in [(f[0], f[0] + len(f[3])) for f in found]):
            continue
        resolved = _resolve(m.group(2), as_of)
        if resolved is None:
            continue
        first, last = _span(*resolved)
        found.append((m.start(), first, last, m.group()))
    if not found:
        return None
    _, since, until, phrase = min(found, key=lambda f: f[0])
    return since, until, phrase


def read_time(
    question: str, as_of: datetime | date | None = None, ignore: tuple[tuple[int, int], ...] = ()
) -> TimeFrame:
    """What the question asks about time, against as_of (default now). Later than as_of is never in scope;
    a question of more than LONG_QUESTION_WORDS words is read for as_of alone.
    `ignore`: spans to skip, such as outlet names ("Business Today | Latest Stock Market ...")."""
    for start, end in ignore:
        question = question[:start] + " " * (end - start) + question[end:]
    moment = as_of if as_of is not None else now()
    reference = moment.date() if isinstance(moment, datetime) else moment
    if len(question.split()) > LONG_QUESTION_WORDS:
        return TimeFrame(reference)
    try:
        window = _window(question, reference)
    except (OverflowError, ValueError):  # a window that would leave the calendar (as_of near year 1 or 9999)
        log.info("time window of %r around %s is outside the calendar: none", question, reference)
        window = None
    recency = bool(_RECENT.search(question))
    current = bool(_CURRENT.search(question))
    timeline = bool(_TIMELINE.search(question))
    if window is None:
        return TimeFrame(reference, recency=recency, current=current, timeline=timeline)
    since, until, phrase = window
    until = min(until, reference) if until is not None else None
    return TimeFrame(reference, since, until, phrase, recency, current and not timeline, timeline)


def clip(since: str | None, until: str | None, frame: TimeFrame) -> tuple[str | None, str | None]:
    """A filter's (since, until) narrowed to the question's window and to as_of (ISO days)."""
    lows = [d for d in (day(since), frame.since) if d is not None]
    highs = [d for d in (day(until), frame.until, frame.as_of) if d is not None]
    low = max(lows) if lows else None
    high = min(highs) if highs else None
    return (low.isoformat() if low else None, high.isoformat() if high else None)


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
