"""Ingest is a sync: add new articles, replace changed ones, skip unchanged ones, remove pruned ones.

Crash safety comes from the order of writes and from ids that depend on content: a changed article's new
chunks are written before its old ones are deleted, and every chunk records its article's content hash and
chunk count. After a crash, an article whose chunks are not exactly one whole version is simply redone
(upserts of the same ids are idempotent), so the next run always ends where one clean run would.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Iterable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from retrieval.core import dates
from retrieval.core.errors import StorageError
from retrieval.core.types import Article, Chunk, ChunkMeta, Failure, IngestReport, Progress
from retrieval.embed.embedder import Embedder
from retrieval.ingest.chunking import chunk_article
from retrieval.ingest.sources import normalise_url, text_hash
from retrieval.storage import provenance, stories
from retrieval.storage.index import Index
from retrieval.storage.manifest import IndexedArticle, Manifest

log = logging.getLogger(__name__)




@dataclass(frozen=True)
class ChunkingOptions:
    max_tokens: int = 256
    overlap_sentences: int = 1
    batch_articles: int = 32  # articles embedded and written together


def content_hash(article: Article) -> str:
    fields = [article.title, article.body, article.source, article.url, article.published_at, article.author,
              article.category, article.origin_root]  # fmt: skip
    return hashlib.sha1("\x1f".join(f or "" for f in fields).encode()).hexdigest()[:16]


def chunk_metadata(article: Article, chunk: Chunk, n_chunks: int, c_hash: str, t_hash: str) -> ChunkMeta:
    return {
        "article_id": article.id,
        "index": chunk.index,
        "n_chunks": n_chunks,
        "content_hash": c_hash,
        "text_hash": t_hash,
        "title": article.title,
        "source": article.source,
        "url": article.url,
        "published_at": article.published_at,
        "published_day": dates.day_number(article.published_at),
        "author": article.author,
        "category": article.category,
        "origin": article.origin,
        "origin_root": article.origin_root,
        "feed": article.feed,
    }


def _named(article: Article) -> str:
    """How a report names an article: its title and where it came from (an API batch has no file names)."""
    return f'"{article.title}" ({article.origin})'


def _count(written: list[tuple[Article, str, str]], manifest: Manifest, report: IngestReport) -> None:
    for article, _, _ in written:
        (report.updated if article.id in manifest else report.added).append(article.id)


def repairs_articles(repairs: set[str], manifest: Manifest) -> set[str]:
    """The articles whose stray chunks a repair removes."""
    return {str(m.get("article_id")) for a in manifest.articles.values() for c, m in a.chunks.items() if c in repairs}


@dataclass(frozen=True)
class _Label:
    """What a sync adds to an article's chunks about its story."""

    story_id: str
    minhash: str | None = None  # first chunk only
    replaces: str = ""  # first chunk only: the ids of the older versions it replaces, comma-separated


def _same_version(newer: ChunkMeta, older: ChunkMeta) -> bool:
    """Whether an indexed article is still the near-identical older version another one says it replaces (a
    file rewritten since with other text is not)."""
    a, b = (stories.decode(str(m.get("minhash") or "")) for m in (newer, older))
    return a is not None and b is not None and float(a.jaccard(b)) >= stories.SAME_VERSION_SIMILARITY


def _texts_of(texts: Mapping[str, str], ids: list[str]) -> list[str | None]:
    return [texts.get(cid) for cid in ids]


class PartlySaved(StorageError):
    """A sync stopped by a full or read-only disk; `report` holds what it saved before that."""

    def __init__(self, cause: StorageError, report: IngestReport, to_write: int) -> None:
        saved = report.added + report.updated
        listed = f" ({', '.join(saved[:10])}{', ...' if len(saved) > 10 else ''})" if saved else ""
        message = (
            f"{cause.message.rstrip('.')}. {len(saved)} of {to_write} articles were saved before that{listed}; "
            f"the other {to_write - len(saved)} were not"
        )
        if report.removed:
            message += f"; {len(report.removed)} removed"
        super().__init__(message)
        self.report = report


class Syncer:
    """`write_lock` is held for each change to the index (a batch, the removals, the commit), not for the whole
    sync: reading sources and embedding happen outside it, so a delete waits for one batch, not a re-index.
    The caller runs one sync at a time."""

    def __init__(
        self,
        index: Index,
        embedder: Embedder,
        options: ChunkingOptions | None = None,
        write_lock: AbstractContextManager[Any] | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.options = options or ChunkingOptions()
        self.write_lock: AbstractContextManager[Any] = write_lock if write_lock is not None else threading.Lock()
        self._labels: dict[str, _Label] = {}  # article id -> its story, for this sync's writes

    def sync(
        self,
        items: Iterable[Article | Failure],
        prune_roots: Iterable[str] = (),
        progress: Progress | None = None,
    ) -> IngestReport:
        start = time.perf_counter()
        report = IngestReport()
        incoming = self._collect(items, report)
        prune = {str(r) for r in prune_roots}
        drift = (0, 0)
        if prune:  # a full sync (a re-index, `ingest corpus --prune`): chunks edited in place are repaired
            with self.write_lock:
                drift = self.index.repair_drift()
        with self.write_lock:  # the articles this sync touches, duplicates of their texts, what it may prune or repair
            manifest = self.index.sync_view(incoming, {text_hash(a.body) for a in incoming.values()}, prune)

        failed_origins = {f.origin.split("#")[0] for f in report.failed}
        to_remove = self._pruned(manifest, incoming, prune, failed_origins)
        repairs = self._repair_plan(manifest, incoming, to_remove)

        to_index, displaced = self._admit(incoming, manifest, to_remove, report)
        to_index, superseded, relabel = self._place_stories(
            manifest, to_index, to_remove | displaced | repairs_articles(repairs, manifest), report
        )
        superseded |= displaced - {a.id for a, _, _ in to_index}

        self._write(to_index, to_remove, repairs, manifest, report, progress, superseded, relabel, any(drift))
        report.seconds = round(time.perf_counter() - start, 3)
        log.info("sync done: %s, %d chunks embedded in %.1fs", report.summary(), report.chunks_embedded, report.seconds)
        return report

    def _admit(
        self, incoming: dict[str, Article], manifest: Manifest, to_remove: set[str], report: IngestReport
    ) -> tuple[list[tuple[Article, str, str]], set[str]]:
        """The incoming articles to write, with their content and text hashes, and the outside copies of a local
        article's text that it replaces; the unchanged ones, and those provenance or a duplicate text keeps
        out, are reported."""
        kept_text = {a.text_hash: a.id for a in manifest.articles.values() if a.complete and a.id not in to_remove}
        to_index: list[tuple[Article, str, str]] = []
        displaced: set[str] = set()  # outside copies of a local article's text, which the local one replaces
        for article in incoming.values():
            c_hash, t_hash = content_hash(article), text_hash(article.body)
            known = manifest.get(article.id)
            if known is not None and known.content_hash == c_hash:
                report.skipped.append(article.id)
                continue
            mine = provenance.of(article)
            if known is not None and known.chunks and not provenance.may_replace(known.first, mine, same_id=True):
                report.duplicates.append(
                    f"{_named(article)} has the id of the indexed article {article.id} from "
                    f"{provenance.describe(known.first)}, which it may not replace: skipped"
                )
                continue
            twin = kept_text.get(t_hash)
            if twin is not None and twin != article.id:
                first = manifest.articles[twin].first
                if provenance.outside(first) and not provenance.outside(mine):
                    displaced.add(twin)
                    report.duplicates.append(
                        f"{_named(article)} has the same text as the indexed article {twin} from "
                        f"{provenance.describe(first)}: the local article replaces it"
                    )
                else:
                    report.duplicates.append(
                        f"{_named(article)} has the same text as the indexed article {twin}: skipped"
                    )
                    continue
            to_index.append((article, c_hash, t_hash))
        return to_index, displaced

    def _write(
        self,
        to_index: list[tuple[Article, str, str]],
        to_remove: set[str],
        repairs: set[str],
        manifest: Manifest,
        report: IngestReport,
        progress: Progress | None,
        superseded: set[str],
        relabel: dict[str, ChunkMeta],
        drifted: bool,
    ) -> None:
        """Labels, new versions, removals, then what they supersede, then the commit; a full disk part-way
        commits what was written and raises PartlySaved."""
        try:
            if relabel:
                with self.write_lock:
                    self.index.relabel(relabel)
            self._apply(to_index, to_remove, repairs, manifest, report, progress)
            if superseded:  # after the new versions are written: a crash before this leaves both, repaired next run
                with self.write_lock:
                    self.index.remove([cid for aid in sorted(superseded) for cid in manifest.articles[aid].chunks])
                report.removed.extend(sorted(superseded))
        except StorageError as exc:
            # the disk filled part-way: what was written is kept, searchable, and reported as it is
            if report.added or report.updated or report.removed or repairs:
                with self.write_lock:
                    self.index.commit()
            raise PartlySaved(exc, report, len(to_index)) from exc
        if to_index or to_remove or repairs or superseded or relabel or drifted:
            with self.write_lock:
                self.index.commit()

    def _place_stories(
        self,
        manifest: Manifest,
        to_index: list[tuple[Article, str, str]],
        leaving: set[str],
        report: IngestReport,
    ) -> tuple[list[tuple[Article, str, str]], set[str], dict[str, ChunkMeta]]:
        """Story ids for the articles to write (kept in self._labels for their chunks' metadata); the indexed
        articles a newer version from the same outlet replaces; and new metadata for indexed chunks that have
        no story yet (an index built before stories: labelled in publication order, as if ingested so).

        Indexed articles are found through the lexical file's LSH table, so a sync reads the signatures of the
        few candidates of what it writes, not the archive's."""
        writing = {a.id for a, _, _ in to_index}
        found = stories.Stories(indexed=self.index.story_members)
        unlabelled, superseded = self._indexed_stories(manifest, found, leaving, writing)
        relabel = self._label_indexed(manifest, found, unlabelled)
        kept = self._place_new(manifest, found, to_index, superseded, report)
        superseded -= {a.id for a, _, _ in kept}
        return kept, superseded, {c: m for c, m in relabel.items() if m.get("article_id") not in superseded}

    def _indexed_stories(
        self, manifest: Manifest, found: stories.Stories, leaving: set[str], writing: set[str]
    ) -> tuple[list[stories.Member], set[str]]:
        """The indexed articles that stay, read for stories: those without a story yet, and those a replacement
        that a crash did not finish supersedes (both forgotten by `found`, as the articles that leave are)."""
        unlabelled: list[stories.Member] = []
        superseded: set[str] = set()
        texts = self.index.snapshot()[0]
        for aid, indexed in manifest.articles.items():
            if aid in leaving or aid in writing or not indexed.complete:
                found.forget(aid)
                continue
            first = indexed.first
            if "story_id" not in first:
                ordered = sorted(indexed.chunks.items(), key=lambda kv: int(kv[1].get("index", 0)))
                ids = [cid for cid, _ in ordered]
                metas = [meta for _, meta in ordered]
                unlabelled.append(stories.member_from_chunks(aid, metas, partial(_texts_of, texts, ids)))
            for old in str(first.get("replaces") or "").split(","):  # a replacement a crash did not finish
                if old in manifest and old not in writing and _same_version(first, manifest.articles[old].first):
                    superseded.add(old)
        for old in superseded:
            found.forget(old)
        return unlabelled, superseded

    @staticmethod
    def _label_indexed(
        manifest: Manifest, found: stories.Stories, unlabelled: list[stories.Member]
    ) -> dict[str, ChunkMeta]:
        """Story labels for indexed chunks that have none, placed in publication order."""
        relabel: dict[str, ChunkMeta] = {}
        for member in sorted(unlabelled, key=lambda m: (dates.order_key(m.published_at), m.article_id)):
            placed = found.place(
                member.article_id,
                member.source,
                member.published_at,
                member.minhash,
                member.title,
                member.url,
                member.origin or None,
            )
            member.story_id = placed.story_id
            found.add(member)
            chunks = manifest.articles[member.article_id].chunks
            for cid, meta in chunks.items():
                label: ChunkMeta = {"story_id": placed.story_id}
                if int(meta.get("index", 0)) == 0 and member.minhash is not None:
                    label["minhash"] = stories.encode(member.minhash)
                relabel[cid] = {**label, "article_id": member.article_id}
        return relabel

    def _place_new(
        self,
        manifest: Manifest,
        found: stories.Stories,
        to_index: list[tuple[Article, str, str]],
        superseded: set[str],
        report: IngestReport,
    ) -> list[tuple[Article, str, str]]:
        """The articles to write, each placed in its story in publication order (an older version of an indexed
        one is left out; a newer one supersedes it, added to `superseded`), in their original order."""
        self._labels = {}
        kept: list[tuple[Article, str, str]] = []
        for item in sorted(to_index, key=lambda x: (dates.order_key(x[0].published_at), x[0].id)):
            article = item[0]
            minhash = stories.signature([article.body])
            source, published, url = article.source or "", article.published_at or "", article.url or ""
            origin = provenance.of(article)
            placed = found.place(article.id, source, published, minhash, article.title, url, origin)
            if placed.replaced_by is not None:
                report.duplicates.append(f"{_named(article)} is an older version of {placed.replaced_by}: skipped")
                continue
            replaced: list[str] = []
            missing = [old for old in placed.replaces if old not in manifest]
            if missing:  # found through the LSH table: the sync read only what it touches
                manifest.articles.update(self.index.manifest(missing).articles)
            for old in placed.replaces:
                found.forget(old)
                kept = [k for k in kept if k[0].id != old]
                self._labels.pop(old, None)
                if old in manifest:
                    superseded.add(old)
                    replaced.append(old)
                report.duplicates.append(f"{_named(article)} is a newer version of {old}: it replaces it")
            found.add(
                stories.Member(article.id, placed.story_id, source, published, minhash, article.title, url, origin)
            )
            self._labels[article.id] = _Label(
                placed.story_id, stories.encode(minhash) if minhash is not None else None, ",".join(replaced)
            )
            kept.append(item)
        order = {a.id: i for i, (a, _, _) in enumerate(to_index)}
        kept.sort(key=lambda x: order[x[0].id])
        return kept

    def _apply(
        self,
        to_index: list[tuple[Article, str, str]],
        to_remove: set[str],
        repairs: set[str],
        manifest: Manifest,
        report: IngestReport,
        progress: Progress | None,
    ) -> None:
        with self.write_lock:
            if to_remove:
                self.index.remove([cid for aid in to_remove for cid in manifest.articles[aid].chunks])
                report.removed.extend(sorted(to_remove))
            if repairs:
                self.index.remove(sorted(repairs))

        done = 0
        size = self.options.batch_articles
        for batch_start in range(0, len(to_index), size):
            batch = to_index[batch_start : batch_start + size]
            try:
                report.chunks_embedded += self._write_batch(batch, manifest)
            except StorageError:
                _count(self._landed(batch), manifest, report)  # a write that failed part-way may have saved some
                raise
            _count(batch, manifest, report)
            done += len(batch)
            if progress:
                progress(done, len(to_index))

    def _landed(self, batch: list[tuple[Article, str, str]]) -> list[tuple[Article, str, str]]:
        """The articles of a batch whose new version is whole in the index."""
        manifest = self.index.manifest([article.id for article, _, _ in batch])
        landed = []
        for article, c_hash, t_hash in batch:
            indexed = manifest.get(article.id)
            chunks = {c: m for c, m in (indexed.chunks if indexed else {}).items() if m.get("content_hash") == c_hash}
            if chunks and IndexedArticle(article.id, chunks).complete:
                landed.append((article, c_hash, t_hash))
        return landed

    def _collect(self, items: Iterable[Article | Failure], report: IngestReport) -> dict[str, Article]:
        """Incoming articles, once each: the same url (same id) or the same normalised text counts once."""
        incoming: dict[str, Article] = {}
        seen_text: dict[str, str] = {}
        seen_url: dict[str, str] = {}
        for item in items:
            if isinstance(item, Failure):
                log.warning("not indexed: %s: %s", item.origin, item.reason)
                report.failed.append(item)
                continue
            if dates.in_future(item.published_at):
                reason = (
                    f"published_at {item.published_at} is in the future (this machine's clock says "
                    f"{dates.now().isoformat(timespec='seconds')}); an article is indexed once it is published"
                )
                log.warning("not indexed: %s: %s", item.origin, reason)
                report.failed.append(Failure(origin=item.origin or item.id, reason=reason))
                continue
            t_hash = text_hash(item.body)
            url_key = normalise_url(item.url) if item.url else None
            first = (
                item.id
                if item.id in incoming
                else seen_text.get(t_hash) or (seen_url.get(url_key) if url_key else None)
            )
            if first:
                report.duplicates.append(f"{_named(item)} repeats {_named(incoming[first])}: indexed once")
                continue
            incoming[item.id] = item
            seen_text[t_hash] = item.id
            if url_key:
                seen_url[url_key] = item.id
        return incoming

    @staticmethod
    def _pruned(manifest: Manifest, incoming: dict[str, Article], roots: set[str], failed: set[str]) -> set[str]:
        """Articles of a pruned folder that are no longer in it (a file that failed to read is kept)."""
        if not roots:
            return set()
        gone = set()
        for aid, indexed in manifest.articles.items():
            meta = indexed.first
            if aid in incoming or meta.get("origin_root") not in roots:
                continue
            if str(meta.get("origin", "")).split("#")[0] in failed:
                continue
            gone.add(aid)
        return gone

    @staticmethod
    def _repair_plan(manifest: Manifest, incoming: dict[str, Article], removing: set[str]) -> set[str]:
        """Chunks to drop from half-written articles that this run will not rewrite."""
        drop: set[str] = set()
        for aid, indexed in manifest.articles.items():
            if indexed.complete or aid in incoming or aid in removing:
                continue
            keep = indexed.complete_version() or set()
            log.warning("repairing half-written article %s (%d stray chunks)", aid, len(indexed.chunks) - len(keep))
            drop |= set(indexed.chunks) - keep
        return drop

    def _write_batch(self, batch: list[tuple[Article, str, str]], manifest: Manifest) -> int:
        ids: list[str] = []
        documents: list[str] = []
        embed_texts: list[str] = []
        metadatas: list[ChunkMeta] = []
        stale: list[str] = []
        for article, c_hash, t_hash in batch:
            chunks = chunk_article(
                article, self.embedder.count_tokens, self.options.max_tokens, self.options.overlap_sentences
            )
            for chunk in chunks:
                ids.append(chunk.id)
                documents.append(chunk.text)
                embed_texts.append(chunk.embed_text)
                meta = chunk_metadata(article, chunk, len(chunks), c_hash, t_hash)
                label = self._labels.get(article.id, _Label(article.id))
                meta["story_id"] = label.story_id
                if chunk.index == 0:
                    # the first chunk says which versions it replaces, so a crash before their removal is
                    # finished by the next sync (see _place_stories)
                    meta.update({"minhash": label.minhash, "replaces": label.replaces or None})
                metadatas.append(meta)
            previous: IndexedArticle | None = manifest.get(article.id)
            if previous is not None:
                new_ids = {c.id for c in chunks}
                stale.extend(cid for cid in previous.chunks if cid not in new_ids)
        vectors = self.embedder.embed_documents(embed_texts) if embed_texts else np.zeros((0, self.embedder.dim))
        with self.write_lock:
            self.index.write(ids, vectors, documents, metadatas)  # new version first ...
            self.index.remove(stale)  # ... then the old one goes: a crash in between is repaired next run
        return len(ids)
