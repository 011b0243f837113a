#!/usr/bin/env python3
"""The local stack, with no Docker and no internet:

  MiniStack (DynamoDB + Streams, SQS, S3) on 127.0.0.1
  + the table, queues and bucket of template.yaml and its nested stacks (stacks/)
  + `cargo lambda watch` running the functions (its Invoke API on an internal port)
  + the HTTP edge on the API port (API Gateway's routing and events, see edge.py)
  + event sources (stream → stream-router, SQS → workers, schedules)
  + the WebSocket API (ws://127.0.0.1:<ws port>/ws?token=…, and its @connections endpoint)

`stack.py dev` runs it in the foreground with demo data until Ctrl-C.
`stack.py test -- CMD…` runs it on free ports, runs CMD against it, stops it, and exits
with CMD's status.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import re
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gateway_sandbox  # noqa: E402
import opensearch as search_node  # noqa: E402
import template as tpl  # noqa: E402
from edge import Edge, Route, Router  # noqa: E402
from events import EventSources  # noqa: E402
from websocket import WebSocketApi  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
# Only for the local stack: fixed keys so tokens and sealed data survive a restart of `make dev`.
# `make dev` keeps its keys across restarts (tokens in a client survive a restart); test
# stacks make new ones.
DEV_KEY_SEED = hashlib.sha256(b"gigbao local development only").digest()
DEV_PII_KEY = base64.b64encode(b"local-development-only-pii-key!!").decode()


@dataclass
class Keys:
    """What the operator keeps in Secrets Manager (docs/deploying.md), made here: the token
    secret and its public key, the 实名认证 key."""
    token_secret: str  # JSON: signing_key (PKCS#8 Ed25519, base64), mac_key (base64)
    public_key: str  # base64url of the raw Ed25519 public key (AccessTokenPublicKey)
    pii_key: str

    @staticmethod
    def from_seed(seed: bytes, pii_key: str) -> "Keys":
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        private = Ed25519PrivateKey.from_private_bytes(seed)
        pkcs8 = private.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                      serialization.NoEncryption())
        raw = private.public_key().public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)
        mac = hashlib.sha256(b"mac" + seed).digest()
        return Keys(json.dumps({"signing_key": base64.b64encode(pkcs8).decode(),
                                "mac_key": base64.b64encode(mac).decode()}),
                    base64.urlsafe_b64encode(raw).decode().rstrip("="), pii_key)
# MiniStack's account: the ARNs it hands out, and the one the template's ${AWS::AccountId} is.
ACCOUNT_ID = "000000000000"


def log(msg: str) -> None:
    print(f"[stack] {msg}", file=sys.stderr, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until(check, what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception:
            pass
        time.sleep(0.25)
    raise SystemExit(f"[stack] {what} did not come up within {timeout:.0f}s")


def port_open(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def http_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=120) as r:
            return r.status < 500
    except urllib.error.HTTPError as e:
        return e.code < 500


class Stack:
    region = "us-east-1"

    def __init__(self, name: str, aws_port: int, api_port: int, log_dir: Path, keys: Keys,
                 outbox_dir: Path, sandbox_port: int, ws_port: int,
                 ws_mgmt_port: int, invoke_port: int):
        self.ws_port = ws_port
        self.ws_mgmt_port = ws_mgmt_port
        # `cargo lambda watch` listens here; only the edge, the event sources and the
        # WebSocket emulation call it (in AWS: the Lambda service itself).
        self.invoke_port = invoke_port
        self.record_aws_calls = False
        self.edge: Edge | None = None
        self.websocket: WebSocketApi | None = None
        self.sandbox_port = sandbox_port
        self.sandbox = None
        self.keys = keys
        self.outbox_dir = outbox_dir
        self.name = name
        self.aws_port = aws_port
        self.api_port = api_port
        self.log_dir = log_dir
        self.procs: list[subprocess.Popen] = []
        # The functions' search engine: tantivy in a directory fresh with the fresh table (the
        # default: starts at once, nothing to install), or the real OpenSearch node
        # (`SEARCH_ENGINE=opensearch`), an alias of this stack's own on it.
        self.search_engine = os.environ.get("SEARCH_ENGINE", "tantivy")
        if self.search_engine not in ("tantivy", "opensearch"):
            raise SystemExit(f"SEARCH_ENGINE must be tantivy or opensearch, not {self.search_engine}")
        self.search_node: search_node.Node | None = None
        self.search_dir = ROOT / ".local" / "search" / name
        # The briefs' index lives beside it (`{dir}-briefs`, shared/src/deps.rs).
        self.brief_search_dir = self.search_dir.with_name(f"{name}-briefs")
        for d in (self.search_dir, self.brief_search_dir):
            shutil.rmtree(d, ignore_errors=True)
        self.events: EventSources | None = None
        self.template = tpl.load_app(ROOT / "template.yaml")
        self.functions = tpl.functions(self.template)
        self.refs: dict[str, str] = {}
        self.atts: dict[tuple[str, str], str] = {}

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.aws_port}"

    @property
    def api_url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}/api/v1"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ws_port}/ws"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    def start_sandbox(self) -> None:
        """The gateway sandbox (Alipay and WeChat Pay with test keys), and the payment settings
        secret that points the functions at it."""
        self.sandbox = gateway_sandbox.serve(self.sandbox_port)
        secret = self.aws("secretsmanager").create_secret(
            Name=f"{self.name}/payments",
            SecretString=json.dumps(gateway_sandbox.payment_settings(self.api_url, self.sandbox_url)))
        self.refs["PaymentSecretArn"] = secret["ARN"]
        secret = self.aws("secretsmanager").create_secret(
            Name=f"{self.name}/wechat-login",
            SecretString=json.dumps(gateway_sandbox.wechat_login_settings(self.sandbox_url)))
        self.refs["WechatLoginSecretArn"] = secret["ARN"]
        secret = self.aws("secretsmanager").create_secret(
            Name=f"{self.name}/alipay-login",
            SecretString=json.dumps(gateway_sandbox.alipay_login_settings(self.sandbox_url)))
        self.refs["AlipayLoginSecretArn"] = secret["ARN"]
        log(f"gateway sandbox on {self.sandbox_url} (Alipay and WeChat Pay, test keys)")

    def aws(self, service: str):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=self.region,
                            aws_access_key_id="test", aws_secret_access_key="test")

    def _spawn(self, name: str, cmd: list[str], env: dict) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        out = open(self.log_dir / f"{name}.log", "wb")
        p = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                             stdin=subprocess.DEVNULL, start_new_session=True)
        self.procs.append(p)
        return p

    # ------------------------------------------------------------------ emulator
    def start_emulator(self) -> None:
        env = {**os.environ, "BIND_HOST": "127.0.0.1", "GATEWAY_PORT": str(self.aws_port)}
        self._spawn("ministack", [str(VENV_BIN / "ministack")], env)
        wait_until(lambda: http_ok(f"{self.endpoint}/_ministack/health"), "MiniStack", 60)
        log(f"MiniStack on {self.endpoint}")

    def create_resources(self) -> None:
        """Creates what template.yaml describes, in dependency order (DLQs before queues)."""
        resources = self.template["Resources"]
        self.refs.update({
            "AWS::Region": self.region, "AWS::AccountId": ACCOUNT_ID,
            "AWS::Partition": "aws", "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackName": self.name, "AccessTokenPublicKey": self.keys.public_key,
            # The WebSocket API is emulated (see websocket.py); WS_ENDPOINT is set locally.
            "WebSocketApi": "local", "WebSocketStage": "ws",
        })
        for pname, p in self.template.get("Parameters", {}).items():
            # Parameters without a default (production secrets) are unused locally.
            self.refs.setdefault(pname, str(p.get("Default", "local-unset")))
        ddb, sqs, s3 = self.aws("dynamodb"), self.aws("sqs"), self.aws("s3")
        # The secrets the operator creates before deploying, created the same way here. The
        # Aliyun key pair is never read locally (SMS and mail go to the outbox).
        sm = self.aws("secretsmanager")
        for param, suffix, value in [
                ("TokenSecretArn", "tokens", self.keys.token_secret),
                ("PiiSecretArn", "pii", json.dumps({"pii_key": self.keys.pii_key})),
                ("AliyunSecretArn", "aliyun", json.dumps({"access_key_id": "local-unused",
                                                          "access_key_secret": "local-unused"}))]:
            self.refs[param] = sm.create_secret(Name=f"{self.name}/{suffix}",
                                                SecretString=value)["ARN"]

        def order(item):
            # Dead-letter queues before the queues that name them; buckets (whose
            # notifications name queues) last.
            kind, props = item[1]["Type"], item[1].get("Properties", {})
            if kind == "AWS::S3::Bucket":
                return 2
            return 1 if "RedrivePolicy" in props else 0

        for lid, res in sorted(resources.items(), key=order):
            props = res.get("Properties", {})
            if res["Type"] == "AWS::DynamoDB::Table":
                name = f"{self.name}-{lid.lower()}"
                kwargs = dict(
                    TableName=name,
                    AttributeDefinitions=props["AttributeDefinitions"],
                    KeySchema=props["KeySchema"],
                    BillingMode="PAY_PER_REQUEST",
                )
                if props.get("GlobalSecondaryIndexes"):
                    kwargs["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
                if props.get("StreamSpecification"):
                    kwargs["StreamSpecification"] = {
                        "StreamEnabled": True, **props["StreamSpecification"]}
                ddb.create_table(**kwargs)
                ttl = props.get("TimeToLiveSpecification")
                if ttl:
                    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=ttl)
                desc = ddb.describe_table(TableName=name)["Table"]
                self.refs[lid] = name
                self.atts[(lid, "Arn")] = desc["TableArn"]
                self.atts[(lid, "StreamArn")] = desc.get("LatestStreamArn", "")
            elif res["Type"] == "AWS::SQS::Queue":
                name = f"{self.name}-{lid}"
                attrs = {}
                if "VisibilityTimeout" in props:
                    attrs["VisibilityTimeout"] = str(props["VisibilityTimeout"])
                if "MessageRetentionPeriod" in props:
                    attrs["MessageRetentionPeriod"] = str(props["MessageRetentionPeriod"])
                if "RedrivePolicy" in props:
                    rp = props["RedrivePolicy"]
                    attrs["RedrivePolicy"] = json.dumps({
                        "deadLetterTargetArn": tpl.resolve(rp["deadLetterTargetArn"], self.refs, self.atts),
                        "maxReceiveCount": str(rp["maxReceiveCount"]),
                    })
                url = sqs.create_queue(QueueName=name, Attributes=attrs)["QueueUrl"]
                arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])[
                    "Attributes"]["QueueArn"]
                self.refs[lid] = url
                self.atts[(lid, "Arn")] = arn
                self.atts[(lid, "QueueName")] = name
            elif res["Type"] == "AWS::OpenSearchService::Domain":
                # No managed domain here: the functions search a tantivy index on disk, or
                # this stack's OpenSearch node (SEARCH_ENGINE=opensearch; see own_env).
                self.refs[f"{lid}.DomainEndpoint"] = "opensearch.invalid"
                self.refs[f"{lid}.Arn"] = f"arn:aws:es:{self.region}:000000000000:domain/{lid}"
            elif res["Type"] == "AWS::S3::Bucket":
                name = f"{self.name}-{lid}".lower()
                s3.create_bucket(Bucket=name)
                self.refs[lid] = name
                self.atts[(lid, "Arn")] = f"arn:aws:s3:::{name}"
                cors = props.get("CorsConfiguration")
                if cors:
                    # CloudFormation spells two keys differently from the S3 API.
                    rules = [{("MaxAgeSeconds" if k == "MaxAge" else k): v for k, v in r.items()}
                             for r in cors["CorsRules"]]
                    s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
                queues = (props.get("NotificationConfiguration") or {}).get("QueueConfigurations", [])
                if queues:
                    s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={
                        "QueueConfigurations": [{
                            "QueueArn": tpl.resolve(q["Queue"], self.refs, self.atts),
                            "Events": [q["Event"]],
                            "Filter": {"Key": {"FilterRules": q["Filter"]["S3Key"]["Rules"]}},
                        } for q in queues]
                    })
        log(f"created table, queues and bucket of template.yaml as {self.name}-*")

    def write_resources(self) -> None:
        """What the template's names resolved to here, for check_permissions.py."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        (self.log_dir / "resources.json").write_text(json.dumps({
            "refs": self.refs,
            "atts": {f"{lid}.{att}": v for (lid, att), v in self.atts.items()},
        }, indent=1, sort_keys=True))

    # ------------------------------------------------------------------ functions
    def local_env(self) -> dict[str, str]:
        """What the local stack gives every function process: the emulator's endpoint and
        credentials (in AWS: the runtime's own variables and the real endpoints)."""
        env = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_REGION": self.region,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ACCESS_KEY_ID": "test",
            "AWS_SECRET_ACCESS_KEY": "test",
            "TRUST_FORWARDED_FOR": "true",
            "S3_FORCE_PATH_STYLE": "true",
            "RUST_LOG": "info",
        }
        if self.record_aws_calls:
            # Each AWS call is logged as IAM authorizes it (check_permissions.py reads them).
            # OpenSearch requests are recorded by the adapter, on the domain's ARN.
            env.update({"GIGBAO_RECORD_AWS_CALLS": "1", "GIGBAO_ACCOUNT_ID": ACCOUNT_ID,
                        "GIGBAO_SEARCH_DOMAIN_ARN": self.refs.get("SearchDomain.Arn", "")})
        return env

    def own_env(self, fn) -> dict[str, str]:
        """One function's environment as the template gives it (CloudFormation's resolution),
        with local stand-ins where the template points at what cannot run here: only the
        functions the template gives a provider, a search domain or a WebSocket endpoint get
        the local one."""
        # Public media come from the emulator's bucket itself (in AWS: the CDN in front of it).
        local_media = {"MEDIA_BASE_URL": f"{self.endpoint}/{self.refs.get('MediaBucket', '')}"}
        env = {k: local_media.get(k) or tpl.resolve(v, self.refs, self.atts)
               for k, v in fn.env.items()}
        if "SMS_PROVIDER" in env:
            # Nothing leaves the machine: codes and mail go to JSON-lines files.
            env.update({"SMS_PROVIDER": "outbox", "OUTBOX_DIR": str(self.outbox_dir)})
        if "IMAGE_MODERATION" in env:
            # No provider is reachable here: images pass (the adapter is pinned by wiremock).
            env.pop("IMAGE_MODERATION")
        if "MAIL_PROVIDER" in env:
            env.update({"MAIL_PROVIDER": "outbox", "OUTBOX_DIR": str(self.outbox_dir)})
        if "APP_BASE_URL" in env:
            env["APP_BASE_URL"] = f"http://127.0.0.1:{self.api_port}"
        if "WS_ENDPOINT" in env:
            # The emulated WebSocket API's @connections endpoint.
            env["WS_ENDPOINT"] = f"http://127.0.0.1:{self.ws_mgmt_port}"
        if "SEARCH_URL" in env:
            if self.search_engine == "opensearch" and self.search_node:
                # The node is this stack's own: the index keeps the template's name, so that
                # the recorded OpenSearch calls name the paths the template grants.
                env["SEARCH_URL"] = self.search_node.url
            else:
                env.pop("SEARCH_URL")
                env.pop("SEARCH_INDEX", None)
                env["SEARCH_INDEX_DIR"] = str(self.search_dir)
        return env

    def function_env(self) -> dict[str, str]:
        """Every function's variables together, for the tools and tests that act as any of
        them (devtool, the test suites)."""
        env: dict[str, str] = {}
        for fn in self.functions:
            env.update(self.own_env(fn))
        env.update(self.local_env())
        return env

    def write_function_env(self) -> Path:
        """Each function's own variables, by binary: `cargo lambda watch` gives every function
        process the same environment, so the functions read theirs from this file
        (`GIGBAO_FUNCTION_ENV`; never set in AWS) — a function sees what it would see in AWS
        and nothing more."""
        self.log_dir.mkdir(parents=True, exist_ok=True)
        path = self.log_dir / "function-env.json"
        path.write_text(json.dumps({fn.binary: self.own_env(fn) for fn in self.functions},
                                   indent=1, sort_keys=True))
        return path

    def process_env(self) -> dict[str, str]:
        env = {**os.environ, **self.function_env()}
        env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
        return env

    def start_functions(self, reload: bool) -> None:
        cmd = ["cargo", "lambda", "watch", "--invoke-address", "127.0.0.1",
               "--invoke-port", str(self.invoke_port)]
        if not reload:
            cmd.append("--ignore-changes")
        watch_env = {**os.environ, **self.local_env(),
                     "GIGBAO_FUNCTION_ENV": str(self.write_function_env())}
        watch_env["PATH"] = f"{VENV_BIN}{os.pathsep}{watch_env.get('PATH', '')}"
        # The ports chosen at start are bound before anything else runs: left free while the
        # functions build and start, one was taken by an outgoing connection's ephemeral port
        # ("Address already in use").
        self.edge = Edge(self.api_port, self.router(), self.invoke_port,
                         tpl.http_api_cors(self.template), log,
                         open(self.log_dir / "edge-access.log", "a", encoding="utf-8"))
        self.edge.start()
        self.websocket = WebSocketApi(self.invoke_port, tpl.websocket_routes(self.template),
                                      self.ws_port, self.ws_mgmt_port, log)
        self.websocket.start()
        self._spawn("cargo-lambda-watch", cmd, watch_env)
        wait_until(lambda: port_open(self.invoke_port), "cargo lambda watch", 120)
        wait_until(lambda: http_ok(f"{self.api_url}/health"), "cargo lambda watch", 600)
        log(f"API on {self.api_url}")
        self.events = EventSources(self, self.functions, log)
        self.events.start()
        log("event sources polling (stream → stream-router, SQS → workers, schedules)")
        log(f"WebSocket API on {self.ws_url} (@connections on 127.0.0.1:{self.ws_mgmt_port})")

    def router(self) -> Router:
        """The HTTP API's routes, from the template, as API Gateway has them."""
        routes = [Route(m, p, fn.binary) for fn in self.functions for (m, p) in fn.routes]
        defaults = [fn.binary for fn in self.functions if fn.default_route]
        return Router(routes, defaults[0] if defaults else None)

    def seed(self, path: Path, command: str = "seed") -> str:
        out = subprocess.run(
            ["cargo", "run", "--quiet", "-p", "devtool", "--", command, str(path)],
            cwd=ROOT, env=self.process_env(), capture_output=True, text=True)
        if out.returncode != 0:
            log(f"devtool {command} failed:\n{out.stderr[-4000:]}")
            raise SystemExit(1)
        return out.stdout

    def start_search(self, always: bool) -> None:
        """Starts the OpenSearch node if the functions search on it, or `always` (the test
        suites run their search tests on both engines)."""
        if self.search_engine != "opensearch" and not always:
            log("search: tantivy (SEARCH_ENGINE=opensearch runs the functions on a real OpenSearch node)")
            return
        self.log_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        self.search_node = search_node.Node(self.log_dir / "opensearch.log")
        log(f"OpenSearch {self.search_node.version} on {self.search_node.url} "
            f"(a real node from Maven artifacts, started in {time.monotonic() - started:.0f} s); "
            f"the functions search on {self.search_engine}")

    def stop(self) -> None:
        if self.search_node:
            self.search_node.stop()
        if self.edge:
            self.edge.close()
        if self.websocket:
            self.websocket.close()
        if self.events:
            self.events.close()
        if self.sandbox:
            self.sandbox.shutdown()
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGTERM)
                except ProcessLookupError:
                    pass
        for p in self.procs:
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)


def dev(args) -> int:
    stack = Stack("gigbao-dev", args.aws_port, args.api_port, ROOT / ".local" / "logs",
                  Keys.from_seed(DEV_KEY_SEED, DEV_PII_KEY), ROOT / ".local" / "outbox", args.sandbox_port,
                  args.ws_port, args.ws_mgmt_port, args.invoke_port)
    stopping = False

    def on_signal(*_):
        nonlocal stopping
        stopping = True

    # Ctrl-C and `kill` both stop everything this started (a shell may hand a background
    # job SIGINT ignored, so install the handler explicitly).
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        stack.start_emulator()
        stack.create_resources()
        stack.start_sandbox()
        stack.start_search(always=False)
        # What `stack.py devtool` needs to act on this running stack.
        DEV_ENV.write_text(json.dumps(stack.function_env(), indent=1))
        print(stack.seed(ROOT / "infra" / "seed" / "catalog.json", "seed-catalog"), end="")
        print(stack.seed(ROOT / "infra" / "seed" / "demo-users.json"), end="")
        stack.start_functions(reload=True)
        print(f"\nGigbao API: {stack.api_url}   (try: curl {stack.api_url}/health)")
        print(f"WebSocket: {stack.ws_url}?token=<access token>   (pushes messages, "
              f"notifications and order changes; send {{\"action\": \"ping\"}})")
        print(f"Gateway sandbox: {stack.sandbox_url}   (open a top-up's pay_url to pay it; "
              f"WeChat: POST {stack.sandbox_url}/wechat/sandbox/pay/<out_trade_no>)")
        print(f"Lambda Invoke API: 127.0.0.1:{stack.invoke_port}   ({VENV_BIN}/cargo-lambda lambda "
              f"invoke -A 127.0.0.1 -P {stack.invoke_port} <function> --data-file "
              f"events/<function>/<event>.json)")
        print(f"Logs: {stack.log_dir}/   SMS codes and emails: {stack.outbox_dir}/   Stop: Ctrl-C\n",
              flush=True)
        while not stopping:
            for p in stack.procs:
                if p.poll() is not None:
                    log(f"{p.args[0]} exited with {p.returncode}; stopping")
                    return 1
            time.sleep(0.5)
        return 0
    except KeyboardInterrupt:
        return 0
    finally:
        log("stopping")
        stack.stop()


def test(args) -> int:
    name = f"gigbao-test-{secrets.token_hex(3)}"
    outbox = ROOT / ".local" / "test-outbox"
    if outbox.exists():
        for f in outbox.iterdir():
            f.unlink()
    log_dir = Path(args.log_dir) if args.log_dir else ROOT / ".local" / "test-logs"
    stack = Stack(name, free_port(), free_port(), log_dir,
                  Keys.from_seed(secrets.token_bytes(32),
                                 base64.b64encode(secrets.token_bytes(32)).decode()),
                  outbox, free_port(), free_port(), free_port(), free_port())
    stack.record_aws_calls = True
    try:
        stack.start_emulator()
        stack.create_resources()
        stack.start_sandbox()
        stack.start_search(always=True)
        stack.write_resources()
        stack.seed(ROOT / "infra" / "seed" / "catalog.json", "seed-catalog")
        stack.start_functions(reload=False)
        env = {
            **stack.process_env(),
            "GIGBAO_API_URL": stack.api_url,
            "GIGBAO_AWS_ENDPOINT": stack.endpoint,
            "GIGBAO_TABLE_NAME": stack.refs["Table"],
            "GIGBAO_MEDIA_BUCKET": stack.refs["MediaBucket"],
            "GIGBAO_OUTBOX_DIR": str(stack.outbox_dir),
            "GIGBAO_LOG_DIR": str(stack.log_dir),
            "GIGBAO_PII_KEY": stack.keys.pii_key,
            # For tests that mint tokens as the stack's token-issuing functions do.
            "GIGBAO_TOKEN_SECRET": stack.keys.token_secret,
            "GIGBAO_SANDBOX_URL": stack.sandbox_url,
            "GIGBAO_WS_URL": stack.ws_url,
            "GIGBAO_OPENSEARCH_URL": stack.search_node.url if stack.search_node else "",
            "GIGBAO_OPENSEARCH_VERSION": stack.search_node.version if stack.search_node else "",
            "GIGBAO_SEARCH_ENGINE": stack.search_engine,
        }
        status = subprocess.run(args.cmd, cwd=ROOT, env=env).returncode
    finally:
        stack.stop()
        shutil.rmtree(stack.search_dir, ignore_errors=True)
        shutil.rmtree(stack.brief_search_dir, ignore_errors=True)
    leaks = secrets_in_logs(stack.log_dir / "cargo-lambda-watch.log", stack.outbox_dir)
    if leaks:
        log(f"secrets found in function logs: {len(leaks)}")
        for line in leaks[:10]:
            log(f"  {line}")
        return status or 1
    log("no phone number, code or emailed token from the outbox appears in the function logs")
    return status


def secrets_in_logs(log_file: Path, outbox: Path) -> list[str]:
    """Every phone number and code sent by SMS and every token sent by email during the run
    must be absent from the functions' logs. Codes are six digits, so they count only as a
    whole word (not inside a longer number, an id or a timestamp's fraction)."""
    plain: set[str] = set()
    codes: set[str] = set()
    sms, mail = outbox / "sms.jsonl", outbox / "mail.jsonl"
    for line in sms.read_text().splitlines() if sms.exists() else []:
        msg = json.loads(line)
        plain.add(msg["to"])
        if "code" in msg:
            codes.add(msg["code"])
    for line in mail.read_text().splitlines() if mail.exists() else []:
        plain.update(re.findall(r"token=([A-Za-z0-9_-]{20,})", json.loads(line)["text"]))
    if not (plain or codes) or not log_file.exists():
        return []
    code_re = re.compile(r"(?<![0-9A-Za-z.])(?:" + "|".join(sorted(codes)) + r")(?![0-9A-Za-z])") \
        if codes else None
    found = []
    for n, line in enumerate(log_file.read_text(errors="replace").splitlines(), 1):
        if any(x in line for x in plain) or (code_re and code_re.search(line)):
            found.append(f"line {n} of {log_file.name}")
    return found


DEV_ENV = ROOT / ".local" / "dev-env.json"


def devtool(args) -> int:
    """Runs `devtool ARGS` against the running `make dev` stack."""
    if not DEV_ENV.exists():
        print("start the local stack first: make dev", file=sys.stderr)
        return 2
    env = {**os.environ, **json.loads(DEV_ENV.read_text())}
    return subprocess.run(["cargo", "run", "--quiet", "-p", "devtool", "--", *args.cmd],
                          cwd=ROOT, env=env).returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    d = sub.add_parser("dev", help="run the local stack with demo data until Ctrl-C")
    d.add_argument("--aws-port", type=int, default=int(os.environ.get("GIGBAO_AWS_PORT", 4566)))
    d.add_argument("--api-port", type=int, default=int(os.environ.get("GIGBAO_API_PORT", 9000)))
    d.add_argument("--sandbox-port", type=int,
                   default=int(os.environ.get("GIGBAO_SANDBOX_PORT", 9100)))
    d.add_argument("--ws-port", type=int, default=int(os.environ.get("GIGBAO_WS_PORT", 9001)))
    d.add_argument("--ws-mgmt-port", type=int,
                   default=int(os.environ.get("GIGBAO_WS_MGMT_PORT", 9002)))
    d.add_argument("--invoke-port", type=int,
                   default=int(os.environ.get("GIGBAO_INVOKE_PORT", 9003)),
                   help="cargo lambda watch's Lambda Invoke API (for `cargo lambda invoke -P`)")
    t = sub.add_parser("test", help="run CMD against a fresh stack on free ports")
    t.add_argument("--log-dir", help="where the run's logs go (default .local/test-logs)")
    t.add_argument("cmd", nargs=argparse.REMAINDER)
    dt = sub.add_parser("devtool", help="run infra/devtool against the running dev stack")
    dt.add_argument("cmd", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    if args.mode == "devtool":
        if args.cmd and args.cmd[0] == "--":
            args.cmd = args.cmd[1:]
        return devtool(args)
    if args.mode == "test":
        if args.cmd and args.cmd[0] == "--":
            args.cmd = args.cmd[1:]
        if not args.cmd:
            parser.error("test needs a command")
        return test(args)
    return dev(args)


if __name__ == "__main__":
    try:
        sys.exit(main())
    except search_node.NodeError as e:
        log(f"OpenSearch: {e}")
        sys.exit(1)
