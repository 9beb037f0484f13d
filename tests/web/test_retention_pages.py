"""Retention pages: schedule editor, holds and cases, the deletion queue, certificates."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bodycam.db import transaction
from bodycam.evidence.models import Recording
from bodycam.retention import service
from bodycam.retention.models import DestructionCertificate
from bodycam.retention.purge import purge_due
from tests.web.conftest import count_audit
from tests.web.test_pages import text_of, use_session

SCHEDULE = '[categories."Uncategorized"]\nretain = "30 days"\n'


def _age(ctx, days: int) -> None:
    with transaction(ctx.sessions) as s:
        for rec in s.scalars(select(Recording)):
            rec.recorded_start -= timedelta(days=days)
            rec.recorded_end -= timedelta(days=days)


def test_schedule_editor_saves_a_version_and_keeps_bad_input(client, ctx, creds):
    csrf = use_session(client, creds, "admin")
    page = client.get("/retention/schedule")
    assert page.status_code == 200 and "No schedule has been imported yet" in page.text
    assert '<textarea id="schedule" name="schedule"' in page.text
    bad = client.post(
        "/retention/schedule",
        data={"csrf": csrf, "schedule": '[categories."X"]\nretain = "soon"\n', "note": "oops"},
    )
    assert bad.status_code == 422
    assert "soon" in text_of(bad.text) and 'role="alert"' in bad.text
    assert service.schedule_versions(ctx.sessions, creds.dept.actor("admin")) == []
    ok = client.post(
        "/retention/schedule", data={"csrf": csrf, "schedule": SCHEDULE, "note": "initial"}
    )
    assert ok.status_code == 200
    assert "Schedule version 1 is in force" in text_of(ok.text)
    assert "Uncategorized: none → 30 days" in text_of(ok.text)
    expired = client.post("/retention/schedule", data={"csrf": "nope", "schedule": SCHEDULE})
    assert expired.status_code == 422 and "The form expired" in expired.text
    # The clerk may read the schedule but gets no editor.
    use_session(client, creds, "clerk")
    page = client.get("/retention/schedule")
    assert page.status_code == 200 and "<textarea" not in page.text
    assert "initial" in page.text and 'retain = "30 days"' in text_of(page.text)


def test_holds_and_cases_through_the_pages(client, ctx, creds, ingest):
    rec = ingest(81, "1001")
    csrf = use_session(client, creds, "clerk")
    resp = client.post(
        "/retention/holds",
        data={
            "csrf": csrf,
            "on": "query",
            "officer": "1001",
            "start_from": "2000-01-01",
            "reason_type": "litigation",
            "reason": "Doe v. City",
        },
    )
    assert resp.status_code == 303 and resp.headers["location"] == "/retention/holds?done=placed"
    page = client.get(resp.headers["location"])
    assert "The hold is placed" in text_of(page.text) and "badge 1001, 2000-01-01 to" in page.text
    (hold,) = service.list_holds(ctx.sessions, creds.dept.actor("clerk"))
    assert [h.id for h in service.holds_on(ctx.sessions, creds.dept.actor("clerk"), rec.id)] == [
        hold.id
    ]
    bad = client.post(
        "/retention/holds",
        data={"csrf": csrf, "on": "query", "reason_type": "other", "reason": "x"},
    )
    assert bad.status_code == 422 and "at least one criterion" in text_of(bad.text)
    resp = client.post(
        f"/retention/holds/{hold.id}/release", data={"csrf": csrf, "reason": "settled"}
    )
    assert resp.status_code == 303
    assert count_audit(ctx, "retention:hold:release", actor="clerk") == 1

    resp = client.post(
        "/retention/cases", data={"csrf": csrf, "case_number": "26-7", "title": "Robbery"}
    )
    assert resp.headers["location"] == "/retention/holds?done=opened"
    page = client.get("/retention/holds")
    assert "automatic (open case)" in page.text and "ends when it closes" in page.text
    again = client.post("/retention/cases", data={"csrf": csrf, "case_number": "26-7"})
    assert again.status_code == 422 and "Case 26-7 is already open." in text_of(again.text)
    resp = client.post("/retention/cases/26-7/close", data={"csrf": csrf, "reason": "acquitted"})
    assert resp.headers["location"] == "/retention/holds?done=closed"
    assert "No open cases." in client.get("/retention/holds").text
    assert "acquitted" in client.get("/retention/holds?all=1").text
    # The auditor sees the lists but no forms; an officer may not open the page at all.
    use_session(client, creds, "analyst")
    assert client.get("/retention/holds").status_code == 403


def test_queue_approve_undo_and_certificates(client, ctx, creds, ingest):
    admin, clerk = creds.dept.actor("admin"), creds.dept.actor("clerk")
    a = ingest(82, "1001")
    b = ingest(83, "1002")
    _age(ctx, 400)
    service.import_schedule(ctx.sessions, admin, SCHEDULE)
    csrf = use_session(client, creds, "clerk")
    page = client.get("/retention/queue")
    assert page.status_code == 200
    assert "Due now, awaiting approval (2)" in text_of(page.text)
    assert "Uncategorized: 30 days" in page.text and f'value="{a.id}"' in page.text
    none = client.post("/retention/queue/approve", data={"csrf": csrf})
    assert none.status_code == 422 and "Tick the recordings" in text_of(none.text)
    resp = client.post("/retention/queue/approve", data={"csrf": csrf, "recording": [a.id, b.id]})
    assert resp.headers["location"] == "/retention/queue?done=approved"
    page = client.get(resp.headers["location"])
    assert "Approved, recoverable (2)" in text_of(page.text)
    no_reason = client.post(f"/retention/queue/{b.id}/undo", data={"csrf": csrf, "reason": " "})
    assert no_reason.status_code == 422 and "Say why" in text_of(no_reason.text)
    resp = client.post(f"/retention/queue/{b.id}/undo", data={"csrf": csrf, "reason": "appeal"})
    assert resp.headers["location"] == "/retention/queue?done=undone"
    assert count_audit(ctx, "retention:deletion:undo", actor="clerk") == 1

    later = service.upcoming(ctx.sessions, clerk, days=0)
    purge_after = next(e.purge_after for e in later if e.recording_id == a.id)
    assert purge_due(ctx, now=purge_after + timedelta(seconds=1)).purged == [a.id]
    with ctx.sessions() as s:
        cert = s.scalars(select(DestructionCertificate)).one()
    page = client.get("/retention/certificates")
    assert cert.id in page.text and "verified" in page.text
    assert "Uncategorized: 30 days" in page.text
    one = client.get(f"/retention/certificates/{cert.id}")
    assert "The signature verifies." in one.text and a.sha256 in one.text
    with transaction(ctx.sessions) as s:  # a forged statement is shown as such
        row = s.get(DestructionCertificate, cert.id)
        row.body = row.body.replace("Uncategorized", "Traffic")
    one = client.get(f"/retention/certificates/{cert.id}")
    assert "does not verify" in one.text
    assert client.get("/retention/certificates/nope").status_code == 404


def test_navigation_shows_retention_only_to_those_who_may_see_it(client, creds):
    use_session(client, creds, "clerk")
    assert 'href="/retention/queue"' in client.get("/recordings").text
    use_session(client, creds, "o1")
    assert 'href="/retention/queue"' not in client.get("/recordings").text
