"""Records are their hashed bodies: queries read them, the parallel verifier hashes them,
and the migration that introduced them kept every earlier leaf hash valid."""

from __future__ import annotations

import json
import random
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from sqlalchemy import select, text, update

from bodycam.audit import fastverify
from bodycam.audit.actions import AuditAction
from bodycam.audit.canonical import canonical_bytes
from bodycam.audit.merkle import leaf_hash, root_from_leaf_hashes
from bodycam.audit.models import AuditCheckpoint, AuditRecord, record_dict
from bodycam.audit.service import record, seal, verify_log
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Role
from bodycam.db import make_engine, transaction, upgrade

ACTOR = Actor.for_user(
    user_id="u1", username="zoë", role=Role.AUDITOR, badge=None, squad_id=None, via="cli", ip="::1"
)


def _add(ctx, n: int, start: int = 0) -> None:
    with transaction(ctx.sessions) as s:
        for i in range(start, start + n):
            record(s, ACTOR, AuditAction.RECORDING_VIEW, "recording", f"r{i % 7}", {"i": i})


def test_fields_come_from_the_body_in_python_and_in_sql(ctx):
    _add(ctx, 10)
    seal(ctx.sessions, ctx.signer)
    with ctx.sessions() as s:
        rows = list(
            s.scalars(
                select(AuditRecord)
                .where(AuditRecord.object_id == "r3", AuditRecord.action.like("evidence:%"))
                .order_by(AuditRecord.at)
            )
        )
        assert [r.details["i"] for r in rows] == [3]
        rec = rows[0]
        assert rec.actor == "zoë" and rec.ip == "::1" and rec.object_type == "recording"
        assert rec.at.tzinfo is not None
        assert json.loads(rec.body)["seq"] == rec.seq
        assert leaf_hash(rec.body.encode()) == rec.leaf_hash
        # Datetimes compare as RFC 3339 text in SQL.
        since = rec.at - timedelta(microseconds=1)
        assert s.scalar(select(sa.func.count()).where(AuditRecord.at > since)) >= 1
        assert s.scalar(select(AuditRecord.pk).where(AuditRecord.id == rec.id)) == rec.pk
        details = s.scalars(select(AuditRecord.details).where(AuditRecord.id == rec.id)).one()
        assert details == {"i": 3}


def test_a_body_must_be_json_and_ids_unique(ctx):
    _add(ctx, 2)
    with ctx.sessions() as s:
        first, second = s.scalars(select(AuditRecord).order_by(AuditRecord.pk)).all()
        dup = second.as_hashed_dict() | {"id": first.id}
        with pytest.raises(sa.exc.IntegrityError):
            s.execute(
                update(AuditRecord)
                .where(AuditRecord.pk == second.pk)
                .values(body=canonical_bytes(dup).decode())
            )
        s.rollback()
        with pytest.raises(sa.exc.DBAPIError):
            s.execute(update(AuditRecord).where(AuditRecord.pk == second.pk).values(body="{no"))
        s.rollback()


@pytest.fixture
def sqlite_ctx(tmp_path):
    """A deployment on its own SQLite file (the parallel verifier reads SQLite files)."""
    from bodycam.config import Settings
    from bodycam.context import Context

    home = tmp_path / "home"
    home.mkdir()
    url = f"sqlite:///{home / 'bodycam.db'}"
    upgrade(url)
    settings = Settings(home=home, database_url=url, storage_url=f"file://{home / 'blobs'}")
    context = Context.from_settings(settings, create_key=True)
    yield context
    context.close()


def test_sqlite_queries_use_the_expression_indexes(sqlite_ctx):
    ctx = sqlite_ctx
    query = select(AuditRecord).where(
        AuditRecord.object_type.in_(["recording", "request"]), AuditRecord.object_id == "r1"
    )
    sql = str(query.compile(ctx.engine, compile_kwargs={"literal_binds": True}))
    with ctx.engine.connect() as c:
        plan = " ".join(str(r[-1]) for r in c.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
        assert "ix_audit_records_object" in plan
        by_id = "SELECT pk FROM audit_records WHERE json_extract(body, '$.id') = 'x'"
        plan = " ".join(str(r[-1]) for r in c.execute(text(f"EXPLAIN QUERY PLAN {by_id}")))
        assert "ix_audit_records_id" in plan


# --- the parallel verifier -------------------------------------------------------------


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8, 13, 16, 17, 31, 32, 33, 100, 129])
def test_chunked_roots_equal_the_reference_roots(size):
    rng = random.Random(size)
    leaves = [rng.randbytes(32) for _ in range(size)]
    chunk = 4
    results = []
    cuts = sorted({1, size, *rng.sample(range(1, size + 1), min(size, 6))})
    for lo in range(0, size, chunk):
        hi = min(lo + chunk, size)
        levels = fastverify._levels(leaves[lo:hi])
        prefixes = {c: fastverify.prefix_root(levels, c - lo) for c in cuts if lo < c < hi}
        results.append(fastverify.ChunkResult(lo, hi, True, levels[-1][0], prefixes))
    roots = fastverify.combine(results, cuts)
    assert roots == {c: root_from_leaf_hashes(leaves[:c]) for c in cuts}


@pytest.fixture
def long_log(sqlite_ctx):
    ctx = sqlite_ctx
    for step in range(5):
        _add(ctx, 37 + step * 11, step * 100)
        seal(ctx.sessions, ctx.signer)
    return ctx


def _verify(ctx, **kw):
    return verify_log(ctx.sessions, ctx.signer.public_key, ctx.signer.key_name, **kw)


def test_parallel_verification_matches_the_signed_roots(long_log):
    ctx = long_log
    with ctx.sessions() as s:
        cps = {c.tree_size: bytes(c.root_hash) for c in s.scalars(select(AuditCheckpoint))}
    size = max(cps)
    roots = fastverify.parallel_roots(
        ctx.engine.url.database, size, sorted(cps), workers=2, chunk_bits=4
    )
    assert roots == cps
    report = _verify(ctx, workers=2, chunk_bits=4)
    assert report.problems == [] and report.records == size and report.checkpoints == 5


def test_parallel_verification_hands_problems_to_the_sequential_check(long_log):
    ctx = long_log
    with transaction(ctx.sessions) as s:
        body = s.scalar(select(AuditRecord.body).where(AuditRecord.seq == 77))
        s.execute(
            update(AuditRecord)
            .where(AuditRecord.seq == 77)
            .values(body=body.replace('"zoë"', '"eve"'))
        )
    size = sum(37 + step * 11 for step in range(5))
    with ctx.sessions() as s:
        sizes = sorted(s.scalars(select(AuditCheckpoint.tree_size)))
    assert (
        fastverify.parallel_roots(ctx.engine.url.database, size, sizes, workers=2, chunk_bits=4)
        is None
    )
    problems = _verify(ctx, workers=2, chunk_bits=4).problems
    assert any("#77 " in p and "changed after it was sealed" in p for p in problems)


def test_a_rehashed_change_fails_the_parallel_roots(long_log):
    """Body and stored leaf both rewritten: only the signed roots can tell."""
    ctx = long_log
    with transaction(ctx.sessions) as s:
        rec = s.scalars(select(AuditRecord).where(AuditRecord.seq == 40)).one()
        fields = rec.as_hashed_dict() | {"actor": "eve"}
        rec.body = canonical_bytes(fields).decode()
        rec.leaf_hash = leaf_hash(canonical_bytes(fields))
    problems = _verify(ctx, workers=2, chunk_bits=4).problems
    assert any("does not match the signed checkpoint" in p for p in problems)


# --- the migration to bodies -----------------------------------------------------------


def test_migrating_to_bodies_keeps_every_leaf_hash(empty_url):
    old_database = empty_url
    upgrade(old_database, "0001")
    engine = make_engine(old_database)
    start = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
    old = sa.table(
        "audit_records",
        *(sa.column(n) for n in ("id", "seq", "at", "actor_id", "actor", "role", "via", "ip")),
        *(sa.column(n) for n in ("action", "object_type", "object_id", "leaf_hash")),
        sa.column("details", sa.JSON()),
    )
    names = ("id", "seq", "at", "actor_id", "actor", "role", "via", "ip", "action",
             "object_type", "object_id", "details")  # fmt: skip
    rows, leaves = [], []
    for i in range(12):
        at = start + timedelta(seconds=i, microseconds=7)
        seq = i if i < 9 else None  # nine sealed, three pending
        details = {"n": i, "é": [1, None]}
        values = (f"01J{i:023d}", seq, at, "u9", "renée", "auditor", "web", "10.0.0.9",
                  "evidence:recording:view", "recording", f"rec{i}", details)  # fmt: skip
        lh = leaf_hash(canonical_bytes(record_dict(*values))) if seq is not None else None
        if lh:
            leaves.append(lh)
        row = dict(zip(names, values, strict=True)) | {"leaf_hash": lh}
        if engine.dialect.name == "sqlite":
            row["at"] = at.replace(tzinfo=None)
        rows.append(row)
    with engine.begin() as c:
        c.execute(sa.insert(old), rows)
    engine.dispose()

    upgrade(old_database)

    engine = make_engine(old_database)
    with engine.connect() as c:
        got = c.execute(
            select(AuditRecord.seq, AuditRecord.body, AuditRecord.leaf_hash).order_by(
                AuditRecord.pk
            )
        ).all()
    engine.dispose()
    assert [g.seq for g in got] == [*range(9), None, None, None]
    for g in got[:9]:
        assert leaf_hash(g.body.encode()) == bytes(g.leaf_hash)
    assert [leaf_hash(g.body.encode()) for g in got[:9]] == leaves
    body = json.loads(got[10].body)
    assert body["seq"] is None and body["object_id"] == "rec10" and body["actor"] == "renée"
    assert body["at"] == "2026-03-01T08:00:10.000007Z" and body["details"] == {
        "n": 10,
        "é": [1, None],
    }
