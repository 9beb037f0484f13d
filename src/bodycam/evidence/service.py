"""Evidence use cases: ingest, search, view, stream, download and metadata edits.

Every function takes its collaborators explicitly and checks authorization
itself, so the CLI, the API and jobs obey the same rules. Each access writes one
audit record in the same transaction; bytes are served only after it commits.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import CompoundSelect, func, or_, select, union
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bodycam import faults
from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, record_denial
from bodycam.auth.actor import Actor, PermissionDenied
from bodycam.auth.models import User
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.evidence.access import allowed_access_classes, has_any_view, readable_recordings
from bodycam.evidence.models import (
    UNCATEGORIZED,
    AccessClass,
    Category,
    Recording,
    RecordingCase,
    RecordingEdit,
    RecordingExtraCategory,
    RecordingTag,
)
from bodycam.evidence.probe import ProbeError, ProbeResult, probe
from bodycam.ids import as_utc
from bodycam.policy.enforce import check_recording_access
from bodycam.retention import service as retention
from bodycam.storage import BlobInfo, BlobStore

if TYPE_CHECKING:
    from bodycam.context import Context


class EvidenceError(Exception):
    """Bad input for an evidence action; the message is a sentence naming the problem."""


class NotFound(EvidenceError):
    """No such recording, or none the actor may see (the two are not told apart)."""


@dataclass(frozen=True)
class Vault:
    """The collaborators of evidence services."""

    sessions: sessionmaker[Session]
    store: BlobStore
    officer_sees_own: bool = True
    full_decode: bool = False  # ingest decodes every frame, not only keyframes

    @classmethod
    def from_context(cls, ctx: Context) -> Vault:
        """The evidence collaborators of a deployment, with its policy settings."""
        s = ctx.settings
        return cls(ctx.sessions, ctx.store, s.officer_sees_own, s.ingest_decode == "all")


@dataclass(frozen=True)
class IngestResult:
    """The outcome of ingesting one file."""

    id: str
    sha256: str
    duplicate: bool
    size_bytes: int
    filename: str


def ensure_category(session: Session, name: str, access_class: str = "normal") -> Category:
    """The category ``name``, created with ``access_class`` when missing."""
    cat = session.scalars(select(Category).where(Category.name == name)).first()
    if cat is None:
        AccessClass(access_class)
        cat = Category(name=name, access_class=access_class)
        session.add(cat)
        session.flush()
    return cat


def create_category(
    vault: Vault, actor: Actor, name: str, access_class: str = "normal", description: str = ""
) -> Category:
    """Create a category or change its access class (administrators)."""
    actor.require(Permission.CATEGORY_MANAGE, "manage categories")
    try:
        AccessClass(access_class)
    except ValueError:
        choices = ", ".join(a.value for a in AccessClass)
        raise EvidenceError(f"Unknown access class {access_class!r}; choose {choices}.") from None
    with transaction(vault.sessions) as s:
        cat = s.scalars(select(Category).where(Category.name == name)).first()
        old = None
        if cat is None:
            cat = Category(name=name, access_class=access_class, description=description)
            s.add(cat)
            s.flush()
        else:
            old = cat.access_class
            cat.access_class = access_class
            if description:
                cat.description = description
        record(
            s,
            actor,
            AuditAction.CATEGORY_CREATE,
            "category",
            cat.id,
            {"name": name, "access_class": access_class, "previous": old},
        )
        return cat


def list_categories(session: Session) -> list[Category]:
    """Every category, by name."""
    return list(session.scalars(select(Category).order_by(Category.name)))


def _find_officer(session: Session, badge: str) -> User:
    user = session.scalars(select(User).where(User.badge == badge)).first()
    if user is None:
        raise EvidenceError(f"No officer has badge {badge}.")
    if not user.active:
        raise EvidenceError(f"The officer with badge {badge} is disabled.")
    return user


def _category_named(session: Session, name: str | None) -> Category:
    name = name or UNCATEGORIZED
    cat = session.scalars(select(Category).where(Category.name == name)).first()
    if cat is None:
        known = ", ".join(c.name for c in list_categories(session)) or "none"
        raise EvidenceError(f"Unknown category {name!r}; known categories: {known}.")
    return cat


def _check_may_ingest_for(actor: Actor, officer: User) -> None:
    actor.require(Permission.RECORDING_INGEST, "ingest recordings")
    if officer.id == actor.user_id or actor.can(Permission.RECORDING_VIEW_ANY):
        return
    if actor.can(Permission.RECORDING_VIEW_SQUAD) and actor.squad_id == officer.squad_id:
        return
    raise PermissionDenied(
        f"User {actor.username} ({actor.role.value}) may not ingest recordings for "
        f"badge {officer.badge}: only their own"
        + (" or their squad's." if actor.can(Permission.RECORDING_VIEW_SQUAD) else "."),
        actor,
    )


def authorize_ingest(vault: Vault, actor: Actor, officer_badge: str) -> str:
    """Check that ``actor`` may ingest for the officer with ``officer_badge``; their user id.

    Cheap, so the API calls it before accepting an upload's body. A refusal is audited.
    """
    with vault.sessions() as s:
        officer = _find_officer(s, officer_badge)
        try:
            _check_may_ingest_for(actor, officer)
        except PermissionDenied as exc:
            record_denial(vault.sessions, actor, f"ingest for badge {officer_badge}")
            exc.audited = True
            raise
        return officer.id


def ingest_file(
    vault: Vault,
    actor: Actor,
    path: Path,
    *,
    officer_badge: str,
    camera_serial: str | None = None,
    category: str | None = None,
    expected_sha256: str | None = None,
    display_name: str | None = None,
    title: str = "",
    tags: Sequence[str] = (),
    cases: Sequence[str] = (),
    recorded_start: datetime | None = None,
) -> IngestResult:
    """Probe, store durably, then commit the row and its audit record; acknowledge last.

    Order matters for crash safety: the blob is fsynced before the row commits,
    so a row never points at a missing blob; a crash before the commit leaves at
    most an unreferenced blob (adopted by the next ingest of the same bytes).
    """
    name = display_name or path.name
    officer_id = authorize_ingest(vault, actor, officer_badge)
    with vault.sessions() as s:
        cat_id = _category_named(s, category).id
    try:
        meta = probe(path, display_name=name, keyframes_only=not vault.full_decode)
    except ProbeError as exc:
        raise EvidenceError(str(exc)) from None
    except OSError as exc:
        raise EvidenceError(f"{name} cannot be read: {exc.strerror or exc}.") from None
    info = vault.store.put_file(path, expected_sha256=expected_sha256)
    result = _commit_ingest(
        vault,
        actor,
        info,
        meta,
        name,
        officer_id,
        cat_id,
        camera_serial,
        title,
        tags,
        cases,
        recorded_start or _start_time(meta, path),
    )
    if camera_serial:  # fleet: warn when a camera under an open recall uploads (never raises)
        from bodycam.fleet.recall_warnings import warn_if_recalled

        warn_if_recalled(vault.sessions, actor, result.id, camera_serial)
    if not result.duplicate:  # jobs: the poster, made now unless workers take it
        from bodycam.evidence.jobs import after_ingest

        after_ingest(vault.sessions, vault.store, result.id)
    return result


def _queue_jobs(session: Session, recording_id: str, decoded_all: bool) -> None:
    """Queue a new recording's background jobs (poster, full probe) in its transaction."""
    from bodycam.evidence.jobs import queue_after_ingest

    queue_after_ingest(session, recording_id, decoded_all=decoded_all)


def _start_time(meta: ProbeResult, path: Path) -> datetime:
    if meta.creation_time is not None:
        return as_utc(meta.creation_time)
    return datetime.fromtimestamp(os.stat(path).st_mtime, UTC) - timedelta(seconds=meta.duration_s)


def _commit_ingest(
    vault: Vault,
    actor: Actor,
    info: BlobInfo,
    meta: ProbeResult,
    name: str,
    officer_id: str,
    category_id: str,
    camera_serial: str | None,
    title: str,
    tags: Sequence[str],
    cases: Sequence[str],
    start: datetime,
) -> IngestResult:
    for attempt in range(2):
        try:
            with transaction(vault.sessions) as s:
                existing = s.scalars(
                    select(Recording).where(Recording.sha256 == info.sha256)
                ).first()
                if existing is not None:
                    record(
                        s,
                        actor,
                        AuditAction.RECORDING_INGEST_DUPLICATE,
                        "recording",
                        existing.id,
                        {"sha256": info.sha256, "filename": name},
                    )
                    return IngestResult(existing.id, info.sha256, True, existing.size_bytes, name)
                rec = Recording(
                    sha256=info.sha256,
                    size_bytes=info.size,
                    original_filename=name[:255],
                    officer_id=officer_id,
                    camera_serial=camera_serial,
                    category_id=category_id,
                    title=title or Path(name).stem,
                    recorded_start=start,
                    recorded_end=start + timedelta(seconds=meta.duration_s),
                    ingested_by=actor.user_id,
                    container=meta.container,
                    video_codec=meta.video_codec,
                    audio_codec=meta.audio_codec,
                    duration_s=meta.duration_s,
                    width=meta.width,
                    height=meta.height,
                    fps=meta.fps,
                    has_audio=meta.has_audio,
                    frame_count=meta.frame_count,
                    creation_time=meta.creation_time,
                )
                rec.tags = [RecordingTag(tag=t) for t in _normalise(tags)]
                rec.cases = [RecordingCase(case_number=c) for c in _normalise(cases)]
                s.add(rec)
                s.flush()
                retention.apply_to(s, rec)
                _queue_jobs(s, rec.id, vault.full_decode)
                record(
                    s,
                    actor,
                    AuditAction.RECORDING_INGEST,
                    "recording",
                    rec.id,
                    {
                        "sha256": info.sha256,
                        "size": info.size,
                        "filename": name,
                        "officer_id": officer_id,
                        "camera": camera_serial,
                        "blob_was_new": info.created,
                    },
                )
                faults.point("ingest.row_flushed")
                result = IngestResult(rec.id, info.sha256, False, info.size, name)
            faults.point("ingest.committed")
            return result
        except IntegrityError:
            # Another process committed the same bytes between our check and insert.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _sync_children(session: Session, rec: Recording, fld: str, values: list[str]) -> None:
    """Make rec's tags or cases equal ``values``: delete what went, then add what is new.

    Deleting first (and flushing) matters: the unit of work would otherwise insert
    the new rows before deleting old ones and trip the unique constraint.
    """
    wanted = set(values)
    if fld == "tags":
        for t in [t for t in rec.tags if t.tag not in wanted]:
            rec.tags.remove(t)
        session.flush()
        have = {t.tag for t in rec.tags}
        rec.tags.extend(RecordingTag(tag=v) for v in values if v not in have)
    else:
        for c in [c for c in rec.cases if c.case_number not in wanted]:
            rec.cases.remove(c)
        session.flush()
        have = {c.case_number for c in rec.cases}
        rec.cases.extend(RecordingCase(case_number=v) for v in values if v not in have)


def _normalise(values: Sequence[str]) -> list[str]:
    return sorted({v.strip() for v in values if v and v.strip()})


@dataclass(frozen=True)
class SearchQuery:
    """Filters for listing recordings; every field optional."""

    officer: str | None = None  # badge or user name
    start_from: datetime | None = None
    start_to: datetime | None = None
    category: str | None = None
    tag: str | None = None
    text: str | None = None
    camera: str | None = None
    page: int = 1
    per_page: int = 50

    def as_details(self) -> dict[str, Any]:
        """The non-empty filters, for the audit record."""
        return {k: v for k, v in self.__dict__.items() if v not in (None, "")}


COUNT_CAP = 10_000
"""A search counts its matches up to this many (or to the end of the page asked for)."""


@dataclass
class Page:
    """One page of results."""

    items: list[Recording]
    total: int
    page: int
    per_page: int
    officers: dict[str, User] = field(default_factory=dict)
    categories: dict[str, Category] = field(default_factory=dict)
    total_exact: bool = True
    """False when more recordings match than were counted: ``total`` is then a lower
    bound (the count stops at :data:`COUNT_CAP`, or just past the page asked for)."""

    @property
    def pages(self) -> int:
        """Number of pages (of the counted matches when ``total_exact`` is False)."""
        return max(1, -(-self.total // self.per_page))

    @property
    def counted(self) -> str:
        """The number of matches as a reader should see it ("more than 10,000" when capped)."""
        return f"{self.total:,}" if self.total_exact else f"more than {self.total:,}"

    @property
    def has_next(self) -> bool:
        """Whether a further page has matches."""
        return self.page < self.pages or not self.total_exact


def _text_matches(text: str) -> CompoundSelect[tuple[str]]:
    """Ids of recordings whose title, notes, file name or a case number contain ``text``.

    A UNION of one lookup per column: on PostgreSQL each uses its trigram index
    (migration 0020), where an OR of them with a sub-select forced a scan of every
    recording.
    """
    like = f"%{text.lower()}%"
    return union(
        select(Recording.id).where(func.lower(Recording.title).like(like)),
        select(Recording.id).where(func.lower(Recording.notes).like(like)),
        select(Recording.id).where(func.lower(Recording.original_filename).like(like)),
        select(RecordingCase.recording_id).where(func.lower(RecordingCase.case_number).like(like)),
    )


def search(vault: Vault, actor: Actor, q: SearchQuery) -> Page:
    """List the recordings the actor may see that match ``q``; the search is audited."""
    if not has_any_view(actor):
        record_denial(vault.sessions, actor, "search recordings")
        denied = PermissionDenied(
            f"User {actor.username} ({actor.role.value}) may not view recordings.", actor
        )
        denied.audited = True
        raise denied
    if q.page < 1 or not 1 <= q.per_page <= 500:
        raise EvidenceError("page must be 1 or more and per_page between 1 and 500.")
    stmt = readable_recordings(actor, vault.officer_sees_own)
    if q.officer:
        stmt = stmt.join(User, User.id == Recording.officer_id).where(
            or_(User.badge == q.officer, User.username == q.officer)
        )
    if q.start_from:
        stmt = stmt.where(Recording.recorded_start >= as_utc(q.start_from))
    if q.start_to:
        stmt = stmt.where(Recording.recorded_start < as_utc(q.start_to))
    if q.category:
        stmt = stmt.where(Category.name == q.category)
    if q.camera:
        stmt = stmt.where(Recording.camera_serial == q.camera)
    if q.tag:
        stmt = stmt.where(
            Recording.id.in_(select(RecordingTag.recording_id).where(RecordingTag.tag == q.tag))
        )
    if q.text:
        stmt = stmt.where(Recording.id.in_(_text_matches(q.text)))
    with transaction(vault.sessions) as s:
        # Count at most to the cap (or just past the page asked for), so a list of
        # millions costs what a list of ten thousand does.
        upto = max(COUNT_CAP, q.page * q.per_page) + 1
        counted = s.scalar(select(func.count()).select_from(stmt.limit(upto).subquery())) or 0
        total, exact = (counted, True) if counted < upto else (upto - 1, False)
        items = list(
            s.scalars(
                stmt.order_by(Recording.recorded_start.desc(), Recording.id)
                .offset((q.page - 1) * q.per_page)
                .limit(q.per_page)
            )
        )
        details = q.as_details() | {"results": total}
        if not exact:
            details["results_more"] = True
        record(s, actor, AuditAction.RECORDING_SEARCH, "recording", "*", details)
        officers = {
            u.id: u
            for u in s.scalars(select(User).where(User.id.in_({r.officer_id for r in items})))
        }
        cats = {c.id: c for c in list_categories(s)}
        return Page(items, total, q.page, q.per_page, officers, cats, exact)


def _readable(session: Session, vault: Vault, actor: Actor, recording_id: str) -> Recording:
    rec = session.scalars(
        readable_recordings(actor, vault.officer_sees_own).where(Recording.id == recording_id)
    ).first()
    if rec is None:
        raise NotFound(f"There is no recording {recording_id} that you may see.")
    return rec


def _guard(
    vault: Vault, actor: Actor, what: str, recording_id: str, perm: Permission | None
) -> None:
    """Check a permission and object scope before an action; audit a refusal."""
    try:
        if perm is not None:
            actor.require(perm, what)
        if not has_any_view(actor):
            raise PermissionDenied(
                f"User {actor.username} ({actor.role.value}) may not view recordings."
            )
        with vault.sessions() as s:
            rec = _readable(s, vault, actor, recording_id)
            check_recording_access(vault.sessions, s, actor, rec, what)  # the camera policy
    except (PermissionDenied, NotFound) as exc:
        record_denial(vault.sessions, actor, what, recording_id)
        if isinstance(exc, PermissionDenied):
            exc.audited = True
        raise


@dataclass
class RecordingView:
    """A recording with what a detail page shows."""

    recording: Recording
    officer: User
    category: Category
    edits: list[RecordingEdit]


def view(vault: Vault, actor: Actor, recording_id: str) -> RecordingView:
    """Open a recording's details (audited as a view)."""
    _guard(vault, actor, f"view recording {recording_id}", recording_id, None)
    with transaction(vault.sessions) as s:
        rec = _readable(s, vault, actor, recording_id)
        record(s, actor, AuditAction.RECORDING_VIEW, "recording", rec.id, {"sha256": rec.sha256})
        officer = s.get(User, rec.officer_id)
        cat = s.get(Category, rec.category_id)
        edits = list(
            s.scalars(
                select(RecordingEdit)
                .where(RecordingEdit.recording_id == rec.id)
                .order_by(RecordingEdit.at)
            )
        )
        assert officer is not None and cat is not None
        return RecordingView(rec, officer, cat, edits)


@dataclass(frozen=True)
class ByteRange:
    """Bytes [start, end) of a blob of ``size`` bytes."""

    start: int
    end: int
    size: int


def parse_range(header: str | None, size: int) -> ByteRange | None:
    """Parse a single HTTP ``Range: bytes=a-b`` header (None: whole file).

    Raises EvidenceError for ranges that cannot be satisfied.
    """
    if not header:
        return None
    unit, _, spec = header.partition("=")
    if unit.strip().lower() != "bytes" or "," in spec:
        raise EvidenceError(f"Unsupported Range header {header!r}.")
    first, _, last = spec.strip().partition("-")
    try:
        if first == "":
            n = int(last)
            if n <= 0:
                raise ValueError
            start, end = max(0, size - n), size
        else:
            start = int(first)
            end = min(size, int(last) + 1) if last else size
    except ValueError:
        raise EvidenceError(f"Malformed Range header {header!r}.") from None
    if start >= size or start >= end:
        raise EvidenceError(f"Range {header!r} is outside the file's {size} bytes.")
    return ByteRange(start, end, size)


def open_stream(
    vault: Vault,
    actor: Actor,
    recording_id: str,
    range_header: str | None,
    *,
    download: bool = False,
) -> tuple[Recording, ByteRange | None, Iterator[bytes]]:
    """Authorize and audit a stream or download, then return its bytes iterator."""
    what = f"{'download' if download else 'play'} recording {recording_id}"
    _guard(vault, actor, what, recording_id, Permission.RECORDING_DOWNLOAD if download else None)
    with transaction(vault.sessions) as s:
        rec = _readable(s, vault, actor, recording_id)
        if rec.tier != "hot":
            raise EvidenceError(
                f"Recording {recording_id} is in the archive tier; restore it first "
                f"(bodycam retention restore {recording_id})."
            )
        rng = parse_range(range_header, rec.size_bytes)
        action = AuditAction.RECORDING_DOWNLOAD if download else AuditAction.RECORDING_STREAM
        details: dict[str, Any] = {"sha256": rec.sha256}
        if rng is not None:
            details |= {"range_start": rng.start, "range_end": rng.end}
        record(s, actor, action, "recording", rec.id, details)
    start, end = (rng.start, rng.end) if rng else (0, rec.size_bytes)
    return rec, rng, vault.store.iter_bytes(rec.sha256, start, end)


EDITABLE = ("title", "notes", "category", "extra_categories", "tags", "cases", "camera_serial")


def edit(vault: Vault, actor: Actor, recording_id: str, changes: dict[str, Any]) -> Recording:
    """Change metadata; each changed field keeps a history row and one audit record."""
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise EvidenceError(
            f"Cannot edit {', '.join(sorted(unknown))}; editable fields: {', '.join(EDITABLE)}."
        )
    _guard(vault, actor, f"edit recording {recording_id}", recording_id, Permission.RECORDING_EDIT)
    with transaction(vault.sessions) as s:
        rec = _readable(s, vault, actor, recording_id)
        for fld, new in changes.items():
            old: Any
            if fld == "category":
                cat = _category_named(s, str(new))
                if cat.access_class not in allowed_access_classes(actor):
                    raise PermissionDenied(
                        f"User {actor.username} ({actor.role.value}) may not move a recording "
                        f"into {cat.name}: its {cat.access_class} access class would hide it "
                        "from them.",
                        actor,
                        rec.id,
                    )
                old_cat = s.get(Category, rec.category_id)
                old, new = (old_cat.name if old_cat else None), cat.name
                if old == new:
                    continue
                rec.category_id = cat.id
                retention.apply_to(s, rec)
                action = AuditAction.RECORDING_CATEGORY_CHANGE
            elif fld == "extra_categories":
                names = _normalise([new] if isinstance(new, str) else list(new))
                old = [e.name for e in rec.extra_categories]
                if old == names:
                    continue
                cats = [_category_named(s, n) for n in names]
                for e in list(rec.extra_categories):
                    rec.extra_categories.remove(e)
                s.flush()
                rec.extra_categories.extend(
                    RecordingExtraCategory(category_id=c.id, name=c.name) for c in cats
                )
                s.flush()
                retention.apply_to(s, rec)
                new = names
                action = AuditAction.RECORDING_CATEGORY_CHANGE
            elif fld in ("tags", "cases"):
                values = _normalise([new] if isinstance(new, str) else list(new))
                old = (
                    [t.tag for t in rec.tags]
                    if fld == "tags"
                    else [c.case_number for c in rec.cases]
                )
                if old == values:
                    continue
                _sync_children(s, rec, fld, values)
                new = values
                action = AuditAction.RECORDING_EDIT
            else:
                old = getattr(rec, fld)
                new = None if new is None else str(new)
                if fld == "title" and not (new or "").strip():
                    raise EvidenceError("The title cannot be empty.")
                if old == new:
                    continue
                setattr(rec, fld, new)
                action = AuditAction.RECORDING_EDIT
            s.add(
                RecordingEdit(
                    recording_id=rec.id,
                    user_id=actor.user_id,
                    field=fld,
                    old_value=old,
                    new_value=new,
                )
            )
            record(s, actor, action, "recording", rec.id, {"field": fld, "old": old, "new": new})
        s.flush()
        return rec


def iter_blob_refs(session: Session, tier: str = "hot") -> Iterator[tuple[str, str, int, str]]:
    """(id, sha256, size, file name) of every recording held in ``tier``, for checks."""
    stmt = (
        select(Recording.id, Recording.sha256, Recording.size_bytes, Recording.original_filename)
        .where(Recording.purged_at.is_(None), Recording.tier == tier)
        .order_by(Recording.id)
    )
    for row in session.execute(stmt.execution_options(yield_per=1000)):
        yield row[0], row[1], row[2], row[3]
