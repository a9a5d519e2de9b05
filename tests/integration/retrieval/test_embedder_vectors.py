"""The real embedders name the kind of vectors they give (an index records it), and int8's are unit length."""

from __future__ import annotations

import numpy as np
import pytest

from retrieval.embed.embedder import FP32_VECTORS, INT8_VECTORS, OnnxEmbedder

pytestmark = pytest.mark.integration


def test_int8_and_torch_name_their_vectors(embedder: OnnxEmbedder, int8_embedder: OnnxEmbedder) -> None:
    assert embedder.vectors == FP32_VECTORS and int8_embedder.vectors == INT8_VECTORS
    assert embedder.name != int8_embedder.name  # the sentence-vector store is keyed on it: one store per embedder
    vectors = int8_embedder.embed_documents(["The pier is closed until June.", "Xiaomi builds its own plant."])
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
