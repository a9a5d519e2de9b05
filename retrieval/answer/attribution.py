"""A model's answer -> sentences, each tied to the passage sentences that state it (or dropped).

Real models cite unevenly: some write no markers, some cite the wrong passage, some cite well. Every
sentence of the answer is checked the same way, whatever markers it carries, by the rule of
retrieval/support.py: a quote (one to three adjacent sentences of one passage) supports a sentence when it
holds every name and number the sentence states beyond the question, says what it says, agrees with its
negation and does not swap who did what; an instruction never supports anything.

- a sentence that a quote of the passage it cites states keeps its marker (`cited`); one with no marker, or a
  marker naming a passage that does not state it, moves to the passage that does (`attributed`), but only
  to a passage about the question's subject (one that names what the question names); one that no quote
  states is left out (`dropped`), as is one that echoes an instruction planted in a passage;
- a short verdict ("Yes.", "No.", "Google.") stands with the sentence that gives its reason, and a yes/no
  verdict only when that reason states the question's claim and agrees with it: "Yes" before "... did not
  work with ..." is dropped and the reason stays, and so is "Yes" before a reason that never says what was
  asked ("Yes. The library extended its opening hours" to "is the library closing?"); with no verdict that
  stands, a yes/no answer begins with the one its first supported sentence plainly states ("No. Ohtani will not
  pitch in 2024"), and a bare verdict that stands is shown with the quote it rests on (retrieval/answer/verdicts.py);
- list labels ("[1] Title", "[2] ..."), headings, bylines and datelines are structure, not claims;
- sentences that decline ("The passages do not say ...") are not claims; an answer that opens with one is
  an abstention.

The rule's threshold is calibrated by bench/support.py on a labelled set of sentence-quote pairs.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from retrieval.answer import citations, claim_words, support, verdicts
from retrieval.answer.claim_words import numbers
from retrieval.answer.facts import is_yes_no
from retrieval.answer.instructions import is_instruction
from retrieval.answer.parts import PartsOptions, answer_quotes
from retrieval.answer.support import SupportOptions
from retrieval.answer.verdicts import polarity
from retrieval.core.text import NOT_NAMES, QUESTION_FILLER, SPOKEN_WORD, sentence_spans, tokenize
from retrieval.core.types import Passage, SentenceCounts
from retrieval.embed.embedder import Embedder

__all__ = [
    "Attributed",
    "AttributionOptions",
    "Attributor",
    "Claim",
    "is_decline",
    "is_instruction",
    "is_structure",
    "is_verdict",
    "numbers",
    "split_claims",
]

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
_LOOSE = 1 / 3  # of a question's terms, the share a reason may leave out and still agree with the model's verdict
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
    support: SupportOptions = field(default_factory=SupportOptions)  # the rule a quote must pass
    max_sentences: int = 4  # an answer keeps at most this many supported sentences (verdicts aside)
    on_subject: float = 0.5  # a passage a sentence moves to holds this share of the question's terms (no names)
    parts: PartsOptions = field(default_factory=PartsOptions)  # a name answering a question of several parts


@dataclass
class Claim:
    text: str  # as written, markers removed
    markers: list[int]  # passage numbers it cites (1-based), as written
    passages: list[int] = field(default_factory=list)  # the passages it is attributed to
    quotes: dict[int, list[str]] = field(default_factory=dict)  # passage -> the sentences it rests on
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


def is_decline(sentence: str) -> bool:
    return bool(_DECLINE.search(sentence.strip().lstrip("-*• ").strip()))


# "Yes. The ...", "No, the ...", "Yes The dam ..." (a small model's missing stop): the verdict is a sentence
_LEADING_VERDICT = re.compile(r"(?m)^(\s*(?:yes|no)\s*(?:\[\d+\]\s*)*)(?:[.!,:;]|(?=\s+[A-Z]))[ \t]*(?=\S)", re.I)
_LABEL = re.compile(r"^\s*(?:[-*•]\s*)?(?:\[\d+\]\s*)+(?:[.:)\-–—]\s*)?(?=\S)")
_HEADING = re.compile(r"^\s*(?:#{1,6}\s+|\*\*[^*]+\*\*\s*:?\s*$|__[^_]+__\s*$)|:\s*$")
_BYLINE = re.compile(
    r"^\s*(?i:by|written\s+by|reporting\s+by|words\s+by|author\s*:|posted\s+by)\s+[A-Z][\w'’.-]*"
    r"(?:\s+[A-Z][\w'’.-]*){0,3}(?:\s*(?:,|and|&)\s*[A-Z][\w'’.-]*(?:\s+[A-Z][\w'’.-]*){0,3})*\s*\.?\s*$"
)
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATE_ONLY = re.compile(
    rf"^\s*(?:(?:published|updated|posted|date)\s*:?\s*)?(?:(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*,?\s+)?"
    rf"(?:{_MONTH}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH},?\s+\d{{4}}|\d{{4}}-\d\d-\d\d)"
    rf"(?:[ ,]+\d{{1,2}}:\d\d\s*(?:[ap]\.?m\.?)?(?:\s*[A-Z]{{2,4}})?)?\s*\.?\s*$",
    re.I,
)
# "NEW YORK (Reuters) - ", "LONDON, Oct 5 (AP) — ": a dateline opens a report; what follows is the claim
_DATELINE = re.compile(r"^\s*[A-Z][A-Z .'-]{2,40}(?:,\s*[A-Za-z0-9 .]{2,20})?\s*(?:\([A-Za-z .]{2,30}\))?\s*[-–—]+\s+")


def is_structure(line: str) -> bool:
    """A heading, byline or date line: a model's answer copies them, but they state no claim."""
    text = line.strip()
    if _HEADING.search(text) or _BYLINE.match(text) or _DATE_ONLY.match(text):
        return True
    words = SPOKEN_WORD.findall(text)
    # a short line of capitalised words without a full stop is a heading ("Xiaomi's New Factory Plans"); a bare
    # name ("Sam Bankman-Fried", "Federal Trade Commission") is a verdict
    return (
        4 <= len(words) <= 10
        and not re.search(r"[.!?][\"'”’)]*$", text)
        and sum(w[:1].isupper() for w in words if w.lower() not in NOT_NAMES) >= max(2, len(words) - 1)
    )


def split_claims(text: str) -> list[Claim]:
    """The answer's sentences (list items and lines count as sentences), with the markers each carries.

    A marker written after the full stop ("... vehicles. [2]") belongs to the sentence before it; a marker
    that opens a line ("[1] Title ...") is a list label, and its line no citation.
    """
    pieces: list[tuple[str, bool]] = []  # (sentence, whether its markers are labels)
    # "No. The ..." is one sentence to the splitter ("No." abbreviates "number"): not at an answer's start
    text = re.sub(_LEADING_VERDICT, lambda m: m.group(1).rstrip() + ".\n", citations.normalise(text))
    for line in text.splitlines():
        labelled = bool(_LABEL.match(line)) and not re.fullmatch(r"\s*(?:\[\d+\]\s*)+[.,;:]?\s*", line)
        if labelled:
            line = _LABEL.sub("", line)
        if not labelled and _DATELINE.match(line):
            line = _DATELINE.sub("", line)
        for start, end in sentence_spans(line):
            piece = line[start:end]
            lead = re.match(r"^(?:\s*\[\d+\])+[.,;:]?", piece)
            if lead and pieces and not labelled:
                pieces[-1] = (pieces[-1][0] + " " + lead.group().strip(), pieces[-1][1])
                piece = piece[lead.end() :].strip()
            elif lead and labelled:  # "[1] Foo. [2] Bar.": each label opens its item
                piece = piece[lead.end() :].strip()
            if piece:
                pieces.append((piece, labelled))
    claims = []
    for piece, labelled in pieces:
        markers = [n for m in citations.MARKER.finditer(piece) if (n := citations.marker_number(m)) is not None]
        body = citations.strip_markers(piece).strip().lstrip("-*•").strip()
        if labelled and not re.search(r"[.!?][\"'”’)]*$", body):
            continue  # "[1] Title (Outlet, date)": a list of the passages, not a sentence
        body = unframed(body)
        if body and re.search(r"\w", body) and not is_structure(body):
            cites = not labelled or _ends_with_marker(piece)
            claims.append(Claim(body, list(dict.fromkeys(markers)) if cites else []))
    return claims


# "The article reports that ...", "According to the passage, ...": how the model sourced it, not what it claims
_FRAME = re.compile(
    r"^(?:according to (?:the |this )?(?:article|passage|report|text|source|excerpt)s?\b[^,]{0,40},\s*|"
    r"(?:the|this) (?:article|passage|report|text|source|excerpt)s?(?:\s+(?:in|from|by)(?:\s+[^,]{0,40}?)?)?\s+"
    r"(?:reports?|states?|says?|mentions?|notes?|indicates?|explains?|confirms?)\s+that\s+)",
    re.I,
)
_FRAMED_WORDS = 5  # what is left must be a sentence of its own, not "Frank Reich coaching record"


def unframed(sentence: str) -> str:
    """A model's sentence without the frame that sources it ("The passage from [2] states that X" -> "X")."""
    found = _FRAME.match(sentence)
    if not found or len(SPOKEN_WORD.findall(sentence[found.end() :])) < _FRAMED_WORDS:
        return sentence
    rest = sentence[found.end() :]
    return rest[:1].upper() + rest[1:]


def _ends_with_marker(piece: str) -> bool:
    return bool(re.search(r"\[\d+\]\s*[.!?]?[\"'”’)]*\s*$", piece))


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
            if is_instruction(claim.text):
                claim.how = "dropped"  # the model repeating an instruction it read: never a claim
            elif is_decline(claim.text):
                claim.how = "decline"
            elif is_verdict(claim.text):
                claim.how = "verdict"
        stated = [c for c in claims if c.how == ""]
        verdicts = [c for c in claims if c.how == "verdict"]
        opening = next((c for c in claims if c.how not in {"verdict", "dropped"}), None)
        if not claims:  # nothing but structure (labels, headings): no claim, and no decline either
            return Attributed("", {}, SentenceCounts(), not text.strip())
        echoed = any(c.how == "dropped" for c in claims)  # an instruction repeated is no decline: it is dropped
        if (opening is not None and opening.how == "decline") or not (stated or verdicts or echoed):
            return Attributed("", {}, SentenceCounts(), True)  # "No. The passages do not say ..." declines
        checker = support.Support(passages, self.embedder, self.options.support, question)
        for claim in verdicts:
            if polarity(claim.text) is None and not _named_in(claim.text, checker):
                claim.how = "dropped"  # a name no passage mentions (outside an instruction): it rests on nothing
        if stated and checker.windows:
            self._support(stated, checker, passages, question)
        for claim in stated if not checker.windows else []:
            claim.how = "dropped"
        self._check_verdicts(claims, checker, passages, question)
        verdicts = [c for c in claims if c.how == "verdict"]
        attributed = self._assemble(claims, [], self.options.max_sentences)
        if attributed.text or not verdicts or not checker.windows:
            return attributed
        # Only a bare name stands ("Google.", its reasons unsupported): what it asserts is the question,
        # answered; it rests on the quote that states the question's claim with the name.
        shown = [c.text for c in verdicts]
        bare = Claim(f"{question} {' '.join(shown)}".strip(), [n for c in verdicts for n in c.markers])
        self._support([bare], checker, passages, "")
        if bare.how == "dropped" and (found := answer_quotes(" ".join(shown), question, checker, self.options.parts)):
            bare.how, bare.passages, bare.quotes = "cited", list(found), found  # its question's parts, one by one
        bare_attributed = self._assemble([bare], shown, self.options.max_sentences)
        counts = bare_attributed.counts.model_copy(update={"dropped": attributed.counts.dropped})
        return Attributed(bare_attributed.text, bare_attributed.quotes, counts, False)

    def best_support(self, sentences: Sequence[str], passages: Sequence[Passage], question: str = "") -> list[float]:
        """Each sentence's score by its best quote that passes the rule's checks, 0 when none does (calibration)."""
        options = dataclasses.replace(self.options.support, above=float("inf"))
        checker = support.Support(passages, self.embedder, options, question)
        return [checker.check(checker.claim(s, question)).score for s in sentences]

    def supported(self, sentences: Sequence[str], passages: Sequence[Passage], question: str = "") -> list[bool]:
        """Whether some quote of these passages states each sentence (for the benchmark)."""
        checker = support.Support(passages, self.embedder, self.options.support, question)
        return [checker.check(checker.claim(s, question)).window is not None for s in sentences]

    # ------------------------------------------------------------------ steps

    def _support(
        self,
        claims: list[Claim],
        checker: support.Support,
        passages: Sequence[Passage],
        question: str,
        negated: bool = False,
    ) -> None:
        about = self._subjects(passages, question, checker.known)
        for claim in claims:
            stated = checker.claim(claim.text, question)
            if negated:  # a bare "No": the question's claim, denied
                stated = dataclasses.replace(stated, negated=(stated.terms,), negation=True)
            cited: dict[int, list[str]] = {}
            for n in dict.fromkeys(claim.markers):
                verdict = checker.check(stated, [w for w in checker.windows if w.passage == n])
                if verdict.window is not None:
                    cited[n] = verdict.window.quotes
            if cited:
                claim.how, claim.passages, claim.quotes = "cited", list(cited), cited
            else:
                pool = [w for w in checker.windows if w.passage in about and w.passage not in claim.markers]
                verdict = checker.check(stated, pool)
                if verdict.window is not None:
                    n = verdict.window.passage
                    claim.how, claim.passages, claim.quotes = "attributed", [n], {n: verdict.window.quotes}
                elif found := answer_quotes(claim.text, question, checker, self.options.parts):
                    claim.how = "cited" if set(found) & set(claim.markers) else "attributed"
                    claim.passages, claim.quotes = list(found), found
                else:
                    claim.how = "dropped"
                    continue
            if _echoes_an_instruction(stated, checker, claim.quotes):
                claim.how, claim.passages, claim.quotes = "dropped", [], {}

    def _subjects(self, passages: Sequence[Passage], question: str, known: frozenset[str]) -> list[int]:
        """The passages about what the question asks about (1-based): those that name one of the names it asks
        about (outlets aside: "as reported by TechCrunch" names a source, not a subject), or, when it asks about
        none a passage names, those that hold most of its terms."""
        if not question.strip():
            return list(range(1, len(passages) + 1))
        held = []
        for p in passages:
            found = set(claim_words.words(f"{p.title} {p.text}"))
            held.append(found | {part for w in found if "-" in w for part in w.split("-")})
        outlets = {w for p in passages for w in claim_words.words(p.source or "")}
        named = claim_words.names(question)
        # typed in lower case ("how much did ftx pay tom brady"): the words the passages write as names (`known`)
        named += [(w,) for w in claim_words.words(question) if w in known and not any(w in run for run in named)]
        if named and all(all(w in QUESTION_FILLER or w in outlets for w in run) for run in named):
            return list(range(1, len(passages) + 1))  # "What did TechCrunch and The Verge report?": any subject
        asked = [
            run
            for run in named
            if not all(w in QUESTION_FILLER or w in outlets for w in run)
            and any(run[-1] in h or all(w in h for w in run) for h in held)
        ]
        if asked:
            return [
                n for n, h in enumerate(held, start=1) if any(run[-1] in h or all(w in h for w in run) for run in asked)
            ]
        terms = set(tokenize([question])[0])
        if not terms:
            return list(range(1, len(passages) + 1))
        shown = tokenize([f"{p.title} {p.text}" for p in passages])
        return [
            n
            for n, found in enumerate(shown, start=1)
            if len(terms & set(found)) / len(terms) >= self.options.on_subject
        ]

    def _check_verdicts(
        self, claims: list[Claim], checker: support.Support, passages: Sequence[Passage], question: str
    ) -> None:
        """A yes/no verdict stands only on a reason that states the question's claim and agrees with it. With
        supported reasons beside it (up to the next verdict), the nearest that states the claim (the question's
        words, or words of their relation group) decides: a "Yes" stands when it asserts the claim, a "No" when
        it denies it or states its contrary ("Yes. ... did not ..." is dropped, and so is a "Yes" beside a reason
        that never says what was asked: "Yes. The library extended its opening hours" to "is the library
        closing?"); the reasons, what the passages state, stay. Without a supported reason, the verdict must
        rest on a quote that states the question's claim (for "No": denies it)."""
        asked_negated = claim_words.has_negation(question)
        claim_asked = verdicts.asked(question, checker.known)
        written = [c for c in claims if c.how == "verdict"]
        for i, claim in enumerate(claims):
            if claim.how != "verdict" or (verdict := polarity(claim.text)) is None:
                continue
            after = _until_verdict(claims[i + 1 :])
            before = _until_verdict(claims[:i][::-1])
            reasons = [c for c in after if c.how in {"cited", "attributed"}] or [
                c for c in before if c.how in {"cited", "attributed"}
            ]
            if reasons:
                stances = (
                    verdicts.says(r.text, r.passages, claim_asked, passages, missing_share=_LOOSE) for r in reasons
                )
                said = next((s for s in stances if s is not None), None)
                if said is not None and asked_negated:  # "Did it not ...?" "Yes, it did not ...": the reason negates
                    said = "no" if said == "yes" else "yes"
                if said != verdict:
                    claim.how = "dropped"
                continue
            if not question.strip():
                claim.how = "dropped"
                continue
            # no supported reason: the verdict is the question's claim, asserted or denied, and needs a quote
            bare = Claim(question, claim.markers)
            self._support([bare], checker, passages, "", negated=verdict == "no")
            if bare.how == "dropped":
                claim.how = "dropped"
            else:  # "Yes." alone says little: it is shown with the quote it rests on
                shown = " ".join(next(iter(bare.quotes.values()), []))
                claim.text = f"{verdict.capitalize()}. {shown}".strip()
                claim.how, claim.passages, claim.quotes = bare.how, bare.passages, bare.quotes
        if is_yes_no(question) and not any(polarity(c.text) and c.how != "dropped" for c in written):
            _verdict_from_reason(claims, claim_asked, passages, asked_negated)

    @staticmethod
    def _assemble(claims: list[Claim], verdict_text: list[str], max_sentences: int) -> Attributed:
        counts = SentenceCounts()
        lines: list[str] = []
        quotes: dict[int, list[str]] = {}
        pending: list[str] = []  # verdicts waiting for the sentence that gives their reason
        for claim in claims:
            if claim.how == "decline":
                continue
            if claim.how == "verdict":  # "Yes" written without its stop ("Yes The dam ...") gets one
                pending.append(claim.text if re.search(r"[.!?,;:]$", claim.text) else f"{claim.text}.")
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
            for n, shown_quotes in claim.quotes.items():
                quotes.setdefault(n, [])
                for quote in shown_quotes:
                    if quote not in quotes[n]:
                        quotes[n].append(quote)
            markers = "".join(f"[{n}]" for n in claim.passages)
            shown = " ".join(verdict_text) if verdict_text else claim.text
            lines.append(" ".join([*pending, _with_markers(shown, markers)]))
            pending = []
        if pending and lines:  # a verdict after the last reason: it rests on the same passages
            lines[-1] = f"{lines[-1]} {' '.join(pending)}"
        return Attributed(" ".join(lines), quotes, counts, False)


def _verdict_from_reason(
    claims: list[Claim], claim_asked: verdicts.Asked, passages: Sequence[Passage], asked_negated: bool
) -> None:
    """A yes/no answer whose model wrote no verdict that could stand begins with the one its first supported
    sentence states, when that sentence plainly asserts or denies what was asked ("Yes. Ohtani will not pitch in
    2024" is "No. Ohtani will not pitch in 2024"); otherwise it stays without one."""
    for i, claim in enumerate(claims):
        if claim.how not in {"cited", "attributed"}:
            continue
        said = verdicts.says(claim.text, claim.passages, claim_asked, passages, strict=True)
        if said is not None:
            if asked_negated:
                said = "no" if said == "yes" else "yes"
            claims.insert(i, Claim(f"{said.capitalize()}.", [], how="verdict"))
        return


def _until_verdict(claims: Sequence[Claim]) -> list[Claim]:
    """The claims up to the next verdict (a verdict's reasons, in the order they are read from it)."""
    found = []
    for claim in claims:
        if claim.how == "verdict":
            break
        found.append(claim)
    return found


def _echoes_an_instruction(claim: support.Claim, checker: support.Support, quotes: dict[int, list[str]]) -> bool:
    """A claim that an instruction planted in a passage states at least as fully as its own quote does: what
    the instruction asked for, not what the article reports."""
    planted = [s for s in checker.sentences if s.instruction]
    if not planted or not claim.terms:
        return False
    shown = [s for s in checker.sentences if s.text in {q for qs in quotes.values() for q in qs}]
    own = len(claim.terms & frozenset().union(*(s.terms for s in shown))) if shown else 0
    echoed = max(len(claim.terms & s.terms) for s in planted)
    return echoed >= max(own, 2)


def _echoes_a_title(sentence: str, titles: tuple[str, ...]) -> bool:
    """ "Title (Outlet, 2023-10-05)", '"Title"': a passage's heading, copied from the prompt, not a claim."""
    text = re.sub(r"\s*\([^)]*\)\s*$", "", sentence.strip().lower()).rstrip(".")
    text = text.strip("\"'“”‘’*_ ").rstrip(".").strip()
    return bool(text) and (text in titles or any(text == t.rstrip(".") for t in titles))


def _named_in(verdict: str, checker: support.Support) -> bool:
    """Whether every term of a bare verdict ("Google.") is in a passage sentence that is no instruction."""
    stated = set(tokenize([verdict])[0])
    reported = {t for s in checker.sentences if not s.instruction for t in s.terms}
    return stated <= reported


def _with_markers(sentence: str, markers: str) -> str:
    """The sentence with its markers before its closing punctuation: "It grew [1]."."""
    match = re.search(r"([.!?…:;,]+[\"'”’)]*)$", sentence)
    if match:
        return f"{sentence[: match.start()].rstrip()} {markers}{match.group()}"
    return f"{sentence} {markers}"
