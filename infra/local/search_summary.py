"""Says which search engines `make test` ran the search suites on, and how many tests each:
the emulator's `…_on_tantivy` / `…_on_opensearch` tests, and the black-box search suite, which
ran on the main stack (tantivy) and again on a stack searching the OpenSearch node (its log is
the argument)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def listed(test: str, filt: str) -> list[str]:
    out = subprocess.run(["cargo", "test", "-q", "-p", "gigbao-tests", "--test", test, "--",
                          "--list", filt], cwd=ROOT, capture_output=True, text=True, check=True)
    return [line.removesuffix(": test") for line in out.stdout.splitlines() if line.endswith(": test")]


def main() -> int:
    log = Path(sys.argv[1]).read_text() if len(sys.argv) > 1 else ""
    version = re.search(r"OpenSearch (\S+) on http", log)
    passed = re.search(r"test result: ok\. (\d+) passed", log)
    emulator = listed("emulator", "search::")
    on_tantivy = [t for t in emulator if t.endswith("_on_tantivy")]
    on_opensearch = [t for t in emulator if t.endswith("_on_opensearch")]
    blackbox = listed("blackbox", "search::")
    print(f"[search] tantivy: {len(on_tantivy)} emulator + {len(blackbox)} black-box tests; "
          f"OpenSearch {version.group(1) if version else '?'}: {len(on_opensearch)} emulator + "
          f"{passed.group(1) if passed else 0} black-box tests")
    return 0


if __name__ == "__main__":
    sys.exit(main())
