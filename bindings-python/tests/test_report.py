"""The report from Python equals the CLI's, and pandas finds the same numbers."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pytest

import bugdash
from conftest import ZOOKEEPER_FILES, run_cli


def cli_json(bugdash_bin: str, *options: str) -> str:
    return run_cli(bugdash_bin, "analyze", *ZOOKEEPER_FILES, "--format", "json", *options)


def test_to_json_equals_the_cli_json_byte_for_byte(bugdash_bin, zookeeper):
    report = bugdash.analyze(zookeeper, window="all")

    assert report.to_json() == cli_json(bugdash_bin, "--window", "all")


def test_default_options_equal_the_cli_defaults(bugdash_bin, zookeeper):
    assert bugdash.analyze(zookeeper).to_json() == cli_json(bugdash_bin)


def test_every_option_maps_as_the_cli_maps_it(bugdash_bin, zookeeper):
    report = bugdash.analyze(
        zookeeper,
        as_of="2015-06-30",
        window=365,
        period="month",
        area="fix_version",
        horizon=60,
        half_life=45,
        bug_types=["Improvement"],
        exclude_resolution=["Duplicate", "Won't Fix"],
        priority="Blocker,Critical,Major",
        since="2010-01-01",
    )

    expected = cli_json(
        bugdash_bin,
        "--as-of", "2015-06-30",
        "--window", "365",
        "--period", "month",
        "--area", "fix-version",
        "--horizon", "60",
        "--half-life", "45",
        "--bug-type", "Improvement",
        "--exclude-resolution", "Duplicate,Won't Fix",
        "--priority", "Blocker,Critical,Major",
        "--since", "2010-01-01",
    )
    assert report.to_json() == expected


def test_project_and_list_filters_map_as_the_cli_maps_them(bugdash_bin, zookeeper):
    report = bugdash.analyze(
        zookeeper,
        window="all",
        project="zookeeper",
        component=["server", "c client"],
        status_category="done",
    )

    expected = cli_json(
        bugdash_bin,
        "--window", "all",
        "--project", "zookeeper",
        "--component", "server,c client",
        "--status-category", "done",
    )
    assert report.to_json() == expected


def test_resolved_since_keeps_the_bugs_resolved_from_that_date(zookeeper):
    every = bugdash.analyze(zookeeper, window="all")
    recent = bugdash.analyze(zookeeper, window="all", resolved_since="2016-01-01")

    matched = recent.to_dict()["data"]["matched"]

    assert 0 < matched < every.to_dict()["data"]["matched"]
    assert recent.summary["open"] == 0  # only resolved bugs pass a resolution filter


def test_a_datetime_as_of_is_the_same_instant_as_its_text(zookeeper):
    from datetime import datetime, timezone

    as_date = bugdash.analyze(zookeeper, as_of=datetime(2016, 3, 1, tzinfo=timezone.utc))
    as_text = bugdash.analyze(zookeeper, as_of="2016-03-01")

    assert as_date.to_json() == as_text.to_json()


def test_summary_has_the_keys_and_numbers_of_the_json_report(zookeeper):
    report = bugdash.analyze(zookeeper, window="all")

    summary = report.summary

    assert summary == json.loads(report.to_json())["summary"]
    assert (summary["bugs"], summary["resolved"], summary["open"]) == (1827, 1254, 573)


def test_pandas_counts_agree_with_the_summary(zookeeper):
    report = bugdash.analyze(zookeeper, window="all")
    frame = zookeeper.to_pandas()
    bugs = frame[frame["type"] == "Bug"]

    open_bugs = bugs[bugs["status_category"] != "done"]
    by_priority = open_bugs["priority"].value_counts()
    blocker = next(p for p in report.summary["by_priority"] if p["priority"] == "Blocker")

    assert len(bugs) == report.summary["bugs"]
    assert len(open_bugs) == report.summary["open"]
    assert by_priority["Blocker"] == blocker["open"]


def test_pandas_component_counts_agree_with_the_areas(zookeeper):
    report = bugdash.analyze(zookeeper, window="all")
    components = zookeeper.to_pandas()[["key", "components"]].explode("components")
    counts = components["components"].fillna("none").value_counts()

    areas = report.areas.set_index("name")

    assert areas.loc["server", "bugs"] == counts["server"]
    assert areas.loc["none", "bugs"] == counts["none"]
    assert len(areas) == len(counts)


def test_areas_frame_has_risk_in_descending_order(zookeeper):
    report = bugdash.analyze(zookeeper, window="all")

    areas = report.areas

    assert list(areas["risk"]) == sorted(areas["risk"], reverse=True)
    assert list(areas["name"]) == [a["name"] for a in report.to_dict()["areas"]]
    assert areas["level"].dtype == "category"
    assert {"risk", "level", "bugs", "open", "forecast_expected", "explanation"} <= set(areas)


def test_trends_sum_to_the_window_counts(zookeeper):
    report = bugdash.analyze(zookeeper, window="all", period="month")

    trends = report.trends

    assert trends["created"].sum() == report.summary["bugs"]
    assert trends["start"].is_monotonic_increasing
    assert trends.attrs["period"] == "month"


def test_forecast_insights_and_backtest_frames_hold_the_report_numbers(zookeeper):
    report = bugdash.analyze(zookeeper, window="all")
    data = report.to_dict()

    forecast = report.forecast
    backtest = report.backtest
    insights = report.insights

    assert forecast.iloc[0]["expected"] == data["forecast"]["expected"]
    assert pd.isna(forecast.iloc[0]["area"])
    assert len(forecast) == len(data["areas"]) + 1
    assert backtest.loc["auc", "model"] == data["backtest"]["auc"]
    assert backtest.loc["auc", "baseline"] == data["backtest"]["baseline_auc"]
    assert backtest.attrs["verdict"] == data["backtest"]["verdict"]
    assert list(insights["message"]) == [i["message"] for i in data["insights"]]


def test_notebook_html_names_the_project_and_the_riskiest_area(zookeeper):
    report = bugdash.analyze(zookeeper, window="all")

    page = report._repr_html_()

    assert "ZOOKEEPER" in page and "Riskiest areas" in page
    assert report.areas.iloc[0]["name"] in page


def test_to_dict_is_a_fresh_copy_each_time(zookeeper):
    report = bugdash.analyze(zookeeper)

    report.to_dict()["summary"]["bugs"] = -1

    assert report.summary["bugs"] >= 0


@pytest.mark.parametrize("index", [0, -1])
def test_issues_index_and_iterate_alike(zookeeper, index):
    listed = list(zookeeper)

    assert zookeeper[index] == listed[index]
    assert len(listed) == len(zookeeper) == 1827


def test_issue_frame_has_one_row_per_issue_with_utc_times(zookeeper):
    frame = zookeeper.to_pandas()
    first = zookeeper[0]

    assert len(frame) == len(zookeeper)
    assert frame.loc[0, "key"] == first["key"]
    assert frame.loc[0, "created"] == pd.Timestamp(first["created"])
    assert str(frame["created"].dt.tz) == "UTC"
    assert list(frame.loc[0, "components"]) == first["components"]


def test_issue_frame_has_the_documented_dtypes(zookeeper):
    frame = zookeeper.to_pandas()

    names = pd.ArrowDtype(pa.large_list(pa.large_string()))
    assert frame["id"].dtype == "UInt64" and frame["reopen_count"].dtype == "Int64"
    assert frame["key"].dtype == pd.StringDtype("pyarrow")
    assert frame["summary"].dtype == pd.StringDtype("pyarrow")
    for column in ("project", "type", "status", "status_category", "priority", "assignee"):
        assert frame[column].dtype == "category", column
    assert frame["created"].dtype == pd.DatetimeTZDtype("ms", "UTC")
    for column in ("components", "labels", "fix_versions", "affects_versions"):
        assert frame[column].dtype == names, column


def test_issue_frame_columns_equal_the_issues_one_by_one(zookeeper):
    frame = zookeeper.to_pandas()

    def cell(value):
        return None if value is pd.NA or value is pd.NaT or value != value else value

    for row, issue in zip(frame.itertuples(index=False), zookeeper):
        assert row.key == issue["key"] and row.summary == issue["summary"]
        assert cell(row.priority) == issue["priority"]
        assert cell(row.resolution) == issue["resolution"]
        assert cell(row.assignee) == issue["assignee"]
        assert (cell(row.resolved) or None) == issue["resolved"]
        assert list(row.labels) == issue["labels"]
        assert list(row.fix_versions) == issue["fix_versions"]
        assert cell(row.reopen_count) == issue["reopen_count"]


def test_issue_frame_keeps_absent_values_absent(tmp_path):
    table = tmp_path / "bugs.csv"
    table.write_text("Id,Opened,Area\nX-1,2024-01-02,db\nX-2,2024-01-09,\n")
    issues = bugdash.load(table, columns={"key": "Id", "created": "Opened", "components": "Area"})

    frame = issues.to_pandas()

    assert frame["id"].isna().all()
    assert frame["resolved"].isna().all() and frame["priority"].isna().all()
    assert [list(names) for names in frame["components"]] == [["db"], []]
    assert list(frame["key"]) == ["X-1", "X-2"]
