"""`Jira.fetch` against the fake JIRA, which serves the real ZooKeeper bugs."""

from __future__ import annotations

import os
import signal
import threading

import pytest

import bugdash


@pytest.mark.parametrize("flavor", ["cloud", "data-center"])
def test_fetch_gives_the_same_report_as_the_files(fake_jira, zookeeper, flavor):
    fake = fake_jira("--flavor", flavor)
    jira = bugdash.Jira(fake.url, email="person@example.com", token="t-1")

    fetched = jira.fetch("ZOOKEEPER")

    from_jira = bugdash.analyze(fetched, window="all")
    from_files = bugdash.analyze(zookeeper, window="all")

    assert len(fetched) == len(zookeeper)
    assert jira.api_calls > 0
    # Reopens in the files come from Apache's "Time in Status" field, which a search
    # does not ask for; everything else must match.
    assert without_reopen(from_jira.summary) == without_reopen(from_files.summary)
    assert area_counts(from_jira) == area_counts(from_files)
    assert from_jira.trends.equals(from_files.trends)


def area_counts(report: bugdash.Report) -> set[tuple]:
    areas = report.areas
    return set(zip(areas["name"], areas["bugs"], areas["open"], areas["resolved"]))


def without_reopen(summary: dict) -> dict:
    return {key: value for key, value in summary.items() if key != "reopen"}


def test_fetch_with_a_query_alone_sends_it_as_given(fake_jira):
    jira = bugdash.Jira(fake_jira("--flavor", "data-center").url, pat="pat-1")

    fetched = jira.fetch(jql="project = ZOOKEEPER AND key = ZOOKEEPER-8")

    assert [issue["key"] for issue in fetched] == ["ZOOKEEPER-8"]


def test_ctrl_c_interrupts_a_long_fetch(fake_jira):
    # Every page takes a second and there are 19 of them: without the interrupt the fetch
    # would return issues instead of raising.
    fake = fake_jira("--flavor", "data-center", "--page-latency-ms", "1000")
    jira = bugdash.Jira(fake.url)
    timer = threading.Timer(0.5, lambda: os.kill(os.getpid(), signal.SIGINT))
    # A process started in the background by a shell without job control (as CI scripts
    # often are) inherits SIGINT ignored, and Python then installs no handler for it: the
    # test sets Python's own handler, which is what an interactive session has.
    inherited = signal.signal(signal.SIGINT, signal.default_int_handler)

    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            jira.fetch("ZOOKEEPER")
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, inherited)
