"""Audit tables: records, signed checkpoints and the sealer's tree state.

Records are inserted in the same transaction as the action they describe, with
no position. The sealer (:func:`bodycam.audit.service.seal`) later gives them
consecutive positions (``seq``), hashes them into the Merkle tree and signs a
checkpoint. Writers never take a shared lock; only the sealer does.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bodycam.db import Base
from bodycam.ids import new_id, rfc3339, utcnow


class AuditRecord(Base):
    """One audited action."""

    __tablename__ = "audit_records"
    __table_args__ = (
        Index("ix_audit_records_at", "at"),
        Index("ix_audit_records_object", "object_type", "object_id"),
    )

    id: Mapped[str] = mapped_column(String(26), primary_key=True, default=new_id)
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True, default=None)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[str] = mapped_column(String(26))
    actor: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(40))
    via: Mapped[str] = mapped_column(String(20))
    ip: Mapped[str] = mapped_column(String(64), default="")
    action: Mapped[str] = mapped_column(String(80), index=True)
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    leaf_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)

    def as_hashed_dict(self) -> dict[str, Any]:
        """The exact mapping whose canonical bytes form this record's Merkle leaf."""
        return record_dict(
            self.id,
            self.seq,
            self.at,
            self.actor_id,
            self.actor,
            self.role,
            self.via,
            self.ip,
            self.action,
            self.object_type,
            self.object_id,
            self.details,
        )


def record_dict(
    id_: str,
    seq: int | None,
    at: datetime,
    actor_id: str,
    actor: str,
    role: str,
    via: str,
    ip: str,
    action: str,
    object_type: str,
    object_id: str,
    details: dict[str, Any] | None,
) -> dict[str, Any]:
    """Assemble the hashed form of a record from its columns."""
    return {
        "id": id_,
        "seq": seq,
        "at": rfc3339(at),
        "actor_id": actor_id,
        "actor": actor,
        "role": role,
        "via": via,
        "ip": ip,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "details": details or {},
    }


class AuditCheckpoint(Base):
    """A signed tree head: the log's size and root at a moment, signed with Ed25519."""

    __tablename__ = "audit_checkpoints"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    signed_note: Mapped[str] = mapped_column(Text)


class AuditTreeState(Base):
    """The sealer's single row: tree size and compact frontier, locked while sealing."""

    __tablename__ = "audit_tree_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    tree_size: Mapped[int] = mapped_column(BigInteger, default=0)
    frontier: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
