"""Release packages: approved redacted copies handed to the public, signed and verifiable.

A release is built for a request in review (or already released, to issue another) from
the approved redacted copies of recordings attached to it. Each copy gets a C2PA manifest
naming the original as its parent ingredient, the redaction as ``c2pa.edited`` and an
``org.bodycam.redaction`` assertion with the plan hash and summary, signed with the
agency's C2PA certificate (made on first use under ``keys/c2pa``). The released files,
``verify_release.py``, a README and the C2PA trust anchor are stored as blobs; the
manifest (canonical JSON listing every file's SHA-256 and size, each footage file's
original and plan hashes and what was redacted and why) is signed with the deployment's
Ed25519 key over :data:`RELEASE_CONTEXT` + its bytes. The row and its audit records
(one on the request, one on each recording) commit in one transaction after the blobs
are durable; the request's status is the workflow's job (move it to ``released_full`` or
``released_partial`` after building).

The package folder (``write_package``) is rebuilt byte for byte from the stored row and
blobs, so the public page and the CLI hand out the same package.
"""

from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import io
import json
import os
import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bodycam import __version__
from bodycam.audit.actions import AuditAction
from bodycam.audit.canonical import canonical_bytes
from bodycam.audit.service import AuditSigner, record, require
from bodycam.audit.signing import public_key_pem
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.disclosure import verify_release
from bodycam.disclosure.errors import DisclosureError
from bodycam.disclosure.models import DisclosureRecording, DisclosureRequest, RequestStatus
from bodycam.disclosure.release_models import DisclosureRelease
from bodycam.disclosure.requests import add_step, clean_list, load
from bodycam.evidence.access import readable_recordings
from bodycam.evidence.models import Recording
from bodycam.ids import new_id, rfc3339, utcnow
from bodycam.redaction.models import CopyStatus, RedactedCopy
from bodycam.redaction.plan import AudioRange, FrameRange, ManualBox, ReasonCode, RedactionPlan
from bodycam.redaction.projects import plan_summary
from bodycam.storage import BlobNotFound, BlobStore
from bodycam.storage.interface import local_path

RELEASE_FORMAT = verify_release.RELEASE_FORMAT
RELEASE_CONTEXT = verify_release.CONTEXTS[RELEASE_FORMAT]
"""Signed before the manifest's bytes, so the signature cannot be reused elsewhere."""
CHUNK_SIZE = 1 << 20
"""Each listed file also carries the SHA-256 of every MiB, so a check names changed bytes."""
BUILDABLE = frozenset(
    {RequestStatus.REVIEW, RequestStatus.RELEASED_FULL, RequestStatus.RELEASED_PARTIAL}
)
VERIFIER = Path(verify_release.__file__)
C2PA_ANCHOR = "c2pa-trust-anchor.pem"
Progress = Callable[[int, int], None]


# --- manifests shared by releases and discovery bundles ------------------------------------


def file_entry(path: Path, name: str, **extra: Any) -> dict[str, Any]:
    """A manifest entry for the file at ``path``: size, SHA-256 and per-MiB chunk hashes."""
    whole, chunks, size = hashlib.sha256(), [], 0
    with path.open("rb") as handle:
        while data := handle.read(CHUNK_SIZE):
            whole.update(data)
            chunks.append(hashlib.sha256(data).hexdigest())
            size += len(data)
    return {
        "name": name,
        "size": size,
        "sha256": whole.hexdigest(),
        "chunk_size": CHUNK_SIZE,
        "chunks": chunks,
        **extra,
    }


def sign_manifest(signer: AuditSigner, manifest: dict[str, Any], context: bytes) -> tuple[str, str]:
    """The manifest's canonical text and the base64 Ed25519 signature of context + its bytes."""
    body = canonical_bytes(manifest)
    return body.decode("utf-8"), base64.b64encode(signer.private_key.sign(context + body)).decode()


def write_signed(folder: Path, manifest: str, signature: str, public_key: str) -> None:
    """Write manifest.json (exactly the signed bytes), manifest.sig and public-key.pem."""
    (folder / verify_release.MANIFEST).write_bytes(manifest.encode("utf-8"))
    (folder / verify_release.SIGNATURE).write_text(signature + "\n", encoding="ascii")
    (folder / verify_release.PUBLIC_KEY).write_text(public_key, encoding="ascii")


@contextlib.contextmanager
def staging(dest: Path) -> Iterator[Path]:
    """A temporary folder next to ``dest``, renamed to ``dest`` when the block succeeds."""
    if dest.exists():
        raise DisclosureError(f"{dest} already exists; choose a new folder.")
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        yield tmp
        os.rename(tmp, dest)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)


def copy_blob(store: BlobStore, sha256: str, dest: Path) -> None:
    """Write blob ``sha256`` to ``dest``, checking the bytes against their name."""
    h = hashlib.sha256()
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("xb") as f:
        for chunk in store.iter_bytes(sha256):
            h.update(chunk)
            f.write(chunk)
    if h.hexdigest() != sha256:
        raise DisclosureError(f"The stored blob {sha256} is damaged (its bytes hash otherwise).")


# --- C2PA ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class C2paCredentials:
    """The agency's C2PA signing chain (end entity first), its key and the trust anchor."""

    chain: bytes
    key: bytes
    anchor: bytes
    folder: Path


def c2pa_folder(ctx: Context) -> Path:
    """Where the C2PA credentials live: ``keys/c2pa`` beside the audit signing key."""
    return ctx.settings.resolved_signing_key_path.parent / "c2pa"


def _make_chain(agency: str) -> tuple[bytes, bytes, bytes]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier

    now = dt.datetime.now(dt.UTC)

    def name(cn: str) -> x509.Name:
        org = agency[:64] or "bodycam"
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, cn[:64]),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            ]
        )

    def usage(sign: bool) -> x509.KeyUsage:
        return x509.KeyUsage(
            digital_signature=sign,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=not sign,
            crl_sign=not sign,
            encipher_only=False,
            decipher_only=False,
        )

    root_key = ec.generate_private_key(ec.SECP256R1())
    root_name = name(f"{agency} C2PA root")
    root = (
        x509.CertificateBuilder()
        .subject_name(root_name)
        .issuer_name(root_name)
        .public_key(root_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * 20))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(usage(False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(root_key.public_key()), False)
        .sign(root_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(name(f"{agency} release signing"))
        .issuer_name(root_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=365 * 10))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage(True), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage(
                [ExtendedKeyUsageOID.EMAIL_PROTECTION, ObjectIdentifier("1.3.6.1.5.5.7.3.36")]
            ),
            critical=False,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(root_key.public_key()), False
        )
        .sign(root_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    chain = leaf.public_bytes(pem) + root.public_bytes(pem)
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    # The root's private key is dropped here: no one, not even this server, can issue
    # another certificate under it. A new chain means a new trust anchor.
    return chain, key_pem, root.public_bytes(pem)


def c2pa_credentials(ctx: Context) -> C2paCredentials:
    """Load the agency's C2PA credentials, creating them on first use (atomically)."""
    folder = c2pa_folder(ctx)
    if not (folder / "signer-key.pem").exists():
        folder.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=".c2pa.", dir=folder.parent))
        try:
            chain, key, anchor = _make_chain(ctx.settings.agency_name)
            (tmp / "signer-chain.pem").write_bytes(chain)
            (tmp / "trust-anchor.pem").write_bytes(anchor)
            fd = os.open(tmp / "signer-key.pem", os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(key)
                f.flush()
                os.fsync(f.fileno())
            with contextlib.suppress(OSError):  # another process made them first: use those
                os.rename(tmp, folder)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    try:
        return C2paCredentials(
            (folder / "signer-chain.pem").read_bytes(),
            (folder / "signer-key.pem").read_bytes(),
            (folder / "trust-anchor.pem").read_bytes(),
            folder,
        )
    except OSError as exc:
        raise DisclosureError(f"The C2PA credentials in {folder} cannot be read: {exc}.") from None


def _mime(rec: Recording) -> str:
    return "video/mp4" if rec.width else "audio/mp4"


def embed_c2pa(
    creds: C2paCredentials,
    source: Path,
    dest: Path,
    *,
    original: Path,
    mime: str,
    title: str,
    assertion: dict[str, Any],
    description: str,
) -> str:
    """Write ``source`` to ``dest`` with a signed C2PA manifest; return the manifest label."""
    import c2pa

    manifest = {
        "claim_generator_info": [{"name": "bodycam", "version": __version__}],
        "title": title,
        "format": mime,
        "assertions": [
            {
                "label": "c2pa.actions.v2",
                "data": {
                    "actions": [
                        {"action": "c2pa.opened", "parameters": {"ingredientIds": ["original"]}},
                        {
                            "action": "c2pa.edited",
                            "description": description,
                            "softwareAgent": {"name": "bodycam", "version": __version__},
                        },
                    ]
                },
            },
            {"label": "org.bodycam.redaction", "data": assertion},
        ],
    }
    ingredient = {
        "title": f"original {assertion['source_sha256'][:12]}",
        "relationship": "parentOf",
        "label": "original",
        "format": mime,
        "instance_id": f"sha256:{assertion['source_sha256']}",
    }
    info = c2pa.C2paSignerInfo(c2pa.C2paSigningAlg.ES256, creds.chain, creds.key, None)
    try:
        with c2pa.Signer.from_info(info) as signer, c2pa.Builder(manifest) as builder:
            with original.open("rb") as parent:
                builder.add_ingredient(ingredient, mime, parent)
            with source.open("rb") as src, dest.open("xb") as out:
                builder.sign(signer, mime, src, out)
        with dest.open("rb") as f, c2pa.Reader(mime, f) as reader:
            label = reader.get_active_manifest() or {}
    except c2pa.C2paError as exc:
        raise DisclosureError(f"Embedding the C2PA manifest in {title} failed: {exc}.") from None
    return str(label.get("label", ""))


def read_c2pa(path: Path, anchor: bytes, mime: str = "video/mp4") -> tuple[str, dict[str, Any]]:
    """The validation state (``Trusted``, ``Valid``, ``Invalid``) and the active manifest of
    a file's C2PA data, with ``anchor`` (PEM) as the trust anchor."""
    import c2pa

    settings = c2pa.Settings.from_dict(
        {"trust": {"trust_anchors": anchor.decode("ascii")}, "verify": {"verify_trust": True}}
    )
    with (
        c2pa.Context(settings) as context,
        path.open("rb") as f,
        c2pa.Reader(mime, f, context=context) as reader,
    ):
        return str(reader.get_validation_state()), reader.get_active_manifest() or {}


# --- building a release -------------------------------------------------------------------


def redaction_summary(plan: RedactionPlan) -> dict[str, Any]:
    """What a plan redacts and why (reason codes with their meaning; notes stay private)."""
    reasons: Counter[str] = Counter()
    for t in plan.tracks:
        if t.include and t.reason is not None:
            reasons[t.reason.value] += 1
    items: list[ManualBox | FrameRange | AudioRange] = [*plan.manual, *plan.full_frame]
    for item in [*items, *plan.audio]:
        reasons[item.reason.value] += 1
    return {
        **plan_summary(plan),
        "audio_track": plan.audio_track.value,
        "reasons": [
            {"code": code, "meaning": ReasonCode(code).description, "items": n}
            for code, n in sorted(reasons.items())
        ],
    }


def _describe(summary: dict[str, Any]) -> str:
    parts = [f"{summary['tracks_redacted']} of {summary['tracks']} tracked faces"]
    for key, what in (
        ("manual_boxes", "manual boxes"),
        ("full_frame_ranges", "whole-picture ranges"),
        ("audio_ranges", "audio ranges"),
    ):
        if summary[key]:
            parts.append(f"{summary[key]} {what}")
    why = ", ".join(r["code"] for r in summary["reasons"]) or "none given"
    return f"Redacted for public release ({summary['style']}): {', '.join(parts)}; reasons: {why}."


@dataclass(frozen=True)
class _Chosen:
    copy: RedactedCopy
    recording: Recording


def _choose(
    s: Session, ctx: Context, actor: Actor, req_id: str, number: str, copy_ids: Sequence[str]
) -> tuple[list[_Chosen], int]:
    """The copies to release (named, or the newest approved copy of each attached recording)
    and how many attached recordings are withheld."""
    attached = list(
        s.scalars(
            select(DisclosureRecording.recording_id)
            .where(DisclosureRecording.request_id == req_id)
            .order_by(DisclosureRecording.attached_at, DisclosureRecording.id)
        )
    )
    if not attached:
        raise DisclosureError(f"Request {number} has no footage attached; attach it first.")
    if copy_ids:
        copies = {
            c.id: c for c in s.scalars(select(RedactedCopy).where(RedactedCopy.id.in_(copy_ids)))
        }
        unknown = [c for c in copy_ids if c not in copies]
        if unknown:
            raise DisclosureError(f"There is no redacted copy {', '.join(unknown)}.")
        chosen = [copies[c] for c in copy_ids]
    else:
        chosen = []
        for rid in attached:
            newest = s.scalars(
                select(RedactedCopy)
                .where(
                    RedactedCopy.recording_id == rid,
                    RedactedCopy.status == CopyStatus.APPROVED.value,
                )
                .order_by(RedactedCopy.approved_at.desc(), RedactedCopy.id.desc())
                .limit(1)
            ).first()
            if newest is not None:
                chosen.append(newest)
        if not chosen:
            raise DisclosureError(
                f"No recording attached to request {number} has an approved redacted copy; "
                "redact, check and approve the footage first."
            )
    for c in chosen:
        if c.status != CopyStatus.APPROVED.value:
            raise DisclosureError(
                f"Redacted copy {c.id} is {c.status.replace('_', ' ')}, not approved; only "
                "approved copies are released."
            )
        if c.recording_id not in attached:
            raise DisclosureError(
                f"Redacted copy {c.id} is of recording {c.recording_id}, which is not attached "
                f"to request {number}; attach it first."
            )
    rids = [c.recording_id for c in chosen]
    if len(set(rids)) != len(rids):
        raise DisclosureError("Name at most one redacted copy per recording.")
    seen = {
        r.id: r
        for r in s.scalars(
            readable_recordings(actor, ctx.settings.officer_sees_own).where(Recording.id.in_(rids))
        )
    }
    hidden = [r for r in rids if r not in seen]
    if hidden:
        raise DisclosureError(f"There is no recording {', '.join(hidden)} that you may see.")
    withheld = len(set(attached) - set(rids))
    return [_Chosen(c, seen[c.recording_id]) for c in chosen], withheld


README = """\
Public release {number} by {agency}, made {date} with bodycam {version}.

files/             the released footage: redacted copies of the agency's recordings
manifest.json      what was released: every file's SHA-256 and size; for each video the
                   SHA-256 of the original recording it was redacted from, the hash of the
                   exact redaction plan, and what was redacted and why
manifest.sig       the agency's Ed25519 signature of manifest.json
public-key.pem     the agency's public key (also at the agency's /api/v1/audit/public-key)
{anchor}  the root certificate of the agency's C2PA (Content Credentials) signer
verify_release.py  a checker that needs only Python 3 and the cryptography package

Check the package (it fails, naming the file, on any changed byte):

    pip install cryptography
    python verify_release.py . --key AGENCY-KEY.pem

Each video also carries a C2PA manifest naming the original and the redaction; any C2PA
tool shows it (give it {anchor} as a trust anchor).
"""


def _store_bytes(store: BlobStore, data: bytes) -> str:
    return store.put_stream(io.BytesIO(data)).sha256


def build_release(
    ctx: Context,
    actor: Actor,
    number: str,
    *,
    copy_ids: Sequence[str] = (),
    now: dt.datetime | None = None,
    release_id: str | None = None,
    progress: Progress | None = None,
) -> DisclosureRelease:
    """Build, sign, store and audit a release package of a request (see the module doc).

    With ``release_id`` (a job's), a release already stored under that id is returned as
    it is, so a build run twice makes one release. ``progress`` gets (files done, files).
    """
    factory = ctx.sessions
    require(factory, actor, Permission.DISCLOSURE_RELEASE_BUILD, "build release packages", number)
    now = now or utcnow()
    wanted = clean_list(copy_ids, "Redacted copy id")
    if release_id is not None:
        with factory() as s:
            done = s.get(DisclosureRelease, release_id)
            if done is not None:
                s.expunge(done)
                return done
    with factory() as s:
        req = load(s, number)
        status = RequestStatus(req.status)
        if status not in BUILDABLE:
            raise DisclosureError(
                f"Request {req.number} is {status.value}; a release is built once it is in "
                "review (or released, to issue another package)."
            )
        chosen, withheld = _choose(s, ctx, actor, req.id, req.number, wanted)
        number, request_id = req.number, req.id
        s.expunge_all()
    creds = c2pa_credentials(ctx)
    release_id = release_id or new_id()
    steps = len(chosen) + 1  # each file, then signing and storing
    if progress is not None:
        progress(0, steps)
    settings = ctx.settings
    local_day = now.astimezone(ZoneInfo(settings.timezone)).date().isoformat()
    entries: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bodycam-release-") as tmp:
        for i, item in enumerate(chosen, 1):
            copy, rec = item.copy, item.recording
            plan = RedactionPlan.from_json(copy.plan)
            summary = redaction_summary(plan)
            name = f"files/{number}-{i:02d}.mp4"
            assertion = {
                "agency": settings.agency_name,
                "request": number,
                "source_sha256": copy.source_sha256,
                "redacted_copy_sha256": copy.sha256,
                "plan_sha256": copy.plan_hash,
                "summary": summary,
            }
            out = Path(tmp) / f"{i:02d}.mp4"
            try:
                with (
                    local_path(ctx.store, copy.sha256) as src,
                    local_path(ctx.store, rec.sha256) as parent,
                ):
                    label = embed_c2pa(
                        creds,
                        src,
                        out,
                        original=parent,
                        mime=_mime(rec),
                        title=name.removeprefix("files/"),
                        assertion=assertion,
                        description=_describe(summary),
                    )
            except BlobNotFound:
                raise DisclosureError(
                    f"Recording {rec.id} or its copy {copy.id} is not in the hot store "
                    "(archived?); restore it first."
                ) from None
            ctx.store.put_file(out)
            entries.append(
                file_entry(
                    out,
                    name,
                    kind="footage",
                    recording_id=rec.id,
                    recorded_start=rfc3339(rec.recorded_start),
                    source_sha256=copy.source_sha256,
                    redacted_copy_id=copy.id,
                    redacted_copy_sha256=copy.sha256,
                    redaction_plan_sha256=copy.plan_hash,
                    redaction=summary,
                    c2pa_manifest=label,
                )
            )
            if progress is not None:
                progress(i, steps)
        support = {
            "verify_release.py": VERIFIER.read_bytes(),
            C2PA_ANCHOR: creds.anchor,
            "README.txt": README.format(
                number=number,
                agency=settings.agency_name,
                date=local_day,
                version=__version__,
                anchor=C2PA_ANCHOR,
            ).encode("utf-8"),
        }
        for name, data in support.items():
            path = Path(tmp) / name
            path.write_bytes(data)
            _store_bytes(ctx.store, data)
            entries.append(file_entry(path, name, kind="support"))
    manifest = {
        "format": RELEASE_FORMAT,
        "release_id": release_id,
        "request": number,
        "release_date": local_day,
        "released_at": rfc3339(now),
        "agency": settings.agency_name,
        "bodycam_version": __version__,
        "signer": {
            "key_name": ctx.signer.key_name,
            "fingerprint": verify_release.fingerprint(ctx.signer.public_key),
        },
        "withheld_recordings": withheld,
        "files": entries,
    }
    text, signature = sign_manifest(ctx.signer, manifest, RELEASE_CONTEXT)
    manifest_sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    listing = [
        {k: e[k] for k in ("name", "sha256", "size", "kind") if k in e}
        | ({"recording_id": e["recording_id"]} if "recording_id" in e else {})
        for e in entries
    ]
    with transaction(factory) as s:
        req = load(s, number, lock=True)
        if RequestStatus(req.status) not in BUILDABLE:
            raise DisclosureError(f"Request {req.number} changed to {req.status} meanwhile.")
        release = DisclosureRelease(
            id=release_id,
            request_id=request_id,
            manifest=text,
            manifest_sha256=manifest_sha,
            signature=signature,
            public_key=public_key_pem(ctx.signer.private_key),
            key_name=ctx.signer.key_name,
            files=listing,
            created_by=actor.user_id,
            created_at=now,
        )
        s.add(release)
        footage = [e for e in entries if e["kind"] == "footage"]
        add_step(
            s,
            actor,
            req,
            "release",
            now,
            detail=f"release {release_id}: {len(footage)} file(s), manifest {manifest_sha}",
        )
        record(
            s,
            actor,
            AuditAction.DISCLOSURE_RELEASE_BUILD,
            "disclosure_request",
            number,
            {
                "release": release_id,
                "manifest_sha256": manifest_sha,
                "files": [{"name": e["name"], "sha256": e["sha256"]} for e in footage],
                "withheld": withheld,
            },
        )
        for e in footage:
            record(
                s,
                actor,
                AuditAction.DISCLOSURE_RECORDING_RELEASE,
                "recording",
                e["recording_id"],
                {
                    "request": number,
                    "release": release_id,
                    "copy": e["redacted_copy_id"],
                    "sha256": e["sha256"],
                    "plan_sha256": e["redaction_plan_sha256"],
                },
            )
        s.flush()
        s.expunge(release)
    if progress is not None:
        progress(steps, steps)
    return release


# --- reading (public: these were released) -----------------------------------------------


def list_releases(factory: sessionmaker[Session]) -> list[tuple[DisclosureRelease, str]]:
    """Every release with its request number, newest first (public information)."""
    with factory() as s:
        rows = [
            (release, number)
            for release, number in s.execute(
                select(DisclosureRelease, DisclosureRequest.number)
                .join(DisclosureRequest, DisclosureRequest.id == DisclosureRelease.request_id)
                .order_by(DisclosureRelease.created_at.desc(), DisclosureRelease.id.desc())
            )
        ]
        s.expunge_all()
    return rows


def get_release(factory: sessionmaker[Session], release_id: str) -> DisclosureRelease:
    """One release; LookupError with a sentence when there is none."""
    with factory() as s:
        release = s.get(DisclosureRelease, release_id)
        if release is None:
            raise LookupError(f"There is no release {release_id}.")
        s.expunge(release)
    return release


def manifest_of(release: DisclosureRelease) -> dict[str, Any]:
    """The release's signed manifest, parsed."""
    data: dict[str, Any] = json.loads(release.manifest)
    return data


def write_package(store: BlobStore, release: DisclosureRelease, dest: Path) -> Path:
    """Write the release package folder to ``dest`` (all or nothing; never overwrites)."""
    with staging(dest) as tmp:
        for entry in manifest_of(release)["files"]:
            copy_blob(store, entry["sha256"], tmp.joinpath(*entry["name"].split("/")))
        write_signed(tmp, release.manifest, release.signature, release.public_key)
    return dest


def write_zip(folder: Path) -> Path:
    """Zip a package folder next to it (``FOLDER.zip``); the folder is the zip's top level."""
    target = folder.with_name(folder.name + ".zip")
    if target.exists():
        raise DisclosureError(f"{target} already exists; choose a new folder name.")
    return Path(shutil.make_archive(str(folder), "zip", folder.parent, folder.name))


def check_c2pa(folder: Path, report: verify_release.Report) -> int:
    """Check the C2PA manifest of each released video against the package's trust anchor
    and manifest (adds problems to ``report``); return how many were checked."""
    anchor_path = folder / C2PA_ANCHOR
    manifest = report.manifest or {}
    if not anchor_path.is_file():
        return 0
    anchor = anchor_path.read_bytes()
    checked = 0
    for entry in manifest.get("files", []):
        if not isinstance(entry, dict) or entry.get("kind") != "footage":
            continue
        path = folder.joinpath(*str(entry.get("name", "")).split("/"))
        if not path.is_file():
            continue
        name = entry["name"]
        try:
            state, active = read_c2pa(path, anchor)
        except Exception as exc:  # the C2PA library raises its own error types
            report.problems.append(f"{name}: its C2PA manifest cannot be read ({exc}).")
            continue
        checked += 1
        if state not in ("Valid", "Trusted"):
            report.problems.append(
                f"{name}: its C2PA manifest does not validate ({state}): the file was changed "
                "after the agency signed it."
            )
            continue
        ours: dict[str, Any] = next(
            (
                a.get("data", {})
                for a in active.get("assertions", [])
                if a.get("label") == "org.bodycam.redaction"
            ),
            {},
        )
        if ours.get("plan_sha256") != entry.get("redaction_plan_sha256") or ours.get(
            "source_sha256"
        ) != entry.get("source_sha256"):
            report.problems.append(
                f"{name}: its C2PA redaction assertion names another original or plan than "
                "manifest.json."
            )
    return checked
