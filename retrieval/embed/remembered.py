"""An embedder that remembers its recent vectors (the answerer embeds the question the search just did)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence

import numpy as np

from retrieval.embed.embedder import Embedder
from retrieval.embed.sentence_vectors import SentenceVectors


class RememberedQueries:
    """An embedder that remembers its recent vectors: the answerer embeds the question the search just did.

    An LRU over texts (questions and the answer sentences scored for them); only texts not remembered are
    embedded. Questions about the news cluster on the same stories, so the same sentences come back: on the
    MultiHop-RAG dev questions about half of the sentences to score were already remembered after a few
    hundred questions. A vector is 1.5 kB; the default 20,000 entries cap the cache near 40 MB.
    """

    def __init__(self, embedder: Embedder, size: int = 20_000, stored: SentenceVectors | None = None) -> None:
        """`stored`: sentence vectors embedded ahead of time, looked up before anything is embedded."""
        self.embedder = embedder
        self.stored = stored
        self.name, self.dim, self.max_tokens = embedder.name, embedder.dim, embedder.max_tokens
        self.size = size
        self._vectors: OrderedDict[str, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = self.misses = 0

    def stats(self) -> tuple[int, int, int]:
        """(lookups answered from memory, lookups embedded, vectors remembered now)"""
        with self._lock:
            return self.hits, self.misses, len(self._vectors)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.embedder.count_tokens(texts)

    def _recall(self, texts: Sequence[str]) -> dict[str, np.ndarray]:
        with self._lock:
            found = {t: self._vectors[t] for t in texts if t in self._vectors}
            for text in found:
                self._vectors.move_to_end(text)
            self.hits += len(found)
        return found

    def _remember(self, texts: Sequence[str], vectors: np.ndarray) -> None:
        with self._lock:
            for text, vector in zip(texts, vectors, strict=True):
                self._vectors[text] = vector
            while len(self._vectors) > self.size:
                self._vectors.popitem(last=False)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        found = self._recall(texts)
        missing = [t for t in dict.fromkeys(texts) if t not in found]
        if missing and self.stored is not None:
            stored = self.stored.get(missing)
            if stored:
                with self._lock:
                    self.hits += len(stored)
                found.update(stored)
                missing = [t for t in missing if t not in stored]
        if missing:
            with self._lock:
                self.misses += len(missing)
            fresh = self._embed(missing)
            self._remember(missing, fresh)
            found.update(zip(missing, fresh, strict=True))
        return np.stack([found[t] for t in texts]) if texts else np.zeros((0, self.dim), dtype=np.float32)

    def _embed(self, texts: list[str]) -> np.ndarray:
        # the embedder runs a small batch on every core at once when it can (see OnnxEmbedder)
        return np.array(self.embedder.embed_documents(texts), dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        found = self._recall([text])
        if text in found:
            return found[text].copy()
        with self._lock:
            self.misses += 1
        vector = np.array(self.embedder.embed_query(text), dtype=np.float32)
        self._remember([text], vector[None, :])
        return vector.copy()
