"""Regenerate the Python code for every .proto under protos/.

Usage: python tools/genproto.py [--check]

Writes *_pb2.py, *_pb2.pyi and *_pb2_grpc.py beside the package path of each
.proto (protos/pinnace/api/core/v1/core.proto -> pinnace/api/core/v1/). With
--check, regenerates into a temporary folder and exits 1 if anything differs
from the committed code.
"""

from __future__ import annotations

import argparse
import filecmp
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"


def generate(out: Path) -> None:
    """Run protoc over every .proto into `out`, adding package __init__ files."""
    import grpc_tools
    from grpc_tools import protoc

    files = sorted(str(p.relative_to(PROTOS)) for p in PROTOS.rglob("*.proto"))
    include = str(Path(grpc_tools.__file__).parent / "_proto")
    args = [
        "protoc",
        f"-I{PROTOS}",
        f"-I{include}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *files,
    ]
    if protoc.main(args) != 0:
        raise SystemExit("protoc failed")
    for f in files:
        d = (out / f).parent
        while d != out:
            (d / "__init__.py").touch(exist_ok=True)
            d = d.parent


def generated_files(base: Path) -> set[Path]:
    files = set()
    for pattern in ("*_pb2.py", "*_pb2.pyi", "*_pb2_grpc.py"):
        files |= {p.relative_to(base) for p in base.rglob(pattern)}
    return files


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if the committed code is stale")
    opts = parser.parse_args()
    if not opts.check:
        generate(ROOT)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        generate(tmpdir)
        fresh = generated_files(tmpdir)
        committed = {p for p in generated_files(ROOT) if not str(p).startswith((".", "build"))}
        stale = sorted(str(p) for p in fresh ^ committed)
        stale += sorted(
            str(p)
            for p in fresh & committed
            if not filecmp.cmp(tmpdir / p, ROOT / p, shallow=False)
        )
        if stale:
            print("generated code is stale; run python tools/genproto.py:", *stale, sep="\n  ")
            return 1
    print("generated code is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
