"""The insights page's charts, drawn here as SVG with matplotlib and inlined in the page (nothing is fetched).

The page's template calls these with every word a chart shows (title, axis, legend), so the words stay in
messages/ and the numbers come from app/insights/figures.py. Text stays text in the SVG (`svg.fonttype: none`):
readers can select it, screen readers read it, and each chart carries its title as the SVG's <title>.

matplotlib is imported on the first drawing, not at start-up (it costs seconds and tens of MB), and drawing
holds a lock: its settings are process-wide. The page renders in a worker thread, off the event loop.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from typing import Any

from markupsafe import Markup

from app.incidents.models import Severity
from app.insights.figures import Insights, ResponseTimes

SEVERITY_COLOURS = {Severity.P0: "#b2182b", Severity.P1: "#ef8a62", Severity.P2: "#fddb8f", Severity.P3: "#67a9cf"}
SERIES_COLOURS = ("#2166ac", "#d6604d", "#4d9221", "#8073ac")
WIDTH, ROW = 7.5, 0.42  # inches: the page's column, and the height of one bar group in horizontal charts
_LOCK = threading.Lock()
_PROLOGUE = re.compile(r"\A.*?(?=<svg)", re.DOTALL)
_METADATA = re.compile(r"\s*<metadata>.*?</metadata>", re.DOTALL)  # RDF naming matplotlib: nothing to show
_IDS = re.compile(r'(\bid="|url\(#|href="#)([^")]+)')


class Charts:
    """The charts of one set of figures; each call returns the SVG to inline."""

    def __init__(self, insights: Insights, *, say_duration: Callable[[timedelta], str],
                 draw: Callable[[str, str, Callable[[Any], None]], Markup] | None = None) -> None:
        self.insights = insights
        self.say_duration = say_duration  # a bar's label: "12 minutes"
        self._draw = draw or draw_svg  # checking the templates at start-up draws nothing (see app/insights/samples.py)

    def weekly(self, *, title: str, ylabel: str, empty: str) -> Markup:
        """Incidents declared per week, stacked by severity."""
        weeks = self.insights.weeks
        labels = [week.starts.strftime("%d %b") for week in weeks]
        series = {s.value: [week.by_severity[s] for week in weeks] for s in Severity}
        colours = [SEVERITY_COLOURS[s] for s in Severity]
        return self._draw("weekly", title, lambda figure: _columns(
            figure, labels, series, colours, ylabel=ylabel, stacked=True,
            empty=empty if not self.insights.incidents else None))

    def response_times(self, by: str, *, title: str, series: Mapping[str, str], units: Mapping[str, str],
                       empty: str, untyped: str = "", private: str = "") -> Markup:
        """MTTA and MTTR (`series` names them: keys `mtta`, `mttr`) per severity or per type (`by`)."""
        groups = self.insights.by_severity if by == "severity" else self.insights.by_type
        labels = [_group_label(group, untyped, private) for group in groups]
        values = {series[key]: [getattr(group, key) for group in groups] for key in ("mtta", "mttr")}
        return self._draw(f"times-{by}", title, lambda figure: _durations(
            figure, labels, values, units, self.say_duration, empty=empty if not self.insights.incidents else None))

    def nagging(self, *, title: str, series: Mapping[str, str], empty: str) -> Markup:
        """What the clock had to send per severity: keys `reminders`, `escalations`, `backup_pages`."""
        rows = self.insights.nagging
        values = {name: [getattr(row, key) for row in rows] for key, name in series.items()}
        nothing = not any(any(v) for v in values.values())
        return self._draw("nagging", title, lambda figure: _columns(
            figure, [row.severity.value for row in rows if row.severity], values, SERIES_COLOURS,
            ylabel=None, stacked=False, empty=empty if nothing else None))

    def follow_ups(self, *, title: str, series: Mapping[str, str], empty: str) -> Markup:
        """The action items as one bar each: keys `done`, `on_time`, `overdue`."""
        follow_ups = self.insights.follow_ups
        labels = list(series.values())
        counts = [getattr(follow_ups, key) for key in series]
        colours = {"done": "#4d9221", "on_time": "#2166ac", "overdue": "#b2182b"}
        return self._draw("follow-ups", title, lambda figure: _bars(
            figure, labels, counts, [colours.get(key, SERIES_COLOURS[0]) for key in series],
            empty=empty if not follow_ups.total else None))


def _group_label(group: ResponseTimes, untyped: str, private: str) -> str:
    if group.severity is not None:
        return group.severity.value
    if group.private:
        return private
    return group.kind or untyped


def draw_svg(name: str, title: str, paint: Callable[[Any], None]) -> Markup:
    """One figure as inline SVG: `paint` fills it, `name` keeps its ids apart from the other charts'."""
    with _LOCK:
        import matplotlib
        from matplotlib.figure import Figure

        matplotlib.rcParams.update({"svg.fonttype": "none", "svg.hashsalt": name, "font.size": 10,
                                    "axes.spines.top": False, "axes.spines.right": False})
        figure = Figure(figsize=(WIDTH, 3.2))
        paint(figure)
        # Fixed margins rather than a layout engine: as good for these few shapes, and twice as quick to draw.
        inches = figure.get_figheight()
        handles, names = figure.axes[0].get_legend_handles_labels()
        if handles:
            figure.legend(handles, names, loc="upper center", ncols=len(names), frameon=False, fontsize=9,
                          bbox_to_anchor=(0.5, 1 - 0.38 / inches))
        top = (1.0 if handles else 0.7) + (0.25 if any(a.get_title() for a in figure.axes) else 0)
        figure.subplots_adjust(left=0.2, right=0.97, top=1 - top / inches, bottom=0.75 / inches, wspace=0.08)
        figure.suptitle(title, fontsize=12, fontweight="bold", y=1 - 0.08 / inches, va="top")
        buffer = io.StringIO()
        figure.savefig(buffer, format="svg", metadata={"Title": title, "Date": None, "Creator": None})
    svg = _METADATA.sub("", _PROLOGUE.sub("", buffer.getvalue()), count=1)
    # Several charts share one page: each one's ids (and what refers to them) get the chart's name in front.
    svg = _IDS.sub(lambda m: f"{m.group(1)}{name}-{m.group(2)}", svg)
    svg = svg.replace("<svg ", f'<svg class="chart" role="img" aria-label="{_attribute(title)}" ', 1)
    return Markup(svg)


def _attribute(text: str) -> str:
    return text.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _columns(figure: Any, labels: Sequence[str], series: Mapping[str, Sequence[int]], colours: Sequence[str], *,
             ylabel: str | None, stacked: bool, empty: str | None) -> None:
    axes = figure.subplots()
    if empty:
        _say(axes, empty)
        return
    positions = range(len(labels))
    width = 0.8 if stacked else 0.8 / max(1, len(series))
    bottom = [0] * len(labels)
    for index, (name, values) in enumerate(series.items()):
        offset = 0 if stacked else (index - (len(series) - 1) / 2) * width
        bars = axes.bar([p + offset for p in positions], values, width, bottom=bottom if stacked else None,
                        label=name, color=colours[index % len(colours)], edgecolor="white", linewidth=0.5)
        if not stacked:
            axes.bar_label(bars, labels=[str(v) if v else "" for v in values], fontsize=8)
        if stacked:
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    axes.set_xticks(list(positions), labels, rotation=45 if len(labels) > 6 else 0,
                    ha="right" if len(labels) > 6 else "center")
    axes.yaxis.get_major_locator().set_params(integer=True)
    if ylabel:
        axes.set_ylabel(ylabel)


def _bars(figure: Any, labels: Sequence[str], counts: Sequence[int], colours: Sequence[str], *,
          empty: str | None) -> None:
    figure.set_figheight(1.2 + ROW * len(labels))
    axes = figure.subplots()
    if empty:
        _say(axes, empty)
        return
    bars = axes.barh(list(range(len(labels)))[::-1], counts, color=colours, height=0.6)
    axes.bar_label(bars, labels=[str(c) for c in counts], padding=3)
    axes.set_yticks(list(range(len(labels)))[::-1], labels)
    axes.xaxis.get_major_locator().set_params(integer=True)


def _durations(figure: Any, labels: Sequence[str], series: Mapping[str, Sequence[timedelta | None]],
               units: Mapping[str, str], say: Callable[[timedelta], str], *, empty: str | None) -> None:
    """One panel per series, side by side, each on its own scale: minutes to acknowledge would vanish
    next to days to resolve on a shared axis."""
    figure.set_figheight(1.5 + ROW * max(3, len(labels)))
    if empty:
        _say(figure.subplots(), empty)
        return
    panels = figure.subplots(1, len(series), sharey=True)
    positions = list(range(len(labels)))[::-1]
    for index, (axes, (name, values)) in enumerate(zip(panels, series.items(), strict=True)):
        longest = max((v for v in values if v is not None), default=timedelta(0))
        unit, seconds = _unit(longest)
        bars = axes.barh(positions, [v.total_seconds() / seconds if v is not None else 0 for v in values], 0.6,
                         color=SERIES_COLOURS[index % len(SERIES_COLOURS)])
        axes.bar_label(bars, labels=[say(v) if v is not None else "–" for v in values], padding=3, fontsize=8)
        axes.set_title(name, fontsize=10, loc="left")
        axes.set_xlabel(units[unit])
        axes.margins(x=0.35)
    panels[0].set_yticks(positions, labels)


def _unit(longest: timedelta) -> tuple[str, float]:
    """The axis unit that keeps the numbers readable: minutes up to 3 hours, hours up to 3 days, then days."""
    if longest <= timedelta(hours=3):
        return "minutes", 60
    if longest <= timedelta(days=3):
        return "hours", 3600
    return "days", 86400


def _say(axes: Any, text: str) -> None:
    axes.set_axis_off()
    axes.text(0.5, 0.5, text, ha="center", va="center", transform=axes.transAxes, color="#666666")
