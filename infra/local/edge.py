"""The local HTTP edge: what API Gateway's HTTP API does in front of the functions, on the
public API port, so that the local stack answers as production does.

- Routes are the HTTP API's routes in the templates (method + path with `{param}` segments); a
  request no route takes goes to the `$default` route's function (our `not-found`), as in
  production. Nothing else is reachable: background workers cannot be invoked over HTTP.
- Each request becomes a payload format 2.0 event (lower-case headers, duplicates joined with
  commas, `cookies`, `rawQueryString`, `queryStringParameters`, `pathParameters`,
  `requestContext`), with the body base64-encoded when it is not UTF-8 text, as API Gateway
  does; the function is invoked through `cargo lambda watch`'s Lambda Invoke API.
- The function's answer (`statusCode`, `headers`, `cookies`, `body`, `isBase64Encoded`) becomes
  the HTTP response. A function that fails (an invocation error) is answered 500 with
  `{"message": "Internal Server Error"}`, as API Gateway answers it; a 5xx never comes from the
  edge itself otherwise.
- CORS as the template configures it: preflight `OPTIONS` answered by the edge, the allowed
  origin added to every answer.

Development tooling only: in AWS, API Gateway does this.
"""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import re
import threading
import time
import urllib.parse
import uuid
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

# API Gateway's limit for an HTTP API's request payload.
MAX_BODY = 10 * 1024 * 1024
TEXT_TYPES = re.compile(
    r"^(text/|application/(json|xml|x-www-form-urlencoded|javascript|.*\+json|.*\+xml))", re.I)


@dataclass(frozen=True)
class Route:
    method: str  # upper case, or ANY
    path: str  # the template's path, e.g. /api/v1/services/{service_id}
    function: str  # the function's binary name

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    def match(self, method: str, segments: list[str]) -> dict[str, str] | None:
        if self.method not in ("ANY", method):
            return None
        parts = self.path.strip("/").split("/")
        params: dict[str, str] = {}
        for i, part in enumerate(parts):
            if part.startswith("{") and part.endswith("+}"):
                rest = segments[i:]
                if not rest:
                    return None
                params[part[1:-2]] = "/".join(rest)
                return params
            if i >= len(segments):
                return None
            if part.startswith("{") and part.endswith("}"):
                if not segments[i]:
                    return None
                params[part[1:-1]] = urllib.parse.unquote(segments[i])
            elif part != segments[i]:
                return None
        return params if len(parts) == len(segments) else None

    def specificity(self) -> tuple:
        """API Gateway prefers the most specific route: literal segments over parameters,
        then a method over ANY."""
        parts = self.path.strip("/").split("/")
        return (tuple(0 if p.startswith("{") else 1 for p in parts), self.method != "ANY")


class Router:
    def __init__(self, routes: list[Route], default: str | None):
        self.routes = routes
        self.default = default

    def find(self, method: str, path: str) -> tuple[str, str, dict[str, str]] | None:
        """(route key, function, path parameters) for a request, or None when no route and no
        `$default` takes it."""
        segments = path.strip("/").split("/")
        best = None
        for r in self.routes:
            params = r.match(method, segments)
            if params is not None and (best is None or r.specificity() > best[0].specificity()):
                best = (r, params)
        if best:
            return best[0].key, best[0].function, best[1]
        if self.default:
            return "$default", self.default, {}
        return None


def event_for(method: str, raw_path: str, raw_query: str, headers: list[tuple[str, str]],
              body: bytes, route_key: str, path_params: dict[str, str], source_ip: str,
              request_id: str) -> dict:
    """A payload format 2.0 event, as API Gateway's HTTP API builds it."""
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in headers:
        name = name.lower()
        if name == "cookie":
            cookies.extend(c.strip() for c in value.split(";") if c.strip())
            continue
        merged[name] = f"{merged[name]},{value}" if name in merged else value
    query: dict[str, str] = {}
    for k, v in urllib.parse.parse_qsl(raw_query, keep_blank_values=True):
        query[k] = f"{query[k]},{v}" if k in query else v
    now = dt.datetime.now(dt.timezone.utc)
    event = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
        "headers": merged,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": merged.get("host", "127.0.0.1"),
            "domainPrefix": "127",
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": merged.get("user-agent", ""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = cookies
    if query:
        event["queryStringParameters"] = query
    if path_params:
        event["pathParameters"] = path_params
    if body:
        text = None
        if TEXT_TYPES.match(merged.get("content-type", "")) or "content-type" not in merged:
            try:
                text = body.decode("utf-8")
            except UnicodeDecodeError:
                text = None
        if text is None:
            event["body"] = base64.b64encode(body).decode()
            event["isBase64Encoded"] = True
        else:
            event["body"] = text
    return event


class InvokeError(Exception):
    """The function failed: API Gateway answers 500 Internal Server Error."""


class Lambda:
    """Invokes functions through `cargo lambda watch`'s Lambda Invoke API. One connection per
    invocation: a failure is then never a stale kept-alive connection, so nothing is retried
    (a retry could run a request twice)."""

    def __init__(self, port: int, timeout: float = 600.0):
        self.port = port
        # Generous: the first call of a function may wait for `cargo lambda watch` to build it.
        self.timeout = timeout

    def invoke(self, function: str, event: dict) -> dict | list | str | None:
        payload = json.dumps(event).encode()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request("POST", f"/2015-03-31/functions/{function}/invocations", payload,
                         {"content-type": "application/json"})
            resp = conn.getresponse()
            body = resp.read()
            status = resp.status
        except (http.client.HTTPException, OSError) as e:
            raise InvokeError(f"{function}: the invoke API failed: {e!r}") from e
        finally:
            conn.close()
        if status != 200:
            raise InvokeError(f"{function}: invoke API answered {status}: {body[:300]!r}")
        if not body:
            return None
        try:
            answer = json.loads(body)
        except ValueError:
            return body.decode("utf-8", "replace")
        if isinstance(answer, dict) and "errorType" in answer and "statusCode" not in answer:
            raise InvokeError(f"{function}: {answer.get('errorType')}: {answer.get('errorMessage')}")
        return answer


def http_response(answer) -> tuple[int, list[tuple[str, str]], bytes]:
    """API Gateway's reading of a payload 2.0 answer: a structured response, or anything else
    as a 200 JSON body."""
    if isinstance(answer, dict) and "statusCode" in answer:
        status = int(answer["statusCode"])
        headers = [(k, str(v)) for k, v in (answer.get("headers") or {}).items()]
        for k, values in (answer.get("multiValueHeaders") or {}).items():
            headers.extend((k, str(v)) for v in values)
        headers.extend(("set-cookie", c) for c in answer.get("cookies") or [])
        body = answer.get("body") or ""
        raw = base64.b64decode(body) if answer.get("isBase64Encoded") else body.encode()
        return status, headers, raw
    raw = json.dumps(answer).encode() if answer is not None else b""
    return 200, [("content-type", "application/json")], raw


class Edge:
    def __init__(self, port: int, router: Router, invoke_port: int, cors: dict | None, log,
                 access_log=None):
        self.port = port
        self.router = router
        self.lam = Lambda(invoke_port)
        self.cors = cors or {}
        self.log = log
        self.access_log = access_log
        self.server: ThreadingHTTPServer | None = None
        self.counts = {"requests": 0, "function_errors": 0}
        self.lock = threading.Lock()

    def start(self):
        edge = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without this, Nagle's algorithm and the
            # client's delayed ACK add up to 40 ms to every answer.
            disable_nagle_algorithm = True
            server_version = "gigbao-local-edge"
            sys_version = ""

            def log_message(self, fmt, *args):  # access log goes to a file, not stderr
                if edge.access_log:
                    edge.access_log.write(f"{self.address_string()} {fmt % args}\n")
                    edge.access_log.flush()

            def handle_one_request(self):
                try:
                    super().handle_one_request()
                except ConnectionError:
                    self.close_connection = True

            def __getattr__(self, name):
                if name.startswith("do_"):
                    return self.serve
                raise AttributeError(name)

            def serve(self):
                edge.serve(self)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()

    # ------------------------------------------------------------------ one request
    def _body(self, h: BaseHTTPRequestHandler) -> bytes | None:
        if "chunked" in (h.headers.get("transfer-encoding") or "").lower():
            chunks = []
            size = 0
            while True:
                line = h.rfile.readline(65537)
                n = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if n == 0:
                    while h.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                size += n
                if size > MAX_BODY:
                    return None
                chunks.append(h.rfile.read(n))
                h.rfile.readline(3)
        length = int(h.headers.get("content-length") or 0)
        if length > MAX_BODY:
            # Read what the client is sending (within reason) so that it sees the 413 rather
            # than a reset connection.
            left = length if length <= 8 * MAX_BODY else 0
            while left > 0:
                chunk = h.rfile.read(min(left, 1 << 16))
                if not chunk:
                    break
                left -= len(chunk)
            return None
        return h.rfile.read(length) if length > 0 else b""

    def _send(self, h: BaseHTTPRequestHandler, status: int, headers: list[tuple[str, str]],
              body: bytes, origin: str | None):
        h.send_response_only(status)
        names = set()
        for k, v in headers:
            if k.lower() in ("content-length", "transfer-encoding", "connection"):
                continue
            names.add(k.lower())
            h.send_header(k, v)
        if origin and self.cors and "access-control-allow-origin" not in names:
            allowed = self.cors.get("AllowOrigins") or []
            if "*" in allowed or origin in allowed:
                h.send_header("access-control-allow-origin", "*" if "*" in allowed else origin)
        if "date" not in names:
            h.send_header("date", h.date_time_string())
        h.send_header("apigw-requestid", getattr(h, "request_id", ""))
        h.send_header("content-length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def _plain(self, h, status: int, message: str, origin: str | None):
        body = json.dumps({"message": message}).encode()
        self._send(h, status, [("content-type", "application/json")], body, origin)

    def serve(self, h: BaseHTTPRequestHandler):
        with self.lock:
            self.counts["requests"] += 1
        h.request_id = base64.b32encode(uuid.uuid4().bytes)[:16].decode()
        origin = h.headers.get("origin")
        body = self._body(h)
        if body is None:
            h.close_connection = True
            return self._plain(h, 413, "Request Entity Too Large", origin)
        split = urllib.parse.urlsplit(h.path)
        raw_path = split.path or "/"
        method = h.command.upper()
        if method == "OPTIONS" and self.cors and h.headers.get("access-control-request-method"):
            return self._preflight(h, origin)
        found = self.router.find(method, raw_path)
        if found is None:
            return self._plain(h, 404, "Not Found", origin)
        route_key, function, params = found
        source_ip = h.client_address[0]
        event = event_for(method, raw_path, split.query, list(h.headers.items()), body,
                          route_key, params, source_ip, h.request_id)
        started = time.monotonic()
        try:
            answer = self.lam.invoke(function, event)
        except InvokeError as e:
            with self.lock:
                self.counts["function_errors"] += 1
            shown = {k: v for k, v in event.items() if k not in ("body", "requestContext")}
            self.log(f"edge: {method} {h.path} → {e}; event without its body: "
                     f"{json.dumps(shown, ensure_ascii=False)[:2000]}")
            self._access(h, function, 500, started)
            return self._plain(h, 500, "Internal Server Error", origin)
        status, headers, raw = http_response(answer)
        self._send(h, status, headers, raw, origin)
        self._access(h, function, status, started)

    def _access(self, h, function: str, status: int, started: float):
        if self.access_log:
            ms = (time.monotonic() - started) * 1000
            self.access_log.write(f"{h.command} {h.path} {function} {status} {ms:.1f}ms\n")
            self.access_log.flush()

    def _preflight(self, h, origin):
        allowed = self.cors.get("AllowOrigins") or []
        headers = [("access-control-allow-methods", ",".join(self.cors.get("AllowMethods") or [])),
                   ("access-control-allow-headers", ",".join(self.cors.get("AllowHeaders") or []))]
        if origin and ("*" in allowed or origin in allowed):
            headers.append(("access-control-allow-origin", "*" if "*" in allowed else origin))
        self._send(h, 204, headers, b"", None)
