"""Applied versions: audited, kept, in force by effective date, compared. Both engines."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.policy.document import PolicyError
from bodycam.policy.service import diff_documents, get_version, list_versions, policy_in_force


def test_versions_are_audited_kept_and_in_force_by_date(ctx, dept, apply):
    first = apply(version='"v1"', effective_from="2026-01-01")
    second = apply(version='"v2"', effective_from="2026-04-01", own_footage='"after_statement"')
    assert (first.version, second.version) == (1, 2)
    with ctx.sessions() as s:
        assert policy_in_force(s, datetime(2025, 12, 31, tzinfo=UTC)) is None
        march = policy_in_force(s, datetime(2026, 3, 31, 23, 59, tzinfo=UTC))
        april = policy_in_force(s, datetime(2026, 4, 1, tzinfo=UTC))
        assert march is not None and april is not None
        assert (march.version, march.doc.officer_viewing.own_footage) == (
            1,
            "never_before_statement_for_critical",
        )
        assert (april.version, april.doc.officer_viewing.own_footage) == (2, "after_statement")
        record = s.scalars(
            select(AuditRecord)
            .where(AuditRecord.action == "policy:document:apply")
            .order_by(AuditRecord.pk)
        ).all()
    assert [r.details["label"] for r in record] == ["v1", "v2"]
    assert record[1].details["rules_file"] == "recording-rules.toml"
    assert record[1].details["sha256"] == second.sha256
    versions = list_versions(ctx.sessions)
    assert [v.version for v in versions] == [2, 1]
    assert versions[1].until == datetime(2026, 4, 1, tzinfo=UTC) and versions[0].until is None
    assert "example-2026" in get_version(ctx.sessions, 1).rules_body  # the rules snapshot


def test_the_same_document_or_version_name_is_not_applied_twice(ctx, dept, apply):
    apply(version='"v1"')
    with pytest.raises(PolicyError, match="already version 1; nothing applied"):
        apply(version='"v1"')
    with pytest.raises(PolicyError, match="'v1' already names version 1"):
        apply(version='"v1"', session_minutes="30")
    assert [v.version for v in list_versions(ctx.sessions)] == [1]
    with pytest.raises(LookupError, match="no policy version 9"):
        get_version(ctx.sessions, 9)


def test_differences_name_each_changed_setting(ctx, dept, apply):
    apply(version='"v1"')
    apply(version='"v2"', own_footage='"allowed"', session_minutes="30")
    old, new = get_version(ctx.sessions, 1).doc, get_version(ctx.sessions, 2).doc
    sentences = [c.sentence for c in diff_documents(old, new)]
    assert sentences == [
        "policy.version changed from 'v1' to 'v2'.",
        "officer_viewing.own_footage changed from 'never_before_statement_for_critical' to "
        "'allowed'.",
        "complainant.session_minutes changed from 60 to 30.",
    ]
