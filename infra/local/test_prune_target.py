#!/usr/bin/env python3
"""prune_target.py deletes our crates' builds from earlier runs and nothing else (run by `make test`)."""

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from prune_target import prune  # noqa: E402


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        deps = Path(tmp)
        old, new, variant, dep = ("0123456789abcdef", "fedcba9876543210", "00000000000000aa",
                                  "00000000000000bb")
        now = time.time()
        day = 86400
        files = {
            # a build of ours from yesterday's run, superseded: deleted
            f"libshared-{old}.rlib": now - day, f"libshared-{old}.rmeta": now - day,
            f"shared-{old}.d": now - day, f"service_get-{old}": now - day,
            # today's run: two live variants of each, minutes apart: both kept
            f"libshared-{new}.rlib": now, f"libshared-{new}.rmeta": now, f"shared-{new}.d": now,
            f"libshared-{variant}.rlib": now - 600, f"service_get-{new}": now,
            f"service_get-{variant}": now - 300,
            # third-party crates, however old and however many builds: kept
            f"libtokio-{old}.rlib": now - 30 * day, f"libtokio-{dep}.rlib": now,
            "README": now - 1000,  # not an artifact: never touched
        }
        for name, mtime in files.items():
            (deps / name).write_bytes(b"x" * 10)
            os.utime(deps / name, (mtime, mtime))
        freed = prune(deps, {"shared", "service_get"})
        left = sorted(p.name for p in deps.iterdir())
        gone = {f"libshared-{old}.rlib", f"libshared-{old}.rmeta", f"shared-{old}.d",
                f"service_get-{old}"}
        expected = sorted(n for n in files if n not in gone)
        if left != expected or freed != 40:
            print(f"prune_target: left {left}, freed {freed}; expected {expected}, 40")
            return 1
    print("prune_target: deletes only our crates' builds from earlier runs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
