#!/usr/bin/env python3
"""Soak test of the local HTTP edge: many sequential requests, mixing the largest answers
(the catalogue, the OpenAPI document, the docs page, search) with small ones (health, a
service, an unknown path, a bad body), each on a new connection as most clients open them,
and some on one kept-alive connection. Every answer must come from a function — no 5xx at
all, and every body in the envelope (or the document/page it asks for).

Run by `make test` inside `stack.py test` (GIGBAO_API_URL). SOAK_REQUESTS sets the number
(default 10,000); it prints the counts and the time per request.
"""

from __future__ import annotations

import collections
import http.client
import json
import os
import sys
import time
import urllib.parse

REQUESTS = int(os.environ.get("SOAK_REQUESTS", "10000"))


def main() -> int:
    base = urllib.parse.urlsplit(os.environ["GIGBAO_API_URL"])
    host, port, prefix = base.hostname, base.port, base.path.rstrip("/")
    mix = [
        ("GET", "/services/categories", None, "application/json"),
        ("GET", "/openapi.json", None, "application/json"),
        ("GET", "/docs", None, "text/html"),
        ("GET", "/services/search?q=logo", None, "application/json"),
        ("GET", "/health", None, "application/json"),
        ("GET", "/services/categories", None, "application/json"),
        ("GET", "/no/such/route", None, "application/json"),
        ("POST", "/auth/login", b"\xd6\xd0\xce\xc4 not utf-8", "application/json"),
        ("DELETE", "/health", None, "application/json"),
        ("GET", "/services/01JD0000000000000000000000", None, "application/json"),
    ]
    counts: collections.Counter = collections.Counter()
    bad: list[str] = []
    keep_alive = http.client.HTTPConnection(host, port, timeout=120)
    started = time.monotonic()
    for n in range(REQUESTS):
        method, path, body, kind = mix[n % len(mix)]
        # Every fifth request rides one kept-alive connection; the rest open their own.
        conn = keep_alive if n % 5 == 0 else http.client.HTTPConnection(host, port, timeout=120)
        headers = {"content-type": "application/json"} if body is not None else {}
        try:
            conn.request(method, prefix + path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (http.client.HTTPException, OSError) as e:
            bad.append(f"{method} {path}: {e!r}")
            conn.close()
            if conn is keep_alive:
                keep_alive = http.client.HTTPConnection(host, port, timeout=120)
            continue
        finally:
            if conn is not keep_alive:
                conn.close()
        counts[(method, path.split("?")[0], resp.status)] += 1
        ctype = resp.getheader("content-type") or ""
        if resp.status >= 500:
            bad.append(f"{method} {path} → {resp.status} {data[:200]!r}")
        elif not ctype.startswith(kind):
            bad.append(f"{method} {path} → {resp.status} {ctype}")
        elif kind == "application/json" and path != "/openapi.json":
            envelope = json.loads(data)
            if "success" not in envelope or "timestamp" not in envelope:
                bad.append(f"{method} {path} → {resp.status} not in the envelope: {data[:200]!r}")
    elapsed = time.monotonic() - started
    for key, n in sorted(counts.items()):
        print(f"[soak] {n:6d} × {key[0]} {key[1]} → {key[2]}", file=sys.stderr)
    fives = sum(n for (_, _, status), n in counts.items() if status >= 500)
    print(f"[soak] {REQUESTS} sequential requests in {elapsed:.0f} s "
          f"({elapsed / REQUESTS * 1000:.1f} ms each): {fives} answered 5xx, "
          f"{len(bad)} wrong", file=sys.stderr)
    for line in bad[:20]:
        print(f"[soak]   {line}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
