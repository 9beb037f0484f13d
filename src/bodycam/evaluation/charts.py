"""Charts of the evaluation report and the cost model (matplotlib, no pyplot state).

Each function returns a `Figure`; `svg` turns it into inline SVG text (text kept as
text, no timestamp, stable ids: the same data give the same bytes) and `png` into PNG
bytes for the PDF. matplotlib is imported here only, when a chart is drawn: it costs
the command line half a second.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from bodycam.evaluation.cost import Projection

__all__ = [
    "CoefficientRow",
    "Series",
    "coefficient_figure",
    "cost_figure",
    "event_figure",
    "png",
    "series_figure",
    "svg",
]

_STYLE: Final[Any] = {  # Any: matplotlib types the keys as a long Literal
    "svg.fonttype": "none",
    "svg.hashsalt": "bodycam",
    "font.size": 9,
    "font.family": "DejaVu Sans",
    "axes.spines.top": False,
    "axes.spines.right": False,
}
COLORS: Final = ("#1f4e79", "#c55a11", "#548235", "#7f6000", "#7030a0", "#404040", "#2e75b6")


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def svg(fig: Figure) -> str:
    """The figure as an ``<svg>`` element (no XML declaration), ready to inline in HTML."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context(_STYLE):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    return text[text.index("<svg") :]


def png(fig: Figure, dpi: int = 150) -> bytes:
    """The figure as PNG bytes."""
    import matplotlib

    buf = io.BytesIO()
    with matplotlib.rc_context(_STYLE):
        fig.savefig(buf, format="png", dpi=dpi, metadata={"Software": None})
    return buf.getvalue()


def _money(value: float, _pos: Any = None) -> str:
    if abs(value) >= 1e6:
        return f"${value / 1e6:,.1f}M"
    if abs(value) >= 1e3:
        return f"${value / 1e3:,.0f}k"
    return f"${value:,.0f}"


def cost_figure(projection: Projection) -> Figure:
    """Stacked yearly costs by component, the sensitivity range, and the cumulative total."""
    import matplotlib

    with matplotlib.rc_context(_STYLE):
        from matplotlib.ticker import FuncFormatter

        fig = _figure(7.5, 4.2)
        ax = fig.add_subplot()
        years = [y.year for y in projection.years]
        bottom = [0.0] * len(years)
        for i, name in enumerate(("hardware", "licences", "storage", "redaction", "staff")):
            values = [float(getattr(y, name)) for y in projection.years]
            ax.bar(years, values, bottom=bottom, color=COLORS[i], label=name, width=0.6)
            bottom = [b + v for b, v in zip(bottom, values, strict=True)]
        totals = [y.total for y in projection.years]
        low = [t - lo for t, lo in zip(totals, projection.low, strict=True)]
        high = [hi - t for t, hi in zip(totals, projection.high, strict=True)]
        ax.errorbar(
            years, totals, yerr=[low, high], fmt="none", ecolor="black", capsize=4,
            label="sensitivity range",
        )  # fmt: skip
        ax.set_xticks(years, [f"Year {y}" for y in years])
        ax.yaxis.set_major_formatter(FuncFormatter(_money))
        ax.set_ylabel("cost per year")
        cumulative = ax.twinx()
        cumulative.plot(
            years, [y.cumulative for y in projection.years], color="black", marker="o",
            linestyle="--", label="cumulative (right axis)",
        )  # fmt: skip
        cumulative.yaxis.set_major_formatter(FuncFormatter(_money))
        cumulative.set_ylabel("cumulative cost")
        cumulative.set_ylim(bottom=0)
        cumulative.spines["right"].set_visible(True)
        handles, labels = ax.get_legend_handles_labels()
        more, more_labels = cumulative.get_legend_handles_labels()
        ax.legend(handles + more, labels + more_labels, loc="upper left", fontsize=8, ncols=2)
        ax.set_ylim(0, max(projection.high) * 1.35 if projection.high else 1)
        inputs = projection.inputs
        ax.set_title(f"{inputs.cameras:,} cameras over {inputs.years} years")
    return fig


@dataclass(frozen=True, slots=True)
class CoefficientRow:
    """One outcome of the coefficient plot: estimate, interval and p-values."""

    label: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    p_value_fdr: float | None


def _num(value: float) -> str:
    a = abs(value)
    if a >= 100:
        return f"{value:,.0f}"
    if a >= 10:
        return f"{value:.1f}"
    return "0" if a == 0 else f"{value:.3g}"


def _p(value: float | None) -> str:
    if value is None:
        return "-"
    return "< 0.001" if value < 0.001 else f"{value:.3f}"


def coefficient_figure(rows: Sequence[CoefficientRow], unit: str, confidence: float) -> Figure:
    """One row per outcome, each on its own scale: the estimate, its interval and 0."""
    import matplotlib

    with matplotlib.rc_context(_STYLE):
        fig = _figure(7.5, 0.9 + 0.85 * len(rows))
        axes = fig.subplots(len(rows), 1, squeeze=False)[:, 0]
        for ax, row in zip(axes, rows, strict=True):
            ax.errorbar(
                [row.estimate], [0],
                xerr=[[row.estimate - row.ci_low], [row.ci_high - row.estimate]],
                fmt="o", color=COLORS[0], capsize=5, markersize=6,
            )  # fmt: skip
            ax.axvline(0, color="#888888", linewidth=1, linestyle=":")
            span = max(abs(row.ci_low), abs(row.ci_high), 1e-9)
            ax.set_xlim(-1.15 * span, 1.15 * span)
            ax.set_yticks([])
            ax.spines["left"].set_visible(False)
            fdr = "" if row.p_value_fdr is None else f", FDR-adjusted p {_p(row.p_value_fdr)}"
            ax.set_title(
                f"{row.label}: {_num(row.estimate)} ({_num(row.ci_low)} to {_num(row.ci_high)}); "
                f"p {_p(row.p_value)}{fdr}",
                fontsize=8.5, loc="left",
            )  # fmt: skip
        axes[-1].set_xlabel(
            f"treated minus control, {unit}; bars: {confidence:.0%} confidence interval"
        )
    return fig


@dataclass(frozen=True, slots=True)
class Series:
    """One group's rate per period (None where the group had no exposure)."""

    name: str
    rates: tuple[float | None, ...]


def series_figure(
    title: str, periods: Sequence[str], series: Sequence[Series], unit: str,
    markers: Sequence[tuple[str, str]] = (),
) -> Figure:  # fmt: skip
    """Rates per period, one line per group; `markers` are (period, label) vertical lines."""
    import matplotlib

    with matplotlib.rc_context(_STYLE):
        fig = _figure(7.5, 3.0)
        ax = fig.add_subplot()
        x = list(range(len(periods)))
        for i, s in enumerate(series):
            y = [math.nan if r is None else r for r in s.rates]
            ax.plot(x, y, marker="o", markersize=3, color=COLORS[i % len(COLORS)], label=s.name)
        index = {p: i for i, p in enumerate(periods)}
        for period, label in markers:
            if period in index:
                ax.axvline(index[period] - 0.5, color="#888888", linestyle=":", linewidth=1)
                ax.annotate(
                    label, (index[period] - 0.5, 1), xycoords=("data", "axes fraction"),
                    fontsize=7, rotation=90, va="top", ha="right", color="#555555",
                )  # fmt: skip
        step = max(1, math.ceil(len(periods) / 12))
        ax.set_xticks(x[::step], [periods[i] for i in x[::step]], rotation=30, ha="right")
        ax.set_ylabel(unit)
        ax.set_ylim(bottom=0)
        ax.set_title(title, loc="left")
        ax.legend(fontsize=8, loc="best")
    return fig


def event_figure(
    title: str, events: Sequence[tuple[int, float, float, float]], unit: str
) -> Figure:
    """An event study: (relative period, estimate, low, high), with period -1 at 0."""
    import matplotlib

    with matplotlib.rc_context(_STYLE):
        fig = _figure(7.5, 3.0)
        ax = fig.add_subplot()
        points = sorted([*events, (-1, 0.0, 0.0, 0.0)])
        x = [p[0] for p in points]
        y = [p[1] for p in points]
        ax.errorbar(
            x, y, yerr=[[p[1] - p[2] for p in points], [p[3] - p[1] for p in points]],
            fmt="o", color=COLORS[0], capsize=3, markersize=4,
        )  # fmt: skip
        ax.axhline(0, color="#888888", linestyle=":", linewidth=1)
        ax.axvline(-0.5, color="#888888", linestyle="--", linewidth=1)
        ax.set_xlabel("periods since cameras (-1: the reference period before)")
        ax.set_ylabel(unit)
        ax.set_title(title, loc="left")
    return fig
