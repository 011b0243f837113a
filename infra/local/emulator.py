"""A MiniStack of its own on a free port, for the checks that need an emulator but not the
local stack: the deployability rehearsal, the redrive and event-source self-tests."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

VENV_BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running(name: str) -> Iterator[str]:
    """Starts MiniStack (its output in a temporary `ministack-<name>-*.log`), yields its
    endpoint once healthy, and stops it."""
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    log = tempfile.NamedTemporaryFile("wb", prefix=f"ministack-{name}-", suffix=".log",
                                      delete=False)
    proc = subprocess.Popen([str(VENV_BIN / "ministack")], stdout=log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, "BIND_HOST": "127.0.0.1",
                                 "GATEWAY_PORT": str(port)})
    try:
        deadline = time.time() + 60
        while True:
            try:
                urllib.request.urlopen(f"{endpoint}/_ministack/health", timeout=1)
                break
            except OSError:
                if time.time() > deadline:
                    raise SystemExit(f"MiniStack did not start (see {log.name})")
                time.sleep(0.2)
        yield endpoint
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
