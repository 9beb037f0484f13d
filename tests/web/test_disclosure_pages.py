"""Request pages: the queue, intake, one request's steps and footage, the report, and the
requester's status page (which must show nothing private)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bodycam.db import transaction
from bodycam.disclosure import appeals, footage, public_status, report, requests, workflow
from bodycam.evidence.models import Recording
from bodycam.ids import utcnow
from bodycam.redaction.models import CopyStatus, ProjectStatus, RedactedCopy, RedactionProject
from bodycam.web import disclosure_pages
from tests.disclosure.conftest import make_recording, test_clock  # noqa: F401 (fixtures)
from tests.web.conftest import count_audit
from tests.web.test_pages import text_of, use_session

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def _new(ctx, dept, name: str = "Jo Reporter", **kw) -> str:
    """A request logged by the clerk through the service; its number."""
    kw.setdefault("description", "Stop on Main St")
    view = requests.create_request(
        ctx.sessions, dept.actor("clerk"), requester_name=name, requester_type="media", **kw
    )
    return view.number


def test_intake_form_logs_a_request_and_refuses_bad_input(client, ctx, dept, creds):
    csrf = use_session(client, creds, "clerk")
    page = client.get("/requests")
    assert page.status_code == 200 and "No requests match." in page.text
    assert 'href="/requests/new"' in page.text and 'href="/requests"' in page.text  # nav
    form = client.get("/requests/new")
    assert form.status_code == 200
    for name in ("requester_name", "description", "range_start", "officers", "jurisdiction"):
        assert f'<label for="{name}"' in form.text and f'id="{name}"' in form.text
    good = {
        "csrf": csrf,
        "requester_name": "Jo Reporter",
        "requester_type": "media",
        "requester_contact": "jo@example.org",
        "description": "Stop on Main St",
        "range_start": "2026-03-02T09:00",
        "range_end": "2026-03-02T11:00",
        "officers": "1001",
        "location": "Main St",
    }
    bad = client.post("/requests", data=good | {"description": " "})
    assert bad.status_code == 422 and 'role="alert"' in bad.text
    assert "A request needs a description of the footage asked for." in text_of(bad.text)
    assert 'value="Jo Reporter"' in bad.text  # what was typed is kept
    assert "No officer has badge 4242." in text_of(
        client.post("/requests", data=good | {"officers": "1001, 4242"}).text
    )
    when = client.post("/requests", data=good | {"received": "last tuesday"})
    assert when.status_code == 422 and "is not a date" in text_of(when.text)
    expired = client.post("/requests", data=good | {"csrf": "nope"})
    assert expired.status_code == 422 and "The form expired" in expired.text
    assert requests.list_requests(ctx.sessions, dept.actor("clerk")) == []

    done = client.post("/requests", data=good)
    assert done.status_code == 303
    number = requests.list_requests(ctx.sessions, dept.actor("clerk"))[0].number
    assert done.headers["location"] == f"/requests/{number}?done=created"
    page = client.get(done.headers["location"])
    text = text_of(page.text)
    assert page.status_code == 200 and "The request is logged." in text
    assert f"Request {number}: received" in text
    assert "jo@example.org" in text and "Main St" in text and "1001" in text
    assert "Acknowledge" in text and ("business days left" in text or "due today" in text)
    code = public_status.status_code(ctx.settings.resolved_secret_key(), number)
    assert code in text  # the status code to print on the acknowledgement
    queue = text_of(client.get("/requests").text)
    assert number in queue and "Jo Reporter" in queue and "media" in queue
    assert client.get("/requests/R-1999-000009").status_code == 404


def test_steps_footage_and_appeals_through_the_request_page(
    client,
    ctx,
    dept,
    creds,
    make_recording,  # noqa: F811
):
    rid = make_recording(START, badge="1001", title="Main St stop")
    other = make_recording(START + timedelta(days=30), badge="2001", title="elsewhere")
    number = _new(
        ctx,
        dept,
        range_start=START - timedelta(hours=1),
        range_end=START + timedelta(hours=2),
        officers=["1001"],
    )
    url = f"/requests/{number}"
    csrf = use_session(client, creds, "clerk")
    page = client.get(url)
    # Only the steps the workflow allows from "received" are offered.
    offered = re.findall(r'<option value="([a-z_]+)">', page.text.split('id="st-status"')[1])
    assert offered[:3] == ["acknowledged", "denied", "withdrawn"] and "released_full" not in offered

    wrong = client.post(f"{url}/status", data={"csrf": csrf, "status": "released_full"})
    assert wrong.status_code == 422
    assert "it can go to acknowledged, denied or withdrawn, not released_full" in text_of(
        wrong.text
    )
    deny = client.post(f"{url}/status", data={"csrf": csrf, "status": "denied"})
    assert deny.status_code == 422 and "needs the exemption cited" in text_of(deny.text)
    ok = client.post(f"{url}/status", data={"csrf": csrf, "status": "acknowledged", "note": "sent"})
    assert ok.status_code == 303 and ok.headers["location"] == f"{url}?done=status"
    assert "The status is changed" in text_of(client.get(ok.headers["location"]).text)
    expired = client.post(f"{url}/status", data={"csrf": "old", "status": "searching"})
    assert expired.status_code == 422 and "The form expired" in expired.text

    bad = client.post(f"{url}/extend", data={"csrf": csrf, "days": "two", "reason": "volume"})
    assert bad.status_code == 422 and "not a whole number of business days" in text_of(bad.text)
    ok = client.post(f"{url}/extend", data={"csrf": csrf, "days": "2", "reason": "volume"})
    assert ok.headers["location"] == f"{url}?done=extended"
    assert "extended 2 business days" in text_of(client.get(url).text)

    # The search finds o1's recording in the range (not o3's), audited; attach it.
    found = client.get(f"{url}/search")
    assert (
        found.status_code == 200 and "Main St stop" in found.text and "elsewhere" not in found.text
    )
    assert f'name="recording" value="{rid}"' in found.text
    assert count_audit(ctx, "disclosure:request:search", actor="clerk") == 1
    none = client.post(f"{url}/attach", data={"csrf": csrf})
    assert none.status_code == 422 and "Tick or type the recordings" in text_of(none.text)
    unknown = client.post(f"{url}/attach", data={"csrf": csrf, "recording": "NOPE"})
    assert unknown.status_code == 422 and "There is no recording NOPE" in text_of(unknown.text)
    ok = client.post(f"{url}/attach", data={"csrf": csrf, "recording": [rid, other]})
    assert ok.headers["location"] == f"{url}?done=attached"
    page = client.get(url)
    assert (
        f'href="/recordings/{rid}"' in page.text
        and f'href="/recordings/{rid}/redaction"' in page.text
    )
    assert "Footage attached (2)" in text_of(page.text) and "not started" in page.text
    ok = client.post(f"{url}/detach", data={"csrf": csrf, "recording": other, "reason": "wrong"})
    assert ok.headers["location"] == f"{url}?done=detached"
    gone = client.post(f"{url}/detach", data={"csrf": csrf, "recording": other})
    assert gone.status_code == 422 and "is not attached" in text_of(gone.text)

    # The redaction status of the attached recording: a copy approved for release.
    with transaction(ctx.sessions) as s:
        rec = s.get(Recording, rid)
        project = RedactionProject(
            recording_id=rid,
            source_sha256=rec.sha256,
            created_by=dept.users["clerk"].id,
            status=ProjectStatus.REVIEW.value,
        )
        s.add(project)
        s.flush()
        s.add(
            RedactedCopy(
                project_id=project.id, recording_id=rid, source_sha256=rec.sha256,
                sha256="c" * 64, size_bytes=1, plan="{}", plan_hash="p" * 64, engine="t",
                detector="t", qc_threshold=0.5, status=CopyStatus.APPROVED.value,
                created_by=dept.users["clerk"].id,
            )
        )  # fmt: skip
    page = text_of(client.get(url).text)
    assert "1 copy approved for release" in page and "Open the redaction editor" in page

    # An appeal only against a decision (or a missed deadline); granted reopens it.
    no = client.post(f"{url}/appeals", data={"csrf": csrf, "grounds": "too slow"})
    assert no.status_code == 422 and "within its deadlines" in text_of(no.text)
    for step in ("searching", "review"):
        client.post(f"{url}/status", data={"csrf": csrf, "status": step})
    part = {"csrf": csrf, "status": "released_partial", "exemption": "POL 87(2)(b): victim"}
    assert client.post(f"{url}/status", data=part).status_code == 303
    page = client.get(url)
    assert 'action="' + url + '/appeals"' in page.text and "Take off" not in page.text
    ok = client.post(f"{url}/appeals", data={"csrf": csrf, "grounds": "faces over-blurred"})
    assert ok.headers["location"] == f"{url}?done=appealed"
    nothing = client.post(f"{url}/appeals/decide", data={"csrf": csrf})
    assert nothing.status_code == 422 and "Choose the appeal's outcome." in text_of(nothing.text)
    ok = client.post(f"{url}/appeals/decide", data={"csrf": csrf, "outcome": "granted"})
    assert ok.headers["location"] == f"{url}?done=decided"
    page = text_of(client.get(url).text)
    assert f"Request {number}: searching" in page and "faces over-blurred" in page
    assert "granted" in page and "reopened on appeal" in page
    assert "released in part → searching" in page  # the history, step by step


def test_queue_filters_and_pages(client, ctx, dept, creds, monkeypatch, test_clock):  # noqa: F811
    old = _new(ctx, dept, "Old Requester", received=utcnow() - timedelta(days=40))
    fresh = _new(ctx, dept, "New Requester")
    closed = _new(ctx, dept, "Gone Requester")
    workflow.change_status(ctx.sessions, dept.actor("clerk"), closed, "withdrawn")
    use_session(client, creds, "clerk")
    page = text_of(client.get("/requests").text)  # open ones by default
    assert old in page and fresh in page and closed not in page and "LATE" in page
    late = text_of(client.get("/requests", params={"late": "1"}).text)
    assert old in late and fresh not in late
    gone = text_of(client.get("/requests", params={"status": "closed"}).text)
    assert closed in gone and old not in gone
    due = text_of(client.get("/requests", params={"due": "1"}).text)
    week = report.request_report(ctx.sessions, dept.actor("clerk")).due_this_week
    assert (fresh in due) == (fresh in week) and old not in due
    found = text_of(client.get("/requests", params={"q": "new req", "status": ""}).text)
    assert fresh in found and old not in found
    bad = client.get("/requests", params={"status": "lost"})
    assert bad.status_code == 422 and "Unknown status 'lost'" in text_of(bad.text)
    monkeypatch.setattr(disclosure_pages, "PER_PAGE", 1)
    first = client.get("/requests")
    assert "page 1 of 2" in text_of(first.text) and "page=2" in first.text
    second = text_of(client.get("/requests", params={"page": 2}).text)
    assert "page 2 of 2" in second and fresh in second and old not in second
    every = client.get("/requests", params={"status": ""})  # "any" stays "any" on page 2
    assert "page 1 of 3" in text_of(every.text) and "status=&amp;page=2" in every.text


def test_report_page_shows_the_figures_with_their_counts(client, ctx, dept, creds, test_clock):  # noqa: F811
    clerk = dept.actor("clerk")
    a = _new(ctx, dept, received=utcnow() - timedelta(days=20))
    workflow.change_status(ctx.sessions, clerk, a, "denied", exemption="no records")
    appeals.file_appeal(ctx.sessions, clerk, a, "records exist")
    appeals.decide_appeal(ctx.sessions, clerk, a, "denied")
    b = _new(ctx, dept, received=utcnow() - timedelta(days=60))
    use_session(client, creds, "auditor")  # a reader
    page = client.get("/requests/report")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "2 requests, 1 open, 1 decided, 0 withdrawn" in text
    assert "over 40" in text and f'href="/requests/{b}"' in page.text
    assert "Median business days to close" in text and "Share closed late" in text
    assert re.search(r"Filed 1 pending 0 granted 0 denied 1 partly 0", text)
    assert "(1 of 1)" in text  # closed late: 1 of the 1 decided


def test_readers_see_no_forms_and_others_are_refused(client, ctx, dept, creds):
    number = _new(ctx, dept)
    url = f"/requests/{number}"
    csrf = use_session(client, creds, "auditor")
    page = client.get(url)
    assert page.status_code == 200 and "Stop on Main St" in page.text
    assert (
        "<form" not in page.text.split("</header>")[1] and 'href="/requests/new"' not in page.text
    )
    assert client.get("/requests/new").status_code == 403
    assert client.get(f"{url}/search").status_code == 403
    refused = client.post(f"{url}/status", data={"csrf": csrf, "status": "acknowledged"})
    assert refused.status_code == 403
    assert requests.get_request(ctx.sessions, dept.actor("clerk"), number).status == "received"
    for who in ("o1", "sgt_a", "equipment", "analyst", "admin", "external"):
        use_session(client, creds, who)
        assert client.get("/requests").status_code == 403, who
        assert client.get(url).status_code == 403, who
        assert client.get("/requests/report").status_code == 403, who
    assert 'href="/requests"' not in client.get("/").text
    client.cookies.clear()
    assert client.get("/requests").status_code == 303  # to the sign-in page


def test_requester_status_page_needs_the_code_and_shows_nothing_private(
    client,
    ctx,
    dept,
    creds,
    make_recording,  # noqa: F811
    vault,
):
    rid = make_recording(START, badge="1001", title="Inside 12 Elm St")
    number = _new(
        ctx, dept, "Pat Private", requester_contact="pat@example.org",
        description="my arrest at 12 Elm St", location="12 Elm St", officers=["1001"],
        range_start=START - timedelta(hours=1), range_end=START + timedelta(hours=1),
    )  # fmt: skip
    clerk = dept.actor("clerk")
    workflow.change_status(ctx.sessions, clerk, number, "acknowledged", note="called Pat")
    footage.attach(vault, clerk, number, [rid])
    code = public_status.status_code(ctx.settings.resolved_secret_key(), number)
    form = client.get("/request-status")  # no sign-in
    assert form.status_code == 200 and '<label for="number"' in form.text
    assert '<label for="code"' in form.text and "Sign out" not in form.text
    for wrong in (
        {"number": number, "code": "AAAAA-AAAAA"},
        {"number": "R-2026-999999", "code": code},
    ):
        miss = client.post("/request-status", data=wrong)
        assert miss.status_code == 404
        assert "No request matches that number and status code" in text_of(miss.text)
    hit = client.post(
        "/request-status", data={"number": number.lower(), "code": code.lower().replace("-", " ")}
    )
    assert hit.status_code == 200
    text = text_of(hit.text)
    assert f"Request {number}" in text and "Acknowledged." in text and "Decision due" in text
    for private in ("Pat", "pat@example.org", "Elm", "arrest", "1001", rid, "clerk", "called"):
        assert private not in hit.text, private
    # The code the clerk sees is the one the page accepts.
    use_session(client, creds, "clerk")
    assert code in client.get(f"/requests/{number}").text
