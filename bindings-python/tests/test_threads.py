"""Several threads analyse at once (the interpreter lock is released) and each gets the
report it would get alone."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import bugdash

OPTIONS = [
    {"window": "all"},
    {"window": 180, "period": "month"},
    {"area": "label"},
    {"as_of": "2014-01-01", "horizon": 60},
    {"exclude_resolution": "Duplicate"},
    {"priority": ["Blocker", "Critical"]},
    {"area": "fix_version", "window": "all"},
    {"half_life": 90},
]


def test_threads_analysing_at_once_get_the_reports_made_one_by_one(zookeeper):
    alone = [bugdash.analyze(zookeeper, **options).to_json() for options in OPTIONS]

    with ThreadPoolExecutor(max_workers=4) as pool:
        jobs = [pool.submit(bugdash.analyze, zookeeper, **o) for o in OPTIONS * 4]
        together = [job.result().to_json() for job in jobs]

    assert together == alone * 4


def test_threads_loading_and_framing_at_once_agree(zookeeper):
    def frame_rows(_: int) -> int:
        return len(zookeeper.to_pandas())

    with ThreadPoolExecutor(max_workers=4) as pool:
        rows = list(pool.map(frame_rows, range(8)))

    assert rows == [len(zookeeper)] * 8
