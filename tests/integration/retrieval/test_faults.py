"""Faults, each checked for what matters: a clear answer at once, recovery without a restart, nothing lost.

- the Chroma server killed (or hung) during a query: the API answers 503 within its deadline and recovers
  by itself when the server is back;
- the Chroma server killed during an ingest: the ingest reports it; the next run completes it; the index
  then equals one clean run;
- the LLM unreachable or slow: extractive answers, and `mode` says why;
- the disk full or the data directory read-only: a clear error at start or at ingest, an intact index.
  These run the real CLI inside a private mount namespace (`unshare`), on a small tmpfs or a read-only
  bind mount: nothing is mounted outside the test.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.api import create_app
from retrieval.core.errors import IndexUnavailable
from retrieval.core.types import ChunkMeta
from retrieval.service import Newsdesk
from tests.conftest import CORPUS, MULTIHOP, SEED_QUESTION, subprocess_env
from tests.support.chroma_server import ChromaServer, newsdesk_executable
from tests.support.inside import chroma_count, chroma_documents
from tests.support.live_server import live_server
from tests.support.openai_server import Delay, Reply, openai_server

pytestmark = pytest.mark.integration

TIMEOUT = 3.0  # NEWSDESK_CHROMA_TIMEOUT for these tests


@pytest.fixture
def chroma(tmp_path: Path) -> Iterator[ChromaServer]:
    server = ChromaServer(tmp_path / "chroma").start()
    try:
        yield server
    finally:
        server.kill()


def write_articles(folder: Path, count: int, start: int = 0) -> list[Path]:
    """`count` MultiHop articles, one JSON file each, cut to about 1,500 characters (two chunks) to keep
    the embedding work small."""
    articles = json.loads((MULTIHOP / "corpus.json").read_text())
    chosen = sorted(articles, key=lambda a: len(a["body"]))[start : start + count]
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, article in enumerate(chosen, start):
        cut = article["body"].find(". ", 1500)
        path = folder / f"article-{i:03d}.json"
        path.write_text(json.dumps({**article, "body": article["body"][: cut + 1 if cut > 0 else None]}))
        paths.append(path)
    return paths


def snapshot(service: Newsdesk) -> dict[str, tuple[str, ChunkMeta]]:
    """Everything Chroma holds for the collection except vectors: ids, texts, metadata."""
    return chroma_documents(service)


# ------------------------------------------------------------------ queries


def _ask(base: str, timeout: float = 30.0) -> tuple[int, dict[str, Any], float]:
    started = time.perf_counter()
    response = httpx.post(f"{base}/v1/ask", json={"question": SEED_QUESTION}, timeout=timeout)
    return response.status_code, response.json(), time.perf_counter() - started


def test_chroma_killed_during_a_query_gives_503_then_recovers(
    chroma: ChromaServer, make_service: Callable[..., Newsdesk]
) -> None:
    service = make_service(chroma_url=chroma.url, chroma_timeout=TIMEOUT, collection="faults")
    service.ingest([str(CORPUS)])
    with live_server(create_app(service.settings, service)) as base:
        status, good, _ = _ask(base)
        assert status == 200 and not good["abstained"]

        # a query in flight when the server dies: hang the server, send the query, then kill the server
        chroma.pause()
        result: dict[str, Any] = {}
        fields = ("status", "body", "seconds")
        asker = threading.Thread(target=lambda: result.update(zip(fields, _ask(base), strict=True)))
        asker.start()
        time.sleep(0.5)
        chroma.kill()
        asker.join(timeout=TIMEOUT * 3)
        assert not asker.is_alive(), "the request hung past its deadline"
        assert result["status"] == 503, result
        assert result["body"]["error"] == "index_unavailable"
        assert chroma.url in result["body"]["message"] and "start" in result["body"]["message"]
        assert result["seconds"] < TIMEOUT + 2

        status, body, seconds = _ask(base)  # while it is down: refused at once, same clear answer
        assert status == 503 and body["error"] == "index_unavailable" and seconds < TIMEOUT

        chroma.start()  # same data, same port: no restart of Newsdesk needed
        status, again, _ = _ask(base)
        assert status == 200, again
        assert again["answer"] == good["answer"] and again["citations"] == good["citations"]


def test_a_hung_chroma_server_times_out_instead_of_hanging(
    chroma: ChromaServer, make_service: Callable[..., Newsdesk]
) -> None:
    service = make_service(chroma_url=chroma.url, chroma_timeout=TIMEOUT, collection="hung")
    service.ingest([str(CORPUS)])
    with live_server(create_app(service.settings, service)) as base:
        chroma.pause()
        try:
            status, body, seconds = _ask(base, timeout=TIMEOUT * 4)
        finally:
            chroma.resume()
        assert status == 503 and body["error"] == "index_unavailable", body
        assert "did not answer in time" in body["message"]
        assert TIMEOUT * 0.8 < seconds < TIMEOUT * 2 + 1
        status, body, _ = _ask(base)
        assert status == 200 and not body["abstained"]


# ------------------------------------------------------------------ ingest


def test_chroma_killed_during_an_ingest_is_completed_by_the_next_run(
    chroma: ChromaServer, make_service: Callable[..., Newsdesk], tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    write_articles(corpus, 10)
    crashing = make_service(chroma_url=chroma.url, chroma_timeout=TIMEOUT, collection="news", ingest_batch_articles=2)

    def kill_after_two_batches(done: int, total: int) -> None:
        if done == 4:
            chroma.kill()

    with pytest.raises(IndexUnavailable, match="unreachable") as failure:
        crashing.ingest([str(corpus)], progress=kill_after_two_batches)
    assert chroma.url in failure.value.message

    chroma.start()
    rerun = make_service(chroma_url=chroma.url, collection="news", ingest_batch_articles=2)  # a fresh process
    assert len(rerun.articles()) == 4  # what the first run finished is there, whole
    report = rerun.ingest([str(corpus)])
    assert len(report.skipped) == 4 and len(report.added) == 6 and not report.failed

    clean = make_service(chroma_url=chroma.url, collection="clean")
    clean.ingest([str(corpus)])
    assert snapshot(rerun) == snapshot(clean)
    assert rerun.stats().chunks == clean.stats().chunks


def test_cli_ingest_reports_a_chroma_crash_and_a_rerun_completes_it(
    chroma: ChromaServer, make_service: Callable[..., Newsdesk], tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    write_articles(corpus, 8)
    collection = f"cli{uuid.uuid4().hex[:8]}"
    env = subprocess_env(
        tmp_path / "data",
        NEWSDESK_CHROMA_URL=chroma.url,
        NEWSDESK_CHROMA_TIMEOUT=str(TIMEOUT),
        NEWSDESK_COLLECTION=collection,
        NEWSDESK_INGEST_BATCH_ARTICLES="1",
    )
    command = [newsdesk_executable(), "ingest", str(corpus)]
    watcher = make_service(chroma_url=chroma.url, collection=collection)
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while chroma_count(watcher) == 0:  # kill the server as soon as the first article has landed
            assert process.poll() is None, "the ingest ended before the server could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.02)
        chroma.kill()
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 1
    assert "Ingest failed" in stderr and "unreachable" in stderr and chroma.url in stderr, stderr[-2000:]
    assert "Traceback" not in stderr

    chroma.start()
    rerun = subprocess.run(command + ["--json"], env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    report = json.loads(rerun.stdout)
    assert report["skipped"] and report["added"] and not report["failed"]
    assert len(report["skipped"]) + len(report["added"]) == 8

    clean = make_service(chroma_url=chroma.url, collection=f"{collection}-clean")
    clean.ingest([str(corpus)])
    after = make_service(chroma_url=chroma.url, collection=collection)
    assert snapshot(after) == snapshot(clean)


# ------------------------------------------------------------------ the disk


def _can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt"], capture_output=True)
    return probe.returncode == 0


needs_namespaces = pytest.mark.skipif(
    not _can_unshare(), reason="needs `unshare -rm` with tmpfs mounts (user and mount namespaces)"
)


def _in_namespace(script: str, env: dict[str, str], timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["unshare", "-rm", "bash", "-euo", "pipefail", "-c", script],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@needs_namespaces
def test_disk_full_during_an_ingest_is_reported_and_nothing_is_corrupted(
    make_service: Callable[..., Newsdesk], tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    write_articles(corpus, 4)
    later = write_articles(tmp_path / "later", 4, start=4)
    data, out, saved = tmp_path / "data", tmp_path / "out", tmp_path / "saved"
    for folder in (data, out, saved):
        folder.mkdir()
    newsdesk = newsdesk_executable()
    script = f"""
        mount -t tmpfs -o size=24m tmpfs {data}
        {newsdesk} ingest {corpus} --json > {out}/first.json
        cp {" ".join(str(p) for p in later)} {corpus}/
        # fill the disk, leaving about 64 KB: too little to write the new articles
        dd if=/dev/zero of={data}/filler bs=64k 2>/dev/null || true
        truncate -s -64K {data}/filler
        set +e
        {newsdesk} ingest {corpus} --json > {out}/full.json 2> {out}/full.err
        echo $? > {out}/full.rc
        set -e
        rm {data}/filler
        {newsdesk} stats --json > {out}/after-failure.json
        {newsdesk} ingest {corpus} --json > {out}/second.json
        cp -a {data}/. {saved}/
    """
    done = _in_namespace(script, subprocess_env(data))
    assert done.returncode == 0, done.stderr[-3000:]

    assert len(json.loads((out / "first.json").read_text())["added"]) == 4
    assert (out / "full.rc").read_text().strip() == "1"
    message = " ".join((out / "full.err").read_text().split())
    # refused at start (the probe write) or at the first write, either way saying what to do
    assert "free some space" in message and "Traceback" not in message, message[-2000:]
    assert json.loads((out / "after-failure.json").read_text())["articles"] >= 4  # the index still opens
    second = json.loads((out / "second.json").read_text())
    assert not second["failed"] and len(second["added"]) + len(second["skipped"]) == 8

    recovered = make_service(data_dir=saved)
    clean = make_service(data_dir=tmp_path / "clean")
    clean.ingest([str(corpus)])
    assert snapshot(recovered) == snapshot(clean)
    assert recovered.stats().chunks == clean.stats().chunks


@needs_namespaces
def test_read_only_data_directory_is_a_clear_error_and_the_index_stays_intact(
    make_service: Callable[..., Newsdesk], tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    write_articles(corpus, 4)
    data = tmp_path / "data"
    service = make_service(data_dir=data)
    service.ingest([str(corpus)])
    before = snapshot(service)
    del service
    write_articles(corpus, 2, start=4)
    out = tmp_path / "out"
    out.mkdir()
    newsdesk = newsdesk_executable()
    script = f"""
        mount --bind {data} {data}
        mount -o remount,bind,ro {data}
        set +e
        {newsdesk} ingest {corpus} > {out}/ingest.out 2> {out}/ingest.err
        echo $? > {out}/ingest.rc
    """
    done = _in_namespace(script, subprocess_env(data))
    assert done.returncode == 0, done.stderr[-3000:]
    assert (out / "ingest.rc").read_text().strip() == "1"
    message = " ".join((out / "ingest.err").read_text().split())  # rich wraps long lines
    assert "read-only" in message.lower() and "NEWSDESK_DATA_DIR" in message and "Traceback" not in message, message

    after = make_service(data_dir=data)
    assert snapshot(after) == before
    assert not after.ingest([str(corpus)]).failed  # writable again: the ingest goes through
    assert len(after.articles()) == 6


# ------------------------------------------------------------------ the LLM


def _cite_the_seed_passage(request: dict[str, Any]) -> str:
    """A good LLM reply: the seed fact, citing the [n] under which the prompt carries it."""
    prompt = request["messages"][-1]["content"]
    markers = [(m.start(), m.group(1)) for m in re.finditer(r"\[(\d+)\]", prompt)]
    fact = prompt.index("300,000")
    number = [n for start, n in markers if start < fact][-1]
    return f"Xiaomi will build 300,000 vehicles a year at its own plant [{number}]."


def test_llm_unreachable_or_slow_gives_extractive_answers_that_say_why(
    chroma: ChromaServer, make_service: Callable[..., Newsdesk]
) -> None:
    llm = openai_server(default=Reply(_cite_the_seed_passage))
    service = make_service(
        chroma_url=chroma.url,
        collection="llm",
        llm="openai:test-model",
        llm_base_url=llm.base_url,
        llm_timeout=1.5,
        llm_retries=0,
    )
    service.ingest([str(CORPUS)])
    with live_server(create_app(service.settings, service)) as base:
        status, body, _ = _ask(base)
        assert status == 200 and body["mode"] == "openai:test-model", body

        llm.enqueue(Delay(30.0))  # slow: answered from the passages once the LLM's deadline passes
        status, body, seconds = _ask(base)
        assert status == 200 and body["mode"] == "extractive (llm timeout)", body
        assert "300,000" in body["answer"] and body["citations"] and seconds < 1.5 + 5

        llm.stop()  # unreachable
        status, body, seconds = _ask(base)
        assert status == 200 and body["mode"] == "extractive (llm unreachable)", body
        assert "300,000" in body["answer"] and "300,000" in body["citations"][0]["quote"]
        assert seconds < 1.5 + 5

        chroma.kill()  # the LLM gone and the index too: a clear 503, not a hang or a made-up answer
        status, body, seconds = _ask(base)
        assert status == 503 and body["error"] == "index_unavailable" and seconds < TIMEOUT + 2
