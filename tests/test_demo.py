"""`bodycam demo build` on a small department: every domain's part runs and verifies."""

from __future__ import annotations

from sqlalchemy import func, select

from bodycam.compliance.models import CadImportBatch, DispatchEvent
from bodycam.config import Settings
from bodycam.context import Context
from bodycam.demo import build_demo
from bodycam.evidence.models import Recording
from bodycam.redaction.models import CopyStatus, RedactedCopy, RedactionProject
from bodycam.retention.models import LegalHold, RetentionSchedule


def test_demo_builds_a_department_and_is_idempotent(tmp_path, capsys):
    home = tmp_path / "demo"
    build_demo(home, officers=4, clips=4)
    first = "".join(capsys.readouterr())
    assert "verify: OK" in first and "1 redacted copies" in first
    assert "redaction project" in first
    assert "retention schedule v1 in force" in first and "one query hold" in first
    assert "dispatch data" in first and "matched to officers" in first
    assert "compliance under recording-rules.toml" in first
    build_demo(home, officers=4, clips=4)  # a second run reuses everything
    assert "verify: OK" in "".join(capsys.readouterr())
    ctx = Context.from_settings(Settings(home=home))
    try:
        with ctx.sessions() as s:
            assert s.scalar(select(func.count()).select_from(Recording)) == 5  # 4 + the faces
            assert s.scalar(select(func.count()).select_from(RedactionProject)) == 1
            copy = s.scalars(select(RedactedCopy)).one()
            assert copy.status == CopyStatus.APPROVED
            assert s.scalar(select(func.count()).select_from(RetentionSchedule)) == 1
            assert s.scalar(select(func.count()).select_from(DispatchEvent)) == 4
            assert s.scalar(select(func.count()).select_from(CadImportBatch)) == 1
            kinds = [h.kind for h in s.scalars(select(LegalHold))]
            # a case on hold when the clips carry case numbers, and the query hold
            assert "query" in kinds and len(kinds) <= 3
    finally:
        ctx.close()
