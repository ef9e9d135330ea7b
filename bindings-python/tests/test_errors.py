"""Each fault lands in its exception class, with a message naming what was wrong."""

from __future__ import annotations

import pytest

import bugdash
from conftest import ROOT


def test_the_exceptions_form_one_hierarchy():
    for kind in (bugdash.InputError, bugdash.JiraError, bugdash.StoreError):
        assert issubclass(kind, bugdash.BugDashError)
    assert issubclass(bugdash.BugDashError, Exception)


def test_a_missing_file_is_an_input_error_naming_it(tmp_path):
    missing = tmp_path / "nowhere.json"

    with pytest.raises(bugdash.InputError, match="nowhere.json"):
        bugdash.load(missing)


def test_a_malformed_file_is_an_input_error_with_its_position(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text('{"issues": [ {"key": "A-1", ')

    with pytest.raises(bugdash.InputError, match="broken.json"):
        bugdash.load(broken)


def test_an_unreadable_file_is_skipped_with_a_warning_when_not_strict(tmp_path):
    broken = tmp_path / "broken.json"
    broken.write_text("<html>error page</html>")
    good = ROOT / "examples" / "zookeeper" / "ZOOKEEPER-bugs-part3-of-3.json"

    with pytest.warns(UserWarning, match="broken.json"):
        issues = bugdash.load([broken, good], strict=False)

    assert len(issues) > 0


def test_a_glob_matching_nothing_is_an_input_error(tmp_path):
    with pytest.raises(bugdash.InputError, match="no file matches"):
        bugdash.load(str(tmp_path / "*.json"))


def test_a_column_mapping_with_an_unknown_field_is_an_input_error(tmp_path):
    table = tmp_path / "bugs.csv"
    table.write_text("Id,Opened\nX-1,2024-01-02\n")

    with pytest.raises(bugdash.InputError, match="severity"):
        bugdash.load(table, columns={"key": "Id", "severity": "Opened"})


def test_a_column_mapping_reads_other_delimited_files(tmp_path):
    table = tmp_path / "bugs.csv"
    table.write_text("Id,Opened,Area\nX-1,2024-01-02,db\nX-2,2024-01-09,ui\n")

    issues = bugdash.load(table, columns={"key": "Id", "created": "Opened", "components": "Area"})

    assert [issue["components"] for issue in issues] == [["db"], ["ui"]]


@pytest.mark.parametrize(
    "options, named",
    [
        ({"window": 0}, "window"),
        ({"window": "forever"}, "window"),
        ({"period": "fortnight"}, "period"),
        ({"area": "team"}, "area"),
        ({"horizon": 0}, "horizon"),
        ({"half_life": -3}, "half_life"),
        ({"as_of": "yesterday"}, "as_of"),
        ({"severity": "high"}, "severity"),
        ({"status_category": "finished"}, "status_category"),
        ({"window": True}, "window"),
        ({"project": "not a key"}, "project"),
        ({"since": 20150101}, "since"),
        ({"environment": ["a", "b"]}, "environment"),
        ({"component": [1, 2]}, "component"),
    ],
)
def test_a_bad_option_is_an_input_error_naming_it(zookeeper, options, named):
    with pytest.raises(bugdash.InputError, match=named):
        bugdash.analyze(zookeeper, **options)


def test_a_filter_range_backwards_is_an_input_error(zookeeper):
    with pytest.raises(bugdash.InputError):
        bugdash.analyze(zookeeper, since="2015-01-01", until="2014-01-01")


def test_an_unsupported_store_url_is_a_store_error():
    with pytest.raises(bugdash.StoreError, match="mysql"):
        bugdash.Store("mysql://localhost/bugdash")


def test_a_store_that_cannot_be_created_is_a_store_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")

    with pytest.raises(bugdash.StoreError):
        bugdash.Store(f"sqlite://{blocker}/inside/store.db")


def test_an_unusable_jira_url_is_a_jira_error():
    with pytest.raises(bugdash.JiraError, match="URL"):
        bugdash.Jira("example.atlassian.net")


def test_half_given_credentials_are_a_jira_error():
    with pytest.raises(bugdash.JiraError, match="email"):
        bugdash.Jira("https://example.atlassian.net", token="secret-token-1")


def test_refused_credentials_are_a_jira_error_that_never_shows_the_token(fake_jira):
    fake = fake_jira("--fault", "unauthorized")
    jira = bugdash.Jira(fake.url, email="person@example.com", token="tok-secret-42")

    with pytest.raises(bugdash.JiraError) as raised:
        jira.fetch("ZOOKEEPER")

    assert "401" in str(raised.value)
    assert "tok-secret-42" not in str(raised.value)
    assert "tok-secret-42" not in repr(jira)


def test_fetch_without_project_or_query_is_an_input_error(fake_jira):
    jira = bugdash.Jira(fake_jira().url)

    with pytest.raises(bugdash.InputError):
        jira.fetch()
