"""Complainant viewing: a supervised, time-limited, watermarked session over a share.

When the policy in force lets complainants see footage (``complainant.viewing =
"supervised"``), a records clerk arranges a session for one complaint: the footage (or,
under ``redacted_only``, approved redacted copies only), the complainant's name, and the
supervisor who runs it. The session is an external share made through
:func:`bodycam.disclosure.shares.create_share` with the recipient role ``complainant``:
view-only, every frame watermarked with the complainant's name, every opening, view and
stream audited by the share machinery. The supervisor is given the link and the code and
opens it with the complainant present.

The share ends when the session does (``create_share(ends_at=...)``; a session lasts
``complainant.session_minutes`` at most), so its link is refused from that minute on.
A share with a complainant can be made only this way. Ending a session early revokes
the share.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.models import User
from bodycam.auth.permissions import Permission, Role
from bodycam.db import transaction
from bodycam.disclosure import shares
from bodycam.disclosure.share_models import RecipientRole
from bodycam.ids import as_utc, utcnow
from bodycam.policy.document import PolicyError
from bodycam.policy.models import ComplainantSession
from bodycam.policy.service import policy_in_force

__all__ = ["ArrangedSession", "SessionView", "arrange_session", "end_session", "list_sessions"]


@dataclass(frozen=True)
class SessionView:
    """A complainant session as staff see it."""

    id: str
    share_id: str
    complaint_number: str
    complainant_name: str
    supervisor: str
    arranged_by: str
    policy_version: int
    starts_at: datetime
    ends_at: datetime
    ended_at: datetime | None
    end_reason: str

    def state(self, now: datetime) -> str:
        """``open``, ``ended`` (by hand) or ``expired`` (its time ran out)."""
        if self.ended_at is not None:
            return "ended"
        return "expired" if self.ends_at <= now else "open"

    def as_dict(self, now: datetime) -> dict[str, Any]:
        """JSON form, with the state at ``now``."""
        out = {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in vars(self).items()}
        return out | {"state": self.state(now)}


@dataclass(frozen=True)
class ArrangedSession:
    """A new session with its link and code (shown once, for the supervisor)."""

    session: SessionView
    token: str
    code: str

    @property
    def path(self) -> str:
        """The link's path on the agency's web address."""
        return f"/s/{self.token}"


def _view(s: Session, row: ComplainantSession) -> SessionView:
    names = {
        u.id: u.username
        for u in s.scalars(select(User).where(User.id.in_({row.supervisor_id, row.arranged_by})))
    }
    return SessionView(
        row.id,
        row.share_id,
        row.complaint_number,
        row.complainant_name,
        names.get(row.supervisor_id, row.supervisor_id),
        names.get(row.arranged_by, row.arranged_by),
        row.policy_version,
        as_utc(row.starts_at),
        as_utc(row.ends_at),
        as_utc(row.ended_at) if row.ended_at else None,
        row.end_reason,
    )


def _err(key: str, why: str) -> PolicyError:
    return PolicyError("complainant session", key, why)


def arrange_session(
    sharing: shares.Sharing,
    actor: Actor,
    *,
    complaint_number: str,
    complainant_name: str,
    complainant_email: str,
    supervisor: str,
    recordings: Sequence[str] = (),
    copies: Sequence[str] = (),
    minutes: int | None = None,
    now: datetime | None = None,
) -> ArrangedSession:
    """Arrange a complainant's supervised viewing of their complaint's footage: a
    view-only share watermarked with their name, ending after the policy's minutes.
    Refused when the policy in force does not let complainants view footage."""
    factory = sharing.sessions
    require(factory, actor, Permission.POLICY_COMPLAINANT, "arrange complainant viewing sessions")
    now = now or utcnow()
    number = " ".join(complaint_number.split())
    if not number or len(number) > 64:
        raise _err("complaint", "give the complaint number (1 to 64 characters).")
    with factory() as s:
        policy = policy_in_force(s, now)
        if policy is None:
            raise _err(
                "policy", "no camera policy is in force, so none allows complainant viewing."
            )
        rule = policy.doc.complainant
        if rule.viewing != "supervised":
            raise _err(
                "policy",
                f"the camera policy in force (version {policy.version}, {policy.label!r}) does "
                "not let complainants view footage (complainant.viewing = never).",
            )
        if rule.redacted_only and list(recordings):
            raise _err(
                "recordings",
                f"the camera policy in force (version {policy.version}) shows complainants "
                "approved redacted copies only; name copies, not original recordings.",
            )
        length = rule.session_minutes if minutes is None else minutes
        if not 5 <= length <= rule.session_minutes:
            raise _err(
                "minutes",
                f"a session lasts 5 to {rule.session_minutes} minutes under the policy in "
                f"force, not {length}.",
            )
        sup = s.scalars(select(User).where(User.username == supervisor.strip())).first()
        if sup is None or not sup.active or sup.role != Role.SUPERVISOR.value:
            raise _err(
                "supervisor", f"{supervisor.strip()!r} is not an active supervisor's user name."
            )
        supervisor_id = sup.id
    issued = shares.create_share(
        sharing,
        actor,
        recipient_name=complainant_name,
        recipient_email=complainant_email,
        recipient_role=RecipientRole.COMPLAINANT.value,
        recipient_org=f"Complaint {number}",
        recordings=recordings,
        copies=copies,
        days=1,
        allow_download=False,
        case_number=number,
        now=now,
        ends_at=now + timedelta(minutes=length),
        complainant_session=True,
    )
    ends = issued.view.share.expires_at
    try:
        with transaction(factory) as s:
            row = ComplainantSession(
                share_id=issued.view.id,
                complaint_number=number,
                complainant_name=issued.view.share.recipient_name,
                supervisor_id=supervisor_id,
                arranged_by=actor.user_id,
                policy_version=policy.version,
                starts_at=now,
                ends_at=ends,
            )
            s.add(row)
            record(
                s,
                actor,
                AuditAction.POLICY_COMPLAINANT_ARRANGE,
                "policy_complainant_session",
                row.id,
                {
                    "session": row.id,
                    "share": issued.view.id,
                    "complaint": number,
                    "complainant": row.complainant_name,
                    "supervisor": supervisor.strip(),
                    "items": [i.recording_id for i in issued.view.items],
                    "copies": [i.copy_id for i in issued.view.items if i.copy_id],
                    "ends_at": ends,
                    "policy_version": policy.version,
                },
            )
            view = _view(s, row)
    except Exception:
        shares.revoke_share(
            sharing, actor, issued.view.id, "the complainant session could not be recorded"
        )
        raise
    return ArrangedSession(view, issued.token, issued.code)


def end_session(
    sharing: shares.Sharing,
    actor: Actor,
    session_id: str,
    reason: str,
    *,
    now: datetime | None = None,
) -> SessionView:
    """End an open complainant session now: its share is revoked (audited)."""
    factory = sharing.sessions
    require(
        factory,
        actor,
        Permission.POLICY_COMPLAINANT,
        "end complainant viewing sessions",
        session_id,
    )
    now = now or utcnow()
    why = " ".join(reason.split())
    if not why:
        raise _err("reason", "ending a session needs a reason.")
    with factory() as s:
        row = s.get(ComplainantSession, session_id.strip())
        if row is None:
            raise _err("session", f"there is no complainant session {session_id.strip()}.")
        if row.ended_at is not None or as_utc(row.ends_at) <= now:
            raise _err("session", f"session {row.id} is over already.")
        share_id = row.share_id
    shares.revoke_share(sharing, actor, share_id, f"complainant session ended: {why}", now=now)
    with transaction(factory) as s:
        row = s.get(ComplainantSession, session_id.strip())
        assert row is not None
        row.ended_at, row.ended_by, row.end_reason = now, actor.user_id, why
        s.flush()
        record(
            s,
            actor,
            AuditAction.POLICY_COMPLAINANT_END,
            "policy_complainant_session",
            row.id,
            {"session": row.id, "share": row.share_id, "reason": why},
        )
        return _view(s, row)


def list_sessions(sharing: shares.Sharing, actor: Actor) -> list[SessionView]:
    """Every complainant session, newest first."""
    factory = sharing.sessions
    require(factory, actor, Permission.POLICY_COMPLAINANT, "see complainant viewing sessions")
    with factory() as s:
        rows = s.scalars(
            select(ComplainantSession).order_by(
                ComplainantSession.starts_at.desc(), ComplainantSession.id.desc()
            )
        )
        return [_view(s, r) for r in rows]
