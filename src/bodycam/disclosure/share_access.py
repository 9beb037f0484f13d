"""The recipient's side of external shares: the link, the code, the page, the video.

The recipient has no account. :func:`check_link` answers the code form;
:func:`exchange_code` trades the right code for a short-lived share session (its cookie's
secret is returned once, its hash stored); :func:`recipient_view` and :func:`open_item`
need that session. What is streamed or downloaded is never the vault's bytes but the
item's watermarked derivative (:mod:`bodycam.disclosure.watermark_cache`), made by a
``share.watermark`` job (:func:`prepare_item`), never in the web request: until it is
ready the page shows how far the job is, and a play or download is answered
:class:`~bodycam.disclosure.shares.NotReady`. A missing derivative (never queued, swept,
lost) gets a job queued by the next view. Every opening, wrong code, view, stream request
and download is audited in the transaction that does it; every refused use of a link
(unknown, revoked, expired, locked, download not allowed) in a transaction of its own,
before the refusal is raised. The audit actor is the recipient as the share names them
(role ``external``, via ``share``).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record
from bodycam.auth.actor import Actor
from bodycam.auth.passwords import check_password
from bodycam.auth.permissions import Role
from bodycam.db import transaction
from bodycam.disclosure import watermark_cache as cache
from bodycam.disclosure.share_models import Share, ShareItem, ShareSession, ShareState
from bodycam.disclosure.shares import (
    LIVE,
    MAX_WRONG_CODES,
    SESSION_IDLE,
    SESSION_MAX,
    BadRange,
    NotReady,
    SessionRequired,
    ShareError,
    ShareNotFound,
    ShareRefused,
    Sharing,
    WrongCode,
    add_access,
    normal_code,
    queue_watermark,
    recipient_details,
    share_state,
    token_hash,
    watermark_jobs,
)
from bodycam.evidence.models import Recording
from bodycam.evidence.service import ByteRange, EvidenceError, parse_range
from bodycam.ids import utcnow
from bodycam.jobs.models import JobStatus
from bodycam.redaction.engine import RedactionError


def _recipient(share: Share | None, ip: str) -> Actor:
    """The audit actor of whoever holds a share link (the recipient, as far as we know)."""
    if share is None:
        return Actor("anonymous", "unknown share link", Role.EXTERNAL, via="share", ip=ip)
    return Actor(f"share:{share.id}", share.recipient_name[:100], Role.EXTERNAL, via="share", ip=ip)


_REASONS = {
    ShareState.REVOKED: "This link was revoked by the agency that sent it.",
    ShareState.EXPIRED: "This link has expired.",
    ShareState.LOCKED: (
        "This link is locked after too many wrong codes; ask the sender for a new code."
    ),
}


@dataclass
class _Refusal:
    """A refusal decided inside a transaction, recorded and raised after it."""

    error: ShareError
    share_id: str | None
    reason: str
    asked: str
    details: dict[str, Any] = field(default_factory=dict)


def _refuse(sharing: Sharing, refusal: _Refusal, ip: str, now: datetime) -> ShareError:
    """Record a refused use of a link in its own transaction; return the error to raise."""
    with transaction(sharing.sessions) as s:
        share = s.get(Share, refusal.share_id) if refusal.share_id else None
        record(
            s,
            _recipient(share, ip),
            AuditAction.RECIPIENT_REFUSED,
            "share",
            share.id if share else "-",
            (recipient_details(share) if share else {})
            | {"reason": refusal.reason, "asked": refusal.asked}
            | refusal.details,
        )
        if share is not None:
            add_access(
                s,
                share,
                "refused",
                now,
                by=share.recipient_name,
                ip=ip,
                detail=f"{refusal.asked}: {refusal.reason}",
            )
    if refusal.share_id and refusal.reason in (ShareState.REVOKED, ShareState.EXPIRED):
        cache.discard(sharing.folder, refusal.share_id)  # the share ended: its copies go
    return refusal.error


def _by_token(s: Session, token: str, *, lock: bool = False) -> Share | None:
    if not token or len(token) > 200:
        return None
    stmt = select(Share).where(Share.token_sha256 == token_hash(token))
    if lock:
        stmt = stmt.with_for_update()
    return s.scalars(stmt).first()


def _check_live(s: Session, share: Share | None, now: datetime, asked: str) -> _Refusal | None:
    if share is None:
        return _Refusal(
            ShareNotFound("There is no share behind this link."), None, "unknown link", asked
        )
    state = share_state(s, share, now)
    if state in _REASONS:
        return _Refusal(ShareRefused(_REASONS[state]), share.id, state.value, asked)
    return None


@dataclass(frozen=True)
class LinkInfo:
    """What the code form shows: who the share is for and until when."""

    recipient_name: str
    expires_at: datetime


def check_link(
    sharing: Sharing, token: str, *, ip: str = "", now: datetime | None = None
) -> LinkInfo:
    """The share behind a link, for the code form; a refused link (unknown, revoked,
    expired, locked) is audited and raised."""
    now = now or utcnow()
    with sharing.sessions() as s:
        share = _by_token(s, token)
        refusal = _check_live(s, share, now, "open the link")
        if refusal is None:
            assert share is not None
            return LinkInfo(share.recipient_name, share.expires_at)
    raise _refuse(sharing, refusal, ip, now)


@dataclass(frozen=True)
class OpenedSession:
    """A new share session: the cookie's secret (never stored) and when it ends."""

    secret: str
    expires_at: datetime


def exchange_code(
    sharing: Sharing, token: str, code: str, *, ip: str = "", now: datetime | None = None
) -> OpenedSession:
    """Trade the right code for a share session. A wrong code is counted and audited; the
    fifth locks the share. A refused link is audited and raised."""
    now = now or utcnow()
    refusal: _Refusal | None = None
    failed: ShareError | None = None  # a wrong code, recorded in the transaction below
    opened: OpenedSession | None = None
    with transaction(sharing.sessions) as s:
        share = _by_token(s, token, lock=True)  # the row lock orders concurrent guesses
        refusal = _check_live(s, share, now, "give the code")
        if refusal is None:
            assert share is not None
            who = _recipient(share, ip)
            if check_password(share.code_hash, normal_code(code)):
                secret = secrets.token_urlsafe(32)
                ends = min(now + SESSION_MAX, share.expires_at)
                s.add(
                    ShareSession(
                        id_sha256=token_hash(secret),
                        share_id=share.id,
                        created_at=now,
                        last_seen_at=now,
                        expires_at=ends,
                        ip=ip[:64],
                    )
                )
                record(
                    s,
                    who,
                    AuditAction.RECIPIENT_OPEN,
                    "share",
                    share.id,
                    recipient_details(share) | {"session_expires_at": ends},
                )
                add_access(s, share, "opened", now, by=share.recipient_name, ip=ip)
                opened = OpenedSession(secret, ends)
            else:
                share.failed_codes += 1
                locked = share.failed_codes >= MAX_WRONG_CODES
                if locked:
                    share.locked_at = now
                    s.execute(delete(ShareSession).where(ShareSession.share_id == share.id))
                record(
                    s,
                    who,
                    AuditAction.RECIPIENT_CODE_FAILURE,
                    "share",
                    share.id,
                    recipient_details(share)
                    | {"wrong_codes": share.failed_codes, "locked": locked},
                )
                add_access(
                    s,
                    share,
                    "wrong code",
                    now,
                    by=share.recipient_name,
                    ip=ip,
                    detail=f"{share.failed_codes} of {MAX_WRONG_CODES}"
                    + ("; locked" if locked else ""),
                )
                left = MAX_WRONG_CODES - share.failed_codes
                failed = (
                    ShareRefused(_REASONS[ShareState.LOCKED])
                    if locked
                    else WrongCode(
                        f"That code is not right; {left} more wrong code(s) lock this link.",
                        left,
                    )
                )
    if opened is not None:
        return opened
    if failed is not None:
        raise failed
    assert refusal is not None  # refused before the code was checked: recorded apart
    raise _refuse(sharing, refusal, ip, now)


def _session(s: Session, share: Share, secret: str | None, now: datetime) -> ShareSession | None:
    if not secret or len(secret) > 200:
        return None
    sess = s.get(ShareSession, token_hash(secret))
    if sess is None or sess.share_id != share.id:
        return None
    if now >= sess.expires_at or now - sess.last_seen_at > SESSION_IDLE:
        s.delete(sess)
        return None
    sess.last_seen_at = now
    return sess


@dataclass(frozen=True)
class RecipientItem:
    """One item on the recipient's page."""

    position: int
    label: str
    kind: str
    duration_s: float
    ready: bool
    """Its watermarked copy is made: it plays at once."""
    percent: int | None
    """How far its watermarked copy is (0 to 99), while it is being made."""
    problem: str | None = None
    """Why its watermarked copy cannot be made (the job failed); the sender can retry it."""


@dataclass(frozen=True)
class RecipientView:
    """What the recipient's page shows."""

    share_id: str
    recipient_name: str
    recipient_org: str
    recipient_role: str
    case_number: str
    expires_at: datetime
    allow_download: bool
    session_expires_at: datetime
    items: list[RecipientItem]

    @property
    def preparing(self) -> bool:
        """Whether some item's watermarked copy is still being made."""
        return any(not i.ready and i.problem is None for i in self.items)


def _lines(sharing: Sharing, share: Share) -> tuple[str, ...]:
    """The watermark's text: the recipient; the share, its date and a warning."""
    who = share.recipient_name + (f", {share.recipient_org}" if share.recipient_org else "")
    day = share.created_at.astimezone(ZoneInfo(sharing.timezone)).strftime("%Y-%m-%d")
    return (
        f"Shared with {who} ({share.recipient_role})",
        f"share {share.id} - {day} - not for redistribution",
    )


def _order(sharing: Sharing, share: Share, item: ShareItem) -> cache.RenderOrder:
    return cache.RenderOrder(
        sharing.folder, share.id, item.position, item.sha256, _lines(sharing, share)
    )


@dataclass(frozen=True)
class _Prepared:
    """Where an item's watermarked copy stands."""

    ready: cache.Derivative | None
    percent: int | None
    problem: str | None


def _preparation(
    s: Session, sharing: Sharing, share: Share, items: list[ShareItem]
) -> dict[int, _Prepared]:
    """Where each item's watermarked copy stands; a ``share.watermark`` job is queued (in
    ``s``'s transaction) for each one that is missing and has none under way."""
    jobs = watermark_jobs(s, share.id)
    out = {}
    for it in items:
        order = _order(sharing, share, it)
        done = cache.ready(order.folder, order.share_id, order.position, order.source_sha256)
        job = jobs.get(it.position)
        if done is not None:
            out[it.position] = _Prepared(done, None, None)
        elif job is not None and job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            percent = min(99, int(100 * job.done / job.total)) if job.total else 0
            out[it.position] = _Prepared(None, percent, None)
        elif job is not None and job.status == JobStatus.QUARANTINED:
            out[it.position] = _Prepared(
                None, None, f"Item {it.position} cannot be prepared: {job.error}"
            )
        else:  # never queued, or made and since deleted (swept): make it (again)
            queue_watermark(s, share.id, it.position, after=job, created_by=None)
            out[it.position] = _Prepared(None, 0, None)
    return out


def _enter(
    s: Session, token: str, secret: str | None, now: datetime, asked: str
) -> tuple[Share | None, ShareSession | None, _Refusal | None]:
    """The share and live session behind a link and cookie, or the refusal."""
    share = _by_token(s, token)
    refusal = _check_live(s, share, now, asked)
    if refusal is not None or share is None:
        return share, None, refusal
    return share, _session(s, share, secret, now), None


def _item_rows(s: Session, share: Share) -> list[tuple[ShareItem, float]]:
    return [
        (it, float(duration))
        for it, duration in s.execute(
            select(ShareItem, Recording.duration_s)
            .join(Recording, Recording.id == ShareItem.recording_id)
            .where(ShareItem.share_id == share.id)
            .order_by(ShareItem.position)
        ).all()
    ]


def _recipient_items(
    s: Session, sharing: Sharing, share: Share, rows: list[tuple[ShareItem, float]]
) -> list[RecipientItem]:
    prepared = _preparation(s, sharing, share, [it for it, _ in rows])
    out = []
    for it, duration in rows:
        p = prepared[it.position]
        out.append(
            RecipientItem(
                it.position,
                it.label,
                "redacted copy" if it.copy_id else "original",
                duration,
                p.ready is not None,
                p.percent,
                p.problem,
            )
        )
    return out


def recipient_progress(
    sharing: Sharing,
    token: str,
    secret: str | None,
    *,
    ip: str = "",
    now: datetime | None = None,
) -> list[RecipientItem]:
    """How far each item's watermarked copy is, for the share page while it waits. Shows
    no footage, so it is not audited as a view; a refused link is audited and raised."""
    now = now or utcnow()
    with transaction(sharing.sessions) as s:
        share, sess, refusal = _enter(s, token, secret, now, "follow the share's preparation")
        if refusal is None:
            if share is None or sess is None:
                raise SessionRequired("Give the code you were sent to open this link.")
            return _recipient_items(s, sharing, share, _item_rows(s, share))
    raise _refuse(sharing, refusal, ip, now)


def recipient_view(
    sharing: Sharing,
    token: str,
    secret: str | None,
    *,
    ip: str = "",
    now: datetime | None = None,
) -> RecipientView:
    """The share's page for the recipient (audited as a view). Raises `SessionRequired`
    without a live session, and audits and raises a refused link. Queues a
    ``share.watermark`` job for each watermarked copy that is missing."""
    now = now or utcnow()
    refusal = None
    with transaction(sharing.sessions) as s:
        share, sess, refusal = _enter(s, token, secret, now, "view the share")
        if refusal is None:
            if share is None or sess is None:
                raise SessionRequired("Give the code you were sent to open this link.")
            rows = _item_rows(s, share)
            record(
                s,
                _recipient(share, ip),
                AuditAction.RECIPIENT_VIEW,
                "share",
                share.id,
                recipient_details(share) | {"items": [it.recording_id for it, _ in rows]},
            )
            add_access(s, share, "viewed", now, by=share.recipient_name, ip=ip)
            items = _recipient_items(s, sharing, share, rows)
            s.expunge(share)
            session_end = sess.expires_at
    if refusal is not None:
        raise _refuse(sharing, refusal, ip, now)
    assert share is not None
    return RecipientView(
        share.id,
        share.recipient_name,
        share.recipient_org,
        share.recipient_role,
        share.case_number,
        share.expires_at,
        share.allow_download,
        session_end,
        items,
    )


@dataclass
class ItemStream:
    """An item's watermarked bytes, ranged, ready to send."""

    position: int
    filename: str
    sha256: str
    size: int
    range: ByteRange | None
    file: IO[bytes]

    def chunks(self, chunk_size: int = 1 << 20) -> Iterator[bytes]:
        """The bytes of the range (or the whole file); closes the file at the end."""
        start, end = (self.range.start, self.range.end) if self.range else (0, self.size)
        try:
            self.file.seek(start)
            left = end - start
            while left > 0:
                chunk = self.file.read(min(chunk_size, left))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk
        finally:
            self.file.close()

    @property
    def length(self) -> int:
        """Bytes sent."""
        return (self.range.end - self.range.start) if self.range else self.size


def open_item(
    sharing: Sharing,
    token: str,
    secret: str | None,
    position: int,
    range_header: str | None = None,
    *,
    download: bool = False,
    ip: str = "",
    now: datetime | None = None,
) -> ItemStream:
    """Stream (or download, when the share allows it) an item's watermarked video; each
    request is audited on the item's recording. Raises `NotReady` while its watermarked
    copy is being made (and queues the job making it when none is under way)."""
    now = now or utcnow()
    asked = f"{'download' if download else 'play'} item {position}"
    with sharing.sessions() as s:
        share, sess, refusal = _enter(s, token, secret, now, asked)
        if refusal is None:
            if share is None or sess is None:
                raise SessionRequired("Give the code you were sent to open this link.")
            item = s.scalars(
                select(ShareItem).where(
                    ShareItem.share_id == share.id, ShareItem.position == position
                )
            ).first()
            if item is None:
                raise ShareNotFound(f"This share has no item {position}.")
            rec = s.get(Recording, item.recording_id)
            assert rec is not None
            if download and not share.allow_download:
                refusal = _Refusal(
                    ShareRefused("This share is for viewing only; downloads are not allowed."),
                    share.id,
                    "download not allowed",
                    asked,
                )
            elif rec.purged_at is not None:
                cache.discard_item(sharing.folder, share.id, position)
                raise ShareError(f"Item {position} is no longer available.")
            order = _order(sharing, share, item)
            in_hot_tier = rec.tier == "hot"
    if refusal is not None:
        raise _refuse(sharing, refusal, ip, now)
    found = cache.ready(order.folder, order.share_id, order.position, order.source_sha256)
    if found is None:
        if not in_hot_tier:
            raise ShareError(
                f"Item {position} is in the agency's archive; ask the sender to restore it."
            )
        with transaction(sharing.sessions) as s:
            row = s.get(Share, order.share_id)
            item = s.scalars(
                select(ShareItem).where(
                    ShareItem.share_id == order.share_id, ShareItem.position == position
                )
            ).one()
            assert row is not None
            prepared = _preparation(s, sharing, row, [item])[position]
        if prepared.problem is not None:
            raise ShareError(prepared.problem)
        if prepared.ready is None:
            percent = prepared.percent or 0
            raise NotReady(
                f"Item {position} is being prepared ({percent}% done); it plays once your "
                "name is burned into its picture.",
                percent,
            )
        found = prepared.ready
    fh = found.path.open("rb")  # held open: a sweep meanwhile cannot cut the stream short
    try:
        sha, size = found.sha256, found.size
        try:
            rng = parse_range(range_header, size)
        except EvidenceError as exc:
            raise BadRange(str(exc)) from None
        with transaction(sharing.sessions) as s:
            share, sess, refusal = _enter(s, token, secret, now, asked)
            if refusal is None and (share is None or sess is None):
                raise SessionRequired("Give the code you were sent to open this link.")
            if refusal is None:
                assert share is not None
                item = s.scalars(
                    select(ShareItem).where(
                        ShareItem.share_id == share.id, ShareItem.position == position
                    )
                ).one()
                if item.watermark_sha256 != sha:
                    item.watermark_sha256, item.watermark_size = sha, size
                    item.watermarked_at = now
                details = recipient_details(share) | {
                    "item": position,
                    "copy": item.copy_id,
                    "sha256": item.sha256,
                    "watermark_sha256": sha,
                }
                if rng is not None:
                    details |= {"range_start": rng.start, "range_end": rng.end}
                action = (
                    AuditAction.RECIPIENT_DOWNLOAD if download else AuditAction.RECIPIENT_STREAM
                )
                record(s, _recipient(share, ip), action, "recording", item.recording_id, details)
                kind = "downloaded" if download else "streamed"
                span = f"bytes {rng.start}-{rng.end - 1}" if rng else "whole file"
                add_access(
                    s,
                    share,
                    kind,
                    now,
                    by=share.recipient_name,
                    ip=ip,
                    position=position,
                    detail=span,
                )
        if refusal is not None:
            raise _refuse(sharing, refusal, ip, now)
    except BaseException:
        fh.close()
        raise
    return ItemStream(position, f"share-{order.share_id}-item-{position}.mp4", sha, size, rng, fh)


def prepare_item(
    sharing: Sharing,
    share_id: str,
    position: int,
    progress: cache.Progress | None = None,
    *,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Make one item's watermarked copy (the ``share.watermark`` job); return what was
    made, or why nothing was (the share ended, the recording was destroyed). Raises
    `ShareError` (a sentence) when it cannot be made. Running it twice makes it once."""
    now = now or utcnow()
    with sharing.sessions() as s:
        share = s.get(Share, share_id)
        item = s.scalars(
            select(ShareItem).where(ShareItem.share_id == share_id, ShareItem.position == position)
        ).first()
        if share is None or item is None:
            raise ShareNotFound(f"There is no item {position} of a share {share_id}.")
        state = share_state(s, share, now)
        rec = s.get(Recording, item.recording_id)
        assert rec is not None
        if state not in LIVE:
            cache.discard(sharing.folder, share_id)
            return {"share_id": share_id, "position": position, "skipped": state.value}
        if rec.purged_at is not None:
            cache.discard_item(sharing.folder, share_id, position)
            return {"share_id": share_id, "position": position, "skipped": "destroyed"}
        if rec.tier != "hot":
            raise ShareError(
                f"Item {position} is in the agency's archive; restore recording {rec.id} "
                "(bodycam retention restore) and retry the job."
            )
        order = _order(sharing, share, item)
    try:
        made = cache.ensure(sharing.vault.store, order, progress)
    except RedactionError as exc:
        raise ShareError(f"Item {position} cannot be prepared: {exc}") from None
    with transaction(sharing.sessions) as s:
        share = s.get(Share, share_id)
        assert share is not None
        if share_state(s, share, utcnow()) not in LIVE:  # ended while it was being made
            cache.discard(sharing.folder, share_id)
            return {"share_id": share_id, "position": position, "skipped": "ended"}
        item = s.scalars(
            select(ShareItem).where(ShareItem.share_id == share_id, ShareItem.position == position)
        ).one()
        if item.watermark_sha256 != made.sha256:
            item.watermark_sha256, item.watermark_size = made.sha256, made.size
            item.watermarked_at = utcnow()
    return {
        "share_id": share_id,
        "position": position,
        "sha256": made.sha256,
        "size": made.size,
        "frames": made.frames,
    }


def end_session(sharing: Sharing, token: str, secret: str | None) -> None:
    """End a recipient's share session (the page's "Close" button)."""
    if not secret:
        return
    with transaction(sharing.sessions) as s:
        share = _by_token(s, token)
        sess = s.get(ShareSession, token_hash(secret))
        if share is not None and sess is not None and sess.share_id == share.id:
            s.delete(sess)
