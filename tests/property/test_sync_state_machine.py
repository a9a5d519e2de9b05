"""A Hypothesis state machine drives add / change / delete / re-ingest against a real index.

Invariants after every step: no duplicate chunk, nothing stale retrievable, counts match, the BM25
index holds exactly the chunks Chroma holds and says what a clean rebuild of it says, and every article's
chunks carry one story id.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from retrieval.core.config import Settings
from retrieval.embed.embedder import OnnxEmbedder
from retrieval.service import Newsdesk
from tests.support.inside import (
    chroma_count,
    chroma_documents,
    chroma_metadata,
    chunk_metadata,
    chunk_texts,
    manifest,
    searchable_ids,
)
from tests.support.lexical_check import assert_lexical_matches_chroma

WORDS = ["harbour", "strike", "election", "vaccine", "rocket", "merger", "drought", "festival", "tariff", "bridge"]
NAMES = [f"story-{i}" for i in range(6)]

_embedder: OnnxEmbedder | None = None


def shared_embedder() -> OnnxEmbedder:
    global _embedder
    if _embedder is None:
        cache = Path(tempfile.gettempdir()) / "newsdesk-test-model-cache"
        _embedder = OnnxEmbedder(cache)
    return _embedder


bodies = st.lists(st.sampled_from(WORDS), min_size=3, max_size=8).map(
    lambda words: " ".join(f"The {w} report number {i} was filed today." for i, w in enumerate(words))
)


class SyncMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.work = Path(tempfile.mkdtemp(prefix="newsdesk-sync-sm-"))
        self.corpus = self.work / "corpus"
        self.corpus.mkdir()
        self.files: dict[str, str] = {}  # file name -> body
        self.service = Newsdesk(
            Settings(data_dir=self.work / "data", model_cache_dir=self.work / "unused"), embedder=shared_embedder()
        )

    def teardown(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)

    def _write(self, name: str, body: str) -> None:
        (self.corpus / f"{name}.md").write_text(f"---\ntitle: {name}\n---\n{body}\n")
        self.files[name] = body

    @rule(name=st.sampled_from(NAMES), body=bodies)
    def add_or_change(self, name: str, body: str) -> None:
        self._write(name, body)

    @precondition(lambda self: bool(self.files))
    @rule(data=st.data())
    def delete(self, data: st.DataObject) -> None:
        name = data.draw(st.sampled_from(sorted(self.files)))
        (self.corpus / f"{name}.md").unlink()
        del self.files[name]

    @rule()
    def sync(self) -> None:
        report = self.service.ingest([str(self.corpus)], prune=True)
        assert not report.failed

    @rule()
    def sync_twice_is_idempotent(self) -> None:
        self.service.ingest([str(self.corpus)], prune=True)
        before = chroma_documents(self.service)
        report = self.service.ingest([str(self.corpus)], prune=True)
        assert report.chunks_embedded == 0 and not report.added and not report.updated and not report.removed
        assert chroma_documents(self.service) == before

    @invariant()
    def index_matches_last_sync(self) -> None:
        docs = chroma_documents(self.service)
        ids = list(docs)
        assert len(ids) == len(set(ids))
        indexed_now = manifest(self.service)
        assert all(a.complete for a in indexed_now.articles.values())
        assert set(chunk_texts(self.service)) == set(docs)
        assert searchable_ids(self.service) == set(docs)
        assert chroma_count(self.service) == len(docs)
        # every chunk carries its article's story id, the same for all of an article's chunks
        metadata = chroma_metadata(self.service)
        for indexed in indexed_now.articles.values():
            assert len({str(metadata[cid].get("story_id")) for cid in indexed.chunks}) == 1
            assert all(metadata[cid].get("story_id") for cid in indexed.chunks)

    @rule()
    def synced_state_is_exactly_the_corpus(self) -> None:
        self.service.ingest([str(self.corpus)], prune=True)
        distinct = {body.lower(): body for body in self.files.values()}  # the same text twice counts once
        articles: dict[str, list[str]] = {}
        for cid, text in chunk_texts(self.service).items():
            articles.setdefault(str(chunk_metadata(self.service)[cid]["article_id"]), []).append(text)
        assert len(articles) == len(distinct)
        matched = set()
        for texts in articles.values():
            # nothing stale: every chunk of an indexed article is a slice of one current body
            owners = {key for key, body in distinct.items() if all(t in body for t in texts)}
            assert owners, "an indexed chunk matches no current file"
            matched |= owners
        assert matched == set(distinct)

    @rule()
    def lexical_file_is_what_a_clean_rebuild_gives(self) -> None:
        """Updated in place through every add, change and delete, the lexical file says exactly what one built
        in one go from Chroma says: same chunks, postings, sentence statistics and BM25 totals."""
        self.service.ingest([str(self.corpus)], prune=True)
        scratch = Path(tempfile.mkdtemp(dir=self.work))
        assert_lexical_matches_chroma(self.service, scratch)


TestSync = SyncMachine.TestCase
TestSync.settings = settings(
    max_examples=12, stateful_step_count=12, deadline=None, database=None,
    suppress_health_check=[HealthCheck.too_slow],
)  # fmt: skip
