"""Whose age a sentence states: "a 30-year-old Casemiro" is Casemiro's, "Biden, the 81-year-old president"
Biden's, and "The 49-year-old ... spoke with Larson" nobody's the sentence names. Read by the offline answer
(facts of the kind "age") and by the support check (an age a claim gives someone must be theirs in the quote)."""

from __future__ import annotations

import re
from collections.abc import Collection

from retrieval.core.text import NOT_NAMES, POSSESSIVE

# a role after a name that an age comes before: the name only says whose founder, singer, coach it is
_HELD_BY = (
    r"founder|co-founder|ceo|chief|executive|boss|singer|rapper|star|player|coach|actor|actress|forward|striker|"
    r"quarterback|midfielder|defender|goalkeeper|manager|owner|chairman|president|director|driver|pitcher|"
    r"guard|winger|entrepreneur|billionaire|producer|designer"
)
_AGE = re.compile(
    # "18 years old", "a 30-year-old Casemiro"; "the 43-year-old Flexport founder" is the founder's age
    rf"\b(\d{{1,3}})[- ](?:years?|yrs?)[- ]old\b(?:\s+([A-Z][\w'’-]+)(?![\w'’-]*\s+(?:{_HELD_BY})\b))?"
    r"|(?:\b([A-Za-z][\w'’-]+),?\s+)?\baged (\d{1,3})\b"  # "his brothers, aged 12": the brothers' age
    r"|\b([A-Z][\w'’-]+),\s+(?:now\s+)?(\d{1,3}),"  # "Lucas Goeller, now 10,": Goeller's age
    r"|\bwho (?:was|is|turned|turns|will turn) (\d{1,3})\b"
    r"|\b(?:at the age of|died at|dies at|aged just) (\d{1,3})\b"  # "has died at the age of 78": the sentence's own
)


def ages(sentence: str) -> list[tuple[str, str]]:
    """The ages a sentence states: (age, the word it is the age of when the sentence says, else ""): "a 30-year-old
    Casemiro" is Casemiro's age and "his brothers, aged 12" the brothers', whoever else the sentence names;
    "Biden, the 81-year-old president" Biden's. "The 49-year-old" with no name of its own stands for someone
    named before, so not for anyone the same sentence names ("The 49-year-old ... spoke with Larson and
    Sweet": not Larson's age); its holder is then "!" and those names (see age_of)."""
    found = []
    for m in _AGE.finditer(sentence):
        pairs = ((1, 2), (4, 3), (6, 5), (7, 7), (8, 8))
        age, holder = next((m.group(a), m.group(h) or "") for a, h in pairs if m.group(a))
        if m.group(1) and not holder:
            holder = _described(sentence, m.start(), m.end())
        if 0 < int(age) < 125:
            found.append((age, POSSESSIVE.sub("", holder.lower()) if holder != age else ""))
    return found


_APPOSED = re.compile(r"\b([A-Z][\w'’-]+),\s+(?:the|a|an)\s+$")  # "Biden, the 81-year-old president"
_DEFINITE = re.compile(r"(?:^|\s)(?:the|The)\s+$")
_CAPITALISED = re.compile(r"\b[A-Z][\w'’-]+")
_NAMED_AFTER = re.compile(r"(?:\s+[a-z][\w'’-]*){0,2}\s+[A-Z]")


def _described(sentence: str, start: int, end: int) -> str:
    """Whose age an "N-year-old" followed by no name is: the name it is set beside, or, said as "the
    N-year-old", none of the names elsewhere in the sentence ("!" and those names); "" when it cannot say."""
    before = sentence[:start]
    if apposed := _APPOSED.search(before):
        return apposed.group(1)
    if not _DEFINITE.search(before) or _NAMED_AFTER.match(sentence, end):
        return ""  # "the 43-year-old Flexport founder Ryan Petersen": the name it comes before
    others = [
        word
        for m in _CAPITALISED.finditer(sentence)
        if not start <= m.start() < end and (word := POSSESSIVE.sub("", m.group().lower())) not in NOT_NAMES
    ]
    return "!" + ",".join(others) if others else ""


def age_of(holder: str, subject: Collection[str]) -> bool:
    """Whether an age read with this holder (ages()) may be the subject's (words of its name): when the sentence
    names no holder, or names the subject as the holder, or (a "!" holder) the subject is not among the names
    the age cannot be."""
    if not holder:
        return True
    if holder.startswith("!"):
        return not set(holder[1:].split(",")) & set(subject)
    return holder in subject
