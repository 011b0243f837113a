#!/usr/bin/env python3
"""The contract-fuzzing harness catches what it is there to catch: run against a tiny API
whose one handler answers 500 (and another that breaks its own schema), it fails; against the
same API with those handlers correct, it passes. Run by `make test` before `fuzz.py`."""

from __future__ import annotations

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz import router_made, run_schemathesis  # noqa: E402

ENVELOPE = {
    "type": "object",
    "required": ["success", "data"],
    "properties": {"success": {"type": "boolean"},
                   "data": {"type": "object", "required": ["status"],
                            "properties": {"status": {"type": "string"}}}},
}


def document(paths: list[str]) -> dict:
    ok = {"200": {"description": "OK", "content": {"application/json": {"schema": ENVELOPE}}}}
    return {
        "openapi": "3.1.0",
        "info": {"title": "harness", "version": "1"},
        "paths": {p: {"get": {"operationId": p.strip("/"), "responses": ok}} for p in paths},
    }


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
        path = self.path.split("?")[0]
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
    cases, failures, code = run_against(["/healthy"])
    assert code == 0 and failures == 0 and cases > 0, ("a correct API passes", cases, failures, code)
    cases, failures, code = run_against(["/healthy", "/broken"])
    assert code != 0 and failures > 0, ("a 500 fails the run", cases, failures, code)
    cases, failures, code = run_against(["/healthy", "/drifted"])
    assert code != 0 and failures > 0, ("a schema violation fails the run", cases, failures, code)
    # Only the local router's own problem document is set aside; a 500 in our envelope counts.
    assert router_made('{"type":"https://httpstatuses.com/500","status":500,"title":"Internal Server Error"}')
    assert not router_made('{"type":"https://httpstatuses.com/500"} {"success": false, "code": "internal"}')
    print("[contract] the harness fails on a 500 and on a schema violation, and passes a correct API",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
