"""Footage is held while its request is open or appealed, and only then. Both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bodycam.db import transaction
from bodycam.disclosure import appeals, footage, requests, workflow
from bodycam.evidence.models import Recording
from bodycam.retention import service as retention
from bodycam.retention.cases import close_case, open_case
from bodycam.retention.models import DeletionItem, LegalHold, QueueStatus
from bodycam.retention.purge import purge_due
from bodycam.retention.service import RetentionError

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)
OLD = T0 - timedelta(days=800)  # far past a 180-day schedule


@pytest.fixture
def schedule(ctx, dept):
    retention.import_schedule(
        ctx.sessions, dept.actor("admin"), '[categories."Uncategorized"]\nretain = "180 days"\n'
    )


def _item(ctx, rid: str) -> DeletionItem | None:
    with ctx.sessions() as s:
        return s.scalars(
            select(DeletionItem)
            .where(DeletionItem.recording_id == rid)
            .order_by(DeletionItem.queued_at.desc(), DeletionItem.id.desc())
            .limit(1)
        ).first()


def _status(ctx, rid: str) -> str | None:
    item = _item(ctx, rid)
    return None if item is None else item.status


def _request_holds(ctx, number: str, *, active: bool = True) -> list[LegalHold]:
    with ctx.sessions() as s:
        stmt = select(LegalHold).where(LegalHold.origin == number).order_by(LegalHold.placed_at)
        if active:
            stmt = stmt.where(LegalHold.released_at.is_(None))
        return list(s.scalars(stmt))


def _new(ctx, dept, now=T0, **kw):
    args = {"requester_name": "P", "requester_type": "subject", "description": "x", "now": now}
    return requests.create_request(ctx.sessions, dept.actor("clerk"), **(args | kw))


def test_holds_follow_the_request_through_its_life_and_its_appeal(
    ctx, dept, vault, schedule, make_recording
):
    clerk = dept.actor("clerk")
    attached = make_recording(OLD - timedelta(days=10))
    in_range = make_recording(OLD + timedelta(hours=1), badge="1001")
    other_officer = make_recording(OLD + timedelta(hours=1), badge="2001")
    retention.refresh_queue(ctx.sessions, T0)
    assert {_status(ctx, r) for r in (attached, in_range, other_officer)} == {"pending"}

    r = _new(ctx, dept, range_start=OLD, range_end=OLD + timedelta(days=1), officers=["1001"])
    (query,) = _request_holds(ctx, r.number)
    assert query.kind == "query" and query.source == "open_request"
    assert query.reason_type == "records_request" and "badge 1001" in query.target
    assert _status(ctx, in_range) == "cancelled"  # matched by the request's query
    assert _status(ctx, other_officer) == "pending"  # another officer: not asked for

    footage.attach(vault, clerk, r.number, [attached], now=T0)
    holds = _request_holds(ctx, r.number)
    assert {h.kind for h in holds} == {"query", "recording"}
    assert _status(ctx, attached) == "cancelled"
    with pytest.raises(RetentionError, match=f"stays while request {r.number} is open"):
        retention.release_hold(ctx.sessions, clerk, holds[0].id, "no")
    assert retention.approve_deletions(ctx.sessions, clerk, now=T0) != []  # other_officer only
    assert _status(ctx, attached) == "cancelled"

    for step in ("acknowledged", "searching", "review"):
        workflow.change_status(ctx.sessions, clerk, r.number, step, now=T0)
    assert [h.id for h in _request_holds(ctx, r.number)] == [h.id for h in holds]  # no duplicates

    workflow.change_status(ctx.sessions, clerk, r.number, "denied", exemption="x", now=T0)
    assert _request_holds(ctx, r.number) == []
    assert _status(ctx, attached) == "pending" and _status(ctx, in_range) == "pending"

    view = appeals.file_appeal(ctx.sessions, clerk, r.number, "the denial is wrong", now=T0)
    assert view.held and view.status == "denied"
    again = _request_holds(ctx, r.number)
    assert len(again) == 2 and all("appeal" in h.reason for h in again)
    assert _status(ctx, attached) == "cancelled"

    view = appeals.decide_appeal(ctx.sessions, clerk, r.number, "denied", now=T0)
    assert not view.held and view.status == "denied"
    assert _request_holds(ctx, r.number) == []
    assert _status(ctx, attached) == "pending"
    assert len(_request_holds(ctx, r.number, active=False)) == 4


def test_a_granted_appeal_reopens_the_request_and_keeps_holding(
    ctx, dept, vault, schedule, make_recording
):
    clerk = dept.actor("clerk")
    rid = make_recording(OLD)
    r = _new(ctx, dept)
    footage.attach(vault, clerk, r.number, [rid], now=T0)
    workflow.change_status(ctx.sessions, clerk, r.number, "denied", exemption="x", now=T0)
    assert _request_holds(ctx, r.number) == []
    appeals.file_appeal(ctx.sessions, clerk, r.number, "public interest", now=T0)
    view = appeals.decide_appeal(ctx.sessions, clerk, r.number, "granted", note="release", now=T0)
    assert view.status == "searching" and view.held and view.request.closed_at is None
    assert [h.target for h in _request_holds(ctx, r.number)] == [rid]
    assert view.steps[-1].to_status == "searching" and view.steps[-1].detail == "reopened on appeal"


def test_held_footage_is_never_purged_and_follows_its_schedule_after(
    ctx, dept, vault, schedule, make_recording
):
    clerk = dept.actor("clerk")
    rid = make_recording(OLD)
    retention.refresh_queue(ctx.sessions, T0)
    (approved,) = retention.approve_deletions(ctx.sessions, clerk, [rid], now=T0)
    assert approved.status == QueueStatus.RECOVERABLE

    r = _new(ctx, dept)
    footage.attach(vault, clerk, r.number, [rid], now=T0 + timedelta(days=1))
    assert _status(ctx, rid) == "cancelled"  # the approved deletion is called off
    report = purge_due(ctx, now=T0 + timedelta(days=30))
    assert rid not in report.purged
    with ctx.sessions() as s:
        assert s.get(Recording, rid).purged_at is None
    with pytest.raises(RetentionError, match="Not pending deletion"):
        retention.approve_deletions(ctx.sessions, clerk, [rid], now=T0 + timedelta(days=30))

    for step in ("acknowledged", "searching", "review", "released_full"):
        workflow.change_status(ctx.sessions, clerk, r.number, step, now=T0 + timedelta(days=31))
    assert _status(ctx, rid) == "pending"  # back in the queue, for review
    later = T0 + timedelta(days=32)
    retention.approve_deletions(ctx.sessions, clerk, [rid], now=later)
    report = purge_due(ctx, now=later + timedelta(days=8))
    assert report.purged == [rid]


def test_detaching_ends_only_that_hold(ctx, dept, vault, schedule, make_recording):
    clerk = dept.actor("clerk")
    a, b = make_recording(OLD), make_recording(OLD + timedelta(hours=2))
    r = _new(ctx, dept)
    footage.attach(vault, clerk, r.number, [a, b], now=T0)
    other = _new(ctx, dept)
    footage.attach(vault, clerk, other.number, [a], now=T0)
    footage.detach(ctx.sessions, clerk, r.number, [a], now=T0)
    assert [h.target for h in _request_holds(ctx, r.number)] == [b]
    assert _status(ctx, a) == "cancelled"  # still held by the other request
    workflow.change_status(ctx.sessions, clerk, other.number, "withdrawn", now=T0)
    assert _status(ctx, a) == "pending"


def test_cases_use_the_same_automatic_holds(ctx, dept, schedule, make_recording):
    clerk = dept.actor("clerk")
    rid = make_recording(OLD, cases=("24-9",))
    open_case(ctx.sessions, clerk, "24-9", "Burglary")
    (hold,) = retention.holds_on(ctx.sessions, clerk, rid)
    assert (hold.source, hold.origin, hold.kind, hold.target) == (
        "open_case",
        "24-9",
        "case",
        "24-9",
    )
    # A request and a case on the same footage hold it independently.
    with transaction(ctx.sessions) as s:
        retention.place_automatic(
            s,
            clerk,
            source=retention.HoldSource.OPEN_REQUEST,
            origin="R-TEST",
            reason_type=retention.HoldReason.RECORDS_REQUEST,
            reason="t",
            recording_id=rid,
        )
    close_case(ctx.sessions, clerk, "24-9", "closed")
    assert [h.origin for h in retention.holds_on(ctx.sessions, clerk, rid)] == ["R-TEST"]
    with transaction(ctx.sessions) as s:
        released = retention.release_automatic(
            s, clerk, source=retention.HoldSource.OPEN_REQUEST, origin="R-TEST", reason="t"
        )
        assert len(released) == 1
        with pytest.raises(RetentionError, match="automatic source"):
            retention.place_automatic(
                s,
                clerk,
                source=retention.HoldSource.MANUAL,
                origin="x",
                reason_type=retention.HoldReason.OTHER,
                reason="t",
                recording_id=rid,
            )
    assert retention.holds_on(ctx.sessions, clerk, rid) == []
