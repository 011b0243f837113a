#!/usr/bin/env python3
"""Checks, against the running `make dev` stack, that editing a function's code makes
`cargo lambda watch` rebuild it and serve the new build: it edits `functions/health/src/main.rs`
(one comment line), waits until `GET /health` answers from a new instance
(`instance_started_at` changes), and puts the file back (which rebuilds it once more).

    make check-reload        # with `make dev` running in another terminal
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "functions" / "health" / "src" / "main.rs"
API = os.environ.get("GIGBAO_API_URL", "http://127.0.0.1:9000/api/v1")


def started() -> str | None:
    try:
        with urllib.request.urlopen(f"{API}/health", timeout=300) as r:
            return json.load(r)["data"]["instance_started_at"]
    except OSError:
        return None


def wait_for_new(than: str, what: str, limit: float = 600) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        now = started()
        if now and now != than:
            return time.monotonic() - t0
        time.sleep(1)
    raise SystemExit(f"[reload] {what}: no new instance within {limit:.0f} s")


def main() -> int:
    before = started()
    if before is None:
        print("[reload] start the stack first: make dev", file=sys.stderr)
        return 2
    original = SOURCE.read_text()
    try:
        SOURCE.write_text(original + f"// reload check {time.time_ns()}\n")
        took = wait_for_new(before, "after the edit")
        print(f"[reload] edited {SOURCE.relative_to(ROOT)}: rebuilt and served by a new "
              f"instance after {took:.0f} s", file=sys.stderr)
    finally:
        SOURCE.write_text(original)
    after = started()
    wait_for_new(after or before, "after putting the file back")
    print("[reload] file restored and rebuilt", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
