"""Whether a quote states a claim: the rule every cited sentence of an LLM answer must pass.

A claim is supported by a quote, one to three adjacent sentences of one passage (what the citation shows),
when all of these hold:

- **its facts are there**: every number the claim states (outside the question) is in the quote (the
  passage's year aside, which the citation card shows); every name (a capitalised word: a person, company,
  place, month or weekday; "FTC" for "Federal Trade Commission") is in the quote, in the sentence it depends
  on (the one before it, when the quote opens on a pronoun or "the company"), or in the passage's outlet;
- **it says what the quote says**: meaning (cosine, with the embedder) and wording (the share of the terms
  the claim adds to the question that the quote holds, less a little for each one it lacks) reach a
  threshold, chosen by bench/support.py on a labelled set of sentence-quote pairs;
- **negation agrees**: when one of the two negates something the other states ("found no cracks" /
  "shows cracks"), the other negates it too;
- **who did what to whom**: two names in the claim that the quote holds in the other order, with the words
  that join them between them in both ("Google sued Microsoft" / "Microsoft sued Google"), are swapped,
  unless the quote is passive ("... was sued by ...") or the words are a report ("X said Y" / "Y, X said");
- **a copy is not edited**: a claim that copies the quote's words does not add or drop a negation, change a
  number, put another name in a name's place or trade two words' places;
- **it is no instruction**: a sentence that tells its reader what to do or say (retrieval/instructions.py)
  never supports anything, and a quote never includes one.

A longer quote is taken only when a shorter one fails; each further sentence refers back to the one before
("It ...", "The company ...") and adds something the claim states.
"""

from __future__ import annotations

import difflib
import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from bm25s.stopwords import STOPWORDS_EN

from retrieval.answer.instructions import planted
from retrieval.core.text import NOT_NAMES, POSSESSIVE, QUESTION_FILLER, sentence_spans, tokenize
from retrieval.core.types import Passage
from retrieval.embed.embedder import Embedder

_NUMBER = re.compile(r"\d[\d,.]*\d|\d")
_SPELLED = {
    w: str(i)
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
        "seventeen eighteen nineteen twenty".split()
    )
}
_SPELLED.update({w: str(10 * i) for i, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)})
_SPELLED_WORD = re.compile(r"\b(" + "|".join(_SPELLED) + r")\b", re.I)


def numbers(text: str, spelled: bool = True) -> frozenset[str]:
    """The numbers a text states, as digits ("300,000" and "300000" alike, "06" as "6", "twelve" as "12")."""
    found = {n.replace(",", "").rstrip(".").lstrip("0") or "0" for n in _NUMBER.findall(text)}
    if spelled:
        found.update(_SPELLED[w.lower()] for w in _SPELLED_WORD.findall(text) if w.lower() not in {"one", "zero"})
    return frozenset(found)


_WORD = re.compile(r"[A-Za-z0-9][\w'’&.-]*[\w]|[A-Za-z0-9]")
# words that open a model's sentence without naming anything
_STARTERS = frozenset(
    "according additionally also although based both currently despite during either finally first furthermore "
    "however in instead meanwhile moreover neither no overall since specifically still then therefore though "
    "thus today yes yet one two three several some many most".split()
)


def words(text: str) -> list[str]:
    """A text's words, lower-cased, possessives and trailing dots off ("Xiaomi's" -> "xiaomi", "U.S." -> "u.s")."""
    text = text.replace("n't", " not").replace("n’t", " not")
    return [POSSESSIVE.sub("", w.lower().rstrip(".")) for w in _WORD.findall(text)]


def _split_words(ws: Sequence[str]) -> set[str]:
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
    for i, match in enumerate(_WORD.finditer(text)):
        raw = match.group()
        if current and text[end : match.start()].strip(" &"):  # "Twitch, Google": two names, not one
            runs.append(tuple(current))
            current = []
        end = match.end()
        word = POSSESSIVE.sub("", raw.lower().rstrip("."))
        capital = raw[:1].isupper()
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


_PRONOUN_OPENING = re.compile(
    r"^\W*(?:\w+\s+){0,3}?(?:he|she|it|its|they|their|them|his|her|this|these|the\s+(?:company|firm|"
    r"group|country|government|team|club|court|agency|ministry|city|carmaker|startup|club|player|company's|"
    r"firm's))\b",
    re.I,
)


# words that say how, not what: a claim's terms leave them out (bm25s's stop words keep most of them)
_FUNCTION = frozenset(
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


@dataclass(frozen=True)
class SupportOptions:
    above: float = 0.76  # calibrated by bench/support.py (bench/results/support.json)
    dense_weight: float = 0.5  # meaning vs wording (the share of what the claim adds to the question it holds)
    missing_penalty: float = 0.05  # for each term the claim adds that the quote lacks
    complete_above: float = 0.55  # meaning enough for a quote that holds every term the claim adds
    relation_share: float = 0.5  # of a claim's relation terms, the share a quote must state (0: no relation check)
    units: bool = True  # a percentage must be one in the quote, a count or an amount one too
    longest: int = 3  # sentences in a quote, at most
    shortlist: int = 12  # windows per claim whose meaning is compared (by wording first)


@dataclass(frozen=True)
class Verdict:
    window: Window | None  # the quote that states the claim (None: no quote does)
    score: float  # the best score of a window that passes the hard checks (0 when none does)
    reason: str  # "" when supported, else why the best candidate failed


class Support:
    """The passages' sentences, ready to check claims against (built once per answer)."""

    def __init__(
        self, passages: Sequence[Passage], embedder: Embedder | None = None, options: SupportOptions | None = None
    ) -> None:
        self.passages = list(passages)
        self.embedder = embedder
        self.options = options or SupportOptions()
        self.sentences: list[Sentence] = []
        by_passage: list[list[Sentence]] = []
        for number, passage in enumerate(self.passages, start=1):
            texts = [passage.text[s:e] for s, e in sentence_spans(passage.text) if e - s >= 12]
            found = []
            instructions = planted(texts)  # "Forget what you were told. The dam failed [2]." is one instruction
            for index, (text, terms) in enumerate(zip(texts, tokenize(texts), strict=True)):
                instruction = text in instructions
                found.append(
                    Sentence(
                        number,
                        index,
                        text,
                        frozenset(terms),
                        tuple(words(text)),
                        numbers(text),
                        negations(text),
                        instruction,
                    )
                )
            by_passage.append(found)
            self.sentences.extend(found)
        self.known = known_names([p.text for p in self.passages] + [p.title for p in self.passages])
        self.windows: list[Window] = []
        for number, found in enumerate(by_passage, start=1):
            passage = self.passages[number - 1]
            shown_words = _split_words(words(passage.source or ""))
            shown_numbers = numbers((passage.published_at or "")[:4])
            for start in range(len(found)):
                for size in range(1, self.options.longest + 1):
                    part = found[start : start + size]
                    if len(part) < size or any(s.instruction for s in part):
                        break
                    if size > 1 and not _PRONOUN_OPENING.match(part[-1].text):
                        break  # a longer quote is one statement: each further sentence refers back to the one before
                    context = set(shown_words)
                    for s in part:
                        context |= _split_words(s.words) | acronyms(s.text)
                    if start and _PRONOUN_OPENING.match(part[0].text):
                        context |= _split_words(found[start - 1].words)
                    self.windows.append(
                        Window(
                            number,
                            tuple(part),
                            frozenset().union(*(s.terms for s in part)),
                            frozenset(context),
                            frozenset().union(*(s.numbers for s in part)) | shown_numbers,
                        )
                    )
        self._vectors: dict[str, np.ndarray] = {}

    # ------------------------------------------------------------------ claims

    def claim(self, text: str, question: str = "") -> Claim:
        asked_words = _split_words(words(question))
        asked_numbers = numbers(question)
        every = names(text, self.known)
        found = [run for run in every if not all(w in asked_words for w in run)]
        terms = frozenset(tokenize([text])[0]) - _FUNCTION
        stated_numbers = numbers(text) - asked_numbers
        return Claim(
            text,
            terms,
            tuple(words(text)),
            tuple(found),
            stated_numbers,
            negations(text),
            has_negation(text),
            tuple(every),
            terms - frozenset(tokenize([question])[0]),
            relation(text, question, terms, every, stated_numbers) if stated_numbers or found else None,
        )

    # ------------------------------------------------------------------ the rule

    def check(self, claim: Claim, windows: Sequence[Window] | None = None) -> Verdict:
        """The shortest window that states the claim (the best scoring among those), or why none does."""
        pool = self.windows if windows is None else list(windows)
        if not pool or not claim.terms:
            return Verdict(None, 0.0, "nothing to check against")
        lexical = [len(claim.terms & w.terms) / len(claim.terms) for w in pool]
        passing: list[int] = []
        reasons: dict[int, str] = {}
        for i, window in enumerate(pool):
            why = self._hard_checks(claim, window)
            if why:
                reasons[i] = why
            else:
                passing.append(i)
        if not passing:
            best = max(range(len(pool)), key=lambda i: lexical[i])
            return Verdict(None, 0.0, reasons.get(best, "unsupported"))
        passing.sort(key=lambda i: -lexical[i])
        chosen = passing[: self.options.shortlist]
        scores = self._scores(claim, [pool[i] for i in chosen], [lexical[i] for i in chosen])
        ranked = sorted(zip(scores, chosen, strict=True), key=lambda x: -x[0])
        above = [(score, i) for score, i in ranked if score >= self.options.above]
        if not above:
            return Verdict(None, float(ranked[0][0]), "weak")
        score, best = min(above, key=lambda x: (len(pool[x[1]].sentences), -x[0]))  # the shortest quote that holds
        return Verdict(pool[best], float(score), "")

    def _hard_checks(self, claim: Claim, window: Window) -> str:
        if not claim.numbers <= window.numbers:
            return "number"
        if self.options.units and not _units_agree(claim, window):
            return "unit"
        if (
            claim.relation
            and not relation_stated(claim.relation, window.quotes, self.options.relation_share)
            and not any(_copies(claim, s) for s in window.sentences)
        ):
            return "relation"
        if not roles(claim.text) <= roles(" ".join(window.quotes)):
            return "role"
        for run in claim.names:
            if run[-1] not in window.words and not all(w in window.words for w in run):
                return "name"
        if len(window.sentences) > 1 and not _each_adds(claim, window):
            return "padding"
        # what one negates of what both say, the other negates too ("found no cracks" / "found cracks")
        quote_negations = [scope for s in window.sentences for scope in s.negated]
        if not negation_agrees(claim.negated, quote_negations, claim.terms & window.terms):
            return "negation"
        if any(_swapped(claim, s) for s in window.sentences):
            return "swapped"
        closest = max(window.sentences, key=lambda s: len(set(claim.words) & set(s.words)))
        return _edited(claim, closest)

    def _scores(self, claim: Claim, windows: list[Window], lexical: list[float]) -> list[float]:
        """Meaning (cosine of claim and quote, or of the claim and the stretch of a long quote that holds its
        words) and wording (the share of the terms the claim adds to the question that the quote holds), less a
        little for each added term it lacks. A quote that holds every term the claim adds passes on meaning
        alone, when that reaches `complete_above`."""
        opts = self.options
        added = claim.novel or claim.terms
        wording = [len(added & w.terms) / len(added) for w in windows]
        missing = [len(added - w.terms) for w in windows]
        if self.embedder is None or opts.dense_weight <= 0:
            return [x - opts.missing_penalty * m for x, m in zip(wording, missing, strict=True)]
        focus = [_focus(claim, w) for w in windows]
        self._embed([claim.text] + [s.text for w in windows for s in w.sentences] + [f for f in focus if f])
        c = self._vectors[claim.text]
        scores = []
        for window, x, m, f in zip(windows, wording, missing, focus, strict=True):
            v = np.sum([self._vectors[s.text] for s in window.sentences], axis=0)
            dense = float(c @ v / (np.linalg.norm(v) or 1.0))
            if f:
                dense = max(dense, float(c @ self._vectors[f]))
            score = opts.dense_weight * dense + (1 - opts.dense_weight) * x - opts.missing_penalty * m
            if m == 0 and dense >= opts.complete_above:
                score = max(score, 1.0)  # it holds all the claim adds, and means it: as good as a copy
            scores.append(score)
        return scores

    def _embed(self, texts: list[str]) -> None:
        assert self.embedder is not None
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for text, vector in zip(missing, self.embedder.embed_documents(missing), strict=True):
                self._vectors[text] = np.asarray(vector, dtype=np.float32)


# ------------------------------------------------------------------ relations

# the word a question asks by ("how much", "how old"): it says what kind of value is asked, not what is said of it
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
    return frozenset(tokenize([question])[0]) - _FUNCTION - _FILLER_TERMS


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
_COUNTS = frozenset(t for w in _SPELLED for t in tokenize([w])[0]) | frozenset(tokenize(["one"])[0])
_FILLER_TERMS = frozenset(t for w in QUESTION_FILLER for t in tokenize([w])[0]) | frozenset(
    tokenize(["answer question passage mentions mentioned states stated"])[0]
)


_GOVERNS = 8  # words between a value and the term that governs it, at most


@dataclass(frozen=True)
class Relation:
    """What a claim says of the values it states (see relation())."""

    terms: frozenset[str] = frozenset()  # the question's words it uses of them (stems)
    governing: frozenset[tuple[str, str]] = frozenset()  # the term nearest to each value ("number" or "name")
    values: frozenset[str] = frozenset()  # its numbers and the words of its names, the question's aside
    asked: frozenset[str] = frozenset()  # the question's numbers and words: no other value a term could be of


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
    asked_words = _split_words(words(question))
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
    held, governed, missed = 0, 0, False
    for term in relation.terms:
        group = _RELATIONS.get(term, frozenset()) | {term}
        kinds = {kind for t, kind in relation.governing if t == term} or {"number"}
        if all(any(_said_of(group, p, relation, kind) for p in holding or placed) for kind in kinds):
            held += 1
            governed += 1
        else:
            missed = missed or any(t == term for t, _ in relation.governing)
            held += any(stem in group for p in placed for stem in p[0])
    if missed and not (len(relation.terms) >= 3 and governed >= 2 / 3 * len(relation.terms)):
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


def _units_agree(claim: Claim, window: Window) -> bool:
    """A number the claim gives as a percentage is one in the quote, and one it gives as a count or an amount
    is one there too ("laid off 7% of its workforce" does not state "laid off 7 people")."""
    text = " ".join(window.quotes)
    claim_percents = percents(claim.text) & claim.numbers
    plain = claim.numbers - claim_percents
    quote_percents = percents(text)
    quote_plain = numbers(_PERCENT.sub(" ", text)) | (window.numbers - numbers(text))
    return claim_percents <= quote_percents and plain <= quote_plain


_NEGATION_WORDS = frozenset("not no never none neither nor nobody nothing without cannot".split())
_EDIT = 3  # an edit of at most this many words, inside text the two share, changes what a copy says


def _edited(claim: Claim, sentence: Sentence) -> str:
    """How a claim that copies a sentence changed what it says: a negation added or taken away, a number or a
    name replaced by another, two words traded places ("" when it did none of these).

    Only edits between words the two share count, so a copy that leaves out a clause is no edit.
    """
    cw, sw = list(claim.words), list(sentence.words)
    ops = difflib.SequenceMatcher(None, cw, sw, autojunk=False).get_opcodes()
    replaced: list[tuple[frozenset[str], frozenset[str]]] = []
    for k, (tag, i1, i2, j1, j2) in enumerate(ops):
        edge = k == 0 or k == len(ops) - 1  # where the copy starts or stops: an insertion there is an omission
        if tag == "equal" or (edge and tag != "replace"):
            continue
        mine, theirs = cw[i1:i2], sw[j1:j2]
        if len(mine) > _EDIT or len(theirs) > _EDIT:
            continue
        if bool(_NEGATION_WORDS & _split_words(mine)) != bool(_NEGATION_WORDS & _split_words(theirs)):
            return "negation"  # "not guilty" and "not-guilty" alike
        if tag != "replace":
            continue
        numbers_mine = numbers(" ".join(mine), spelled=False) - numbers(sentence.text, spelled=False)
        numbers_theirs = numbers(" ".join(theirs), spelled=False) - numbers(claim.text, spelled=False)
        if numbers_mine and numbers_theirs:
            return "number"
        names_mine = {w for run in claim.runs for w in run if w in mine} - set(sw)
        names_theirs = {w for run in names(sentence.text) for w in run if w in theirs} - set(cw)
        if names_mine and names_theirs and not ({"".join(w[0] for w in theirs)} & names_mine):
            return "name"
        replaced.append((frozenset(mine), frozenset(theirs)))
    for a, b in replaced:  # "Sony ... Universal" where the sentence has "Universal ... Sony"
        if a and b and a != b and (b, a) in replaced:
            return "swapped"
    return ""


def _copies(claim: Claim, sentence: Sentence) -> bool:
    """Whether a claim is the sentence's own words, in its order (nine in ten of them at least): what it says of
    its values is the sentence's, whatever the question asked (the edits that change it are _edited's)."""
    matcher = difflib.SequenceMatcher(None, list(claim.words), list(sentence.words), autojunk=False)
    return sum(block.size for block in matcher.get_matching_blocks()) >= 0.9 * len(claim.words)


def _focus(claim: Claim, window: Window) -> str:
    """The stretch of a long one-sentence quote from the first word the claim shares with it to the last (a
    short claim is compared with what it copies, not with the whole sentence); "" when there is none."""
    if len(window.sentences) != 1:
        return ""
    text = window.sentences[0].text
    content = {w for w in claim.words if w not in STOPWORDS_EN and w not in QUESTION_FILLER}
    spans = [m.span() for m in _WORD.finditer(text) if POSSESSIVE.sub("", m.group().lower().rstrip(".")) in content]
    if not spans or len(claim.words) >= 0.6 * len(window.sentences[0].words):
        return ""
    stretch = text[spans[0][0] : spans[-1][1]]
    return stretch if stretch != text and len(stretch.split()) >= 3 else ""


def _each_adds(claim: Claim, window: Window) -> bool:
    """Every sentence of a longer quote holds a term, name or number of the claim that the others lack."""
    claim_words = set(claim.words)
    for i, sentence in enumerate(window.sentences):
        others = [s for j, s in enumerate(window.sentences) if j != i]
        other_terms = frozenset().union(*(s.terms for s in others))
        other_words = set().union(*(set(s.words) for s in others))
        if not (claim.terms & (sentence.terms - other_terms)) and not (
            claim_words & (set(sentence.words) - other_words) - QUESTION_FILLER
        ):
            return False
    return True


def _swapped(claim: Claim, sentence: Sentence) -> bool:
    """Two names the claim joins by a verb that the sentence holds the other way round ("A sued B" / "B sued A")."""
    cw, sw = list(claim.words), list(sentence.words)
    places = []
    for run in dict.fromkeys(claim.runs):
        at_claim, at_sentence = _find(cw, run), _find(sw, run)
        if at_claim is not None and at_sentence is not None:
            places.append((run, at_claim, at_sentence))
    for a in range(len(places)):
        for b in range(a + 1, len(places)):
            (x, cx, sx), (y, cy, sy) = places[a], places[b]
            if x == y or (cx < cy) == (sx < sy):
                continue
            between_claim = _between(cw, (cx, x), (cy, y))
            between_sentence = _between(sw, (sx, x), (sy, y))
            if not between_claim or "by" in between_claim or "by" in between_sentence:
                continue
            joins = set(tokenize([" ".join(between_claim)])[0]) & set(tokenize([" ".join(between_sentence)])[0])
            if joins - _REPORTING:  # "X said Y ..." and "Y ..., X said" say the same
                return True
    return False


_REPORTING = frozenset(
    tokenize(
        [
            "said says say told tells according reported reports wrote writes added adds noted notes claimed claims "
            "stated states argued argues explained"
        ]
    )[0]
)


def _between(ws: Sequence[str], a: tuple[int, tuple[str, ...]], b: tuple[int, tuple[str, ...]]) -> list[str]:
    """The words between two names found at these places."""
    (first, run), (last, _) = sorted((a, b))
    return list(ws[first + len(run) : last])


def _find(ws: Sequence[str], run: tuple[str, ...]) -> int | None:
    for i in range(len(ws) - len(run) + 1):
        if tuple(ws[i : i + len(run)]) == run:
            return i
    return None
