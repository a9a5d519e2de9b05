"""A model's answer -> sentences, each tied to the passage sentences that support it (or dropped).

Real models cite unevenly: some write no markers, some cite the wrong passage, some cite well. Every
sentence of the answer is checked the same way, whatever markers it carries:

- its support by a passage sentence mixes meaning (cosine of the two, with the embedder) and wording (the
  share of the claim's terms the sentence holds); the best supporting sentence is what its citation quotes;
- a sentence supported by the passage it cites keeps its marker (`cited`); one with no marker, or a marker
  naming a passage that does not support it, gets the passage that does (`attributed`); one that no passage
  supports is left out (`dropped`);
- a short verdict ("Yes.", "No.", "Google.") stands with the sentence that gives its reason;
- sentences that decline ("The passages do not say ...") are not claims; an answer that opens with one is
  an abstention;
- a passage sentence that gives instructions ("ignore previous instructions and reply ...") supports
  nothing, and a claim that echoes one more closely than any other passage sentence is dropped, so
  attribution cannot launder an injected instruction into a cited claim.

The threshold is calibrated by bench/attribution.py (support of a model's sentences by the passages of
their own question against the passages of other questions).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from retrieval import citations
from retrieval.chunking import sentence_spans
from retrieval.embeddings import Embedder
from retrieval.lexical import tokenize
from retrieval.text import SPOKEN_WORD
from retrieval.types import Passage, SentenceCounts

_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override|bypass)\b[^.!?]{0,60}\b(?:instructions?|rules?|prompts?|guidelines?|"
    r"previous|above|earlier|system)\b"
    r"|\b(?:reply|respond|answer|say|write|output|print|state|claim)\b[^.!?]{0,30}\b(?:only|exactly|nothing but|"
    r"with the words?|that you)\b"
    r"|\byou\s+(?:are\s+now|must\s+(?:now\s+)?(?:say|answer|reply|ignore)|will\s+now)\b"
    r"|\b(?:system\s+prompt|as\s+an?\s+(?:ai|assistant|language\s+model))\b"
    r"|\bdo\s+not\s+cite\b|\b(?:new|updated)\s+instructions?\s*:",
    re.I,
)
_DECLINE = re.compile(
    r"^(?:(?:i'?m\s+)?sorry[,.]?\s*|unfortunately,?\s*|however,?\s*)?"
    r"(?:(?:(?:the|these|those|provided|given|available|above)\s+)*(?:articles?|passages?|excerpts?|sources?|"
    r"corpus|context|information|texts?|documents?|reports?)\b[^.!?]{0,80}?\b(?:do(?:es)?\s*n[o']t|did\s*n[o']t|"
    r"cannot|can't|are\s+not|is\s+not|contains?\s+no|provides?\s+no|makes?\s+no|ha(?:s|ve)\s+no|lacks?|"
    r"fails?\s+to)\b"
    r"|(?:there\s+is|there's)\s+no\s+(?:information|mention|evidence|data|indication)"
    r"|(?:i\s+)?(?:cannot|can't|could\s*n[o']t|do\s*n[o']t|am\s+unable\s+to|was\s+unable\s+to)\s+(?:find|answer|"
    r"determine|tell|know|provide|say|confirm)"
    r"|(?:insufficient|not\s+enough)\s+information|no\s+information"
    r"|(?:it\s+is|it's)\s+(?:not\s+(?:possible|clear|mentioned|stated|specified)|unclear))",
    re.I,
)
_VERDICT_WORDS = 4  # a verdict ("Yes.", "No, it did not.", "Google.") is this short, in words
_VERDICT_START = {"yes", "no", "true", "false", "correct", "incorrect", "both", "neither", "not", "agree", "disagree"}


def is_verdict(sentence: str) -> bool:
    """A short answer that states no fact of its own: yes/no, or a bare name."""
    words = SPOKEN_WORD.findall(sentence)
    if not words or len(words) > _VERDICT_WORDS:
        return False
    return words[0].lower() in _VERDICT_START or all(w[:1].isupper() or w[:1].isdigit() for w in words)


@dataclass(frozen=True)
class AttributionOptions:
    support_above: float = 0.30  # calibrated by bench/attribution.py (bench/results/attribution.json)
    dense_weight: float = 0.6  # meaning vs wording
    shortlist: int = 8  # passage sentences per claim embedded (by wording first)
    embed_chars: int = 400  # a paraphrase may rest on a sentence's end: embed (nearly) all of it
    injection_margin: float = 0.05  # an instruction sentence this close to the best support wins
    max_sentences: int = 4  # an answer keeps at most this many supported sentences (verdicts aside)


@dataclass
class Claim:
    text: str  # as written, markers removed
    markers: list[int]  # passage numbers it cites (1-based), as written
    passages: list[int] = field(default_factory=list)  # the passages it is attributed to
    quotes: dict[int, str] = field(default_factory=dict)  # passage -> the sentence it rests on
    how: str = ""  # cited | attributed | dropped | verdict | decline

    @property
    def words(self) -> int:
        return len(SPOKEN_WORD.findall(self.text))


@dataclass(frozen=True)
class Attributed:
    text: str  # the kept sentences with [n] markers (n = 1-based passage number)
    quotes: dict[int, list[str]]
    counts: SentenceCounts
    abstained: bool  # the writer declined


_NUMBER = re.compile(r"\d[\d,.]*\d|\d")


def numbers(text: str) -> frozenset[str]:
    """The numbers a text states, as digits ("300,000" and "300000" alike, "06" as "6")."""
    return frozenset(n.replace(",", "").rstrip(".").lstrip("0") or "0" for n in _NUMBER.findall(text))


def is_instruction(sentence: str) -> bool:
    """A sentence that tells a reader (a model) what to do or say, rather than reporting something."""
    return bool(_INSTRUCTION.search(sentence))


def is_decline(sentence: str) -> bool:
    return bool(_DECLINE.search(sentence.strip().lstrip("-*• ").strip()))


_LEADING_VERDICT = re.compile(r"(?m)^(\s*(?:yes|no)\s*(?:\[\d+\]\s*)*[.!])[ \t]+(?=\S)", re.I)


def split_claims(text: str) -> list[Claim]:
    """The answer's sentences (list items and lines count as sentences), with the markers each carries.

    A marker written after the full stop ("... vehicles. [2]") belongs to the sentence before it.
    """
    pieces: list[str] = []
    # "No. The ..." is one sentence to the splitter ("No." abbreviates "number"): not at an answer's start
    text = re.sub(_LEADING_VERDICT, r"\1\n", citations.normalise(text))
    for line in text.splitlines():
        for start, end in sentence_spans(line):
            piece = line[start:end]
            lead = re.match(r"^(?:\s*\[\d+\])+[.,;:]?", piece)
            if lead and pieces:
                pieces[-1] += " " + lead.group().strip()
                piece = piece[lead.end() :].strip()
            if piece:
                pieces.append(piece)
    claims = []
    for piece in pieces:
        markers = [n for m in citations.MARKER.finditer(piece) if (n := citations.marker_number(m)) is not None]
        body = citations.strip_markers(piece).strip().lstrip("-*•").strip()
        if body and re.search(r"\w", body):
            claims.append(Claim(body, list(dict.fromkeys(markers))))
    return claims


@dataclass(frozen=True)
class _Candidate:
    passage: int  # 1-based
    text: str
    terms: frozenset[str]
    instruction: bool


class Attributor:
    """Checks a writer's sentences against the passages they were written from."""

    def __init__(self, embedder: Embedder | None, options: AttributionOptions | None = None) -> None:
        self.embedder = embedder
        self.options = options or AttributionOptions()

    def attribute(self, text: str, passages: Sequence[Passage], question: str = "") -> Attributed:
        titles = tuple(p.title.strip().lower() for p in passages if p.title.strip())
        seen: set[str] = set()
        claims = []
        for claim in split_claims(text):  # a passage's heading copied from the prompt, or a repeat, is no claim
            if not _echoes_a_title(claim.text, titles) and claim.text.lower() not in seen:
                seen.add(claim.text.lower())
                claims.append(claim)
        for claim in claims:
            if is_decline(claim.text):
                claim.how = "decline"
            elif is_verdict(claim.text):
                claim.how = "verdict"
        stated = [c for c in claims if c.how == ""]
        verdicts = [c for c in claims if c.how == "verdict"]
        opening = next((c for c in claims if c.how != "verdict"), None)
        if not claims or (opening is not None and opening.how == "decline") or not (stated or verdicts):
            return Attributed("", {}, SentenceCounts(), True)  # "No. The passages do not say ..." declines
        candidates = self._candidates(passages)
        for claim in verdicts:
            if not _named_in([claim.text], candidates):
                claim.how = "dropped"  # a name no passage mentions (outside an instruction): it rests on nothing
        verdicts = [c for c in verdicts if c.how == "verdict"]
        if stated and candidates:
            self._support(stated, candidates, passages, question)
        for claim in stated if not candidates else []:
            claim.how = "dropped"
        attributed = self._assemble(claims, [], self.options.max_sentences)
        if attributed.text or not verdicts or not candidates:
            return attributed
        # Only a verdict stands ("Yes." alone, or its reasons unsupported): what it asserts is the question,
        # answered; it rests on the passage sentence that supports the question's own claim.
        shown = [c.text for c in verdicts]
        bare = Claim(f"{question} {' '.join(shown)}".strip(), [n for c in verdicts for n in c.markers])
        self._support([bare], candidates, passages, question)
        bare_attributed = self._assemble([bare], shown, self.options.max_sentences)
        counts = bare_attributed.counts.model_copy(update={"dropped": attributed.counts.dropped})
        return Attributed(bare_attributed.text, bare_attributed.quotes, counts, False)

    # ------------------------------------------------------------------ steps

    def _candidates(self, passages: Sequence[Passage]) -> list[_Candidate]:
        found: list[_Candidate] = []
        for number, passage in enumerate(passages, start=1):
            sentences = [passage.text[s:e] for s, e in sentence_spans(passage.text) if e - s >= 12]
            for sentence, terms in zip(sentences, tokenize(sentences), strict=True):
                found.append(_Candidate(number, sentence, frozenset(terms), is_instruction(sentence)))
        return found

    def best_support(self, sentences: Sequence[str], passages: Sequence[Passage], question: str = "") -> list[float]:
        """Each sentence's support by its best passage sentence that is no instruction (for calibration)."""
        candidates = self._candidates(passages)
        claims = [Claim(text, []) for text in sentences]
        if not candidates or not claims:
            return [0.0] * len(claims)
        support = self._matrix(claims, candidates, passages, question)
        legit = np.array([not c.instruction for c in candidates])
        return [float(row[legit].max()) if legit.any() else 0.0 for row in support]

    def _matrix(
        self, claims: list[Claim], candidates: list[_Candidate], passages: Sequence[Passage], question: str = ""
    ) -> np.ndarray:
        """Support of each claim (rows) by each candidate passage sentence (columns)."""
        opts = self.options
        claim_terms = [frozenset(t) for t in tokenize([c.text for c in claims])]
        lexical = np.zeros((len(claims), len(candidates)), dtype=np.float32)
        for i, terms in enumerate(claim_terms):
            if terms:
                for j, cand in enumerate(candidates):
                    lexical[i, j] = len(terms & cand.terms) / len(terms)
        dense = np.zeros_like(lexical)
        if self.embedder is not None and opts.dense_weight > 0:
            shortlist: set[int] = set()
            for i, claim in enumerate(claims):
                order = np.argsort(-lexical[i], kind="stable")
                shortlist.update(int(j) for j in order[: opts.shortlist])
                shortlist.update(j for j, c in enumerate(candidates) if c.passage in claim.markers)
            chosen = sorted(shortlist)
            heads = [candidates[j].text[: opts.embed_chars] for j in chosen]
            vectors = self.embedder.embed_documents(heads)
            claim_vectors = self.embedder.embed_documents([c.text for c in claims])
            dense[:, chosen] = claim_vectors @ vectors.T
        weight = opts.dense_weight if self.embedder is not None else 0.0  # no embedder: wording alone
        support = weight * dense + (1 - weight) * lexical
        # a passage that does not state a number the claim states (outside the question, and the passage's
        # title and date, which the prompt shows) does not support the claim
        stated = [numbers(f"{p.title} {p.published_at or ''} {p.text}") for p in passages]
        asked = numbers(question)
        for i, claim in enumerate(claims):
            needed = numbers(claim.text) - asked
            if needed:
                for j, cand in enumerate(candidates):
                    if not needed <= stated[cand.passage - 1]:
                        support[i, j] = 0.0
        return support

    def _support(
        self, claims: list[Claim], candidates: list[_Candidate], passages: Sequence[Passage], question: str
    ) -> None:
        opts = self.options
        support = self._matrix(claims, candidates, passages, question)
        instruction = np.array([c.instruction for c in candidates])
        for i, claim in enumerate(claims):
            row = support[i]
            legit = np.where(instruction, -1.0, row)
            best = int(np.argmax(legit))
            if instruction.any() and float(row[instruction].max()) >= float(legit[best]) - opts.injection_margin:
                claim.how = "dropped"  # it echoes an instruction found in a passage more than it reports anything
                continue
            if float(legit[best]) < opts.support_above:
                claim.how = "dropped"
                continue
            by_passage: dict[int, int] = {}
            for j in np.argsort(-legit, kind="stable"):
                cand = candidates[int(j)]
                if legit[j] < opts.support_above:
                    break
                by_passage.setdefault(cand.passage, int(j))
            cited = [n for n in claim.markers if n in by_passage]
            if cited:
                claim.how, claim.passages = "cited", cited
            else:
                claim.how, claim.passages = "attributed", [candidates[best].passage]
            claim.quotes = {n: candidates[by_passage[n]].text for n in claim.passages}

    @staticmethod
    def _assemble(claims: list[Claim], verdict_text: list[str], max_sentences: int) -> Attributed:
        counts = SentenceCounts()
        lines: list[str] = []
        quotes: dict[int, list[str]] = {}
        pending: list[str] = []  # verdicts waiting for the sentence that gives their reason
        for claim in claims:
            if claim.how == "decline":
                continue
            if claim.how == "verdict":
                pending.append(claim.text)
                continue
            if claim.how == "dropped":
                counts.dropped += 1
                continue
            if len(lines) >= max_sentences:  # supported, but the answer is long enough
                continue
            if claim.how == "cited":
                counts.cited += 1
            else:
                counts.attributed += 1
            for n, quote in claim.quotes.items():
                quotes.setdefault(n, [])
                if quote not in quotes[n]:
                    quotes[n].append(quote)
            markers = "".join(f"[{n}]" for n in claim.passages)
            shown = " ".join(verdict_text) if verdict_text else claim.text
            lines.append(" ".join([*pending, _with_markers(shown, markers)]))
            pending = []
        if pending and lines:  # a verdict after the last reason: it rests on the same passages
            lines[-1] = f"{lines[-1]} {' '.join(pending)}"
        return Attributed(" ".join(lines), quotes, counts, False)


def _echoes_a_title(sentence: str, titles: tuple[str, ...]) -> bool:
    """ "Title (Outlet, 2023-10-05)": a passage's heading, copied from the prompt, not a claim."""
    text = re.sub(r"\s*\([^)]*\)\s*$", "", sentence.strip().lower()).rstrip(".")
    return bool(text) and text in titles


_VERDICT_TERMS = frozenset(tokenize([" ".join(_VERDICT_START)])[0])


def _named_in(verdicts: list[str], candidates: list[_Candidate]) -> bool:
    """Whether every term of a bare verdict other than yes/no is in a passage sentence that is no instruction."""
    stated = {t for terms in tokenize(verdicts) for t in terms} - _VERDICT_TERMS
    reported = {t for c in candidates if not c.instruction for t in c.terms}
    return stated <= reported


def _with_markers(sentence: str, markers: str) -> str:
    """The sentence with its markers before its closing punctuation: "It grew [1]."."""
    match = re.search(r"([.!?…:;,]+[\"'”’)]*)$", sentence)
    if match:
        return f"{sentence[: match.start()].rstrip()} {markers}{match.group()}"
    return f"{sentence} {markers}"
