#!/usr/bin/env python3
"""Fails when a crate's features differ between the two builds `make test` needs.

`cargo build --workspace --all-targets` (the tests) unifies features over every crate and its
dev-dependencies; `cargo build -p <function>` (what `make build` and `cargo lambda watch` run)
over the functions alone. When a dev-dependency turns on a feature the functions' graph does
not, that crate gets a second build, and so does everything above it: `shared` and every
function, about 7 minutes on 2 cores. The cure is to turn the same features on in
`shared/Cargo.toml`; this check says which.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def features(args: list[str]) -> dict[str, set[str]]:
    out = subprocess.run(
        ["cargo", "tree", "--offline", *args, "--format", "{p}|{f}", "--prefix", "none"],
        cwd=ROOT, capture_output=True, text=True, check=True).stdout
    found: dict[str, set[str]] = {}
    for line in out.splitlines():
        if "|" not in line:
            continue
        package, feats = line.split("|", 1)
        name = " ".join(package.split()[:2])
        # A repeated entry ends in " (*)"; proc-macros carry a marker too.
        feats = feats.replace("(*)", "").strip()
        found.setdefault(name, set()).update(f for f in feats.split(",") if f)
    return found


def main() -> int:
    functions = sorted(p.name for p in (ROOT / "functions").iterdir() if p.is_dir())
    tests = features(["--workspace", "--edges", "normal,build,dev"])
    packages = [a for f in functions for a in ("-p", f)]
    stack = features([*packages, "-p", "devtool", "--edges", "no-dev"])
    differ = {name: (tests[name] - feats, feats - tests[name])
              for name, feats in stack.items() if name in tests and tests[name] != feats}
    for name, (more, fewer) in sorted(differ.items()):
        print(f"[features] {name}: the test build adds {sorted(more)}, lacks {sorted(fewer)}",
              file=sys.stderr)
    if differ:
        print("[features] turn these on in shared/Cargo.toml so the functions are built once",
              file=sys.stderr)
        return 1
    print(f"[features] {len(stack)} crates: the functions' build and the test build agree",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
