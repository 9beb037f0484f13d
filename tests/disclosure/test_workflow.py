"""Requests: intake, numbers, the status workflow and its audit records. Both engines."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from bodycam.audit.models import AuditRecord
from bodycam.auth.actor import PermissionDenied
from bodycam.db import transaction
from bodycam.disclosure import footage, requests, workflow
from bodycam.disclosure.errors import DisclosureError
from bodycam.disclosure.models import DisclosureRequest, DisclosureStep, RequestStatus
from bodycam.disclosure.workflow import TRANSITIONS

NOW = datetime(2026, 3, 2, 15, tzinfo=UTC)


def _new(ctx, dept, **kw):
    args = {
        "requester_name": "Pat Public",
        "requester_type": "public",
        "description": "Footage of the stop on Main St",
        "now": NOW,
    } | kw
    return requests.create_request(ctx.sessions, dept.actor("clerk"), **args)


def _actions(ctx, number: str) -> list[str]:
    with ctx.sessions() as s:
        return list(
            s.scalars(
                select(AuditRecord.action)
                .where(AuditRecord.object_id == number)
                .order_by(AuditRecord.pk)
            )
        )


def test_intake_gives_sequential_numbers_and_is_audited(ctx, dept):
    a = _new(ctx, dept, requester_contact="pat@example.org", officers=["1001"], events=["E-1"])
    b = _new(ctx, dept, requester_type="media", requester_name="Daily News")
    assert (a.number, b.number) == ("R-2026-000001", "R-2026-000002")
    assert a.status == "received" and a.request.requester_contact == "pat@example.org"
    assert a.request.officer_badges == ["1001"] and a.request.event_numbers == ["E-1"]
    assert a.request.jurisdiction == "US"  # the built-in clock's default
    assert a.deadlines.received == date(2026, 3, 2)
    assert _actions(ctx, a.number) == ["disclosure:request:create"]
    with ctx.sessions() as s:
        (rec,) = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "disclosure:request:create").limit(1)
        )
        assert rec.details["requester_type"] == "public" and rec.details["officers"] == ["1001"]
    # A new year starts a new sequence.
    c = _new(ctx, dept, now=datetime(2027, 1, 4, 15, tzinfo=UTC))
    assert c.number == "R-2027-000001"
    assert requests.get_request(ctx.sessions, dept.actor("auditor"), " r-2026-000002 ").number == (
        "R-2026-000002"
    )


def test_numbers_stay_unique_under_concurrent_intake(ctx, dept):
    got: list[str] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            for _ in range(3):
                got.append(_new(ctx, dept).number)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert sorted(got) == [f"R-2026-{n:06d}" for n in range(1, 19)]


def test_the_number_is_unique_in_the_database(ctx, dept):
    a = _new(ctx, dept)
    with pytest.raises(IntegrityError), transaction(ctx.sessions) as s:
        s.add(
            DisclosureRequest(
                number=a.number,
                requester_name="x",
                requester_type="public",
                description="x",
                received_at=NOW,
                jurisdiction="US",
                created_by=dept.users["clerk"].id,
            )
        )


def _walk(ctx, dept, number: str, *statuses: str, **kw) -> None:
    for st in statuses:
        workflow.change_status(ctx.sessions, dept.actor("clerk"), number, st, now=NOW, **kw)


def test_the_workflow_to_a_partial_release(ctx, dept, vault, make_recording):
    r = _new(ctx, dept)
    rid = make_recording(NOW - timedelta(days=3))
    _walk(ctx, dept, r.number, "acknowledged", "searching", "redacting", "review")
    with pytest.raises(DisclosureError, match="no footage attached"):
        _walk(ctx, dept, r.number, "released_full")
    footage.attach(vault, dept.actor("clerk"), r.number, [rid], now=NOW)
    with pytest.raises(DisclosureError, match="needs the exemption cited"):
        _walk(ctx, dept, r.number, "released_partial")
    done = workflow.change_status(
        ctx.sessions,
        dept.actor("clerk"),
        r.number,
        "released_partial",
        exemption="POL 87(2)(b): faces of bystanders",
        note="victim's face blurred",
        now=NOW,
    )
    assert done.status == "released_partial" and done.request.closed_at == NOW
    assert done.request.exemption.startswith("POL 87(2)(b)")
    assert done.request.acknowledged_at == NOW
    assert [st.to_status for st in done.steps if st.kind == "status"] == [
        "acknowledged",
        "searching",
        "redacting",
        "review",
        "released_partial",
    ]
    assert _actions(ctx, r.number) == [
        "disclosure:request:create",
        *["disclosure:request:status"] * 5,
    ]
    with ctx.sessions() as s:
        last = s.scalars(
            select(AuditRecord)
            .where(AuditRecord.object_id == r.number)
            .order_by(AuditRecord.pk.desc())
            .limit(1)
        ).one()
        assert last.details["from"] == "review" and last.details["to"] == "released_partial"
        assert last.details["exemption"].startswith("POL 87(2)(b)")
        assert s.scalars(
            select(AuditRecord.action).where(AuditRecord.object_id == rid).order_by(AuditRecord.pk)
        ).all() == [
            "disclosure:recording:attach",
            "retention:hold:place",
            "retention:hold:release",
        ]
    with pytest.raises(DisclosureError, match=r"is closed \(released_partial\); only a granted"):
        _walk(ctx, dept, r.number, "review")


@pytest.mark.parametrize(
    ("path", "bad", "message"),
    [
        ((), "searching", "is received; it can go to acknowledged, denied or withdrawn, not "),
        (("acknowledged",), "review", "can go to denied, searching or withdrawn, not review"),
        (("acknowledged", "searching"), "released_full", "not released_full"),
        (("withdrawn",), "acknowledged", "is closed (withdrawn)"),
        (("acknowledged",), "acknowledged", "is already acknowledged"),
        ((), "lost", "Unknown status 'lost'; choose received, acknowledged"),
    ],
)
def test_wrong_steps_are_refused_with_a_sentence(ctx, dept, path, bad, message):
    r = _new(ctx, dept)
    _walk(ctx, dept, r.number, *path)
    with pytest.raises(DisclosureError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _walk(ctx, dept, r.number, bad)
    assert requests.get_request(ctx.sessions, dept.actor("clerk"), r.number).status == (
        path[-1] if path else "received"
    )
    assert len(_actions(ctx, r.number)) == 1 + len(path)


def test_every_allowed_step_is_taken(ctx, dept, vault, make_recording):
    """Walk each edge of the transition table once from a fresh request."""
    rid = make_recording(NOW - timedelta(days=1))
    for source, targets in TRANSITIONS.items():
        for target in targets:
            r = _new(ctx, dept)
            footage.attach(vault, dept.actor("clerk"), r.number, [rid], now=NOW)
            path = {
                "received": [],
                "acknowledged": ["acknowledged"],
                "searching": ["acknowledged", "searching"],
                "redacting": ["acknowledged", "searching", "redacting"],
                "review": ["acknowledged", "searching", "review"],
            }[source.value]
            _walk(ctx, dept, r.number, *path)
            ex = "exempt" if target.value in ("denied", "released_partial") else ""
            done = workflow.change_status(
                ctx.sessions, dept.actor("clerk"), r.number, target.value, exemption=ex, now=NOW
            )
            assert done.status == target.value
    assert sum(len(t) for t in TRANSITIONS.values()) == 18
    assert {s for s, t in TRANSITIONS.items() if not t} == {
        RequestStatus.RELEASED_FULL,
        RequestStatus.RELEASED_PARTIAL,
        RequestStatus.DENIED,
        RequestStatus.WITHDRAWN,
    }


def test_exemption_only_where_something_is_withheld(ctx, dept):
    r = _new(ctx, dept)
    with pytest.raises(DisclosureError, match="exemption is cited only"):
        _walk(ctx, dept, r.number, "acknowledged", exemption="x")
    with pytest.raises(DisclosureError, match="Denying request R-2026-000001 needs the exemption"):
        _walk(ctx, dept, r.number, "denied")
    denied = workflow.change_status(
        ctx.sessions, dept.actor("clerk"), r.number, "denied", exemption="no records", now=NOW
    )
    assert denied.status == "denied" and denied.request.acknowledged_at == NOW


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"requester_name": " "}, "requester's name must be 1 to 200"),
        ({"description": ""}, "needs a description"),
        ({"requester_type": "robot"}, "Unknown requester type 'robot'; choose public, media"),
        ({"range_start": datetime(2026, 3, 1)}, "needs both a start and an end"),
        (
            {"range_start": datetime(2026, 3, 2), "range_end": datetime(2026, 3, 1)},
            "must start before it ends",
        ),
        ({"officers": ["1001", "7777"]}, "No officer has badge 7777"),
        ({"received": datetime(2026, 3, 5, tzinfo=UTC)}, "received date is in the future"),
        ({"jurisdiction": "Narnia"}, "no jurisdiction 'Narnia'"),
        ({"critical_incident": True}, "needs the incident's date"),
        ({"events": ["x" * 65]}, "longer than 64 characters"),
    ],
)
def test_bad_intake_is_refused_with_a_sentence(ctx, dept, kw, message):
    with pytest.raises(DisclosureError, match=message):
        _new(ctx, dept, **kw)
    with ctx.sessions() as s:
        assert s.scalars(select(DisclosureRequest)).all() == []


def test_backdated_paper_request_and_local_dates(ctx, dept):
    # 22:30 in New York on 23 November is already the 24th in UTC: the clock uses the local date.
    r = _new(
        ctx,
        dept,
        jurisdiction="US-NY",
        received=datetime(2026, 11, 24, 3, 30, tzinfo=UTC),
        now=datetime(2026, 11, 30, 15, tzinfo=UTC),
    )
    assert r.deadlines.received == date(2026, 11, 23)
    paper = _new(
        ctx,
        dept,
        received=date(2026, 2, 27),
        range_start=date(2026, 2, 1),
        range_end=date(2026, 2, 2),
    )
    assert paper.deadlines.received == date(2026, 2, 27)
    # A date alone is midnight in the jurisdiction's zone (US: New York, UTC-5 in winter).
    assert paper.request.range_start == datetime(2026, 2, 1, 5, tzinfo=UTC)


def test_listing_filters_and_permissions(ctx, dept):
    a = _new(ctx, dept)
    b = _new(ctx, dept)
    _walk(ctx, dept, b.number, "withdrawn")
    clerk, auditor = dept.actor("clerk"), dept.actor("auditor")
    assert [v.number for v in requests.list_requests(ctx.sessions, auditor)] == [a.number, b.number]
    assert [v.number for v in requests.list_requests(ctx.sessions, clerk, status="open")] == [
        a.number
    ]
    assert [v.number for v in requests.list_requests(ctx.sessions, clerk, status="withdrawn")] == [
        b.number
    ]
    with pytest.raises(DisclosureError, match="Unknown status 'x'; choose open, closed"):
        requests.list_requests(ctx.sessions, clerk, status="x")
    with pytest.raises(DisclosureError, match="There is no request R-2026-999999"):
        requests.get_request(ctx.sessions, clerk, "R-2026-999999")
    for name in ("o1", "sgt_a", "admin", "analyst"):
        with pytest.raises(PermissionDenied):
            requests.list_requests(ctx.sessions, dept.actor(name))
    with pytest.raises(PermissionDenied):
        workflow.change_status(ctx.sessions, auditor, a.number, "acknowledged")
    with ctx.sessions() as s:
        assert s.scalars(select(DisclosureStep).where(DisclosureStep.to_status.is_not(None))).all()
        denied = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "access:request:denied")
        ).all()
        assert len(denied) == 5
