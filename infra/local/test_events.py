#!/usr/bin/env python3
"""Self-test of the local event sources (events.py) against MiniStack and a stand-in for the
Invoke API: an SQS mapping gathers up to its BatchSize (beyond SQS's 10 per receive) within
its batching window; a batch that runs over the function's timeout fails and SQS's own
redrive moves it to the DLQ after maxReceiveCount; a stream batch that keeps failing is
retried MaximumRetryAttempts times, described to the on-failure queue and passed, and the
records after it are delivered."""

from __future__ import annotations

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent))
import emulator  # noqa: E402
from events import EventSources  # noqa: E402
from template import Function  # noqa: E402


class Invoked:
    """A stand-in for `cargo lambda watch`'s Invoke API: records events, answers per function."""

    def __init__(self, behave):
        self.calls: list[tuple[str, dict]] = []
        me = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *_):
                pass

            def do_POST(self):
                function = self.path.split("/functions/")[1].split("/")[0]
                event = json.loads(self.rfile.read(int(self.headers["content-length"])))
                me.calls.append((function, event))
                answer = behave(function, event)
                body = json.dumps(answer).encode()
                try:
                    self.send_response(200)
                    self.send_header("content-length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Stack:
    region = "us-east-1"

    def __init__(self, endpoint: str, invoke_port: int):
        self.endpoint, self.invoke_port = endpoint, invoke_port
        self.refs: dict[str, str] = {}
        self.atts: dict[tuple[str, str], str] = {}

    def aws(self, service):
        return boto3.client(service, endpoint_url=self.endpoint, region_name=self.region,
                            aws_access_key_id="test", aws_secret_access_key="test")

    def queue(self, lid, attrs=None):
        sqs = self.aws("sqs")
        url = sqs.create_queue(QueueName=lid, Attributes=attrs or {})["QueueUrl"]
        self.refs[lid] = url
        self.atts[(lid, "Arn")] = sqs.get_queue_attributes(
            QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        return url


def wait_for(what, check, seconds=30):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def main() -> int:
    with emulator.running("events") as endpoint:
        return _run(endpoint)


def _run(endpoint: str) -> int:
    sources = None
    try:
        def behave(function, event):
            if function == "slow":
                # Well over its 1 s timeout (the poller waits the timeout + 2 s).
                time.sleep(6)
                return {}
            if function == "router":
                ids = [r["dynamodb"]["NewImage"]["PK"]["S"] for r in event["Records"]]
                return {"batchItemFailures": [
                    {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
                    for r, pk in zip(event["Records"], ids) if pk == "poison"][:1]}
            return {}

        invoked = Invoked(behave)
        stack = Stack(endpoint, invoked.port)
        sqs, ddb = stack.aws("sqs"), stack.aws("dynamodb")
        bulk = stack.queue("Bulk")
        dlq = stack.queue("SlowDeadLetters")
        slow = stack.queue("Slow", {"VisibilityTimeout": "1", "RedrivePolicy": json.dumps({
            "deadLetterTargetArn": stack.atts[("SlowDeadLetters", "Arn")],
            "maxReceiveCount": "1"})})
        failures = stack.queue("StreamFailures")
        table = ddb.create_table(
            TableName="events-test", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "PK", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "PK", "KeyType": "HASH"}],
            StreamSpecification={"StreamEnabled": True,
                                 "StreamViewType": "NEW_AND_OLD_IMAGES"})["TableDescription"]
        stack.atts[("Table", "StreamArn")] = table["LatestStreamArn"]

        # 25 messages wait before the poller starts: one batch of 25, not three.
        for i in range(25):
            sqs.send_message(QueueUrl=bulk, MessageBody=json.dumps({"n": i}))
        sqs.send_message(QueueUrl=slow, MessageBody="too slow")
        ddb.put_item(TableName="events-test", Item={"PK": {"S": "poison"}})
        functions = [
            Function("Bulk", "bulk", {}, sqs=["Bulk"], timeout=10, sqs_batch={"Bulk": (25, 2)}),
            Function("Slow", "slow", {}, sqs=["Slow"], timeout=1, sqs_batch={"Slow": (10, 0)}),
            Function("Router", "router", {}, streams=["Table"], timeout=10,
                     stream_config={"Table": (100, 2, "StreamFailures")}),
        ]
        sources = EventSources(stack, functions, lambda m: None)
        sources.start()

        wait_for("the bulk batch", lambda: any(f == "bulk" for f, _ in invoked.calls))
        sizes = [len(e["Records"]) for f, e in invoked.calls if f == "bulk"]
        assert sizes[0] == 25, sizes

        # Over its timeout: failed, seen again after the visibility timeout, then in the DLQ.
        wait_for("the slow message in the DLQ", lambda: _depth(sqs, dlq) == 1, 40)

        # The poison record: 1 try + 2 retries, then described and passed.
        wait_for("the failure description", lambda: _depth(sqs, failures) == 1, 40)
        body = json.loads(sqs.receive_message(QueueUrl=failures)["Messages"][0]["Body"])
        assert body["requestContext"]["condition"] == "RetryAttemptsExhausted", body
        assert body["DDBStreamBatchInfo"]["batchSize"] == 1, body
        tries = [e for f, e in invoked.calls if f == "router"]
        assert len(tries) == 3, len(tries)
        # The stream goes on after it.
        ddb.put_item(TableName="events-test", Item={"PK": {"S": "fine"}})
        wait_for("the next record", lambda: any(
            r["dynamodb"]["NewImage"]["PK"]["S"] == "fine"
            for f, e in invoked.calls if f == "router" for r in e["Records"]))
        print("[events] self-test passed: BatchSize 25 in one batch, a batch over its timeout "
              "redriven to the DLQ, a stream batch retried 2 times then described to the "
              "on-failure queue and passed", file=sys.stderr)
        return 0
    finally:
        if sources:
            sources.close()


def _depth(sqs, url: str) -> int:
    return int(sqs.get_queue_attributes(QueueUrl=url, AttributeNames=[
        "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"])[
        "Attributes"]["ApproximateNumberOfMessages"])


if __name__ == "__main__":
    sys.exit(main())
