"""Benchmark of the Python module: `analyze` of 100k issues against the Rust figure, and
`Issues.to_pandas()` of 1M issues.

Run from the repository root after installing the module (release build)::

    pip install ./bindings-python
    python bindings-python/bench/bench.py

The issues are the real ZooKeeper bugs replicated as the Rust benchmarks replicate them
(benches/src/lib.rs `scaled`): copy k has its dates shifted back by k weeks (k mod 52),
new ids and keys, components and labels renamed into one of 40 families (`server~7`),
descriptions and comments dropped. They are written as REST JSON to a temporary folder
and read with `bugdash.load`, so the timed calls see exactly what users get. The 1M set
skips the date shift (it changes nothing in a frame's cost and takes minutes in Python).

The Rust figure is measured on the same file, on the same machine, right after the Python
one, by `benches/examples/analyze_files.rs` (one warm-up run, then the median of 20, as
here). Build it first::

    cargo build --release -p bugdash-benches --example analyze_files

The benchmark looks for it under `$CARGO_TARGET_DIR` or the repository's `target/`, or at
`--rust PATH`; without it, only the Python figures are printed. Prints each figure;
docs/performance.md records them.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import bugdash

ROOT = Path(__file__).resolve().parents[2]
TARGET_RATIO = 1.10  # the issue's bound: within 10% of the Rust figure
WEEK = timedelta(weeks=1)
FILE_SIZE = 100_000


def base_records() -> list[dict]:
    records: list[dict] = []
    for path in sorted((ROOT / "examples" / "zookeeper").glob("*.json")):
        records.extend(json.loads(path.read_text()))
    for record in records:
        fields = record["fields"]
        fields.pop("description", None)
        fields.pop("comment", None)
    return records


def shifted(text: str | None, weeks: int) -> str | None:
    if not text or weeks == 0:
        return text
    moment = datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z") - weeks * WEEK
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}+0000"


def replica(record: dict, copy_number: int, index: int, shift: bool) -> dict:
    issue = copy.deepcopy(record) if shift else {**record, "fields": dict(record["fields"])}
    family = copy_number % 40
    fields = issue["fields"]
    issue["id"] = str(index + 1)
    issue["key"] = f"{fields['project']['key']}-{index + 1}"
    fields["components"] = [{"name": f"{c['name']}~{family}"} for c in fields.get("components") or []]
    fields["labels"] = [f"{label}~{family}" for label in fields.get("labels") or []]
    if shift:
        weeks = copy_number % 52
        for name in ("created", "updated", "resolutiondate"):
            fields[name] = shifted(fields.get(name), weeks)
        for history in (issue.get("changelog") or {}).get("histories", []):
            history["created"] = shifted(history["created"], weeks)
    return issue


def scaled_files(records: list[dict], count: int, shift: bool, folder: Path) -> list[Path]:
    paths = []
    batch: list[dict] = []
    for index in range(count):
        batch.append(replica(records[index % len(records)], index // len(records), index, shift))
        if len(batch) == FILE_SIZE or index == count - 1:
            path = folder / f"scaled-{count}-{len(paths)}.json"
            path.write_text(json.dumps(batch))
            paths.append(path)
            batch = []
    return paths


def timed(call, runs: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds (all threads of the process) of each run."""
    call()  # warm caches and the allocator
    wall, cpu = [], []
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        call()
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    return wall, cpu


def show(name: str, figures: tuple[list[float], list[float]]) -> None:
    wall, cpu = figures
    print(
        f"{name}: median {statistics.median(wall):.1f} ms, best {min(wall):.1f} ms, "
        f"worst {max(wall):.1f} ms over {len(wall)} runs; CPU time median "
        f"{statistics.median(cpu):.1f} ms (a busy machine stretches wall time, not CPU time)"
    )


def rust_tool(given: str | None) -> Path | None:
    """The built `analyze_files` example, if any."""
    if given:
        return Path(given)
    targets = [Path(os.environ["CARGO_TARGET_DIR"])] if os.environ.get("CARGO_TARGET_DIR") else []
    targets.append(ROOT / "target")
    for target in targets:
        path = target / "release" / "examples" / "analyze_files"
        if path.is_file():
            return path
    return None


def rust_median(tool: Path, paths: list[Path], runs: int) -> float:
    """The Rust median in milliseconds of analysing `paths`, from the tool's one line."""
    done = subprocess.run([str(tool), "--runs", str(runs), *map(str, paths)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{tool} failed ({done.returncode}): {done.stderr.strip()}")
    words = done.stdout.split()
    return float(words[words.index("median") + 1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rust", help="path of the built analyze_files example")
    arguments = parser.parse_args()
    tool = rust_tool(arguments.rust)
    runs = 20
    records = base_records()
    with tempfile.TemporaryDirectory() as folder:
        paths = scaled_files(records, 100_000, True, Path(folder))
        issues = bugdash.load(paths)
        analyze = timed(lambda: bugdash.analyze(issues, window="all"), runs)
        show("analyze, 100k issues, window all", analyze)
        del issues
        if tool is None:
            print("  no Rust figure: build the analyze_files example (see the module's docstring)")
        else:
            rust = rust_median(tool, paths, runs)
            ratio = statistics.median(analyze[0]) / rust
            verdict = "within" if ratio <= TARGET_RATIO else "outside"
            print(
                f"  Rust, same file: median {rust:.1f} ms; Python/Rust {ratio:.2f} "
                f"({verdict} the {TARGET_RATIO - 1:.0%} bound; tool {tool}, rebuild it after changes)"
            )
        for path in paths:
            path.unlink()

        paths = scaled_files(records, 1_000_000, False, Path(folder))
        issues = bugdash.load(paths)
        for path in paths:
            path.unlink()
        show("to_pandas, 1M issues", timed(issues.to_pandas, 5))
    return 0


if __name__ == "__main__":
    sys.exit(main())
