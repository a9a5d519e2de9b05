"""A small deterministic embedder for unit tests: no model to load, the same vector for the same text.

Each word is hashed to one of `dim` dimensions (the feature-hashing trick), so texts that share words are
closer than texts that do not; that is all a unit test of the plumbing needs. Integration tests use the real model.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from retrieval.embed.embedder import FP32_VECTORS

_WORD = re.compile(r"\w+")


class HashingEmbedder:
    def __init__(self, dim: int = 64, max_tokens: int = 256, vectors: str = FP32_VECTORS) -> None:
        self.dim = dim
        self.max_tokens = max_tokens
        self.vectors = vectors  # the kind an index made with it records (the real model's fp32 by default)
        self.name = f"hashing {vectors} (tests)"

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(_WORD.findall(text)) for text in texts]

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
                out[row, int.from_bytes(digest, "little") % self.dim] += 1
            out[row, -1] += 1e-3  # an empty text still has a direction
        out /= np.linalg.norm(out, axis=1, keepdims=True)
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return np.asarray(self.embed_documents([text])[0])
