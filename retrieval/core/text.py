"""Words, names and stop words, said once.

Several steps split text into words, and they do not all want the same words: a word count for a clause keeps
"U.S." whole, a follow-up's key terms keep "Xiaomi's", a verdict check counts any run of letters. So this module
holds each kind once, named for what it keeps, and the modules use these names rather than patterns of their own.
BM25's tokens are not here: they are bm25s's pattern, stop words and stemmer (`retrieval.storage.lexical.tokenize`),
part of what the lexical index stores and what the re-ranking trees were trained on.
"""

from __future__ import annotations

import re

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
