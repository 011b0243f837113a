#!/usr/bin/env python3
"""The contract-fuzzing harness catches what it is there to catch: run against a tiny API
whose one handler answers 500, another that breaks its own schema, or another that accepts a
request its schema forbids, it fails; against the same API with those handlers correct, it
passes. Run by `make test` before `fuzz.py`."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz import run_schemathesis  # noqa: E402

ENVELOPE = {
    "type": "object",
    "required": ["success", "data"],
    "properties": {"success": {"type": "boolean"},
                   "data": {"type": "object", "required": ["status"],
                            "properties": {"status": {"type": "string"}}}},
}


# `/strict` and `/lax` take one required query parameter, `size`, an integer from 1 to 50.
SIZE = [{"name": "size", "in": "query", "required": True,
         "schema": {"type": "integer", "minimum": 1, "maximum": 50}}]


def document(paths: list[str]) -> dict:
    ok = {"200": {"description": "OK", "content": {"application/json": {"schema": ENVELOPE}}}}
    refused = {"400": {"description": "Bad request",
                       "content": {"application/json": {"schema": {"type": "object"}}}}}

    def operation(p: str) -> dict:
        op = {"operationId": p.strip("/"), "responses": dict(ok)}
        if p in ("/strict", "/lax"):
            op["parameters"] = SIZE
            op["responses"].update(refused)
        return op

    return {
        "openapi": "3.1.0",
        "info": {"title": "harness", "version": "1"},
        "paths": {p: {"get": operation(p)} for p in paths},
    }


def size_ok(query: str) -> bool:
    values = [v for k, _, v in (pair.partition("=") for pair in query.split("&")) if k == "size"]
    return len(values) == 1 and values[0].isdigit() and 1 <= int(values[0]) <= 50


class Api(BaseHTTPRequestHandler):
    paths: list[str] = []

    def log_message(self, *_):
        pass

    def answer(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        path, _, query = self.path.partition("?")
        if path == "/openapi.json":
            self.answer(200, document(self.paths))
        elif path == "/healthy":
            self.answer(200, {"success": True, "data": {"status": "ok"}})
        elif path == "/broken":
            # A handler that fails: what a panic or an unhandled error looks like.
            self.answer(500, {"success": False, "code": "internal"})
        elif path == "/drifted":
            # A handler whose answer no longer matches the document.
            self.answer(200, {"success": True, "data": {"status": 42}})
        elif path == "/strict":
            if size_ok(query):
                self.answer(200, {"success": True, "data": {"status": "ok"}})
            else:
                self.answer(400, {"success": False})
        elif path == "/lax":
            # A handler that takes what its schema forbids (`size=0`, `size=abc`, none).
            self.answer(200, {"success": True, "data": {"status": "ok"}})
        else:
            self.answer(404, {"success": False})

    def refuse(self):
        self.answer(405, {"success": False})

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_TRACE = do_QUERY = refuse


def run_against(paths: list[str]) -> tuple[int, int, int]:
    Api.paths = paths
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        return run_schemathesis(f"{base}/openapi.json", base, [], f"harness {paths}",
                                max_examples=5)
    finally:
        server.shutdown()


def main() -> int:
    cases, failures, code = run_against(["/healthy", "/strict"])
    assert code == 0 and failures == 0 and cases > 0, ("a correct API passes", cases, failures, code)
    cases, failures, code = run_against(["/healthy", "/broken"])
    assert code != 0 and failures > 0, ("a 500 fails the run", cases, failures, code)
    cases, failures, code = run_against(["/healthy", "/drifted"])
    assert code != 0 and failures > 0, ("a schema violation fails the run", cases, failures, code)
    cases, failures, code = run_against(["/healthy", "/lax"])
    assert code != 0 and failures > 0, ("accepting forbidden data fails the run", cases, failures,
                                        code)
    print("[contract] the harness fails on a 500, on a schema violation and on accepting what the "
          "schema forbids, and passes a correct API", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
