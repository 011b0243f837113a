#!/usr/bin/env python3
"""A poison message reaches the dead-letter queue through SQS's own redrive
(`maxReceiveCount`, on MiniStack), and `redrive.py` moves it back to its queue once the
cause is fixed: nothing is lost on the way, and the DLQ is empty afterwards."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import boto3

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "local"))
import emulator  # noqa: E402
import redrive  # noqa: E402


def main() -> int:
    with emulator.running("redrive") as endpoint:
        sqs = boto3.client("sqs", endpoint_url=endpoint, region_name="us-east-1",
                           aws_access_key_id="test", aws_secret_access_key="test")
        dlq = sqs.create_queue(QueueName="work-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]
        work = sqs.create_queue(QueueName="work", Attributes={
            "VisibilityTimeout": "1",
            "RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn,
                                         "maxReceiveCount": "2"})})["QueueUrl"]
        sqs.send_message(QueueUrl=work, MessageBody='{"kind": "poison"}')
        sqs.send_message(QueueUrl=work, MessageBody='{"kind": "fine"}')

        # A worker that fails on the poison message: it never deletes it; the fine one is done.
        deadline = time.time() + 30
        while time.time() < deadline:
            for m in sqs.receive_message(QueueUrl=work, MaxNumberOfMessages=10,
                                         WaitTimeSeconds=1).get("Messages", []):
                if json.loads(m["Body"])["kind"] == "fine":
                    sqs.delete_message(QueueUrl=work, ReceiptHandle=m["ReceiptHandle"])
            depth = int(sqs.get_queue_attributes(
                QueueUrl=dlq, AttributeNames=["ApproximateNumberOfMessages"])["Attributes"][
                "ApproximateNumberOfMessages"])
            if depth:
                break
            time.sleep(1.1)
        assert depth == 1, f"the poison message did not reach the DLQ ({depth})"

        # Fixed and deployed: back to its queue, out of the DLQ.
        # (MiniStack has no ListDeadLetterSourceQueues: the source is named, as
        # `make redrive` does.)
        moved = redrive.redrive(sqs, dlq, work)
        assert moved == 1, moved
        back = sqs.receive_message(QueueUrl=work, MaxNumberOfMessages=10, WaitTimeSeconds=2)[
            "Messages"]
        assert [json.loads(m["Body"])["kind"] for m in back] == ["poison"], back
        left = sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages", [])
        assert not left, left
        print("[redrive] self-test passed: a poison message reached the DLQ after "
              "maxReceiveCount receives and was moved back to its queue", file=sys.stderr)
        return 0

if __name__ == "__main__":
    sys.exit(main())
