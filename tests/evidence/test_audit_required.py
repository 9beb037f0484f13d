"""Invariant 2: if the audit record cannot be written, the action is refused."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from bodycam.evidence import service as ev


def break_audit(ctx) -> None:
    """Make every insert into audit_records fail, as a full disk or a revoked grant would."""
    with ctx.engine.begin() as c:
        if c.dialect.name == "sqlite":
            c.execute(
                text(
                    "CREATE TRIGGER no_audit BEFORE INSERT ON audit_records "
                    "BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END"
                )
            )
        else:
            c.execute(
                text(
                    "CREATE OR REPLACE FUNCTION no_audit() RETURNS trigger AS $$ BEGIN "
                    "RAISE EXCEPTION 'audit log unavailable'; END $$ LANGUAGE plpgsql"
                )
            )
            c.execute(
                text(
                    "CREATE TRIGGER no_audit BEFORE INSERT ON audit_records "
                    "FOR EACH ROW EXECUTE FUNCTION no_audit()"
                )
            )


def repair_audit(ctx) -> None:
    with ctx.engine.begin() as c:
        c.execute(
            text(
                "DROP TRIGGER no_audit"
                + ("" if c.dialect.name == "sqlite" else " ON audit_records")
            )
        )


def test_actions_are_refused_when_the_audit_log_cannot_be_written(ctx, dept, vault, clips):
    rid = ev.ingest_file(vault, dept.actor("clerk"), clips(31), officer_badge="1001").id
    break_audit(ctx)
    try:
        with pytest.raises(DBAPIError, match="audit log unavailable"):
            ev.edit(vault, dept.actor("clerk"), rid, {"title": "changed"})
        with pytest.raises(DBAPIError):
            ev.view(vault, dept.actor("clerk"), rid)
        with pytest.raises(DBAPIError):
            ev.open_stream(vault, dept.actor("clerk"), rid, None, download=True)
        with pytest.raises(DBAPIError):
            ev.ingest_file(vault, dept.actor("clerk"), clips(32), officer_badge="1001")
    finally:
        repair_audit(ctx)
    v = ev.view(vault, dept.actor("clerk"), rid)
    assert v.recording.title != "changed" and v.edits == []
    from sqlalchemy import func, select

    from bodycam.evidence.models import Recording

    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Recording)) == 1
