"""Fixtures of the Python client tests (tests/python): one live arc-server subprocess for the
session, on a loopback port it picks itself, serving the embedded model models/default.

Environment (set by tests/CMakeLists.txt for ctest):
  ARC_SERVER_BIN   the arc-server binary (required)
  ARC_CLIENT_BIN   the arc-client binary (the submission test compares files with it)
  ARC_SOURCE_DIR   the repository root (models/default, examples/); default: two folders up
  PYTHONPATH       must hold build/client/python, where the build assembles arc_client

The server is started with subprocess's default spawn (vfork or posix_spawn, no preexec_fn), so
no fork handler of the gRPC core already loaded in this process runs (see tests/deploy_test.py on
why a plain fork after `import grpc` is unsafe with Debian's gRPC 1.51). `setpriv --pdeathsig`
kills the server if this process dies without cleaning up.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path
from typing import Dict, Iterator, List

import pytest

try:
    import arc_client
except ImportError as e:  # a clear message instead of a collection error in every test
    raise pytest.UsageError(
        f"cannot import arc_client ({e}): build the target arc_client_python and put "
        f"build/client/python on PYTHONPATH") from None

SOURCE_DIR = Path(os.environ.get("ARC_SOURCE_DIR", Path(__file__).resolve().parents[2]))
# Server flags that the tests check through GetServerInfo.
SERVER_SEED = 11
SERVER_QUEUE_CAPACITY = 8
_LOGFMT = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


class ServerProcess:
    """An arc-server child process on 127.0.0.1, its log in a file."""

    def __init__(self, binary: str, model: Path, log_path: Path, flags: List[str]) -> None:
        self.log_path = log_path
        command = [binary, "--address=127.0.0.1:0", "--metrics_address=", f"--model={model}",
                   *flags]
        if shutil.which("setpriv"):
            command = ["setpriv", "--pdeathsig", "KILL", "--"] + command
        with open(log_path, "wb") as log:
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT)
        self.port = int(self.wait_for_event("listening")["port"])
        self.wait_for_event("serving")
        self.target = f"127.0.0.1:{self.port}"

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def wait_for_event(self, event: str, seconds: float = 60) -> Dict[str, str]:
        """The fields of the first log line with ``event=<event>``; fails if the process exits
        or ``seconds`` pass first."""
        end = time.monotonic() + seconds
        while True:
            for line in self.log().splitlines():
                fields = {k: v.strip('"') for k, v in _LOGFMT.findall(line)}
                if fields.get("event") == event:
                    return fields
            if self.process.poll() is not None:
                pytest.fail(f"arc-server exited with {self.process.returncode} before "
                            f"event={event}:\n{self.log()}")
            if time.monotonic() > end:
                pytest.fail(f"arc-server logged no event={event} in {seconds} s:\n{self.log()}")
            time.sleep(0.05)

    def stop(self) -> int:
        """SIGTERM (the server drains), SIGKILL after 20 s; the exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    binary = os.environ.get("ARC_SERVER_BIN")
    if not binary or not os.access(binary, os.X_OK):
        raise pytest.UsageError(f"ARC_SERVER_BIN={binary!r} is not an executable arc-server")
    log = tmp_path_factory.mktemp("server") / "arc-server.log"
    # One worker (so a second job queues behind a first), one torch thread, no warm-up solve.
    process = ServerProcess(binary, SOURCE_DIR / "models" / "default", log, [
        "--warmup=false", "--workers=1", "--threads=1", f"--seed={SERVER_SEED}",
        f"--queue_capacity={SERVER_QUEUE_CAPACITY}", "--drain_timeout=5s", "--log_level=info"])
    yield process
    process.stop()


@pytest.fixture
def client(server: ServerProcess) -> Iterator["arc_client.Client"]:
    with arc_client.Client(server.target, timeout=60) as c:
        yield c


@pytest.fixture(scope="session")
def flip_path() -> Path:
    return SOURCE_DIR / "examples" / "flip.json"


@pytest.fixture(scope="session")
def flip(flip_path: Path) -> dict:
    with open(flip_path, encoding="utf-8") as f:
        return json.load(f)
