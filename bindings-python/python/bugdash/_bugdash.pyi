"""Type stubs of the native module `bugdash._bugdash` (built from bindings-python/src)."""

from datetime import date, datetime
from os import PathLike
from typing import Any, Iterator, Optional, Sequence, Union, overload

import pandas

__version__: str

class BugDashError(Exception):
    """Base class of every error the bugdash module raises."""

class InputError(BugDashError):
    """An input or option the caller gave cannot be used, including an argument of the
    wrong type (where plain Python would raise TypeError, ValueError or OverflowError).
    It derives from BugDashError only, so ``except bugdash.BugDashError`` catches every
    fault of the module. Out-of-range ``issues[i]`` stays IndexError (sequence protocol)."""

class JiraError(BugDashError):
    """JIRA refused or failed the request, or the JIRA settings are unusable."""

class StoreError(BugDashError):
    """The store could not be opened or failed to answer."""

_Names = Union[str, Sequence[str]]
_When = Union[str, date, datetime, Any]  # also pandas.Timestamp, numpy.datetime64 (not NaT)

class Issues:
    """A collection of JIRA issues, read once and shared by every analysis of it."""

    def __len__(self) -> int: ...
    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...
    @overload
    def __getitem__(self, index: slice) -> Issues: ...
    def __reduce__(self) -> tuple[Any, tuple[str]]:
        """Pickling and copy: the issues travel as JSON."""
    def __iter__(self) -> Iterator[dict[str, Any]]: ...
    def to_pandas(self) -> pandas.DataFrame:
        """One row per issue as a pandas DataFrame, built from Arrow columns.

        Columns and dtypes: ``id``: ``UInt64``; ``reopen_count``: ``Int64``; ``key``, ``summary``:
        ``string[pyarrow]``; ``project``, ``type``, ``status``, ``status_category``,
        ``priority``, ``resolution``, ``environment``, ``assignee``, ``reporter``:
        ``category``; ``created``, ``updated``, ``resolved``: ``datetime64[ms, UTC]``;
        ``components``, ``labels``, ``fix_versions``, ``affects_versions``:
        ``pandas.ArrowDtype(pyarrow.large_list(pyarrow.large_string()))``.
        """
    def _columns(self) -> dict[str, tuple]: ...

class Report:
    """The bug-risk report of a set of issues; pickling and copy go through its JSON."""

    def __reduce__(self) -> tuple[Any, tuple[str]]: ...
    @property
    def summary(self) -> dict[str, Any]:
        """Headline numbers, the keys of the JSON report's `summary`."""
    @property
    def areas(self) -> pandas.DataFrame:
        """One row per area by descending risk."""
    @property
    def trends(self) -> pandas.DataFrame:
        """Created, resolved and open bugs per period."""
    @property
    def insights(self) -> pandas.DataFrame:
        """Rule-based findings, most severe first."""
    @property
    def forecast(self) -> pandas.DataFrame:
        """Expected bugs over the horizon: the whole selection, then each area."""
    @property
    def backtest(self) -> pandas.DataFrame:
        """AUC, Brier and MAE of the model beside the naive baseline."""
    def to_json(self) -> str:
        """The CLI's `--format json`, byte for byte."""
    def to_dict(self) -> dict[str, Any]:
        """The whole report as plain Python values."""
    def _repr_html_(self) -> str: ...

class Jira:
    """A JIRA site read through its REST API."""

    def __init__(
        self,
        url: str,
        email: Optional[str] = None,
        token: Optional[str] = None,
        pat: Optional[str] = None,
    ) -> None: ...
    def fetch(self, project: Optional[str] = None, jql: Optional[str] = None) -> Issues:
        """Every issue of a project or query, with whole changelogs."""
    @property
    def api_calls(self) -> int:
        """HTTP requests sent so far."""

class Store:
    """A BugDash store (PostgreSQL or SQLite). Cannot be pickled or copied
    (BugDashError); neither can Jira."""

    def __init__(self, url: str, *, create: bool = False) -> None:
        """Opens the store; a missing SQLite file is a StoreError unless create=True."""
    def projects(self) -> list[dict[str, Any]]:
        """The stored projects, ordered by key."""
    def load(self, project: Optional[_Names] = None) -> Issues:
        """The stored issues of one project, several, or all; an unknown project is an
        InputError listing the projects held."""

def analyze(
    issues: Issues,
    as_of: Optional[_When] = None,
    window: Union[int, str, None] = None,
    period: str = "week",
    area: str = "component",
    horizon: int = 30,
    half_life: float = 30.0,
    bug_types: Optional[_Names] = None,
    *,
    project: Optional[_Names] = None,
    type: Optional[_Names] = None,
    priority: Optional[_Names] = None,
    status: Optional[_Names] = None,
    status_category: Optional[_Names] = None,
    component: Optional[_Names] = None,
    label: Optional[_Names] = None,
    fix_version: Optional[_Names] = None,
    affects_version: Optional[_Names] = None,
    assignee: Optional[_Names] = None,
    environment: Optional[str] = None,
    resolution: Optional[_Names] = None,
    exclude_resolution: Optional[_Names] = None,
    since: Optional[_When] = None,
    until: Optional[_When] = None,
    resolved_since: Optional[_When] = None,
) -> Report:
    """Analyses issues: summary, trends, per-area risk, forecast, backtest, insights."""

def _load(
    paths: Sequence[Union[str, PathLike[str]]], columns: Optional[str], strict: bool
) -> tuple[Issues, list[str]]: ...
def _issues_from_json(json: str) -> Issues: ...
def _report_from_json(json: str) -> Report: ...
