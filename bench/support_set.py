"""Builds bench/support_pairs.json: sentence-quote pairs labelled "supported" or not, for bench/support.py.

Each pair is a claim (a sentence an answer might carry), the question it answers, and the passage it is
checked against: a stretch of five sentences of a benchmark article (MultiHop-RAG, found by url and the
index of its middle sentence; the article text itself is not stored here). Kinds:

- from the benchmark's evidence sentences (`--data`), made deterministically (seed 0):
  - `said` (supported): "..., James said." written the way models restate it: "James said that ...";
  - `clause` (supported): the sentence's main clause, as a model shortens it ("X did Y, which ..." -> "X did Y");
  - `attributed` (supported): "According to <outlet>, ..." or "<outlet> reported that ...";
  - `swap` (not): two names of the sentence swapped ("Google sued Microsoft" -> "Microsoft sued Google");
  - `negation` (not): a negation added to, or taken from, the sentence's first auxiliary;
  - `number` (not): one of its numbers changed;
  - `name` (not): one of its names replaced by a name from another article's evidence;
  - `other_article` (not): the most similar sentence of another story's article (same category, little shared
    text), checked against this passage;
- `HAND` below: pairs written and labelled by hand: model-style paraphrases and natural questions (supported),
  and plausible sentences a quote does not state (a name or number the quote lacks, the wrong party, a
  contradicted or unrelated statement); `real` marks sentences a real model (Qwen2.5-Coder-1.5B) wrote,
  from bench/results and the issues' reports, over the small corpus of the tests (`passage` given inline);
- `REAL` (bench/support_real.json): every sentence the 1.5B model wrote with a marker, in its answers to the
  third and fourth natural sets and the yes/no questions of the first two (116 pairs), each against the
  passage its marker names (the benchmark article's url and the character span the model was shown),
  labelled by a helper that read only the model's text and the passage, never what the checker did.

Usage: python bench/support_set.py [--data /path/to/multihop-rag] [--out bench/support_pairs.json]
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.common import MULTIHOP  # noqa: E402
from retrieval.core.text import (  # noqa: E402
    NOT_NAMES,  # noqa: E402
    sentence_spans,
    tokenize,
)

CONTEXT = 2  # sentences either side of the middle one
REAL = Path(__file__).with_name("support_real.json")
PER_KIND = 45

_NAME_RUN = re.compile(r"(?<![.!?]\s)(?<!^)\b[A-Z][\w'’&.-]*(?:\s+(?:of\s+)?[A-Z][\w'’&.-]*)*")
_AUX = re.compile(r"\b(is|are|was|were|has|have|had|will|would|can|could|should|does|do|did)\b(?!\s+not\b|n['’]t)")
_NOT = re.compile(r"\s+not\b|n['’]t\b")
_NUM = re.compile(r"\d[\d,.]*\d|\d")
_SAID = re.compile(
    r"^[\"“]?(?P<body>.{30,}?)[,.]?[\"”]?,?\s+(?P<who>(?:[A-Z][\w'’.-]*\s?){1,4}|he|she|they)\s+"
    r"(?P<verb>said|says|added|wrote)\.?$"
)
_CLAUSE = re.compile(r",\s+(?:which|who|while|as|according|adding|saying|although|though|where|but)\b|\s+[—–]\s+")


def sentences_of(body: str) -> list[str]:
    return [body[s:e] for s, e in sentence_spans(body) if e - s >= 12]


def names_in(sentence: str) -> list[str]:
    found = []
    for match in _NAME_RUN.finditer(sentence):
        name = match.group().strip()
        if name.split()[0].lower() not in NOT_NAMES and len(name) > 2:
            found.append(name)
    return found


def _lower_first(text: str) -> str:
    first = text.split(" ", 1)[0]
    if first in {"The", "A", "An", "It", "In", "This", "That", "These", "Its", "Their", "His", "Her", "There"}:
        return text[0].lower() + text[1:]
    return text


def mutate_swap(sentence: str, rng: random.Random) -> str | None:
    found = list(dict.fromkeys(names_in(sentence)))
    pairs = [(a, b) for i, a in enumerate(found) for b in found[i + 1 :] if a not in b and b not in a]
    rng.shuffle(pairs)
    for a, b in pairs:
        ia, ib = sentence.find(a), sentence.find(b)
        between = sentence[min(ia, ib) : max(ia, ib)]
        if len(tokenize([between])[0]) < 1 or " and " in between[-6:] or between.strip().endswith(","):
            continue
        swapped = sentence.replace(a, "\0").replace(b, a).replace("\0", b)
        if swapped != sentence:
            return swapped
    return None


def mutate_negation(sentence: str) -> str | None:
    if _NOT.search(sentence):
        flipped = _NOT.sub("", sentence, count=1)
        return flipped.replace("ca ", "can ").replace("wo ", "will ")
    match = _AUX.search(sentence)
    if match is None:
        return None
    return sentence[: match.end()] + " not" + sentence[match.end() :]


def mutate_number(sentence: str, rng: random.Random) -> str | None:
    found = list(_NUM.finditer(sentence))
    if not found:
        return None
    match = rng.choice(found)
    digits = match.group()
    first = next(i for i, ch in enumerate(digits) if ch.isdigit())
    d = int(digits[first])
    new = str((d + rng.choice([2, 3, 4])) % 10 or 7)
    return sentence[: match.start()] + digits[:first] + new + digits[first + 1 :] + sentence[match.end() :]


def main_clause(sentence: str) -> str | None:
    match = _CLAUSE.search(sentence)
    if match is None:
        return None
    head = sentence[: match.start()].strip()
    if len(head.split()) < 7 or head.count('"') % 2 or head.count("“") != head.count("”"):
        return None
    return head.rstrip(",;:") + "."


def said_form(sentence: str) -> str | None:
    match = _SAID.match(sentence.strip())
    if match is None:
        return None
    body = match.group("body").strip().strip('"“”').rstrip(",.")
    who = match.group("who").strip()
    return f"{who[0].upper() + who[1:]} {match.group('verb')} that {_lower_first(body)}."


def build(data: Path) -> list[dict[str, Any]]:
    corpus = json.loads((data / "corpus.json").read_text())
    queries = json.loads((data / "queries-dev.json").read_text())
    articles = {a["url"]: a for a in corpus}
    sentences = {a["url"]: sentences_of(a["body"]) for a in corpus}
    terms = {url: [frozenset(t) for t in tokenize(found)] for url, found in sentences.items()}
    body_terms = {url: frozenset().union(*found) if found else frozenset() for url, found in terms.items()}
    rng = random.Random(0)
    evidence: list[tuple[dict[str, Any], str, int]] = []  # (query, url, sentence index)
    seen: set[tuple[str, int]] = set()
    for query in queries:
        if query["question_type"] == "null_query":
            continue
        for fact in query["evidence_list"]:
            url = fact["url"]
            if url not in sentences:
                continue
            head = fact["fact"][:40]
            index = next((i for i, s in enumerate(sentences[url]) if head in s), None)
            if index is None or (url, index) in seen:
                continue
            seen.add((url, index))
            evidence.append((query, url, index))
    rng.shuffle(evidence)
    other_names = [n for _, url, i in evidence for n in names_in(sentences[url][i])]
    pairs: list[dict[str, Any]] = []
    counts: dict[str, int] = {}

    def add(kind: str, label: bool, query: dict[str, Any], url: str, index: int, claim: str) -> None:
        if counts.get(kind, 0) >= PER_KIND or not claim or len(claim.split()) < 5:
            return
        counts[kind] = counts.get(kind, 0) + 1
        pairs.append(
            {
                "kind": kind,
                "supported": label,
                "question": query["query"],
                "claim": " ".join(claim.split()),
                "url": url,
                "sentence": index,
            }
        )

    for n, (query, url, index) in enumerate(evidence):
        sentence = sentences[url][index]
        if len(sentence) > 400:
            continue
        source = articles[url]["source"]
        turn = n % 4
        if turn == 0 and (said := said_form(sentence)):
            add("said", True, query, url, index, said)
        elif turn == 1 and (clause := main_clause(sentence)):
            add("clause", True, query, url, index, clause)
        elif turn == 2:
            if n % 8 < 4:
                add("attributed", True, query, url, index, f"According to {source}, {_lower_first(sentence)}")
            else:
                add("attributed", True, query, url, index, f"{source} reported that {_lower_first(sentence)}")
        kind = ["swap", "negation", "number", "name", "other_article"][n % 5]
        if kind == "swap" and (swapped := mutate_swap(sentence, rng)):
            add("swap", False, query, url, index, swapped)
        elif kind == "negation" and (negated := mutate_negation(sentence)):
            add("negation", False, query, url, index, negated)
        elif kind == "number" and (changed := mutate_number(sentence, rng)):
            add("number", False, query, url, index, changed)
        elif kind == "name" and (found := names_in(sentence)):
            old = rng.choice(found)
            new = rng.choice([x for x in other_names if x != old and old not in x and x not in old])
            add("name", False, query, url, index, sentence.replace(old, new, 1))
        elif kind == "other_article":
            mine = terms[url][index]
            best, best_score = None, 0.0
            category = articles[url]["category"]
            for other, other_terms in terms.items():
                if other == url or articles[other]["category"] != category:
                    continue
                shared = len(body_terms[url] & body_terms[other]) / max(1, len(body_terms[url] | body_terms[other]))
                if shared > 0.2:  # another outlet's copy of the same story may state the same fact
                    continue
                for j, t in enumerate(other_terms):
                    score = len(mine & t) / max(1, len(mine | t))
                    if best_score < score < 0.5 and len(sentences[other][j]) < 300:
                        best, best_score = sentences[other][j], score
            if best is not None and best_score >= 0.12:
                add("other_article", False, query, url, index, best)
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=MULTIHOP)
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("support_pairs.json"))
    args = parser.parse_args()
    from bench.support_hand import HAND

    made = build(args.data)
    corpus = json.loads((args.data / "corpus.json").read_text())
    hand = []
    for pair in HAND:
        if "find" in pair:  # the benchmark sentence holding `find`: its article and place
            found = [(a["url"], i) for a in corpus for i, s in enumerate(sentences_of(a["body"])) if pair["find"] in s]
            if len(found) != 1:
                raise SystemExit(f"{pair['find']!r} names {len(found)} sentences, not one")
            pair = {k: v for k, v in pair.items() if k != "find"} | {"url": found[0][0], "sentence": found[0][1]}
        hand.append(pair)
    real = json.loads(REAL.read_text())
    pairs = [{"id": i, **p} for i, p in enumerate([*made, *hand, *real])]
    args.out.write_text(json.dumps(pairs, indent=1, ensure_ascii=False) + "\n")
    kinds: dict[str, list[int]] = {}
    for p in pairs:
        kinds.setdefault(p["kind"], [0, 0])[p["supported"]] += 1
    print(json.dumps({"pairs": len(pairs), "kinds (not, supported)": kinds}))


if __name__ == "__main__":
    main()
