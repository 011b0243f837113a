#!/usr/bin/env python3
"""Moves the messages of a dead-letter queue back to the queue they failed from, once the
cause is fixed and deployed. Works against AWS (both partitions; in the global regions
`aws sqs start-message-move-task --source-arn <dlq arn>` does the same, in China that API is
not offered) and against the local stack (`make redrive QUEUE=Notifications`).

    redrive.py --dlq URL [--to URL] [--endpoint URL] [--region R] [--max N]

Without --to, the source queue is the one whose redrive policy names the DLQ
(`ListDeadLetterSourceQueues`). Each message is sent to the source (body and attributes) and
only then deleted from the DLQ, so a failure half-way duplicates at most one message and
loses none; the workers are idempotent per message id.
"""

from __future__ import annotations

import argparse
import sys

import boto3


def redrive(sqs, dlq: str, to: str | None = None, limit: int | None = None) -> int:
    if to is None:
        sources = sqs.list_dead_letter_source_queues(QueueUrl=dlq).get("queueUrls", [])
        if len(sources) != 1:
            raise SystemExit(f"{dlq} is the dead-letter queue of {len(sources)} queues; "
                             "say which with --to")
        to = sources[0]
    moved = 0
    while limit is None or moved < limit:
        batch = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10, WaitTimeSeconds=1,
                                    MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            break
        for m in batch:
            extra = {"MessageAttributes": m["MessageAttributes"]} \
                if m.get("MessageAttributes") else {}
            sqs.send_message(QueueUrl=to, MessageBody=m["Body"], **extra)
            sqs.delete_message(QueueUrl=dlq, ReceiptHandle=m["ReceiptHandle"])
            moved += 1
    return moved


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--dlq", required=True, help="the dead-letter queue's URL")
    p.add_argument("--to", help="the queue to move them to (default: the DLQ's source)")
    p.add_argument("--endpoint", help="an SQS endpoint (the local stack's MiniStack)")
    p.add_argument("--region", default=None)
    p.add_argument("--max", type=int, default=None)
    args = p.parse_args()
    kwargs = {"region_name": args.region} if args.region else {}
    if args.endpoint:
        kwargs.update(endpoint_url=args.endpoint, aws_access_key_id="test",
                      aws_secret_access_key="test", region_name=args.region or "us-east-1")
    moved = redrive(boto3.client("sqs", **kwargs), args.dlq, args.to, args.max)
    print(f"[redrive] moved {moved} messages from {args.dlq}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
