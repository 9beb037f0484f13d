"""The policy scorecard as self-contained HTML and as PDF (fpdf2, core fonts)."""

from __future__ import annotations

import json
from html import escape
from typing import Final

from bodycam.policy.scorecard import CIVIL, FEDERAL, MET, NOT_MET, PARTLY, UNKNOWN, Scorecard

LABELS: Final = {MET: "Met", PARTLY: "Partly met", NOT_MET: "Not met", UNKNOWN: "Not measurable"}
_COLOURS: Final = {MET: "#1b5e20", PARTLY: "#8a6d00", NOT_MET: "#b71c1c", UNKNOWN: "#555"}
_CSS: Final = """
body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#222}
table{border-collapse:collapse;width:100%;margin:1rem 0}
th,td{border:1px solid #ccc;padding:.4rem;vertical-align:top;text-align:left;font-size:.9rem}
th{background:#f3f3f3}.v{font-weight:bold;white-space:nowrap}ul{margin:0;padding-left:1.1rem}
pre{background:#f7f7f7;padding:.6rem;overflow:auto;font-size:.8rem}
"""


def _intro(card: Scorecard) -> list[str]:
    return [
        f"Policy version {card.policy_version} ({card.policy_label}), in force since "
        f"{card.effective_from:%Y-%m-%d}.",
        f"Generated {card.generated_at:%Y-%m-%d %H:%M} UTC by {card.generated_by}.",
        "Each criterion names the settings of the policy and the measurements of the system "
        "that decide it. 'Not measurable' marks what bodycam cannot see (training, how the "
        "policy was developed).",
    ]


def render_html(card: Scorecard) -> str:
    """The scorecard as one HTML page (inline CSS, nothing fetched)."""
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{escape(card.agency)}: camera policy scorecard</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{escape(card.agency)}: camera policy scorecard</h1>",
    ]
    parts += [f"<p>{escape(line)}</p>" for line in _intro(card)]
    for family in (CIVIL, FEDERAL):
        counts = card.counts(family)
        summary = ", ".join(f"{counts[k]} {LABELS[k].lower()}" for k in LABELS)
        parts.append(f"<h2>{escape(family)}</h2><p>{escape(summary)}.</p>")
        parts.append("<table><tr><th>Criterion</th><th>Verdict</th><th>Decided by</th></tr>")
        for c in (c for c in card.criteria if c.family == family):
            decided = "".join(f"<li>{escape(d)}</li>" for d in c.decided_by)
            parts.append(
                f"<tr><td>{escape(c.name)}<br><small>{escape(c.explanation)}</small></td>"
                f"<td class='v' style='color:{_COLOURS[c.verdict]}'>{LABELS[c.verdict]}</td>"
                f"<td><ul>{decided}</ul></td></tr>"
            )
        parts.append("</table>")
    parts.append("<h2>Measurements</h2>")
    parts.append(f"<pre>{escape(json.dumps(card.measurements, indent=2, default=str))}</pre>")
    parts.append("</body></html>")
    return "\n".join(parts)


_LATIN: Final = str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'})


def _latin(text: str) -> str:
    """Text for the PDF's core fonts (Latin-1); anything else shows as '?'."""
    return text.translate(_LATIN).encode("latin-1", "replace").decode("latin-1")


def render_pdf(card: Scorecard) -> bytes:
    """The scorecard as a PDF (Letter)."""
    from fpdf import FPDF  # imported here: it costs every other command 0.2 s

    pdf = FPDF(orientation="P", unit="mm", format="Letter")
    pdf.set_auto_page_break(True, margin=14)
    pdf.set_title(_latin(f"{card.agency}: camera policy scorecard"))
    pdf.set_author(_latin(card.agency))
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.multi_cell(
        0, 7, _latin(f"{card.agency}: camera policy scorecard"), new_x="LMARGIN", new_y="NEXT"
    )
    pdf.set_font("Helvetica", "", 9)
    for line in _intro(card):
        pdf.multi_cell(0, 4.6, _latin(line), new_x="LMARGIN", new_y="NEXT")
    for family in (CIVIL, FEDERAL):
        counts = card.counts(family)
        pdf.ln(3)
        pdf.set_font("Helvetica", "B", 12)
        pdf.multi_cell(0, 6, _latin(family), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 9)
        summary = ", ".join(f"{counts[k]} {LABELS[k].lower()}" for k in LABELS)
        pdf.multi_cell(0, 4.6, _latin(summary + "."), new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", "", 7.5)
        with pdf.table(
            col_widths=(55, 20, 100), text_align="LEFT", line_height=3.6, repeat_headings=1
        ) as table:
            head = table.row()
            for h in ("Criterion", "Verdict", "Decided by"):
                head.cell(h)
            for c in (c for c in card.criteria if c.family == family):
                row = table.row()
                row.cell(_latin(f"{c.name}\n{c.explanation}"))
                row.cell(LABELS[c.verdict])
                row.cell(_latin("\n".join(f"- {d}" for d in c.decided_by)))
    return bytes(pdf.output())
