#!/usr/bin/env python3
"""Contract fuzzing: schemathesis against the running local stack, driven by the API's own
OpenAPI document (`GET /api/v1/openapi.json`).

Run by `make test` inside `stack.py test` (which sets GIGBAO_API_URL and the emulator's
variables). Seeds the demo accounts, signs in as a client, a freelancer and an operator, and
runs schemathesis once per role, generating both valid data and data the schema forbids,
with these checks: no 5xx (whoever answered it), only documented status codes and content
types, every response body valid against its schema, and every request the schema forbids
refused with a 4xx (so the server enforces what the document says, no less). Prints the
number of generated cases and exits non-zero on any failure.
"""

from __future__ import annotations

import concurrent.futures
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
CHECKS = ",".join([
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
])
ROLES = [
    ("client", "demo_client", "Gigbao-Client-2026"),
    ("freelancer", "demo_freelancer", "Gigbao-Freelancer-2026"),
    ("admin", "demo_admin", "Gigbao-Admin-2026"),
]
# Operations that end the caller's session or account would stop the run's own token from
# working for the rest of it; they are fuzzed without consequence by the anonymous pass
# (no token: 401) and covered by the black-box tests.
EXCLUDED_FOR_ROLES = ["user-delete", "auth-logout"]


def log(msg: str) -> None:
    print(f"[contract] {msg}", file=sys.stderr, flush=True)


def api_base() -> str:
    return os.environ["GIGBAO_API_URL"].rstrip("/")


def sign_in(username: str, password: str, n: int) -> str:
    body = json.dumps({"login": username, "password": password}).encode()
    req = urllib.request.Request(
        f"{api_base()}/auth/login", data=body, method="POST",
        headers={"content-type": "application/json",
                 # One address per account: the login limit is per IP.
                 "x-forwarded-for": f"198.51.100.{10 + n}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.load(r)["data"]["access"]


def run_schemathesis(schema: str, base_url: str, headers: list[str], label: str,
                     extra: list[str] | None = None, max_examples: int = 8) -> tuple[int, int, int]:
    """Runs schemathesis; returns (generated cases, failures, exit code)."""
    cmd = [str(SCHEMATHESIS), "run", schema, "--url", base_url,
           "--checks", CHECKS,
           "--phases", "examples,coverage,fuzzing",
           # Valid data and data the schema forbids.
           "--mode", "all",
           "--max-examples", str(max_examples),
           "--seed", "20261124",
           # One worker: Python 3.11's parser is not safe across the threads of several
           # (schemathesis then fails with "AST constructor recursion depth mismatch").
           "--workers", "1",
           "--no-color",
           "--generation-database", "none",
           *(extra or []),
           *os.environ.get("GIGBAO_FUZZ_ARGS", "").split()]
    for h in headers:
        cmd += ["-H", h]
    started = time.monotonic()
    proc = subprocess.run(cmd, capture_output=True, text=True)
    elapsed = time.monotonic() - started
    out = proc.stdout + proc.stderr
    cases, failures = summary(out)
    code = proc.returncode
    if code != 0:
        print(out[-20000:], file=sys.stderr)
    log(f"{label}: {cases} generated cases, {failures} failures (exit {code}) in {elapsed:.0f} s")
    return cases, failures, code


def summary(output: str) -> tuple[int, int]:
    """The case and failure counts from schemathesis' summary line."""
    cases = failures = 0
    m = re.search(r"Test cases:\s*\n?\s*(\d+) generated", output)
    if m:
        cases = int(m.group(1))
    m = re.search(r"(\d+) found failures?", output) or re.search(r"(\d+) failures?", output)
    if m:
        failures = int(m.group(1))
    return cases, failures


def seed_demo_accounts() -> None:
    subprocess.run(["cargo", "run", "--quiet", "-p", "devtool", "--", "seed",
                    str(ROOT / "infra" / "seed" / "demo-users.json")],
                   cwd=ROOT, check=True, capture_output=True, text=True)


def main() -> int:
    seed_demo_accounts()
    origin = api_base().removesuffix("/api/v1")
    # Fetched once (the first call also starts the function); every run reads the same copy.
    with urllib.request.urlopen(f"{api_base()}/openapi.json", timeout=120) as r:
        document = r.read()
    schema_file = tempfile.NamedTemporaryFile(suffix=".json", delete=False)
    schema_file.write(document)
    schema_file.close()
    schema = schema_file.name
    total = 0
    status = 0
    lang = "Accept-Language: zh-CN"
    # The document and its page take no input; they are checked by the fetch above, the
    # snapshot test and the layout test.
    static = ["--exclude-operation-id", "openapi", "--exclude-operation-id", "api-docs"]
    runs = [("anonymous", [lang], static)]
    for n, (role, user, password) in enumerate(ROLES):
        token = sign_in(user, password, n)
        excluded = [a for op in EXCLUDED_FOR_ROLES for a in ("--exclude-operation-id", op)]
        runs.append((role, [lang, f"Authorization: Bearer {token}"], excluded + static))
    # Two streams of runs at once, each run one schemathesis process (its single worker is
    # what Python's parser needs): on two cores beside the soak this takes about half the time
    # of one run after another (four runs, 137–184 s each, measured on 2026-12-04).
    streams = [runs[0::2], runs[1::2]]

    def stream(batch: list) -> list[tuple[int, int, int]]:
        return [run_schemathesis(schema, origin, headers, label, extra)
                for label, headers, extra in batch]

    with concurrent.futures.ThreadPoolExecutor(max_workers=len(streams)) as pool:
        results = [r for rs in pool.map(stream, streams) for r in rs]
    for cases, failures, code in results:
        total += cases
        if code != 0 or failures:
            status = 1
    os.unlink(schema)
    log(f"{total} generated cases in all; {'FAILED' if status else 'no 5xx, no undocumented status, no schema violation'}")
    return status


if __name__ == "__main__":
    sys.exit(main())
