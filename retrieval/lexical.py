"""BM25 over the chunks (bm25s), kept in step with the Chroma collection and persisted beside it.

Two BM25 indexes are built from the same lexical texts: one over whole chunks, and one over each sentence
of a chunk (with the chunk's header: title, outlet, date). A chunk's sentence score is its best sentence's,
which tells which chunk of an article holds the passage a question paraphrases, where whole-chunk BM25
rewards chunks that merely share many words with the question.

The index is derived data: it is stamped with a fingerprint of the chunk ids it was built from, in the order of
its rows, and with a checksum of every file; it is rebuilt from Chroma whenever the stamp does not match or a
file fails its checksum or its structure check, so neither a crash nor a damaged file can leave it out of step.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_EN

from retrieval.chunking import sentence_spans

log = logging.getLogger(__name__)

_stemmer = Stemmer.Stemmer("english")
SEPARATOR = "\x1e"  # in a lexical text, between the header (title, outlet, date) and the chunk text
FORMAT = 3  # bump when what is saved changes, so saved indexes are rebuilt (3: ordered fingerprint, checksums)
_ARRAYS = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy")


class DamagedIndex(ValueError):
    """A saved or loaded BM25 index whose files or arrays are not what was written."""


def fingerprint(ids: Iterable[str]) -> str:
    """A stamp of the chunk ids in the order given: the same chunks in another order stamp differently (BM25's
    rows follow the ids' order, so a reordered list would score the wrong chunks)."""
    digest = hashlib.sha1()
    for cid in ids:
        digest.update(cid.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def file_digest(path: Path) -> str:
    with path.open("rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


_WORDS = re.compile(r"(?u)\b\w\w+\b").findall  # bm25s.tokenize's default token pattern
_STOPWORDS = frozenset(STOPWORDS_EN)


def tokenize(texts: list[str]) -> list[list[str]]:
    """Exactly what bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer, return_ids=False) gives (a test
    checks it on the whole benchmark corpus), at a fifth of its cost per call: it builds a vocabulary and
    progress bars, and that ran six times per question on the answer path."""
    return [_stemmer.stemWords([w for w in _WORDS(text.lower()) if w not in _STOPWORDS]) for text in texts]


def sentence_documents(ids: list[str], texts: Mapping[str, str]) -> tuple[list[str], np.ndarray]:
    """Each chunk's sentences with its header, and where each chunk's sentences start (chunks in ids order)."""
    documents: list[str] = []
    starts = np.zeros(len(ids), dtype=np.int64)
    for i, cid in enumerate(ids):
        head, sep, body = texts[cid].partition(SEPARATOR)
        if not sep:
            head, body = "", head
        starts[i] = len(documents)
        spans = sentence_spans(body) or [(0, len(body))]
        documents.extend(f"{head}\n{body[s:e]}" for s, e in spans)
    return documents, starts


def _postings(retriever: bm25s.BM25, token: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which of the given documents hold the token, and where their entries sit in the score matrix.
    bm25s keeps each token's postings sorted by document, so this is one binary search per document."""
    indptr, indices = retriever.scores["indptr"], retriever.scores["indices"]
    postings = indices[indptr[token] : indptr[token + 1]]
    if not len(postings):
        return np.zeros(len(rows), dtype=bool), np.zeros(len(rows), dtype=np.int64)
    at = np.minimum(np.searchsorted(postings, rows), len(postings) - 1)
    return postings[at] == rows, indptr[token] + at


def _scores_of(retriever: bm25s.BM25, token_ids: list[int], rows: np.ndarray) -> np.ndarray:
    """BM25 scores of the given documents only: what retriever.get_scores(token_ids)[rows] gives, to the bit
    (same float32 sums in the same order), without scoring every document."""
    data = retriever.scores["data"]
    out = np.zeros(len(rows), dtype=data.dtype)
    for token in token_ids:
        hit, entry = _postings(retriever, token, rows)
        out[hit] += data[entry[hit]]
    return out


def _bm25(documents: list[str]) -> bm25s.BM25:
    retriever = bm25s.BM25()
    retriever.index(tokenize(documents), show_progress=False)
    return retriever


class LexicalIndex:
    def __init__(
        self,
        ids: list[str],
        retriever: bm25s.BM25 | None,
        sentences: bm25s.BM25 | None = None,
        sentence_starts: np.ndarray | None = None,
    ) -> None:
        self.ids = ids
        self.position = {cid: i for i, cid in enumerate(ids)}
        self.retriever = retriever
        self.sentences = sentences
        self.sentence_starts = sentence_starts if sentence_starts is not None else np.zeros(0, dtype=np.int64)
        n_sentences = int(sentences.scores["num_docs"]) if sentences is not None else 0
        self.sentence_sizes = np.diff(np.append(self.sentence_starts, n_sentences))  # sentences per chunk
        self.fingerprint = fingerprint(ids)

    @classmethod
    def build(cls, texts: Mapping[str, str]) -> LexicalIndex:
        """texts: chunk id -> lexical text (header, SEPARATOR, chunk text; a text without SEPARATOR is all body)."""
        ids = sorted(texts)
        if not ids:
            return cls([], None)
        documents, starts = sentence_documents(ids, texts)
        return cls(ids, _bm25([texts[i].replace(SEPARATOR, "\n") for i in ids]), _bm25(documents), starts)

    def __len__(self) -> int:
        return len(self.ids)

    def tokens(self, query: str) -> list[str]:
        return tokenize([query])[0]

    def scores(self, tokens: list[str]) -> np.ndarray:
        """BM25 score of every chunk, in self.ids order."""
        token_ids = self.retriever.get_tokens_ids(tokens) if self.retriever is not None else []
        if self.retriever is None or not token_ids:
            return np.zeros(len(self.ids), dtype=np.float32)
        return self.retriever.get_scores(token_ids)

    def sentence_scores(self, tokens: list[str], chunks: np.ndarray) -> np.ndarray:
        """The BM25 score of the best sentence of each of the given chunks (positions in self.ids)."""
        token_ids = self.sentences.get_tokens_ids(tokens) if self.sentences is not None else []
        if self.sentences is None or not token_ids or not len(chunks):
            return np.zeros(len(chunks), dtype=np.float32)
        starts = self.sentence_starts[chunks]
        sizes = self.sentence_sizes[chunks]
        offsets = np.concatenate(([0], np.cumsum(sizes)[:-1]))
        rows = np.repeat(starts - offsets, sizes) + np.arange(int(sizes.sum()))
        return np.maximum.reduceat(_scores_of(self.sentences, token_ids, rows), offsets)

    def terms_present(self, tokens: list[str], chunks: np.ndarray) -> np.ndarray:
        """How many of the distinct tokens each of the given chunks (positions in self.ids) holds, header included,
        read from BM25's postings: no chunk text is tokenized again."""
        counts = np.zeros(len(chunks), dtype=np.float64)
        if self.retriever is None or not len(chunks):
            return counts
        for token in self.retriever.get_tokens_ids(list(set(tokens))):
            counts += _postings(self.retriever, token, chunks)[0]
        return counts

    def search(self, query: str, k: int, mask: np.ndarray | None = None) -> list[tuple[str, float]]:
        """(chunk id, BM25 score), best first; mask (one bool per chunk, in self.ids order) filters."""
        scores = self.scores(self.tokens(query))
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        k = min(k, len(self.ids))
        if k <= 0:
            return []
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [(self.ids[int(i)], float(scores[i])) for i in top if scores[i] > 0]

    def check(self) -> None:
        """Raise DamagedIndex unless the arrays are shaped as BM25 built them: every posting points at a chunk
        (or sentence) that exists and every chunk's sentences are in range. Vectorised: milliseconds at 10x."""
        if self.retriever is None:
            if self.ids:
                raise DamagedIndex("chunks listed without their BM25 arrays")
            return
        if self.sentences is None:
            raise DamagedIndex("the sentence index is missing")
        _check_matrix(self.retriever, len(self.ids), "bm25")
        _check_matrix(self.sentences, int(self.sentences.scores["num_docs"]), "sentences")
        starts, n_sentences = self.sentence_starts, int(self.sentences.scores["num_docs"])
        if len(starts) != len(self.ids) or (len(starts) and (starts[0] != 0 or np.any(np.diff(starts) < 0))):
            raise DamagedIndex("the sentence map does not match the chunks")
        if len(starts) and starts[-1] >= n_sentences:
            raise DamagedIndex("the sentence map points past the sentences")

    def trouble(self) -> str | None:
        """Why a search over this index would fail, or None: the structure check, then one real scoring of a word
        over every chunk and of the first chunks' sentences."""
        try:
            self.check()
            if self.retriever is not None:
                word = next((token for token in self.retriever.vocab_dict if token), "")
                self.scores([word])
                self.sentence_scores([word], np.arange(min(len(self.ids), 64)))
        except Exception as exc:  # noqa: BLE001 - whatever a damaged array raises is the answer
            return f"{type(exc).__name__}: {exc}"
        return None

    def save(self, directory: Path) -> None:
        """Write to a temporary folder, then swap it in: readers never see half an index."""
        directory.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(dir=directory.parent, prefix=".lexical-"))
        try:
            if self.retriever is not None:
                self.retriever.save(str(tmp / "bm25"), show_progress=False)
            if self.sentences is not None:
                self.sentences.save(str(tmp / "sentences"), show_progress=False)
                np.save(tmp / "sentence_starts.npy", self.sentence_starts)
            files = {str(f.relative_to(tmp)): file_digest(f) for f in sorted(tmp.rglob("*")) if f.is_file()}
            stamp = {"fingerprint": self.fingerprint, "format": FORMAT, "ids": self.ids, "files": files}
            (tmp / "ids.json").write_text(json.dumps(stamp))
            old = directory.with_name(directory.name + ".old")
            if directory.exists():
                os.replace(directory, old)
            os.replace(tmp, directory)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    @classmethod
    def load(cls, directory: Path, expected_fingerprint: str) -> LexicalIndex | None:
        """The saved index if it was built from exactly the expected chunks, in the expected order, and its files
        are whole (checksums, then the arrays' structure), else None."""
        try:
            meta = json.loads((directory / "ids.json").read_text())
            if meta.get("format") != FORMAT or meta["fingerprint"] != expected_fingerprint:
                log.info("lexical index at %s is out of date; it will be rebuilt", directory)
                return None
            if fingerprint(meta["ids"]) != expected_fingerprint:
                raise DamagedIndex("ids.json lists the chunks in another order than its fingerprint")
            if not meta["ids"]:
                return cls([], None)
            _verify_files(directory, meta["files"])
            retriever = bm25s.BM25.load(str(directory / "bm25"), show_progress=False)
            sentences = bm25s.BM25.load(str(directory / "sentences"), show_progress=False)
            index = cls(meta["ids"], retriever, sentences, np.load(directory / "sentence_starts.npy"))
            index.check()
            return index
        except DamagedIndex as exc:
            log.warning("lexical index at %s is damaged (%s); rebuilding it from the chunks", directory, exc)
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("lexical index at %s not usable (%s); rebuilding it from the chunks", directory, exc)
            return None

    @staticmethod
    def verify_saved(directory: Path, expected_fingerprint: str) -> str | None:
        """Why the saved files are not a whole copy of the expected index (None when they are): checksums only,
        without loading them."""
        try:
            meta = json.loads((directory / "ids.json").read_text())
            if meta.get("format") != FORMAT or meta["fingerprint"] != expected_fingerprint:
                return "out of date"
            if fingerprint(meta["ids"]) != expected_fingerprint:
                return "ids.json lists the chunks in another order than its fingerprint"
            if meta["ids"]:
                _verify_files(directory, meta["files"])
            return None
        except (OSError, ValueError, KeyError, TypeError) as exc:
            return str(exc)


def _verify_files(directory: Path, files: Mapping[str, str]) -> None:
    required = [f"{part}/{name}" for part in ("bm25", "sentences") for name in _ARRAYS] + ["sentence_starts.npy"]
    missing = [name for name in required if name not in files]
    if missing:
        raise DamagedIndex(f"no checksum for {', '.join(missing)}")
    for name, digest in files.items():
        if file_digest(directory / name) != digest:
            raise DamagedIndex(f"{name} does not match its checksum")


def _check_matrix(retriever: bm25s.BM25, n_docs: int, name: str) -> None:
    scores = retriever.scores
    data, indices, indptr = scores["data"], scores["indices"], scores["indptr"]
    if int(scores["num_docs"]) != n_docs:
        raise DamagedIndex(f"{name}: {scores['num_docs']} documents where {n_docs} were indexed")
    if len(indptr) != len(retriever.vocab_dict) or len(indices) != len(data):  # (bm25s counts a "" token)
        raise DamagedIndex(f"{name}: the arrays do not match the vocabulary")
    if len(indptr) and (indptr[0] != 0 or indptr[-1] != len(indices) or np.any(np.diff(indptr) < 0)):
        raise DamagedIndex(f"{name}: the postings offsets are out of order")
    if len(indices) and (indices.min() < 0 or indices.max() >= n_docs):
        raise DamagedIndex(f"{name}: a posting points past the documents")
    if not np.all(np.isfinite(data)):
        raise DamagedIndex(f"{name}: a score is not a number")
