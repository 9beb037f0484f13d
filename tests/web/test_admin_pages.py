"""User administration pages and the system health page."""

from __future__ import annotations

import re

from sqlalchemy import text

from bodycam.auth.models import User
from bodycam.auth.service import get_user
from bodycam.db import alembic_config, transaction
from bodycam.jobs.models import Job
from bodycam.web.deps import SESSION_COOKIE
from tests.web.conftest import count_audit
from tests.web.test_pages import text_of, use_session


def _user(ctx, name: str) -> User | None:
    with ctx.sessions() as s:
        user = get_user(s, name)
        if user is not None:
            s.expunge(user)
        return user


def test_admin_lists_users_with_roles_and_status_and_filters(client, creds, dept):
    use_session(client, creds, "admin")
    page = client.get("/admin/users")
    assert page.status_code == 200
    body = text_of(page.text)
    assert "11 users, 0 disabled" in body
    for name in dept.users:
        assert f'id="user-{name}"' in page.text
    row = page.text.split('id="user-sgt_a"')[1].split("</tr>")[0]
    assert "supervisor" in row and "9001" in row and "North-A" in row and "active" in row
    officers = client.get("/admin/users", params={"role": "officer"}).text
    assert re.findall(r'id="user-([^"]+)"', officers) == ["o1", "o2", "o3"]
    found = client.get("/admin/users", params={"q": "2001"}).text
    assert re.findall(r'id="user-([^"]+)"', found) == ["o3"]


def test_create_change_role_disable_and_enable(client, ctx, creds):
    csrf = use_session(client, creds, "admin")
    made = client.post(
        "/admin/users",
        data={
            "csrf": csrf,
            "username": "clerk2",
            "role": "records_clerk",
            "display_name": "Second Clerk",
            "squad": "Records",
            "password": "a long enough password 1",
        },
    )
    assert made.status_code == 303 and made.headers["location"] == "/admin/users?done=created"
    user = _user(ctx, "clerk2")
    assert user is not None and user.role == "records_clerk" and user.password_hash
    assert count_audit(ctx, "auth:user:create", actor="admin", object_id=user.id) == 1
    assert "The user is created" in client.get(made.headers["location"]).text

    role = client.post("/admin/users/clerk2/role", data={"csrf": csrf, "role": "auditor"})
    assert role.headers["location"] == "/admin/users?done=role"
    assert _user(ctx, "clerk2").role == "auditor"

    # Disabling ends the user's session at once.
    sid, _ = creds.new_session("o2")
    off = client.post("/admin/users/o2/active", data={"csrf": csrf, "active": "0"})
    assert off.headers["location"] == "/admin/users?done=disabled"
    assert _user(ctx, "o2").active is False
    assert count_audit(ctx, "auth:user:update", actor="admin", object_id=_user(ctx, "o2").id) >= 1
    client.cookies.clear()
    client.cookies.set(SESSION_COOKIE, sid)
    assert client.get("/").status_code == 303  # back to sign-in
    csrf = use_session(client, creds, "admin")
    listed = client.get("/admin/users").text
    assert "disabled" in listed.split('id="user-o2"')[1].split("</tr>")[0]
    on = client.post("/admin/users/o2/active", data={"csrf": csrf, "active": "1"})
    assert on.headers["location"] == "/admin/users?done=enabled"
    assert _user(ctx, "o2").active is True


def test_bad_changes_are_sentences_and_change_nothing(client, ctx, creds):
    csrf = use_session(client, creds, "admin")
    dup = client.post("/admin/users", data={"csrf": csrf, "username": "o1", "role": "officer"})
    assert dup.status_code == 422 and "A user named o1 already exists." in text_of(dup.text)
    bad_role = client.post("/admin/users", data={"csrf": csrf, "username": "x1", "role": "chief"})
    assert bad_role.status_code == 422 and "Unknown role 'chief'" in text_of(bad_role.text)
    assert _user(ctx, "x1") is None
    self_off = client.post("/admin/users/admin/active", data={"csrf": csrf, "active": "0"})
    assert "You cannot disable your own account." in text_of(self_off.text)
    stale = client.post("/admin/users/o1/role", data={"csrf": "wrong", "role": "auditor"})
    assert stale.status_code == 422 and "The form expired" in text_of(stale.text)
    assert _user(ctx, "o1").role == "officer"
    nobody = client.post("/admin/users/ghost/role", data={"csrf": csrf, "role": "auditor"})
    assert "There is no user named ghost." in text_of(nobody.text)


def test_readers_see_no_forms_and_others_are_refused(client, ctx, creds):
    csrf = use_session(client, creds, "auditor")
    page = client.get("/admin/users")
    assert page.status_code == 200 and "Create a user" not in page.text
    assert "Set role" not in page.text
    refused = client.post("/admin/users/o1/role", data={"csrf": csrf, "role": "auditor"})
    assert refused.status_code == 403 and _user(ctx, "o1").role == "officer"
    assert client.get("/admin/health").status_code == 403
    for who in ("o1", "clerk", "equipment"):
        use_session(client, creds, who)
        resp = client.get("/admin/users")
        assert resp.status_code == 403 and "may not list users" in text_of(resp.text)
    assert count_audit(ctx, "access:request:denied", actor="clerk") >= 1


def test_health_page_shows_the_real_state(client, ctx, creds, dept, ingest):
    rec = ingest(91, "1001")
    with transaction(ctx.sessions) as s:
        for status in ("queued", "queued", "done", "quarantined"):
            s.add(Job(kind="test.kind", status=status, created_by=dept.users["admin"].id))
    use_session(client, creds, "admin")
    page = client.get("/admin/health")
    assert page.status_code == 200
    body = text_of(page.text)
    from alembic.script import ScriptDirectory

    url = ctx.settings.resolved_database_url
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    with ctx.engine.connect() as c:
        revision = c.execute(text("SELECT version_num FROM alembic_version")).scalar()
    assert revision == head
    engine = ctx.engine.dialect.name
    assert re.search(rf"Engine {engine}\b", body)
    assert f"Migration revision {head} (current)" in body
    jobs = page.text.split('id="jobs"')[1].split("</section>")[0]
    assert re.search(r"<td>queued</td><td>2</td>", jobs)
    assert re.search(r"<td>quarantined</td><td class=\"bad\">1</td>", jobs)
    assert "1 background job failed every attempt." in body
    size = rec.path.stat().st_size
    storage = page.text.split('id="storage"')[1].split("</section>")[0]
    assert re.search(rf"<td>hot</td><td>1</td><td>.*\({size}\)", storage)
    assert "Last scrub not run yet" in body
    assert "Last full verification never run" in body
