"""Court discovery bundles: a case's recordings with their complete, provable audit trails.

``build_bundle`` takes the recordings of a case the acting user may see (all of them, or
those named), records one ``disclosure:discovery:build`` audit record on each, seals the
log, then writes a folder (all or nothing): each recording (the original, or with
``derivatives`` its newest approved redacted copy), its full audit trail as CSV and PDF
(:mod:`bodycam.audit.export`), an inclusion proof of every sealed trail record to one
signed checkpoint (:func:`bodycam.audit.proofdoc.build_proof_document`, checkable by
``verify_proof.py``), that checkpoint, and a manifest of every file's hash signed like a
release (:data:`BUNDLE_CONTEXT`). ``verify_bundle.py``, ``verify_release.py`` and
``verify_proof.py`` ship inside, so the court and the defense need only Python and the
``cryptography`` package.

Permission: ``disclosure:discovery:build`` (records clerks and auditors). On its own it
grants what a bundle holds for the recordings in it: their bytes, their trails and proofs;
the bundle never reaches beyond the recordings the builder may see, and refuses a case
whose recordings the builder cannot all see, rather than hand over an incomplete one.
"""

from __future__ import annotations

import hashlib
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bodycam import __version__
from bodycam.audit.actions import AuditAction
from bodycam.audit.export import trail_csv, trail_pdf
from bodycam.audit.merkle import leaf_hash, node_hash
from bodycam.audit.models import AuditRecord
from bodycam.audit.proofdoc import build_proof_document
from bodycam.audit.service import latest_checkpoint, public_key_b64, record, require, seal
from bodycam.audit.signing import public_key_pem
from bodycam.audit.trail import Trail, TrailEntry, _entries
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.disclosure import verify_release
from bodycam.disclosure.errors import DisclosureError
from bodycam.disclosure.releases import (
    copy_blob,
    file_entry,
    sign_manifest,
    staging,
    write_signed,
)
from bodycam.evidence.access import readable_recordings
from bodycam.evidence.models import Recording, RecordingCase
from bodycam.ids import new_id, rfc3339, utcnow
from bodycam.redaction.models import CopyStatus, RedactedCopy
from bodycam.storage import BlobNotFound

BUNDLE_FORMAT = verify_release.BUNDLE_FORMAT
BUNDLE_CONTEXT = verify_release.CONTEXTS[BUNDLE_FORMAT]
"""Signed before the bundle manifest's bytes (never valid as a release's signature)."""
HERE = Path(__file__).resolve().parent
VERIFIERS = ("verify_bundle.py", "verify_release.py", "verify_proof.py")


@dataclass(frozen=True)
class Bundle:
    """What a bundle holds, once written."""

    folder: Path
    bundle_id: str
    case: str
    manifest_sha256: str
    recordings: int
    records: int
    proofs: int


@dataclass(frozen=True)
class _Item:
    recording: Recording
    copy: RedactedCopy | None


class _Paths:
    """RFC 6962 audit paths for many leaves of one tree, sharing subtree hashes."""

    def __init__(self, leaves: list[bytes]) -> None:
        self.leaves = leaves
        self.cache: dict[tuple[int, int], bytes] = {}

    def mth(self, start: int, end: int) -> bytes:
        if end - start == 1:
            return self.leaves[start]
        got = self.cache.get((start, end))
        if got is None:
            k = 1 << ((end - start - 1).bit_length() - 1)
            got = node_hash(self.mth(start, start + k), self.mth(start + k, end))
            self.cache[(start, end)] = got
        return got

    def path(self, index: int) -> list[bytes]:
        out: list[bytes] = []
        start, end = 0, len(self.leaves)
        while end - start > 1:
            k = 1 << ((end - start - 1).bit_length() - 1)
            if index < start + k:
                out.append(self.mth(start + k, end))
                end = start + k
            else:
                out.append(self.mth(start, start + k))
                start += k
        out.reverse()
        return out


def _choose(
    s: Session, ctx: Context, actor: Actor, case: str, wanted: Sequence[str], derivatives: bool
) -> list[_Item]:
    in_case = select(RecordingCase.recording_id).where(RecordingCase.case_number == case)
    all_ids = set(s.scalars(in_case))
    visible = {
        r.id: r
        for r in s.scalars(
            readable_recordings(actor, ctx.settings.officer_sees_own)
            .where(Recording.id.in_(in_case))
            .order_by(Recording.recorded_start, Recording.id)
        )
    }
    if wanted:
        outside = [r for r in wanted if r not in visible]
        if outside:
            raise DisclosureError(
                f"Recording {', '.join(outside)} is not in case {case} or you may not see it; "
                "tag it with the case first."
            )
        ids = list(dict.fromkeys(wanted))
    else:
        if not all_ids:
            raise DisclosureError(f"No recording is tagged with case {case}.")
        hidden = len(all_ids - set(visible))
        if hidden:
            raise DisclosureError(
                f"Case {case} has {hidden} recording(s) you may not see (their category's "
                "access class); a bundle built by you would be incomplete. Ask someone who "
                "may see them, or name the recordings to include with --recording."
            )
        ids = list(visible)
    items = []
    for rid in ids:
        copy = None
        if derivatives:
            copy = s.scalars(
                select(RedactedCopy)
                .where(
                    RedactedCopy.recording_id == rid,
                    RedactedCopy.status == CopyStatus.APPROVED.value,
                )
                .order_by(RedactedCopy.approved_at.desc(), RedactedCopy.id.desc())
                .limit(1)
            ).first()
            if copy is None:
                raise DisclosureError(
                    f"Recording {rid} has no approved redacted copy; leave out --derivatives "
                    "to include the original, or approve a copy first."
                )
        items.append(_Item(visible[rid], copy))
    return items


def _readme(case: str, agency: str, when: str) -> str:
    return f"""\
Court discovery bundle for case {case} from {agency}, made {when} with bodycam {__version__}.

recordings/        the recordings (originals, or approved redacted copies: see manifest.json)
trails/            each recording's complete audit trail: who did what, when, from where
                   (CSV for analysis, PDF for reading)
proofs/            for every trail record, a proof that it is in the agency's append-only
                   audit log (a Merkle tree) at the signed checkpoint in checkpoint.txt
manifest.json      every file's SHA-256 and size; what each recording is and its hashes
manifest.sig       the agency's Ed25519 signature of manifest.json
public-key.pem     the agency's public key (also at its /api/v1/audit/public-key)
verify_bundle.py   checks all of it; needs Python 3 and `pip install cryptography`, and
                   verify_release.py and verify_proof.py beside it

    python verify_bundle.py . --key AGENCY-KEY.pem

A changed byte in any file, an edited trail line or an altered proof makes it fail,
naming what changed.
"""


def build_bundle(
    ctx: Context,
    actor: Actor,
    case: str,
    dest: Path,
    *,
    recording_ids: Sequence[str] = (),
    derivatives: bool = False,
    now: datetime | None = None,
) -> Bundle:
    """Write the discovery bundle of ``case`` to the new folder ``dest`` (see module doc)."""
    case = case.strip()
    require(
        ctx.sessions, actor, Permission.DISCLOSURE_DISCOVERY_BUILD, "build discovery bundles", case
    )
    if not case:
        raise DisclosureError("Name the case number (--case).")
    if dest.exists():
        raise DisclosureError(f"{dest} already exists; choose a new folder.")
    now = now or utcnow()
    bundle_id = new_id()
    wanted = [r.strip() for r in recording_ids if r.strip()]
    with transaction(ctx.sessions) as s:
        items = _choose(s, ctx, actor, case, wanted, derivatives)
        for item in items:
            record(
                s,
                actor,
                AuditAction.DISCLOSURE_DISCOVERY_BUILD,
                "recording",
                item.recording.id,
                {
                    "case": case,
                    "bundle": bundle_id,
                    "kind": "redacted" if item.copy else "original",
                    "sha256": item.copy.sha256 if item.copy else item.recording.sha256,
                },
            )
        s.flush()
        s.expunge_all()
    seal(ctx.sessions, ctx.signer)
    with ctx.sessions() as s:
        cp = latest_checkpoint(s)
        assert cp is not None
        trails = {i.recording.id: _entries(s, "recording", i.recording.id) for i in items}
        ids = [e.id for entries in trails.values() for e in entries]
        bodies = {
            r.id: r.as_hashed_dict()
            for r in s.scalars(select(AuditRecord).where(AuditRecord.id.in_(ids)))
            if r.seq is not None and r.seq < cp.tree_size
        }
        leaves = [
            bytes(h or b"")
            for h in s.scalars(
                select(AuditRecord.leaf_hash)
                .where(AuditRecord.seq < cp.tree_size)
                .order_by(AuditRecord.seq)
            )
        ]
        checkpoint = cp.signed_note
        tree_size, root = cp.tree_size, bytes(cp.root_hash)
    paths = _Paths(leaves)
    entries: list[dict[str, Any]] = []
    recordings: list[dict[str, Any]] = []
    n_proofs = 0
    with staging(dest) as tmp:
        for item in items:
            rec, copy = item.recording, item.copy
            entry = _write_recording(ctx, tmp, rec, copy, trails[rec.id], actor, now)
            entry_proofs = []
            for e in trails[rec.id]:
                body = bodies.get(e.id)
                if body is None or e.seq is None:
                    entry.setdefault("unproven", []).append(e.id)
                    continue
                if leaf_hash(_canonical(body)) != leaves[e.seq]:
                    raise DisclosureError(f"Audit record {e.id} does not match the log's leaf.")
                doc = build_proof_document(body, e.seq, tree_size, paths.path(e.seq), checkpoint)
                name = f"proofs/{rec.id}/{e.id}.json"
                path = tmp / name
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(_json(doc) + "\n", encoding="utf-8")
                entry_proofs.append(name)
            entry["proofs"] = entry_proofs
            entry.setdefault("unproven", [])
            n_proofs += len(entry_proofs)
            recordings.append(entry)
        (tmp / "checkpoint.txt").write_text(checkpoint, encoding="utf-8")
        for name in VERIFIERS:
            shutil.copyfile(HERE / name, tmp / name)
        (tmp / "README.txt").write_text(
            _readme(case, ctx.settings.agency_name, rfc3339(now)), encoding="utf-8"
        )
        for path in sorted(p for p in tmp.rglob("*") if p.is_file()):
            entries.append(file_entry(path, path.relative_to(tmp).as_posix()))
        manifest = {
            "format": BUNDLE_FORMAT,
            "bundle_id": bundle_id,
            "case": case,
            "created_at": rfc3339(now),
            "created_by": actor.username,
            "agency": ctx.settings.agency_name,
            "bodycam_version": __version__,
            "signer": {
                "key_name": ctx.signer.key_name,
                "fingerprint": verify_release.fingerprint(ctx.signer.public_key),
            },
            "checkpoint": {
                "file": "checkpoint.txt",
                "origin": ctx.signer.origin,
                "tree_size": tree_size,
                "root_hash": root.hex(),
            },
            "recordings": recordings,
            "files": entries,
        }
        text, signature = sign_manifest(ctx.signer, manifest, BUNDLE_CONTEXT)
        write_signed(tmp, text, signature, public_key_pem(ctx.signer.private_key))
    return Bundle(
        dest,
        bundle_id,
        case,
        hashlib.sha256(text.encode("utf-8")).hexdigest(),
        len(items),
        sum(len(t) for t in trails.values()),
        n_proofs,
    )


def _canonical(body: dict[str, Any]) -> bytes:
    from bodycam.audit.canonical import canonical_bytes

    return canonical_bytes(body)


def _json(doc: dict[str, Any]) -> str:
    import json

    return json.dumps(doc, indent=2, ensure_ascii=False)


def _write_recording(
    ctx: Context,
    folder: Path,
    rec: Recording,
    copy: RedactedCopy | None,
    trail: list[TrailEntry],
    actor: Actor,
    now: datetime,
) -> dict[str, Any]:
    """Write one recording's file and trail exports; return its manifest section."""
    sha = copy.sha256 if copy else rec.sha256
    name = f"recordings/{rec.id}{'-redacted' if copy else ''}.mp4"
    stores = [ctx.store] + ([ctx.archive] if ctx.archive is not None else [])
    for store in stores:
        try:
            copy_blob(store, sha, folder / name)
            break
        except BlobNotFound:
            (folder / name).unlink(missing_ok=True)
    else:
        raise DisclosureError(f"The bytes of recording {rec.id} ({sha}) are in no store.")
    trail_obj = Trail("recording", rec.id, trail)
    csv_name, pdf_name = f"trails/{rec.id}.csv", f"trails/{rec.id}.pdf"
    (folder / "trails").mkdir(exist_ok=True)
    (folder / csv_name).write_text(trail_csv(trail_obj), encoding="utf-8")
    (folder / pdf_name).write_bytes(
        trail_pdf(
            trail_obj,
            agency=ctx.settings.agency_name,
            recording_sha256=rec.sha256,
            title=rec.title,
            public_key_b64=public_key_b64(ctx.signer.public_key),
            generated_by=actor.username,
            generated_at=now,
        )
    )
    entry: dict[str, Any] = {
        "recording_id": rec.id,
        "title": rec.title,
        "recorded_start": rfc3339(rec.recorded_start),
        "kind": "redacted" if copy else "original",
        "file": name,
        "sha256": sha,
        "original_sha256": rec.sha256,
        "trail_csv": csv_name,
        "trail_pdf": pdf_name,
        "records": len(trail),
    }
    if copy is not None:
        entry |= {"redacted_copy_id": copy.id, "redaction_plan_sha256": copy.plan_hash}
    return entry
