"""pandas DataFrames of issues and reports, built from what the native module returns.

Not a public module: use ``Issues.to_pandas()`` and the ``Report`` attributes.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import pyarrow as pa

_LEVELS = ["low", "medium", "high", "critical"]
_SEVERITIES = ["info", "warning", "critical"]


def issues_frame(columns: dict[str, tuple]) -> pd.DataFrame:
    """One row per issue from the native Arrow columns (see ``src/columns.rs``).

    Each column arrives as ``(tag, rows, buffers …)`` in Arrow's memory layout; the
    buffers are wrapped without copying and the table is converted by pyarrow, so no
    Python object is made per issue. Tags and buffers:

    - ``int``: validity bitmap or None, int64 values
    - ``uint``: validity bitmap or None, uint64 values (JIRA ids)
    - ``time``: validity bitmap or None, int64 milliseconds since the epoch (UTC)
    - ``dictionary``: validity bitmap or None, int32 indices, then the distinct names as
      count, int64 offsets and UTF-8 data
    - ``text``: validity bitmap or None, int64 offsets, UTF-8 data
    - ``list``: int64 offsets into the names, then the names as count, int64 offsets
      and UTF-8 data
    """
    table = pa.table({name: _arrow(spec) for name, spec in columns.items()})
    return table.to_pandas(types_mapper=_pandas_type, split_blocks=True, self_destruct=True)


def _arrow(spec: tuple) -> pa.Array:
    kind, rows = spec[0], spec[1]
    buffers = [pa.py_buffer(part) if isinstance(part, bytes) else part for part in spec[2:]]
    if kind == "int":
        return pa.Array.from_buffers(pa.int64(), rows, buffers)
    if kind == "uint":
        return pa.Array.from_buffers(pa.uint64(), rows, buffers)
    if kind == "time":
        return pa.Array.from_buffers(pa.timestamp("ms", tz="UTC"), rows, buffers)
    if kind == "text":
        return pa.Array.from_buffers(pa.large_string(), rows, buffers)
    if kind == "dictionary":
        validity, indices, _, offsets, data = buffers
        names = pa.Array.from_buffers(pa.large_string(), spec[4], [None, offsets, data])
        indices = pa.Array.from_buffers(pa.int32(), rows, [validity, indices])
        return pa.DictionaryArray.from_arrays(indices, names)
    if kind == "list":
        offsets, _, name_offsets, data = buffers
        names = pa.Array.from_buffers(pa.large_string(), spec[3], [None, name_offsets, data])
        return pa.Array.from_buffers(_NAME_LIST, rows, [None, offsets], children=[names])
    raise ValueError(f"unknown column kind {kind!r}")


_NAME_LIST = pa.large_list(pa.large_string())


def _pandas_type(arrow_type: pa.DataType) -> Any:
    """pandas dtypes for the Arrow types pyarrow would otherwise turn into objects."""
    if arrow_type == pa.int64():
        return pd.Int64Dtype()
    if arrow_type == pa.uint64():
        return pd.UInt64Dtype()
    if arrow_type == pa.large_string():
        return pd.StringDtype("pyarrow")
    if arrow_type == _NAME_LIST:
        return pd.ArrowDtype(_NAME_LIST)
    return None  # dictionaries become categoricals, instants datetime64[ms, UTC]


def areas(report: dict) -> pd.DataFrame:
    """One row per area by descending risk, metrics and forecast flattened."""
    rows = []
    for area in report["areas"]:
        row = {
            "name": area["name"],
            "risk": area["risk"],
            "level": area["level"],
            "bugs": area["bugs"],
            "open": area["open"],
            "resolved": area["resolved"],
        }
        row.update(area["metrics"])
        forecast = area["forecast"]
        row["forecast_expected"] = forecast["expected"]
        row["forecast_low"] = forecast["low"]
        row["forecast_high"] = forecast["high"]
        row["factors"] = area["factors"]
        row["explanation"] = "; ".join(
            f"{factor['points']:.1f} pts {factor['message']}" for factor in area["factors"]
        )
        rows.append(row)
    frame = pd.DataFrame(rows, columns=_area_columns(rows))
    frame["level"] = pd.Categorical(frame["level"], categories=_LEVELS, ordered=True)
    return frame


# The columns of ``areas``, the same whether or not the report has areas: an area's
# counts, its metrics (the JSON report's ``areas[].metrics``), its forecast and factors.
_AREA_COLUMNS = [
    "name", "risk", "level", "bugs", "open", "resolved",
    "decayed_bugs", "open_load", "inflow_recent", "inflow_previous", "inflow_ratio",
    "inflow_p_value", "reopen_rate", "resolution_days_median", "resolution_ratio",
    "forecast_expected", "forecast_low", "forecast_high", "factors", "explanation",
]


def _area_columns(rows: list[dict]) -> list[str]:
    # Rows carry the metrics the report has; a key missing from the list above still
    # shows, after the others, rather than being dropped.
    extra = [name for name in (rows[0] if rows else ()) if name not in _AREA_COLUMNS]
    return _AREA_COLUMNS + extra


def trends(report: dict) -> pd.DataFrame:
    """Created, resolved and open bugs per period; the slopes are in ``attrs``."""
    trend = report["trends"]
    frame = pd.DataFrame(
        trend["points"],
        columns=["start", "created", "resolved", "open", "resolution_days_median"],
    )
    frame["start"] = pd.to_datetime(frame["start"])
    frame.attrs["period"] = trend["period"]
    frame.attrs["created_slope"] = trend["created_slope"]
    frame.attrs["open_slope"] = trend["open_slope"]
    return frame


def insights(report: dict) -> pd.DataFrame:
    """One row per finding, most severe first."""
    frame = pd.DataFrame(
        report["insights"],
        columns=["kind", "severity", "message", "area", "evidence", "issues"],
    )
    frame["severity"] = pd.Categorical(frame["severity"], categories=_SEVERITIES, ordered=True)
    return frame


def forecast(report: dict) -> pd.DataFrame:
    """The whole selection's forecast (area None) then each area's."""
    def row(area: Any, values: dict) -> dict:
        return {
            "area": area,
            "horizon_days": values["horizon_days"],
            "expected": values["expected"],
            "low": values["low"],
            "high": values["high"],
            "dispersion": values["dispersion"],
        }

    rows = [row(None, report["forecast"])]
    rows.extend(row(area["name"], area["forecast"]) for area in report["areas"])
    return pd.DataFrame(rows)


def backtest(report: dict) -> pd.DataFrame:
    """AUC, Brier score and MAE of the model and the baseline; the rest in ``attrs``."""
    test = report["backtest"]
    metrics = ["auc", "brier", "mae"]
    frame = pd.DataFrame(
        {
            "model": [test[name] for name in metrics],
            "baseline": [test[f"baseline_{name}"] for name in metrics],
        },
        index=pd.Index(metrics, name="metric"),
    )
    for key in ("cutoffs", "horizon_days", "pairs", "positives", "verdict"):
        frame.attrs[key] = test[key]
    return frame


def report_html(report: dict) -> str:
    """A compact HTML view for notebooks: headline numbers, top areas, insights."""
    summary = report["summary"]
    data = report["data"]
    window = report["window"]
    escape = html.escape
    reopen = summary["reopen"]["rate"]
    headline = [
        ("Bugs created", summary["bugs"]),
        ("Resolved", summary["resolved"]),
        ("Open now", summary["open"]),
        ("Median days to resolve", _number(summary["resolution_days"]["median"])),
        ("Reopened", "–" if reopen is None else f"{reopen:.1%}"),
    ]
    rows = "".join(
        f"<tr><th style='text-align:left'>{escape(name)}</th><td>{escape(str(value))}</td></tr>"
        for name, value in headline
    )
    top = areas(report).head(10)[["name", "risk", "level", "bugs", "open", "forecast_expected"]]
    findings = "".join(
        f"<li><b>{escape(item['severity'])}</b> {escape(item['message'])}</li>"
        for item in report["insights"]
    )
    projects = ", ".join(data["projects"]) or "no project"
    return (
        f"<div><h4>BugDash report · {escape(projects)} · as of {escape(report['as_of'])}</h4>"
        f"<p>Window {escape(window['start'][:10])} to {escape(window['end'][:10])}; "
        f"{data['bugs']} bugs among {data['matched']} matching issues.</p>"
        f"<table>{rows}</table><h5>Riskiest areas</h5>{top.to_html(index=False)}"
        f"<h5>Insights</h5><ul>{findings}</ul>"
        f"<p>Backtest: {escape(report['backtest']['verdict'])}</p></div>"
    )


def _number(value: Any) -> str:
    return "–" if value is None else f"{value:.1f}"
