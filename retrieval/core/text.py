"""Words, names and stop words, said once.

Several steps split text into words, and they do not all want the same words: a word count for a clause keeps
"U.S." whole, a follow-up's key terms keep "Xiaomi's", a verdict check counts any run of letters. So this module
holds each kind once, named for what it keeps, and the modules use these names rather than patterns of their own.
BM25's tokens (`tokenize`: bm25s's pattern, stop words and stemmer) are part of what the lexical index stores and
what the re-ranking trees were trained on; `sentence_spans` is the one sentence splitter (chunks, answers, quotes).
"""

from __future__ import annotations

import re

import Stemmer
from bm25s.stopwords import STOPWORDS_EN

# ------------------------------------------------------------------ words

WORD = re.compile(r"\w+")  # runs of letters, digits and underscores: shingles, word overlap of a quote
ASCII_WORD = re.compile(r"[a-z0-9]+")  # in lower-cased text, for comparing answers and entities (no apostrophes)
TERM = re.compile(r"[A-Za-z0-9][\w'’-]*")  # a term as written: from a letter or digit on, with ' and - ("AI-led")
DOTTED_TERM = re.compile(r"[A-Za-z0-9][\w'’.-]*")  # a term that keeps its dots whole ("U.S.", "3.5")
SPOKEN_WORD = re.compile(r"[\w'’-]+")  # any run of letters with ' and -: how many words a sentence says

# ------------------------------------------------------------------ names

NAME = re.compile(r"\b[A-Z][\w'’&.-]*[\w]|\b[A-Z]\b")  # a capitalised word ("AT&T", "U.S"), no trailing dot
CAPITALISED = re.compile(r"\b[A-Z][\w'’.-]*")  # the re-ranking trees' feature: keep it as they were trained
POSSESSIVE = re.compile(r"['’]s?$")  # "Apple's" -> "Apple" (with .sub(""))

# ------------------------------------------------------------------ stop words (each list is for one use)

ARTICLES = frozenset({"a", "an", "the"})
QUESTION_WORDS = frozenset({"what", "who", "how", "which", "when", "where", "why"})
# the words of a question that say nothing of its subject: never carried over to a follow-up
QUESTION_FILLER = frozenset(
    "a an and are as at be been being but by can could did do does for from had has have how i if in into is it "
    "its it's me my of on or our please so tell than that the their them then there these they this those to "
    "us was we were what when where which who whom whose why will with would you your about also any more "
    "much many some such just only very whether according article articles report reported news".split()
)
# capitalised words that name nothing: a sentence's first word, a connective, a title ("Mr"), yes and no
NOT_NAMES = frozenset(
    "a an and as at but by for from he her his how i if in is it its no not of on or our she so that the their "
    "then there these they this to was we what when where which while who why will with yes you after before "
    "between both does did do has have had are were be been according considering based following given mr ms "
    "mrs dr".split()
)

# ------------------------------------------------------------------ BM25 tokens

_stemmer = Stemmer.Stemmer("english")
_WORDS = re.compile(r"(?u)\b\w\w+\b").findall  # bm25s.tokenize's default token pattern
_STOPWORDS = frozenset(STOPWORDS_EN)


def tokenize(texts: list[str]) -> list[list[str]]:
    """Exactly what bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer, return_ids=False) gives (a test
    checks it on the whole benchmark corpus), at a fifth of its cost per call."""
    return [_stemmer.stemWords([w for w in _WORDS(text.lower()) if w not in _STOPWORDS]) for text in texts]


# ------------------------------------------------------------------ sentences

_ABBREVIATIONS = {
    "mr", "mrs", "ms", "dr", "prof", "sr", "jr", "st", "vs", "etc", "inc", "corp", "ltd", "co", "no", "gov",
    "sen", "rep", "gen", "col", "lt", "sgt", "capt", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "mt", "ft", "fig", "approx", "est", "dept", "univ", "u.s", "u.k", "e.g", "i.e",
}  # fmt: skip
_BOUNDARY = re.compile(r"""[.!?…]+["'”’)\]]*(?=\s+["'“‘(\[]?[A-Z0-9])|\n\s*\n|\n(?=\s*[-*•#>]|\s*\d+\.)""")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences of text, whitespace trimmed."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        end = match.end()
        if match.group().startswith((".",)) and not match.group().startswith(".."):
            word = re.search(r"([\w.]+)\.$", text[start : match.start() + 1])
            stem = word.group(1).lower() if word else ""
            if stem in _ABBREVIATIONS or (len(stem) == 1 and stem.isalpha()):
                continue
        spans.append((start, end))
        start = end
    spans.append((start, len(text)))
    trimmed = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            trimmed.append((s, e))
    return trimmed
