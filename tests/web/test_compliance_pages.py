"""Compliance dashboard: rates and intervals, the trend chart, drill-down, and who sees what."""

from __future__ import annotations

import pytest

from bodycam.auth.actor import PermissionDenied
from bodycam.compliance import dashboard
from bodycam.compliance.report import compliance_report
from tests.compliance.test_report import NY, department  # noqa: F401 (a fixture)
from tests.web.test_pages import text_of, use_session


def test_supervisor_dashboard_drills_down_to_the_video(client, ctx, creds, department):  # noqa: F811
    use_session(client, creds, "analyst")
    page = client.get("/compliance", params={"period": "month"})
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Showing every officer." in text
    assert "North-A" in text and "South-B" in text
    assert "<svg" in page.text and "Activation rate by month" in text
    assert "2026-02" in text and "2026-03" in text
    assert "Activation rate went from" in text  # the honest trend sentence
    # Squad -> officers of the squad -> one officer -> an event -> its video.
    squad = client.get("/compliance", params={"by": "officer", "squad": "North-A"})
    assert "1001 o1" in text_of(squad.text) and "2001" not in text_of(squad.text)
    o1 = creds.dept.users["o1"].id
    assert f'href="/compliance/officers/{o1}"' in squad.text
    officer = client.get(f"/compliance/officers/{o1}")
    assert officer.status_code == 200
    assert 'href="/compliance/events/E1"' in officer.text and "recorded" in officer.text
    event = client.get("/compliance/events/E1")
    assert event.status_code == 200
    assert "TRAFFIC STOP" in event.text and f'href="/recordings/{department["R1"]}"' in event.text
    assert client.get("/compliance/events/NOPE").status_code == 404
    bad = client.get("/compliance", params={"from": "last week"})
    assert bad.status_code == 422 and "is not a date" in text_of(bad.text)
    filtered = client.get(f"/compliance/officers/{o1}", params={"status": "late_start"})
    assert "No verdicts." in filtered.text


def test_supervisors_see_their_squad_and_officers_themselves(client, ctx, creds, department):  # noqa: F811
    sgt = creds.dept.actor("sgt_a")
    rates = compliance_report(ctx.sessions, sgt, by="officer", tz=NY)
    assert [r.group for r in rates] == ["1001 o1", "1002 o2"]  # North-A only
    o1 = creds.dept.actor("o1")
    assert [r.group for r in compliance_report(ctx.sessions, o1, by="squad", tz=NY)] == ["North-A"]
    assert compliance_report(ctx.sessions, o1, by="officer", tz=NY)[0].group == "1001 o1"
    with pytest.raises(PermissionDenied):
        dashboard.event_detail(ctx.sessions, sgt, "E6")  # South-B's event
    with pytest.raises(PermissionDenied):
        compliance_report(ctx.sessions, creds.dept.actor("clerk"), by="all")

    use_session(client, creds, "sgt_a")
    page = client.get("/compliance")
    assert page.status_code == 200 and "Showing your squad." in text_of(page.text)
    assert "South-B" not in page.text and "2001" not in text_of(page.text)
    o3 = creds.dept.users["o3"].id
    assert client.get(f"/compliance/officers/{o3}").status_code == 403
    assert client.get("/compliance/events/E6").status_code == 403
    assert client.get("/compliance/events/E1").status_code == 200
    use_session(client, creds, "o1")
    page = client.get("/compliance")
    assert "Showing you." in text_of(page.text) and "1002" not in text_of(page.text)
    assert client.get(f"/compliance/officers/{creds.dept.users['o2'].id}").status_code == 403
    use_session(client, creds, "clerk")
    assert client.get("/compliance").status_code == 403
    assert 'href="/compliance"' not in client.get("/recordings").text
