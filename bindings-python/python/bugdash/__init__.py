"""BugDash for notebooks: read JIRA issues, analyse where bugs come from, get DataFrames.

Three lines give the bug-risk report of a project as pandas DataFrames::

    import bugdash
    report = bugdash.analyze(bugdash.load("examples/zookeeper/*.json"), window="all")
    report.areas.head()

Every number comes from the same Rust core as the ``bugdash`` command line, so
``report.to_json()`` equals ``bugdash analyze FILES --format json`` with the same options.
Errors derive from :class:`BugDashError`: :class:`InputError` for unusable input or options,
:class:`JiraError` for JIRA, :class:`StoreError` for the database.
"""

from __future__ import annotations

import glob
import os
import warnings
from typing import Iterable, Mapping, Optional, Union

from bugdash._bugdash import (
    BugDashError,
    InputError,
    Issues,
    Jira,
    JiraError,
    Report,
    Store,
    StoreError,
    __version__,
    _load,
    analyze,
)

__all__ = [
    "BugDashError",
    "InputError",
    "Issues",
    "Jira",
    "JiraError",
    "Report",
    "Store",
    "StoreError",
    "analyze",
    "load",
    "__version__",
]

PathLike = Union[str, bytes, "os.PathLike[str]", "os.PathLike[bytes]"]

_GLOB_CHARACTERS = frozenset("*?[")


def load(
    paths: Union[PathLike, Iterable[PathLike]],
    columns: Optional[Mapping[str, str]] = None,
    strict: bool = True,
) -> Issues:
    """Reads JIRA issues from files, in every format ``bugdash analyze`` reads.

    REST JSON (search pages, single issues, arrays of issues), JIRA's CSV export and other
    delimited files are recognised from their content; files may be mixed. The same issue
    found twice (same JIRA id, or same key without an id) counts once, the copy updated
    last winning. Files are read on several threads with the interpreter lock released.

    Args:
        paths: a path, a glob pattern such as ``"examples/zookeeper/*.json"``, or a list
            of them.
        columns: for delimited files that are not a JIRA export, which column holds each
            field, such as ``{"key": "Key", "created": "CreationDate",
            "components": "Components"}`` (the CLI's ``--columns``).
        strict: when True (the default) a file that cannot be read raises
            :class:`InputError`; when False it is skipped with a warning, as the CLI does.

    Returns:
        Issues: the issues read.

    Raises:
        InputError: no file matched, a file cannot be read or holds no issues in a known
            form, or the column mapping is malformed.

    Example:
        >>> issues = bugdash.load("examples/zookeeper/*.json")
        >>> len(issues)
        1827
    """
    files = _expand(paths)
    mapping = None if columns is None else _column_mapping(columns)
    issues, skipped = _load(files, mapping, strict)
    for message in skipped:
        warnings.warn(f"skipped a file: {message}", stacklevel=2)
    return issues


def _expand(paths: Union[PathLike, Iterable[PathLike]]) -> list[str]:
    """The files named by a path, a glob pattern or a list of them, in the given order."""
    if isinstance(paths, (str, bytes, os.PathLike)):
        paths = [paths]
    try:
        given = list(paths)
    except TypeError:
        raise InputError(
            f"paths must be a path, a glob pattern or a list of them; got {paths!r}"
        ) from None
    files: list[str] = []
    for path in given:
        try:
            text = os.fsdecode(path)
        except TypeError:
            raise InputError(f"expected a path (text, bytes or os.PathLike); got {path!r}") from None
        if _GLOB_CHARACTERS.intersection(text) and not os.path.exists(text):
            matches = sorted(glob.glob(text))
            if not matches:
                raise InputError(f"no file matches {text!r}")
            files.extend(matches)
        else:
            files.append(text)
    if not files:
        raise InputError("no files given to load")
    return files


def _column_mapping(columns: Mapping[str, str]) -> str:
    """The CLI's ``--columns`` text for a dict from field to column name."""
    if not isinstance(columns, Mapping):
        raise InputError(
            "columns must be a dict from field to column name, such as {'key': 'Key'}"
        )
    entries = []
    for field, column in columns.items():
        if not isinstance(field, str) or not isinstance(column, str):
            raise InputError(f"columns: expected text for {field!r}: {column!r}")
        if any(mark in column for mark in ",=") or any(mark in field for mark in ",="):
            raise InputError(
                f"columns: {field!r}: {column!r} cannot hold ',' or '=' (the mapping "
                "is passed to the reader as field=column pairs)"
            )
        entries.append(f"{field.strip()}={column.strip()}")
    return ",".join(entries)
