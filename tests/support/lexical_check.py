"""What a clean rebuild of the lexical index gives, to compare with one a history of syncs and kills left."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from retrieval.service import Newsdesk
from retrieval.storage.bm25 import decode_sentences
from retrieval.storage.catch_up import lexical_text
from retrieval.storage.lexical import LexicalStore, Row


def contents(store: LexicalStore) -> dict[str, Any]:
    """Everything the file says, independent of row numbers and term ids: what two files built from the same
    chunks must agree on, whatever order and history built them (used by the crash and property tests)."""
    db = store._db()
    terms = {int(i): str(t) for i, t in db.execute("SELECT id, term FROM vocabulary")}
    chunks: dict[str, Any] = {}
    row_ids: dict[int, str] = {}
    for row, cid, text, meta, length, token_text, blob in db.execute(
        "SELECT c.row, c.id, b.text, c.meta, c.length, b.terms, b.sentences "
        "FROM chunks c JOIN bodies b ON b.row = c.row"
    ):
        row_ids[int(row)] = cid
        ids, which, tf, lengths = decode_sentences(blob)
        sentences = sorted((int(s), terms[int(t)], int(n)) for t, s, n in zip(ids, which, tf, strict=True))
        tokens = sorted(terms[int(t)] for t in token_text.split())
        chunks[cid] = (text, json.loads(meta), int(length), tokens, sentences, lengths.tolist())
    postings: dict[str, list[tuple[str, int]]] = {}
    for term, doc, count in db.execute("SELECT term, doc, count(*) FROM chunk_postings GROUP BY term, doc"):
        postings.setdefault(terms[int(term)], []).append((row_ids.get(int(doc), f"missing row {doc}"), int(count)))
    sentence_df = {terms[int(i)]: int(n) for i, n in db.execute("SELECT id, sentence_df FROM vocabulary") if n}
    return {
        "chunks": chunks,
        "postings": {t: sorted(p) for t, p in postings.items()},
        "sentence_df": sentence_df,
        "stats": store.stats(),
    }


def rebuilt_contents(service: Newsdesk, folder: Path) -> dict[str, Any]:
    """The contents of a lexical file built in one go from what Chroma holds now."""
    fresh = LexicalStore(folder / "rebuilt.sqlite3")
    docs = service.store.documents()
    fresh.write([Row(cid, doc, meta, lexical_text(doc, meta)) for cid, (doc, meta) in sorted(docs.items())])
    try:
        return contents(fresh)
    finally:
        fresh.close()


def assert_lexical_matches_chroma(service: Newsdesk, folder: Path) -> None:
    """The service's lexical file says exactly what a clean rebuild from Chroma says, and is in step."""
    index = service.index
    assert index.file.get("pending") is None
    assert contents(index.file) == rebuilt_contents(service, folder)
    assert set(index.lexical.position) == set(service.store.all_ids())
