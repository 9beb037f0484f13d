"""HTTP API of the audit domain: trails, proofs, the latest checkpoint and the public key."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel

from bodycam.audit.service import latest_checkpoint, proof_document
from bodycam.audit.signing import public_key_pem
from bodycam.audit.trail import recording_trail
from bodycam.web.deps import ApiActor, CtxDep

router = APIRouter(prefix="/api/v1", tags=["audit"])


class TrailEntryOut(BaseModel):
    """One audit record of a trail."""

    id: str
    seq: int | None
    at: datetime
    actor: str
    role: str
    via: str
    ip: str
    action: str
    details: dict[str, Any]
    leaf_hash: str | None
    checkpoint_size: int | None


@router.get("/recordings/{recording_id}/audit", response_model=list[TrailEntryOut])
def recording_audit(recording_id: str, ctx: CtxDep, actor: ApiActor) -> list[TrailEntryOut]:
    """A recording's audit trail (auditors; reading it is audited)."""
    trail = recording_trail(ctx.sessions, actor, recording_id)
    return [
        TrailEntryOut(
            id=e.id,
            seq=e.seq,
            at=e.at,
            actor=e.actor,
            role=e.role,
            via=e.via,
            ip=e.ip,
            action=e.action,
            details=e.details,
            leaf_hash=e.leaf_hash,
            checkpoint_size=e.checkpoint_size,
        )
        for e in trail.entries
    ]


@router.get("/audit/records/{record_id}/proof")
def audit_proof(record_id: str, ctx: CtxDep, actor: ApiActor) -> dict[str, Any]:
    """An inclusion proof of one audit record, checkable by tools/verify_proof.py."""
    return proof_document(ctx.sessions, ctx.signer, actor, record_id)


@router.get("/audit/checkpoint", response_class=PlainTextResponse)
def audit_checkpoint(ctx: CtxDep) -> str:
    """The latest signed checkpoint (public, so outsiders can watch the log grow).

    It only reads: the background sealer publishes new checkpoints every few seconds,
    so an anonymous caller cannot make the server write.
    """
    with ctx.sessions() as s:
        cp = latest_checkpoint(s)
        return cp.signed_note if cp else ""


@router.get("/audit/public-key", response_class=PlainTextResponse)
def audit_public_key(ctx: CtxDep) -> str:
    """The PEM public key that signs checkpoints."""
    return public_key_pem(ctx.signer.private_key)
