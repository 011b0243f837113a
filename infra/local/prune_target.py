#!/usr/bin/env python3
"""Keeps the shared Cargo target directory from growing without bound.

Every change to a dependency of `shared` gives every function and test binary a new hash, so
each such change leaves a full set of superseded artifacts behind (about 20 GB of debug
binaries). For each of this workspace's own crates in `<target>/<profile>/deps`, this deletes the
builds made more than an hour before that crate's newest one. Builds of one run stay together:
a crate is built in more than one live variant (the per-function builds of `make build` and the
workspace build of the tests unify features differently), and deleting a live variant costs a
rebuild of it. Third-party crates are left alone: their superseded builds only come from
lockfile changes, and telling a superseded one from a live one needs more than file times.
`.ci/run` calls it after the tests; `make prune` runs it by hand.

Usage: prune_target.py [TARGET_DIR]   (default: $CARGO_TARGET_DIR)
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import defaultdict
from pathlib import Path

ARTIFACT = re.compile(r"^(?:lib)?(?P<crate>.+)-(?P<hash>[0-9a-f]{16})(?:\..+)?$")
# Builds of one crate made within this long of its newest are kept (one run's variants).
SAME_RUN_SECONDS = 3600


def own_crates(root: Path) -> set[str]:
    """The artifact names of this workspace's targets (`service-get` → `service_get`)."""
    out = subprocess.run(["cargo", "metadata", "--no-deps", "--format-version", "1", "--offline"],
                         cwd=root, check=True, capture_output=True, text=True).stdout
    return {t["name"].replace("-", "_")
            for p in json.loads(out)["packages"] for t in p["targets"]}


def prune(deps: Path, crates: set[str]) -> int:
    """Deletes superseded builds of `crates` in one `deps` directory; returns the bytes freed."""
    builds: dict[str, dict[str, list[Path]]] = defaultdict(lambda: defaultdict(list))
    for entry in deps.iterdir():
        m = ARTIFACT.match(entry.name)
        if m and m["crate"] in crates and entry.is_file() and not entry.is_symlink():
            builds[m["crate"]][m["hash"]].append(entry)
    freed = 0
    for by_hash in builds.values():
        if len(by_hash) < 2:
            continue
        built = {h: max(f.stat().st_mtime for f in files) for h, files in by_hash.items()}
        newest = max(built.values())
        for h, files in by_hash.items():
            if built[h] >= newest - SAME_RUN_SECONDS:
                continue
            for f in files:
                try:
                    size = f.stat().st_size
                    f.unlink()
                    freed += size
                except OSError:
                    pass
    return freed


def main() -> int:
    target = Path(sys.argv[1] if len(sys.argv) > 1 else os.environ.get("CARGO_TARGET_DIR", "target"))
    crates = own_crates(Path(__file__).resolve().parents[2])
    freed = 0
    for profile in ("debug", "release"):
        deps = target / profile / "deps"
        if deps.is_dir():
            freed += prune(deps, crates)
    print(f"[prune] {target}: {freed / 1e9:.1f} GB of superseded build artifacts removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
