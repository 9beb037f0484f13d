"""Finding a request's footage, and attaching and detaching it. Both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.auth.actor import PermissionDenied
from bodycam.disclosure import requests, workflow
from bodycam.disclosure.errors import DisclosureError
from bodycam.disclosure.footage import attach, detach
from bodycam.disclosure.search import search_footage

NOW = datetime(2026, 3, 2, 15, tzinfo=UTC)
T = datetime(2026, 3, 1, 10, tzinfo=UTC)  # the range: 10:00 to 11:00 on 1 March


def _new(ctx, dept, **kw):
    args = {
        "requester_name": "Pat Public",
        "requester_type": "public",
        "description": "footage",
        "now": NOW,
    } | kw
    return requests.create_request(ctx.sessions, dept.actor("clerk"), **args)


def _found(vault, dept, number: str) -> dict[str, tuple[str, ...]]:
    result = search_footage(vault, dept.actor("clerk"), number)
    return {c.recording_id: c.reasons for c in result.candidates}


@pytest.fixture
def footage(make_recording, make_event):
    r = {
        "in": make_recording(T + timedelta(minutes=5), title="Stop on Main St"),
        "overlaps_start": make_recording(T - timedelta(minutes=5)),
        "other_officer": make_recording(T + timedelta(minutes=5), badge="2001"),
        "after": make_recording(T + timedelta(hours=2)),
        "before": make_recording(T - timedelta(minutes=20), minutes=10),
        "confidential": make_recording(T + timedelta(minutes=1), category="Sexual Assault"),
        "tagged": make_recording(
            datetime(2026, 2, 20, 9, tzinfo=UTC), badge="1002", tags=("CAD:E-77",)
        ),
        "case": make_recording(
            datetime(2026, 2, 20, 11, tzinfo=UTC), badge="1002", cases=("E-77",)
        ),
        "on_call": make_recording(datetime(2026, 2, 21, 8, 5, tzinfo=UTC), badge="2001"),
        "late_on_call": make_recording(datetime(2026, 2, 21, 8, 40, tzinfo=UTC), badge="2001"),
        "off_call": make_recording(datetime(2026, 2, 21, 10, tzinfo=UTC), badge="2001"),
        "not_assigned": make_recording(datetime(2026, 2, 21, 8, 5, tzinfo=UTC), badge="1001"),
        "oak": make_recording(datetime(2026, 2, 25, 14, 10, tzinfo=UTC), badge="1002"),
        "oak_notes": make_recording(datetime(2026, 1, 5, 9, tzinfo=UTC), notes="Behind 12 OAK AVE"),
    }
    at = datetime(2026, 2, 21, 8, tzinfo=UTC)
    make_event("E-88", "5 Pine Rd", [("2001", at, at + timedelta(minutes=30))])
    make_event(
        "E-90", "100 MAIN ST", [("1001", T - timedelta(minutes=10), T + timedelta(minutes=20))]
    )
    oak = datetime(2026, 2, 25, 14, tzinfo=UTC)
    make_event("E-91", "12 Oak Ave", [("1002", oak, oak + timedelta(minutes=30))])
    return r


def test_time_range_finds_overlapping_footage_and_nothing_outside(ctx, dept, vault, footage):
    r = _new(ctx, dept, range_start=T, range_end=T + timedelta(hours=1))
    found = _found(vault, dept, r.number)
    assert set(found) == {footage["in"], footage["overlaps_start"], footage["other_officer"]}
    assert found[footage["in"]] == ("time range",)


def test_officers_narrow_the_range(ctx, dept, vault, footage):
    r = _new(ctx, dept, range_start=T, range_end=T + timedelta(hours=1), officers=["1001"])
    found = _found(vault, dept, r.number)
    assert set(found) == {footage["in"], footage["overlaps_start"]}
    assert found[footage["in"]] == ("time range", "officer 1001")
    only = _new(ctx, dept, officers=["1002"])  # no range: every recording of the officer
    assert set(_found(vault, dept, only.number)) == {
        footage["tagged"],
        footage["case"],
        footage["oak"],
    }


def test_event_numbers_by_tag_case_and_dispatch(ctx, dept, vault, footage):
    r = _new(ctx, dept, events=["E-77", "E-88", "E-404"])
    found = _found(vault, dept, r.number)
    assert set(found) == {
        footage["tagged"],
        footage["case"],
        footage["on_call"],
        footage["late_on_call"],  # starts 10 minutes after clear: within the margin
    }
    assert found[footage["tagged"]] == ("event E-77: tagged cad:E-77",)
    assert found[footage["case"]] == ("event E-77: linked as a case number",)
    assert found[footage["on_call"]] == ("event E-88: badge 2001 was on the call",)


def test_location_filters_the_range_and_searches_alone(ctx, dept, vault, footage):
    r = _new(ctx, dept, range_start=T, range_end=T + timedelta(hours=1), location="main st")
    result = search_footage(vault, dept.actor("clerk"), r.number)
    found = {c.recording_id: c.reasons for c in result.candidates}
    assert set(found) == {footage["in"], footage["overlaps_start"]}
    assert "location: in its title, notes or tags" in found[footage["in"]]
    assert "location: event E-90 at 100 MAIN ST" in found[footage["overlaps_start"]]
    assert result.without_location == 1  # o3's recording in the range, elsewhere
    alone = _new(ctx, dept, location="Oak Ave")
    found = _found(vault, dept, alone.number)
    assert set(found) == {footage["oak"], footage["oak_notes"]}
    assert found[footage["oak"]] == ("location: event E-91 at 12 Oak Ave",)


def test_search_is_audited_and_scoped_to_what_the_actor_may_see(ctx, dept, vault, footage):
    r = _new(ctx, dept, range_start=T, range_end=T + timedelta(hours=1))
    assert footage["confidential"] not in _found(vault, dept, r.number)  # clerk: not confidential
    with ctx.sessions() as s:
        (rec,) = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "disclosure:request:search")
        )
        assert rec.object_id == r.number and rec.details["candidates"] == 3
    with pytest.raises(PermissionDenied):
        search_footage(vault, dept.actor("auditor"), r.number)
    nothing = _new(ctx, dept)  # no criteria: no candidates, not the whole vault
    assert _found(vault, dept, nothing.number) == {}


def test_attach_and_detach(ctx, dept, vault, footage):
    clerk = dept.actor("clerk")
    r = _new(ctx, dept, range_start=T, range_end=T + timedelta(hours=1))
    assert attach(vault, clerk, r.number, [footage["in"], footage["after"]]) == [
        footage["in"],
        footage["after"],
    ]
    assert attach(vault, clerk, r.number, [footage["in"]]) == []  # already attached
    with pytest.raises(DisclosureError, match="no recording NOPE that you may see"):
        attach(vault, clerk, r.number, [footage["before"], "NOPE"])
    with pytest.raises(DisclosureError, match="that you may see"):
        attach(vault, clerk, r.number, [footage["confidential"]])
    with pytest.raises(DisclosureError, match="Name at least one recording"):
        attach(vault, clerk, r.number, [" "])
    view = requests.get_request(ctx.sessions, clerk, r.number)
    assert [a.recording_id for a in view.recordings] == [footage["in"], footage["after"]]
    result = search_footage(vault, clerk, r.number)
    assert {c.recording_id for c in result.candidates if c.attached} == {footage["in"]}

    assert detach(ctx.sessions, clerk, r.number, [footage["after"]], reason="wrong day")
    with pytest.raises(DisclosureError, match="is not attached to request"):
        detach(ctx.sessions, clerk, r.number, [footage["after"]])
    view = requests.get_request(ctx.sessions, clerk, r.number)
    assert [a.recording_id for a in view.recordings] == [footage["in"]]
    assert [st.kind for st in view.steps] == ["received", "attach", "attach", "detach"]
    with ctx.sessions() as s:
        rows = s.scalars(
            select(AuditRecord)
            .where(AuditRecord.object_id == footage["after"])
            .order_by(AuditRecord.pk)
        ).all()
        assert [a.action for a in rows] == [
            "disclosure:recording:attach",
            "retention:hold:place",
            "disclosure:recording:detach",
            "retention:hold:release",
        ]
        assert rows[2].details == {"request": r.number, "reason": "wrong day"}
    workflow.change_status(ctx.sessions, clerk, r.number, "withdrawn")
    with pytest.raises(DisclosureError, match=r"closed \(withdrawn\); footage can no longer"):
        attach(vault, clerk, r.number, [footage["before"]])
    with pytest.raises(DisclosureError, match="is closed"):
        detach(ctx.sessions, clerk, r.number, [footage["in"]])
