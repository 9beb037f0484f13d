"""The access layer asks the policy: each rule in each of its settings, refusals and later
views audited, statements by recording, case or dispatch event. Both engines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.auth.actor import PermissionDenied
from bodycam.compliance.models import (
    CadImportBatch,
    ComplianceResult,
    DispatchAssignment,
    DispatchEvent,
)
from bodycam.db import transaction
from bodycam.evidence import service as ev
from bodycam.policy.document import PolicyError
from bodycam.policy.enforce import list_statements, record_statement


@pytest.fixture
def recs(vault, dept, clips, scheduled) -> dict[str, str]:
    """o1's recordings: a critical one (Use of Force, case 26-1), a traffic stop, and o3's."""
    clerk = dept.actor("clerk")
    return {
        "critical": ev.ingest_file(
            vault, clerk, clips(81), officer_badge="1001", category="Use of Force", cases=["26-1"]
        ).id,
        "traffic": ev.ingest_file(
            vault, clerk, clips(82), officer_badge="1001", category="Traffic Stop"
        ).id,
        "tagged": ev.ingest_file(
            vault, clerk, clips(83), officer_badge="1001", tags=["critical-incident"]
        ).id,
    }


def actions(ctx, object_id: str) -> list[str]:
    with ctx.sessions() as s:
        rows = s.scalars(
            select(AuditRecord).where(AuditRecord.object_id == object_id).order_by(AuditRecord.pk)
        ).all()
        return [r.action for r in rows]


def test_allowed_lets_officers_open_their_critical_footage(vault, dept, apply, recs):
    apply(own_footage='"allowed"')
    assert ev.view(vault, dept.actor("o1"), recs["critical"]).recording.id == recs["critical"]


def test_statement_first_for_critical_refuses_then_allows_after_the_statement(
    ctx, vault, dept, apply, recs
):
    apply(own_footage='"never_before_statement_for_critical"')
    o1 = dept.actor("o1")
    ev.view(vault, o1, recs["traffic"])  # not critical: allowed
    for rid, why in ((recs["critical"], "category Use of Force"), (recs["tagged"], "tag")):
        with pytest.raises(PermissionDenied) as caught:
            ev.view(vault, o1, rid)
        message = str(caught.value)
        assert message.startswith(f"You may not open recording {rid} yet: under the camera")
        assert "version 1, 'example-2026-01'" in message and why in message
        assert "only after giving their initial statement" in message
    with pytest.raises(PermissionDenied):
        ev.open_stream(vault, o1, recs["critical"], "bytes=0-9")
    with ctx.sessions() as s:
        refused = s.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "policy:recording:refused")
            .order_by(AuditRecord.pk)
        ).all()
    assert len(refused) == 3
    assert refused[0].details["rule"] == (
        "officer_viewing.own_footage = never_before_statement_for_critical"
    )
    assert refused[0].details["critical"] == "category Use of Force"
    assert refused[2].details["attempted"] == f"play recording {recs['critical']}"
    assert actions(ctx, recs["critical"]).count("access:request:denied") == 2
    assert "evidence:recording:view" not in actions(ctx, recs["critical"])

    record_statement(
        ctx.sessions, dept.actor("sgt_a"), officer_badge="1001", recording_id=recs["critical"]
    )
    assert ev.view(vault, o1, recs["critical"]).recording.id == recs["critical"]
    _, _, chunks = ev.open_stream(vault, o1, recs["critical"], "bytes=0-9")
    assert len(b"".join(chunks)) == 10
    trail = actions(ctx, recs["critical"])
    assert trail[-3:] == [
        "policy:statement:record",
        "evidence:recording:view",
        "evidence:recording:stream",
    ]
    with pytest.raises(PermissionDenied):  # the statement covers that recording only
        ev.view(vault, o1, recs["tagged"])


def test_after_statement_covers_all_own_footage_and_a_case_statement_opens_it(
    ctx, vault, dept, apply, recs
):
    apply(own_footage='"after_statement"')
    o1 = dept.actor("o1")
    with pytest.raises(PermissionDenied, match="officers watch their own footage only after"):
        ev.view(vault, o1, recs["traffic"])
    record_statement(ctx.sessions, dept.actor("auditor"), officer_badge="1001", event="26-1")
    ev.view(vault, o1, recs["critical"])  # the recording carries case 26-1
    with pytest.raises(PermissionDenied):
        ev.view(vault, o1, recs["traffic"])
    ev.view(vault, dept.actor("sgt_a"), recs["traffic"])  # the rule is about one's own footage


def test_a_dispatch_event_statement_covers_the_recordings_matched_to_it(
    ctx, vault, dept, apply, recs
):
    apply(own_footage='"after_statement"')
    o1 = dept.users["o1"]
    with transaction(ctx.sessions) as s:
        batch = CadImportBatch(
            file_name="x.csv", sha256="0" * 64, mapping="t", rows=1, report={}, imported_by=o1.id
        )
        s.add(batch)
        s.flush()
        s.add(DispatchEvent(event_id="D26-7", batch_id=batch.id))
        s.flush()
        assignment = DispatchAssignment(event_id="D26-7", badge="1001", officer_id=o1.id)
        s.add(assignment)
        s.flush()
        s.add(
            ComplianceResult(
                assignment_id=assignment.id,
                event_id="D26-7",
                officer_id=o1.id,
                status="recorded",
                recordings=[recs["traffic"]],
            )
        )
    record_statement(ctx.sessions, dept.actor("sgt_a"), officer_badge="1001", event="D26-7")
    ev.view(vault, dept.actor("o1"), recs["traffic"])
    with pytest.raises(PermissionDenied):
        ev.view(vault, dept.actor("o1"), recs["critical"])


def test_a_recording_is_judged_under_the_version_in_force_when_it_was_made(
    ctx, vault, dept, apply, clips, scheduled
):
    apply(version='"v1"', effective_from="2026-01-01", own_footage='"allowed"')
    apply(version='"v2"', effective_from="2026-04-01", own_footage='"after_statement"')
    clerk = dept.actor("clerk")
    march = ev.ingest_file(vault, clerk, clips(84), officer_badge="1001").id
    may = ev.ingest_file(
        vault,
        clerk,
        clips(85),
        officer_badge="1001",
        recorded_start=datetime(2026, 5, 2, 9, 0, tzinfo=UTC),
    ).id
    ev.view(vault, dept.actor("o1"), march)  # made under v1: allowed
    with pytest.raises(PermissionDenied, match="version 2, 'v2'"):
        ev.view(vault, dept.actor("o1"), may)


def test_supervisors_squad_or_squad_except_critical(ctx, vault, dept, apply, recs):
    apply(version='"v1"', supervisors='"squad"')
    ev.view(vault, dept.actor("sgt_a"), recs["critical"])
    apply(version='"v2"', effective_from="2026-02-01", supervisors='"squad_except_critical"')
    with pytest.raises(PermissionDenied, match="supervisors do not open critical-incident"):
        ev.view(vault, dept.actor("sgt_a"), recs["critical"])
    ev.view(vault, dept.actor("sgt_a"), recs["traffic"])
    ev.view(vault, dept.actor("auditor"), recs["critical"])  # investigators: any
    ev.view(vault, dept.actor("clerk"), recs["critical"])


def test_who_records_statements_and_what_is_checked(ctx, vault, dept, apply, recs):
    apply()
    with pytest.raises(PermissionDenied, match="not in their squad"):
        record_statement(
            ctx.sessions, dept.actor("sgt_b"), officer_badge="1001", recording_id=recs["critical"]
        )
    with pytest.raises(PermissionDenied, match="policy:statement:record"):
        record_statement(
            ctx.sessions, dept.actor("o1"), officer_badge="1001", recording_id=recs["critical"]
        )
    denied = [a for a in actions(ctx, dept.users["o1"].id) if a == "access:request:denied"]
    assert len(denied) == 1  # sgt_b's refusal, on the officer
    with pytest.raises(PolicyError, match="was not recorded by the officer with badge 1002"):
        record_statement(
            ctx.sessions, dept.actor("sgt_a"), officer_badge="1002", recording_id=recs["critical"]
        )
    with pytest.raises(PolicyError, match="name exactly one"):
        record_statement(ctx.sessions, dept.actor("sgt_a"), officer_badge="1001")
    with pytest.raises(PolicyError, match="given_at: is in the future"):
        record_statement(
            ctx.sessions,
            dept.actor("sgt_a"),
            officer_badge="1001",
            event="26-1",
            given_at=datetime(2999, 1, 1, tzinfo=UTC),
        )
    record_statement(ctx.sessions, dept.actor("auditor"), officer_badge="2001", event="26-9")
    record_statement(ctx.sessions, dept.actor("sgt_a"), officer_badge="1001", event="26-1")
    assert [v.badge for v in list_statements(ctx.sessions, dept.actor("sgt_a"))] == ["1001"]
    assert {v.badge for v in list_statements(ctx.sessions, dept.actor("auditor"))} == {
        "1001",
        "2001",
    }
