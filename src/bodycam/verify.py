"""`bodycam verify`: re-hash every blob and recompute the audit log's Merkle tree.

Problems (exit 1) are anything that breaks the evidence promise: a recording
(or a redacted copy) whose blob is missing, has changed or has the wrong size; an audit record
changed, removed, reordered or inserted; a bad checkpoint signature. Notes do
not fail verification: temp files left by interrupted writes (``--repair``
removes them) and blobs no recording references (left by a write interrupted
before its row committed; never acknowledged, and adopted if re-ingested).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import (
    LogReport,
    VerifyStartError,
    latest_verified,
    record,
    verify_log,
)
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.evidence.models import Recording
from bodycam.evidence.service import iter_blob_refs
from bodycam.redaction.models import RedactedCopy
from bodycam.storage import BlobNotFound, BlobStoreError

Progress = Callable[[str, int, int], None]


@dataclass
class VerifyReport:
    """Everything a verification run found."""

    recordings: int = 0
    copies: int = 0  # redacted copies (derivative blobs)
    released: int = 0  # files of public-records release packages
    certificates: int = 0  # destruction certificates checked
    bytes_hashed: int = 0
    problems: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    repaired: list[str] = field(default_factory=list)
    log: LogReport | None = None

    @property
    def ok(self) -> bool:
        """True when nothing is wrong."""
        return not self.problems


REPAIR_MIN_AGE_S = 600.0


@dataclass(frozen=True)
class BlobCheck:
    """What re-reading one stored blob found."""

    problem: str | None
    """None when the blob is intact; else a sentence naming the object and the problem."""
    kind: str = ""
    """``missing``, ``changed``, ``size``, ``unreadable`` or ``no_store`` (empty when intact)."""
    bytes_hashed: int = 0


def check_blob(ctx: Context, what: str, sha: str, size: int, tier: str) -> BlobCheck:
    """Re-read blob ``sha`` from its tier's store and compare hash and size with the record.

    ``what`` names the object in the problem sentence ("Recording X (file.mp4)"). Used by
    :func:`verify_all` for every blob and by the scrub for one slice at a time.
    """
    store = ctx.store if tier == "hot" else ctx.archive
    if store is None:
        return BlobCheck(
            f"{what}: it is in the archive tier, but no archive store is configured "
            "(BODYCAM_ARCHIVE_STORAGE_URL).",
            "no_store",
        )
    try:
        actual_size = store.size(sha)
        actual = store.rehash(sha)
    except BlobNotFound:
        return BlobCheck(f"{what}: its blob {sha} is missing.", "missing")
    except BlobStoreError as exc:
        return BlobCheck(f"{what}: its blob cannot be read: {exc}", "unreadable")
    if actual != sha:
        return BlobCheck(
            f"{what}: its blob has changed (SHA-256 is now {actual}, recorded {sha}).",
            "changed",
            actual_size,
        )
    if actual_size != size:
        return BlobCheck(
            f"{what}: its blob is {actual_size} bytes, recorded {size}.", "size", actual_size
        )
    return BlobCheck(None, "", actual_size)


def _check_certificates(ctx: Context, report: VerifyReport) -> None:
    """Every purged recording has a destruction certificate, and every certificate verifies."""
    from bodycam.retention.models import DestructionCertificate
    from bodycam.retention.purge import verify_certificate

    with ctx.sessions() as s:
        certs = list(s.scalars(select(DestructionCertificate)))
        purged = set(s.scalars(select(Recording.id).where(Recording.purged_at.is_not(None))))
    for cert in certs:
        try:
            statement = verify_certificate(cert, ctx.signer.public_key)
        except ValueError as exc:
            report.problems.append(str(exc))
            continue
        if statement.get("recording_id") != cert.recording_id:
            report.problems.append(
                f"Destruction certificate {cert.id} is filed under recording "
                f"{cert.recording_id} but speaks of {statement.get('recording_id')}."
            )
    for rid in sorted(purged - {c.recording_id for c in certs}):
        report.problems.append(f"Recording {rid} was purged but has no destruction certificate.")
    report.certificates = len(certs)


def _blob_refs(session: Session) -> Iterator[tuple[str, str, int, str]]:
    """(what, sha256, size, tier) of every blob the database names: recordings, copies,
    released files."""
    for tier in ("hot", "archive"):
        for rid, sha, size, name in iter_blob_refs(session, tier):
            yield f"Recording {rid} ({name})", sha, size, tier
    stmt = (
        select(
            RedactedCopy.id, RedactedCopy.recording_id, RedactedCopy.sha256, RedactedCopy.size_bytes
        )
        .join(Recording, Recording.id == RedactedCopy.recording_id)
        .where(Recording.purged_at.is_(None))
        .order_by(RedactedCopy.id)
    )
    for cid, rid, sha, size in session.execute(stmt):
        yield f"Redacted copy {cid} of recording {rid}", sha, size, "hot"
    # Released files (the C2PA-signed videos and the package's scripts) are blobs too.
    from bodycam.disclosure.release_models import DisclosureRelease

    releases = select(DisclosureRelease.id, DisclosureRelease.files).order_by(DisclosureRelease.id)
    for rel_id, files in session.execute(releases):
        for entry in files or []:
            yield f"Release {rel_id} ({entry['name']})", entry["sha256"], int(entry["size"]), "hot"


def verify_audit_since(ctx: Context, actor: Actor, since: int | None = None) -> VerifyReport:
    """Verify only the audit records sealed after a verified checkpoint (cheap, scheduled).

    ``since``: the tree size of a signed checkpoint; None resumes from the last tree head a
    verification found intact (a full check when there is none). Every later checkpoint
    must extend that tree (its signature and root are checked) and every record after it
    is re-hashed; blobs are not re-read (the scrub and ``verify_all`` do that). Audited.
    """
    actor.require(Permission.AUDIT_VERIFY, "run verification")
    if since is None:
        with ctx.sessions() as s:
            last = latest_verified(s)
        since = last.tree_size if last is not None else 0
    report = VerifyReport()
    try:
        report.log = verify_log(
            ctx.sessions, ctx.signer.public_key, ctx.signer.key_name, since=since
        )
    except VerifyStartError as exc:
        report.problems.append(str(exc))
        report.log = LogReport(0, 0, 0, [str(exc)], since, since)
    else:
        report.problems.extend(report.log.problems)
        if report.log.pending:
            report.notes.append(f"{report.log.pending} audit record(s) await sealing.")
    with transaction(ctx.sessions) as s:
        record(
            s,
            actor,
            AuditAction.AUDIT_VERIFY,
            "system",
            "verify",
            {
                "ok": report.ok,
                "problems": len(report.problems),
                "audit_records": report.log.records,
                "since_tree_size": since,
                "tree_size": report.log.tree_size,
            },
        )
    return report


def verify_all(
    ctx: Context,
    actor: Actor,
    *,
    repair: bool = False,
    progress: Progress | None = None,
    repair_min_age_s: float = REPAIR_MIN_AGE_S,
) -> VerifyReport:
    """Verify blobs and the audit log; with ``repair``, remove stray temp files.

    Only temp files older than ``repair_min_age_s`` are removed, so a repair
    never deletes the temp file of an upload still in progress.
    """
    actor.require(Permission.AUDIT_VERIFY, "run verification")
    report = VerifyReport()
    with ctx.sessions() as s:
        refs = list(_blob_refs(s))
    referenced = set()
    for i, (what, sha, size, tier) in enumerate(refs, 1):
        if tier == "hot":
            referenced.add(sha)
        if progress:
            progress("blobs", i, len(refs))
        check = check_blob(ctx, what, sha, size, tier)
        report.bytes_hashed += check.bytes_hashed
        if check.problem is not None:
            report.problems.append(check.problem)
    report.recordings = sum(1 for what, *_ in refs if what.startswith("Recording "))
    report.copies = sum(1 for what, *_ in refs if what.startswith("Redacted copy "))
    report.released = sum(1 for what, *_ in refs if what.startswith("Release "))
    _check_certificates(ctx, report)
    orphans = [h for h in ctx.store.iter_hashes() if h not in referenced]
    if orphans:
        report.notes.append(
            f"{len(orphans)} stored blob(s) belong to no recording (an ingest interrupted "
            "before it was acknowledged); they are kept and adopted if the file is ingested again."
        )
    strays = ctx.store.stray_temp_files(repair_min_age_s)
    fresh = len(ctx.store.stray_temp_files()) - len(strays)
    if strays:
        if repair:
            n = ctx.store.clean_stray(repair_min_age_s)
            report.repaired.append(f"Removed {n} temporary file(s) left by interrupted writes.")
        else:
            report.notes.append(
                f"{len(strays)} temporary file(s) left by interrupted writes; "
                "run `bodycam verify --repair` to remove them."
            )
    if fresh:
        report.notes.append(
            f"{fresh} temporary file(s) younger than {repair_min_age_s / 60:g} minutes may "
            "belong to writes in progress; they are left alone."
        )
    if progress:
        progress("audit log", 0, 1)
    report.log = verify_log(ctx.sessions, ctx.signer.public_key, ctx.signer.key_name)
    if progress:
        progress("audit log", 1, 1)
    report.problems.extend(report.log.problems)
    if report.log.pending:
        report.notes.append(f"{report.log.pending} audit record(s) await sealing.")
    with transaction(ctx.sessions) as s:
        record(
            s,
            actor,
            AuditAction.AUDIT_VERIFY,
            "system",
            "verify",
            {
                "ok": report.ok,
                "problems": len(report.problems),
                "recordings": report.recordings,
                "redacted_copies": report.copies,
                "released_files": report.released,
                "audit_records": report.log.records,
                "repaired": len(report.repaired),
            },
        )
    return report
