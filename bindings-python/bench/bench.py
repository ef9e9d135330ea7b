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
Prints each figure; docs/performance.md records them.
"""

from __future__ import annotations

import copy
import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

import bugdash

ROOT = Path(__file__).resolve().parents[2]
RUST_ANALYZE_100K_MS = 47.0  # docs/performance.md, full analysis with backtest, 100k (quiet machine)
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


def scaled_issues(records: list[dict], count: int, shift: bool, folder: Path) -> bugdash.Issues:
    paths = []
    batch: list[dict] = []
    for index in range(count):
        batch.append(replica(records[index % len(records)], index // len(records), index, shift))
        if len(batch) == FILE_SIZE or index == count - 1:
            path = folder / f"scaled-{count}-{len(paths)}.json"
            path.write_text(json.dumps(batch))
            paths.append(path)
            batch = []
    issues = bugdash.load(paths)
    for path in paths:
        path.unlink()
    return issues


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


def main() -> int:
    records = base_records()
    with tempfile.TemporaryDirectory() as folder:
        issues = scaled_issues(records, 100_000, True, Path(folder))
        analyze = timed(lambda: bugdash.analyze(issues, window="all"), 20)
        show("analyze, 100k issues, window all", analyze)
        ratio = statistics.median(analyze[0]) / RUST_ANALYZE_100K_MS
        print(f"  Rust benchmark figure {RUST_ANALYZE_100K_MS:.0f} ms; Python/Rust {ratio:.2f}")
        del issues

        issues = scaled_issues(records, 1_000_000, False, Path(folder))
        show("to_pandas, 1M issues", timed(issues.to_pandas, 5))
    return 0


if __name__ == "__main__":
    sys.exit(main())
