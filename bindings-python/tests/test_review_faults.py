"""Regression tests for the faults a review found in the module: each test is named after
the fault it keeps fixed."""

from __future__ import annotations

import copy
import json
import os
import pickle

import numpy as np
import pandas as pd
import pytest

import bugdash
from conftest import ZOOKEEPER_FILES, cli_env, run_cli

HUGE_ID = 10000000000000000000  # above i64::MAX, below u64::MAX


def one_issue_file(tmp_path, issue_id: int):
    """A REST JSON search page holding one bug with the given JIRA id."""
    page = {
        "startAt": 0,
        "maxResults": 1,
        "total": 1,
        "issues": [
            {
                "id": str(issue_id),
                "key": "BIG-1",
                "fields": {
                    "summary": "a bug with a large id",
                    "issuetype": {"name": "Bug"},
                    "status": {"name": "Open"},
                    "project": {"key": "BIG", "name": "Big"},
                    "created": "2024-01-02T10:00:00.000+0000",
                    "updated": "2024-01-03T10:00:00.000+0000",
                    "components": [],
                },
            }
        ],
    }
    path = tmp_path / "big.json"
    path.write_text(json.dumps(page))
    return path


# 1. A mistyped SQLite path silently gave an empty store; an unknown project gave 0 issues.


def test_fault1_a_missing_sqlite_file_is_refused_naming_the_path(tmp_path):
    missing = tmp_path / "nonexistent" / "dir" / "x.db"

    with pytest.raises(bugdash.StoreError, match="nonexistent/dir/x.db"):
        bugdash.Store(f"sqlite://{missing}")

    assert not (tmp_path / "nonexistent").exists()


def test_fault1_create_true_makes_a_new_sqlite_store(tmp_path):
    path = tmp_path / "new" / "x.db"

    store = bugdash.Store(f"sqlite://{path}", create=True)

    assert path.is_file() and store.projects() == []


def test_fault1_an_unknown_project_is_refused_listing_the_known_ones(bugdash_bin, tmp_path):
    url = f"sqlite://{tmp_path}/store.db"
    run_cli(
        bugdash_bin, "import", *ZOOKEEPER_FILES, "--project", "ZOOKEEPER",
        env=cli_env(DATABASE_URL=url),
    )
    store = bugdash.Store(url)

    with pytest.raises(bugdash.InputError, match=r"NOPE.*ZOOKEEPER"):
        store.load("NOPE")
    with pytest.raises(bugdash.InputError, match="NOPE"):
        store.load(["ZOOKEEPER", "NOPE"])
    assert len(store.load("ZOOKEEPER")) == 1827


# 2. Pickling or copying raised TypeError.


def test_fault2_issues_pickle_and_copy(zookeeper):
    for again in (pickle.loads(pickle.dumps(zookeeper)), copy.copy(zookeeper),
                  copy.deepcopy(zookeeper)):
        assert len(again) == len(zookeeper)
        assert list(again) == list(zookeeper)
        assert bugdash.analyze(again, window="all").to_json() == bugdash.analyze(
            zookeeper, window="all"
        ).to_json()


def test_fault2_report_pickles_and_copies_through_its_json(zookeeper):
    report = bugdash.analyze(zookeeper, window="all", horizon=14)

    for again in (pickle.loads(pickle.dumps(report)), copy.deepcopy(report)):
        assert again.to_json() == report.to_json()
        assert again.areas.equals(report.areas)


def test_fault2_jira_and_store_refuse_pickling_clearly(fake_jira, tmp_path):
    store = bugdash.Store(f"sqlite://{tmp_path}/s.db", create=True)
    jira = bugdash.Jira("http://127.0.0.1:9")

    for thing in (store, jira):
        with pytest.raises(bugdash.BugDashError, match="cannot be pickled"):
            pickle.dumps(thing)
        with pytest.raises(bugdash.BugDashError, match="cannot be pickled"):
            copy.copy(thing)


# 3. Ids above i64::MAX changed sign in to_pandas().


def test_fault3_ids_above_i64_max_keep_their_value_in_pandas(tmp_path):
    issues = bugdash.load(one_issue_file(tmp_path, HUGE_ID))

    frame = issues.to_pandas()

    assert frame["id"].dtype == "UInt64"
    assert int(frame["id"][0]) == HUGE_ID
    assert issues[0]["id"] == HUGE_ID


# 4. Wrong argument types raised exceptions outside BugDashError.


@pytest.mark.parametrize(
    "options, named",
    [
        ({"horizon": 2**64}, "horizon"),
        ({"horizon": 30.0}, "horizon"),
        ({"horizon": "30"}, "horizon"),
        ({"horizon": True}, "horizon"),
        ({"half_life": "30"}, "half_life"),
        ({"period": 7}, "period"),
        ({"area": None, "horizon": -1}, "horizon"),
    ],
)
def test_fault4_wrong_option_types_are_input_errors(zookeeper, options, named):
    with pytest.raises(bugdash.InputError, match=named):
        bugdash.analyze(zookeeper, **options)


def test_fault4_numbers_of_any_int_kind_still_work(zookeeper):
    expected = bugdash.analyze(zookeeper, window="all", horizon=14, half_life=20).to_json()

    got = bugdash.analyze(zookeeper, window="all", horizon=np.int64(14), half_life=20.0)

    assert got.to_json() == expected


def test_fault4_analyze_of_something_else_is_an_input_error():
    with pytest.raises(bugdash.InputError, match="Issues"):
        bugdash.analyze([1, 2, 3])


def test_fault4_a_huge_or_wrong_index_stays_in_known_errors(zookeeper):
    with pytest.raises(IndexError, match="out of range"):
        zookeeper[10**30]
    with pytest.raises(IndexError, match="out of range"):
        zookeeper[-(10**30)]
    with pytest.raises(bugdash.InputError, match="integer or a slice"):
        zookeeper["ZOOKEEPER-1"]
    assert zookeeper[np.int64(1)] == zookeeper[1]


def test_fault4_store_load_of_a_number_is_an_input_error(tmp_path):
    store = bugdash.Store(f"sqlite://{tmp_path}/s.db", create=True)

    with pytest.raises(bugdash.InputError, match="123"):
        store.load(123)
    with pytest.raises(bugdash.StoreError, match="text"):
        bugdash.Store(123)


def test_fault4_load_takes_bytes_and_pathlike_paths(tmp_path):
    path = one_issue_file(tmp_path, 7)

    for given in (os.fsencode(path), path, [os.fsencode(path)], str(path)):
        assert len(bugdash.load(given)) == 1
    with pytest.raises(bugdash.InputError, match="123"):
        bugdash.load(123)
    with pytest.raises(bugdash.InputError, match="path"):
        bugdash.load([path, 5])


# 5. The areas frame of a report with no areas had fewer columns.


def test_fault5_areas_has_the_same_columns_with_no_areas(zookeeper):
    full = bugdash.analyze(zookeeper, window="all").areas
    empty = bugdash.analyze(zookeeper, window="all", component="no such component").areas

    assert len(empty) == 0
    assert list(empty.columns) == list(full.columns)
    assert len(full.columns) == 20


# 6. numpy/pandas datetimes were refused or misread; slicing was missing.


def test_fault6_numpy_and_pandas_datetimes_are_dates(zookeeper):
    expected = bugdash.analyze(zookeeper, as_of="2018-01-01").to_json()

    for when in (np.datetime64("2018-01-01"), np.datetime64("2018-01-01T00:00:00.000000000"),
                 pd.Timestamp("2018-01-01"), pd.Timestamp("2018-01-01", tz="UTC")):
        assert bugdash.analyze(zookeeper, as_of=when).to_json() == expected, when


def test_fault6_nat_is_refused_clearly(zookeeper):
    for nat in (pd.NaT, np.datetime64("NaT")):
        with pytest.raises(bugdash.InputError, match="NaT") as raised:
            bugdash.analyze(zookeeper, as_of=nat)
        assert "NaTZ" not in str(raised.value)


def test_fault6_issues_slice_to_issues(zookeeper):
    part = zookeeper[1:3]
    stepped = zookeeper[::-500]

    assert isinstance(part, bugdash.Issues) and len(part) == 2
    assert list(part) == [zookeeper[1], zookeeper[2]]
    assert [i["key"] for i in stepped] == [i["key"] for i in list(zookeeper)[::-500]]
    assert len(zookeeper[5:5]) == 0


# 7. Wording: CLI option names in messages, the empty repr.


def test_fault7_column_mapping_errors_speak_of_columns_not_the_cli_option(tmp_path):
    table = tmp_path / "bugs.csv"
    table.write_text("Id,Opened\nX-1,2024-01-02\n")

    with pytest.raises(bugdash.InputError) as raised:
        bugdash.load(table, columns={"key": "Id", "severity": "Opened"})

    assert "--columns" not in str(raised.value) and "`" not in str(raised.value)


def test_fault7_empty_issues_repr_reads_well(zookeeper):
    assert repr(zookeeper[0:0]) == "<bugdash.Issues: no issues>"
    assert repr(zookeeper[0:1]) == "<bugdash.Issues: 1 issue of ZOOKEEPER>"
