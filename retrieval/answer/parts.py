"""A name that answers a question of several parts, checked part by part.

"Which company is at the center of the trial The Verge covered, and is accused by publishers in TechCrunch of
...?" asks for one name through several descriptions, each usually from another article. A model answers with
the name ("Google [1][2]") or with the question restated around it ("Google is at the center of ..., and is
..."). No single quote states all of that, so the support rule (retrieval/answer/support.py), which wants one
quote to state the whole sentence, drops a right answer; and a description is a paraphrase of what an article
says, so its words rarely match the quote's.

The rule here: each part of the question (a clause of its own: split at commas and at "and"/"while" before a
verb) is matched by meaning to the passages' sentences, and the part points to the name when the sentence that
states it best (among all the passages the model was shown) is in a passage that names the name: in the
sentence, the sentence it depends on, or the passage's title. The name stands when at least `share` of the
parts point to it, and it is shown with those sentences as its quotes. It is relative, as search is: a wrong
name stands only where the passages that best state the question's descriptions name it. `share` and `floor`
are chosen by bench/name_answers.py by cross-validation on the benchmark's dev questions (gold names against the
other names the passages hold most).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from retrieval.answer.claim_words import PRONOUN_OPENING, Sentence, has_negation, names, numbers, split_words, words
from retrieval.answer.support import Support
from retrieval.core.text import QUESTION_FILLER, tokenize


@dataclass(frozen=True)
class PartsOptions:
    share: float = 0.34  # of the question's parts, those that must point to the name (bench/name_answers.py)
    floor: float = 0.3  # a part points nowhere when no sentence means it this closely (cosine)
    min_terms: int = 3  # a part has at least this many terms ("as reported by TechCrunch" joins the one before)


_CLAUSE = re.compile(
    r"\s*[,;]\s*(?:(?:and|while|but|as\s+well\s+as|whereas)\s+)?"
    r"|\s+(?:and|while|whereas|as\s+well\s+as|but)\s+"
    r"(?=(?:is|was|are|were|has|had|have|does|did|do|also|its|his|her|their|then|later|previously|once)\b)",
    re.I,
)


def question_parts(question: str, min_terms: int = PartsOptions.min_terms) -> list[str]:
    """The question's clauses, each with at least `min_terms` terms (a shorter one joins the one before)."""
    parts: list[str] = []
    for piece in _CLAUSE.split(question.strip().rstrip("?")):
        piece = piece.strip()
        if not piece:
            continue
        if parts and len(tokenize([piece])[0]) < min_terms:
            parts[-1] = f"{parts[-1]}, {piece}"
        else:
            parts.append(piece)
    if len(parts) > 1 and len(tokenize([parts[0]])[0]) < min_terms:
        parts[1] = f"{parts[0]} {parts[1]}"
        parts = parts[1:]
    return parts


def restates(text: str, question: str) -> bool:
    """Whether a sentence is the question said back (at least half of its terms), perhaps around a name."""
    asked = set(tokenize([question])[0])
    return bool(asked) and len(asked & set(tokenize([text])[0])) >= len(asked) / 2


def added_names(text: str, question: str, known: frozenset[str]) -> list[tuple[str, ...]]:
    """The names a sentence states that the question does not: what a name answer answers."""
    asked = split_words(words(question))
    return [run for run in names(text, known) if not all(w in asked or w in QUESTION_FILLER for w in run)]


def name_stands(
    name: tuple[str, ...], question: str, checker: Support, options: PartsOptions | None = None
) -> dict[int, list[str]] | None:
    """The quotes (passage -> sentences) that state the question's parts in passages naming `name`, when enough
    parts point to it; None otherwise (or when the question has fewer than two parts)."""
    options = options or PartsOptions()
    outlets = {t for p in checker.passages for t in tokenize([p.source or ""])[0]}
    parts = [p for p in question_parts(question, options.min_terms) if set(tokenize([p])[0]) - outlets - _SOURCING]
    shown = [s for s in checker.sentences if not s.instruction]
    if len(parts) < 2 or not shown or checker.embedder is None:
        return None
    vectors = checker.vectors(parts + [s.text for s in shown])
    sentences = np.stack(vectors[len(parts) :])
    best = [int(np.argmax(sentences @ v)) for v in vectors[: len(parts)]]
    best = [b for b, v in zip(best, vectors[: len(parts)], strict=True) if float(sentences[b] @ v) >= options.floor]
    asked = split_words(words(question)) | QUESTION_FILLER
    pointing = [shown[b] for b in best if _names(shown[b], name, checker, asked)]
    if not pointing or len(pointing) < options.share * len(parts):
        return None
    # another name the best sentences name more often is the likelier answer: this one does not stand
    rivals: dict[str, int] = {}
    for b in best:
        for word in {run[-1] for run in names(shown[b].text, checker.known) if not all(w in asked for w in run)}:
            rivals[word] = rivals.get(word, 0) + 1
    if max(rivals.values(), default=0) > len(pointing):
        return None
    quotes: dict[int, list[str]] = {}
    for sentence in pointing:
        quotes.setdefault(sentence.passage, [])
        if sentence.text not in quotes[sentence.passage]:
            quotes[sentence.passage].append(sentence.text)
    return quotes


def _names(sentence: Sentence, name: tuple[str, ...], checker: Support, asked: set[str] | frozenset[str]) -> bool:
    """Whether the sentence or the one it depends on names `name` (its last word, all its words, or their
    initials: "SBF"), or, when the sentence names no one the question does not, its passage's title does."""
    held = split_words(sentence.words)
    if PRONOUN_OPENING.match(sentence.text) and sentence.index:
        before = next(
            (s for s in checker.sentences if s.passage == sentence.passage and s.index == sentence.index - 1), None
        )
        if before is not None:
            held |= split_words(before.words)
    if not any(not all(w in asked for w in run) for run in names(sentence.text, checker.known)):
        held |= split_words(words(checker.passages[sentence.passage - 1].title))
    initials = "".join(part[0] for w in name for part in w.split("-") if part)
    return name[-1] in held or all(w in held for w in name) or (len(initials) > 2 and initials in held)


# words that say where a part was reported, not what it describes ("as covered by both TechCrunch and Fortune")
_SOURCING = frozenset(
    tokenize(
        [
            "report reported cover covered feature featured discuss discussed publish published mention mentioned "
            "article articles according both also another other detail detailed highlight highlighted source"
        ]
    )[0]
)


_EXTRA_TERMS = 2  # a restated question may change this many words besides the name ("is also" for "and is")


def answer_quotes(
    text: str, question: str, checker: Support, options: PartsOptions | None = None
) -> dict[int, list[str]] | None:
    """For a bare name ("Sam Altman") or the question said back around one ("Google is at the center of ...,
    and is ..."), the quotes on which every name it adds stands (see name_stands); None when it says more than
    the names (a number, a negation the question lacks, other words) or a name does not stand."""
    if not question.strip() or numbers(text) - numbers(question) or has_negation(text) > has_negation(question):
        return None
    added = added_names(text, question, checker.known)
    if not added:
        return None
    said = set(tokenize([text])[0]) - set(tokenize([question])[0])
    named = {t for run in added for t in tokenize([" ".join(run)])[0]}
    if len(said - named) > _EXTRA_TERMS or (len(said) > len(named) and not restates(text, question)):
        return None
    quotes: dict[int, list[str]] = {}
    for run in added:
        stood = name_stands(run, question, checker, options)
        if stood is None:
            return None
        for n, shown in stood.items():
            quotes.setdefault(n, []).extend(q for q in shown if q not in quotes.get(n, []))
    return quotes
