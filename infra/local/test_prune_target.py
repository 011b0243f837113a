#!/usr/bin/env python3
"""prune_target.py keeps each crate's newest build and nothing older (run by `make test`)."""

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
        old, new, other = "0123456789abcdef", "fedcba9876543210", "00000000000000aa"
        now = time.time()
        files = {
            f"libshared-{old}.rlib": now - 100, f"libshared-{old}.rmeta": now - 100,
            f"shared-{old}.d": now - 100,
            f"libshared-{new}.rlib": now, f"libshared-{new}.rmeta": now, f"shared-{new}.d": now,
            f"service_get-{old}": now - 100, f"service_get-{new}": now,
            f"libtokio-{other}.rlib": now - 1000,  # one build only: kept however old
            "README": now - 1000,                  # not an artifact: never touched
        }
        for name, mtime in files.items():
            (deps / name).write_bytes(b"x" * 10)
            os.utime(deps / name, (mtime, mtime))
        freed = prune(deps)
        left = sorted(p.name for p in deps.iterdir())
        expected = sorted(n for n in files if old not in n)
        if left != expected or freed != 40:
            print(f"prune_target: left {left}, freed {freed}; expected {expected}, 40")
            return 1
    print("prune_target: keeps the newest build of each crate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
