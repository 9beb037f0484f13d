"""Each role's home page: its own sections with real figures, a menu that shows exactly the
pages the role may open (every hidden one answers the plain 403 page), dates in the
agency's time zone, and the shared pager."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from bodycam.audit.models import AuditRecord
from bodycam.auth.permissions import ROLE_PERMISSIONS, Role
from bodycam.auth.service import actor_for
from bodycam.compliance.review_models import SupervisorReview
from bodycam.db import transaction
from bodycam.disclosure import footage, requests
from bodycam.evidence import service as ev
from bodycam.evidence.service import Vault
from bodycam.fleet.models import Camera
from bodycam.fleet.recalls import create_recall
from bodycam.web.menu import MENU
from bodycam.web.pages import has_page, paginate, templates
from tests.web.test_pages import text_of, use_session

PEOPLE = ["o1", "sgt_a", "clerk", "auditor", "external", "equipment", "analyst", "admin"]


def nav_links(page: str) -> list[str]:
    """The hrefs of the main menu of a page."""
    m = re.search(r'<nav aria-label="Main" class="menu">(.*?)</nav>', page, re.S)
    assert m, "no main menu"
    return re.findall(r'href="([^"]+)"', m.group(1))


@pytest.fixture
def world(ctx, dept, ingest):
    """Two recordings of o1 and one of o3; two open requests (one with footage); three
    cameras, two of them recalled; a pending review of o1 for sgt_a; a view by the clerk."""
    r1 = ingest(81, "1001", title="o1 first")
    ingest(82, "1001", title="o1 second")
    r3 = ingest(83, "2001", title="o3 stop")
    clerk = dept.actor("clerk")
    vault = Vault(ctx.sessions, ctx.store, ctx.settings.officer_sees_own)
    numbers = []
    for name, received in (("Reporter One", None), ("Reporter Two", date(2026, 1, 5))):
        req = requests.create_request(
            ctx.sessions,
            clerk,
            requester_name=name,
            requester_type="media",
            description="x",
            received=received,
        )
        numbers.append(req.number)
    footage.attach(vault, clerk, numbers[0], [r3.id])
    with transaction(ctx.sessions) as s:
        for serial, lot in (("CAM-1", "LOT-A"), ("CAM-2", "LOT-A"), ("CAM-3", "LOT-B")):
            s.add(Camera(serial=serial, model="AX-3", battery_lot=lot))
        s.add(
            SupervisorReview(
                cycle="2026-03",
                officer_id=dept.users["o1"].id,
                recording_id=r1.id,
                squad_id=dept.users["o1"].squad_id,
                supervisor_id=dept.users["sgt_a"].id,
                sampled_by=dept.users["admin"].id,
            )
        )
    recall = create_recall(
        ctx.sessions, dept.actor("equipment"), battery_lot="LOT-A", reason="swell"
    )
    ev.view(vault, actor_for(dept.users["clerk"], "web"), r3.id)
    return {"r1": r1, "r3": r3, "requests": numbers, "recall": recall}


def test_each_role_home_shows_its_own_sections_and_figures(client, ctx, creds, world):
    homes = {}
    for who in PEOPLE:
        use_session(client, creds, who)
        resp = client.get("/")
        assert resp.status_code == 200, (who, resp.text[:300])
        homes[who] = resp.text
    o1 = text_of(homes["o1"])
    assert 'id="my-recordings"' in homes["o1"] and 'id="my-compliance"' in homes["o1"]
    assert "2 recordings you may see" in o1  # o1's two, not o3's
    assert "o1 first" in o1 and "o3 stop" not in o1
    assert "Upload status" in o1 and "Last upload received" in o1

    sgt = text_of(homes["sgt_a"])
    assert "Squad compliance: North-A" in sgt
    assert "1 review pending in your squad, 1 assigned to you" in sgt
    assert "Cycle 2026-03: o1 (1001)" in sgt

    clerk = text_of(homes["clerk"])
    # Both acknowledgments are due within 5 business days; the backdated one is late.
    assert "2 open requests: 2 due within 5 business days or overdue, 1 late" in clerk
    for number in world["requests"]:
        assert f'href="/requests/{number}"' in homes["clerk"]
    assert re.search(r"Not started\s+1\b", clerk)  # the attached recording, no project yet

    eq = text_of(homes["equipment"])
    assert "3 cameras" in eq
    assert "1 recall with cameras outstanding" in eq
    assert re.search(r"battery lot LOT-A · (0% )?0 of 2", eq)
    assert re.search(r"recalled\s+2\b", eq) and re.search(r"retired\s+0\b", eq)

    with ctx.sessions() as s:
        records = s.scalar(select(func.count()).select_from(AuditRecord))
    aud = text_of(homes["auditor"])
    assert "Verification status" in aud and "Access in the last 24 hours" in aud
    # The home itself writes nothing to the log: the count is the log's at that moment.
    assert re.search(rf"Audit records\s+{records}\b", aud)
    assert re.search(r"\bviews\s+1\b", aud)  # the clerk's view of o3's recording
    assert "Last full verification never run" in aud

    ana = text_of(homes["analyst"])
    assert "Department recording compliance" in ana and "Evaluation and cost" in ana

    adm = text_of(homes["admin"])
    assert "11 users, 0 disabled" in adm
    assert re.search(r"records clerk\s+1\b", adm) and re.search(r"officer\s+3\b", adm)
    assert "No schedule imported yet" in adm
    assert "System health" in adm and 'href="/admin/health"' in homes["admin"]

    assert "no standing access" in text_of(homes["external"])
    # Each home shows its own sections only.
    assert 'id="request-queue"' not in homes["o1"] and 'id="my-recordings"' not in homes["clerk"]
    assert 'id="verification"' not in homes["admin"] and 'id="users"' not in homes["auditor"]


def test_menu_shows_exactly_the_pages_the_role_may_open(client, creds, world, app):
    for who in PEOPLE:
        use_session(client, creds, who)
        home = client.get("/")
        shown = set(nav_links(home.text))
        held = ROLE_PERMISSIONS[Role(creds.dept.users[who].role)]
        for entry in MENU:
            if entry.optional and not has_page(app, entry.href):
                assert entry.href not in shown, (who, entry.href)
                continue
            opens = entry.allows(held)
            assert (entry.href in shown) == opens, (who, entry.href)
            if entry.unless & held:
                continue  # a fuller entry stands in for it; the page itself may be open
            resp = client.get(entry.href)
            if opens:
                assert resp.status_code == 200, (who, entry.href, resp.status_code)
            else:
                assert resp.status_code == 403, (who, entry.href, resp.status_code)
                assert "<h1" in resp.text and "Not allowed" in resp.text
                assert "may not" in text_of(resp.text)  # a sentence, not a traceback
                assert "Traceback" not in resp.text


def test_forbidden_and_missing_pages_answer_the_plain_error_page(client, creds, world):
    use_session(client, creds, "equipment")
    resp = client.get("/admin/users")
    assert resp.status_code == 403
    text = text_of(resp.text)
    assert "Not allowed" in text and "may not list users" in text
    assert 'href="/">Back to your home page' in resp.text
    assert 'class="menu"' in resp.text  # the reader's own menu, to go on from there
    use_session(client, creds, "clerk")
    missing = client.get("/recordings/NOPE")
    assert missing.status_code == 404 and "Not found" in missing.text


def test_footer_links_and_account_link_follow_the_app(client, creds, world, app):
    use_session(client, creds, "o1")
    page = client.get("/").text
    footer = page.split("<footer>")[1]
    assert 'href="/releases"' in footer
    assert ('href="/policy"' in footer) == has_page(app, "/policy")
    assert ('href="/account"' in page) == has_page(app, "/account")


def test_dates_show_in_the_agency_time_zone():
    when = datetime(2026, 7, 1, 3, 30, tzinfo=UTC)
    out = templates.env.from_string("{{ t | local }} / {{ t | local_date }}").render(
        t=when, tz="America/New_York"
    )
    assert out == "2026-06-30 23:30:00 EDT / 2026-06-30"


def test_home_dates_use_the_agency_zone(client, creds, world, ctx):
    use_session(client, creds, "o1")
    page = client.get("/").text
    assert ctx.settings.timezone == "America/New_York"
    # Ingest times are shown converted, with the zone's abbreviation.
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d E[DS]T", page)


def test_pager_splits_a_list_into_pages():
    p = paginate(list(range(120)), 2, 50)
    assert p.items == list(range(50, 100)) and p.pages == 3 and p.total == 120
    assert paginate(list(range(120)), 9, 50).items == list(range(100, 120))  # past the end
    assert paginate([], 1, 50).pages == 1
