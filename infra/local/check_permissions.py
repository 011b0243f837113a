#!/usr/bin/env python3
"""Least privilege, proven at run time: every AWS call a function made in the test run must be
granted by that function's policies in template.yaml.

The functions record each AWS request as IAM authorizes it (`shared/src/aws_calls.rs`, turned
on by the local stack): `{"message": "aws call", "aws_action": "dynamodb:Query",
"aws_resource": "arn:aws:dynamodb:…:table/…/index/GSI2", "function": "user-services"}`. This
check reads those lines from the run's function log, resolves each function's policies (inline
statements and the SAM policy templates we use) against the resources the local stack created
(`resources.json`), and evaluates every call with IAM's matching (`*` and `?` in actions and
resources). It fails on any call no statement allows, warns about statements never exercised,
and writes docs/permissions.md (function → calls observed → statements granted).

    check_permissions.py LOG_DIR... [--doc docs/permissions.md]

Each LOG_DIR holds `cargo-lambda-watch.log` and `resources.json` of one stack run (written by
`stack.py`); `make test` passes both of its runs (tantivy, then OpenSearch), checked as one.
OpenSearch requests are recorded by the adapter itself as the domain's policy authorizes them
(`es:ESHttp{Method}` on `{domain ARN}/{path}`).
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import template as tpl  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Statement:
    actions: list[str]
    resources: list[str]  # resolved to local ARNs
    shown: list[str]  # as the template writes them (for the report)
    used: set[tuple[str, str]] = field(default_factory=set)  # (action, resource pattern)


def sam_policy_template(name: str, props: dict) -> dict:
    """The statements of the SAM policy templates the template uses."""
    if name == "SQSSendMessagePolicy":
        return {"Effect": "Allow", "Action": ["sqs:SendMessage*"],
                "Resource": {"Fn::Sub": ["arn:${AWS::Partition}:sqs:${AWS::Region}:"
                                         "${AWS::AccountId}:${queueName}",
                                         {"queueName": props["QueueName"]}]}}
    raise SystemExit(f"[permissions] policy template {name} is not known to this check; "
                     "add its statements here")


def resolve(value, refs: dict, atts: dict) -> str:
    """A resource as the local stack names it."""
    if isinstance(value, str):
        return value
    if "Fn::GetAtt" in value:
        lid, att = value["Fn::GetAtt"]
        return atts.get(f"{lid}.{att}") or refs[f"{lid}.{att}"]
    if "Ref" in value:
        return refs[value["Ref"]]
    if "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        text, extra = (sub, {}) if isinstance(sub, str) else (sub[0], sub[1])
        extra = {k: resolve(v, refs, atts) for k, v in extra.items()}

        def one(m):
            name = m.group(1)
            if name in extra:
                return extra[name]
            if "." in name and name in atts:
                return atts[name]
            return refs[name]
        return re.sub(r"\$\{([^}]+)\}", one, text)
    raise SystemExit(f"[permissions] cannot resolve {value!r}")


def shown(value) -> str:
    if isinstance(value, str):
        return value
    if "Fn::GetAtt" in value:
        return "${" + ".".join(value["Fn::GetAtt"]) + "}"
    if "Ref" in value:
        return "${" + value["Ref"] + "}"
    if "Fn::Sub" in value:
        sub = value["Fn::Sub"]
        if isinstance(sub, str):
            return sub
        text = sub[0]
        for k, v in sub[1].items():
            text = text.replace("${" + k + "}", shown(v))
        return text
    return repr(value)


def policies(template: dict, refs: dict, atts: dict) -> dict[str, list[Statement]]:
    out: dict[str, list[Statement]] = {}
    for lid, res in template["Resources"].items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        binary = res["Metadata"]["BuildProperties"]["Binary"]
        statements: list[Statement] = []
        for policy in (res.get("Properties") or {}).get("Policies") or []:
            if isinstance(policy, str):
                raise SystemExit(f"[permissions] {binary}: managed policy {policy} is not checked")
            if "Statement" in policy:
                raw = policy["Statement"]
            else:
                (name, props), = policy.items()
                raw = [sam_policy_template(name, props or {})]
            for st in raw:
                if st.get("Effect", "Allow") != "Allow":
                    continue
                acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                rsrc = st["Resource"] if isinstance(st["Resource"], list) else [st["Resource"]]
                statements.append(Statement(
                    actions=acts,
                    resources=[resolve(r, refs, atts) for r in rsrc],
                    shown=[shown(r) for r in rsrc]))
        out[binary] = statements
    return out


def matches(pattern: str, value: str, case: bool) -> bool:
    """IAM's matching: `*` any run of characters, `?` one character."""
    if not case:
        pattern, value = pattern.lower(), value.lower()
    return fnmatch.fnmatchcase(value, pattern.replace("[", "[[]"))


def allowed(statements: list[Statement], action: str, resource: str) -> Statement | None:
    for st in statements:
        for a in st.actions:
            if not matches(a, action, case=False):
                continue
            for r, s in zip(st.resources, st.shown):
                if matches(r, resource, case=True):
                    st.used.add((a, s))
                    return st
    return None


def observed(log: Path, refs: dict) -> dict[str, set[tuple[str, str]]]:
    calls: dict[str, set[tuple[str, str]]] = {}
    if not log.exists():
        return calls
    ws_api, ws_stage = refs.get("WebSocketApi", "local"), refs.get("WebSocketStage", "ws")
    for line in log.read_text(errors="replace").splitlines():
        if '"aws_action"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        function = entry.get("function")
        if not function:
            continue
        resource = entry["aws_resource"]
        # The local @connections endpoint is 127.0.0.1:<port> with no stage in its path.
        resource = re.sub(r"(:execute-api:[^:]*:[^:]*:)127//", rf"\g<1>{ws_api}/{ws_stage}/",
                          resource)
        calls.setdefault(function, set()).add((entry["aws_action"], resource))
    return calls


def logical(text: str, refs: dict, atts: dict) -> str:
    """A local name written back as the template writes it (`${Table.Arn}`, `${MediaBucket}`)."""
    names = sorted(((v, "${" + k + "}") for k, v in atts.items()),
                   key=lambda p: -len(p[0]))
    names += sorted(((v, "${" + k + "}") for k, v in refs.items()
                     if isinstance(v, str) and len(v) > 8), key=lambda p: -len(p[0]))
    for value, name in names:
        if value and value in text:
            text = text.replace(value, name)
    return text


def check(template: dict, resources: dict, log: Path) -> tuple[list[str], list[str], dict]:
    refs, atts = resources["refs"], resources["atts"]
    grants = policies(template, refs, atts)
    calls = observed(log, refs)
    denied: list[str] = []
    report: dict = {}
    for function in sorted(grants):
        rows = []
        for action, resource in sorted(calls.get(function, set())):
            st = allowed(grants[function], action, resource)
            rows.append((action, logical(resource, refs, atts), st))
            if st is None:
                denied.append(f"{function}: {action} on {logical(resource, refs, atts)}")
        report[function] = rows
    for function in sorted(set(calls) - set(grants)):
        for action, resource in sorted(calls[function]):
            denied.append(f"{function} (not in the template): {action} on {resource}")
    unused: list[str] = []
    for function, statements in sorted(grants.items()):
        if function not in calls:
            continue
        for st in statements:
            for a in st.actions:
                for s in st.shown:
                    if (a, s) not in st.used:
                        unused.append(f"{function}: {a} on {s}")
    return denied, unused, {"report": report, "grants": grants, "calls": calls}


def merge(runs: list[tuple[list[str], list[str], dict]]) -> tuple[list[str], list[str], dict]:
    """Several stack runs as one: every call of every run, a grant exercised if any run
    exercised it (grants are compared as the template writes them)."""
    if len(runs) == 1:
        return runs[0]
    denied = sorted({d for run in runs for d in run[0]})
    calls: dict = {}
    report: dict = {}
    for _, _, result in runs:
        for function, cs in result["calls"].items():
            calls.setdefault(function, set()).update(cs)
        for function, rows in result["report"].items():
            report.setdefault(function, []).extend(rows)
    used = {(function, a, s) for _, _, result in runs
            for function, statements in result["grants"].items()
            for st in statements for (a, s) in st.used}
    grants = runs[0][2]["grants"]
    unused = [f"{function}: {a} on {s}"
              for function, statements in sorted(grants.items()) if function in calls
              for st in statements for a in st.actions for s in st.shown
              if (function, a, s) not in used]
    return denied, unused, {"report": report, "grants": grants, "calls": calls}


def write_doc(path: Path, result: dict, refs: dict, atts: dict, unused: list[str]) -> None:
    report, grants, calls = result["report"], result["grants"], result["calls"]
    lines = [
        "# Permissions",
        "",
        "Generated by `make test` (`infra/local/check_permissions.py`); do not edit by hand.",
        "",
        "Every AWS call a function made in the test run (the black-box suite, contract fuzzing",
        "and the soak test, against the local stack), the statement of its template policy that",
        "allows it, and what it is granted. A call that no statement allows fails `make test`.",
        "",
        f"{len([f for f in grants if f in calls])} of {len(grants)} functions made AWS calls; "
        "grants of functions that made none cannot be confirmed here.",
        "",
    ]
    for function in sorted(grants):
        lines.append(f"## `{function}`")
        lines.append("")
        rows = report.get(function) or []
        if rows:
            seen = set()
            lines.append("| call | on | allowed by |")
            lines.append("|---|---|---|")
            for action, resource, st in rows:
                on = _generic(resource)
                how = ("`" + _squeeze(", ".join(st.shown)) + "`") if st else "**nothing: denied**"
                if (action, on) in seen:
                    continue
                seen.add((action, on))
                lines.append(f"| `{action}` | `{_squeeze(on)}` | {how} |")
        else:
            lines.append("No AWS call observed.")
        lines.append("")
        statements = grants[function]
        if statements:
            lines.append("Granted: " + "; ".join(
                f"`{', '.join(st.actions)}` on `{', '.join(st.shown)}`" for st in statements))
        else:
            lines.append("Granted: nothing.")
        lines.append("")
    if unused:
        lines += ["## Granted but never exercised", "",
                  "Grants of functions that did make calls, on paths the test run did not reach:",
                  "e-mail (the outbox stands in for SES locally),",
                  "the order timers' transitions (the tests fire them in-process), gallery images",
                  "of services, unfeaturing, stale WebSocket connections. Each is kept only where",
                  "the function's code has such a path.", ""]
        lines += [f"- {u}" for u in unused]
        lines.append("")
    path.write_text("\n".join(lines))


def _squeeze(resource: str) -> str:
    return resource.replace("|", "\\|")


def _generic(resource: str) -> str:
    """A resource with its ids written as such, so that the report does not change from run
    to run: object keys and connection ids."""
    resource = re.sub(r"[0-9A-HJKMNP-TV-Z]{26}", "{id}", resource)
    resource = re.sub(r"(@connections/)[^/]+$", r"\1{connection}", resource)
    return resource


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("log_dirs", type=Path, nargs="+",
                   help="one per stack run (make test: tantivy, then OpenSearch)")
    p.add_argument("--doc", type=Path, default=ROOT / "docs" / "permissions.md")
    p.add_argument("--template", type=Path, default=ROOT / "template.yaml")
    args = p.parse_args()
    template = tpl.load_app(args.template)
    runs = []
    for log_dir in args.log_dirs:
        resources = json.loads((log_dir / "resources.json").read_text())
        runs.append((resources, *check(template, resources, log_dir / "cargo-lambda-watch.log")))
    denied, unused, result = merge([(d, u, r) for _, d, u, r in runs])
    write_doc(args.doc, result, runs[0][0]["refs"], runs[0][0]["atts"], unused)
    calls = sum(len(c) for c in result["calls"].values())
    print(f"[permissions] {calls} distinct calls by {len(result['calls'])} functions checked "
          f"against their grants; {len(denied)} not granted, {len(unused)} grants never "
          f"exercised (see {args.doc.relative_to(ROOT) if args.doc.is_relative_to(ROOT) else args.doc})",
          file=sys.stderr)
    for u in unused:
        print(f"[permissions] warning: never exercised: {u}", file=sys.stderr)
    for d in denied:
        print(f"[permissions] NOT GRANTED: {d}", file=sys.stderr)
    return 1 if denied else 0


if __name__ == "__main__":
    sys.exit(main())
