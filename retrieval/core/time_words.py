"""What a question says about time, resolved against its as_of: a window ("last week", "in February", "since
Monday", "between March 3 and March 9"), a request for the latest evidence, a question about a current state, a
timeline. Read by the search and the answers (retrieval.core.dates holds the dates themselves)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, NamedTuple

from retrieval.core import dates
from retrieval.core.dates import _MONTH_RE, _MONTHS

log = logging.getLogger(__name__)


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


_Days = tuple[date | None, date | None]  # a window's first and last day (None: open)


class _Window(NamedTuple):
    """A window phrase found in a question: where it starts, the days it covers (None: open), its words."""

    start: int
    since: date | None
    until: date | None
    phrase: str


def _today(m: re.Match[str], as_of: date) -> _Days | None:
    when = as_of if m.group(1).lower() == "today" else as_of - timedelta(days=1)
    return when, when


def _so_far_this_year(m: re.Match[str], as_of: date) -> _Days | None:
    return date(as_of.year, 1, 1), as_of


def _past_n(m: re.Match[str], as_of: date) -> _Days | None:
    return _back(as_of, _count(m.group(1)), m.group(2)), as_of


def _n_ago(m: re.Match[str], as_of: date) -> _Days | None:
    start = _back(as_of, _count(m.group(1)), m.group(2))
    unit = m.group(2).lower()
    end = start + timedelta(days=6) if unit == "week" else _span(start, unit)[1] if unit != "day" else start
    return start, min(end, as_of)


def _this_last(m: re.Match[str], as_of: date) -> _Days | None:
    which, unit = m.group(1).lower(), m.group(2).lower()
    if which == "past":
        return _back(as_of, 1, unit), as_of
    if unit == "week":
        monday = as_of - timedelta(days=as_of.weekday())
        return (monday, as_of) if which == "this" else (monday - timedelta(days=7), monday - timedelta(days=1))
    if unit == "month":
        first, _ = _month(as_of.year, as_of.month)
        prior = first - timedelta(days=1)
        return (first, as_of) if which == "this" else _month(prior.year, prior.month)
    return (date(as_of.year, 1, 1), as_of) if which == "this" else _span(date(as_of.year - 1, 1, 1), "year")


def _between(m: re.Match[str], as_of: date) -> _Days | None:
    if _YEAR.search(m.group()):
        return None
    low, high = _resolve(m.group(1), as_of), _resolve(m.group(2), as_of)
    return (_span(*low)[0], _span(*high)[1]) if low and high else None


def _since(m: re.Match[str], as_of: date) -> _Days | None:
    resolved = None if _YEAR.search(m.group(2)) else _resolve(m.group(2), as_of)
    if resolved is None:
        return None
    first, last = _span(*resolved)
    word = m.group(1).lower()
    if word in ("since", "from"):
        return first, as_of
    if word == "after":
        return last + timedelta(days=1), as_of
    return None, first - timedelta(days=1) if word != "until" and word != "till" else last  # before, prior to ...


def _in(m: re.Match[str], as_of: date) -> _Days | None:
    resolved = None if _YEAR.search(m.group(2)) else _resolve(m.group(2), as_of)
    return None if resolved is None else _span(*resolved)


# The window phrases, read in this order; a phrase that starts inside one found before it (by an earlier row, or
# earlier by its own) is not read when `inside` is set: "last week" in "in the last week", "in 2 weeks ago".
_WINDOWS: tuple[tuple[re.Pattern[str], Callable[[re.Match[str], date], _Days | None], bool], ...] = (
    (_TODAY, _today, False),
    (_SO_FAR_YEAR, _so_far_this_year, False),
    (_PAST_N, _past_n, False),
    (_N_AGO, _n_ago, False),
    (_THIS_LAST, _this_last, True),
    (_BETWEEN, _between, False),
    (_SINCE, _since, False),
    (_IN, _in, True),
)  # fmt: skip


def _window(text: str, as_of: date) -> tuple[date | None, date | None, str] | None:
    """The first window phrase of the question: (since, until, phrase)."""
    found: list[_Window] = []
    for pattern, read, inside in _WINDOWS:
        for m in pattern.finditer(text):
            if inside and any(w.start <= m.start() < w.start + len(w.phrase) for w in found):
                continue
            days = read(m, as_of)
            if days is not None:
                phrase = m.group().strip() if pattern is _PAST_N else m.group()  # "in the past week": from "the"
                found.append(_Window(m.start(), days[0], days[1], phrase))
    if not found:
        return None
    first = min(found, key=lambda w: w.start)
    return first.since, first.until, first.phrase


def read_time(
    question: str, as_of: datetime | date | None = None, ignore: tuple[tuple[int, int], ...] = ()
) -> TimeFrame:
    """What the question asks about time, against as_of (default now). Later than as_of is never in scope;
    a question of more than LONG_QUESTION_WORDS words is read for as_of alone.
    `ignore`: spans to skip, such as outlet names ("Business Today | Latest Stock Market ...")."""
    for start, end in ignore:
        question = question[:start] + " " * (end - start) + question[end:]
    moment = as_of if as_of is not None else dates.now()
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


_YEARLESS_MONTH = re.compile(
    rf"(?:in|during|throughout)\s+(?:the\s+month\s+of\s+)?(?:{_MONTH_RE})\.?(?:\s+\d{{1,2}}(?:st|nd|rd|th)?)?", re.I
)


def in_archive(frame: TimeFrame, newest: date | None) -> date | None:
    """The day to read a question against again when it names a month without its year ("how much did coin jump in
    november") and the latest such month before as_of began after the archive's newest article: the archive's
    own latest November, not one it cannot hold (None: the frame stands). Relative phrases ("last month") stay
    relative to as_of."""
    if newest is None or frame.since is None or frame.phrase is None or frame.since <= newest:
        return None
    return newest if _YEARLESS_MONTH.fullmatch(frame.phrase.strip()) else None


def clip(since: str | None, until: str | None, frame: TimeFrame) -> tuple[str | None, str | None]:
    """A filter's (since, until) narrowed to the question's window and to as_of (ISO days)."""
    lows = [d for d in (dates.day(since), frame.since) if d is not None]
    highs = [d for d in (dates.day(until), frame.until, frame.as_of) if d is not None]
    low = max(lows) if lows else None
    high = min(highs) if highs else None
    return (low.isoformat() if low else None, high.isoformat() if high else None)
