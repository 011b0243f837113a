"""A local stand-in for API Gateway's WebSocket API, read from template.yaml: accepts
WebSocket connections on one port and invokes the `$connect`, `$default` and `$disconnect`
functions with API Gateway WebSocket events (through cargo-lambda's invoke API); serves the
`@connections` management API (POST to push, GET, DELETE; 410 GoneException for a closed
connection) on another port, which the functions' push code calls as `WS_ENDPOINT`.
Development tooling only: in AWS, API Gateway does this."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import threading
import time
import urllib.parse
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from websockets.asyncio.server import ServerConnection, serve

from events import invoke


def _connection_id() -> str:
    # API Gateway's ids look like "L0SM9cOFvHcCIhw=".
    return base64.b64encode(os.urandom(10)).decode()


class WebSocketApi:
    def __init__(self, invoke_port: int, routes: dict[str, str], ws_port: int, mgmt_port: int,
                 log):
        self.invoke_port = invoke_port
        self.routes = routes
        self.ws_port = ws_port
        self.mgmt_port = mgmt_port
        self.log = log
        self.connections: dict[str, ServerConnection] = {}
        self.connected_at: dict[str, int] = {}
        self.loop: asyncio.AbstractEventLoop | None = None
        self.ready = threading.Event()
        self.stopping: asyncio.Event | None = None
        self.mgmt: ThreadingHTTPServer | None = None

    # ------------------------------------------------------------------ events
    def _event(self, route: str, conn_id: str, **extra) -> dict:
        now = int(time.time() * 1000)
        kind = {"$connect": "CONNECT", "$disconnect": "DISCONNECT"}.get(route, "MESSAGE")
        return {
            "requestContext": {
                "routeKey": route, "eventType": kind, "connectionId": conn_id,
                "connectedAt": self.connected_at.get(conn_id, now), "requestTimeEpoch": now,
                "requestId": _connection_id(), "extendedRequestId": _connection_id(),
                "messageDirection": "IN", "stage": "ws", "apiId": "local",
                "domainName": "127.0.0.1", "identity": {"sourceIp": "127.0.0.1"},
            },
            "isBase64Encoded": False,
            **extra,
        }

    async def _invoke(self, route: str, event: dict) -> dict | None:
        function = self.routes.get(route) or self.routes.get("$default")
        if not function:
            return None
        return await asyncio.to_thread(invoke, self.invoke_port, function, event, 60.0)

    # ------------------------------------------------------------------ sockets
    async def _process_request(self, connection: ServerConnection, request):
        conn_id = _connection_id()
        self.connected_at[conn_id] = int(time.time() * 1000)
        query = urllib.parse.parse_qs(urllib.parse.urlsplit(request.path).query)
        event = self._event("$connect", conn_id,
                            queryStringParameters={k: v[0] for k, v in query.items()} or None,
                            headers=dict(request.headers.raw_items()))
        try:
            answer = await self._invoke("$connect", event) or {}
        except Exception as e:  # the function failed: API Gateway answers 500
            self.log(f"websocket: $connect failed: {e}")
            return connection.respond(HTTPStatus.INTERNAL_SERVER_ERROR, "Internal server error\n")
        status = int(answer.get("statusCode", 200))
        if status != 200:
            return connection.respond(status, (answer.get("body") or "Forbidden") + "\n")
        connection.gigbao_id = conn_id
        return None

    async def _handler(self, connection: ServerConnection):
        conn_id = connection.gigbao_id
        self.connections[conn_id] = connection
        try:
            async for message in connection:
                body = message if isinstance(message, str) else message.decode("utf-8", "replace")
                try:
                    answer = await self._invoke("$default", self._event("$default", conn_id, body=body))
                except Exception as e:
                    self.log(f"websocket: $default failed: {e}")
                    await connection.send(json.dumps({"message": "Internal server error"}))
                    continue
                if answer and answer.get("body"):
                    await connection.send(answer["body"])
        except Exception:
            pass
        finally:
            self.connections.pop(conn_id, None)
            try:
                await self._invoke("$disconnect", self._event("$disconnect", conn_id))
            except Exception as e:
                self.log(f"websocket: $disconnect failed: {e}")
            self.connected_at.pop(conn_id, None)

    async def _serve(self):
        self.stopping = asyncio.Event()
        async with serve(self._handler, "127.0.0.1", self.ws_port,
                         process_request=self._process_request, ping_interval=None):
            self.ready.set()
            await self.stopping.wait()

    # ------------------------------------------------------------------ @connections
    def _post(self, conn_id: str, data: bytes) -> bool:
        conn = self.connections.get(conn_id)
        if conn is None or self.loop is None:
            return False
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = data
        fut = asyncio.run_coroutine_threadsafe(conn.send(text), self.loop)
        try:
            fut.result(timeout=5)
            return True
        except Exception:
            return False

    def _close(self, conn_id: str) -> bool:
        conn = self.connections.get(conn_id)
        if conn is None or self.loop is None:
            return False
        asyncio.run_coroutine_threadsafe(conn.close(), self.loop)
        return True

    def _management(self):
        api = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _id(self) -> str | None:
                path = urllib.parse.urlsplit(self.path).path
                prefix = "/@connections/"
                if not path.startswith(prefix):
                    return None
                return urllib.parse.unquote(path[len(prefix):])

            def _answer(self, status: int, body: dict | None = None, error: str | None = None):
                data = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("content-type", "application/json")
                if error:
                    self.send_header("x-amzn-ErrorType", error)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _gone(self):
                self._answer(410, {"message": "Gone"}, "GoneException")

            def do_POST(self):
                conn_id = self._id()
                data = self.rfile.read(int(self.headers.get("content-length") or 0))
                if conn_id is None:
                    return self._answer(404, {"message": "Not found"}, "NotFoundException")
                if not api._post(conn_id, data):
                    return self._gone()
                self._answer(200)

            def do_DELETE(self):
                conn_id = self._id()
                if conn_id is None or not api._close(conn_id):
                    return self._gone()
                self._answer(204)

            def do_GET(self):
                conn_id = self._id()
                if conn_id is None or conn_id not in api.connections:
                    return self._gone()
                at = api.connected_at.get(conn_id, 0) / 1000
                stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(at))
                self._answer(200, {"connectedAt": stamp, "lastActiveAt": stamp,
                                   "identity": {"sourceIp": "127.0.0.1"}})

        return ThreadingHTTPServer(("127.0.0.1", self.mgmt_port), Handler)

    # ------------------------------------------------------------------ lifecycle
    def start(self):
        def run():
            self.loop = asyncio.new_event_loop()
            self.loop.run_until_complete(self._serve())

        threading.Thread(target=run, daemon=True).start()
        self.mgmt = self._management()
        threading.Thread(target=self.mgmt.serve_forever, daemon=True).start()
        if not self.ready.wait(10):
            raise RuntimeError("the WebSocket emulator did not start")

    def close(self):
        if self.mgmt:
            self.mgmt.shutdown()
        if self.loop and self.stopping:
            self.loop.call_soon_threadsafe(self.stopping.set)
