"""Statutory clocks: business days with holidays, extensions, the critical-incident track,
appeal deadlines, the clock file, and the report, each checked against dates counted by
hand. Both engines (the clocks and requests live in the database)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.auth.actor import PermissionDenied
from bodycam.disclosure import appeals, footage, requests, workflow
from bodycam.disclosure.clock import DEFAULT_CLOCK, Clock, ClockError
from bodycam.disclosure.deadlines import (
    BusinessCalendar,
    clock_versions,
    export_clock,
    import_clock,
)
from bodycam.disclosure.errors import DisclosureError
from bodycam.disclosure.report import request_report

from .conftest import TEST_CLOCK

NY = Clock.from_toml(DEFAULT_CLOCK).get("US-NY")
WA = Clock.from_toml(DEFAULT_CLOCK).get("US-WA")


def at_ny(day: date, hour: int = 12) -> datetime:
    """Noon (by default) in New York on ``day``, as UTC (EST: UTC-5 in November)."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(hours=hour + 5)


def test_business_days_around_thanksgiving_in_new_york_and_washington():
    ny = BusinessCalendar(NY)
    # Thanksgiving (Thu 26 Nov 2026) is a holiday in both; the Friday after only in WA
    # (Native American Heritage Day). Christmas (Fri 25 Dec) and New Year (Fri 1 Jan 2027).
    assert not ny.is_business_day(date(2026, 11, 26))
    assert ny.is_business_day(date(2026, 11, 27))
    assert not BusinessCalendar(WA).is_business_day(date(2026, 11, 27))
    # Received Mon 23 Nov: Tue 24 (1), Wed 25 (2), [Thu 26], Fri 27 (3), [weekend],
    # Mon 30 (4), Tue 1 Dec (5).
    assert ny.add(date(2026, 11, 23), 5) == date(2026, 12, 1)
    # In WA the Friday is off too: Tue 24, Wed 25, Mon 30, Tue 1, Wed 2 Dec.
    assert BusinessCalendar(WA).add(date(2026, 11, 23), 5) == date(2026, 12, 2)
    # Received on Saturday 21 Nov: counted from Monday, as if received then.
    assert ny.add(date(2026, 11, 21), 5) == date(2026, 12, 1)
    # Business days in [Mon 23 Nov, Mon 30 Nov): 23, 24, 25, 27 = 4.
    assert ny.count(date(2026, 11, 23), date(2026, 11, 30)) == 4
    assert ny.count(date(2026, 11, 30), date(2026, 11, 23)) == 0


def _ny_request(ctx, dept, now: datetime, **kw):
    args = {
        "requester_name": "Lee Lawyer",
        "requester_type": "attorney",
        "description": "all footage of my client's arrest",
        "jurisdiction": "US-NY",
        "received": at_ny(date(2026, 11, 23), 9),
        "now": now,
    }
    return requests.create_request(ctx.sessions, dept.actor("clerk"), **(args | kw))


def test_new_york_due_dates_extension_and_lateness(ctx, dept):
    clerk = dept.actor("clerk")
    r = _ny_request(ctx, dept, now=at_ny(date(2026, 11, 23)))
    d = r.deadlines
    assert d.acknowledge_due == date(2026, 12, 1)
    # Not acknowledged yet: NY counts the 20 days from the acknowledgment, so at the latest
    # from 1 Dec: Dec 2,3,4 (3), 7-11 (8), 14-18 (13), 21-24 (17), [25], 28, 29, 30 (20).
    assert d.decide_due == date(2026, 12, 30)
    assert d.next_due == date(2026, 12, 1) and d.next_due_what == "acknowledgment"
    assert not d.late

    # Acknowledged Wed 25 Nov: Fri 27 (1), Nov 30 (2), Dec 1-4 (6), 7-11 (11), 14-18 (16),
    # 21, 22, 23, 24 (20).
    v = workflow.change_status(
        ctx.sessions, clerk, r.number, "acknowledged", now=at_ny(date(2026, 11, 25))
    )
    assert v.deadlines.acknowledged == date(2026, 11, 25)
    assert v.deadlines.decide_due == date(2026, 12, 24)
    # Extended by 5: [25 Dec], Dec 28 (21), 29, 30, 31 (24), [1 Jan 2027], Mon 4 Jan (25).
    v = workflow.extend_deadline(
        ctx.sessions, clerk, r.number, 5, "footage from 14 cameras", now=at_ny(date(2026, 12, 1))
    )
    assert v.deadlines.decide_due_original == date(2026, 12, 24)
    assert v.deadlines.decide_due == date(2027, 1, 4)
    assert v.request.extension_days == 5
    assert v.steps[-1].kind == "extension" and "to 2027-01-04" in v.steps[-1].detail
    with pytest.raises(DisclosureError, match="has used 5 of the 20 business days"):
        workflow.extend_deadline(ctx.sessions, clerk, r.number, 16, "more")
    with pytest.raises(DisclosureError, match="needs a reason"):
        workflow.extend_deadline(ctx.sessions, clerk, r.number, 1, " ")
    with pytest.raises(DisclosureError, match="at least 1 business day"):
        workflow.extend_deadline(ctx.sessions, clerk, r.number, 0, "x")
    with ctx.sessions() as s:
        (ext,) = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "disclosure:request:extend")
        )
        assert ext.details == {
            "days": 5,
            "total": 5,
            "reason": "footage from 14 cameras",
            "due": "2027-01-04",
        }

    on_time = requests.get_request(ctx.sessions, clerk, r.number, now=at_ny(date(2027, 1, 4)))
    assert not on_time.deadlines.late and on_time.deadlines.next_due == date(2027, 1, 4)
    late = requests.get_request(ctx.sessions, clerk, r.number, now=at_ny(date(2027, 1, 5)))
    assert late.deadlines.late and late.deadlines.overdue == ("decision due 2027-01-04",)
    # Business days open on 5 Jan: Nov 23-25 (3), 27 (4), Nov 30-Dec 4 (9), Dec 7-11 (14),
    # 14-18 (19), 21-24 (23), 28-31 (27), Jan 4 (28).
    assert late.deadlines.business_days_open == 28
    assert late.deadlines.calendar_days_open == 43
    assert [
        v.number
        for v in requests.list_requests(ctx.sessions, clerk, late=True, now=at_ny(date(2027, 1, 5)))
    ] == [r.number]


def test_a_missed_acknowledgment_is_late_and_a_constructive_denial(ctx, dept):
    clerk = dept.actor("clerk")
    r = _ny_request(ctx, dept, now=at_ny(date(2026, 11, 23)))
    with pytest.raises(DisclosureError, match="open and within its deadlines"):
        appeals.file_appeal(ctx.sessions, clerk, r.number, "x", now=at_ny(date(2026, 12, 1)))
    v = requests.get_request(ctx.sessions, clerk, r.number, now=at_ny(date(2026, 12, 2)))
    assert v.deadlines.overdue == ("acknowledgment due 2026-12-01",)
    v = appeals.file_appeal(
        ctx.sessions, clerk, r.number, "no answer", now=at_ny(date(2026, 12, 2))
    )
    # NY appeals: 10 business days from Wed 2 Dec: 3, 4, 7-11, 14, 15, 16.
    assert v.deadlines.appeal_due == date(2026, 12, 16)
    v = workflow.change_status(
        ctx.sessions, clerk, r.number, "acknowledged", now=at_ny(date(2026, 12, 3))
    )
    assert v.deadlines.missed == ("acknowledgment due 2026-12-01, done 2026-12-03",)


def test_the_critical_incident_clock(ctx, dept):
    clerk = dept.actor("clerk")
    r = _ny_request(
        ctx,
        dept,
        now=at_ny(date(2026, 11, 23)),
        critical_incident=True,
        incident_at=at_ny(date(2026, 11, 20), 23),  # 23:00 on 20 Nov in New York
    )
    assert r.request.critical_incident
    # 30 calendar days from 20 Nov (a Sunday is fine: calendar days).
    assert r.deadlines.critical_due == date(2026, 12, 20)
    v = requests.get_request(ctx.sessions, clerk, r.number, now=at_ny(date(2026, 12, 21)))
    assert "critical-incident release due 2026-12-20" in v.deadlines.overdue
    # Without an incident date, the request's range start is the incident.
    r2 = _ny_request(
        ctx,
        dept,
        now=at_ny(date(2026, 11, 23)),
        critical_incident=True,
        range_start=datetime(2026, 11, 1, 22),
        range_end=datetime(2026, 11, 1, 23),
    )
    assert r2.deadlines.critical_due == date(2026, 12, 1)
    plain = _ny_request(ctx, dept, now=at_ny(date(2026, 11, 23)), incident_at=date(2026, 11, 1))
    assert plain.deadlines.critical_due is None and plain.request.incident_at is None


def test_washington_has_no_fixed_decision_deadline(ctx, dept):
    clerk = dept.actor("clerk")
    r = _ny_request(
        ctx,
        dept,
        jurisdiction="US-WA",
        received=datetime(2026, 11, 23, 9),  # naive: Pacific time
        now=datetime(2026, 11, 23, 20, tzinfo=UTC),
    )
    assert r.request.received_at == datetime(2026, 11, 23, 17, tzinfo=UTC)
    assert r.deadlines.acknowledge_due == date(2026, 12, 2)
    assert r.deadlines.decide_due is None
    with pytest.raises(DisclosureError, match="sets no decision deadline"):
        workflow.extend_deadline(ctx.sessions, clerk, r.number, 3, "x")


def test_the_clock_file_is_versioned_audited_and_checked(ctx, dept):
    admin, clerk = dept.actor("admin"), dept.actor("clerk")
    assert export_clock(ctx.sessions, clerk) == DEFAULT_CLOCK
    assert clock_versions(ctx.sessions, admin) == []
    change = import_clock(ctx.sessions, admin, TEST_CLOCK, note="tests")
    assert (change.version, change.default, change.jurisdictions) == (1, "T", ["T"])
    assert export_clock(ctx.sessions, admin) == TEST_CLOCK
    (v,) = clock_versions(ctx.sessions, clerk)
    assert (v.version, v.note, v.created_by) == (1, "tests", "admin")
    with pytest.raises(PermissionDenied):
        import_clock(ctx.sessions, clerk, TEST_CLOCK)
    with pytest.raises(PermissionDenied):
        export_clock(ctx.sessions, dept.actor("o1"))
    r = requests.create_request(
        ctx.sessions, clerk, requester_name="x", requester_type="public", description="x"
    )
    assert r.request.jurisdiction == "T"
    with pytest.raises(DisclosureError, match=r"drops jurisdiction\(s\) T, which requests"):
        import_clock(ctx.sessions, admin, DEFAULT_CLOCK)
    with ctx.sessions() as s:
        (rec,) = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "disclosure:clock:import")
        )
        assert rec.object_id == "1" and rec.details["jurisdictions"] == ["T"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            ("acknowledge_days = 2", "acknowledge_days = 0"),
            "acknowledge_days must be a whole number >= 1",
        ),
        (("acknowledge_days = 2", "acknowledge_days = 'two'"), "acknowledge_days must be a whole"),
        (('country = "US"', 'country = "QQ"'), "no public-holiday calendar for country 'QQ'"),
        (('country = "US"', 'country = "US"\nsubdivision = "ZZ"'), "of US has no subdivision 'ZZ'"),
        (('timezone = "UTC"', 'timezone = "Mars/Olympus"'), "'Mars/Olympus' is not a time zone"),
        (('default = "T"', 'default = "X"'), "default = 'X' must name one of the jurisdictions: T"),
        (("decide_days = 5", "decide_days = 5\nspeed = 3"), "unknown keys speed"),
        (("decide_days = 5", 'decide_days = 5\ndecide_from = "later"'), "decide_from must be"),
        (
            ("decide_days = 5", 'decide_days = 5\nclosed = ["soon"]'),
            "closed must be a list of dates",
        ),
        (("appeal_decide_days = 3\n", ""), "appeal_decide_days is missing"),
        (('default = "T"', "default = "), "not valid TOML"),
    ],
)
def test_bad_clock_files_are_refused_with_a_sentence(change, message):
    old, new = change
    assert old in TEST_CLOCK
    with pytest.raises(ClockError, match=message):
        Clock.from_toml(TEST_CLOCK.replace(old, new))


def test_closure_days_count_as_holidays():
    clock = Clock.from_toml(
        TEST_CLOCK.replace("decide_days = 5", "decide_days = 5\nclosed = [2026-03-04]")
    )
    cal = BusinessCalendar(clock.get("T"))
    # From Mon 2 Mar: Tue 3 (1), [Wed 4 closed], Thu 5 (2).
    assert cal.add(date(2026, 3, 2), 2) == date(2026, 3, 5)


def utc(day: int, month: int = 3, hour: int = 12) -> datetime:
    return datetime(2026, month, day, hour, tzinfo=UTC)


def test_the_report_figures_counted_by_hand(ctx, dept, vault, test_clock, make_recording):
    """The test clock: UTC, acknowledge 2, decide 5 (from receipt), appeal 3 business days;
    March 2026 has no US federal holiday; January has MLK Day (19th), February
    Presidents' Day (16th)."""
    clerk = dept.actor("clerk")
    rid = make_recording(utc(1))

    def new(received: datetime):
        return requests.create_request(
            ctx.sessions,
            clerk,
            requester_name="x",
            requester_type="public",
            description="x",
            received=received,
            now=received,
        ).number

    def step(number: str, status: str, when: datetime, **kw) -> None:
        workflow.change_status(ctx.sessions, clerk, number, status, now=when, **kw)

    def through(number: str, ack: datetime, end: str, when: datetime, **kw) -> None:
        footage.attach(vault, clerk, number, [rid], now=ack)
        step(number, "acknowledged", ack)
        step(number, "searching", ack)
        step(number, "review", ack)
        step(number, end, when, **kw)

    g = new(utc(5, 1))  # Mon 5 Jan
    step(g, "acknowledged", utc(6, 1))
    a = new(utc(2))  # Mon 2 Mar; decide due Mon 9 Mar
    through(a, utc(3), "released_full", utc(9))  # closed Mon 9: 5 business days, on time
    b = new(utc(2))
    through(b, utc(3), "denied", utc(16), exemption="x")  # Mon 16: 10 days, late
    d = new(utc(2))
    step(d, "withdrawn", utc(4))
    h = new(utc(2))
    through(h, utc(2), "denied", utc(5), exemption="x")  # Thu 5: 3 days
    c = new(utc(9))  # Mon 9 Mar; decide due Mon 16
    through(c, utc(10), "released_partial", utc(11), exemption="x")  # Wed 11: 2 days
    # Appeals (3 business days): H filed Fri 6, due Wed 11, partly granted Tue 10 (on time),
    # reopened, then released in full Thu 12: 8 days from 2 Mar, past its due date (9 Mar).
    appeals.file_appeal(ctx.sessions, clerk, h, "x", now=utc(6))
    appeals.decide_appeal(ctx.sessions, clerk, h, "partly", now=utc(10))
    step(h, "review", utc(10))
    step(h, "released_full", utc(12))
    # B filed Wed 18, due Mon 23, denied Wed 25: late.
    appeals.file_appeal(ctx.sessions, clerk, b, "x", now=utc(18))
    appeals.decide_appeal(ctx.sessions, clerk, b, "denied", now=utc(25))
    # C filed Fri 20, due Wed 25, still pending on Tue 31: late now.
    appeals.file_appeal(ctx.sessions, clerk, c, "x", now=utc(20))
    e = new(utc(23))  # Mon 23; acknowledged Tue 24; decide due Mon 30: late on Tue 31
    step(e, "acknowledged", utc(24))
    f = new(utc(30))  # Mon 30; acknowledgment due Wed 1 Apr: due this week

    r = request_report(ctx.sessions, dept.actor("auditor"), now=utc(31))
    assert r.total == 8 and r.open == 3
    assert r.by_status == {
        "received": 1,
        "acknowledged": 2,
        "searching": 0,
        "redacting": 0,
        "review": 0,
        "released_full": 2,
        "released_partial": 1,
        "denied": 1,
        "withdrawn": 1,
    }
    # Open for: F 1 business day; E 6 (23-27, 30); G: 19 in January (5-30 less the 19th),
    # 19 in February (less the 16th), 21 in March (2-30) = 59.
    assert [(b_.label, b_.numbers) for b_ in r.open_by_age] == [
        ("0-5", [f]),
        ("6-10", [e]),
        ("11-20", []),
        ("21-40", []),
        ("over 40", [g]),
    ]
    view = requests.get_request(ctx.sessions, clerk, g, now=utc(31))
    assert view.deadlines.business_days_open == 59
    assert r.due_this_week == [f]
    assert r.late == [g, c, e]
    # Days to close: A 5, B 10, C 2, H 8 (D withdrawn: left out). Sorted 2, 5, 8, 10: median
    # (5 + 8) / 2 = 6.5; 90th percentile at rank 0.9 * 3 = 2.7: 8 + 0.7 * (10 - 8) = 9.4.
    assert r.days_to_close == [2, 5, 8, 10] and r.decided == 4 and r.withdrawn == 1
    assert r.median_days_to_close == 6.5
    assert r.p90_days_to_close == pytest.approx(9.4)
    # Closed late: B (16 > 9) and H (12 > 9) of the four decided.
    assert (r.closed_late.count, r.closed_late.of, r.closed_late.value) == (2, 4, 0.5)
    assert sorted(r.closed_late_numbers) == sorted([b, h])
    assert r.appeals_filed == 3
    assert r.appeal_outcomes == {"pending": 1, "granted": 0, "denied": 1, "partly": 1}
    assert r.appeals_late == 2  # B decided late, C overdue
    assert (r.appeal_granted_share.count, r.appeal_granted_share.of) == (1, 2)
    with pytest.raises(PermissionDenied):
        request_report(ctx.sessions, dept.actor("analyst"))
