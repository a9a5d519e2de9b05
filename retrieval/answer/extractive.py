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

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from retrieval.answer import verdicts
from retrieval.answer.asked import (
    DOES_FOR,
    NAMES_ASKED,
    REFERS_BACK,
    ROLE_OF,
    besides_subject,
    fact_support,
    holds,
    names_the_topic,
    read_facts,
    subject_of,
    typed_facts,
    unlabelled,
)
from retrieval.answer.choosing import answer_first, articles_asked, lead_with, several
from retrieval.answer.claim_words import has_negation, known_names
from retrieval.answer.facts import (
    ANYONE,
    PEOPLE,
    EntityTagger,
    Kind,
    acronyms,
    asked_kind,
    counted,
    is_yes_no,
    measured,
    written_out,
)
from retrieval.answer.facts import normalise as normalise_words
from retrieval.answer.instructions import planted
from retrieval.answer.sentences import (
    Analysed,
    Sentence,
    agreement,
    answer_sentences,
    lexical_scores,
    name_coverage,
    name_match,
    names,
    names_asked,
    restates,
)
from retrieval.core.config import default
from retrieval.core.text import NAME, tokenize
from retrieval.core.types import Passage
from retrieval.embed.embedder import Embedder

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

    abstain_below: float = default("abstain_threshold")
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
    # "unnamed" (eleventh session): the natural questions' fact held .690 -> .707 and answerable declined .091 ->
    # .076 over "sentence", the fresh held-out set's .500 -> .531 and .105 -> .079, near misses and the 681 dev
    # questions unchanged (bench/natural.py)
    subject_rule: Literal["sentence", "unnamed", "title", "off"] = "unnamed"
    # "sentence": a sentence of an article whose title names the subject holds it when it names this many of the
    # question's other words (a report names its place once, in the lede)
    topic_terms: int = 2
    title_names_not_answers: bool = True  # see draft(): a name the title gives with the subject is no answer
    money_only: bool = True  # "how much does it cost / pay / is it worth": money, not a percentage or a weight
    # and the money the question names ("valued at", "raise", "sales") stated by a word of its kind (facts.
    # MONEY_RELATIONS). Twelfth session, bench/option_compare.py: near misses declined .765 -> .853 (first natural
    # set) and .625 -> .812 (fresh set), fact held .707 -> .690 and .562 both, the 681 dev questions unchanged;
    # in all five points cross-validation pooled over both sets chose most, 24 of 25 folds (natural_pooled.json)
    money_relation: bool = True
    # "who's nike's cfo": a name counts only in a sentence giving that role. Measured off (bench/option_compare.py,
    # twelfth session): first natural set fact held .690 -> .707, fresh set answerable declined .053 -> .079, the
    # 681 dev questions' inference .791 -> .781 (a benchmark answer's sentence often names the person alone)
    role_relation: bool = False
    subject_for_names: bool = False  # also for "who" and "which company" (whose answer is a name, not a property)
    count_similarity: float = 0.65  # "how many cars": "vehicles" counts when the two words' vectors are this close
    kind_keep_ratio: float = 0.7  # a sentence with the asked fact may lead when it scores this close to the best
    answering_candidates: int = 3  # sentences with the asked fact added to the shortlist, best cheap scores first
    evidence_note: bool = True  # offline yes/no answers say their sentence is the evidence, not a verdict
    # ... unless the sentence plainly asserts or denies what was asked (retrieval/answer/verdicts.py, strict):
    # then it begins with that verdict. Off: 6 of 7 verdicts right on the sets it was built on, none given on the
    # third, held out (bench/results/option_evidence_verdict*.json)
    evidence_verdict: bool = False
    # the best sentence first and one per article asked about; False: up to max_sentences in passage order
    # (the answerer before answer-first, kept as the benchmark's baseline)
    answer_first: bool = True


class ExtractiveAnswerer:
    name = "extractive"

    def __init__(
        self, embedder: Embedder, options: ExtractiveOptions | None = None, tagger: EntityTagger | None = None
    ) -> None:
        self.embedder = embedder
        self.options = options or ExtractiveOptions()
        self.tagger = tagger or EntityTagger()
        self._analyses: OrderedDict[str, Analysed] = OrderedDict()  # LRU, by passage text
        self._lock = threading.Lock()

    def sentence_heads(self, text: str) -> list[str]:
        """What draft() would embed for each sentence of a passage with this text (for SentenceVectors)."""
        return [text[start:end][: self.options.embed_chars] for start, end in answer_sentences(text)]

    @staticmethod
    def sentences(text: str) -> list[str]:
        """The sentences of a passage with this text that draft() may quote (their facts go in a FactStore)."""
        return [text[start:end] for start, end in answer_sentences(text)]

    def _analysed(self, passage: Passage) -> Analysed:
        """A passage's sentences with their terms, names and facts: the same passages come back for many
        questions."""
        text = passage.text
        with self._lock:
            found = self._analyses.get(text)
            if found is not None:
                self._analyses.move_to_end(text)
                return found
        spans = tuple(answer_sentences(text))
        sentences = [text[start:end] for start, end in spans]
        named = tuple(frozenset(names(sentence)) for sentence in sentences)
        title = frozenset(names(passage.title)) | frozenset(w.lower() for w in NAME.findall(passage.title))
        analysed = Analysed(
            spans,
            tuple(frozenset(terms) for terms in tokenize(sentences)),
            named,
            tuple(
                f | unlabelled(sentence, f) | acronyms(sentence, f) | read_facts(sentence)
                for sentence, f in zip(sentences, self.tagger.facts(sentences), strict=True)
            ),
            f" {normalise_words(f'{passage.title} {text}')} ",
            tuple(
                (named[n - 1] if n else frozenset()) | title if REFERS_BACK.search(sentence) else frozenset()
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
        analyses = [self._analysed(passage) for passage in passages]
        asked = frozenset(tokenize([question])[0])
        sentences = self._quotable(passages, analyses, asked)
        if not sentences:
            return Draft(NOT_IN_CORPUS, True, {})
        kind = asked_kind(question)
        subject = subject_of(question, sentences) if opts.subject_rule != "off" else frozenset()
        typed = self._asked_facts(question, sentences, analyses, kind, asked, subject)
        scored = self._scored(question, passages, analyses, sentences, typed, kind)
        best_score = scored[0][0]
        confidence = best_score - opts.coverage_weight * (1 - name_coverage(question, passages))
        quotable = [(score, i) for score, i in scored if score >= best_score * opts.keep_ratio]
        if gated and kind is not None and opts.require_kind != "off":
            held = self._holding_the_fact(scored, quotable, typed)
            if held is None:
                return Draft(NOT_IN_CORPUS, True, {}, confidence)
            quotable = held
        yes_no = opts.answer_first and opts.evidence_note and is_yes_no(question)
        if yes_no and subject:  # the best sentence about the question's subject states or denies what it asks
            quotable = lead_with(quotable, lambda i: holds(sentences[i], subject))
        if gated and confidence < opts.abstain_below:
            return Draft(NOT_IN_CORPUS, True, {}, confidence)
        if focused := names_asked(focus):
            # a follow-up naming its own subject ("What about Apple?") is about it, whatever the terms carried
            # over from the previous question match: no passage names it, no answer; else a sentence naming it leads
            if not any(f" {normalise_words(name)} " in a.words for name in focused for a in analyses):
                return Draft(NOT_IN_CORPUS, True, {}, confidence)
            quotable = lead_with(quotable, lambda i: bool(focused & sentences[i].names))
        return self._written(question, passages, sentences, quotable, yes_no, confidence)

    def _quotable(
        self, passages: Sequence[Passage], analyses: Sequence[Analysed], asked: frozenset[str]
    ) -> list[Sentence]:
        """Every sentence of the passages that may be quoted: not an echo of the question, not an instruction."""
        sentences = []
        for number, (passage, analysed) in enumerate(zip(passages, analyses, strict=True), start=1):
            follows = analysed.follows or (frozenset(),) * len(analysed.spans)
            for (start, end), terms, found, facts, before in zip(
                analysed.spans, analysed.terms, analysed.names, analysed.facts, follows, strict=True
            ):
                text = passage.text[start:end]
                sentences.append(Sentence(number, start, text, passage.article_id, terms, found, facts, before))
        instructions = planted([s.text for s in sentences])  # never quoted
        return [s for s in sentences if not restates(s, asked) and s.text not in instructions]

    def _asked_facts(
        self,
        question: str,
        sentences: list[Sentence],
        analyses: Sequence[Analysed],
        kind: Kind | None,
        asked: frozenset[str],
        subject: frozenset[str],
    ) -> list[list[str]]:
        """Each sentence's facts of the kind asked for that count: about the subject, counting the asked thing."""
        opts = self.options
        rules = (opts.unlabelled_names, opts.acronyms, subject, opts.money_only, opts.money_relation)
        typed = typed_facts(sentences, kind, question, asked, *rules, opts.role_relation)
        if kind == "number":
            typed = self._counting(question, sentences, typed)
        if subject and kind in NAMES_ASKED and opts.title_names_not_answers and DOES_FOR.search(question):
            # an article about X and Y (its title names both) answers "who built X's cars" with neither
            typed = [
                [f for f in facts if not set(f.split()) <= analyses[s.passage - 1].title_names]
                if analyses[s.passage - 1].title_names & subject
                else facts
                for s, facts in zip(sentences, typed, strict=True)
            ]
        if (
            not subject
            or kind is None
            or not (opts.subject_for_names or kind not in NAMES_ASKED or ROLE_OF.search(question))
        ):
            return typed
        titled = (
            {n for n, a in enumerate(analyses, start=1) if a.title_names & subject}
            if opts.subject_rule == "title"
            else set()
        )

        others = besides_subject(asked, subject)
        # "unnamed": in a passage that names the subject (its title or a sentence), a sentence naming no one is
        # about it ("There are 157,000 ultra-directional speakers" in a report on the Sphere)
        naming = (
            {s.passage for s in sentences if holds(s, subject)}
            | {n for n, a in enumerate(analyses, 1) if a.title_names & subject}
            if opts.subject_rule == "unnamed"
            else set()
        )

        def about_subject(s: Sentence) -> bool:
            in_titled = bool(analyses[s.passage - 1].title_names & subject)
            return (
                holds(s, subject)
                or s.passage in titled
                or (in_titled and names_the_topic(s, others, opts.topic_terms))
                or (s.passage in naming and not s.names)
            )

        return [facts if about_subject(s) else [] for s, facts in zip(sentences, typed, strict=True)]

    def _scored(
        self,
        question: str,
        passages: Sequence[Passage],
        analyses: Sequence[Analysed],
        sentences: list[Sentence],
        typed: list[list[str]],
        kind: Kind | None,
    ) -> list[tuple[float, int]]:
        """(score, sentence index) for the shortlist, best first: the cheap features for every sentence, and
        meaning (the embedder) for the best few and the best few that hold the asked fact."""
        opts = self.options
        support = fact_support(typed, passages, analyses)
        lexical = lexical_scores(question, [s.terms for s in sentences])
        agreeing = agreement(sentences, passages, question)
        named = name_match(sentences, passages, question) if opts.name_weight else [0.0] * len(sentences)
        top = max((p.score for p in passages), default=0.0)
        relevance = [max(passages[s.passage - 1].score, 0.0) / top if top > 0 else 0.0 for s in sentences]
        cheap = [  # everything but meaning, plus a small prior for the search's rank
            (1 - opts.dense_weight) * lexical[i]
            + opts.agreement_weight * agreeing[i]
            + opts.name_weight * named[i]
            + opts.passage_weight * relevance[i]
            + opts.kind_weight * bool(typed[i])
            + opts.fact_support_weight * support[i]
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
        return sorted(
            ((opts.dense_weight * float(d) + cheap[i], i) for d, i in zip(dense, shortlist, strict=True)), reverse=True
        )

    def _holding_the_fact(
        self, scored: list[tuple[float, int]], quotable: list[tuple[float, int]], typed: list[list[str]]
    ) -> list[tuple[float, int]] | None:
        """The quotable sentences when one the answer may lead with holds the asked fact (None: decline)."""
        opts = self.options
        if opts.require_kind == "lead":
            holders = quotable[:1]
        else:  # a sentence holding the asked fact may lead from a little further down
            holders = [(score, i) for score, i in scored if score >= scored[0][0] * opts.kind_keep_ratio]
        if not any(typed[i] for _, i in holders):
            return None
        if opts.require_kind != "first":
            return quotable
        lead = next(item for item in holders if typed[item[1]])  # the best sentence that holds one leads
        return [lead, *(item for item in quotable if item != lead)]

    def _written(
        self,
        question: str,
        passages: Sequence[Passage],
        sentences: list[Sentence],
        quotable: list[tuple[float, int]],
        yes_no: bool,
        confidence: float,
    ) -> Draft:
        """The chosen sentences, each followed by its [n]; a yes/no question's evidence says it is no verdict."""
        opts = self.options
        if opts.answer_first:
            chosen = answer_first(sentences, quotable, articles_asked(question, passages, opts.max_sentences))
        else:
            chosen = several(sentences, quotable, opts.max_sentences)
        quotes: dict[int, list[str]] = {}
        for i in chosen:
            quotes.setdefault(sentences[i].passage, []).append(sentences[i].text)
        lines = [f"{sentences[i].text} [{sentences[i].passage}]" for i in chosen]
        if yes_no:
            said = plain_verdict(question, passages, sentences[chosen[0]]) if opts.evidence_verdict else None
            lines = [f"{said.capitalize()}. {lines[0]}"] if said else [*lines[:1], EVIDENCE_NOT_VERDICT]
            quotes = {sentences[chosen[0]].passage: [sentences[chosen[0]].text]}
        return Draft("\n".join(lines), False, quotes, confidence)

    def _counting(self, question: str, sentences: list[Sentence], typed: list[list[str]]) -> list[list[str]]:
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
        # a clipped word ("subs" for "subscribers", "execs"): the noun begins with it and is longer
        close |= {n for n in nouns for w in words if len(w) >= 3 and n.startswith(w) and len(n) > len(w) + 3}
        last = wanted.split()[-1]  # a mistyped word ("applicatons", "compnies"): a letter or two apart
        close |= {n for n in nouns if len(last) >= 6 and SequenceMatcher(None, last, n).ratio() >= 0.88}
        if last in ANYONE:  # "how many people died": "55 passengers" counts them ("employees": not users)
            close |= set(nouns) & PEOPLE
        return [facts if i not in counts or close & set(counts[i]) else [] for i, facts in enumerate(typed)]


def plain_verdict(question: str, passages: Sequence[Passage], sentence: Sentence) -> str | None:
    """ "yes" or "no" when the evidence sentence plainly asserts or denies what a yes/no question asks, else None."""
    claim = verdicts.asked(question, known_names([p.text for p in passages] + [p.title for p in passages]))
    said = verdicts.says(sentence.text, [sentence.passage], claim, passages, strict=True)
    if said is not None and has_negation(question):  # "did it not ...?" asks the contrary
        said = "no" if said == "yes" else "yes"
    return said
