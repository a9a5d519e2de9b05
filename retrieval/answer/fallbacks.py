"""Why an LLM's answer was not used, and the extractive answer stands instead (the answer's mode says which)."""

from __future__ import annotations

import re

from retrieval.answer.claim_words import numbers
from retrieval.answer.facts import asked_kind

# the kinds of fact that are figures: "how old", "how much", "how many", "how long", "how tall"
_FIGURES = frozenset({"age", "amount", "number", "duration", "measure", "score"})
_MARKER = re.compile(r"\[\d+\]")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b(?![.,]\d|\s*(?:%|percent|people|fans|members|votes|homes|units))")
# a span said in words: "for one month", "a year", "half a season"
_SPAN_IN_WORDS = re.compile(
    r"\b(?:one|a|an|half an?|a few|a couple of|several)\s+(?:year|month|week|day|hour|minute|decade|season)s?\b", re.I
)


class NoSupportedSentence(Exception):
    """Nothing the LLM wrote is supported by a given passage (and it did not decline)."""


class NothingRetrieved(Exception):
    """No passage matched: there is nothing to ask the LLM about."""


class ModelDeclined(Exception):
    """The LLM said its passages do not answer, and the extractive answer found the asked fact in them."""


class NoAskedFigure(Exception):
    """Asked for a figure, the LLM's supported answer states none ("how old is X": "X founded Y [1]")."""


def misses_figure(question: str, answer: str) -> bool:
    """Whether a question asks for a figure (how old / much / many / long) that the answer states none of."""
    kind = asked_kind(question)
    text = _MARKER.sub(" ", answer)
    if kind in {"number", "amount", "measure"}:  # "2024 season tickets" states no count ("since 2019" a span)
        text = _YEAR.sub(" ", text)
    return kind in _FIGURES and not numbers(text) and not _SPAN_IN_WORDS.search(text)


def fallback_reason(exc: BaseException) -> str:
    """Why the LLM's answer was not used, for Answer.mode and the log."""
    if isinstance(exc, NoSupportedSentence):
        return "llm answer unsupported"
    if isinstance(exc, NothingRetrieved):
        return "nothing retrieved"
    if isinstance(exc, ModelDeclined):
        return "llm declined"
    if isinstance(exc, NoAskedFigure):
        return "llm answer states no figure"
    names = {cls.__name__ for cls in type(exc).__mro__}
    if names & {"TimeoutError", "APITimeoutError", "TimeoutException", "ReadTimeout", "ConnectTimeout"}:
        return "llm timeout"
    if names & {"APIConnectionError", "ConnectError", "ConnectionError", "RemoteProtocolError"}:
        return "llm unreachable"
    status = getattr(exc, "status_code", None)
    return f"llm error {status}" if status else "llm error"
