"""`newsdesk serve` in a private mount namespace (`unshare -rm`), for disk faults against a real server process.

    setup = f"mount -t tmpfs -o size=24m tmpfs {data}"          # or a read-only bind mount
    with NamespacedServer(setup, env, tmp_path / "serve.log") as server:
        httpx.get(f"{server.url}/healthz")
        server.run(f"dd if=/dev/zero of={data}/filler bs=64k || true")   # runs inside the namespace
        seconds = server.terminate()                                     # SIGTERM; how long it took to exit

The network namespace is shared, so the test reaches the server on 127.0.0.1; mounts exist only inside, so
nothing is mounted outside the test. Commands sent with run() execute in a shell inside the namespace.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType

import httpx

from tests.support.chroma_server import free_port, newsdesk_executable

_DONE = "__namespaced_command_done__"


def can_unshare() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-rm", "sh", "-c", "mount -t tmpfs tmpfs /mnt"], capture_output=True)
    return probe.returncode == 0


class NamespacedServer:
    def __init__(self, setup: str, env: dict[str, str], log_path: Path, port: int | None = None) -> None:
        self.setup = setup
        self.env = env
        self.log_path = log_path
        self.port = port or free_port()
        self.shell: subprocess.Popen[str] | None = None
        self.pid: int | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120.0) -> NamespacedServer:
        serve = f"{newsdesk_executable()} serve --host 127.0.0.1 --port {self.port}"
        script = f"""
            set -e
            {self.setup}
            {serve} > {self.log_path} 2>&1 &
            echo "pid $!"
            set +e
            while IFS= read -r line; do
                eval "$line" 2>&1
                echo "{_DONE} $?"
            done
        """
        self.shell = subprocess.Popen(
            ["unshare", "-rm", "bash", "-c", script],
            env=self.env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        assert self.shell.stdout is not None
        first = self.shell.stdout.readline()
        if not first.startswith("pid "):
            raise RuntimeError(f"the namespace did not start: {first}{self.shell.stdout.read()}")
        self.pid = int(first.split()[1])
        deadline = time.monotonic() + timeout
        while not self._healthy():
            if not self.running() or time.monotonic() > deadline:
                raise RuntimeError(f"newsdesk serve did not start:\n{self.log_tail()}")
            time.sleep(0.1)
        return self

    def run(self, command: str) -> str:
        """Run a shell command inside the namespace; its output (stdout and stderr)."""
        assert self.shell is not None and self.shell.stdin is not None and self.shell.stdout is not None
        self.shell.stdin.write(command + "\n")
        self.shell.stdin.flush()
        lines: list[str] = []
        for line in self.shell.stdout:
            if line.startswith(_DONE):
                return "".join(lines)
            lines.append(line)
        raise RuntimeError(f"the namespace shell ended while running {command!r}")

    def running(self) -> bool:
        if self.pid is None:
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        return _state(self.pid) not in {"Z", "X", ""}

    def terminate(self, timeout: float = 30.0) -> float | None:
        """SIGTERM the server; the seconds it took to exit, or None if it was still running after `timeout`."""
        assert self.pid is not None
        started = time.monotonic()
        os.kill(self.pid, signal.SIGTERM)
        while time.monotonic() - started < timeout:
            if not self.running():
                return time.monotonic() - started
            time.sleep(0.05)
        return None

    def stop(self) -> None:
        if self.running() and self.pid is not None:
            os.kill(self.pid, signal.SIGKILL)
        if self.shell is not None and self.shell.poll() is None:
            self.shell.kill()
            self.shell.wait(timeout=30)

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def _healthy(self) -> bool:
        try:
            return httpx.get(f"{self.url}/healthz", timeout=1.0).status_code == 200
        except httpx.HTTPError:
            return False

    def __enter__(self) -> NamespacedServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _state(pid: int) -> str:
    """The process state letter from /proc (Z: exited, waiting to be reaped by its parent shell)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return ""
