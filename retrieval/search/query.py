"""What a question says about where and when: the outlets it names and the dates or months it mentions.

Outlets are matched against the sources actually in the index, by their full name and by short forms
("Cnbc" for "Cnbc | World Business News Leader", "The Independent" for "The Independent - Sports",
"Verge" for "The Verge"). Short forms are matched with their capitals, so "a fortune" or "the age of"
never count as the outlets Fortune or The Age.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from retrieval.core.dates import find_dates
from retrieval.core.text import DOTTED_TERM

_SEPARATORS = re.compile(r"\s+(?:\||-|–|—|:)\s+|:\s+")


@dataclass(frozen=True)
class QueryHints:
    sources: tuple[str, ...] = ()  # outlets named, as stored in the index, in order of first mention
    days: tuple[date, ...] = ()  # exact dates mentioned
    months: tuple[tuple[int, int], ...] = ()  # (year, month) mentioned without a day
    spans: tuple[tuple[int, int], ...] = field(default=(), repr=False)  # where the outlet names sit in the text

    @property
    def empty(self) -> bool:
        return not (self.sources or self.days or self.months)


def _aliases(source: str) -> set[str]:
    """The names a question may use for an outlet: the full name, the part before a separator, minus "The"."""
    names = {source.strip()}
    head = _SEPARATORS.split(source.strip(), maxsplit=1)[0].strip()
    names.add(head)
    for name in list(names):
        if name.lower().startswith("the ") and len(name) > 7:
            names.add(name[4:])
    if head.isalpha() and head[:1].isupper() and head[1:].islower() and len(head) <= 5:
        names.add(head.upper())  # "Cnbc" is written CNBC
    return {n for n in names if len(n) >= 3}


class OutletMatcher:
    """Finds the indexed outlets a question names. Build it from the index's sources; rebuild when they change."""

    def __init__(self, sources: Iterable[str]) -> None:
        self.sources = sorted({s for s in sources if s and s.strip()})
        by_alias: dict[str, set[str]] = {}
        for source in self.sources:
            for alias in _aliases(source):
                by_alias.setdefault(alias, set()).add(source)
        self._by_alias = by_alias
        # longest first, so "The Independent - Sports" wins over "The Independent"
        ordered = sorted(by_alias, key=len, reverse=True)
        self._pattern = re.compile("|".join(rf"(?<!\w){re.escape(a)}(?!\w)" for a in ordered)) if ordered else None

    def find(self, text: str) -> tuple[tuple[str, ...], tuple[tuple[int, int], ...]]:
        """The outlets named in text, in order of first mention, and where their names sit."""
        first: dict[str, int] = {}
        spans: list[tuple[int, int]] = []
        if self._pattern is not None:
            for m in self._pattern.finditer(text):
                spans.append(m.span())
                for source in self._by_alias[m.group()]:
                    first.setdefault(source, m.start())
        return tuple(sorted(first, key=lambda s: (first[s], s))), tuple(sorted(spans))


def analyse(text: str, outlets: OutletMatcher | None) -> QueryHints:
    sources, spans = outlets.find(text) if outlets is not None else ((), ())
    days, months = find_dates(text)
    return QueryHints(sources=sources, days=days, months=months, spans=spans)


# a new clause starts after a comma or semicolon, or before "while", "whereas", "but", "and is/was/has/..."
_CLAUSE_BREAK = re.compile(
    r",\s+|;\s+|\s+(?=(?:while|whereas|but|and (?:is|was|has|had|also|then|did|does|that|which|who))\b)"
)


def clauses(text: str, min_words: int = 4) -> list[str]:
    """The clauses of a long question, each long enough to search on its own (short ones join a neighbour).

    A multi-hop question usually describes one piece of evidence per clause ("which company, reported by A
    to ..., and accused by B of ..."): searching each clause finds passages the whole question dilutes.
    """
    parts = [p.strip() for p in _CLAUSE_BREAK.split(text) if p and p.strip()]
    out: list[str] = []
    for part in parts:
        if out and len(DOTTED_TERM.findall(out[-1])) < min_words:
            out[-1] = f"{out[-1]} {part}"
        else:
            out.append(part)
    if len(out) > 1 and len(DOTTED_TERM.findall(out[-1])) < min_words:
        tail = out.pop()
        out[-1] = f"{out[-1]} {tail}"
    return out
