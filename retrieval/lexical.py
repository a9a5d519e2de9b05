"""BM25 over the chunks (bm25s), kept in step with the Chroma collection and persisted beside it.

The index is derived data: it is stamped with a fingerprint of the chunk ids it was built from, and is
rebuilt from Chroma whenever the stamp does not match, so a crash can never leave it out of step.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import bm25s
import numpy as np
import Stemmer

log = logging.getLogger(__name__)

_stemmer = Stemmer.Stemmer("english")


def fingerprint(ids: Iterable[str]) -> str:
    digest = hashlib.sha1()
    for cid in sorted(ids):
        digest.update(cid.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def tokenize(texts: list[str]) -> list[list[str]]:
    result = bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer, return_ids=False, show_progress=False)
    return result


class LexicalIndex:
    def __init__(self, ids: list[str], retriever: bm25s.BM25 | None) -> None:
        self.ids = ids
        self.position = {cid: i for i, cid in enumerate(ids)}
        self.retriever = retriever
        self.fingerprint = fingerprint(ids)

    @classmethod
    def build(cls, texts: Mapping[str, str]) -> LexicalIndex:
        ids = sorted(texts)
        if not ids:
            return cls([], None)
        retriever = bm25s.BM25()
        retriever.index(tokenize([texts[i] for i in ids]), show_progress=False)
        return cls(ids, retriever)

    def __len__(self) -> int:
        return len(self.ids)

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score), best first; mask (one bool per chunk, in self.ids order) filters."""
        if self.retriever is None or not self.ids:
            return []
        tokens = tokenize([query])
        if not tokens[0]:
            return []
        k = min(k, len(self.ids))
        weight_mask = None if mask is None else mask.astype(np.float32)
        docs, scores = self.retriever.retrieve(tokens, k=k, show_progress=False, n_threads=1, weight_mask=weight_mask)
        return [(self.ids[int(d)], float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def save(self, directory: Path) -> None:
        """Write to a temporary folder, then swap it in: readers never see half an index."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=directory.parent, prefix=".lexical-"))
        try:
            (tmp / "ids.json").write_text(json.dumps({"fingerprint": self.fingerprint, "ids": self.ids}))
            if self.retriever is not None:
                self.retriever.save(str(tmp / "bm25"), show_progress=False)
            old = directory.with_name(directory.name + ".old")
            if directory.exists():
                os.replace(directory, old)
            os.replace(tmp, directory)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path, expected_fingerprint: str) -> LexicalIndex | None:
        """The saved index if it was built from exactly the expected chunks, else None."""
        try:
            meta = json.loads((directory / "ids.json").read_text())
            if meta["fingerprint"] != expected_fingerprint:
                return None
            retriever = bm25s.BM25.load(str(directory / "bm25"), show_progress=False) if meta["ids"] else None
            return cls(meta["ids"], retriever)
        except (OSError, ValueError, KeyError) as exc:
            log.info("lexical index at %s not usable (%s); it will be rebuilt", directory, exc)
            return None
