#!/usr/bin/env python3
"""`make deploy-check`: what `make deploy` would upload, built offline for a few functions.

For each function named (logical ids in the root's nested stacks, `Stack/FunctionId`), runs
`sam build` as `make deploy` does (cargo lambda, release, arm64, provided.al2023), zips the
built artifact directory with SAM's own packager (what `sam deploy` uploads), and checks the
zip holds exactly one file, `bootstrap`, an executable arm64 ELF. Prints each zip's listing
and size. Needs no AWS credentials and no network beyond the crates already fetched.

    check_build.py [Operators/HealthFunction Orders/OrderCreateFunction ...]
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = Path(sys.executable).parent
BUILD_DIR = Path(os.environ.get("SAM_BUILD_DIR", Path.home() / ".cache" / "gigbao" / "sam-build"))
DEFAULT = ["Operators/HealthFunction", "Orders/OrderCreateFunction"]
ELF_ARM64 = 183  # e_machine of an AArch64 ELF


def build(function: str) -> Path:
    out = BUILD_DIR / function.replace("/", "-")
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}", "SAM_CLI_TELEMETRY": "0"}
    subprocess.run([str(VENV_BIN / "sam"), "build", "--beta-features", "--template",
                    str(ROOT / "template.yaml"), "--build-dir", str(out), function],
                   cwd=ROOT, env=env, check=True)
    return out / function.split("/")[0] / function.split("/")[1]


def packaged_zip(artifact: Path) -> Path:
    """The zip `sam deploy` makes of a built function (samcli's own code)."""
    from samcli.lib.package.utils import make_zip_with_lambda_permissions

    base = Path(tempfile.mkdtemp()) / artifact.name
    return Path(make_zip_with_lambda_permissions(str(base), str(artifact)))


def check(function: str, zip_path: Path) -> list[str]:
    problems = []
    with zipfile.ZipFile(zip_path) as z:
        names = z.namelist()
        print(f"{function}: {zip_path.stat().st_size:,} bytes zipped")
        for info in z.infolist():
            print(f"  {info.filename:<12} {info.file_size:>12,} bytes  mode "
                  f"{oct(info.external_attr >> 16 & 0o777)}")
        if names != ["bootstrap"]:
            problems.append(f"{function}: the zip holds {names}, not only bootstrap")
        else:
            head = z.read("bootstrap")[:20]
            machine = int.from_bytes(head[18:20], "little")
            if head[:4] != b"\x7fELF" or machine != ELF_ARM64:
                problems.append(f"{function}: bootstrap is not an arm64 ELF executable")
            if not (z.getinfo("bootstrap").external_attr >> 16) & 0o111:
                problems.append(f"{function}: bootstrap is not executable")
    return problems


def main() -> int:
    functions = sys.argv[1:] or DEFAULT
    problems = []
    for function in functions:
        problems += check(function, packaged_zip(build(function)))
    for p in problems:
        print(f"FAIL {p}", file=sys.stderr)
    if not problems:
        print(f"deploy-check: {len(functions)} functions built for arm64 by sam build; each zip "
              "holds only its bootstrap", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
