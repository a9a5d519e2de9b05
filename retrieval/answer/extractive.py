"""Writing the answer from numbered passages. Offline default: extractive answering.

The extractive answerer quotes the passage sentence that best answers the question first, then, for a
question that spans articles, the best sentence of each other article it asks about (one sentence for a
factual question), each followed by its [n]. A sentence's score mixes:

- meaning: cosine similarity of sentence and question (the embedder), for a shortlist of sentences;
- wording: the share of the question's idf-weighted terms the sentence contains;
- its passage: the search's own score for the passage the sentence is in;
- names: the sentence mentions the names the question asks about (those the passages mention at all);
- agreement: the sentence names something the question does not (a candidate answer), and other
  retrieved articles name it too; multi-article questions are answered by what their articles share;
- the kind of fact asked for (retrieval/facts.py): for "who", "which company", "how many", "how much",
  "how old", "how long", "when", "where", "why", the sentence holds a person, organisation, number, amount,
  age, duration, date, place or cause the question does not name, and how many of the retrieved articles
  name that one too.

A fact counts only in a sentence about the question's subject: its words that the passages write as names
(typed in lower case or not), in the sentence itself or in the one before it when the sentence refers back
("it", "the company"). "How many cars" is answered by a number of vehicles: the counted words are compared by
meaning (the embedder), not spelling. When the best evidence is weak, when the names the question asks about
appear nowhere in the passages, or when no sentence about the subject it could quote holds the kind of fact
asked for (a near miss: "how old is X" of an archive that never gives X's age), it abstains and the closest
passages are offered as related reading. A yes/no question gets the sentence that states or denies what it
asks, about its subject, and a line saying that this is the evidence, not a verdict. The weights and the threshold are
calibrated on MultiHop-RAG development questions by bench/answer.py (see bench/results/answer.json).
"""

from __future__ import annotations

import functools
import math
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from retrieval.answer.facts import (
    ACRONYM,
    AGENT_VERBS,
    MONEY_ASKED,
    RATE_ASKED,
    UNLABELLED,
    EntityTagger,
    Facts,
    Kind,
    acronyms,
    ages,
    asked_kind,
    casual,
    counted,
    is_yes_no,
    measured,
    of_kind,
    reasons,
    written_out,
)
from retrieval.answer.facts import normalise as normalise_words
from retrieval.answer.instructions import planted
from retrieval.core.text import NAME, NOT_NAMES, POSSESSIVE, QUESTION_FILLER, TERM, sentence_spans, tokenize
from retrieval.core.types import Passage
from retrieval.embed.embedder import Embedder
from retrieval.embed.sentence_vectors import SentenceVectors

NOT_IN_CORPUS = "The articles in the corpus do not answer this question."
# offline, a yes/no question gets the sentence that states or denies what it asks, and says it is not a verdict
EVIDENCE_NOT_VERDICT = "(The sentence above is the articles' evidence on this question, not a verdict.)"
ANALYSED_PASSAGES = 4096  # passages whose sentences' terms and names are kept (a few kB each)


@dataclass(frozen=True)
class Draft:
    """An answer before the citation check: text with [n] markers (n = 1-based passage number)."""

    text: str
    abstained: bool
    quotes: dict[int, list[str]]  # passage number -> the sentences quoted from it, in answer order
    score: float = 0.0  # confidence: the best sentence's score, lowered when the question's names are missing


@dataclass(frozen=True)
class ExtractiveOptions:
    """The weights, rules and threshold: chosen by bench/answer.py (cross-validated on MultiHop-RAG dev)."""

    abstain_below: float = 0.5231
    max_sentences: int = 4
    candidates: int = 8  # sentences shortlisted by the cheap features before embedding
    embed_chars: int = 140
    dense_weight: float = 0.5  # meaning vs wording
    agreement_weight: float = 0.1
    name_weight: float = 0.0
    passage_weight: float = 0.2  # the search's own score of the sentence's passage
    coverage_weight: float = 0.3  # how much missing question names lower the confidence
    keep_ratio: float = 0.7  # further sentences must score this close to the best
    kind_weight: float = 0.0  # the sentence holds a fact of the kind asked for (a person for "who" ...)
    fact_support_weight: float = 0.2  # the share of retrieved articles that name that fact too
    # decline when the leading sentence ("lead"), or every sentence it could quote ("quotable", "first"), holds
    # no fact of the kind asked for; "first": and the best sentence that holds one leads; "off": it only weighs
    require_kind: Literal["lead", "quotable", "first", "off"] = "first"
    unlabelled_names: bool = False  # names the tagger did not label count as people and organisations
    acronyms: bool = True  # all-capitals names the tagger did not label ("BAIC") count as organisations
    # a fact of the asked kind counts only in a sentence that holds the question's subject (its words that the
    # passages write as names), or follows one that does and refers back to it ("it", "the company");
    # "title": or in a passage whose title holds the subject; "off": anywhere
    subject_rule: Literal["sentence", "title", "off"] = "sentence"
    # "sentence": a sentence of an article whose title names the subject holds it when it names this many of the
    # question's other words (a report names its place once, in the lede)
    topic_terms: int = 2
    title_names_not_answers: bool = True  # see draft(): a name the title gives with the subject is no answer
    money_only: bool = True  # "how much does it cost / pay / is it worth": money, not a percentage or a weight
    subject_for_names: bool = False  # also for "who" and "which company" (whose answer is a name, not a property)
    count_similarity: float = 0.65  # "how many cars": "vehicles" counts when the two words' vectors are this close
    kind_keep_ratio: float = 0.7  # a sentence with the asked fact may lead when it scores this close to the best
    answering_candidates: int = 3  # sentences with the asked fact added to the shortlist, best cheap scores first
    evidence_note: bool = True  # offline yes/no answers say their sentence is the evidence, not a verdict
    # the best sentence first and one per article asked about; False: up to max_sentences in passage order
    # (the answerer before answer-first, kept as the benchmark's baseline)
    answer_first: bool = True


@dataclass(frozen=True)
class _Sentence:
    passage: int  # 1-based
    start: int  # offset in the passage
    text: str
    article_id: str
    terms: frozenset[str]  # its BM25 terms
    names: frozenset[str]  # names(text)
    facts: Facts  # the named entities, numbers and dates it holds (retrieval/facts.py)
    follows: frozenset[str] = frozenset()  # the names of the sentence before it, when it refers back to them


@dataclass(frozen=True)
class _Analysed:
    """What draft() needs of a passage's quotable sentences, whatever the question: kept per passage text."""

    spans: tuple[tuple[int, int], ...]
    terms: tuple[frozenset[str], ...]
    names: tuple[frozenset[str], ...]
    facts: tuple[Facts, ...]
    words: str  # the passage's text, normalised as facts are (to see which passages name a fact)
    follows: tuple[frozenset[str], ...] = ()  # per sentence: the names before it, when it refers back to them
    title_names: frozenset[str] = frozenset()


def names(text: str) -> set[str]:
    """Lower-cased capitalised words (proper names, mostly), leaving out common words that start a sentence."""
    found = {POSSESSIVE.sub("", m.group().lower().rstrip(".")) for m in NAME.finditer(text)}
    return {name for name in found if name and name not in NOT_NAMES}


def lexical_scores(question: str, sentences: Sequence[frozenset[str]]) -> list[float]:
    """Share of the question's (idf-weighted) terms that a sentence (its BM25 terms) contains."""
    q_terms = set(tokenize([question])[0])
    if not q_terms:
        return [0.0] * len(sentences)
    df = Counter(term for terms in sentences for term in terms & q_terms)
    n = len(sentences)
    idf = {t: math.log(1 + (n + 1) / (df.get(t, 0) + 0.5)) for t in q_terms}
    total = sum(idf.values())
    return [sum(idf[t] for t in terms & q_terms) / total for terms in sentences]


def _asked_names(question: str) -> set[str]:
    return names(question.split(" ", 1)[1] if " " in question else "")  # the first word is capitalised anyway


def names_asked(question: str) -> set[str]:
    """The names a question asks about (lowercased; its first word is not read as one)."""
    return _asked_names(question)


def name_coverage(question: str, passages: Sequence[Passage]) -> float:
    """Share of the names in the question (after its first word) found in the passages or their titles/outlets."""
    asked = _asked_names(question)
    if not asked:
        return 1.0
    seen = " ".join(f"{p.title} {p.source or ''} {p.text}" for p in passages).lower()
    return sum(1 for name in asked if name in seen) / len(asked)


def _name_match(sentences: list[_Sentence], passages: Sequence[Passage], question: str) -> list[float]:
    """Share of the question's names (those some passage text mentions) that each sentence mentions."""
    texts = [p.text.lower() for p in passages]
    asked = [n for n in _asked_names(question) if any(n in t for t in texts)]
    if not asked:
        return [0.0] * len(sentences)
    return [sum(n in s.text.lower() for n in asked) / len(asked) for s in sentences]


def _agreement(sentences: list[_Sentence], passages: Sequence[Passage], question: str) -> list[float]:
    """For each sentence, the largest share of retrieved articles that mention a name it adds to the question."""
    asked = names(question) | {w.lower() for w in re.findall(r"\w+", question)}
    articles: dict[str, str] = {}
    for p in passages:
        articles[p.article_id] = articles.get(p.article_id, "") + f" {p.title} {p.text}".lower()
    if len(articles) < 2:
        return [0.0] * len(sentences)
    support: dict[str, float] = {}
    scores = []
    for s in sentences:
        best = 0.0
        for name in s.names - asked:
            if name not in support:
                support[name] = sum(name in text for text in articles.values()) / len(articles)
            best = max(best, support[name])
        scores.append(best)
    return scores


_LETTER = re.compile(r"[A-Za-z]")
_DIGIT = re.compile(r"\d")


def restates(sentence: _Sentence, asked: frozenset[str]) -> bool:
    """A question, or a sentence that repeats most of the question and adds next to nothing (no number, under
    a quarter of its terms new): it only echoes what was asked, so it answers nothing however well it matches.
    A fact sentence of a long multi-part question holds mostly question terms too, but only a part of them."""
    if sentence.text.rstrip("\"'”’) ").endswith("?"):
        return True
    terms = sentence.terms
    if not terms or not asked or _DIGIT.search(sentence.text):
        return False
    return len(terms - asked) < 0.25 * len(terms) and len(terms & asked) >= 0.6 * len(asked)


def _answer_sentences(text: str) -> list[tuple[int, int]]:
    """The spans of a passage's sentences that may be quoted: 20 characters or more, with a letter."""
    return [(s, e) for s, e in sentence_spans(text) if e - s >= 20 and _LETTER.search(text, s, e)]


class RememberedQueries:
    """An embedder that remembers its recent vectors: the answerer embeds the question the search just did.

    An LRU over texts (questions and the answer sentences scored for them); only texts not remembered are
    embedded. Questions about the news cluster on the same stories, so the same sentences come back: on the
    MultiHop-RAG dev questions about half of the sentences to score were already remembered after a few
    hundred questions. A vector is 1.5 kB; the default 20,000 entries cap the cache near 40 MB.
    """

    def __init__(self, embedder: Embedder, size: int = 20_000, stored: SentenceVectors | None = None) -> None:
        """`stored`: sentence vectors embedded ahead of time, looked up before anything is embedded."""
        self.embedder = embedder
        self.stored = stored
        self.name, self.dim, self.max_tokens = embedder.name, embedder.dim, embedder.max_tokens
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def stats(self) -> tuple[int, int, int]:
        """(lookups answered from memory, lookups embedded, vectors remembered now)"""
        with self._lock:
            return self.hits, self.misses, len(self._vectors)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.embedder.count_tokens(texts)

    def _recall(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        with self._lock:
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in found:
                self._vectors.move_to_end(text)
            self.hits += len(found)
        return found

    def _remember(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        with self._lock:
            for text, vector in zip(texts, vectors, strict=True):
                self._vectors[text] = vector
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        found = self._recall(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing and self.stored is not None:
            stored = self.stored.get(missing)
            if stored:
                with self._lock:
                    self.hits += len(stored)
                found.update(stored)
                missing = [t for t in missing if t not in stored]
        if missing:
            with self._lock:
                self.misses += len(missing)
            fresh = self._embed(missing)
            self._remember(missing, fresh)
            found.update(zip(missing, fresh, strict=True))
        return np.stack([found[t] for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)

    def _embed(self, texts: list[str]) -> np.ndarray:
        # the embedder runs a small batch on every core at once when it can (see OnnxEmbedder)
        return np.array(self.embedder.embed_documents(texts), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        found = self._recall([text])
        if text in found:
            return found[text].copy()
        with self._lock:
            self.misses += 1
        vector = np.array(self.embedder.embed_query(text), dtype=np.float32)
        self._remember([text], vector[None, :])
        return vector.copy()


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(
        self, embedder: Embedder, options: ExtractiveOptions | None = None, tagger: EntityTagger | None = None
    ) -> None:
        self.embedder = embedder
        self.options = options or ExtractiveOptions()
        self.tagger = tagger or EntityTagger()
        self._analyses: OrderedDict[str, _Analysed] = OrderedDict()  # LRU, by passage text
        self._lock = threading.Lock()

    def sentence_heads(self, text: str) -> list[str]:
        """What draft() would embed for each sentence of a passage with this text (for SentenceVectors)."""
        return [text[start:end][: self.options.embed_chars] for start, end in _answer_sentences(text)]

    @staticmethod
    def sentences(text: str) -> list[str]:
        """The sentences of a passage with this text that draft() may quote (their facts go in a FactStore)."""
        return [text[start:end] for start, end in _answer_sentences(text)]

    def _analysed(self, passage: Passage) -> _Analysed:
        """A passage's sentences with their terms, names and facts: the same passages come back for many
        questions."""
        text = passage.text
        with self._lock:
            found = self._analyses.get(text)
            if found is not None:
                self._analyses.move_to_end(text)
                return found
        spans = tuple(_answer_sentences(text))
        sentences = [text[start:end] for start, end in spans]
        named = tuple(frozenset(names(sentence)) for sentence in sentences)
        title = frozenset(names(passage.title)) | frozenset(w.lower() for w in NAME.findall(passage.title))
        analysed = _Analysed(
            spans,
            tuple(frozenset(terms) for terms in tokenize(sentences)),
            named,
            tuple(
                f | _unlabelled(sentence, f) | acronyms(sentence, f) | _read_facts(sentence)
                for sentence, f in zip(sentences, self.tagger.facts(sentences), strict=True)
            ),
            f" {normalise_words(f'{passage.title} {text}')} ",
            tuple(
                (named[n - 1] if n else frozenset()) | title if _REFERS_BACK.search(sentence) else frozenset()
                for n, sentence in enumerate(sentences)
            ),
            title,
        )
        with self._lock:
            self._analyses[text] = analysed
            while len(self._analyses) > ANALYSED_PASSAGES:
                self._analyses.popitem(last=False)
        return analysed

    def draft(self, question: str, passages: Sequence[Passage], focus: str = "", gated: bool = True) -> Draft:
        """`focus`: a follow-up's own words, when `question` is it with the previous question's terms carried
        over ("What about Apple?"): the best sentence that names its subject leads. `gated=False`: the best
        sentence even when the evidence is weak or holds no fact of the kind asked (when the search has already
        judged the passage to be the answer, as for "the latest on X")."""
        opts = self.options
        sentences = []
        analyses = [self._analysed(passage) for passage in passages]
        for number, (passage, analysed) in enumerate(zip(passages, analyses, strict=True), start=1):
            follows = analysed.follows or (frozenset(),) * len(analysed.spans)
            for (start, end), terms, found, facts, before in zip(
                analysed.spans, analysed.terms, analysed.names, analysed.facts, follows, strict=True
            ):
                text = passage.text[start:end]
                sentences.append(_Sentence(number, start, text, passage.article_id, terms, found, facts, before))
        asked = frozenset(tokenize([question])[0])
        instructions = planted([s.text for s in sentences])  # never quoted
        sentences = [s for s in sentences if not restates(s, asked) and s.text not in instructions]
        if not sentences:
            return Draft(NOT_IN_CORPUS, True, {})
        kind = asked_kind(question)
        subject = _subject(question, sentences) if opts.subject_rule != "off" else frozenset()
        typed = _typed_facts(
            sentences, kind, question, asked, opts.unlabelled_names, opts.acronyms, subject, opts.money_only
        )
        if kind == "number":
            typed = self._counting(question, sentences, typed)
        if subject and kind in _NAMES_ASKED and opts.title_names_not_answers and _DOES_FOR.search(question):
            # an article about X and Y (its title names both) answers "who built X's cars" with neither
            typed = [
                [f for f in facts if not set(f.split()) <= analyses[s.passage - 1].title_names]
                if analyses[s.passage - 1].title_names & subject
                else facts
                for s, facts in zip(sentences, typed, strict=True)
            ]
        if (
            subject
            and kind is not None
            and (opts.subject_for_names or kind not in _NAMES_ASKED or _ROLE_OF.search(question))
        ):
            titled = (
                {n for n, a in enumerate(analyses, start=1) if a.title_names & subject}
                if opts.subject_rule == "title"
                else set()
            )
            typed = [
                facts
                if _holds(s, subject)
                or s.passage in titled
                or (
                    analyses[s.passage - 1].title_names & subject
                    and _names_the_topic(s, asked, subject, opts.topic_terms)
                )
                else []
                for s, facts in zip(sentences, typed, strict=True)
            ]
        fact_support = _fact_support(typed, passages, analyses)
        lexical = lexical_scores(question, [s.terms for s in sentences])
        agreement = _agreement(sentences, passages, question)
        named = _name_match(sentences, passages, question) if opts.name_weight else [0.0] * len(sentences)
        top = max((p.score for p in passages), default=0.0)
        relevance = [max(passages[s.passage - 1].score, 0.0) / top if top > 0 else 0.0 for s in sentences]
        cheap = [  # everything but meaning, plus a small prior for the search's rank
            (1 - opts.dense_weight) * lexical[i]
            + opts.agreement_weight * agreement[i]
            + opts.name_weight * named[i]
            + opts.passage_weight * relevance[i]
            + opts.kind_weight * bool(typed[i])
            + opts.fact_support_weight * fact_support[i]
            + 0.02 / s.passage
            for i, s in enumerate(sentences)
        ]
        # Embedding is the expensive part (~7 ms a sentence on one core): only a shortlist gets it.
        ranked = sorted(range(len(sentences)), key=lambda i: -cheap[i])
        shortlist = ranked[: opts.candidates]
        if kind is not None:  # the best few sentences that hold the asked fact are judged by meaning too
            shortlist += [i for i in ranked[opts.candidates :] if typed[i]][: opts.answering_candidates]
        # a sentence's opening is enough to judge its meaning, and caps the cost of very long ones
        heads = [sentences[i].text[: opts.embed_chars] for i in shortlist]
        dense = self.embedder.embed_documents(heads) @ self.embedder.embed_query(question)
        scored = sorted(
            ((opts.dense_weight * float(d) + cheap[i], i) for d, i in zip(dense, shortlist, strict=True)), reverse=True
        )
        best_score = scored[0][0]
        confidence = best_score - opts.coverage_weight * (1 - name_coverage(question, passages))
        quotable = [(score, i) for score, i in scored if score >= best_score * opts.keep_ratio]
        if gated and kind is not None and opts.require_kind != "off":
            if opts.require_kind == "lead":
                holders = quotable[:1]
            else:  # a sentence holding the asked fact may lead from a little further down
                holders = [(score, i) for score, i in scored if score >= best_score * opts.kind_keep_ratio]
            if not any(typed[i] for _, i in holders):
                return Draft(NOT_IN_CORPUS, True, {}, confidence)
            if opts.require_kind == "first":  # the best sentence that holds one leads
                lead = next(item for item in holders if typed[item[1]])
                quotable = [lead, *(item for item in quotable if item != lead)]
        yes_no = opts.answer_first and opts.evidence_note and is_yes_no(question)
        if yes_no and subject:  # the best sentence about the question's subject states or denies what it asks
            quotable = _lead_with(quotable, lambda i: _holds(sentences[i], subject))
        if gated and confidence < opts.abstain_below:
            return Draft(NOT_IN_CORPUS, True, {}, confidence)
        if focused := _asked_names(focus):
            # a follow-up naming its own subject ("What about Apple?") is about it, whatever the terms carried
            # over from the previous question match: no passage names it, no answer; else a sentence naming it leads
            if not any(f" {normalise_words(name)} " in a.words for name in focused for a in analyses):
                return Draft(NOT_IN_CORPUS, True, {}, confidence)
            quotable = _lead_with(quotable, lambda i: bool(focused & sentences[i].names))
        if opts.answer_first:
            chosen = _answer_first(sentences, quotable, articles_asked(question, passages, opts.max_sentences))
        else:
            chosen = _several(sentences, quotable, opts.max_sentences)
        quotes: dict[int, list[str]] = {}
        for i in chosen:
            quotes.setdefault(sentences[i].passage, []).append(sentences[i].text)
        lines = [f"{sentences[i].text} [{sentences[i].passage}]" for i in chosen]
        if yes_no:
            lines = [*lines[:1], EVIDENCE_NOT_VERDICT]
            quotes = {sentences[chosen[0]].passage: [sentences[chosen[0]].text]}
        return Draft("\n".join(lines), False, quotes, confidence)

    def _counting(self, question: str, sentences: list[_Sentence], typed: list[list[str]]) -> list[list[str]]:
        """ "How many X": a number counts in a sentence that mentions X, or whose numbers count something close
        to X in meaning ("cars" ~ "vehicles" ~ "EVs"): the embedder compares the words."""
        wanted = counted(question)
        if not wanted:
            return typed
        words = set(tokenize([wanted.split()[-1]])[0])  # the counted thing: "african countries" counts countries
        counts = {i: measured(s.text) for i, s in enumerate(sentences) if typed[i] and not words & s.terms}
        nouns = sorted({noun for found in counts.values() for noun in found})
        close: set[str] = set()
        if nouns and self.options.count_similarity < 1:
            vectors = self.embedder.embed_documents([written_out(wanted), *nouns])
            similarity = vectors[1:] @ vectors[0]
            close = {noun for noun, s in zip(nouns, similarity, strict=True) if s >= self.options.count_similarity}
        return [facts if i not in counts or close & set(counts[i]) else [] for i, facts in enumerate(typed)]


_BOTH = re.compile(r"\b(?:both|each|all|several|multiple|two|three|four)\b", re.I)


def articles_asked(question: str, passages: Sequence[Passage], most: int) -> int:
    """How many articles a question spans: the outlets it names among the passages' ("according to TechCrunch
    and The Verge"); at least two when it says both, each or several; and for a question about several
    subjects ("Xiaomi's plans and Apple's suppliers"), the retrieved articles whose titles each add a name the
    question asks about. One for a plain factual question."""
    lowered = question.lower()
    outlets = {p.source.lower() for p in passages if p.source and p.source.lower() in lowered}
    wanted = max(len(outlets), 2 if _BOTH.search(question) else 1)
    asked, subjects = _asked_names(question), 0
    covered: set[str] = set()
    for passage in passages:
        named = {name for name in asked if name in passage.title.lower()} - covered
        if named:
            covered |= named
            subjects += 1
    return max(1, min(most, max(wanted, subjects)))


def _answer_first(sentences: list[_Sentence], quotable: list[tuple[float, int]], articles: int) -> list[int]:
    """The best sentence first, then the best of each further article, while `articles` are not quoted."""
    chosen: list[int] = []
    seen: set[str] = set()
    for _, i in quotable:
        if len(chosen) >= articles:
            break
        if sentences[i].article_id in seen:
            continue
        chosen.append(i)
        seen.add(sentences[i].article_id)
    return chosen


def _unlabelled(sentence: str, facts: Facts) -> Facts:
    """Names the tagger gave no label ("BAIC"): capitalised words past the sentence's first, in no entity it
    found. They may answer "who" or "which company" questions too (the small model misses rarer names)."""
    labelled = " ".join(words for _, words in facts).split()
    rest = sentence.split(" ", 1)[1] if " " in sentence else ""
    return frozenset((UNLABELLED, name) for name in names(rest) if name not in labelled and not name.isdigit())


def _lead_with(quotable: list[tuple[float, int]], wanted: Callable[[int], bool]) -> list[tuple[float, int]]:
    """The quotable sentences with the best one that is wanted first (unchanged when none is)."""
    lead = next((item for item in quotable if wanted(item[1])), None)
    return quotable if lead is None else [lead, *(item for item in quotable if item != lead)]


def _several(sentences: list[_Sentence], quotable: list[tuple[float, int]], most: int) -> list[int]:
    """Up to `most` sentences, preferring articles and passages not quoted yet, in passage order."""
    chosen: list[int] = []
    articles: set[str] = set()
    for prefer_new in (True, False):
        for _, i in quotable:
            s = sentences[i]
            if len(chosen) >= most:
                break
            if i in chosen or (prefer_new and s.article_id in articles):
                continue
            if any(sentences[j].text == s.text or (prefer_new and sentences[j].passage == s.passage) for j in chosen):
                continue
            chosen.append(i)
            articles.add(s.article_id)
    return sorted(chosen, key=lambda i: (sentences[i].passage, sentences[i].start))


def _typed_facts(
    sentences: list[_Sentence],
    kind: Kind | None,
    question: str,
    q_terms: frozenset[str],
    unlabelled: bool = True,
    acronyms_count: bool = False,
    subject: frozenset[str] = frozenset(),
    money_only: bool = True,
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
    typed = []
    for s in sentences:
        facts = [f for f in of_kind(s.facts, kind, asked, frozenset(also)) if not _terms_of(f) <= q_terms]
        if money:  # a price, a fee, a salary: money, not a percentage or a weight
            facts = [f for f in facts if ("MONEY", f) in s.facts or ("CARDINAL", f) in s.facts]
        if kind == "age":
            facts = [f for f in facts if " of " not in f or f.split(" of ", 1)[1] in subject]
        elif kind == "duration" and facts:  # "a couple of days back" is a point in time, not a span of it
            words = f" {normalise_words(s.text)} "
            facts = [f for f in facts if not re.search(rf" {re.escape(f)} (?:back|ago|later|earlier) ", words)]
        typed.append(facts)
    return typed


_NAMES_ASKED = frozenset({"person", "organisation", "agent"})
_DOES_FOR = re.compile(rf"\b{AGENT_VERBS}", re.I)
# "who runs X", "X's ceo": the name asked for is a property of the subject, which the sentence must hold
_ROLE_OF = re.compile(
    r"\b(?:ceo|founder|co-founder|coach|owner|chair(?:man|woman)?|president|boss|cto|cfo|quarterback|"
    r"runs|founded|owns|leads|heads|coaches|wrote|staffer)\b",
    re.I,
)
# a sentence that refers back to what the one before it names: a pronoun or "the company"
_REFERS_BACK = re.compile(
    r"\b(?:he|she|it|they|his|her|its|their|him|them|(?:this|that|such an?) \w+|"
    r"the (?:company|firm|startup|club|team|group|automaker|"
    r"carmaker|app|platform|boy|girl|man|woman|player|coach|deal|business|network|service|agency|league|bank))\b",
    re.I,
)
_NOT_SUBJECT = frozenset(word.lower() for word in NOT_NAMES) | frozenset(
    "ceo cto cfo coo us uk eu ev evs ai tv app new year years".split()
)


_SHOUTED = re.compile(r"[^a-z]*")


def _subject(question: str, sentences: Sequence[_Sentence]) -> frozenset[str]:
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


def _holds(sentence: _Sentence, subject: frozenset[str]) -> bool:
    """The sentence names the subject, or refers back to the sentence before it, which does."""
    return bool(sentence.names & subject or sentence.follows & subject)


def _names_the_topic(sentence: _Sentence, asked: frozenset[str], subject: frozenset[str], least: int) -> bool:
    """In an article about the question's subject (the caller checks that the title names it), a sentence that
    names what the question asks about besides the subject is about the subject too: a report names its place
    once, in the lede. "The repairs will cost ..." under "Harbour bridge to close for six weeks of repairs";
    "Employers had offered a raise of 6 percent ..." in a report of the Rotterdam dock strike. `least`: how many
    of the question's other words it must name (one lets "a fine of $10,000" answer what Michigan's fine was)."""
    return len(sentence.terms & (asked - frozenset(tokenize([" ".join(subject)])[0]))) >= least


def _read_facts(sentence: str) -> Facts:
    """The facts read from a sentence's words rather than tagged: ages ("30 of casemiro": the age of the name
    it comes before) and the words that give a cause."""
    found = {("AGE", f"{age} of {holder}" if holder else age) for age, holder in ages(sentence)}
    found |= {("REASON", word) for word in reasons(sentence)}
    return frozenset(found)


@functools.lru_cache(maxsize=65536)
def _terms_of(fact: str) -> frozenset[str]:
    """A fact's BM25 terms; a fact without any (a bare number, a stop word) counts as none of the question's."""
    return frozenset(tokenize([fact])[0]) or frozenset({f"\0{fact}"})


def _fact_support(typed: list[list[str]], passages: Sequence[Passage], analyses: Sequence[_Analysed]) -> list[float]:
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
