"""Search at a department's size: capped counts and text search as a union of lookups."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.db import transaction
from bodycam.evidence import service as ev
from bodycam.evidence.models import Category, Recording, RecordingCase
from bodycam.evidence.service import SearchQuery

T0 = datetime(2026, 3, 1, 8, tzinfo=UTC)


@pytest.fixture
def rows(ctx, dept):
    """Twelve recordings of officer 1001 (metadata only), newest last; some with text."""
    officer = dept.users["o1"]
    ids = []
    with transaction(ctx.sessions) as s:
        cat = s.scalars(select(Category).where(Category.name == "Traffic Stop")).one()
        for i in range(12):
            rec = Recording(
                sha256=f"{i:064x}",
                size_bytes=1000,
                original_filename=f"CAM{i:03d}.MP4",
                officer_id=officer.id,
                camera_serial="X1",
                category_id=cat.id,
                title="Stop on Main Street" if i == 3 else "",
                notes="Driver said NOTHING" if i == 5 else "",
                recorded_start=T0 + timedelta(hours=i),
                recorded_end=T0 + timedelta(hours=i, minutes=5),
                ingested_by=officer.id,
                container="mp4",
                video_codec="h264",
                duration_s=300.0,
                width=640,
                height=360,
                fps=30.0,
                has_audio=True,
                frame_count=9000,
            )
            if i == 7:
                rec.cases.append(RecordingCase(case_number="26-4711"))
            s.add(rec)
            s.flush()
            ids.append(rec.id)
    return ids


def test_text_search_finds_each_column_and_case_numbers(vault, dept, rows):
    clerk = dept.actor("clerk")

    def found(text: str) -> list[str]:
        return [r.id for r in ev.search(vault, clerk, SearchQuery(text=text)).items]

    assert found("main st") == [rows[3]]
    assert found("nothing") == [rows[5]]
    assert found("cam010") == [rows[10]]
    assert found("4711") == [rows[7]]
    assert found("CAM00") == [rows[i] for i in range(9, -1, -1)]  # newest first
    assert found("no such text") == []


def test_counts_stop_at_the_cap_and_pages_stay_correct(vault, dept, rows, monkeypatch):
    clerk = dept.actor("clerk")
    exact = ev.search(vault, clerk, SearchQuery(per_page=5))
    assert exact.total == 12 and exact.total_exact and exact.pages == 3
    monkeypatch.setattr(ev, "COUNT_CAP", 8)
    first = ev.search(vault, clerk, SearchQuery(per_page=5))
    assert first.total == 8 and not first.total_exact and first.has_next
    assert first.counted == "more than 8" and exact.counted == "12"
    assert [r.id for r in first.items] == rows[::-1][:5]
    # A page beyond the cap is counted to its end: still correct, still "more".
    second = ev.search(vault, clerk, SearchQuery(per_page=5, page=2))
    assert second.total == 10 and not second.total_exact and second.has_next
    assert [r.id for r in second.items] == rows[::-1][5:10]
    last = ev.search(vault, clerk, SearchQuery(per_page=5, page=3))
    assert last.total == 12 and last.total_exact and not last.has_next
    assert [r.id for r in last.items] == rows[::-1][10:]
    # Fewer matches than the cap: exact.
    few = ev.search(vault, clerk, SearchQuery(per_page=5, text="cam01"))
    assert few.total == 2 and few.total_exact and not few.has_next
    with vault.sessions() as s:
        details = [
            r.details
            for r in s.scalars(
                select(AuditRecord)
                .where(AuditRecord.action == "evidence:recording:search")
                .order_by(AuditRecord.at)
            )
        ]
    assert {"results": 8, "results_more": True}.items() <= details[1].items()
    assert "results_more" not in details[0]
