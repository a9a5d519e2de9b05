"""What a sync asks the lexical file: chunks' metadata (or only the fields a sync reads), the chunks a sync must
know about, found through the file's indexes, and every chunk's text, streamed."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from typing import Any, cast

from retrieval.core.types import SYNC_FIELDS, ChunkMeta
from retrieval.storage.lexical_file import LexicalFile

Metadata = ChunkMeta

_INCOMPLETE = """
SELECT article_id FROM chunks INDEXED BY chunks_version GROUP BY article_id HAVING
    count(json_extract(sync, '$.content_hash')) != count(*)
    OR min(json_extract(sync, '$.content_hash')) IS NOT max(json_extract(sync, '$.content_hash'))
    OR count(json_extract(sync, '$.n_chunks')) != count(*)
    OR min(json_extract(sync, '$.n_chunks')) IS NOT max(json_extract(sync, '$.n_chunks'))
    OR max(json_extract(sync, '$.n_chunks')) != count(*)
    OR min(json_extract(sync, '$.index')) != 0 OR max(json_extract(sync, '$.index')) != count(*) - 1
    OR count(DISTINCT json_extract(sync, '$.index')) != count(*)
"""


class LexicalQueries(LexicalFile):
    """The sync's questions to the file (retrieval.storage.lexical.LexicalStore adds its rows)."""

    def all_metadata(
        self, article_ids: Sequence[str] | None = None, keys: Sequence[str] | None = None
    ) -> dict[str, Metadata]:
        """Chunk id -> metadata, of every chunk or of those articles' chunks; with `keys`, only those fields
        (SYNC_FIELDS are kept apart, so a sync's manifest does not parse every chunk's whole metadata)."""
        db = self._db()
        if article_ids is None and keys is not None and tuple(keys) == SYNC_FIELDS:
            return {cid: json.loads(fields) for cid, fields in db.execute("SELECT id, sync FROM chunks")}
        if article_ids is None and keys is not None:
            return {cid: only_fields(m, keys) for cid, m in self.all_metadata().items()}
        if article_ids is None:
            return {cid: json.loads(meta) for cid, meta in db.execute("SELECT id, meta FROM chunks")}
        out: dict[str, Metadata] = {}
        for start in range(0, len(article_ids), 500):
            part = list(article_ids[start : start + 500])
            marks = ",".join("?" * len(part))
            rows = db.execute(f"SELECT id, meta FROM chunks WHERE article_id IN ({marks})", part)
            out.update((cid, json.loads(meta)) for cid, meta in rows)
        return out

    def sync_metadata(
        self, article_ids: Iterable[str], text_hashes: Iterable[str], roots: Iterable[str] = ()
    ) -> dict[str, Metadata]:
        """Chunk id -> SYNC_FIELDS, in row order, of what a sync must know about: the given articles, the
        articles with one of these text hashes (duplicates), those under these folders (pruning), every
        article that is not one whole version (repairs), those without a story yet and those replacing others
        (with what they replace). Each is found through an index: the chunks of other articles are not read."""
        db = self._db()
        wanted = set(article_ids)
        for column, values in (("text_hash", list(set(text_hashes))), ("origin_root", list(set(roots)))):
            for start in range(0, len(values), 500):
                part = values[start : start + 500]
                marks = ",".join("?" * len(part))
                query = f"SELECT DISTINCT article_id FROM chunks WHERE json_extract(sync, '$.{column}') IN ({marks})"
                wanted.update(aid for (aid,) in db.execute(query, part))
        wanted.update(aid for (aid,) in db.execute(_INCOMPLETE))
        # stories: articles not labelled yet (an index from before stories), and replacements with what they
        # replace (a crash may have left both)
        query = "SELECT DISTINCT article_id FROM chunks WHERE json_extract(sync, '$.story_id') IS NULL"
        wanted.update(aid for (aid,) in db.execute(query))
        query = (
            "SELECT article_id, json_extract(sync, '$.replaces') FROM chunks "
            "WHERE json_extract(sync, '$.replaces') IS NOT NULL"
        )
        for aid, replaces in db.execute(query):
            if replaces:
                wanted.add(aid)
                wanted.update(old for old in str(replaces).split(",") if old)
        found: list[tuple[int, str, str]] = []
        ordered = sorted(wanted)
        for start in range(0, len(ordered), 500):
            part = ordered[start : start + 500]
            marks = ",".join("?" * len(part))
            found.extend(db.execute(f"SELECT row, id, sync FROM chunks WHERE article_id IN ({marks})", part))
        found.sort()
        return {cid: json.loads(fields) for _, cid, fields in found}

    def iter_texts(self) -> Iterator[tuple[str, str]]:
        """Every chunk's (id, text), streamed in row order."""
        last = 0
        while True:
            page = self._db().execute(
                "SELECT c.row, c.id, b.text FROM chunks c JOIN bodies b ON b.row = c.row WHERE c.row > ? "
                "ORDER BY c.row LIMIT 2000",
                (last,),
            ).fetchall()
            yield from ((cid, text) for _, cid, text in page)
            if len(page) < 2000:
                return
            last = page[-1][0]


def only_fields(meta: Metadata, keys: Sequence[str]) -> Metadata:
    """Those of the fields that the metadata has, in the order of `keys`."""
    fields: Mapping[str, Any] = meta
    return cast(Metadata, {k: fields[k] for k in keys if k in fields})
