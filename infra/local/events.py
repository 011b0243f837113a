"""Event sources for the local stack, read from template.yaml: polls SQS queues and the table
stream and invokes the mapped functions through cargo-lambda's Lambda Invoke API, and fires
rate() schedules. Development tooling only: in AWS, event source mappings and EventBridge do
this."""

from __future__ import annotations

import base64
import datetime as dt
import http.client
import json
import threading
import time
import urllib.error
import urllib.request
import uuid


def invoke(invoke_port: int, function: str, event: dict, timeout: float = 120.0) -> dict | None:
    """Invokes `function` with `event` through `cargo lambda watch`'s Invoke API; returns its
    JSON answer. An invocation that fails is retried, as Lambda's event source mappings retry
    a batch (the functions are idempotent per record)."""
    for attempt in range(4):
        req = urllib.request.Request(
            f"http://127.0.0.1:{invoke_port}/2015-03-31/functions/{function}/invocations",
            data=json.dumps(event).encode(),
            headers={"content-type": "application/json"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                body = resp.read()
            break
        except (http.client.RemoteDisconnected, ConnectionResetError):
            if attempt == 3:
                raise
            time.sleep(0.5 * (attempt + 1))
        except urllib.error.HTTPError as e:
            if e.code != 500 or attempt == 3:
                raise
            time.sleep(0.5 * (attempt + 1))
    if not body:
        return None
    answer = json.loads(body)
    if isinstance(answer, dict) and "errorType" in answer:
        raise RuntimeError(f"{function} failed: {answer.get('errorMessage')}")
    return answer


def _failures(answer) -> set[str]:
    if not isinstance(answer, dict):
        return set()
    return {f["itemIdentifier"] for f in answer.get("batchItemFailures") or []}


def _json_safe(v):
    if isinstance(v, dict):
        return {k: _json_safe(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_json_safe(x) for x in v]
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(v).decode()
    if isinstance(v, dt.datetime):
        return v.timestamp()
    return v


class EventSources:
    def __init__(self, stack, functions, log):
        self.stack = stack
        self.functions = functions
        self.log = log
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []

    def start(self):
        for fn in self.functions:
            for queue in fn.sqs:
                self._spawn(self._poll_queue, fn.binary, self.stack.refs[queue],
                            self.stack.atts[(queue, "Arn")])
            for table in fn.streams:
                self._spawn(self._poll_stream, fn.binary, self.stack.atts[(table, "StreamArn")])
            for period in fn.schedules:
                self._spawn(self._schedule, fn.binary, period)

    def close(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=5)

    def _spawn(self, target, *args):
        t = threading.Thread(target=self._guard, args=(target, *args), daemon=True)
        t.start()
        self.threads.append(t)

    def _guard(self, target, *args):
        while not self.stop.is_set():
            try:
                target(*args)
                return
            except Exception as e:  # keep polling through hiccups (a function still compiling)
                self.log(f"events: {target.__name__}{args[:1]}: {e}")
                self.stop.wait(2)

    def _poll_queue(self, function, url, arn):
        sqs = self.stack.aws("sqs")
        while not self.stop.is_set():
            got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                      AttributeNames=["All"])
            messages = got.get("Messages", [])
            if not messages:
                continue
            event = {"Records": [{
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m.get("Attributes", {}),
                "messageAttributes": {},
                "md5OfBody": m.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": arn,
                "awsRegion": self.stack.region,
            } for m in messages]}
            failed = _failures(invoke(self.stack.invoke_port, function, event))
            for m in messages:
                if m["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    def _poll_stream(self, function, stream_arn):
        streams = self.stack.aws("dynamodbstreams")
        shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]
        iterators = {
            s["ShardId"]: streams.get_shard_iterator(
                StreamArn=stream_arn, ShardId=s["ShardId"], ShardIteratorType="TRIM_HORIZON"
            )["ShardIterator"]
            for s in shards
        }
        while not self.stop.is_set():
            idle = True
            for shard, it in list(iterators.items()):
                if it is None:
                    continue
                got = streams.get_records(ShardIterator=it, Limit=100)
                records = got.get("Records", [])
                iterators[shard] = got.get("NextShardIterator")
                if not records:
                    continue
                idle = False
                event = {"Records": [
                    {**_json_safe(r), "eventSourceARN": stream_arn} for r in records
                ]}
                failed = _failures(invoke(self.stack.invoke_port, function, event))
                if failed:
                    # Retry from the first failed record, as Lambda does for streams.
                    seq = sorted(failed)[0]
                    self.log(f"events: {function} failed at {seq}; retrying")
                    iterators[shard] = streams.get_shard_iterator(
                        StreamArn=stream_arn, ShardId=shard,
                        ShardIteratorType="AT_SEQUENCE_NUMBER", SequenceNumber=seq,
                    )["ShardIterator"]
                    self.stop.wait(1)
            if idle:
                self.stop.wait(0.3)

    def _schedule(self, function, period):
        while not self.stop.wait(period):
            event = {
                "version": "0",
                "id": str(uuid.uuid4()),
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "time": dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "region": self.stack.region,
                "resources": [],
                "detail": {},
            }
            invoke(self.stack.invoke_port, function, event)
