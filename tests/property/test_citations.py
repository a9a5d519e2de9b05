"""Property: whatever marker soup a writer produces, what leaves check() passes the citation check."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from retrieval.answer.citations import MARKER, check, problems
from retrieval.core.types import Answer, Passage

words = st.text(alphabet="abc XYZ.,;!?\n\t0123456789[]", max_size=12)
numbers = st.integers(min_value=-3, max_value=12).map(str) | st.text(alphabet="0123456789 ", min_size=1, max_size=8)
marker = st.builds(lambda n: f"[{n}]", numbers)
group = st.lists(numbers, min_size=2, max_size=4).map(lambda ns: "[" + ", ".join(ns) + "]")
soup = st.lists(st.one_of(words, marker, group, st.sampled_from(["[", "]", "[[", "]]", ",", " "])), max_size=40).map(
    "".join
)
sentence = st.text(alphabet="abcdefgh XYZ,", min_size=1, max_size=30).filter(str.strip)
passage_texts = st.lists(st.lists(sentence, min_size=1, max_size=4).map(". ".join), min_size=0, max_size=6)


def to_passages(texts: list[str]) -> list[Passage]:
    return [Passage(chunk_id=f"c{i}", article_id=f"a{i % 3}", title=f"T{i}", text=t) for i, t in enumerate(texts)]


@settings(max_examples=400, deadline=None)
@given(text=soup, texts=passage_texts, quotes=st.dictionaries(st.integers(0, 8), st.text(max_size=20), max_size=4))
def test_checked_answers_always_pass(text: str, texts: list[str], quotes: dict[int, str]) -> None:
    passages = to_passages(texts)
    checked, cited = check(text, passages, quotes)
    answer = Answer(answer=checked, abstained=False, citations=cited)
    assert problems(answer, passages) == []
    used = [int(m.group(1)) for m in MARKER.finditer(checked)]
    assert sorted(set(used)) == list(range(1, len(cited) + 1))
    assert all(1 <= n <= len(passages) for n in used)
    for c in cited:
        assert any(c.quote in p.text and c.article_id == p.article_id for p in passages)


@settings(max_examples=200, deadline=None)
@given(text=soup, texts=passage_texts)
def test_check_is_idempotent(text: str, texts: list[str]) -> None:
    passages = to_passages(texts)
    once, cited = check(text, passages)
    # checked text, given exactly the cited passages in their new order, comes back unchanged
    reordered = [next(p for p in passages if p.article_id == c.article_id and c.quote in p.text) for c in cited]
    twice, again = check(once, reordered)
    assert twice == once
    assert [c.n for c in again] == [c.n for c in cited]
    assert not re.search(r"\[\s*0+\s*\]", once)
