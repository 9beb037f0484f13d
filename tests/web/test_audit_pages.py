"""The audit search over the whole log and the "who viewed what" access report."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from bodycam.audit.actions import AuditAction
from bodycam.audit.models import AuditRecord
from bodycam.audit.overview import AuditQuery, search_log
from bodycam.auth.service import actor_for
from bodycam.db import transaction
from bodycam.evidence import service as ev
from bodycam.evidence.service import Vault
from tests.web.conftest import count_audit
from tests.web.test_pages import text_of, use_session


def _rows(page: str) -> int:
    return len(re.findall(r"<tr><td>(?:\d+|pending)</td>", page))


def test_search_filters_by_actor_action_object_and_time(client, ctx, creds, dept, ingest):
    rec = ingest(95, "1001")
    vault = Vault(ctx.sessions, ctx.store, ctx.settings.officer_sees_own)
    ev.view(vault, actor_for(dept.users["o1"], "web"), rec.id)
    ev.view(vault, actor_for(dept.users["clerk"], "web"), rec.id)
    use_session(client, creds, "auditor")
    by_o1 = client.get("/audit", params={"who": "o1", "action": "evidence:recording:view"})
    assert by_o1.status_code == 200
    assert _rows(by_o1.text) == 1 and "1 record" in text_of(by_o1.text)
    prefix = client.get("/audit", params={"action": "evidence:recording:", "object_id": rec.id})
    actions = re.findall(r"<td>(evidence:recording:[a-z_]+)</td>", prefix.text)
    assert sorted(actions) == sorted(
        ["evidence:recording:ingest"] + ["evidence:recording:view"] * 2
    )
    # A time range in the agency's zone: tomorrow has nothing, today has them all.
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    later = client.get("/audit", params={"object_id": rec.id, "from": tomorrow})
    assert "0 records" in text_of(later.text) and "No record matches." in later.text
    # Each search is itself in the log.
    assert count_audit(ctx, "audit:log:search", actor="auditor") == 3


def test_search_pages_through_a_long_log(client, ctx, creds, dept):
    auditor = actor_for(dept.users["auditor"], "cli")
    with transaction(ctx.sessions) as s:
        for i in range(60):
            s.add(
                AuditRecord.new(
                    actor_id="x",
                    actor="bulk",
                    role="officer",
                    via="cli",
                    ip="",
                    action=AuditAction.RECORDING_SEARCH.value,
                    object_type="recording",
                    object_id="*",
                    details={"n": i},
                    at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=i),
                )
            )
    use_session(client, creds, "auditor")
    first = client.get("/audit", params={"who": "bulk"})
    assert "60 records · page 1 of 2" in text_of(first.text)
    assert _rows(first.text) == 50 and "n=59" in first.text  # newest first
    assert 'href="/audit?who=bulk&amp;page=2"' in first.text
    second = client.get("/audit", params={"who": "bulk", "page": 2})
    assert _rows(second.text) == 10 and "n=0</td>" in second.text
    page = search_log(ctx.sessions, auditor, AuditQuery(actor="bulk", page=3, per_page=25))
    assert [r.details["n"] for r in page.rows] == list(range(9, -1, -1))


def test_bad_search_input_is_a_sentence(client, creds):
    use_session(client, creds, "auditor")
    bad = client.get("/audit", params={"from": "yesterday"})
    assert bad.status_code == 422
    assert "The start 'yesterday' is not a date" in text_of(bad.text)
    backwards = client.get("/audit", params={"from": "2026-03-02", "to": "2026-03-01"})
    assert "The end of the time range must be after its start." in text_of(backwards.text)


def test_access_report_says_who_viewed_what(client, ctx, creds, dept, ingest):
    rec = ingest(96, "1001")
    other = ingest(97, "2001")
    vault = Vault(ctx.sessions, ctx.store, ctx.settings.officer_sees_own)
    clerk = actor_for(dept.users["clerk"], "web")
    for _ in range(2):
        ev.view(vault, clerk, rec.id)
    _, _, chunks = ev.open_stream(vault, clerk, rec.id, "bytes=0-9")
    for _ in chunks:
        pass
    ev.view(vault, actor_for(dept.users["o1"], "web"), rec.id)
    ev.view(vault, clerk, other.id)
    use_session(client, creds, "auditor")
    page = client.get("/audit/access", params={"recording": rec.id})
    assert page.status_code == 200
    lines = re.findall(
        r'user=(\w+)">.*?</td>\s*<td><a href="/audit/access\?recording=(\w+)">'
        r".*?<td>([a-z -]+)</td><td>(\d+)</td>",
        page.text,
        re.S,
    )
    assert sorted(lines) == sorted(
        [
            ("clerk", rec.id, "view", "2"),
            ("clerk", rec.id, "stream", "1"),
            ("o1", rec.id, "view", "1"),
        ]
    )
    assert "3 views" in text_of(page.text) and "1 stream" in text_of(page.text)
    by_user = client.get("/audit/access", params={"user": "o1"})
    assert other.id not in by_user.text and rec.id in by_user.text
    clerks = client.get("/audit/access", params={"user": "clerk"}).text
    assert other.id in clerks
    assert count_audit(ctx, "audit:access:report", actor="auditor") == 3


def test_only_auditors_read_the_log(client, ctx, creds):
    for who in ("o1", "clerk", "admin", "equipment"):
        use_session(client, creds, who)
        for path in ("/audit", "/audit/access"):
            resp = client.get(path)
            assert resp.status_code == 403, (who, path)
            assert "may not" in text_of(resp.text)
    assert count_audit(ctx, "audit:log:search") == 0
    assert count_audit(ctx, "access:request:denied", actor="admin") >= 2
