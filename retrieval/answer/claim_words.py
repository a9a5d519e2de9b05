"""The words of a claim and of a quote, as the support rule reads them (retrieval/answer/support.py): numbers,
names, acronyms, negations and roles; the quote's sentences and windows, and the claim."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bm25s.stopwords import STOPWORDS_EN

from retrieval.core.text import NOT_NAMES, POSSESSIVE, tokenize

_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
SPELLED = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
}
SPELLED.update({w: str(10 * i) for i, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)})
_SPELLED_WORD = re.compile(r"\b(" + "|".join(SPELLED) + r")\b", re.I)


def numbers(text: str, spelled: bool = True) -> frozenset[str]:
    """The numbers a text states, as digits ("300,000" and "300000" alike, "06" as "6", "twelve" as "12")."""
    found = {n.replace(",", "").rstrip(".").lstrip("0") or "0" for n in _NUMBER.findall(text)}
    if spelled:
        found.update(SPELLED[w.lower()] for w in _SPELLED_WORD.findall(text) if w.lower() not in {"one", "zero"})
    return frozenset(found)


WORD = re.compile(r"[A-Za-z0-9][\w'’&.-]*[\w]|[A-Za-z0-9]")
# words that open a model's sentence without naming anything
_STARTERS = frozenset(
    "according additionally also although based both currently despite during either finally first furthermore "
    "however in instead meanwhile moreover neither no overall since specifically still then therefore though "
    "thus today yes yet one two three several some many most".split()
)


def words(text: str) -> list[str]:
    """A text's words, lower-cased, possessives and trailing dots off ("Xiaomi's" -> "xiaomi", "U.S." -> "u.s")."""
    text = text.replace("n't", " not").replace("n’t", " not")
    return [POSSESSIVE.sub("", w.lower().rstrip(".")) for w in WORD.findall(text)]


def split_words(ws: Sequence[str]) -> set[str]:
    """Words and their hyphen parts ("Bankman-Fried" is also "bankman" and "fried")."""
    found = set(ws)
    for w in ws:
        if "-" in w:
            found.update(p for p in w.split("-") if p)
    return found


def names(text: str, known: frozenset[str] = frozenset()) -> list[tuple[str, ...]]:
    """The names a text states: runs of capitalised words, lower-cased ("Sam Altman" -> ("sam", "altman")).

    A sentence's first word is one unless it is a common opener ("Analysts", "Around") that `known` (words
    written capitalised inside sentences) does not hold: "Lyft generated ..." names Lyft, whatever the passages
    name; a common noun there ("Engineers found ...") only has to be in the quote, as its other words do.
    """
    runs: list[tuple[str, ...]] = []
    current: list[str] = []
    end = 0
    for i, match in enumerate(WORD.finditer(text)):
        raw = match.group()
        if current and text[end : match.start()].strip(" &"):  # "Twitch, Google": two names, not one
            runs.append(tuple(current))
            current = []
        end = match.end()
        word = POSSESSIVE.sub("", raw.lower().rstrip("."))
        capital = raw[:1].isupper() or bool(_CAMEL.match(raw))
        first = i == 0 or bool(_OPENS.search(text[max(0, match.start() - 8) : match.start()]))
        is_name = capital and word not in NOT_NAMES and word not in _STARTERS and word not in STOPWORDS_EN
        if is_name and first and word not in known and word in _COMMON_OPENERS:
            is_name = False
        if is_name:
            current.append(word)
        elif current:
            runs.append(tuple(current))
            current = []
    if current:
        runs.append(tuple(current))
    return runs


_CAMEL = re.compile(r"[a-z]{1,2}[A-Z][a-z]")  # "iPhone", "eBay"
_OPENS = re.compile(r"(?:[.!?:;\n][\"'”’)\]]*|(?:^|\s)[\"“‘(\[])\s*$")
# words that open a sentence without naming anything
_COMMON_OPENERS = frozenset(
    "about above across after against ahead along already among analysts around as at before behind below "
    "beside besides between beyond but by can could critics despite down during each earlier early even ever "
    "every everyone experts few for from here however if in inside instead into last later less like many "
    "more most much near nearly next nobody none nor not nothing now of officials on once only onto or other "
    "others out outside over overall people per perhaps plus rather recently roughly since so some sources "
    "still such than that the their then there these they this those though through thus to today together "
    "too toward towards under unlike until up upon us we what when where whether which while who why will "
    "with within without would yet you approximately almost researchers scientists investors users fans".split()
)


_RUN = re.compile(r"[A-Z][\w'’&.-]*(?:\s+(?:(?:of|and|for|the|&)\s+)?[A-Z][\w'’&.-]*)+")


def acronyms(text: str) -> frozenset[str]:
    """The initials of a text's multi-word names ("Federal Trade Commission" -> "ftc"), for "FTC" in a claim."""
    found = set()
    for match in _RUN.finditer(text):
        capitals = [w for w in match.group().split() if w[:1].isupper()]
        found.add("".join(w[0] for w in capitals).lower())
    return frozenset(found)


def known_names(texts: Sequence[str]) -> frozenset[str]:
    """Words written capitalised somewhere other than at a sentence's start: names, in these texts."""
    found: set[str] = set()
    for text in texts:
        for run in names(text):
            found.update(run)
    return frozenset(found)


_NEGATION = re.compile(
    r"\b(?:not|no|never|none|neither|nor|nobody|nothing|without|cannot|denied|denies|deny|refused|refuses|"
    r"unable|failed\s+to|fails\s+to|no\s+longer|rejected|rules?\s+out|ruled\s+out)\b",
    re.I,
)
_SCOPE_TERMS = 2  # what a negation covers: the first terms after it (stop words aside), up to this many


# a role the claim gives someone must be the quote's: "CEO Shane Sorohan" is not stated by "COO Shane Sorohan",
# even though the question asked for the CEO (its words are otherwise taken as given)
_ROLES = {
    "ceo": r"ceo|chief executive(?: officer)?",
    "coo": r"coo|chief operating officer",
    "cfo": r"cfo|chief financial officer",
    "cto": r"cto|chief technology officer",
    "chair": r"chair(?:man|woman|person)?",
    "president": r"(?<!vice )(?<!vice-)president",
    "founder": r"(?:co-?)?founder|founded",
    "coach": r"(?:head )?coach",
}
_ROLE = {role: re.compile(rf"\b(?:{pattern})\b", re.I) for role, pattern in _ROLES.items()}


_FORMER = re.compile(  # "then-CEO", "former FTX CEO"
    r"\b(?:former|ex|then|previous|onetime|one-time|erstwhile|outgoing|departing|late)[\s-]+(?:\S+\s+)?$", re.I
)


def roles(text: str) -> frozenset[str]:
    """The roles a text gives people (ceo, coo, chair, founder, ...), whatever the wording; one held before
    ("then-CEO Joe Natale", "former chief executive") is another role ("former ceo"): it does not state who
    holds it now."""
    found = set()
    for role, pattern in _ROLE.items():
        for match in pattern.finditer(text):
            former = role != "founder" and _FORMER.search(text[max(0, match.start() - 20) : match.start()])
            found.add(f"former {role}" if former else role)
    return frozenset(found)


# the organisation a role is held at: "CEO of Warner Music Group", "Sony Music's CEO", "Sony Music CEO Rob"
_ORG = r"[A-Z][\w&.-]*(?:\s+(?:of\s+|&\s+)?[A-Z][\w&.-]*){0,3}"
_ORG_AFTER = re.compile(rf"^\s+(?:of|at)\s+(?:the\s+)?({_ORG})")
_ORG_BEFORE = re.compile(rf"({_ORG})(?:['’]s)?\s+$")


def roles_at(text: str) -> frozenset[tuple[str, frozenset[str]]]:
    """(role, the words of the organisation it is held at) for each role the text ties to one."""
    found = set()
    for role, pattern in _ROLE.items():
        if role == "coach":  # a coach's former teams are named as plainly as the present one ("coach at Oregon State")
            continue
        for match in pattern.finditer(text):
            if role != "founder" and _FORMER.search(text[max(0, match.start() - 20) : match.start()]):
                continue
            after = _ORG_AFTER.match(text[match.end() : match.end() + 60])
            before = _ORG_BEFORE.search(text[max(0, match.start() - 60) : match.start()])
            for org in (after, before):
                named = [w.lower().rstrip(".") for w in org.group(1).split()] if org else []
                while named and named[0] in _NOT_ORG:
                    named.pop(0)  # "Former FTX CEO": FTX
                if words := frozenset(named) - {"of", "&"}:
                    found.add((role, words))
    return frozenset(found)


_NOT_ORG = frozenset("the its his her their former then new interim acting co deputy".split())


def role_elsewhere(claim: str, quote: str) -> bool:
    """Whether the claim ties a role to an organisation the quote does not, while the quote ties that role to
    another ("The CEO of Sony Music is Robert Kyncl" / "Robert Kyncl, CEO of Warner Music Group")."""
    asked = roles_at(claim)
    held = roles_at(quote) if asked else frozenset()  # most claims give no role: the quote is not read
    for role, org in asked:
        others = [o for r, o in held if r == role]
        if others and not any(o <= org or org <= o for o in others):
            return True
    return False


def negations(text: str) -> tuple[frozenset[str], ...]:
    """What each negation of a text covers: the first few terms after it, within its clause."""
    text = text.replace("n't", " not").replace("n’t", " not")
    scopes = []
    for match in _NEGATION.finditer(text):
        after = re.split(r"[.;:!?,]|\s(?:but|while|and|or)\s", text[match.end() :], maxsplit=1)[0]
        scopes.append(" ".join(after.split()[:8]))
    return tuple(frozenset(terms[:_SCOPE_TERMS]) for terms in tokenize(scopes)) if scopes else ()


def negated_terms(text: str) -> frozenset[str]:
    """The terms a text negates."""
    return frozenset().union(*negations(text))


def negation_agrees(claim: Sequence[frozenset[str]], quote: Sequence[frozenset[str]], shared: frozenset[str]) -> bool:
    """Whether each negation of either side that touches what both say is matched by one of the other's."""
    for mine, theirs in ((claim, quote), (quote, claim)):
        for scope in mine:
            if scope & shared and not any(scope & other & shared for other in theirs):
                return False
    return True


def has_negation(text: str) -> bool:
    return bool(_NEGATION.search(text.replace("n't", " not").replace("n’t", " not")))


PRONOUN_OPENING = re.compile(
    r"^\W*(?:\w+\s+){0,3}?(?:he|she|it|its|they|their|them|his|her|this|these|the\s+(?:company|firm|"
    r"group|country|government|team|club|court|agency|ministry|city|carmaker|startup|club|player|company's|"
    r"firm's))\b",
    re.I,
)


# words that say how, not what: a claim's terms leave them out (bm25s's stop words keep most of them)
FUNCTION_WORDS = frozenset(
    tokenize(
        [
            "would could should may might must can also did does do has have had were been being shall its his "
            "we you i us our your me my"
        ]
    )[0]
)


@dataclass(frozen=True)
class Sentence:
    passage: int  # 1-based
    index: int  # its place among its passage's sentences
    text: str
    terms: frozenset[str]
    words: tuple[str, ...]
    numbers: frozenset[str]
    negated: tuple[frozenset[str], ...]
    instruction: bool


@dataclass(frozen=True)
class Window:
    """One to three adjacent sentences of one passage: a quote a citation can show."""

    passage: int
    sentences: tuple[Sentence, ...]
    terms: frozenset[str]
    words: frozenset[str]  # with the sentence it depends on, and the passage's title and outlet
    numbers: frozenset[str]  # with the passage's title and year

    @property
    def quotes(self) -> list[str]:
        return [s.text for s in self.sentences]


@dataclass(frozen=True)
class Claim:
    text: str
    terms: frozenset[str]
    words: tuple[str, ...]
    names: tuple[tuple[str, ...], ...]  # those a quote must hold (the question's aside)
    numbers: frozenset[str]
    negated: tuple[frozenset[str], ...]
    negation: bool
    runs: tuple[tuple[str, ...], ...] = ()  # every name, in order (the question's too): who did what to whom
    novel: frozenset[str] = frozenset()  # its terms the question does not hold: what it adds
    relation: Relation | None = None  # what it says of its values (see relation())
    restated: frozenset[str] = frozenset()  # the question's numbers it states again ("... in 2024")


@dataclass(frozen=True)
class Relation:
    """What a claim says of the values it states (see relation())."""

    terms: frozenset[str] = frozenset()  # the question's words it uses of them (stems)
    governing: frozenset[tuple[str, str]] = frozenset()  # the term nearest to each value ("number" or "name")
    values: frozenset[str] = frozenset()  # its numbers and the words of its names, the question's aside
    asked: frozenset[str] = frozenset()  # the question's numbers and words: no other value a term could be of


def held_by_another(claim: Claim, sentence: Sentence) -> bool:
    """A number the claim says of a name that the sentence says, in the same words, of another, while naming the
    claim's too: "Talon has raised around $143 million, and Dig has raised only around $45 million" gives Dig
    the $45 million (the word after each name is the same: they are parallel clauses)."""
    named = {w for run in claim.runs for w in run}
    for number in claim.numbers & sentence.numbers:
        mine = _last_name(claim.words, claim.runs, number)
        theirs = _last_name(sentence.words, names(sentence.text), number)
        if (
            mine
            and theirs
            and mine[1] == theirs[1]
            and mine[1] not in _LINKS
            and not set(theirs[0]) & named
            and mine[0][-1] in sentence.words
        ):
            return True
    return False


_LINKS = frozenset("in of at on for to by from with and or as".split())  # "Gogoro in 2011": no clause of its own


def _last_name(ws: Sequence[str], runs: Sequence[tuple[str, ...]], number: str) -> tuple[tuple[str, ...], str] | None:
    """The last name written before a number's first place and the word that follows it (None when there is no
    such name, or the number is not there)."""
    if number not in ws:
        return None
    at = ws.index(number)
    found = [(i, run) for run in runs for i in range(at - len(run)) if tuple(ws[i : i + len(run)]) == run]
    if not found:
        return None
    i, run = max(found)
    return run, ws[i + len(run)]
