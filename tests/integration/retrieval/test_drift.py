"""Content drift (issue 25, item 13): a same-length edit to a stored chunk's text or source passes SQLite's page
check; a full sync (a re-index, `ingest corpus --prune`) finds it by the text digest in every chunk id and by
comparing the lexical file with Chroma, and repairs it."""

from __future__ import annotations

import json
import sqlite3

import pytest

from retrieval.core.types import Question
from retrieval.service import Newsdesk
from tests.conftest import CORPUS, SEED_QUESTION
from tests.support.inside import chunk_texts, forget_cached_passages, lexical_file, lexical_path

pytestmark = pytest.mark.integration


def test_a_same_length_edit_to_stored_text_or_source_is_repaired_by_a_full_sync(seed_service: Newsdesk) -> None:
    service = seed_service
    before = service.ask(Question(question=SEED_QUESTION))
    assert "300,000" in before.citations[0].quote
    cid = next(c for c, t in chunk_texts(service).items() if "300,000" in t)
    with sqlite3.connect(lexical_path(service)) as db:  # another hand on the file, as an attacker's or a bad disk's
        (row, meta) = db.execute("SELECT row, meta FROM chunks WHERE id = ?", (cid,)).fetchone()
        db.execute("UPDATE bodies SET text = replace(text, '300,000', '900,000') WHERE row = ?", (row,))
        edited = {**json.loads(meta), "source": "Reuterz"}
        db.execute("UPDATE chunks SET meta = ?, source = 'Reuterz' WHERE row = ?", (json.dumps(edited), row))
    assert lexical_file(service).check() is None  # the page check passes
    forget_cached_passages(service)  # what a new process would read
    assert "900,000" in (lexical_file(service).text(cid) or "")

    report = service.ingest([str(CORPUS)], prune=True)
    assert not report.added and not report.failed, report
    assert lexical_file(service).text(cid) is not None and "300,000" in (lexical_file(service).text(cid) or "")
    after = service.ask(Question(question=SEED_QUESTION))
    assert "300,000" in after.citations[0].quote and "900,000" not in after.answer
    assert after.citations[0].source != "Reuterz"
