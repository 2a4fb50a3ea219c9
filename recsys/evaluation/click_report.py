"""The click report as people read it: text tables, a small HTML page, PNG plots.

One renderer for `recsys report` (cli/report.py), `GET /admin/report.html` (service/report.py) and the
notebook; the numbers come from recsys/evaluation/clicks.py's `summary`, these functions only lay
them out. Plots are matplotlib figures drawn to PNG with Agg (no pyplot, no display), imported only when a
plot is drawn.
"""

from __future__ import annotations

import base64
import datetime as dt
import html
import importlib.util
import io
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from recsys.catalog.feedback import Count
from recsys.errors import ConfigError, InvalidInput
from recsys.evaluation import clicks
from recsys.serving.experiments import stored_experiment

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from recsys.catalog.store import Catalog

Summary = Mapping[str, Any]
_TITLES = {"block": "block", "position": "position", "section": "section", "day": "day", "arm": "arm"}


def parse_day(text: str | None, flag: str) -> str | None:
    """A YYYY-MM-DD day bound, checked; None passes through."""
    if text is None:
        return None
    try:
        return dt.date.fromisoformat(text).isoformat() if len(text) == 10 else _bad(text, flag)
    except ValueError:
        return _bad(text, flag)


def _bad(text: str, flag: str) -> str:
    raise InvalidInput(f"{flag} expects a day as YYYY-MM-DD, got {text!r}")


def check_range(since: str | None, until: str | None) -> None:
    if since and until and since > until:
        raise InvalidInput(f"--since {since} is after --until {until}")


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def _rate_line(rate: Mapping[str, Any]) -> list[str]:
    return [
        str(rate["key"]),
        str(rate["impressions"]),
        str(rate["clicks"]),
        _percent(rate["ctr"]),
        f"[{_percent(rate['low'])}, {_percent(rate['high'])}]" if rate["ctr"] is not None else "-",
    ]


def _table(header: Sequence[str], lines: Sequence[Sequence[str]]) -> str:
    widths = [max(len(header[i]), *(len(line[i]) for line in lines)) for i in range(len(header))]
    out = ["  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True))]
    out += ["  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) for line in lines]
    return "\n".join(line.rstrip() for line in out)


def _comparison_line(c: Mapping[str, Any]) -> list[str]:
    if c["design"] == "interleave":
        what = f"{c['a']} vs {c['b']}"
        numbers = f"clicks {c['clicks_a']}:{c['clicks_b']}, share {_percent(c['share_a'])} "
        numbers += f"[{_percent(c['low'])}, {_percent(c['high'])}]"
        test = "sign test"
    else:
        what = f"{c['a']['key']} vs {c['b']['key']}"
        numbers = f"CTR {_percent(c['a']['ctr'])} vs {_percent(c['b']['ctr'])}, "
        numbers += f"diff {_percent(c['difference'])} [{_percent(c['low'])}, {_percent(c['high'])}]"
        if c.get("bootstrap"):
            low, high = c["bootstrap"]
            numbers += f", bootstrap [{_percent(low)}, {_percent(high)}]"
        test = "z-test"
    p = c["p_value"]
    return [
        c["experiment"],
        c["block"],
        c["design"],
        what,
        numbers,
        f"{test} p={p:.3g}",
        c["winner"] or "no difference at 95%",
    ]


RATE_HEADER = ("", "impressions", "clicks", "CTR", "95% Wilson")
COMPARISON_HEADER = ("experiment", "block", "design", "arms", "numbers (95% CI)", "test", "winner")


def format_text(summary: Summary) -> str:
    """The report as plain-text tables."""
    total = summary["total"]
    if not total["impressions"]:
        return "no impressions recorded" + _range_note(summary)
    parts = [
        f"total: {total['impressions']} impressions, {total['clicks']} clicks, CTR {_percent(total['ctr'])}"
    ]
    parts[0] += _range_note(summary)
    for dimension, title in _TITLES.items():
        lines = [_rate_line(r) for r in summary["by"][dimension]]
        parts.append(f"\nCTR by {title}\n" + _table((title, *RATE_HEADER[1:]), lines))
    for block, rows in summary["position_bias"].items():
        lines = [[str(p["position"]), _percent(p["ctr"]), _relative(p["relative"])] for p in rows]
        parts.append(f"\nposition bias ({block})\n" + _table(("position", "CTR", "vs position 0"), lines))
    if summary["comparisons"]:
        lines = [_comparison_line(c) for c in summary["comparisons"]]
        parts.append("\narm comparisons\n" + _table(COMPARISON_HEADER, lines))
    return "\n".join(parts)


def _relative(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _range_note(summary: Summary) -> str:
    since, until = summary.get("since"), summary.get("until")
    if not since and not until:
        return ""
    return f" ({since or 'start'} .. {until or 'today'})"


def _html_table(header: Sequence[str], lines: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in line) + "</tr>" for line in lines)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def format_html(summary: Summary, images: Mapping[str, bytes] | None = None) -> str:
    """A small self-contained page: the same tables, plots as inline PNG data URIs when given."""
    total = summary["total"]
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>recsys: click report</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
        "td,th{border:1px solid #ccc;padding:.2em .6em;text-align:left}</style></head><body>",
        "<h1>Click report</h1>",
        f"<p>{total['impressions']} impressions, {total['clicks']} clicks, CTR {_percent(total['ctr'])}"
        f"{html.escape(_range_note(summary))}</p>",
    ]
    if total["impressions"]:
        for dimension, title in _TITLES.items():
            lines = [_rate_line(r) for r in summary["by"][dimension]]
            parts.append(f"<h2>CTR by {title}</h2>" + _html_table((title, *RATE_HEADER[1:]), lines))
        for block, rows in summary["position_bias"].items():
            lines = [[str(p["position"]), _percent(p["ctr"]), _relative(p["relative"])] for p in rows]
            parts.append(
                f"<h2>Position bias ({html.escape(block)})</h2>"
                + _html_table(("position", "CTR", "vs position 0"), lines)
            )
        if summary["comparisons"]:
            lines = [_comparison_line(c) for c in summary["comparisons"]]
            parts.append("<h2>Arm comparisons</h2>" + _html_table(COMPARISON_HEADER, lines))
    for name, png in (images or {}).items():
        data = base64.b64encode(png).decode()
        parts.append(
            f"<h2>{html.escape(name)}</h2><img alt='{html.escape(name)}' src='data:image/png;base64,{data}'>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)


def can_plot() -> bool:
    """Whether matplotlib is installed (an optional dependency: the dev extra has it)."""
    return importlib.util.find_spec("matplotlib") is not None


def figures(summary: Summary) -> dict[str, Figure]:
    """CTR by position with 95% intervals (per block), CTR by day, and the arms' CTR per experiment;
    a figure only where there is something to draw."""
    if not can_plot():
        raise ConfigError("plots need matplotlib, an optional dependency: pip install matplotlib")
    # Figures made without pyplot need no GUI backend and print PNGs with Agg; pyplot's global
    # backend (a notebook's inline one, say) is left alone.
    from matplotlib.figure import Figure

    drawn: dict[str, Figure] = {}
    if not summary["total"]["impressions"]:
        return drawn
    figure = Figure(figsize=(6, 3.5))
    axes = figure.subplots()
    for block, rows in summary["position_bias"].items():
        shown = [p for p in rows if p["ctr"] is not None]
        x = [p["position"] for p in shown]
        y = [p["ctr"] for p in shown]
        errors = [[p["ctr"] - p["low"] for p in shown], [p["high"] - p["ctr"] for p in shown]]
        axes.errorbar(x, y, yerr=errors, marker="o", capsize=3, label=block)
    axes.set(xlabel="position", ylabel="CTR", title="CTR by position (95% Wilson)")
    axes.legend()
    drawn["ctr_by_position"] = figure

    days = [r for r in summary["by"]["day"] if r["ctr"] is not None]
    figure = Figure(figsize=(6, 3.5))
    axes = figure.subplots()
    axes.errorbar(
        range(len(days)),
        [r["ctr"] for r in days],
        yerr=[[r["ctr"] - r["low"] for r in days], [r["high"] - r["ctr"] for r in days]],
        marker="o",
        capsize=3,
    )
    axes.set_xticks(range(len(days)), [r["key"] for r in days], rotation=45, ha="right")
    axes.set(ylabel="CTR", title="CTR by day (95% Wilson)")
    figure.tight_layout()
    drawn["ctr_by_day"] = figure

    ab = [c for c in summary["comparisons"] if c["design"] == "ab"]
    arms = [r for r in summary["by"]["arm"] if r["ctr"] is not None]
    if ab or len(arms) > 1:
        figure = Figure(figsize=(6, 3.5))
        axes = figure.subplots()
        axes.bar(
            [r["key"] for r in arms],
            [r["ctr"] for r in arms],
            yerr=[[r["ctr"] - r["low"] for r in arms], [r["high"] - r["ctr"] for r in arms]],
            capsize=4,
        )
        axes.set(ylabel="CTR", title="CTR by arm (95% Wilson)")
        drawn["arms"] = figure
    return drawn


def png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()


def write_plots(summary: Summary, folder: Path) -> list[Path]:
    """The figures as PNG files in `folder` (made if missing); returns the paths written."""
    drawn = figures(summary)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, figure in drawn.items():
        path = folder / f"{name}.png"
        path.write_bytes(png(figure))
        written.append(path)
    return written


def designs_for(catalog: Catalog, experiment: str | None, design: str | None) -> dict[str, clicks.Design]:
    """How each experiment's arms were served, which decides its test (the counters cannot tell):
    `design` for `experiment` when given, else the running experiment's own design; an experiment no
    longer running is taken for A/B."""
    if design is not None:
        if not experiment:
            raise InvalidInput(
                "a design needs an experiment (--experiment, ?experiment=): it is how that one was served"
            )
        return {experiment: clicks.parse_design(design)}
    running = stored_experiment(catalog)
    return {running.name: clicks.parse_design(running.design)} if running is not None else {}


def build(
    rows: Sequence[Count],
    *,
    since: str | None = None,
    until: str | None = None,
    experiment: str | None = None,
    designs: Mapping[str, clicks.Design] | None = None,
    bootstrap: int = 0,
    seed: int = 0,
) -> dict[str, Any]:
    """The report's data: clicks.summary of the rows, with the range and filter it covers."""
    summary = clicks.summary(rows, designs=dict(designs or {}), bootstrap=bootstrap, seed=seed)
    return {"since": since, "until": until, "experiment": experiment, **summary}
