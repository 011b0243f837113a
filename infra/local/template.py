"""Reads template.yaml and resolves what the local stack needs from it: the table, queues and
bucket to create, each function's environment, routes and event sources."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml


class _CfnLoader(yaml.SafeLoader):
    pass


def _tag(loader, tag_suffix, node):
    name = tag_suffix
    key = "Ref" if name == "Ref" else f"Fn::{name}"
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
        if name == "GetAtt":
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    return {key: value}


_CfnLoader.add_multi_constructor("!", _tag)


def load(path: Path) -> dict:
    with open(path, encoding="utf-8") as f:
        return yaml.load(f, Loader=_CfnLoader)


@dataclass
class Function:
    logical_id: str
    binary: str
    env: dict[str, object]
    routes: list[tuple[str, str]] = field(default_factory=list)  # (method, path)
    default_route: bool = False  # the HTTP API's $default route (no path, no method)
    sqs: list[str] = field(default_factory=list)  # queue logical ids
    streams: list[str] = field(default_factory=list)  # table logical ids
    schedules: list[int] = field(default_factory=list)  # periods in seconds


def _rate_seconds(expr: str) -> int:
    m = re.fullmatch(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)", expr.strip())
    if not m:
        raise ValueError(f"only rate(...) schedules run locally, not {expr!r}")
    n, unit = int(m.group(1)), m.group(2)
    return n * {"minute": 60, "hour": 3600, "day": 86400}[unit.rstrip("s")]


def functions(tpl: dict) -> list[Function]:
    globals_env = (
        tpl.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    )
    out = []
    for lid, res in tpl["Resources"].items():
        if res["Type"] != "AWS::Serverless::Function":
            continue
        props = res.get("Properties", {})
        binary = res.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
        env = dict(globals_env)
        env.update(props.get("Environment", {}).get("Variables", {}))
        fn = Function(lid, binary, env)
        for ev in props.get("Events", {}).values():
            p = ev.get("Properties", {})
            if ev["Type"] == "HttpApi":
                if "Path" in p or "Method" in p:
                    fn.routes.append((p["Method"].upper(), p["Path"]))
                else:
                    fn.default_route = True
            elif ev["Type"] == "SQS":
                fn.sqs.append(p["Queue"]["Fn::GetAtt"][0])
            elif ev["Type"] == "DynamoDB":
                fn.streams.append(p["Stream"]["Fn::GetAtt"][0])
            elif ev["Type"] in ("Schedule", "ScheduleV2"):
                expr = p["ScheduleExpression"].strip()
                # Calendar schedules (the monthly reports) are run on demand locally
                # (`make monthly`); only periods are fired by the local stack.
                if not expr.startswith("cron("):
                    fn.schedules.append(_rate_seconds(expr))
        out.append(fn)
    return out


def resolve(value, refs: dict[str, str], atts: dict[tuple[str, str], str]):
    """Resolves Ref / GetAtt / Sub against the local resources."""
    if isinstance(value, dict):
        if "Ref" in value:
            return refs[value["Ref"]]
        if "Fn::GetAtt" in value:
            lid, att = value["Fn::GetAtt"]
            return atts[(lid, att)]
        if "Fn::Sub" in value:
            return re.sub(r"\$\{([^}]+)\}", lambda m: refs[m.group(1)], value["Fn::Sub"])
        raise ValueError(f"cannot resolve {value!r} locally")
    return str(value)


def websocket_routes(tpl: dict) -> dict[str, str]:
    """The WebSocket API's routes (`$connect`, `$disconnect`, `$default`, …) → the binary of
    the function its integration invokes."""
    res = tpl["Resources"]
    binaries = {lid: r.get("Metadata", {}).get("BuildProperties", {}).get("Binary")
                for lid, r in res.items() if r["Type"] == "AWS::Serverless::Function"}
    out = {}
    for r in res.values():
        if r["Type"] != "AWS::ApiGatewayV2::Route":
            continue
        props = r["Properties"]
        target = props["Target"]["Fn::Sub"]
        integration = re.search(r"integrations/\$\{(\w+)\}", target).group(1)
        uri = res[integration]["Properties"]["IntegrationUri"]["Fn::Sub"]
        function = re.search(r"\$\{(\w+)\.Arn\}", uri).group(1)
        out[props["RouteKey"]] = binaries[function]
    return out


def http_api_cors(tpl: dict) -> dict | None:
    """The HTTP API's CorsConfiguration, if any."""
    for r in tpl["Resources"].values():
        if r["Type"] == "AWS::Serverless::HttpApi":
            return (r.get("Properties") or {}).get("CorsConfiguration")
    return None
