"""One story, many outlets: near-duplicate articles share a story id, set at ingest.

An article's signature is a MinHash (datasketch) of its word 3-shingles, computed from its chunk texts so
that an index built before stories existed gets the same signature from what it stores (see `migrate` in
retrieval/ingest/sync.py). Locality-sensitive hashing finds the indexed articles whose estimated Jaccard
similarity is at least STORY_SIMILARITY; the new article joins the story of the most similar one, or starts
its own (story id = its article id).

A near-identical article from the same outlet (SAME_VERSION_SIMILARITY) under the same title or URL is another
version of one article, not a republication: the later one (by the instant of its published_at, time zones
read) replaces the earlier, as the sync does for a changed file, but only when both come from the same origin
(retrieval/storage/provenance.py): a copy from elsewhere that claims the outlet's name joins the story and replaces
nothing. Text alone is not enough: a weekly column's boilerplate makes two short instalments
over 0.9 alike ("Week 5 lineup decisions", "Week 6 lineup decisions"), and replacing would lose one.

The signature is kept in the metadata of the article's first chunk ("minhash", base64 of 128 uint32) and the
story id in every chunk's ("story_id"), so both live and die with the chunks and follow the sync's crash
guarantees. The lexical file keeps each first chunk's LSH band keys (`band_keys`) in a table, so placing a
new article looks up its candidates there instead of loading every signature of the archive.
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
from datasketch import MinHash, MinHashLSH

from retrieval.core import dates
from retrieval.core.text import WORD
from retrieval.core.types import ChunkMeta
from retrieval.storage import provenance

NUM_PERM = 128
SHINGLE = 3  # words
STORY_SIMILARITY = 0.5  # estimated Jaccard of shingles: the same story retold (new lede, a paragraph cut)
SAME_VERSION_SIMILARITY = 0.8  # the same outlet's corrected or updated version of one article
SCHEME = "affine32"  # datasketch's hashing scheme: stored signatures are tagged with it, and only compared within it
MIN_SHINGLES = 20  # shorter texts (briefs, tests) are too small to call near-duplicates: their own story


def shingles(texts: Iterable[str]) -> set[bytes]:
    """Word 3-shingles of the texts, lowercased; chunk overlaps add nothing (it is a set)."""
    out: set[bytes] = set()
    for text in texts:
        words = WORD.findall(text.lower())
        out.update(" ".join(words[i : i + SHINGLE]).encode() for i in range(max(0, len(words) - SHINGLE + 1)))
    return out


def signature(texts: Iterable[str]) -> MinHash | None:
    """The MinHash of the texts' shingles; None when they are too short to compare."""
    grams = shingles(texts)
    if len(grams) < MIN_SHINGLES:
        return None
    minhash = MinHash(num_perm=NUM_PERM, scheme=SCHEME)
    minhash.update_batch(list(grams))
    return minhash


def encode(minhash: MinHash) -> str:
    return f"{SCHEME}:" + base64.b64encode(np.asarray(minhash.hashvalues, dtype="<u4").tobytes()).decode()


def decode(value: str) -> MinHash | None:
    """A stored signature, or None when it is unreadable or from another scheme (then it is computed again)."""
    scheme, _, data = value.partition(":")
    if scheme != SCHEME:
        return None
    try:
        values = np.frombuffer(base64.b64decode(data, validate=True), dtype="<u4")
    except (ValueError, TypeError):
        return None
    if len(values) != NUM_PERM:
        return None
    return MinHash(num_perm=NUM_PERM, hashvalues=values, scheme=SCHEME, permutations=_permutations())


@lru_cache(maxsize=1)
def _permutations() -> Any:
    """The hash permutations of every signature (same seed): computed once, not per decoded signature."""
    return MinHash(num_perm=NUM_PERM, scheme=SCHEME).permutations


@dataclass
class Member:
    article_id: str
    story_id: str
    source: str
    published_at: str
    minhash: MinHash | None
    title: str = ""
    url: str = ""
    origin: dict[str, Any] = field(default_factory=dict)  # origin, origin_root, feed, url (provenance)


@dataclass
class Placement:
    """Where an incoming article goes: its story, and the versions it replaces or that replace it."""

    story_id: str
    replaces: list[str] = field(default_factory=list)  # same outlet, near-identical, older: removed
    replaced_by: str | None = None  # a newer version of it is indexed: it is skipped


@lru_cache(maxsize=1)
def _bands() -> tuple[tuple[int, int], ...]:
    """The hash ranges MinHashLSH uses at STORY_SIMILARITY (its own choice of bands and rows)."""
    return tuple(MinHashLSH(threshold=STORY_SIMILARITY, num_perm=NUM_PERM).hashranges)


def band_keys(minhash: MinHash) -> list[str]:
    """The LSH bucket keys of a signature: two articles are candidates when they share one."""
    values = np.asarray(minhash.hashvalues, dtype="<u4")
    return [f"{i}:{values[start:end].tobytes().hex()}" for i, (start, end) in enumerate(_bands())]


class Stories:
    """Articles' signatures, searchable by similarity: those placed in this sync in memory, and the indexed
    ones through `indexed` (a lookup by band keys in the lexical file)."""

    def __init__(
        self, members: Iterable[Member] = (), indexed: Callable[[MinHash], Iterable[Member]] | None = None
    ) -> None:
        self.lsh = MinHashLSH(threshold=STORY_SIMILARITY, num_perm=NUM_PERM)
        self.members: dict[str, Member] = {}
        self._indexed = indexed
        self._gone: set[str] = set()  # indexed articles not to match (leaving, rewritten, replaced)
        for member in members:
            self.add(member)

    def add(self, member: Member) -> None:
        self.forget(member.article_id)
        self._gone.discard(member.article_id)
        self.members[member.article_id] = member
        if member.minhash is not None:
            self.lsh.insert(member.article_id, member.minhash)

    def forget(self, article_id: str) -> None:
        self._gone.add(article_id)
        if self.members.pop(article_id, None) is not None and article_id in self.lsh:
            self.lsh.remove(article_id)

    def similar(self, minhash: MinHash, exclude: str) -> list[tuple[float, Member]]:
        """Articles at least STORY_SIMILARITY alike (estimated), most alike first."""
        candidates = {aid: self.members[aid] for aid in self.lsh.query(minhash) if aid in self.members}
        for member in self._indexed(minhash) if self._indexed is not None else ():
            if member.article_id not in self._gone:
                candidates.setdefault(member.article_id, member)
        found = []
        for aid, member in candidates.items():
            if aid == exclude or member.minhash is None:
                continue
            score = float(minhash.jaccard(member.minhash))
            if score >= STORY_SIMILARITY:
                found.append((score, member))
        return sorted(found, key=lambda f: (-f[0], f[1].article_id))

    def place(
        self,
        article_id: str,
        source: str,
        published_at: str,
        minhash: MinHash | None,
        title: str = "",
        url: str = "",
        origin: dict[str, Any] | None = None,
    ) -> Placement:
        """The story of an incoming article, and which same-outlet version of it is the one to keep (versions
        replace each other only from the same origin: retrieval.storage.provenance)."""
        if minhash is None:
            return Placement(article_id)
        similar = self.similar(minhash, article_id)
        replaces: list[str] = []
        mine = origin if origin is not None else {"url": url}
        when = dates.order_key(published_at)
        for score, member in similar:
            same_name = _folded(member.title) == _folded(title) or bool(url) and member.url == url
            if score >= SAME_VERSION_SIMILARITY and _same_outlet(member.source, source) and same_name:
                theirs = member.origin or {"url": member.url}
                if (dates.order_key(member.published_at), member.article_id) > (when, article_id):
                    if provenance.may_replace(mine, theirs):
                        return Placement(member.story_id, replaced_by=member.article_id)
                elif provenance.may_replace(theirs, mine):
                    replaces.append(member.article_id)
        story = next((m.story_id for _, m in similar), article_id)
        return Placement(story, replaces)


def _folded(title: str) -> str:
    return " ".join(WORD.findall(title.lower()))


def _same_outlet(a: str, b: str) -> bool:
    return bool(a) and a.strip().lower() == b.strip().lower()


def member_from_chunks(
    article_id: str, metas: Sequence[ChunkMeta], read_texts: Callable[[], Sequence[str | None]]
) -> Member:
    """A member from an indexed article's chunks (metadata in chunk order); the signature is read from the
    first chunk's metadata, or computed from the texts (read only then) when an older index has none or one of
    another scheme. A labelled article without one is too short to compare: its texts are not read again."""
    first = metas[0]
    stored = first.get("minhash")
    minhash = decode(str(stored)) if stored else None
    if minhash is None and (stored or "story_id" not in first):
        texts = read_texts()
        if all(text is not None for text in texts):
            minhash = signature(str(text) for text in texts)
    return Member(
        article_id,
        str(first.get("story_id") or article_id),
        str(first.get("source") or ""),
        str(first.get("published_at") or ""),
        minhash,
        str(first.get("title") or ""),
        str(first.get("url") or ""),
        {k: first.get(k) for k in ("origin", "origin_root", "feed", "url")},
    )
