"""pandas DataFrames of issues and reports, built from what the native module returns.

Not a public module: use ``Issues.to_pandas()`` and the ``Report`` attributes.
"""

from __future__ import annotations

import html
from typing import Any

import numpy as np
import pandas as pd

_LEVELS = ["low", "medium", "high", "critical"]
_SEVERITIES = ["info", "warning", "critical"]


def issues_frame(columns: dict[str, tuple]) -> pd.DataFrame:
    """One row per issue from the native columns (see ``src/columns.rs``)."""
    data = {name: _column(spec) for name, spec in columns.items()}
    return pd.DataFrame(data, copy=False)


def _column(spec: tuple) -> Any:
    kind = spec[0]
    if kind == "time":
        millis = np.frombuffer(spec[1], dtype="<i8").view("datetime64[ms]")
        return pd.DatetimeIndex(millis).tz_localize("UTC")
    if kind == "int":
        values = np.frombuffer(spec[1], dtype="<i8").copy()
        mask = np.frombuffer(spec[2], dtype=np.bool_).copy()
        return pd.arrays.IntegerArray(values, mask)
    if kind == "category":
        codes = np.frombuffer(spec[1], dtype="<i4")
        return pd.Categorical.from_codes(codes, categories=pd.Index(spec[2], dtype=object))
    if kind == "text":
        return pd.array(spec[1], dtype="string")
    if kind == "tuples":
        values = np.empty(len(spec[1]), dtype=object)
        values[:] = spec[1]
        return values
    raise ValueError(f"unknown column kind {kind!r}")


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


def _area_columns(rows: list[dict]) -> list[str]:
    if rows:
        return list(rows[0])
    return ["name", "risk", "level", "bugs", "open", "resolved", "forecast_expected",
            "forecast_low", "forecast_high", "factors", "explanation"]


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
