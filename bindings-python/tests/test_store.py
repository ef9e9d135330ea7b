"""`Store` reads what `bugdash import` wrote, in SQLite and in PostgreSQL, and gives the
same report as the CLI's `analyze --project`."""

from __future__ import annotations

import bugdash
from conftest import ZOOKEEPER_FILES, cli_env, run_cli


def import_and_compare(bugdash_bin: str, url: str) -> None:
    env = cli_env(DATABASE_URL=url)
    run_cli(bugdash_bin, "import", *ZOOKEEPER_FILES, "--project", "ZOOKEEPER", env=env)

    store = bugdash.Store(url)
    projects = store.projects()
    issues = store.load("ZOOKEEPER")

    assert [(p["key"], p["issues"]) for p in projects] == [("ZOOKEEPER", 1827)]
    assert len(issues) == 1827
    expected = run_cli(
        bugdash_bin, "analyze", "--project", "ZOOKEEPER", "--window", "all",
        "--format", "json", env=env,
    )
    assert bugdash.analyze(issues, window="all").to_json() == expected
    assert len(store.load()) == len(store.load("ALL")) == 1827


def test_sqlite_store_loads_what_the_cli_imported(bugdash_bin, tmp_path):
    import_and_compare(bugdash_bin, f"sqlite://{tmp_path}/store.db")


def test_postgres_store_loads_what_the_cli_imported(bugdash_bin, postgres_url):
    import_and_compare(bugdash_bin, postgres_url)


def test_store_repr_hides_the_password(postgres_url):
    with_password = postgres_url.replace("postgres@", "postgres:hunter2@", 1)

    store = bugdash.Store(with_password)

    assert "hunter2" not in repr(store)
