"""External shares: specific footage for a named outside recipient, by link and code.

A records clerk (``disclosure:share:manage``) shares original recordings they may see, or
approved redacted copies of them, with one recipient (a prosecutor, a defense lawyer,
someone else) until a date (30 days by default, at most ``Sharing.max_days``), view-only
unless download is chosen. The link (``/s/<token>``) and a code are shown once, when the
share is made; only the token's SHA-256 and the code's argon2 hash are stored. The sender
gives the code to the recipient another way (phone, a separate message). The fifth wrong
code locks the share until a new code is issued.

The recipient has no account. The right code opens a short-lived share session (a cookie
whose hash is stored); within it they see the share's page and play, and when allowed
download, each item. What they get is never the vault's bytes: it is a derivative with
their name burned into every frame, made by a ``share.watermark`` job queued with the
share (:mod:`bodycam.disclosure.watermark_cache`, :mod:`bodycam.disclosure.jobs`). Every
opening, wrong code, page view, stream request, download and refused attempt is audited,
in the same transaction as what it records, with the share and the recipient; refused
attempts are recorded in a transaction of their own and then refused.

A share ends when it expires, when it is revoked, or when the user who made it is
disabled (:func:`revoke_shares_of`, called by ``auth.service.update_user``). The functions
here are the sender's side: they take the acting user and check their permission. The
recipient's side (:mod:`bodycam.disclosure.share_access`) takes the link's token and the
share session instead, and checks the share.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.models import User
from bodycam.auth.passwords import hash_password
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.disclosure import watermark_cache as cache
from bodycam.disclosure.errors import DisclosureError
from bodycam.disclosure.models import DisclosureRequest
from bodycam.disclosure.requests import load as load_request
from bodycam.disclosure.share_models import (
    RecipientRole,
    Share,
    ShareAccess,
    ShareItem,
    ShareSession,
    ShareState,
)
from bodycam.evidence.access import readable_recordings
from bodycam.evidence.models import Recording
from bodycam.evidence.service import Vault
from bodycam.ids import as_utc, new_id, utcnow
from bodycam.jobs.models import Job
from bodycam.jobs.runner import submit
from bodycam.redaction.models import CopyStatus, RedactedCopy

if TYPE_CHECKING:
    from bodycam.context import Context

DEFAULT_DAYS = 30
"""How long a share lasts unless the sender says otherwise."""
MAX_DAYS = 90
"""The longest share, unless the deployment sets another (``Sharing.max_days``)."""

DIRECT_ROLES = tuple(r.value for r in RecipientRole if r is not RecipientRole.COMPLAINANT)
"""The recipient roles a share can name directly (a complainant only through a session)."""

MAX_ITEMS = 50
MAX_WRONG_CODES = 5
"""The wrong code that locks a share (until a new code is issued)."""
SESSION_IDLE = timedelta(minutes=30)
SESSION_MAX = timedelta(hours=2)
"""A share session ends after this long, or idle this long, or when the share ends."""
CODE_DIGITS = 9
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
LIVE = (ShareState.ACTIVE, ShareState.LOCKED)


class ShareError(DisclosureError):
    """A share action that cannot be done; the message is a sentence saying why."""


class ShareNotFound(ShareError):
    """No such share, or no share behind a link."""


class ShareRefused(ShareError):
    """The link is revoked, expired or locked, or the action is not allowed by the share."""


class WrongCode(ShareError):
    """The code given does not open the share (the attempt is recorded)."""

    def __init__(self, message: str, left: int) -> None:
        super().__init__(message)
        self.left = left


class SessionRequired(ShareError):
    """No live share session: the recipient must give the code."""


class BadRange(ShareError):
    """An HTTP Range the watermarked file cannot satisfy."""


class NotReady(ShareError):
    """The item's watermarked copy is still being made (by a ``share.watermark`` job)."""

    def __init__(self, message: str, percent: int) -> None:
        super().__init__(message)
        self.percent = percent


@dataclass(frozen=True)
class Sharing:
    """The collaborators of shares: the vault, where watermarked files are kept, limits."""

    vault: Vault
    folder: Path
    max_days: int = MAX_DAYS
    timezone: str = "UTC"
    prepare_ahead: bool = True
    """Queue each item's ``share.watermark`` job when the share is made; otherwise the
    recipient's first view of the share page (or of an item) queues it."""

    @classmethod
    def from_context(cls, ctx: Context) -> Sharing:
        """The share collaborators of a deployment."""
        s = ctx.settings
        # A deployment's own limit once Settings declares BODYCAM_SHARE_MAX_DAYS; until
        # then (and for settings objects without it) the built-in MAX_DAYS.
        max_days = int(getattr(s, "share_max_days", MAX_DAYS))
        return cls(Vault.from_context(ctx), s.resolved_home / "shares", max_days, s.timezone)

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The database sessions."""
        return self.vault.sessions


# --- the watermark jobs -------------------------------------------------------------------

WATERMARK_JOB = "share.watermark"
"""Renders one item's watermarked copy into the share folder (:mod:`bodycam.disclosure.jobs`)."""


def watermark_key(share_id: str, position: int) -> str:
    """The job key of an item's first render; later renders (the file was swept, or was
    made on another host) add ``:<id>`` to it."""
    return f"{WATERMARK_JOB}:{share_id}:{int(position)}"


def watermark_jobs(s: Session, share_id: str) -> dict[int, Job]:
    """The newest watermark job of each item of a share, by position."""
    newest: dict[int, Job] = {}
    for job in s.scalars(
        select(Job)
        .where(Job.kind == WATERMARK_JOB, Job.key.like(f"{WATERMARK_JOB}:{share_id}:%"))
        .order_by(Job.created_at, Job.id)
    ):
        try:
            position = int(str(job.key).split(":")[2])
        except (IndexError, ValueError):
            continue
        newest[position] = job
    return newest


def queue_watermark(
    s: Session, share_id: str, position: int, *, after: Job | None, created_by: str | None
) -> Job:
    """Queue a ``share.watermark`` job of one item in ``s``'s transaction (sent to the
    runners when it commits); ``after`` is the item's previous job, if it had one."""
    key = watermark_key(share_id, position)
    if after is not None:
        key = f"{key}:{new_id()}"
    return submit(
        s,
        WATERMARK_JOB,
        {"share_id": share_id, "position": int(position)},
        key=key,
        created_by=created_by,
    )


# --- views --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ItemView:
    """One shared item as the sender sees it."""

    position: int
    recording_id: str
    copy_id: str | None
    label: str
    sha256: str
    size_bytes: int
    duration_s: float
    watermark_sha256: str | None
    watermarked_at: datetime | None

    @property
    def kind(self) -> str:
        """``redacted copy`` or ``original``."""
        return "redacted copy" if self.copy_id else "original"


@dataclass(frozen=True)
class AccessView:
    """One line of a share's history."""

    at: datetime
    kind: str
    by: str
    position: int | None
    ip: str
    detail: str


@dataclass(frozen=True)
class ShareView:
    """A share, its items and (for one share) its history."""

    share: Share
    state: ShareState
    items: list[ItemView]
    creator: str
    request_number: str | None
    counts: dict[str, int] = field(default_factory=dict)
    """Accesses by kind (viewed, streamed, downloaded, wrong code, refused...)."""
    history: list[AccessView] = field(default_factory=list)

    @property
    def id(self) -> str:
        """The share's id."""
        return self.share.id

    @property
    def last_opened(self) -> datetime | None:
        """When the recipient last gave the right code."""
        opened = [a.at for a in self.history if a.kind == "opened"]
        return max(opened) if opened else None


@dataclass(frozen=True)
class IssuedShare:
    """A new share with its link and code: shown once, never stored."""

    view: ShareView
    token: str
    code: str

    @property
    def path(self) -> str:
        """The link's path on the agency's web address."""
        return f"/s/{self.token}"


@dataclass(frozen=True)
class IssuedCode:
    """A new code for a share: shown once, never stored."""

    share_id: str
    code: str


def share_state(s: Session, share: Share, now: datetime) -> ShareState:
    """The share's state, taking a share whose creator is disabled as revoked."""
    state = share.state(now)
    if state in LIVE:
        active = s.scalar(select(User.active).where(User.id == share.created_by))
        if not active:
            return ShareState.REVOKED
    return state


def _items(s: Session, share_ids: list[str]) -> dict[str, list[ItemView]]:
    out: dict[str, list[ItemView]] = {i: [] for i in share_ids}
    rows = s.execute(
        select(ShareItem, Recording.duration_s)
        .join(Recording, Recording.id == ShareItem.recording_id)
        .where(ShareItem.share_id.in_(share_ids))
        .order_by(ShareItem.share_id, ShareItem.position)
    ).all()
    for it, duration in rows:
        out[it.share_id].append(
            ItemView(
                it.position,
                it.recording_id,
                it.copy_id,
                it.label,
                it.sha256,
                it.size_bytes,
                duration,
                it.watermark_sha256,
                it.watermarked_at,
            )
        )
    return out


def _views(
    s: Session, shares: Sequence[Share], now: datetime, *, history: bool = False
) -> list[ShareView]:
    """Views of ``shares`` with a fixed number of queries (not one per share)."""
    if not shares:
        return []
    ids = [sh.id for sh in shares]
    items = _items(s, ids)
    creators = {
        u.id: u
        for u in s.scalars(select(User).where(User.id.in_({sh.created_by for sh in shares})))
    }
    counts: dict[str, dict[str, int]] = {i: {} for i in ids}
    for sid, kind, n in s.execute(
        select(ShareAccess.share_id, ShareAccess.kind, func.count())
        .where(ShareAccess.share_id.in_(ids))
        .group_by(ShareAccess.share_id, ShareAccess.kind)
    ):
        counts[sid][kind] = int(n)
    lines: dict[str, list[AccessView]] = {i: [] for i in ids}
    if history:
        for a in s.scalars(
            select(ShareAccess)
            .where(ShareAccess.share_id.in_(ids))
            .order_by(ShareAccess.at, ShareAccess.id)
        ):
            lines[a.share_id].append(AccessView(a.at, a.kind, a.by, a.position, a.ip, a.detail))
    numbers: dict[str, str] = {}
    req_ids = {sh.request_id for sh in shares if sh.request_id}
    if req_ids:
        numbers = {
            rid: number
            for rid, number in s.execute(
                select(DisclosureRequest.id, DisclosureRequest.number).where(
                    DisclosureRequest.id.in_(req_ids)
                )
            )
        }
    out = []
    for sh in shares:
        creator = creators.get(sh.created_by)
        state = sh.state(now)
        if state in LIVE and (creator is None or not creator.active):
            state = ShareState.REVOKED
        out.append(
            ShareView(
                sh,
                state,
                items[sh.id],
                creator.username if creator else "?",
                numbers.get(sh.request_id) if sh.request_id else None,
                counts[sh.id],
                lines[sh.id],
            )
        )
    return out


def add_access(
    s: Session,
    share: Share,
    kind: str,
    at: datetime,
    *,
    by: str,
    ip: str = "",
    position: int | None = None,
    detail: str = "",
) -> None:
    s.add(
        ShareAccess(
            share_id=share.id,
            at=at,
            kind=kind,
            by=by[:200],
            ip=ip[:64],
            position=position,
            detail=detail,
        )
    )


def recipient_details(share: Share) -> dict[str, Any]:
    return {
        "share": share.id,
        "recipient": share.recipient_name,
        "organisation": share.recipient_org,
        "email": share.recipient_email,
        "recipient_role": share.recipient_role,
    }


def _new_code() -> str:
    digits = "".join(secrets.choice("0123456789") for _ in range(CODE_DIGITS))
    return "-".join(digits[i : i + 3] for i in range(0, CODE_DIGITS, 3))


def normal_code(code: str) -> str:
    digits = "".join(c for c in code if c.isdigit())
    return "-".join(digits[i : i + 3] for i in range(0, len(digits), 3))


def token_hash(token: str) -> str:
    """SHA-256 hex of a link token or session secret (only hashes are stored)."""
    import hashlib

    return hashlib.sha256(token.encode()).hexdigest()


# --- the sender's side --------------------------------------------------------------------


def _clean(value: str, what: str, limit: int, *, required: bool = True) -> str:
    value = " ".join(value.split())
    if required and not value:
        raise ShareError(f"A share needs the recipient's {what}.")
    if len(value) > limit:
        raise ShareError(f"The {what} must be at most {limit} characters.")
    return value


def _wanted(values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for v in values:
        v = v.strip()
        if v and v not in out:
            out.append(v)
    return out


def _label(rec: Recording, copy: RedactedCopy | None) -> str:
    when = as_utc(rec.recorded_start).strftime("%Y-%m-%d %H:%M UTC")
    minutes, seconds = divmod(round(rec.duration_s), 60)
    what = "Redacted copy of a recording" if copy else "Recording"
    return f"{what} of {when} ({minutes}:{seconds:02d})"


def create_share(
    sharing: Sharing,
    actor: Actor,
    *,
    recipient_name: str,
    recipient_email: str,
    recipient_role: str,
    recipient_org: str = "",
    recordings: Sequence[str] = (),
    copies: Sequence[str] = (),
    days: int = DEFAULT_DAYS,
    allow_download: bool = False,
    case_number: str = "",
    request_number: str = "",
    now: datetime | None = None,
    ends_at: datetime | None = None,
    complainant_session: bool = False,
) -> IssuedShare:
    """Share recordings the actor may see, or approved redacted copies of them, with one
    recipient; returns the link's token and the code, which are not stored. All or
    nothing: one item that cannot be shared refuses the whole share.

    ``ends_at`` ends the share earlier than ``days`` would. A complainant is shared with
    only through a supervised session (``complainant_session``, set by
    :func:`bodycam.policy.complainant.arrange_session`), never directly."""
    factory = sharing.sessions
    require(factory, actor, Permission.SHARE_MANAGE, "share footage with outside recipients")
    now = now or utcnow()
    name = _clean(recipient_name, "name", 200)
    org = _clean(recipient_org, "organisation", 200, required=False)
    email = _clean(recipient_email, "email address", 320)
    if not _EMAIL.match(email):
        raise ShareError(f"{email!r} is not an email address.")
    try:
        role = RecipientRole(recipient_role.strip().lower())
    except ValueError:
        choices = ", ".join(DIRECT_ROLES)
        raise ShareError(f"Unknown recipient role {recipient_role!r}; choose {choices}.") from None
    if (role is RecipientRole.COMPLAINANT) != complainant_session:
        raise ShareError(
            "A complainant sees footage only in a supervised viewing session arranged under "
            "the camera policy (bodycam policy complainant arrange); nothing shared."
            if role is RecipientRole.COMPLAINANT
            else "A supervised complainant session shares with the complainant only."
        )
    if not 1 <= days <= sharing.max_days:
        raise ShareError(f"A share lasts 1 to {sharing.max_days} days, not {days}.")
    expires = now + timedelta(days=days)
    if ends_at is not None:
        if not now < ends_at <= expires:
            raise ShareError(f"A share must end after it starts and within {days} day(s).")
        expires = ends_at
    case = _clean(case_number, "case number", 64, required=False)
    rec_ids, copy_ids = _wanted(recordings), _wanted(copies)
    if not rec_ids and not copy_ids:
        raise ShareError("Name at least one recording or approved redacted copy to share.")
    if len(rec_ids) + len(copy_ids) > MAX_ITEMS:
        raise ShareError(f"A share holds at most {MAX_ITEMS} items.")
    token = secrets.token_urlsafe(32)
    code = _new_code()
    code_hash = hash_password(code)
    with transaction(factory) as s:
        request_id = load_request(s, request_number).id if request_number.strip() else None
        chosen: list[tuple[Recording, RedactedCopy | None]] = []
        visible = readable_recordings(actor, sharing.vault.officer_sees_own)
        for rid in rec_ids:
            rec = s.scalars(visible.where(Recording.id == rid)).first()
            if rec is None:
                raise ShareError(f"There is no recording {rid} that you may see (nothing shared).")
            chosen.append((rec, None))
        for cid in copy_ids:
            copy = s.get(RedactedCopy, cid)
            rec = (
                s.scalars(visible.where(Recording.id == copy.recording_id)).first()
                if copy is not None
                else None
            )
            if copy is None or rec is None:
                raise ShareError(
                    f"There is no redacted copy {cid} that you may see (nothing shared)."
                )
            if copy.status != CopyStatus.APPROVED.value:
                raise ShareError(
                    f"Redacted copy {cid} is not approved for release (it is {copy.status}); "
                    "approve it first, or share the original (nothing shared)."
                )
            chosen.append((rec, copy))
        for rec, copy in chosen:
            if copy is None and rec.tier != "hot":
                raise ShareError(
                    f"Recording {rec.id} is in the archive tier; restore it first "
                    f"(bodycam retention restore {rec.id}); nothing shared."
                )
        share = Share(
            token_sha256=token_hash(token),
            code_hash=code_hash,
            recipient_name=name,
            recipient_org=org,
            recipient_email=email,
            recipient_role=role.value,
            case_number=case,
            request_id=request_id,
            allow_download=allow_download,
            created_by=actor.user_id,
            created_at=now,
            expires_at=expires,
            code_issued_at=now,
        )
        s.add(share)
        s.flush()
        for position, (rec, copy) in enumerate(chosen, 1):
            item = ShareItem(
                share_id=share.id,
                position=position,
                recording_id=rec.id,
                copy_id=copy.id if copy else None,
                sha256=copy.sha256 if copy else rec.sha256,
                size_bytes=copy.size_bytes if copy else rec.size_bytes,
                label=_label(rec, copy),
            )
            s.add(item)
            record(
                s,
                actor,
                AuditAction.SHARE_CREATE,
                "recording",
                rec.id,
                recipient_details(share)
                | {
                    "item": position,
                    "copy": item.copy_id,
                    "sha256": item.sha256,
                    "expires_at": share.expires_at,
                    "allow_download": allow_download,
                    "case": case,
                    "request": request_number.strip() or None,
                },
            )
        detail = (
            f"{len(chosen)} item(s) for {name} ({role.value}), until {share.expires_at:%Y-%m-%d}"
        )
        add_access(s, share, "created", now, by=actor.username, detail=detail)
        if sharing.prepare_ahead:
            for position in range(1, len(chosen) + 1):
                queue_watermark(s, share.id, position, after=None, created_by=actor.user_id)
        s.flush()
        (view,) = _views(s, [share], now, history=True)
    return IssuedShare(view, token, code)


def list_shares(
    sharing: Sharing, actor: Actor, *, state: str | None = None, now: datetime | None = None
) -> list[ShareView]:
    """Shares, newest first: all, or those ``active`` (locked ones too), ``locked``,
    ``expired`` or ``revoked``. Also deletes watermarked files of shares that ended."""
    require(sharing.sessions, actor, Permission.SHARE_VIEW, "see external shares")
    now = now or utcnow()
    wanted: set[ShareState] | None = None
    if state:
        try:
            one = ShareState(state.strip().lower())
        except ValueError:
            choices = ", ".join(st.value for st in ShareState)
            raise ShareError(f"Unknown share state {state!r}; choose {choices}.") from None
        wanted = set(LIVE) if one is ShareState.ACTIVE else {one}
    with sharing.sessions() as s:
        rows = list(s.scalars(select(Share).order_by(Share.created_at.desc(), Share.id.desc())))
        views = _views(s, rows, now)
    cache.sweep(sharing.folder, {v.id for v in views if v.state in LIVE})
    return [v for v in views if wanted is None or v.state in wanted]


def get_share(
    sharing: Sharing, actor: Actor, share_id: str, *, now: datetime | None = None
) -> ShareView:
    """One share with its items and its whole history: who opened it, viewed, streamed
    and downloaded what, when and from where."""
    require(sharing.sessions, actor, Permission.SHARE_VIEW, "see external shares", share_id)
    with sharing.sessions() as s:
        share = s.get(Share, share_id.strip())
        if share is None:
            raise ShareNotFound(f"There is no share {share_id.strip()}.")
        (view,) = _views(s, [share], now or utcnow(), history=True)
        return view


def _end(s: Session, actor: Actor, share: Share, reason: str, now: datetime) -> None:
    """Revoke ``share`` in ``s``: end its sessions, audit on each item's recording."""
    share.revoked_at = now
    share.revoked_by = actor.user_id
    share.revoke_reason = reason
    s.execute(delete(ShareSession).where(ShareSession.share_id == share.id))
    for item in s.scalars(
        select(ShareItem).where(ShareItem.share_id == share.id).order_by(ShareItem.position)
    ):
        record(
            s,
            actor,
            AuditAction.SHARE_REVOKE,
            "recording",
            item.recording_id,
            recipient_details(share) | {"item": item.position, "reason": reason},
        )
    add_access(s, share, "revoked", now, by=actor.username, detail=reason)


def revoke_share(
    sharing: Sharing, actor: Actor, share_id: str, reason: str, *, now: datetime | None = None
) -> ShareView:
    """Revoke a share at once: its link answers 403 from now on (attempts are audited),
    its sessions end and its watermarked files are deleted."""
    factory = sharing.sessions
    require(factory, actor, Permission.SHARE_MANAGE, "revoke external shares", share_id)
    now = now or utcnow()
    why = " ".join(reason.split())
    if not why:
        raise ShareError("Revoking a share needs a reason.")
    with transaction(factory) as s:
        share = s.get(Share, share_id.strip(), with_for_update=True)
        if share is None:
            raise ShareNotFound(f"There is no share {share_id.strip()}.")
        if share.revoked_at is not None:
            raise ShareError(f"Share {share.id} was already revoked ({share.revoke_reason}).")
        _end(s, actor, share, why, now)
        s.flush()
        (view,) = _views(s, [share], now, history=True)
    cache.discard(sharing.folder, share.id)
    return view


def revoke_shares_of(
    session: Session, actor: Actor, user_id: str, *, now: datetime | None = None
) -> list[str]:
    """Revoke, in the caller's transaction, every live share made by ``user_id`` (whose
    account is being disabled); returns their ids. Their watermarked files are deleted
    by the next sweep, and their links are refused from the commit on."""
    now = now or utcnow()
    ended = []
    for share in session.scalars(
        select(Share)
        .where(
            Share.created_by == user_id,
            Share.revoked_at.is_(None),
            Share.expires_at > now,
        )
        .with_for_update()
    ):
        _end(session, actor, share, "its creator's account was disabled", now)
        ended.append(share.id)
    return ended


def new_code(
    sharing: Sharing, actor: Actor, share_id: str, *, now: datetime | None = None
) -> IssuedCode:
    """Issue a new code for a live share (shown once): the old code stops working, open
    share sessions end and a lockout is lifted."""
    factory = sharing.sessions
    require(factory, actor, Permission.SHARE_MANAGE, "issue share codes", share_id)
    now = now or utcnow()
    code = _new_code()
    code_hash = hash_password(code)
    with transaction(factory) as s:
        share = s.get(Share, share_id.strip(), with_for_update=True)
        if share is None:
            raise ShareNotFound(f"There is no share {share_id.strip()}.")
        state = share_state(s, share, now)
        if state not in LIVE:
            raise ShareError(f"Share {share.id} is {state.value}; it takes no new code.")
        share.code_hash = code_hash
        share.code_issued_at = now
        share.failed_codes = 0
        share.locked_at = None
        s.execute(delete(ShareSession).where(ShareSession.share_id == share.id))
        record(
            s,
            actor,
            AuditAction.SHARE_CODE,
            "share",
            share.id,
            {"recipient": share.recipient_name, "was_locked": state is ShareState.LOCKED},
        )
        add_access(s, share, "new code", now, by=actor.username)
    return IssuedCode(share.id, code)
