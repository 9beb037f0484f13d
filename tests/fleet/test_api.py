"""POST /api/v1/fleet/events: the dock log's rules over HTTP, with a bearer token."""

from __future__ import annotations

from sqlalchemy import func, select

from bodycam.audit.models import AuditRecord
from bodycam.fleet.models import DeviceEvent
from tests.fleet.test_events import GOOD


def stored(ctx) -> int:
    with ctx.sessions() as s:
        return s.scalar(select(func.count()).select_from(DeviceEvent)) or 0


def test_valid_events_are_stored_and_repeats_ignored(fleet, client, creds):
    resp = client.post("/api/v1/fleet/events", json=GOOD, headers=creds.token("equipment"))
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert (body["rows"], body["stored"], body["duplicates"], body["imported"]) == (8, 8, 0, True)
    again = client.post("/api/v1/fleet/events", json=GOOD[:3], headers=creds.token("equipment"))
    assert again.status_code == 200
    assert (again.json()["stored"], again.json()["duplicates"]) == (0, 3)
    assert stored(fleet.ctx) == 8


def test_an_invalid_event_stores_nothing(fleet, client, creds):
    bad = [GOOD[0], {"camera": "CAM-1", "event": "dock", "at": "yesterday"}, GOOD[1]]
    resp = client.post("/api/v1/fleet/events", json=bad, headers=creds.token("equipment"))
    assert resp.status_code == 422
    body = resp.json()
    assert "nothing was stored" in body["detail"]
    assert body["invalid"] == [
        {"line": 2, "field": "at", "reason": "'yesterday' is not an ISO 8601 time "
         "(e.g. 2026-03-01T08:00:00Z)"}
    ]  # fmt: skip
    assert stored(fleet.ctx) == 0


def test_not_a_list_is_refused(fleet, client, creds):
    resp = client.post(
        "/api/v1/fleet/events", json={"camera": "CAM-1"}, headers=creds.token("equipment")
    )
    assert resp.status_code == 422


def test_an_officer_token_is_refused_and_the_refusal_audited(fleet, client, creds):
    resp = client.post("/api/v1/fleet/events", json=GOOD, headers=creds.token("o1"))
    assert resp.status_code == 403
    assert "fleet:events:ingest" in resp.json()["detail"]
    with fleet.ctx.sessions() as s:
        denied = s.scalar(select(func.count()).where(AuditRecord.action == "access:request:denied"))
    assert denied == 1
    assert stored(fleet.ctx) == 0
    assert client.post("/api/v1/fleet/events", json=GOOD).status_code == 401
