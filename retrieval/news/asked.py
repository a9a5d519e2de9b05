"""Which questions ask for a brief: "what happened today / this week / since Monday?", "catch me up", "what's new
on <topic>", "any news about <topic>?", "top stories this week". The whole question must be one of these forms
once its time window is taken out: a question that asks for a fact ("What happened to FTX's customer funds?")
is answered as any other question.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from retrieval.core import dates, time_words

DEFAULT_DAYS = 7  # a brief without a window covers the past week (as_of and the six days before)

_TOPIC = r"(?:\s+(?:on|about|with|regarding|re|in|around|for)\s+(?P<topic>.+?))?"
_FORMS = [
    rf"catch\s+me\s+up{_TOPIC}",
    rf"(?:bring|get|keep)\s+me\s+up\s+to\s+(?:speed|date){_TOPIC}",
    rf"fill\s+me\s+in{_TOPIC}",
    rf"what(?:'s|’s|\s+is|\s+has\s+been)?\s+(?:new|happening|going\s+on){_TOPIC}",
    r"what(?:'s|’s|\s+has|\s+have)?\s+happened(?:\s+in\s+the\s+news)?",
    rf"(?:is\s+there\s+|are\s+there\s+)?any(?:thing)?\s+(?:new|news|updates?){_TOPIC}",
    rf"(?:what\s+(?:is|are)\s+|what's\s+|what’s\s+)?(?:the\s+)?(?:top|main|big(?:gest)?|latest|key)\s+"
    rf"(?:news|headlines|stories|news\s+stories){_TOPIC}",
    rf"(?:what(?:'s|’s|\s+is)\s+)?(?:the\s+)?news{_TOPIC}",
    rf"(?:give\s+me\s+|send\s+me\s+|show\s+me\s+)?(?:a\s+|the\s+|my\s+)?(?:daily\s+|weekly\s+|news\s+)?"
    rf"(?:brief|briefing|digest|roundup|round-up|recap|summary){_TOPIC}",
    rf"(?:summari[sz]e|recap)\s+(?:the\s+)?(?:news|headlines|stories){_TOPIC}",
]
_BRIEF = [re.compile(form, re.I) for form in _FORMS]
_OPENERS = re.compile(r"^(?:(?:hey|hi|hello|ok|okay|so|please|pls|newsdesk)\b[,!\s]*)+", re.I)
_CLOSERS = re.compile(r"[\s,]*(?:please|pls|thanks|thank\s+you)?[\s?!.,]*$", re.I)
_GENERIC = {"news", "the news", "everything", "things", "the world", "headlines", "the headlines", "stories",
            "me", "it", "all", "anything", "what happened", "the day", "the week", "today"}  # fmt: skip
_LEADING = re.compile(r"^(?:the|a|an)\s+", re.I)


@dataclass(frozen=True)
class BriefAsk:
    """A brief question read: its window (inclusive days, never after as_of) and its topic, if any."""

    since: date | None
    until: date
    as_of: date
    topic: str | None
    phrase: str  # the window as the question put it, or "the past 7 days"


def default_window(as_of: date, days: int = DEFAULT_DAYS) -> tuple[date, date]:
    return as_of - timedelta(days=days - 1), as_of


def read_brief(question: str, as_of: datetime | None = None) -> BriefAsk | None:
    """The brief a question asks for, or None when it asks something else."""
    text = " ".join(question.split())
    if len(text) > 200:
        return None
    frame = time_words.read_time(text, as_of)
    rest = text
    if frame.window and frame.phrase:
        at = rest.lower().find(frame.phrase.lower())
        if at >= 0:
            rest = rest[:at] + " " + rest[at + len(frame.phrase) :]
    rest = _CLOSERS.sub("", _OPENERS.sub("", " ".join(rest.split()))).strip()
    if frame.window:  # "news from [today]", "what happened in [the past week]"
        rest = re.sub(r"\s+(?:in|on|for|from|during|over)$", "", rest, flags=re.I)
    match = next((m for m in (form.fullmatch(rest) for form in _BRIEF) if m is not None), None)
    if match is None:
        return None
    topic = clean_topic(match.groupdict().get("topic"))
    if frame.window:
        since, until = frame.since, min(frame.until or frame.as_of, frame.as_of)
        return BriefAsk(since, until, frame.as_of, topic, frame.phrase or frame.describe())
    since, until = default_window(frame.as_of)
    return BriefAsk(since, until, frame.as_of, topic, f"the past {DEFAULT_DAYS} days")


def clean_topic(topic: str | None) -> str | None:
    """A topic as a brief reads it: None for "the news" or "everything"."""
    if not topic:
        return None
    topic = topic.strip(" ?!.,;:\"'“”")
    if topic.lower() in _GENERIC:
        return None
    topic = _LEADING.sub("", topic).strip()
    return topic or None


def read_since(value: str | None, as_of: datetime | None = None) -> date | None:
    """A `since` as the faces take it: a duration back from as_of ("1d", "12h", "2w"), a day (YYYY-MM-DD), or
    words ("Monday", "last week", "October 2"). ValueError when it is none of them."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    moment = as_of or dates.now()
    match = re.fullmatch(r"(\d{1,4})\s*([hdw])", value, re.I)
    if match:
        hours = int(match.group(1)) * {"h": 1, "d": 24, "w": 168}[match.group(2).lower()]
        return (moment - timedelta(hours=hours)).date() + timedelta(days=1 if hours % 24 == 0 and hours else 0)
    day = dates.day(value) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", value) else None
    if day is not None:
        return day
    for words in (value, f"since {value}"):
        frame = time_words.read_time(words, moment)
        if frame.since is not None:
            return frame.since
    raise ValueError(
        f"{value!r} is not a time to start from: use a duration (1d, 12h, 2w), a day (YYYY-MM-DD) or words "
        "such as Monday or last week"
    )
