"""What a claim says of its value, stated by the quote: the relation rule of the support check (retrieval/answer/
support.py). A value the quote holds in another role ("raised $400M" for "valued at $400M") states nothing of
the claim; the words that say the same of a value are grouped, and a few groups have contraries."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from retrieval.answer.claim_words import (
    FUNCTION_WORDS,
    SPELLED,
    Claim,
    Relation,
    Window,
    names,
    numbers,
    split_words,
    words,
)
from retrieval.core.text import POSSESSIVE, QUESTION_FILLER, tokenize

_HOW = re.compile(r"\bhow\s+(\w+)", re.I)
# relations said in other words: a quote states a claim's relation term when it holds the term or one of its group.
# Groups are kept narrow: "valued at" is not "raised", "founded by" is not "run by", "based in" is not "working in".
_RELATION_GROUPS = [
    "cost costs price priced prices pay paid paying charge charges fee fees spend spent buy buys bought buying "
    "purchase purchased acquire acquired acquisition",
    "total altogether combined overall",
    "make makes maker makers parent owner owns owned develop developed developer",
    "value valued valuation worth",
    "raise raised raising secure secured funding funded",
    "run runs ran running lead leads led head heads heading helm chief",
    "found founded founder founders cofounded started launched establish established created",
    "start starts started starting begin begins began join joins joined debut",
    "base based headquarters headquartered hq",
    "hire hired hiring appoint appointed appointment name named",
    "earn earns earned earning salary paid pay",
    "sell sold sells sale sales",
    "employ employs employed employees staff workers workforce headcount",
    "win won wins winning title titles",
    "born birth",
    "die died dead death killed",
    "old age aged",
    "suspend suspended suspending suspension ban banned prohibit prohibited",
]
# what a yes/no verdict's reason may state instead of the question's claim: its contrary ("stays open" to "is it
# closing?" says no). Each pair's two sides are contraries of each other; kept as narrow as the groups above.
_CONTRARY_GROUPS = [
    ("open opens opened reopen reopens reopened", "close closes closed closing shut shuts"),
    ("win wins won", "lose loses lost"),
    ("rise rises rose increase increased grow grew", "fall falls fell decrease decreased drop dropped declined"),
    ("approve approves approved", "reject rejects rejected block blocks blocked"),
    ("stay stays stayed remain remains remained", "leave leaves leaving depart departs departed quit quits"),
    ("guilty convicted", "acquitted innocent"),
]


def _relation_table() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for group in _RELATION_GROUPS:
        stems = frozenset(t for w in group.split() for t in tokenize([w])[0] if len(t) > 2)
        for stem in stems:
            table.setdefault(stem, set()).update(stems)
    return {stem: frozenset(found) for stem, found in table.items()}


_RELATIONS = _relation_table()


def _contrary_table() -> dict[str, frozenset[str]]:
    table: dict[str, set[str]] = {}
    for one, other in _CONTRARY_GROUPS:
        a, b = (frozenset(t for w in side.split() for t in tokenize([w])[0] if len(t) > 2) for side in (one, other))
        for x, y in ((a, b), (b, a)):
            for stem in x:
                table.setdefault(stem, set()).update(y)
    return {stem: frozenset(found) for stem, found in table.items()}


_CONTRARIES = _contrary_table()


def related(term: str) -> frozenset[str]:
    """A term and the words that say the same of a value (its relation group: "suspend", "banned")."""
    return _RELATIONS.get(term, frozenset()) | {term}


def asked_terms(question: str) -> frozenset[str]:
    """A question's terms, less those that say how it asks ("did", "does", "article", "mentioned")."""
    return frozenset(tokenize([question])[0]) - FUNCTION_WORDS - _FILLER_TERMS


def contraries(term: str) -> frozenset[str]:
    """The words that say the contrary of a term ("close" -> "open", "reopen")."""
    return _CONTRARIES.get(term, frozenset())


# nouns that name a claim's subject, not what it says of it ("the company" in "the company is valued at ...")
_SUBJECTS = frozenset(
    tokenize(
        [
            "company companies firm group startup business country government team club court agency ministry "
            "city carmaker player people person organization organisation"
        ]
    )[0]
)
_COUNTS = frozenset(t for w in SPELLED for t in tokenize([w])[0]) | frozenset(tokenize(["one"])[0])
_FILLER_TERMS = frozenset(t for w in QUESTION_FILLER for t in tokenize([w])[0]) | frozenset(
    tokenize(
        [
            "answer question passage mentions mentioned states stated per via over under across among within against "
            # a preposition of time and the light verbs ("after ... got canned", "ended up paying"): a claim's
            # relation is its content word, not these
            "after before during since until end ended ending get gets got getting go goes went "
            "going gone come came new now"
        ]
    )[0]
)


_GOVERNS = 8  # words between a value and the term that governs it, at most


def relation(
    text: str, question: str, terms: frozenset[str], runs: Sequence[tuple[str, ...]], stated: frozenset[str]
) -> Relation:
    """What a claim that states a value (a number, a name not in the question) says of it, in the question's
    words: the terms it shares with the question ("based" in "Cubic Telecom is based in Japan", asked "where is
    cubic telecom based"), names, counts and the question's "how much/old/long" aside; the question's own,
    for a bare value ("$45 million": nothing of its own but a unit). The question's words are otherwise taken
    as given (the wording score asks only for what a claim adds); these a quote must state, or a value that
    appears in it in another role ("working together in Japan") would support the claim. The term nearest to
    each value (the one before it when there is one: "valued at $3 million", "run by Luke") governs it."""
    asked_words = split_words(words(question))
    asked = frozenset(tokenize([question])[0]) - {t for w in _HOW.findall(question) for t in tokenize([w])[0]}
    named = {t for run in runs for t in tokenize([" ".join(run)])[0]}
    named |= {t for run in names(question) for t in tokenize([" ".join(run)])[0]}
    own = terms - named - _FILLER_TERMS - _COUNTS - _SUBJECTS - {t for t in terms if t[:1].isdigit()}
    shared = own & asked
    restated = any(w in asked_words for run in runs for w in run)  # it names what the question asks about
    if len(own) <= 1 and not shared and not restated:  # a bare value: it says what the question asks
        shared = asked - named - _FILLER_TERMS - _COUNTS - _SUBJECTS
    value_words = frozenset(w for run in runs for w in run if w not in asked_words)
    governing: set[tuple[str, str]] = set()
    if shared:
        stems, places, _, lowered = _placed(text)
        at = [(j, "number") for j, value in places if value in stated]
        at += [(j, "name") for j, w in enumerate(lowered) if w in value_words]
        for j, kind in at:  # within a few words of it: a term further off is said of something else
            before = [i for i in range(max(0, j - _GOVERNS), j) if stems[i] in shared]
            after = [i for i in range(j + 1, min(len(stems), j + _GOVERNS + 1)) if stems[i] in shared]
            if before or after:
                governing.add((stems[before[-1] if before else after[0]], kind))
    return Relation(
        frozenset(shared),
        frozenset(governing),
        stated | value_words,
        numbers(question) | asked_words | frozenset(w for run in runs for w in run if w not in value_words),
    )


def relation_stated(relation: Relation, quote: Sequence[str], share: float) -> bool:
    """Whether a quote states what a claim says of its values: each governing term (or a word of its group) is
    said of one of them, in a sentence that holds one (when one does), with no other number nearer to it (or,
    for a relation of three terms or more, two in three of its terms are); and the quote holds at least `share`
    of its terms, anywhere."""
    if share <= 0 or not relation.terms:
        return True
    placed = [_placed(text) for text in quote]
    holding = [p for p in placed if _holds(p, relation)]
    held, governed, missed, named = 0, 0, False, False
    for term in relation.terms:
        group = _RELATIONS.get(term, frozenset()) | {term}
        kinds = {kind for t, kind in relation.governing if t == term} or {"number"}
        if all(any(_said_of(group, p, relation, kind) for p in holding or placed) for kind in kinds):
            held += 1
            governed += 1
        else:
            missed = missed or any(t == term for t, _ in relation.governing)
            named = named or (term, "name") in relation.governing
            held += any(stem in group for p in placed for stem in p[0])
    if missed and (named or not (len(relation.terms) >= 3 and governed >= 2 / 3 * len(relation.terms))):
        return False
    return held >= max(1.0, share * len(relation.terms))


def _holds(
    placed: tuple[tuple[str, ...], tuple[tuple[int, str], ...], tuple[bool, ...], tuple[str, ...]], relation: Relation
) -> bool:
    _, places, _, lowered = placed
    return any(value in relation.values for _, value in places) or any(w in relation.values for w in lowered)


def _said_of(
    group: frozenset[str],
    placed: tuple[tuple[str, ...], tuple[tuple[int, str], ...], tuple[bool, ...], tuple[str, ...]],
    relation: Relation,
    kind: str,
) -> bool:
    """Whether a sentence says a term (or a word of its group) of one of the claim's values of this kind: for a
    number, no other number is nearer to it than the nearest of them ("raised $400 million ..., boosting its
    valuation to $32 billion" says nothing valued at $400 million); the question's numbers are no other values
    ("the two startups"). A name is often said again in other words ("the Dublin-based startup"), so a term said
    of one only has to be there, and so does a term written as a name ("Dig" in "..., and Dig has raised only
    around $45 million": the claim's subject, not what it says of its number)."""
    stems, places, capitals, lowered = placed
    at = [i for i, stem in enumerate(stems) if stem in group]
    if not at:
        return False
    if any(capitals[i] for i in at):
        return True
    if kind != "number":
        return True  # a name is often said again another way ("the Dublin-based startup"): it is where it is
    mine = [j for j, value in places if value in relation.values]
    others = [j for j, value in places if value not in relation.values and value not in relation.asked]
    if not mine or not others:
        return True  # nothing else it could be said of
    return any(min(abs(i - j) for j in mine) <= min(abs(i - k) for k in others) for i in at)


_TOKEN = re.compile(r"\d[\d,.]*\d|\d|[A-Za-z][\w'’]*|[(),]")


@functools.lru_cache(maxsize=4096)
def _placed(text: str) -> tuple[tuple[str, ...], tuple[tuple[int, str], ...], tuple[bool, ...], tuple[str, ...]]:
    """A sentence's words as stems ("" for stop words), where its numbers are, which words are written as names
    (capitalised, past its first word) and the words lower-cased; a number in brackets just after another ("C$8
    billion ($5.9 billion)", "16 people, or 28% of its staff") is the same value said another way and takes that
    one's place."""
    stems: list[str] = []
    places: list[tuple[int, str]] = []
    capitals: list[bool] = []
    lowered: list[str] = []
    bracket = -1  # where the last "(" (or ", or") opened, within a few words of a number
    comma = False
    for match in _TOKEN.finditer(text.replace("n't", " not").replace("n’t", " not")):
        token = match.group()
        if token in "(),":
            bracket = len(stems) if token == "(" and places and len(stems) - places[-1][0] <= 3 else -1
            comma = token == ","
            continue
        if token == "or" and comma and places and len(stems) - places[-1][0] <= 3:
            bracket, comma = len(stems), False  # "16 people, or 28% of its staff": one value, said two ways
            continue
        comma = False
        found = numbers(token)
        if found:
            value = next(iter(found))
            places.append((places[-1][0] if bracket >= 0 and places else len(stems), value))
        stem = tokenize([token])[0]
        stems.append("" if found or not stem else stem[0])
        capitals.append(bool(stems[:-1]) and token[:1].isupper() and len(token) > 1 and not found)
        lowered.append(POSSESSIVE.sub("", token.lower()))
    return tuple(stems), tuple(places), tuple(capitals), tuple(lowered)


_PERCENT = re.compile(r"(\d[\d,.]*)\s*(?:%|per\s*cent\b|percent\b|percentage points?\b)", re.I)


def percents(text: str) -> frozenset[str]:
    """The numbers a text gives as percentages ("7%", "25 per cent")."""
    return frozenset(n for found in _PERCENT.findall(text) for n in numbers(found, spelled=False))


def units_agree(claim: Claim, window: Window) -> bool:
    """A number the claim gives as a percentage is one in the quote, and one it gives as a count or an amount
    is one there too ("laid off 7% of its workforce" does not state "laid off 7 people")."""
    text = " ".join(window.quotes)
    claim_percents = percents(claim.text) & claim.numbers
    plain = claim.numbers - claim_percents
    quote_percents = percents(text)
    quote_plain = numbers(_PERCENT.sub(" ", text)) | (window.numbers - numbers(text))
    return claim_percents <= quote_percents and plain <= quote_plain
