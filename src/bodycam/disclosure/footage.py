"""The recordings attached to a request: held while it is open.

Attaching checks that the acting user may see each recording (the evidence domain's
access-scoped statement) and is all or nothing; detaching ends the request's hold on the
recording (other holds, a case's or another request's, stay). Finding candidates is
:mod:`bodycam.disclosure.search`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.disclosure.errors import DisclosureError
from bodycam.disclosure.holds import release_recording, sync_holds
from bodycam.disclosure.models import CLOSED, DisclosureRecording
from bodycam.disclosure.requests import add_step, clean_list, load
from bodycam.evidence.access import readable_recordings
from bodycam.evidence.models import Recording
from bodycam.evidence.service import Vault
from bodycam.ids import utcnow
from bodycam.retention.service import refresh_queue


def attach(
    vault: Vault,
    actor: Actor,
    number: str,
    recording_ids: Sequence[str],
    *,
    now: datetime | None = None,
) -> list[str]:
    """Attach recordings the actor may see to an open request (held from now on); returns
    those newly attached. All or nothing: one unknown recording refuses them all."""
    factory = vault.sessions
    require(factory, actor, Permission.DISCLOSURE_MANAGE, "attach footage to requests", number)
    now = now or utcnow()
    wanted = clean_list(recording_ids, "Recording id")
    if not wanted:
        raise DisclosureError("Name at least one recording to attach.")
    with transaction(factory) as s:
        req = load(s, number, lock=True)
        if req.status in CLOSED:
            raise DisclosureError(
                f"Request {req.number} is closed ({req.status}); footage can no longer be attached."
            )
        visible = set(
            s.scalars(
                readable_recordings(actor, vault.officer_sees_own)
                .with_only_columns(Recording.id)
                .where(Recording.id.in_(wanted))
            )
        )
        missing = [r for r in wanted if r not in visible]
        if missing:
            raise DisclosureError(
                f"There is no recording {', '.join(missing)} that you may see "
                "(nothing was attached)."
            )
        have = set(
            s.scalars(
                select(DisclosureRecording.recording_id).where(
                    DisclosureRecording.request_id == req.id
                )
            )
        )
        added = [r for r in wanted if r not in have]
        for rid in added:
            s.add(
                DisclosureRecording(
                    request_id=req.id, recording_id=rid, attached_by=actor.user_id, attached_at=now
                )
            )
            add_step(s, actor, req, "attach", now, detail=rid)
            record(
                s,
                actor,
                AuditAction.DISCLOSURE_RECORDING_ATTACH,
                "recording",
                rid,
                {"request": req.number},
            )
        s.flush()
        sync_holds(s, actor, req)
    refresh_queue(factory, now)
    return added


def detach(
    factory: sessionmaker[Session],
    actor: Actor,
    number: str,
    recording_ids: Sequence[str],
    *,
    reason: str = "",
    now: datetime | None = None,
) -> list[str]:
    """Take recordings off an open request; its hold on them ends (another hold may stay)."""
    require(factory, actor, Permission.DISCLOSURE_MANAGE, "detach footage from requests", number)
    now = now or utcnow()
    wanted = clean_list(recording_ids, "Recording id")
    if not wanted:
        raise DisclosureError("Name at least one recording to detach.")
    with transaction(factory) as s:
        req = load(s, number, lock=True)
        if req.status in CLOSED:
            raise DisclosureError(f"Request {req.number} is closed ({req.status}).")
        links = {
            link.recording_id: link
            for link in s.scalars(
                select(DisclosureRecording).where(
                    DisclosureRecording.request_id == req.id,
                    DisclosureRecording.recording_id.in_(wanted),
                )
            )
        }
        missing = [r for r in wanted if r not in links]
        if missing:
            raise DisclosureError(
                f"Recording {', '.join(missing)} is not attached to request {req.number}."
            )
        for rid in wanted:
            s.delete(links[rid])
            why = f"{rid}: {reason.strip()}" if reason.strip() else rid
            add_step(s, actor, req, "detach", now, detail=why)
            record(
                s,
                actor,
                AuditAction.DISCLOSURE_RECORDING_DETACH,
                "recording",
                rid,
                {"request": req.number, "reason": reason.strip()},
            )
            release_recording(s, actor, req, rid)
    refresh_queue(factory, now)
    return wanted
