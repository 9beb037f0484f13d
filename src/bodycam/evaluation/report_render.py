"""The evaluation report as HTML (self-contained: inline SVG, inline CSS) and as PDF.

Both show the same sections in the same order: the plain-language readings, the
design, the coefficient plot with its table, each outcome's rates over time with the
counts per period, the event studies of a staggered rollout, the counts behind the
estimates, how to read the report, and the data sources and notes. Figures come from
`bodycam.evaluation.charts`; the PDF (fpdf2, core fonts) embeds them as PNG.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

from bodycam.evaluation.report import Report, Table
from bodycam.evaluation.report_reading import UNIT, fmt, fmt_p

if TYPE_CHECKING:
    from matplotlib.figure import Figure

__all__ = ["GUIDE", "figure_sections", "render_html", "render_pdf", "sources_table"]

GUIDE: Final = (
    "The estimate is the difference between units with cameras and units without, "
    f"{UNIT}. A negative estimate means fewer events with cameras.",
    "No detectable effect is not no effect: read what the interval rules out. A wide "
    "interval that includes zero says the data cannot tell a real reduction from none.",
    "With several outcomes, one will look significant by chance now and then: the "
    "false-discovery-rate (Benjamini-Hochberg) adjusted p-value accounts for that.",
    "Cameras can change what gets reported (more use-of-force reports because footage "
    "exists, fewer frivolous complaints). The data cannot tell these apart from changes "
    "in behaviour.",
    "Officers without cameras who attend calls with officers who have them are partly "
    "treated; this contamination pulls estimates toward zero.",
    "A randomized assignment supports a causal reading. A rollout chosen by the "
    "department supports one only if units would have moved in parallel without cameras.",
)


@dataclass(frozen=True, slots=True)
class _Figure:
    number: int
    title: str
    caption: str
    figure: Figure
    tables: tuple[Table, ...]


def _estimates_table(report: Report) -> Table:
    rows = []
    for r in report.results:
        if r.estimate is None:
            rows.append((r.label, "-", "-", "not estimated", "-", "-", "-", "-", "-"))
            continue
        assert r.ci_low is not None and r.ci_high is not None and r.p_value is not None
        treated = (
            f"{fmt(r.mean_treated)} (n={r.n_treated})"
            if r.mean_treated is not None
            else (f"n={r.n_treated}")
        )
        control = (
            f"{fmt(r.mean_control)} (n={r.n_control})"
            if r.mean_control is not None
            else (f"n={r.n_control}")
        )
        rows.append(
            (r.label, treated, control, fmt(r.estimate), f"{fmt(r.ci_low)} to {fmt(r.ci_high)}",
             fmt_p(r.p_value), "-" if r.p_value_fdr is None else fmt_p(r.p_value_fdr),
             "-" if r.n_clusters is None else str(r.n_clusters),
             "-" if r.pretrend_p_value is None else fmt_p(r.pretrend_p_value))
        )  # fmt: skip
    level = f"{report.config.confidence:.0%}"
    return Table(
        "Estimates",
        ("outcome", "with cameras", "without cameras", "estimate", f"{level} interval", "p",
         "FDR-adjusted p", "clusters", "pre-trend p"),
        tuple(rows),
        f"Estimates and rates are {UNIT}. 'With' and 'without' are pooled post-window rates "
        "(randomized design) or unit counts (staggered).",
    )  # fmt: skip


def _series_table(s: object) -> Table:
    from bodycam.evaluation.report import SeriesData

    assert isinstance(s, SeriesData)
    rows = []
    for period in s.periods:
        for g in s.groups:
            years, count = s.cells.get((period, g), (0.0, 0.0))
            rate = s.rate(period, g)
            rows.append(
                (period, g, f"{years:,.2f}", f"{count:,.0f}", "-" if rate is None else fmt(rate))
            )
    return Table(
        f"{s.label}: counts per period",
        ("period (first day)", "group", "officer-years", "count", "rate"),
        tuple(rows),
    )


def _figures(report: Report) -> list[_Figure]:
    from bodycam.evaluation import charts

    out: list[_Figure] = []
    estimated = [r for r in report.results if r.estimate is not None]
    rows = [
        charts.CoefficientRow(r.label, r.estimate, r.ci_low, r.ci_high, r.p_value, r.p_value_fdr)  # type: ignore[arg-type]
        for r in estimated
    ]
    out.append(
        _Figure(
            1, "Estimates by outcome",
            f"Each row: the estimate (dot) and its {report.config.confidence:.0%} confidence "
            "interval (bar), on its own scale; the dotted line is no effect.",
            charts.coefficient_figure(rows, UNIT, report.config.confidence),
            (_estimates_table(report),),
        )
    )  # fmt: skip
    for s in report.series:
        series = [charts.Series(g, tuple(s.rate(p, g) for p in s.periods)) for g in s.groups]
        out.append(
            _Figure(
                len(out) + 1, f"{s.label} over time",
                f"Rate {UNIT} per {report.config.period}, pooled over each group's units.",
                charts.series_figure(s.label, s.periods, series, UNIT, s.markers),
                (_series_table(s),),
            )
        )  # fmt: skip
    for r, table in zip(
        [r for r in report.results if r.event_study], report.extra_tables, strict=True
    ):
        out.append(
            _Figure(
                len(out) + 1, f"{r.label}: event study",
                "The effect period by period around adoption; periods before it should be "
                "near zero if units moved in parallel before cameras.",
                charts.event_figure(r.label, [e[:4] for e in r.event_study], UNIT),
                (table,),
            )
        )  # fmt: skip
    return out


# --- HTML --------------------------------------------------------------------------------

_HTML: Final = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{ config.title }}</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem;
       color: #1a1a1a; line-height: 1.45; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; }
h2 { margin-top: 2rem; border-bottom: 1px solid #ccc; }
.meta { color: #555; }
.reading { border-left: 4px solid #1f4e79; padding: .2rem .8rem; margin: 1rem 0; }
.warnings li { color: #8a4b00; }
figure { margin: 1rem 0; } figure svg { max-width: 100%; height: auto; }
figcaption { color: #444; font-size: .9rem; }
table { border-collapse: collapse; margin: .6rem 0 1rem; font-size: .85rem; }
th, td { border: 1px solid #ccc; padding: .2rem .45rem; text-align: right; }
th:first-child, td:first-child, td.text { text-align: left; }
caption { text-align: left; font-weight: bold; padding: .3rem 0; }
.note { color: #555; font-size: .85rem; }
</style>
</head>
<body>
<h1>{{ config.title }}</h1>
<p class="meta">{% if config.agency %}{{ config.agency }} · {% endif %}generated {{ generated }}
{%- if config.author %} · {{ config.author }}{% endif %} · bodycam program evaluation</p>

<section id="summary">
<h2>What the data say</h2>
{% for r in readings %}
<div class="reading" id="reading-{{ r.outcome }}">
<p><strong>{{ r.headline }}</strong> {{ r.sentences | join(" ") }}</p>
{% if r.warnings %}<ul class="warnings">
{% for w in r.warnings %}<li>{{ w }}</li>{% endfor %}
</ul>{% endif %}
</div>
{% endfor %}
</section>

<section id="design">
<h2>Design</h2>
<p>{{ design }}</p>
</section>

{% for f in figures %}
<section id="figure-{{ f.number }}">
<h2>Figure {{ f.number }}. {{ f.title }}</h2>
<figure>
{{ f.svg }}
<figcaption>Figure {{ f.number }}. {{ f.caption }}</figcaption>
</figure>
{% for t in f.tables %}{{ table(t) }}{% endfor %}
</section>
{% endfor %}

<section id="counts">
<h2>{{ counts.title }}</h2>
{{ table(counts) }}
</section>

<section id="guide">
<h2>How to read this report</h2>
<ul>{% for g in guide %}<li>{{ g }}</li>{% endfor %}</ul>
</section>

<section id="data">
<h2>Data and notes</h2>
<p>The analysis file is <code>{{ data_file }}</code> beside this report; the estimates at
full precision are in <code>estimates.json</code>.</p>
{{ table(sources) }}
{% if notes %}<ul>{% for n in notes %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
</section>
</body>
</html>
"""

_TABLE: Final = """<table>
<caption>{{ t.title }}</caption>
<thead><tr>{% for h in t.headers %}<th scope="col">{{ h }}</th>{% endfor %}</tr></thead>
<tbody>
{% for row in t.rows %}<tr>{% for c in row -%}
<td{% if loop.index0 and c[:1].isalpha() %} class="text"{% endif %}>{{ c }}</td>
{%- endfor %}</tr>
{% endfor %}</tbody>
</table>
{% if t.note %}<p class="note">{{ t.note }}</p>{% endif %}
"""


def sources_table(report: Report) -> Table:
    """The table of the outcome files read (rows, filtered, invalid, dates)."""
    return _sources(report)


def figure_sections(report: Report) -> list[dict[str, Any]]:
    """Each figure of the report as the HTML shows it: number, title, caption, inline SVG
    (``svg``, text) and the tables of the counts behind it."""
    from bodycam.evaluation import charts

    return [
        {"number": f.number, "title": f.title, "caption": f.caption,
         "svg": charts.svg(f.figure), "tables": f.tables}
        for f in _figures(report)
    ]  # fmt: skip


def _sources(report: Report) -> Table:
    rows = tuple(
        (str(s.get("file", "")), str(s.get("mapping", "")), str(s.get("rows", "")),
         str(s.get("filtered", "")), str(len(s.get("invalid", []))),
         str(s.get("unmatched_rows", "")),
         f"{s.get('first_date') or '-'} to {s.get('last_date') or '-'}")
        for s in report.sources
    )  # fmt: skip
    return Table(
        "Outcome files",
        ("file", "mapping", "rows", "filtered out", "invalid (skipped)", "units not on roster",
         "dates"),
        rows,
        f"Roster: {report.config.roster.name}.",
    )  # fmt: skip


def render_html(report: Report) -> str:
    """The report as one HTML page with no external resource."""
    import jinja2
    from markupsafe import Markup

    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined)
    table_template = env.from_string(_TABLE)

    def table(t: Table) -> Markup:
        return Markup(table_template.render(t=t))  # noqa: S704 - autoescaped  # nosec B704

    figures = [
        f | {"svg": Markup(f["svg"])}  # noqa: S704 - our own SVG  # nosec B704
        for f in figure_sections(report)
    ]
    readings = [
        {"outcome": r.outcome, "headline": g.headline, "sentences": g.sentences,
         "warnings": g.warnings}
        for r, g in zip(report.results, report.readings, strict=True)
    ]  # fmt: skip
    return env.from_string(_HTML).render(
        config=report.config,
        generated=report.generated_at.strftime("%Y-%m-%d %H:%M UTC"),
        readings=readings,
        design=report.design_text,
        figures=figures,
        counts=report.counts,
        guide=GUIDE,
        data_file=report.data_file,
        sources=_sources(report),
        notes=report.notes,
        table=table,
    )


# --- PDF ---------------------------------------------------------------------------------

_LATIN: Final = str.maketrans(
    {"\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'",
     "\u201c": '"', "\u201d": '"', "\u2264": "<=", "\u2265": ">=", "\u00d7": "x",
     "\u00b7": "-", "\u2026": "..."}
)  # fmt: skip


def _latin(text: str) -> str:
    """Text for the PDF's core fonts (Latin-1); anything else shows as '?'."""
    return text.translate(_LATIN).encode("latin-1", "replace").decode("latin-1")


def render_pdf(report: Report) -> bytes:
    """The report as a PDF (Letter), the figures as PNG images."""
    import io

    from fpdf import FPDF

    from bodycam.evaluation import charts

    pdf = FPDF(orientation="P", unit="mm", format="Letter")
    pdf.set_auto_page_break(True, margin=14)
    pdf.set_title(_latin(report.config.title))
    if report.config.agency:
        pdf.set_author(_latin(report.config.agency))
    pdf.add_page()
    width = pdf.w - pdf.l_margin - pdf.r_margin

    def heading(text: str, size: float = 13) -> None:
        pdf.ln(2)
        pdf.set_font("Helvetica", "B", size)
        pdf.multi_cell(0, size * 0.5, _latin(text), new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)

    def para(text: str, style: str = "", size: float = 9.5) -> None:
        pdf.set_font("Helvetica", style, size)
        pdf.multi_cell(0, 4.6, _latin(text), new_x="LMARGIN", new_y="NEXT")

    def table(t: Table) -> None:
        pdf.set_font("Helvetica", "B", 8.5)
        pdf.multi_cell(0, 4.5, _latin(t.title), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 7)
        with pdf.table(text_align="LEFT", line_height=3.4, repeat_headings=1, width=width) as tb:
            head = tb.row()
            for h in t.headers:
                head.cell(_latin(h))
            for values in t.rows:
                row = tb.row()
                for c in values:
                    row.cell(_latin(c))
        if t.note:
            para(t.note, "I", 7.5)
        pdf.ln(2)

    heading(report.config.title, 16)
    meta = [report.config.agency, f"generated {report.generated_at:%Y-%m-%d %H:%M} UTC",
            report.config.author, "bodycam program evaluation"]  # fmt: skip
    para(" - ".join(m for m in meta if m), "", 8.5)
    heading("What the data say")
    for g in report.readings:
        para(g.headline, "B")
        if g.sentences:
            para(" ".join(g.sentences))
        for w in g.warnings:
            para(f"Warning: {w}", "I", 8.5)
        pdf.ln(1.5)
    heading("Design")
    para(report.design_text)
    for f in _figures(report):
        pdf.add_page()
        heading(f"Figure {f.number}. {f.title}")
        image = io.BytesIO(charts.png(f.figure))
        pdf.image(image, w=width)
        para(f"Figure {f.number}. {f.caption}", "I", 8)
        pdf.ln(1)
        for t in f.tables:
            table(t)
    pdf.add_page()
    heading(report.counts.title)
    table(report.counts)
    heading("How to read this report")
    for line in GUIDE:
        para(f"- {line}")
    heading("Data and notes")
    para(f"The analysis file is {report.data_file}; the estimates at full precision are in "
         "estimates.json.")  # fmt: skip
    table(_sources(report))
    for n in report.notes:
        para(f"- {n}", "", 8.5)
    return bytes(pdf.output())
