#!/usr/bin/env python3
"""Keeps the shared Cargo target directory from growing without bound.

Every change to a dependency of `shared` gives every function and test binary a new hash, so
each such change leaves a full set of superseded artifacts behind (about 20 GB of debug
binaries). For each crate in `<target>/<profile>/deps`, this keeps the files of its newest build
and deletes the older ones; Cargo rebuilds anything it still needs. `.ci/run` calls it after the
tests; `make prune` runs it by hand.

Usage: prune_target.py [TARGET_DIR]   (default: $CARGO_TARGET_DIR)
"""

from __future__ import annotations

import os
import re
import sys
from collections import defaultdict
from pathlib import Path

ARTIFACT = re.compile(r"^(?:lib)?(?P<crate>.+)-(?P<hash>[0-9a-f]{16})(?:\..+)?$")


def prune(deps: Path) -> int:
    """Deletes superseded artifacts in one `deps` directory; returns the bytes freed."""
    builds: dict[str, dict[str, list[Path]]] = defaultdict(lambda: defaultdict(list))
    for entry in deps.iterdir():
        m = ARTIFACT.match(entry.name)
        if m and entry.is_file() and not entry.is_symlink():
            builds[m["crate"]][m["hash"]].append(entry)
    freed = 0
    for by_hash in builds.values():
        if len(by_hash) < 2:
            continue
        newest = max(by_hash, key=lambda h: max(f.stat().st_mtime for f in by_hash[h]))
        for h, files in by_hash.items():
            if h == newest:
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
    freed = 0
    for profile in ("debug", "release"):
        deps = target / profile / "deps"
        if deps.is_dir():
            freed += prune(deps)
    print(f"[prune] {target}: {freed / 1e9:.1f} GB of superseded build artifacts removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
