#!/usr/bin/env python3
"""Self-test of the local HTTP edge (edge.py), against a stand-in for the Lambda Invoke API:
routes as API Gateway picks them, the payload 2.0 event it builds (a body that is not UTF-8
arrives base64-encoded), the answer it makes of a function's reply, the envelope of the
`$default` function for unknown routes, 500 only when the function fails, and CORS."""

from __future__ import annotations

import base64
import http.client
import json
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from edge import Edge, Route, Router, event_for  # noqa: E402

ROUTES = Router([
    Route("GET", "/api/v1/services/{service_id}", "service-get"),
    Route("GET", "/api/v1/services/search", "service-search"),
    Route("POST", "/api/v1/services/{service_id}/order", "order-create"),
    Route("GET", "/api/v1/boom", "boom"),
], "not-found")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class FakeLambda(BaseHTTPRequestHandler):
    """Echoes the event back inside an API Gateway reply; `boom` fails as a crashed
    function does."""
    events: list = []

    def log_message(self, *_):
        pass

    def do_POST(self):
        function = self.path.split("/")[3]
        event = json.loads(self.rfile.read(int(self.headers["content-length"])))
        FakeLambda.events.append((function, event))
        if function == "boom":
            answer = {"errorType": "Panic", "errorMessage": "boom"}
        elif function == "not-found":
            answer = {"statusCode": 404, "headers": {"content-type": "application/json"},
                      "body": json.dumps({"success": False, "code": "route.not_found"})}
        else:
            answer = {"statusCode": 200, "headers": {"content-type": "application/json"},
                      "cookies": ["a=1", "b=2"],
                      "body": base64.b64encode(json.dumps({"function": function}).encode()).decode(),
                      "isBase64Encoded": True}
        body = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def call(port, method, path, body=None, headers=None):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    out = (r.status, dict((k.lower(), v) for k, v in r.getheaders()), r.read(),
           r.msg.get_all("set-cookie"))
    conn.close()
    return out


def main() -> int:
    # Routing: literal segments beat parameters; no route means $default.
    assert ROUTES.find("GET", "/api/v1/services/search")[1] == "service-search"
    key, fn, params = ROUTES.find("GET", "/api/v1/services/01ABC")
    assert (key, fn, params) == ("GET /api/v1/services/{service_id}", "service-get",
                                 {"service_id": "01ABC"}), (key, fn, params)
    assert ROUTES.find("DELETE", "/api/v1/services/01ABC")[:2] == ("$default", "not-found")
    assert ROUTES.find("GET", "/lambda-url/order-timers/x")[1] == "not-found"
    assert Router(ROUTES.routes, None).find("GET", "/nowhere") is None

    # The event: headers lower-cased and joined, cookies apart, a binary body base64.
    ev = event_for("POST", "/p", "a=1&a=2&b=", [("X-Thing", "1"), ("x-thing", "2"),
                   ("Cookie", "s=1; t=2"), ("Content-Type", "application/json")],
                   b"\xd6\xd0\xce\xc4", "POST /p", {}, "10.0.0.1", "rid")
    assert ev["headers"]["x-thing"] == "1,2" and "cookie" not in ev["headers"], ev["headers"]
    assert ev["cookies"] == ["s=1", "t=2"]
    assert ev["queryStringParameters"] == {"a": "1,2", "b": ""}
    assert ev["isBase64Encoded"] and base64.b64decode(ev["body"]) == b"\xd6\xd0\xce\xc4"
    ev = event_for("POST", "/p", "", [("content-type", "application/json")], "{}".encode(),
                   "POST /p", {}, "10.0.0.1", "rid")
    assert ev["body"] == "{}" and not ev["isBase64Encoded"]

    # Over HTTP, against the stand-in.
    lam_port, edge_port = free_port(), free_port()
    lam = ThreadingHTTPServer(("127.0.0.1", lam_port), FakeLambda)
    threading.Thread(target=lam.serve_forever, daemon=True).start()
    logged = []
    edge = Edge(edge_port, ROUTES, lam_port, {"AllowOrigins": ["*"], "AllowMethods": ["GET"],
                                                "AllowHeaders": ["authorization"]},
                logged.append)
    edge.start()
    try:
        status, headers, body, cookies = call(edge_port, "GET", "/api/v1/services/01ABC?x=1",
                                              headers={"Origin": "https://m.gigbao.cn"})
        assert status == 200 and json.loads(body) == {"function": "service-get"}, body
        assert cookies == ["a=1", "b=2"], cookies
        assert headers["access-control-allow-origin"] == "*"
        fn, event = FakeLambda.events[-1]
        assert event["pathParameters"] == {"service_id": "01ABC"}
        assert event["routeKey"] == "GET /api/v1/services/{service_id}"

        status, _, body, _ = call(edge_port, "POST", "/api/v1/services/01ABC/order",
                                  body=b"\xff\xfe raw", headers={"content-type": "application/json"})
        assert status == 200
        assert FakeLambda.events[-1][1]["isBase64Encoded"] is True

        status, _, body, _ = call(edge_port, "GET", "/lambda-url/order-timers/")
        assert status == 404 and json.loads(body)["code"] == "route.not_found", body
        assert FakeLambda.events[-1][0] == "not-found"

        status, _, body, _ = call(edge_port, "GET", "/api/v1/boom")
        assert status == 500 and json.loads(body) == {"message": "Internal Server Error"}
        assert any("boom" in line for line in logged), logged

        status, headers, body, _ = call(edge_port, "OPTIONS", "/api/v1/services/01ABC",
                                        headers={"Origin": "https://m.gigbao.cn",
                                                 "Access-Control-Request-Method": "GET"})
        assert status == 204 and headers["access-control-allow-methods"] == "GET", headers

        status, _, _, _ = call(edge_port, "POST", "/api/v1/services/01ABC/order",
                               body=b"x" * (10 * 1024 * 1024 + 1))
        assert status == 413
    finally:
        edge.close()
        lam.shutdown()
    print("[edge] self-test passed: routing, events, answers, $default, failures, CORS",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
