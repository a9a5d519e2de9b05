"""The fact a question asks for, in the sentences that can state it: facts of the asked kind (retrieval/answer/
facts.py), counted only in a sentence about the question's subject (named, referred back to, or the topic of an
article whose title names it), and how many retrieved articles share each one."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from retrieval.answer.ages import age_of, ages
from retrieval.answer.claim_words import roles
from retrieval.answer.facts import (
    ACRONYM,
    AGENT_VERBS,
    MONEY_ASKED,
    MONEY_RELATIONS,
    RATE_ASKED,
    UNLABELLED,
    Facts,
    Kind,
    casual,
    moneys,
    of_kind,
    quantities,
    reasons,
)
from retrieval.answer.facts import normalise as normalise_words
from retrieval.answer.sentences import Analysed, Sentence, names
from retrieval.core.text import NOT_NAMES, POSSESSIVE, QUESTION_FILLER, TERM, tokenize
from retrieval.core.types import Passage


def typed_facts(
    sentences: list[Sentence],
    kind: Kind | None,
    question: str,
    q_terms: frozenset[str],
    unlabelled: bool = True,
    acronyms_count: bool = False,
    subject: frozenset[str] = frozenset(),
    money_only: bool = True,
    money_relation: bool = False,
    role_relation: bool = False,
) -> list[list[str]]:
    """Each sentence's facts of the kind the question asks for, leaving out those the question names (also as
    another form of the same words: "EVs" names "EV"), and ages stated of someone other than the subject
    ("a 30-year-old Casemiro" does not say how old Ratcliffe is). "How many X" is narrowed by _counting."""
    if kind is None:
        return [[] for _ in sentences]
    asked = normalise_words(question)
    also: set[str] = set()
    if unlabelled and kind in ("person", "organisation", "agent"):
        also.add(UNLABELLED)
    if acronyms_count and kind in ("organisation", "agent"):
        also.add(ACRONYM)
    said = casual(question)
    money = money_only and kind == "amount" and bool(MONEY_ASKED.search(said)) and not RATE_ASKED.search(said)
    if money and (thing := _HOW_MUCH_OF.search(said)) and not MONEY_ASKED.search(thing.group(1)):
        money = False  # "how much water can it make a day": liters, not money
    which = money_said(said) if money and money_relation else frozenset()
    role = roles_asked(said) if role_relation and kind in NAMES_ASKED else frozenset()
    typed = []
    for s in sentences:
        facts = [f for f in of_kind(s.facts, kind, asked, frozenset(also)) if not terms_of(f) <= q_terms]
        if money:  # a price, a fee, a salary: money, not a percentage or a weight
            facts = [f for f in facts if ("MONEY", f) in s.facts or ("CARDINAL", f) in s.facts]
            if which and not s.terms & which and not (which & _PRICE and _FOR_MONEY.search(s.text)):
                # another money than the one asked for ("for Rs 24.75 Cr" is a price: "Starc to KKR for ...")
                facts = []
        if role and not roles(s.text) & role:  # "who's nike's cfo": a name the sentence gives no such role
            facts = []
        if kind == "age":
            facts = [f for f in facts if " of " not in f or age_of(f.split(" of ", 1)[1], subject)]
        elif kind == "duration" and facts:  # "a couple of days back" is a point in time, not a span of it
            words = f" {normalise_words(s.text)} "
            facts = [f for f in facts if not re.search(rf" {re.escape(f)} (?:back|ago|later|earlier) ", words)]
        typed.append(facts)
    return typed


# "how much water", "how much weight": the thing measured, when it is no money word
_HOW_MUCH_OF = re.compile(
    r"\bhow much (?!(?:money|did|does|do|is|was|were|are|will|would|has|have|had|can|could|should|of|it|they|he|"
    r"she|we|you|i|the|a|an|more|less|longer)\b)([a-z]+)"
)


# a sum given "for" something is what it cost, whatever the verb ("Mitchell Starc to KKR for Rs 24.75 Cr")
_FOR_MONEY = re.compile(
    r"\bfor\s+(?:about\s+|around\s+|nearly\s+|roughly\s+|some\s+|a\s+(?:whopping\s+|reported\s+)?)?"
    r"(?:[$€£¥₹₪]|(?:Rs\.?|NIS|US\$|C\$|A\$|USD|EUR|GBP|INR)\s?\d)"
)


def _money_groups() -> tuple[frozenset[str], ...]:
    return tuple(frozenset(tokenize([group])[0]) for group in MONEY_RELATIONS)


_MONEY_GROUPS = _money_groups()
_PRICE = _MONEY_GROUPS[0]  # cost, price, pay, buy, sell


def money_said(question: str) -> frozenset[str]:
    """The words a sentence may state the asked money with: every group (facts.MONEY_RELATIONS) a word of the
    question belongs to; none when no word does ("how much money")."""
    asked = set(tokenize([question])[0])
    return frozenset(word for group in _MONEY_GROUPS if group & asked for word in group)


_RUNS = re.compile(r"\b(?:runs?|running|leads?|heads?|boss|in charge)\b")
_RUNNERS = frozenset({"ceo", "president", "chair", "founder"})


def roles_asked(question: str) -> frozenset[str]:
    """The roles a question asks a name for ("who's nike's cfo", "who runs spill": its ceo, president, chair or
    founder); a name answers it only in a sentence that gives that role (claim_words.roles)."""
    return roles(question) | (_RUNNERS if _RUNS.search(question) else frozenset())


NAMES_ASKED = frozenset({"person", "organisation", "agent"})
DOES_FOR = re.compile(rf"\b{AGENT_VERBS}", re.I)
# "who runs X", "X's ceo": the name asked for is a property of the subject, which the sentence must hold
ROLE_OF = re.compile(
    r"\b(?:ceo|founder|co-founder|coach|owner|chair(?:man|woman)?|president|boss|cto|cfo|quarterback|"
    r"runs|founded|owns|leads|heads|coaches|wrote|staffer)\b",
    re.I,
)
# a sentence that refers back to what the one before it names: a pronoun or "the company"
REFERS_BACK = re.compile(
    r"\b(?:he|she|it|they|his|her|its|their|him|them|(?:this|that|such an?) \w+|"
    r"the (?:company|firm|startup|club|team|group|automaker|"
    r"carmaker|app|platform|boy|girl|man|woman|player|coach|deal|business|network|service|agency|league|bank))\b",
    re.I,
)
_NOT_SUBJECT = frozenset(word.lower() for word in NOT_NAMES) | frozenset(
    "ceo cto cfo coo us uk eu ev evs ai tv app new year years".split()
)


_SHOUTED = re.compile(r"[^a-z]*")


def subject_of(question: str, sentences: Sequence[Sentence]) -> frozenset[str]:
    """What the question asks about: its words that the passages write as names (not only as a sentence's
    first word), whether or not the question capitalises them ("how old is guy kamgaing")."""
    words = {POSSESSIVE.sub("", w.lower()) for w in TERM.findall(casual(question))}
    words -= QUESTION_FILLER | _NOT_SUBJECT
    found = set()
    written = [s for s in sentences if not _SHOUTED.fullmatch(s.text)]  # an all-capitals headline capitalises all
    for word in words:
        for s in written:
            if word in s.names and not s.text[: len(word) + 1].lower().startswith(word):
                found.add(word)
                break
    return frozenset(found)


def holds(sentence: Sentence, subject: frozenset[str]) -> bool:
    """The sentence names the subject, or refers back to the sentence before it, which does."""
    return bool(sentence.names & subject or sentence.follows & subject)


def besides_subject(asked: frozenset[str], subject: frozenset[str]) -> frozenset[str]:
    """The question's terms that are not the subject's (read once per question for names_the_topic)."""
    return asked - frozenset(tokenize([" ".join(subject)])[0])


def names_the_topic(sentence: Sentence, others: frozenset[str], least: int) -> bool:
    """In an article about the question's subject (the caller checks that the title names it), a sentence that
    names what the question asks about besides the subject is about the subject too: a report names its place
    once, in the lede. "The repairs will cost ..." under "Harbour bridge to close for six weeks of repairs";
    "Employers had offered a raise of 6 percent ..." in a report of the Rotterdam dock strike. `least`: how many
    of the question's other words (`others`: besides_subject()) it must name (one lets "a fine of $10,000" answer
    what Michigan's fine was)."""
    return len(sentence.terms & others) >= least


def read_facts(sentence: str) -> Facts:
    """The facts read from a sentence's words rather than tagged: ages ("30 of casemiro": the age of the name
    it comes before), the words that give a cause, amounts with their unit ("2 to 5 liters") and sums in a
    currency the tagger does not know ("Rs 24.75 Cr", "NIS 405 million") and scores ("42-18")."""
    found = {("AGE", f"{age} of {holder}" if holder else age) for age, holder in ages(sentence)}
    found |= {("REASON", word) for word in reasons(sentence)}
    found |= {("QUANTITY", amount) for amount in quantities(sentence)}
    found |= {("MONEY", amount) for amount in moneys(sentence)}
    found |= {("SCORE", f"{a}-{b}") for a, b in _SCORE.findall(sentence)}
    return frozenset(found)


_SCORE = re.compile(r"\b(\d{1,3})\s?[-–]\s?(\d{1,3})\b(?![-–/]\d|\s?%)")  # "42-18"; not "2010-17", "9-11-2001", "3-4%"


@functools.lru_cache(maxsize=65536)
def terms_of(fact: str) -> frozenset[str]:
    """A fact's BM25 terms; a fact without any (a bare number, a stop word) counts as none of the question's."""
    return frozenset(tokenize([fact])[0]) or frozenset({f"\0{fact}"})


def fact_support(typed: list[list[str]], passages: Sequence[Passage], analyses: Sequence[Analysed]) -> list[float]:
    """For each sentence, the largest share of retrieved articles that name one of its facts of the asked kind:
    the answer to a question that spans articles is the fact they share."""
    articles: dict[str, str] = {}
    for passage, analysed in zip(passages, analyses, strict=True):
        articles[passage.article_id] = articles.get(passage.article_id, "") + analysed.words
    named = {fact for facts in typed for fact in facts}
    share = {fact: sum(f" {fact} " in words for words in articles.values()) / len(articles) for fact in named}
    # a full name is named wherever its parts are ("Sam Bankman-Fried", then "Bankman-Fried" or "SBF"'s
    # articles' "Bankman"): it gets the best support of the facts it contains
    support = {fact: max(s for part, s in share.items() if f" {part} " in f" {fact} ") for fact in named}
    return [max((support[fact] for fact in facts), default=0.0) for facts in typed]


def unlabelled(sentence: str, facts: Facts) -> Facts:
    """Names the tagger gave no label ("BAIC"): capitalised words past the sentence's first, in no entity it
    found. They may answer "who" or "which company" questions too (the small model misses rarer names)."""
    labelled = " ".join(words for _, words in facts).split()
    rest = sentence.split(" ", 1)[1] if " " in sentence else ""
    return frozenset((UNLABELLED, name) for name in names(rest) if name not in labelled and not name.isdigit())
