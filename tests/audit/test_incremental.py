"""Incremental verification of the audit log, and trails under their covering checkpoint."""

from __future__ import annotations

import bisect

import pytest
from sqlalchemy import delete, select, update

from bodycam.audit.models import AuditCheckpoint, AuditRecord, AuditVerifiedState
from bodycam.audit.service import VerifyStartError, latest_verified, seal, verify_log
from bodycam.audit.trail import _entries
from bodycam.verify import verify_audit_since
from tests.audit.test_log import add_records


def verify(ctx, since=None):
    return verify_log(ctx.sessions, ctx.signer.public_key, ctx.signer.key_name, since=since)


def sealed_rounds(ctx, sizes: list[int]) -> list[int]:
    """Seal one round of records per entry of ``sizes``; the checkpoint sizes."""
    done, tree_sizes = 0, []
    for n in sizes:
        add_records(ctx, n, done)
        done += n
        cp = seal(ctx.sessions, ctx.signer)
        tree_sizes.append(cp.tree_size)
    return tree_sizes


def test_full_verification_stores_the_head_and_the_next_checks_only_new_records(ctx):
    sizes = sealed_rounds(ctx, [5, 3, 4])
    full = verify(ctx)
    assert full.problems == [] and full.records == 12 and full.tree_size == 12
    with ctx.sessions() as s:
        head = latest_verified(s)
        assert head.tree_size == 12 and head.records_checked == 12
        assert bytes(head.root_hash) == bytes(s.get(AuditCheckpoint, 12).root_hash)
    sealed_rounds(ctx, [2, 6])
    new = verify(ctx, since=12)
    assert new.problems == [] and new.since == 12
    assert (new.records, new.checkpoints, new.tree_size) == (8, 2, 20)
    with ctx.sessions() as s:
        assert latest_verified(s).tree_size == 20
    # From any signed checkpoint, with or without a stored head there (leaf hashes).
    again = verify(ctx, since=sizes[0])
    assert again.problems == [] and (again.records, again.tree_size) == (15, 20)
    assert verify(ctx, since=20).records == 0


def test_a_changed_new_record_is_found_and_old_ones_are_left_to_full_checks(ctx):
    sealed_rounds(ctx, [6])
    assert verify(ctx).problems == []
    sealed_rounds(ctx, [4])
    with ctx.sessions.begin() as s:
        for seq in (2, 8):  # one record before the verified head, one after it
            body = s.scalars(select(AuditRecord.body).where(AuditRecord.seq == seq)).one()
            s.execute(
                update(AuditRecord)
                .where(AuditRecord.seq == seq)
                .values(body=body.replace("ünïcode", "unicode"))
            )
    report = verify(ctx, since=6)
    assert any("#8" in p and "changed after it was sealed" in p for p in report.problems)
    assert any("checkpoint of size 10" in p for p in report.problems)
    assert not any("#2 " in p for p in report.problems)  # before the head: not re-read
    assert any("#2 " in p for p in verify(ctx).problems)  # a full check finds it
    with ctx.sessions() as s:  # nothing is remembered from a failed check
        assert latest_verified(s).tree_size == 6


def test_the_start_must_be_a_signed_checkpoint_matching_the_log_below_it(ctx):
    sealed_rounds(ctx, [4, 4])
    with pytest.raises(VerifyStartError, match="no signed checkpoint of tree size 5"):
        verify(ctx, since=5)
    # No stored head at 4: the stored leaf hashes below it must fold to its signed root.
    with ctx.sessions.begin() as s:
        s.execute(delete(AuditVerifiedState))
        s.execute(update(AuditRecord).where(AuditRecord.seq == 1).values(leaf_hash=b"\x00" * 32))
    with pytest.raises(VerifyStartError, match="below position 4 does not match"):
        verify(ctx, since=4)
    # A stored head whose frontier does not fold to the signed root is not used.
    with ctx.sessions.begin() as s:
        s.add(AuditVerifiedState(tree_size=4, root_hash=b"\x01" * 32, frontier=["00" * 32]))
    with pytest.raises(VerifyStartError):
        verify(ctx, since=4)


def test_incremental_verify_service_resumes_and_is_audited(ctx, dept):
    auditor = dept.actor("auditor")
    base = sealed_rounds(ctx, [3])[0]  # with the department's own records
    first = verify_audit_since(ctx, auditor)  # nothing verified yet: everything
    assert first.ok and first.log.since == 0 and first.log.records == base
    sealed_rounds(ctx, [5])  # seals these and the verification's own audit record
    second = verify_audit_since(ctx, auditor)
    assert second.ok and second.log.since == base and second.log.records == 6
    with ctx.sessions.begin() as s:
        s.execute(
            update(AuditRecord).where(AuditRecord.seq == base + 1).values(leaf_hash=b"\x00" * 32)
        )
    bad = verify_audit_since(ctx, auditor, since=base)
    assert not bad.ok and any(f"#{base + 1} " in p for p in bad.problems)
    wrong = verify_audit_since(ctx, auditor, since=base - 1)
    assert not wrong.ok and f"no signed checkpoint of tree size {base - 1}" in wrong.problems[0]
    with ctx.sessions() as s:
        actions = [
            r.details
            for r in s.scalars(select(AuditRecord).where(AuditRecord.action == "audit:log:verify"))
        ]
    assert len(actions) == 4
    assert {a["since_tree_size"] for a in actions} == {0, base - 1, base}


def test_trail_entries_name_the_first_checkpoint_covering_them(ctx):
    sealed_rounds(ctx, [3, 1, 4, 2])
    add_records(ctx, 1, 10)  # pending: no position, no checkpoint
    with ctx.sessions() as s:
        cps = list(s.execute(select(AuditCheckpoint.tree_size, AuditCheckpoint.root_hash)))
        sizes = sorted(c[0] for c in cps)
        roots = {c[0]: bytes(c[1]).hex() for c in cps}
        seen = 0
        for i in range(11):
            entries = _entries(s, "recording", f"rec{i}")
            assert len(entries) == 1
            e = entries[0]
            if e.seq is None:
                assert i == 10 and e.checkpoint_size is None and e.checkpoint_root is None
                continue
            size = sizes[bisect.bisect_right(sizes, e.seq)]
            assert (e.checkpoint_size, e.checkpoint_root) == (size, roots[size])
            seen += 1
    assert seen == 10 and sizes == [3, 4, 8, 10]


def test_cli_verify_incremental_and_since_checkpoint(ctx, home):
    import json
    import re

    base = sealed_rounds(ctx, [4])[0]
    first = json.loads(home("verify", "--incremental", "--json", user="aud").stdout)
    assert first["ok"] and first["since_tree_size"] == 0 and first["tree_size"] == base
    assert first["audit_records"] == base
    size = sealed_rounds(ctx, [2])[0]  # these two and the first run's audit record
    p = home("verify", "--incremental", user="aud")
    # The CLI seals what it wrote as it exits, so the checkpoints number one or two.
    assert re.match(f"OK: 3 audit records after tree size {base} under [12] signed", p.stdout)
    assert f"now verified up to {size}" in p.stdout and "blobs not re-read" in p.stdout
    p = home("verify", "--since-checkpoint", str(base), user="aud")
    assert p.stdout.startswith("OK: ") and f"after tree size {base} " in p.stdout
    p = home("verify", "--since-checkpoint", "1000000", user="aud", check=1)
    assert "no signed checkpoint of tree size 1000000" in p.stderr


def test_a_seal_during_verification_is_not_taken_for_an_insertion(ctx, monkeypatch):
    from bodycam.audit import service

    sealed_rounds(ctx, [5])
    assert verify(ctx).problems == []
    sealed_rounds(ctx, [3])
    signed_roots = service._signed_roots
    calls: list[int] = []
    sealed_meanwhile: list[int] = []

    def then_seal(*args, **kwargs):  # the sealer commits right after the checkpoints are read
        roots = signed_roots(*args, **kwargs)
        calls.append(1)
        if len(calls) == trigger:
            sealed_meanwhile.append(sealed_rounds(ctx, [4])[0])
        return roots

    monkeypatch.setattr(service, "_signed_roots", then_seal)
    # A full check reads the checkpoints once; an incremental one reads its start first.
    for since, trigger in ((None, 1), (5, 2)):
        calls.clear()
        sealed_meanwhile.clear()
        before = verify(ctx).tree_size if since else None
        calls.clear()
        report = verify(ctx, since=since)
        assert report.problems == [] and sealed_meanwhile
        assert report.tree_size == sealed_meanwhile[0] - 4  # the new round is the next one's
        assert before is None or report.tree_size == before
