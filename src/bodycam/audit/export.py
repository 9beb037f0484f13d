"""Court-ready exports of an audit trail: CSV and PDF (fpdf2)."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

from bodycam.audit.trail import Trail
from bodycam.ids import rfc3339

CSV_COLUMNS = [
    "seq",
    "record_id",
    "at_utc",
    "actor",
    "role",
    "via",
    "ip",
    "action",
    "details",
    "leaf_hash",
    "checkpoint_size",
    "checkpoint_root",
]


def trail_csv(trail: Trail) -> str:
    """The trail as CSV text, one row per audit record."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(CSV_COLUMNS)
    for e in trail.entries:
        w.writerow(
            [
                "" if e.seq is None else e.seq,
                e.id,
                rfc3339(e.at),
                e.actor,
                e.role,
                e.via,
                e.ip,
                e.action,
                json.dumps(e.details, sort_keys=True),
                e.leaf_hash or "",
                e.checkpoint_size or "",
                e.checkpoint_root or "",
            ]
        )
    return buf.getvalue()


def _ascii(text: str) -> str:
    # The core PDF fonts are Latin-1; replace anything else visibly rather than fail.
    return text.encode("latin-1", "replace").decode("latin-1")


def trail_pdf(
    trail: Trail,
    *,
    agency: str,
    recording_sha256: str,
    title: str,
    public_key_b64: str,
    generated_by: str,
    generated_at: datetime,
) -> bytes:
    """The trail as a PDF report with the hashes and checkpoint each record is under."""
    from fpdf import FPDF  # imported here: it costs every other command 0.2 s

    pdf = FPDF(orientation="L", unit="mm", format="Letter")
    pdf.set_auto_page_break(True, margin=12)
    pdf.set_title(f"Audit trail of recording {trail.object_id}")
    pdf.set_author(agency)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 14)
    pdf.cell(
        0,
        8,
        _ascii(f"{agency}: audit trail of recording {trail.object_id}"),
        new_x="LMARGIN",
        new_y="NEXT",
    )
    pdf.set_font("Helvetica", "", 9)
    for line in (
        f"Title: {title}",
        f"Original SHA-256: {recording_sha256}",
        f"Generated {rfc3339(generated_at)} by {generated_by}; {len(trail.entries)} records.",
        f"Checkpoints are signed with Ed25519 key {public_key_b64}. Each record's inclusion "
        "can be checked independently with `bodycam audit proof RECORD_ID` and "
        "tools/verify_proof.py.",
    ):
        pdf.multi_cell(0, 5, _ascii(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    widths = (10, 38, 24, 26, 44, 70, 46)
    heads = (
        "#",
        "when (UTC)",
        "who",
        "role / via / ip",
        "action",
        "details",
        "leaf hash, checkpoint",
    )
    pdf.set_font("Helvetica", "", 7)
    with pdf.table(
        col_widths=widths, text_align="LEFT", line_height=3.6, repeat_headings=1
    ) as table:
        header = table.row()
        for h in heads:
            header.cell(h)
        for e in trail.entries:
            details = ", ".join(f"{k}={v}" for k, v in sorted(e.details.items()))
            row = table.row()
            for text in (
                "" if e.seq is None else str(e.seq),
                rfc3339(e.at),
                e.actor,
                f"{e.role} / {e.via}" + (f" / {e.ip}" if e.ip else ""),
                e.action,
                details[:400],
                f"{e.leaf_hash or 'pending sealing'}"
                + (f" under checkpoint {e.checkpoint_size}" if e.checkpoint_size else ""),
            ):
                row.cell(_ascii(text))
    return bytes(pdf.output())


def write_export(path: Path, data: str | bytes) -> None:
    """Write an export file (refuses to overwrite)."""
    if isinstance(data, bytes):
        with path.open("xb") as fb:
            fb.write(data)
    else:
        with path.open("x", encoding="utf-8") as ft:
            ft.write(data)
