"""Job status in the API and on the /jobs page: own jobs for everyone, all with
system:jobs:view, filters, pages, progress, quarantined errors and an audited retry."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from bodycam.db import transaction
from bodycam.jobs.models import Job, JobStatus
from tests.web.conftest import count_audit


def _job(ctx, owner: str | None, kind: str, status: str, **kw) -> str:
    with transaction(ctx.sessions) as s:
        job = Job(kind=kind, params={"recording_id": "R1"}, created_by=owner, status=status, **kw)
        s.add(job)
        s.flush()
        return job.id


def test_the_api_lists_own_jobs_and_everyone_s_with_jobs_view(ctx, dept, client, creds):
    clerk, admin = dept.users["clerk"].id, dept.users["admin"].id
    mine = _job(ctx, clerk, "evidence.probe", "running", done=30, total=120, attempts=1)
    bad = _job(
        ctx, clerk, "evidence.thumbnail", "quarantined", attempts=3, error="Blob x is corrupt."
    )
    _job(ctx, admin, "compliance.match", "done")
    _job(ctx, None, "retention.purge", "queued")

    got = client.get("/api/v1/jobs", headers=creds.token("clerk")).json()
    assert got["total"] == 2 and {j["id"] for j in got["jobs"]} == {mine, bad}
    running = next(j for j in got["jobs"] if j["id"] == mine)
    assert (
        running["progress"] == 0.25 and running["attempts"] == 1 and running["status"] == "running"
    )
    assert client.get("/api/v1/jobs?all=true", headers=creds.token("clerk")).status_code == 403

    every = client.get("/api/v1/jobs?all=true", headers=creds.token("admin")).json()
    assert every["total"] == 4
    q = client.get("/api/v1/jobs?all=true&status=quarantined", headers=creds.token("admin")).json()
    assert [(j["id"], j["error"]) for j in q["jobs"]] == [(bad, "Blob x is corrupt.")]
    domain = client.get("/api/v1/jobs?all=true&kind=evidence.", headers=creds.token("admin"))
    assert {j["kind"] for j in domain.json()["jobs"]} == {"evidence.probe", "evidence.thumbnail"}
    paged = client.get("/api/v1/jobs?all=true&per_page=3&page=2", headers=creds.token("admin"))
    assert paged.json()["pages"] == 2 and len(paged.json()["jobs"]) == 1
    assert client.get("/api/v1/jobs?status=lost", headers=creds.token("admin")).status_code == 422

    assert client.get(f"/api/v1/jobs/{mine}", headers=creds.token("clerk")).json()["total"] == 120
    assert client.get(f"/api/v1/jobs/{mine}", headers=creds.token("o1")).status_code == 403

    before = count_audit(ctx, "system:job:retry")
    r = client.post(f"/api/v1/jobs/{bad}/retry", headers=creds.token("admin"))
    assert r.status_code == 200 and r.json()["status"] == "queued" and r.json()["attempts"] == 0
    assert count_audit(ctx, "system:job:retry", object_id=bad) == before + 1
    again = client.post(f"/api/v1/jobs/{bad}/retry", headers=creds.token("admin"))
    assert again.status_code == 409 and "only a quarantined job" in again.json()["detail"]


def test_the_jobs_page_shows_quarantined_jobs_with_errors_and_a_retry_button(
    ctx, dept, client, creds
):
    clerk = dept.users["clerk"].id
    started = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    bad = _job(
        ctx,
        None,
        "retention.purge",
        "quarantined",
        attempts=3,
        error="The object store refused the delete.",
        created_at=started,
    )
    _job(ctx, clerk, "redaction.render", "running", done=5, total=10, created_at=started)

    page = client.get("/jobs?status=quarantined", headers=creds.cookie("admin"))
    assert page.status_code == 200
    html = page.text
    assert "The object store refused the delete." in html and "retention.purge" in html
    assert f'action="/jobs/{bad}/retry"' in html and "3 of 3" in html
    assert "<code>redaction.render</code>" not in html  # filtered by state
    tz = ctx.settings.timezone
    from zoneinfo import ZoneInfo

    assert started.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%d %H:%M") in html

    clerk_page = client.get("/jobs", headers=creds.cookie("clerk")).text
    assert "<code>redaction.render</code>" in clerk_page
    assert "retention.purge" not in clerk_page
    assert re.search(r'<progress value="5" max="10"', clerk_page)

    stale = client.post(f"/jobs/{bad}/retry", data={"csrf": "wrong"}, headers=creds.cookie("admin"))
    assert stale.status_code == 303 and "error=" in stale.headers["location"]
    with ctx.sessions() as s:
        assert s.get(Job, bad).status == JobStatus.QUARANTINED
    done = client.post(
        f"/jobs/{bad}/retry", data={"csrf": creds.csrf("admin")}, headers=creds.cookie("admin")
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/jobs?status=quarantined&done=retried"
    with ctx.sessions() as s:
        row = s.get(Job, bad)
        assert row.status == JobStatus.QUEUED and row.attempts == 0
    assert count_audit(ctx, "system:job:retry", object_id=bad, actor="admin") == 1
    # The clerk may not retry a job that is not theirs (it is the system's).
    other = _job(ctx, None, "retention.purge", "quarantined", error="x")
    refused = client.post(
        f"/jobs/{other}/retry", data={"csrf": creds.csrf("clerk")}, headers=creds.cookie("clerk")
    )
    assert refused.status_code == 403


def test_the_recording_page_shows_the_poster_frame(ctx, dept, vault, clips, client, creds):
    from bodycam.evidence.service import ingest_file

    rid = ingest_file(vault, dept.actor("clerk"), clips(150), officer_badge="1001").id
    html = client.get(f"/recordings/{rid}", headers=creds.cookie("clerk")).text
    found = re.search(r'poster="data:image/jpeg;base64,([A-Za-z0-9+/=]+)"', html)
    assert found is not None
    import base64

    assert base64.b64decode(found.group(1))[:3] == b"\xff\xd8\xff"
