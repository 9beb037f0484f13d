"""Ingest: real clips in, duplicates out, bad files refused with nothing stored."""

from __future__ import annotations

import hashlib
from pathlib import Path

import av
import numpy as np
import pytest
from sqlalchemy import func, select

from bodycam.audit.models import AuditRecord
from bodycam.auth.actor import PermissionDenied
from bodycam.evidence import service as ev
from bodycam.evidence.models import Recording
from bodycam.evidence.service import EvidenceError
from bodycam.storage import BlobIntegrityError
from bodycam.synth.video import corrupt_variants, frame_at
from tests.conftest import CLIP_EPOCH


def count(ctx, model) -> int:
    with ctx.sessions() as s:
        return s.scalar(select(func.count()).select_from(model))


def test_ingest_stores_probes_and_audits(ctx, dept, vault, clips):
    clip = clips(1)
    res = ev.ingest_file(
        vault,
        dept.actor("o1"),
        clip,
        officer_badge="1001",
        camera_serial="C-1",
        category="Traffic Stop",
        tags=["dui"],
        cases=["26-1"],
    )
    assert not res.duplicate
    assert res.sha256 == hashlib.sha256(clip.read_bytes()).hexdigest()
    with ctx.sessions() as s:
        rec = s.get(Recording, res.id)
        assert rec.video_codec == "h264" and rec.audio_codec == "aac" and rec.has_audio
        assert (rec.width, rec.height) == (160, 96)
        assert abs(rec.duration_s - 1.0) < 0.2 and abs(rec.fps - 10) < 0.5
        assert rec.recorded_start == CLIP_EPOCH + (CLIP_EPOCH - CLIP_EPOCH).__class__(hours=1)
        assert rec.camera_serial == "C-1" and [t.tag for t in rec.tags] == ["dui"]
        actions = list(s.scalars(select(AuditRecord.action).where(AuditRecord.object_id == res.id)))
    assert actions == ["evidence:recording:ingest"]
    assert ctx.store.rehash(res.sha256) == res.sha256


def test_stored_bytes_decode_to_the_same_pixels(ctx, dept, vault, clips, tmp_path):
    res = ev.ingest_file(vault, dept.actor("clerk"), clips(2), officer_badge="1001")
    out = tmp_path / "back.mp4"
    with out.open("wb") as f:
        for chunk in ctx.store.iter_bytes(res.sha256):
            f.write(chunk)
    with av.open(str(out)) as c:
        frame = next(c.decode(video=0)).to_ndarray(format="rgb24")
    expected = frame_at(2, 0, 160, 96)
    assert np.abs(frame.astype(int) - expected.astype(int)).mean() < 12


def test_same_bytes_again_is_a_duplicate_not_a_copy(ctx, dept, vault, clips):
    a = ev.ingest_file(vault, dept.actor("o1"), clips(3), officer_badge="1001")
    b = ev.ingest_file(vault, dept.actor("o1"), clips(3), officer_badge="1001")
    assert b.duplicate and b.id == a.id
    assert count(ctx, Recording) == 1
    with ctx.sessions() as s:
        actions = sorted(s.scalars(select(AuditRecord.action).where(AuditRecord.object_id == a.id)))
    assert actions == ["evidence:recording:ingest", "evidence:recording:ingest_duplicate"]


@pytest.fixture(scope="module")
def broken(tmp_path_factory, clips_module):
    return corrupt_variants(clips_module, tmp_path_factory.mktemp("broken"))


@pytest.fixture(scope="module")
def clips_module(tmp_path_factory):
    from bodycam.synth.video import make_clip

    return make_clip(
        tmp_path_factory.mktemp("good") / "good.mp4",
        seconds=2.0,
        width=160,
        height=96,
        fps=10,
        seed=5,
    )


@pytest.mark.parametrize(
    "variant", ["zero_bytes", "truncated", "not_video", "garbage_middle", "no_video_stream"]
)
@pytest.mark.parametrize("full_decode", [False, True], ids=["keyframes", "all-frames"])
def test_bad_files_are_refused_with_a_sentence_and_nothing_stored(
    ctx, dept, vault, broken, variant, full_decode
):
    path: Path = broken[variant]
    vault = ev.Vault(vault.sessions, vault.store, full_decode=full_decode)
    before_audit = count(ctx, AuditRecord)
    with pytest.raises(EvidenceError) as exc:
        ev.ingest_file(vault, dept.actor("o1"), path, officer_badge="1001")
    msg = str(exc.value)
    assert path.name in msg and msg.endswith(".") and "\n" not in msg
    assert count(ctx, Recording) == 0
    assert list(ctx.store.iter_hashes()) == []
    assert count(ctx, AuditRecord) == before_audit


def test_declared_sha256_mismatch_is_refused(ctx, dept, vault, clips):
    with pytest.raises(BlobIntegrityError):
        ev.ingest_file(
            vault, dept.actor("o1"), clips(4), officer_badge="1001", expected_sha256="0" * 64
        )
    assert count(ctx, Recording) == 0 and list(ctx.store.iter_hashes()) == []


def test_officer_may_ingest_only_own(ctx, dept, vault, clips):
    with pytest.raises(PermissionDenied):
        ev.ingest_file(vault, dept.actor("o1"), clips(5), officer_badge="1002")
    ev.ingest_file(vault, dept.actor("sgt_a"), clips(5), officer_badge="1002")  # same squad
    with pytest.raises(PermissionDenied):
        ev.ingest_file(vault, dept.actor("sgt_a"), clips(6), officer_badge="2001")  # other squad
    for role in ("equipment", "analyst", "external", "admin", "auditor"):
        with pytest.raises(PermissionDenied):
            ev.ingest_file(vault, dept.actor(role), clips(6), officer_badge="1001")
    assert count(ctx, Recording) == 1


def test_unknown_officer_or_category_is_named(ctx, dept, vault, clips):
    with pytest.raises(EvidenceError, match="No officer has badge 7777"):
        ev.ingest_file(vault, dept.actor("clerk"), clips(7), officer_badge="7777")
    with pytest.raises(EvidenceError, match=r"Unknown category 'Nope'.*Traffic Stop"):
        ev.ingest_file(vault, dept.actor("clerk"), clips(7), officer_badge="1001", category="Nope")


def test_orphan_blob_from_an_interrupted_ingest_is_adopted(ctx, dept, vault, clips):
    info = ctx.store.put_file(clips(8))  # blob durable, row never committed (a crash)
    res = ev.ingest_file(vault, dept.actor("o1"), clips(8), officer_badge="1001")
    assert not res.duplicate and res.sha256 == info.sha256
    assert count(ctx, Recording) == 1
