"""A real single-node OpenSearch on loopback (infra/opensearch: the server and two of its modules
from Maven Central, started by one main class), for the tests and `SEARCH_ENGINE=opensearch
make dev`. Built once with Maven; started with `java -cp`; it stops when its stdin closes, so it
never outlives the process that started it. No Docker, nothing downloaded at run time but the
Maven dependencies of the first build.

`python infra/local/opensearch.py` starts one, prints its URL and waits for Ctrl-C;
`python infra/local/opensearch.py [--log FILE] -- COMMAND...` runs COMMAND beside one
(`GIGBAO_OPENSEARCH_URL`), as `make bench` does for `devtool bench-search`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "infra" / "opensearch"
TARGET = PROJECT / "target"
JAR = TARGET / "search-node-1.0.0.jar"
CLASSPATH = TARGET / "classpath.txt"
START_TIMEOUT_S = 180


class NodeError(RuntimeError):
    pass


def _sources() -> list[Path]:
    return [PROJECT / "pom.xml", *sorted((PROJECT / "src").rglob("*.*"))]


def build() -> None:
    """`mvn -q -B package dependency:build-classpath`, unless the jar is newer than every
    source (offline then: the dependencies are in ~/.m2 already)."""
    if JAR.exists() and CLASSPATH.exists():
        built = min(JAR.stat().st_mtime, CLASSPATH.stat().st_mtime)
        if all(p.stat().st_mtime <= built for p in _sources()):
            return
    mvn = shutil.which("mvn")
    if mvn is None:
        raise NodeError("Maven (mvn) is not installed: the OpenSearch node cannot be built")
    started = time.monotonic()
    done = subprocess.run([mvn, "-q", "-B", "package", "dependency:build-classpath"],
                          cwd=PROJECT, capture_output=True, text=True)
    if done.returncode != 0:
        raise NodeError(f"building infra/opensearch failed:\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    print(f"[opensearch] built the node in {time.monotonic() - started:.0f} s", file=sys.stderr)


class Node:
    """A started node: `url`, `version`; `stop()` closes its stdin and waits."""

    def __init__(self, log_path: Path | None = None):
        build()
        java = shutil.which("java", path=os.path.join(os.environ.get("JAVA_HOME", ""), "bin")
                            + os.pathsep + os.environ.get("PATH", ""))
        if java is None:
            raise NodeError("Java is not installed: the OpenSearch node cannot start")
        classpath = f"{JAR}{os.pathsep}{CLASSPATH.read_text().strip()}"
        log = open(log_path, "a") if log_path else subprocess.DEVNULL
        self.proc = subprocess.Popen(
            [java, "-Xms512m", "-Xmx1g", "-XX:+UseSerialGC", "-Djava.awt.headless=true",
             "-cp", classpath, "cn.gigbao.search.SearchNode"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=log, text=True)
        self.url, self.version = self._wait_ready()

    def _wait_ready(self) -> tuple[str, str]:
        found: dict[str, str] = {}

        def read() -> None:
            assert self.proc.stdout is not None
            for line in self.proc.stdout:
                if line.startswith("OPENSEARCH_URL="):
                    for part in line.split():
                        key, _, value = part.partition("=")
                        found[key] = value
                    return

        reader = threading.Thread(target=read, daemon=True)
        reader.start()
        reader.join(START_TIMEOUT_S)
        if "OPENSEARCH_URL" not in found:
            code = self.proc.poll()
            self.stop()
            raise NodeError(
                f"the OpenSearch node did not start within {START_TIMEOUT_S} s"
                + (f" (it exited with {code})" if code is not None else "")
                + "; its log says why")
        return found["OPENSEARCH_URL"], found.get("VERSION", "?")

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                if self.proc.stdin:
                    self.proc.stdin.close()
                self.proc.wait(timeout=30)
            except (subprocess.TimeoutExpired, OSError):
                self.proc.kill()
                self.proc.wait()


def run(command: list[str], log_path: Path | None) -> int:
    """Runs `command` with a node of its own (`GIGBAO_OPENSEARCH_URL`,
    `GIGBAO_OPENSEARCH_VERSION`) and returns its exit code; the node stops with it."""
    node = Node(log_path)
    print(f"[opensearch] OpenSearch {node.version} on {node.url}", file=sys.stderr)
    try:
        env = dict(os.environ, GIGBAO_OPENSEARCH_URL=node.url, GIGBAO_OPENSEARCH_VERSION=node.version)
        return subprocess.run(command, env=env).returncode
    finally:
        node.stop()


if __name__ == "__main__" and "--" in sys.argv:
    # `opensearch.py [--log FILE] -- COMMAND...`: COMMAND beside a node of its own.
    at = sys.argv.index("--")
    options = sys.argv[1:at]
    log = Path(options[options.index("--log") + 1]) if "--log" in options else None
    sys.exit(run(sys.argv[at + 1:], log))

if __name__ == "__main__":
    node = Node()
    print(f"OpenSearch {node.version} on {node.url} (Ctrl-C stops it)")
    try:
        while node.proc.poll() is None:
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        node.stop()
