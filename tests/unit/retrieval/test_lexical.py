"""The lexical file scores as bm25s did (chunks and best sentences), and an index changed in place says exactly
what one built in one go says."""

from __future__ import annotations

from pathlib import Path
from typing import cast

import bm25s
import numpy as np
import pytest

from retrieval.core.text import sentence_spans, tokenize
from retrieval.core.types import ChunkMeta
from retrieval.storage.lexical import SEPARATOR, LexicalStore, Row
from tests.support.lexical_check import contents

TEXTS = {
    "dam:0": "Valley dam approved\nTest Wire\nOctober 2023" + SEPARATOR + "The regional council approved the "
    "Riverbend dam on Tuesday. Engineers said the reservoir will hold forty million cubic metres of water.",
    "dam:1": "Valley dam approved\nTest Wire\nOctober 2023" + SEPARATOR + "Residents opposed the dam. The dam "
    "will flood two farms, and the council said the farmers would be paid.",
    "chips:0": "Chipmaker unveils XR-7731\nTech Daily\nNovember 2023" + SEPARATOR + "Lumen Semiconductors "
    "unveiled the XR-7731 processor. The chip draws four watts. It targets drones and cameras.",
    "football:0": "Late winner for Rovers\nSports Desk" + SEPARATOR + "Rovers beat United two goals to one with a "
    "header in stoppage time. The goalkeeper was sent off after a handball.",
    "plain": "A chunk without a header: the council met again on Friday about the dam and the farms.",
}
QUESTIONS = ["Did the council approve the Riverbend dam?", "XR-7731 drones chip watts", "dam dam council farms",
             "Which goalkeeper was sent off?", "October 2023 Test Wire"]  # fmt: skip


def build(path: Path, texts: dict[str, str]) -> LexicalStore:
    store = LexicalStore(path)
    store.write([Row(cid, text, {"article_id": cid.split(":")[0]}, text) for cid, text in texts.items()])
    return store


def sentence_docs(text: str) -> list[str]:
    head, sep, body = text.partition(SEPARATOR)
    if not sep:
        head, body = "", head
    return [f"{head}\n{body[s:e]}" for s, e in (sentence_spans(body) or [(0, len(body))])]


@pytest.mark.parametrize("question", QUESTIONS)
def test_scores_are_the_ones_bm25s_gives(tmp_path: Path, question: str) -> None:
    view = build(tmp_path / "lexical.sqlite3", TEXTS).view()
    ids = list(TEXTS)
    rows = np.array([view.position[cid] for cid in ids])
    tokens = tokenize([question])[0]

    chunks = bm25s.BM25()
    chunks.index(tokenize([TEXTS[cid].replace(SEPARATOR, "\n") for cid in ids]), show_progress=False)
    expected = chunks.get_scores(chunks.get_tokens_ids(tokens))
    np.testing.assert_allclose(view.scores(tokens)[rows], expected, rtol=1e-5, atol=1e-6)

    documents = [sentence_docs(TEXTS[cid]) for cid in ids]
    sentences = bm25s.BM25()
    sentences.index(tokenize([s for docs in documents for s in docs]), show_progress=False)
    flat = sentences.get_scores(sentences.get_tokens_ids(tokens))
    starts = np.cumsum([0] + [len(docs) for docs in documents])
    best = [flat[starts[i] : starts[i + 1]].max() for i in range(len(ids))]
    np.testing.assert_allclose(view.sentence_scores(tokens, rows), best, rtol=1e-5, atol=1e-6)


def test_changes_in_place_give_what_a_build_in_one_go_gives(tmp_path: Path) -> None:
    changed = {**TEXTS, "dam:1": TEXTS["dam:1"].replace("two farms", "three farms and a school")}
    del changed["football:0"]
    changed["pier:0"] = "Pier closed\nCoast News" + SEPARATOR + "The pier is closed until June. Divers inspect it."

    store = build(tmp_path / "changed.sqlite3", TEXTS)
    store.write([Row("dam:1", changed["dam:1"], {"article_id": "dam"}, changed["dam:1"])], remove=["football:0"])
    store.write([Row("pier:0", changed["pier:0"], {"article_id": "pier"}, changed["pier:0"])])
    once = build(tmp_path / "once.sqlite3", changed)

    assert contents(store) == contents(once)
    view, fresh = store.view(), once.view()
    for question in QUESTIONS:
        tokens = tokenize([question])[0]
        got = {cid: view.scores(tokens)[row] for cid, row in view.position.items()}
        want = {cid: fresh.scores(tokens)[row] for cid, row in fresh.position.items()}
        assert got.keys() == want.keys()
        np.testing.assert_allclose([got[c] for c in want], list(want.values()), rtol=1e-6)
    assert "football:0" not in view.position and view.ids.count(None) >= 1  # rows are never reused


def test_a_view_taken_before_a_write_ignores_what_the_write_added(tmp_path: Path) -> None:
    store = build(tmp_path / "lexical.sqlite3", {k: v for k, v in TEXTS.items() if k != "chips:0"})
    before = store.view()
    store.write([Row("chips:0", TEXTS["chips:0"], {"article_id": "chips"}, TEXTS["chips:0"])])
    assert before.search("XR-7731", 3) == []
    assert [cid for cid, _ in store.view().search("XR-7731", 3)] == ["chips:0"]


def test_a_sync_reads_what_it_touches_and_every_article_that_is_not_whole(tmp_path: Path) -> None:
    """sync_metadata finds, through the file's indexes, the asked articles, the holders of a text, the articles
    under a pruned folder and every half-written one; whole articles nobody asked about are not read."""

    def chunks(
        aid: str, version: str, indices: list[int], n: int, text: str = "t", root: str = "/a", **more: str
    ) -> list[Row]:
        given: dict[str, object] = {
            "content_hash": version, "n_chunks": n, "text_hash": text, "origin_root": root, "story_id": aid, **more
        }
        meta = cast(ChunkMeta, {k: v for k, v in given.items() if v})
        return [
            Row(f"{aid}:{i}:{version}", "body", cast(ChunkMeta, {**meta, "article_id": aid, "index": i}), "body")
            for i in indices
        ]

    store = LexicalStore(tmp_path / "lexical.sqlite3")
    store.write([
        *chunks("whole", "v1", [0, 1], 2), *chunks("asked", "v1", [0], 1), *chunks("twin", "v1", [0, 1], 2, "same"),
        *chunks("pruned", "v1", [0], 1, root="/gone"), *chunks("two-versions", "v1", [0, 1], 2),
        *chunks("two-versions", "v2", [0, 1], 2), *chunks("missing-one", "v1", [0, 2], 3),
        *chunks("repeated-index", "v1", [0], 3), *chunks("repeated-index", "v2", [0, 2], 3),
        *chunks("unlabelled", "v1", [0], 1, story_id=""), *chunks("newer", "v1", [0], 1, replaces="older"),
        *chunks("older", "v1", [0], 1), *chunks("other", "v1", [0], 1),
    ])  # fmt: skip
    found = store.sync_metadata(["asked", "not-indexed"], ["same"], ["/gone"])
    articles = {meta["article_id"] for meta in found.values()}
    always = {"two-versions", "missing-one", "repeated-index", "unlabelled", "newer", "older"}
    assert articles == {"asked", "twin", "pruned", *always}
    assert len(found) == 1 + 2 + 1 + 4 + 2 + 3 + 3  # every chunk of each
    assert found["twin:1:v1"] == {"article_id": "twin", "index": 1, "n_chunks": 2, "content_hash": "v1",
                                  "text_hash": "same", "origin_root": "/a", "story_id": "twin"}  # fmt: skip
    assert {meta["article_id"] for meta in store.sync_metadata([], []).values()} == always


def test_the_sentence_cache_is_bounded_by_its_entries(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import retrieval.storage.lexical as lexical

    store = build(tmp_path / "lexical.sqlite3", TEXTS)
    view = store.view()
    rows = [view.position[cid] for cid in TEXTS]
    sizes = [len(f[0]) for f in store.sentence_terms(rows) if f is not None]
    assert store._sentences_size == sum(sizes)
    monkeypatch.setattr(lexical, "SENTENCE_CACHE_ENTRIES", max(sizes) + 1)
    fresh = LexicalStore(tmp_path / "lexical.sqlite3")
    assert [len(f[0]) for f in fresh.sentence_terms(rows) if f is not None] == sizes  # answers stay whole
    assert fresh._sentences_size <= max(sizes) + 1 and len(fresh._sentences) < len(rows)
