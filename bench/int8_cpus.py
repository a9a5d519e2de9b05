"""Are an embedder's vectors the same on every x86 CPU? (issue 28)

The same texts are embedded by each embedder (fp32 `onnx`, int8 `onnx-int8`, the earlier full-range int8
`onnx-int8-full-range`) natively, and under `qemu-x86_64 -cpu Haswell`: an AVX2 + FMA CPU without AVX-512 or
VNNI, as many users' machines are. onnxruntime picks its kernels from the CPU it finds (cpuid), so the
emulated run takes the AVX2 paths, whatever the host has. Reported per embedder: cosine of each text's
vector on the two CPUs (1.0: the same vectors), and cosine to fp32's native vectors. Timings under emulation
mean nothing; the native ones are one text per run on one thread, for the record.

Needs Debian's qemu-user (`apt-get install qemu-user`). Emulation is slow (about 13 s a 256-token text with
int8): keep --passages small.

Usage: python bench/int8_cpus.py [--passages 12] [--questions 12] [--embedders onnx-int8,onnx-int8-full-range,onnx]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bench.common import MULTIHOP, write_result  # noqa: E402
from retrieval.core.config import Settings  # noqa: E402
from retrieval.embed.embedder import EMBEDDERS, cpu_features, make_embedder  # noqa: E402

EMULATED_CPU = "Haswell"  # AVX2, FMA, F16C; no AVX-512, no VNNI


def child(embedder_name: str, cache: Path, texts_file: Path, out: Path) -> None:
    """Embed the texts one per run (as onnx-int8 always does), on one thread, and save the vectors."""
    texts = json.loads(texts_file.read_text(encoding="utf-8"))
    embedder = make_embedder(embedder_name, cache, batch_size=1)
    started = time.perf_counter()
    vectors = np.array([embedder.embed_documents([text])[0] for text in texts])
    np.save(out, vectors)
    print(json.dumps({"seconds": round(time.perf_counter() - started, 2)}))


def run(embedder_name: str, cache: Path, texts_file: Path, folder: Path, emulate: bool) -> dict[str, Any]:
    out = folder / f"{embedder_name}-{'emulated' if emulate else 'native'}.npy"
    command = [sys.executable, __file__, "--child", embedder_name, str(cache), str(texts_file), str(out)]
    if emulate:
        command = ["qemu-x86_64", "-cpu", EMULATED_CPU, *command]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    return {"vectors": np.load(out), **json.loads(done.stdout.strip().splitlines()[-1])}


def cosines(a: np.ndarray, b: np.ndarray) -> dict[str, float]:
    values = (a * b).sum(1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)
    return {"min": round(float(values.min()), 6), "mean": round(float(values.mean()), 6)}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--passages", type=int, default=12, help="article openings (about 256 tokens each)")
    parser.add_argument("--questions", type=int, default=12, help="dev questions (short)")
    parser.add_argument("--embedders", default="onnx-int8,onnx-int8-full-range,onnx")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if shutil.which("qemu-x86_64") is None:
        sys.exit("qemu-x86_64 is missing: apt-get install qemu-user")
    names = args.embedders.split(",")
    unknown = [n for n in names if n not in EMBEDDERS or n == "torch"]
    if unknown:
        sys.exit(f"not an ONNX embedder: {', '.join(unknown)}")
    cache = Settings().model_cache_dir
    for name in {*names, "onnx"}:
        make_embedder(name, cache)  # export and quantise natively, once, outside the emulated runs
    rng = random.Random(args.seed)
    corpus = json.loads((MULTIHOP / "corpus.json").read_text(encoding="utf-8"))
    questions = json.loads((MULTIHOP / "queries-dev.json").read_text(encoding="utf-8"))
    texts = [a["body"][:1200] for a in rng.sample(corpus, args.passages)]
    texts += [q["query"] for q in rng.sample(questions, args.questions)]
    with tempfile.TemporaryDirectory(prefix="int8-cpus-") as tmp:
        folder = Path(tmp)
        texts_file = folder / "texts.json"
        texts_file.write_text(json.dumps(texts), encoding="utf-8")
        fp32 = run("onnx", cache, texts_file, folder, emulate=False)["vectors"]
        result: dict[str, Any] = {}
        for name in names:
            native = run(name, cache, texts_file, folder, emulate=False)
            emulated = run(name, cache, texts_file, folder, emulate=True)
            result[name] = {
                "vectors": EMBEDDERS[name],
                "native_vs_emulated_avx2": cosines(native["vectors"], emulated["vectors"]),
                "identical": bool(np.array_equal(native["vectors"], emulated["vectors"])),
                "max_abs_difference": round(float(np.abs(native["vectors"] - emulated["vectors"]).max()), 6),
                "native_vs_fp32": cosines(native["vectors"], fp32),
                "emulated_vs_fp32": cosines(emulated["vectors"], fp32),
                "native_seconds": native["seconds"],
            }
            print(name, result[name], file=sys.stderr, flush=True)
    write_result(
        "int8_cpus",
        {
            "host_cpu": cpu_features(),
            "emulated_cpu": f"qemu-x86_64 -cpu {EMULATED_CPU} (AVX2, FMA; no AVX-512, no VNNI)",
            "texts": {"passages": args.passages, "questions": args.questions, "seed": args.seed},
            "embedders": result,
        },
    )


if __name__ == "__main__":
    main()
