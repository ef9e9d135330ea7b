"""Shared fixtures: the repository's data, the `bugdash` binary, the fake JIRA process and
fresh stores.

The binaries come from BUGDASH_BIN and BUGDASH_FAKE_JIRA_BIN (set by scripts/test-python);
without them they are built with cargo into CARGO_TARGET_DIR (or the workspace's target/).
"""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path
from typing import Iterator

import pytest

import bugdash

ROOT = Path(__file__).resolve().parents[2]
ZOOKEEPER_FILES = sorted(str(p) for p in (ROOT / "examples" / "zookeeper").glob("*.json"))
POSTGRES_SERVER = os.environ.get(
    "BUGDASH_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres"
)


def _binary(env_name: str, package: str, name: str) -> str:
    given = os.environ.get(env_name)
    if given:
        return given
    target = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
    subprocess.run(
        ["cargo", "build", "--quiet", "-p", package, "--bin", name], cwd=ROOT, check=True
    )
    return str(target / "debug" / name)


@pytest.fixture(scope="session")
def bugdash_bin() -> str:
    """Path of the `bugdash` CLI binary."""
    return _binary("BUGDASH_BIN", "bugdash-cli", "bugdash")


@pytest.fixture(scope="session")
def fake_jira_bin() -> str:
    """Path of the fake JIRA server binary (tests/src/bin/fake_jira.rs)."""
    return _binary("BUGDASH_FAKE_JIRA_BIN", "bugdash-tests", "fake_jira")


@pytest.fixture(scope="session")
def zookeeper() -> bugdash.Issues:
    """The 1,827 real ZooKeeper bugs shipped in examples/zookeeper."""
    return bugdash.load(ZOOKEEPER_FILES)


def cli_env(**extra: str) -> dict[str, str]:
    """An environment for the CLI with no BugDash or JIRA settings inherited."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("JIRA_", "DATABASE_URL", "DB_", "BUGDASH_DATA"))
    }
    env.update(extra)
    return env


def run_cli(binary: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Runs the CLI and returns its standard output; a failure shows its standard error."""
    done = subprocess.run(
        [binary, *args], capture_output=True, text=True, env=env or cli_env(), cwd=ROOT
    )
    assert done.returncode == 0, f"bugdash {' '.join(args)} failed:\n{done.stderr}"
    return done.stdout


class FakeJira:
    """A running fake JIRA process; `url` is its base URL."""

    def __init__(self, binary: str, *args: str) -> None:
        self.process = subprocess.Popen(
            [binary, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip()
        assert self.url.startswith("http://127.0.0.1:"), f"fake JIRA said {self.url!r}"

    def stop(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def fake_jira(fake_jira_bin: str) -> Iterator[callable]:
    """Starts fake JIRA processes with the given arguments; stops them after the test."""
    started: list[FakeJira] = []

    def start(*args: str) -> FakeJira:
        fake = FakeJira(fake_jira_bin, *args)
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database, dropped after the test."""
    import psycopg  # a test dependency: the [test] extra installs it

    name = f"bugdash_pytest_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(POSTGRES_SERVER, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    base, _, _ = POSTGRES_SERVER.rpartition("/")
    try:
        yield f"{base}/{name}"
    finally:
        with psycopg.connect(POSTGRES_SERVER, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
