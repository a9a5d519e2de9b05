"""What a yes/no question asks, and what a supported sentence says of it (retrieval/answer/attribution.py keeps a
model's verdict only when its reason agrees, and gives the verdict its reason states when the model's own could
not stand)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from retrieval.answer import claim_words
from retrieval.answer.instructions import planted
from retrieval.answer.relation import asked_terms, contraries, related
from retrieval.core.text import SPOKEN_WORD, sentence_spans, tokenize
from retrieval.core.types import Passage

# words of a yes/no question that say when or how, not what it asks ("is he still ...", "is it free right now"),
# light verbs ("is ohtani going to pitch", "did swift get person of the year") and the hedges of a chat ("did
# bedard at least get a point", "did trump seriously value it at ...")
_ASIDE = frozenset(
    tokenize(
        ["still now right currently yet ever already really actually just today anymore again from down up "
         "going go get got gets least seriously even truly literally honestly basically officially"]
    )[0]
)  # fmt: skip


@dataclass(frozen=True)
class Asked:
    """A yes/no question's claim: the names it asks about, and what it asks of them (the rest of its terms)."""

    names: frozenset[str]
    terms: frozenset[str]


def asked(question: str, known: frozenset[str]) -> Asked:
    """The claim of a yes/no question; `known`: the names the passages write (support.Support.known)."""
    terms = asked_terms(question) - _ASIDE
    named = {w for run in claim_words.names(question, known) for w in run}
    named |= {w for w in claim_words.words(question) if w in known}
    stems = frozenset(t for w in named for t in tokenize([w])[0])
    return Asked(terms & stems, terms - stems)


def polarity(sentence: str) -> str | None:
    """ "yes" or "no" for a yes/no verdict; None for a bare name ("Google.")."""
    first = SPOKEN_WORD.findall(sentence)[:1]
    word = first[0].lower() if first else ""
    if word in {"yes", "true", "correct", "agree", "both"}:
        return "yes"
    if word in {"no", "false", "incorrect", "disagree", "not", "neither"}:
        return "no"
    return None


def says(
    text: str,
    cited: Sequence[int],
    claim: Asked,
    passages: Sequence[Passage],
    strict: bool = False,
    missing_share: float = 0.0,
) -> str | None:
    """What a supported sentence says of the question's claim: "yes" when it states it (every term of what the
    question asks, or a word of its relation group, in the sentence; the names it asks about there or in the
    passages it rests on, `cited`), "no" when it negates one of those terms or states a contrary in its place
    ("opening" for "closing"), None when it does not say what was asked. `strict`: "no" only by a negation
    ("extended its opening hours" does not plainly deny "closing"), "yes" only from a sentence with no negation at
    all ("... was linked to a smaller baby, but not to high blood pressure" says neither). `missing_share`: this
    share of the asked terms may be missing from the sentence when three or more are asked and the passage it rests
    on says them, numbers aside (a chat's extra words: "did bedard at least get a point in his debut", the
    report's title naming the debut)."""
    held = set(tokenize([text])[0])
    shown = {t for n in cited for t in tokenize([f"{passages[n - 1].title} {passages[n - 1].text}"])[0]}
    if not claim.terms:  # "did taylor swift get time person of the year": the names are the whole claim
        named = bool(claim.names) and claim.names <= held
        return "yes" if named and not claim_words.has_negation(text) else None
    if not claim.names <= held | shown:
        return None
    missing = [t for t in claim.terms if not related(t) & held]
    contrary = [t for t in missing if contraries(t) & held]
    allowed = int(len(claim.terms) * missing_share) if len(claim.terms) >= 3 else 0
    if missing and len(contrary) < len(missing):
        if contrary or not _left_out(text, missing, allowed, cited, passages):
            return None  # it does not say what was asked, nor its contrary
    if contrary:
        return None if strict else "no"
    negated = claim_words.negated_terms(text)
    if any(related(t) & negated for t in claim.terms):
        return "no"
    if strict and claim_words.has_negation(text):
        return None
    return "yes"


def _left_out(text: str, missing: list[str], allowed: int, cited: Sequence[int], passages: Sequence[Passage]) -> bool:
    """Whether a reason may leave out the asked terms it lacks (`missing`, at most `allowed`, no number): the
    passages it rests on say them, and it negates nothing (a reason that negates a word not asked says something
    else). The passages are read only when it may."""
    if not missing or len(missing) > allowed or any(c.isdigit() for t in missing for c in t):
        return False
    if claim_words.has_negation(text):
        return False
    said = {t for n in cited for t in tokenize([_reported(passages[n - 1])])[0]}
    return all(related(t) & said for t in missing)


def _reported(passage: Passage) -> str:
    """A passage's title and text without the instructions planted in it (which must not lend a claim words)."""
    sentences = [passage.text[a:b] for a, b in sentence_spans(passage.text)]
    instructions = planted(sentences)
    return " ".join([passage.title, *(s for s in sentences if s not in instructions)])
