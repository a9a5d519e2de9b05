"""A real Chroma server (`chroma run`) on a free loopback port, for tests and benchmarks.

    with ChromaServer(tmp_path / "chroma") as server:
        settings = make_settings(chroma_url=server.url)
        server.kill()      # SIGKILL: the server dies mid-whatever, like a crash
        server.start()     # same data folder, same port: clients reconnect
        server.pause()     # SIGSTOP: the server hangs (requests time out); resume() continues it

The server writes its log to `<path>.log`; `log_tail()` shows its end when a test fails.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

import httpx


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def chroma_executable() -> str:
    """The `chroma` CLI next to the running interpreter (the venv's), else the one on PATH."""
    beside = Path(sys.executable).parent / "chroma"
    found = str(beside) if beside.exists() else shutil.which("chroma")
    if not found:
        raise RuntimeError("the `chroma` command is missing: pip install chromadb")
    return found


class _Child:
    """A server in a child process, with its output in a log file: start, wait until ready, signal, stop."""

    name = "server"

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def _spawn(self, command: list[str], env: dict[str, str], ready: Callable[[], bool], timeout: float) -> None:
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{self.log_tail()}")
            if ready():
                return
            time.sleep(0.05)
        self._signal_and_wait(signal.SIGKILL)
        raise TimeoutError(f"{self.name} was not ready within {timeout:.0f}s:\n{self.log_tail()}")

    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def _signal_and_wait(self, sig: signal.Signals) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        if sig != signal.SIGKILL:  # a paused process cannot act on SIGTERM; SIGKILL needs no waking, and
            self.process.send_signal(signal.SIGCONT)  # waking it first would let a query in flight finish
        self.process.send_signal(sig)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=15)

    def stop(self) -> None:
        self._signal_and_wait(signal.SIGTERM)

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class ChromaServer(_Child):
    name = "chroma run"

    def __init__(self, path: Path, port: int | None = None, host: str = "127.0.0.1") -> None:
        self.path = Path(path)
        self.host = host
        self.port = port or free_port()
        super().__init__(self.path.with_name(self.path.name + ".log"))

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self, timeout: float = 60.0) -> ChromaServer:
        if self.running():
            return self
        self.path.mkdir(parents=True, exist_ok=True)
        command = [chroma_executable(), "run", "--path", str(self.path), "--host", self.host, "--port", str(self.port)]
        self._spawn(command, {**os.environ, "ANONYMIZED_TELEMETRY": "False"}, self.healthy, timeout)
        return self

    def healthy(self, timeout: float = 1.0) -> bool:
        try:
            return httpx.get(f"{self.url}/api/v2/heartbeat", timeout=timeout).status_code == 200
        except httpx.HTTPError:
            return False

    def kill(self) -> None:
        """SIGKILL, like a crash or the OOM killer: no clean shutdown."""
        self._signal_and_wait(signal.SIGKILL)

    def pause(self) -> None:
        """SIGSTOP: the server keeps its sockets but answers nothing (a hung server)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def __enter__(self) -> ChromaServer:
        return self.start()


def newsdesk_executable() -> str:
    beside = Path(sys.executable).parent / "newsdesk"
    found = str(beside) if beside.exists() else shutil.which("newsdesk")
    if not found:
        raise RuntimeError("the `newsdesk` command is missing: pip install -e .")
    return found


class NewsdeskServer(_Child):
    """`newsdesk serve` in its own process on a free loopback port; ready once /healthz answers."""

    name = "newsdesk serve"

    def __init__(self, env: dict[str, str], log_path: Path, port: int | None = None) -> None:
        self.env = env
        self.port = port or free_port()
        super().__init__(log_path)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self, timeout: float = 90.0) -> float:
        """Start and wait until ready; returns the seconds it took."""
        started = time.perf_counter()
        command = [newsdesk_executable(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        self._spawn(command, self.env, self.healthy, timeout)
        return time.perf_counter() - started

    def __enter__(self) -> NewsdeskServer:
        self.start()
        return self


class LlamaServer(_Child):
    """llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`, the `local` extra) on a free
    loopback port, serving one GGUF model; ready once /v1/models answers.

        with LlamaServer(fetch("qwen-0.5b"), tmp_path / "llama.log") as server:
            settings = make_settings(llm=f"openai:{server.alias}", llm_base_url=server.base_url)
    """

    name = "llama_cpp.server"
    alias = "local-model"

    def __init__(self, model: Path, log_path: Path, n_ctx: int = 4096, threads: int | None = None) -> None:
        self.model = model
        self.n_ctx = n_ctx
        self.threads = threads or os.cpu_count() or 2
        self.port = free_port()
        super().__init__(log_path)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def healthy(self) -> bool:
        try:
            return httpx.get(f"{self.base_url}/models", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def start(self, timeout: float = 180.0) -> LlamaServer:
        command = [
            sys.executable, "-m", "llama_cpp.server", "--model", str(self.model), "--model_alias", self.alias,
            "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.n_ctx),
            "--n_threads", str(self.threads), "--n_threads_batch", str(self.threads),
        ]  # fmt: skip
        self._spawn(command, dict(os.environ), self.healthy, timeout)
        return self

    def __enter__(self) -> LlamaServer:
        return self.start()
