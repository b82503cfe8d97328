"""Cold start of each Lambda handler: import time in a fresh interpreter, and the package size.

For every function in template.yaml, starts a new Python process N times and times
`import <handler module>` inside it (what Lambda's init phase does before the first event),
with the function's environment from the template. Then builds the deployment package the way
`sam build` does (`make build-<Function>`: the cloud code, the wire contract and
cloud/requirements.txt for arm64) and reports its size unzipped and zipped.

    .venv/bin/python bench/cold_start.py [--runs 9] [--no-package] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from infra.local.template import Template  # noqa: E402

GOAL_S = 0.20
PROBE = "import time; t = time.perf_counter(); import {module}; print(time.perf_counter() - t)"


def import_seconds(module: str, environment: dict[str, str], runs: int) -> list[float]:
    """Wall time of importing `module` in `runs` fresh interpreters."""
    env = {
        **os.environ,
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "cold",
        "AWS_SECRET_ACCESS_KEY": "cold",
        "PYTHONDONTWRITEBYTECODE": "0",
        **environment,
    }
    subprocess.run(  # a first import writes the .pyc files, as the package ships them
        [sys.executable, "-c", PROBE.format(module=module)], env=env, check=True, cwd=ROOT
    )
    times = []
    for _ in range(runs):
        done = subprocess.run(
            [sys.executable, "-c", PROBE.format(module=module)],
            env=env,
            check=True,
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        times.append(float(done.stdout.strip()))
    return times


def package_size(function: str) -> tuple[int, int]:
    """Bytes of the built package, unzipped and zipped."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "artifacts"
        subprocess.run(
            ["make", "-s", f"build-{function}", f"ARTIFACTS_DIR={out}"], cwd=ROOT, check=True
        )
        unzipped = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        archive = Path(tmp) / "package.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path in out.rglob("*"):
                if path.is_file():
                    zipped.write(path, path.relative_to(out))
        return unzipped, archive.stat().st_size


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--no-package", action="store_true", help="skip building the package")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    template = Template.load(ROOT / "template.yaml")
    rows: list[dict[str, Any]] = []
    for function in template.functions():
        module = function.handler.rpartition(".")[0]
        environment = {k: str(v) for k, v in function.environment.items()}
        times = import_seconds(module, environment, args.runs)
        rows.append(
            {
                "function": function.logical_id,
                "module": module,
                "median_s": statistics.median(times),
                "max_s": max(times),
                "runs": len(times),
            }
        )
    package: dict[str, int] = {}
    if not args.no_package and shutil.which("make"):
        # every function ships the same package (one CodeUri, one build recipe)
        package["unzipped_bytes"], package["zipped_bytes"] = package_size(
            template.functions()[0].logical_id
        )
    result = {
        "date": datetime.now(UTC).date().isoformat(),
        "machine": (
            f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
        ),
        "goal_s": GOAL_S,
        "handlers": rows,
        "package": package,
    }
    print(f"{'function':<18} {'module':<28} {'median s':>9} {'max s':>7}  goal {GOAL_S} s")
    for row in rows:
        verdict = "met" if row["median_s"] <= GOAL_S else "MISSED"
        print(
            f"{row['function']:<18} {row['module']:<28} {row['median_s']:>9.3f} "
            f"{row['max_s']:>7.3f}  {verdict}"
        )
    if package:
        print(
            f"package: {package['unzipped_bytes'] / 1e6:.1f} MB unzipped, "
            f"{package['zipped_bytes'] / 1e6:.1f} MB zipped (limit 250 MB unzipped)"
        )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
