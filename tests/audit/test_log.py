"""The audit log in the database: sealing, proofs, and detection of every kind of tampering."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete, select, update

from bodycam.audit.actions import AuditAction
from bodycam.audit.models import AuditCheckpoint, AuditRecord, AuditTreeState
from bodycam.audit.service import proof_document, record, seal, verify_log
from bodycam.audit.signing import load_or_create_signing_key, public_key_pem
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Role
from bodycam.db import transaction

ROOT = Path(__file__).resolve().parents[2]
ACTOR = Actor.for_user(
    user_id="u1",
    username="alice",
    role=Role.AUDITOR,
    badge=None,
    squad_id=None,
    via="test",
    ip="10.0.0.1",
)


def add_records(ctx, n: int, start: int = 0) -> list[str]:
    ids = []
    with transaction(ctx.sessions) as s:
        for i in range(start, start + n):
            ids.append(
                record(
                    s,
                    ACTOR,
                    AuditAction.RECORDING_VIEW,
                    "recording",
                    f"rec{i}",
                    {"i": i, "note": "ünïcode", "ratio": 0.5},
                ).id
            )
    return ids


def check(ctx) -> list[str]:
    return verify_log(ctx.sessions, ctx.signer.public_key, ctx.signer.key_name).problems


def test_seal_numbers_records_and_signs_checkpoints(ctx):
    add_records(ctx, 5)
    cp1 = seal(ctx.sessions, ctx.signer)
    assert cp1 is not None and cp1.tree_size == 5
    assert seal(ctx.sessions, ctx.signer) is None
    add_records(ctx, 3, 5)
    cp2 = seal(ctx.sessions, ctx.signer)
    assert cp2.tree_size == 8
    with ctx.sessions() as s:
        seqs = list(s.scalars(select(AuditRecord.seq).order_by(AuditRecord.seq)))
        assert seqs == list(range(8))
        assert s.get(AuditTreeState, 1).tree_size == 8
    report = verify_log(ctx.sessions, ctx.signer.public_key, ctx.signer.key_name)
    assert report.problems == [] and report.records == 8 and report.checkpoints == 2


def test_floats_in_details_are_stored_as_text(ctx):
    add_records(ctx, 1)
    with ctx.sessions() as s:
        assert s.scalars(select(AuditRecord)).one().details["ratio"] == "0.5"


def test_proof_checked_by_the_standalone_tool(ctx, tmp_path):
    ids = add_records(ctx, 37)
    seal(ctx.sessions, ctx.signer)
    add_records(ctx, 4, 37)
    doc = proof_document(ctx.sessions, ctx.signer, ACTOR, ids[11])
    assert doc["tree_size"] == 42 and doc["leaf_index"] == 11  # 41 + the proof's own record
    proof = tmp_path / "proof.json"
    proof.write_text(json.dumps(doc))
    key = tmp_path / "key.pem"
    key.write_text(public_key_pem(ctx.signer.private_key))
    tool = tmp_path / "verify_proof.py"
    tool.write_text((ROOT / "tools" / "verify_proof.py").read_text())
    ok = subprocess.run(
        [sys.executable, "-I", str(tool), str(proof), "--public-key", str(key)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert ok.returncode == 0, ok.stderr
    assert f"record {ids[11]} is entry 11 of 42" in ok.stdout
    other = tmp_path / "other.pem"
    other.write_text(public_key_pem(load_or_create_signing_key(tmp_path / "k2.pem")))
    bad = subprocess.run(
        [sys.executable, "-I", str(tool), str(proof), "--public-key", str(other)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert bad.returncode == 1


def test_unknown_record_proof_is_a_sentence(ctx):
    with pytest.raises(LookupError, match="no audit record with id nope"):
        proof_document(ctx.sessions, ctx.signer, ACTOR, "nope")


# --- tampering: each mutation is one a database administrator could make ---------------

N = 24


def _edit_body(s, seq, edit):
    """Rewrite one record's body, as an administrator with SQL access could."""
    body = s.scalar(select(AuditRecord.body).where(AuditRecord.seq == seq))
    if body is None:  # an earlier mutation removed it
        return
    fields = json.loads(body)
    edit(fields)
    new = json.dumps(fields, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    s.execute(update(AuditRecord).where(AuditRecord.seq == seq).values(body=new))


def _change_field(s, seq, field):
    values = {
        "actor": "mallory",
        "action": "evidence:recording:edit",
        "object_id": "other",
        "ip": "6.6.6.6",
        "details": {"i": -1},
        "role": "administrator",
        "via": "web",
    }
    _edit_body(s, seq, lambda f: f.update({field: values[field]}))


def _change_time(s, seq):
    from datetime import datetime, timedelta

    from bodycam.ids import rfc3339

    def later(f):
        f["at"] = rfc3339(datetime.fromisoformat(f["at"]) + timedelta(seconds=1))

    _edit_body(s, seq, later)


def _change_position_in_body(s, seq):
    """The body claims another position; the column keeps its own."""
    _edit_body(s, seq, lambda f: f.update(seq=f["seq"] + 1))


def _reformat_body(s, seq):
    """Same fields, different bytes (whitespace): not the sealed bytes any more."""
    body = s.scalar(select(AuditRecord.body).where(AuditRecord.seq == seq))
    if body is not None:
        s.execute(
            update(AuditRecord).where(AuditRecord.seq == seq).values(body=body.replace(",", ", "))
        )


def _delete(s, seq):
    s.execute(delete(AuditRecord).where(AuditRecord.seq == seq))


def _delete_tail(s, seq):
    s.execute(delete(AuditRecord).where(AuditRecord.seq >= seq))


def _swap(s, seq):
    other = (seq + 1) % N
    s.execute(update(AuditRecord).where(AuditRecord.seq == seq).values(seq=-1))
    s.execute(update(AuditRecord).where(AuditRecord.seq == other).values(seq=seq))
    s.execute(update(AuditRecord).where(AuditRecord.seq == -1).values(seq=other))


def _insert(s, seq):
    """Shift later records up and insert a forged one, recomputing its leaf hash."""
    from sqlalchemy import func

    from bodycam.audit.canonical import canonical_bytes
    from bodycam.audit.merkle import leaf_hash

    top = s.scalar(select(func.max(AuditRecord.seq))) or 0
    for later in range(top, seq - 1, -1):
        s.execute(update(AuditRecord).where(AuditRecord.seq == later).values(seq=later + 1))
    forged = AuditRecord.new(
        actor_id="x",
        actor="mallory",
        role="auditor",
        via="cli",
        ip="",
        action="x",
        object_type="recording",
        object_id="r",
    )
    fields = forged.as_hashed_dict() | {"seq": seq}
    forged.body = canonical_bytes(fields).decode()
    forged.seq = seq
    forged.leaf_hash = leaf_hash(canonical_bytes(fields))
    s.add(forged)
    s.flush()


def _rehash_after_change(s, seq):
    """Change a record AND recompute its stored leaf hash: the signed root still catches it."""
    from bodycam.audit.canonical import canonical_bytes
    from bodycam.audit.merkle import leaf_hash

    rec = s.scalars(select(AuditRecord).where(AuditRecord.seq == seq)).first()
    if rec is None:  # an earlier mutation removed it
        return
    fields = rec.as_hashed_dict() | {"actor": "mallory"}
    rec.body = canonical_bytes(fields).decode()
    rec.leaf_hash = leaf_hash(canonical_bytes(fields))
    s.flush()


def _change_leaf_hash(s, seq):
    s.execute(update(AuditRecord).where(AuditRecord.seq == seq).values(leaf_hash=b"\0" * 32))


def _forge_checkpoint(s, seq):
    cp = s.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc())).first()
    cp.signed_note = cp.signed_note.replace(str(cp.tree_size), str(cp.tree_size + 1), 1)


def _drop_checkpoint_and_tail(s, seq):
    """Remove the newest checkpoint and the records only it covered."""
    cp = s.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc())).first()
    s.delete(cp)
    s.execute(delete(AuditRecord).where(AuditRecord.seq >= 16))


MUTATIONS = {
    "actor": lambda s, q: _change_field(s, q, "actor"),
    "action": lambda s, q: _change_field(s, q, "action"),
    "object_id": lambda s, q: _change_field(s, q, "object_id"),
    "ip": lambda s, q: _change_field(s, q, "ip"),
    "details": lambda s, q: _change_field(s, q, "details"),
    "role": lambda s, q: _change_field(s, q, "role"),
    "via": lambda s, q: _change_field(s, q, "via"),
    "time": _change_time,
    "position_in_body": _change_position_in_body,
    "reformat": _reformat_body,
    "leaf_hash": _change_leaf_hash,
    "delete": _delete,
    "delete_tail": _delete_tail,
    "swap": _swap,
    "insert": _insert,
    "rehash": _rehash_after_change,
    "forge_checkpoint": _forge_checkpoint,
}


@pytest.fixture
def sealed_log(ctx):
    add_records(ctx, 8)
    seal(ctx.sessions, ctx.signer)
    add_records(ctx, 8, 8)
    seal(ctx.sessions, ctx.signer)
    add_records(ctx, 8, 16)
    seal(ctx.sessions, ctx.signer)
    assert check(ctx) == []
    return ctx


@pytest.mark.parametrize("mutation", sorted(MUTATIONS))
def test_each_mutation_is_detected(sealed_log, mutation):
    ctx = sealed_log
    with transaction(ctx.sessions) as s:
        MUTATIONS[mutation](s, 5)
    problems = check(ctx)
    assert problems, f"{mutation} went undetected"
    assert all(p.endswith(".") for p in problems)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_random_mutations_are_all_detected(sealed_log, data):
    ctx = sealed_log
    names = data.draw(st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=3))
    seqs = data.draw(st.lists(st.integers(0, 15), min_size=len(names), max_size=len(names)))
    conn = ctx.engine.connect()
    trans = conn.begin()
    from sqlalchemy.orm import Session

    s = Session(bind=conn)

    def snapshot():
        tables = (AuditRecord, AuditCheckpoint)
        return [
            [
                tuple(r)
                for r in conn.execute(select(*t.__table__.c).order_by(*t.__table__.primary_key))
            ]
            for t in tables
        ]

    try:
        before = snapshot()
        for name, seq in zip(names, seqs, strict=True):
            MUTATIONS[name](s, seq)
            s.flush()
        s.flush()
        changed = snapshot() != before  # e.g. swapping the same pair twice changes nothing
        # Verify inside the same (uncommitted) transaction, then roll back for the next example.
        from sqlalchemy.orm import sessionmaker

        problems = verify_log(
            sessionmaker(bind=conn), ctx.signer.public_key, ctx.signer.key_name
        ).problems
    finally:
        s.close()
        trans.rollback()
        conn.close()
    assume(changed)
    assert problems, f"{names} at {seqs} went undetected"


def test_dropping_the_newest_checkpoint_and_its_records_is_caught_by_an_outside_copy(
    sealed_log, tmp_path
):
    """Locally indistinguishable from a shorter log: an outsider's checkpoint catches it."""
    ctx = sealed_log
    with ctx.sessions() as s:
        held = (
            s.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()))
            .first()
            .signed_note
        )
    with transaction(ctx.sessions) as s:
        _drop_checkpoint_and_tail(s, 0)
    assert check(ctx) == []  # the database alone cannot tell: the reason witnesses exist
    from bodycam.audit.signing import verify_checkpoint

    outside = verify_checkpoint(held, ctx.signer.public_key, ctx.signer.key_name)
    with ctx.sessions() as s:
        newest = s.scalars(
            select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc())
        ).first()
    assert outside.tree_size > newest.tree_size  # the log shrank below a checkpoint it signed


def test_pending_records_are_reported_not_failed(ctx):
    add_records(ctx, 3)
    report = verify_log(ctx.sessions, ctx.signer.public_key, ctx.signer.key_name)
    assert report.problems == [] and report.pending == 3


def test_concurrent_seals_do_not_duplicate_positions(ctx):
    import threading

    add_records(ctx, 50)
    errors = []

    def go():
        try:
            for _ in range(3):
                seal(ctx.sessions, ctx.signer)
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=go) for _ in range(4)]
    for t in threads:
        t.start()
    add_records(ctx, 20, 50)
    for t in threads:
        t.join()
    seal(ctx.sessions, ctx.signer)
    assert errors == []
    assert check(ctx) == []
    with ctx.sessions() as s:
        assert list(s.scalars(select(AuditRecord.seq).order_by(AuditRecord.seq))) == list(range(70))


def test_a_body_that_is_not_a_record_is_reported_not_a_crash(sealed_log):
    """A body replaced by JSON that is not a record: verify names the position."""
    ctx = sealed_log
    with transaction(ctx.sessions) as s:
        not_a_record = '{"not": "a record"}'
        s.execute(update(AuditRecord).where(AuditRecord.seq == 3).values(body=not_a_record))
    problems = check(ctx)
    assert any("#3 (?)" in p and "was changed after it was sealed" in p for p in problems)
