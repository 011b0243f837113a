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
    """Each mapping as its template says: SQS batches up to `BatchSize` gathered within
    `MaximumBatchingWindowInSeconds`; stream batches up to `BatchSize`, retried from the first
    failed record up to `MaximumRetryAttempts`, then described to the on-failure queue and
    passed; every invocation given the function's `Timeout` (a batch that runs over it failed,
    as in Lambda). A stream poller that stops on an error resumes after the last record it
    finished, not from the start of the stream."""

    def __init__(self, stack, functions, log):
        self.stack = stack
        self.functions = functions
        self.log = log
        self.stop = threading.Event()
        self.threads: list[threading.Thread] = []
        # (stream ARN, shard) → the sequence number of the last record handled.
        self.checkpoints: dict[tuple[str, str], str] = {}
        # (stream ARN, shard, sequence number) → failed attempts of the batch starting there.
        self.attempts: dict[tuple[str, str, str], int] = {}

    def start(self):
        for fn in self.functions:
            for queue in fn.sqs:
                self._spawn(self._poll_queue, fn, queue)
            for table in fn.streams:
                self._spawn(self._poll_stream, fn, table)
            for period in fn.schedules:
                self._spawn(self._schedule, fn, period)

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
                name = getattr(args[0], "binary", args[:1])
                self.log(f"events: {target.__name__}({name}): {e}")
                self.stop.wait(2)

    def _invoke(self, fn, event) -> set[str] | None:
        """The ids the function reported failed, or None when the whole batch failed (an
        error, or longer than its timeout)."""
        try:
            # A little over the timeout: the Invoke API's own round trip.
            return _failures(invoke(self.stack.invoke_port, fn.binary, event,
                                    timeout=fn.timeout + 2))
        except (TimeoutError, OSError, RuntimeError) as e:
            self.log(f"events: {fn.binary} failed its batch: {e}")
            return None

    def _poll_queue(self, fn, queue):
        sqs = self.stack.aws("sqs")
        url, arn = self.stack.refs[queue], self.stack.atts[(queue, "Arn")]
        batch_size, window = fn.sqs_batch.get(queue, (10, 0))
        while not self.stop.is_set():
            messages = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=min(10, batch_size), WaitTimeSeconds=1,
                AttributeNames=["All"]).get("Messages", [])
            if not messages:
                continue
            # SQS hands out at most 10 at a time: gather up to BatchSize within the window.
            deadline = time.monotonic() + window
            while len(messages) < batch_size:
                more = sqs.receive_message(
                    QueueUrl=url, MaxNumberOfMessages=min(10, batch_size - len(messages)),
                    WaitTimeSeconds=0, AttributeNames=["All"]).get("Messages", [])
                messages += more
                if not more and time.monotonic() >= deadline:
                    break
                if not more:
                    self.stop.wait(0.1)
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
            failed = self._invoke(fn, event)
            if failed is None:
                # Nothing is deleted: every message comes back after its visibility timeout,
                # and the queue's redrive policy moves it to the DLQ after maxReceiveCount.
                continue
            for m in messages:
                if m["MessageId"] not in failed:
                    sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])

    def _poll_stream(self, fn, table):
        streams = self.stack.aws("dynamodbstreams")
        stream_arn = self.stack.atts[(table, "StreamArn")]
        batch_size, retries, on_failure = fn.stream_config.get(table, (100, -1, None))
        shards = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]

        def iterator(shard, kind, seq=None):
            extra = {"SequenceNumber": seq} if seq else {}
            return streams.get_shard_iterator(StreamArn=stream_arn, ShardId=shard,
                                              ShardIteratorType=kind, **extra)["ShardIterator"]

        iterators = {}
        for s in shards:
            done = self.checkpoints.get((stream_arn, s["ShardId"]))
            iterators[s["ShardId"]] = iterator(s["ShardId"], "AFTER_SEQUENCE_NUMBER", done) \
                if done else iterator(s["ShardId"], "TRIM_HORIZON")
        while not self.stop.is_set():
            idle = True
            for shard, it in list(iterators.items()):
                if it is None:
                    continue
                got = streams.get_records(ShardIterator=it, Limit=batch_size)
                records = got.get("Records", [])
                iterators[shard] = got.get("NextShardIterator")
                if not records:
                    continue
                idle = False
                event = {"Records": [
                    {**_json_safe(r), "eventSourceARN": stream_arn} for r in records
                ]}
                failed = self._invoke(fn, event)
                sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
                if failed is None:
                    failed = {sequences[0]}
                if not failed:
                    self.checkpoints[(stream_arn, shard)] = sequences[-1]
                    continue
                first = min(failed, key=int)
                done = [q for q in sequences if int(q) < int(first)]
                if done:
                    self.checkpoints[(stream_arn, shard)] = done[-1]
                key = (stream_arn, shard, first)
                self.attempts[key] = self.attempts.get(key, 0) + 1
                if 0 <= retries < self.attempts[key]:
                    # Retries used up: described to the on-failure destination, then passed.
                    self.log(f"events: {fn.binary} gave up at {first} after {retries} retries")
                    if on_failure:
                        self._describe_failure(on_failure, stream_arn, shard, first,
                                               sequences[-1], len(records) - len(done))
                    self.checkpoints[(stream_arn, shard)] = sequences[-1]
                    iterators[shard] = iterator(shard, "AFTER_SEQUENCE_NUMBER", sequences[-1])
                    continue
                # Retry from the first failed record, as Lambda does for streams.
                self.log(f"events: {fn.binary} failed at {first}; retrying")
                iterators[shard] = iterator(shard, "AT_SEQUENCE_NUMBER", first)
                self.stop.wait(1)
            if idle:
                self.stop.wait(0.3)

    def _describe_failure(self, queue, stream_arn, shard, start, end, size):
        """What Lambda sends an on-failure destination for a stream batch: where the records
        are, not the records."""
        body = {
            "requestContext": {"condition": "RetryAttemptsExhausted",
                               "approximateInvokeCount": 1 + self.attempts.get(
                                   (stream_arn, shard, start), 0)},
            "DDBStreamBatchInfo": {"shardId": shard, "startSequenceNumber": start,
                                   "endSequenceNumber": end, "streamArn": stream_arn,
                                   "batchSize": size},
        }
        self.stack.aws("sqs").send_message(QueueUrl=self.stack.refs[queue],
                                           MessageBody=json.dumps(body))

    def _schedule(self, fn, period):
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
            self._invoke(fn, event)
