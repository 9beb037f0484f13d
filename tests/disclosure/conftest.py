"""Helpers for the disclosure tests: recording rows (no video bytes), dispatch events, a
test clock whose days are easy to count by hand."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import select

from bodycam.auth.models import User
from bodycam.compliance.models import CadImportBatch, DispatchAssignment, DispatchEvent
from bodycam.db import transaction
from bodycam.evidence.models import UNCATEGORIZED, Recording, RecordingCase, RecordingTag
from bodycam.evidence.service import ensure_category
from bodycam.retention import service as retention

_n = count(1)

# A clock in UTC with small numbers (March 2026 has no US federal holiday).
TEST_CLOCK = """\
default = "T"

[jurisdictions.T]
name = "Test"
country = "US"
timezone = "UTC"
acknowledge_days = 2
decide_days = 5
extension_max_days = 5
appeal_decide_days = 3
critical_incident_days = 30
"""


@pytest.fixture
def make_recording(ctx, dept) -> Callable[..., str]:
    """A recording row of officer ``badge`` from ``start`` for ``minutes``."""

    def make(
        start: datetime,
        *,
        badge: str = "1001",
        minutes: int = 10,
        category: str = UNCATEGORIZED,
        title: str = "",
        notes: str = "",
        tags: tuple[str, ...] = (),
        cases: tuple[str, ...] = (),
    ) -> str:
        n = next(_n)
        with transaction(ctx.sessions) as s:
            officer = s.scalars(select(User).where(User.badge == badge)).one()
            cat = ensure_category(s, category)
            rec = Recording(
                sha256=hashlib.sha256(f"disclosure-{n}-{start}".encode()).hexdigest(),
                size_bytes=1,
                original_filename=f"r{n}.mp4",
                officer_id=officer.id,
                category_id=cat.id,
                title=title,
                notes=notes,
                recorded_start=start,
                recorded_end=start + timedelta(minutes=minutes),
                ingested_by=dept.users["clerk"].id,
                container="mp4",
                video_codec="h264",
                duration_s=60.0 * minutes,
                width=640,
                height=360,
                fps=30.0,
                has_audio=True,
                frame_count=30 * 60 * minutes,
            )
            rec.tags = [RecordingTag(tag=t) for t in tags]
            rec.cases = [RecordingCase(case_number=c) for c in cases]
            s.add(rec)
            s.flush()
            retention.apply_to(s, rec)
            return rec.id

    return make


@pytest.fixture
def make_event(ctx, dept) -> Callable[..., None]:
    """A dispatch event with officers (badge, dispatched, cleared) assigned to it."""

    def make(
        event_id: str,
        location: str,
        assignments: list[tuple[str, datetime, datetime]],
    ) -> None:
        with transaction(ctx.sessions) as s:
            batch = CadImportBatch(
                file_name="t.csv",
                sha256="0" * 64,
                mapping="generic",
                rows=1,
                report={},
                imported_by=dept.users["admin"].id,
            )
            s.add(batch)
            s.flush()
            first = min(a[1] for a in assignments)
            s.add(
                DispatchEvent(
                    event_id=event_id,
                    location=location,
                    created_at=first - timedelta(minutes=3),
                    batch_id=batch.id,
                )
            )
            s.flush()
            for badge, dispatched, cleared in assignments:
                officer = s.scalars(select(User).where(User.badge == badge)).first()
                s.add(
                    DispatchAssignment(
                        event_id=event_id,
                        badge=badge,
                        officer_id=officer.id if officer else None,
                        dispatched_at=dispatched,
                        cleared_at=cleared,
                    )
                )

    return make


@pytest.fixture
def test_clock(ctx, dept) -> None:
    """Import :data:`TEST_CLOCK` as the clocks in force."""
    from bodycam.disclosure.deadlines import import_clock

    import_clock(ctx.sessions, dept.actor("admin"), TEST_CLOCK, note="tests")
