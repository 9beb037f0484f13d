"""Audit tables: records, signed checkpoints and the sealer's tree state.

An audit record *is* its body: the canonical JSON bytes
(:func:`bodycam.audit.canonical.canonical_bytes`) of who did what, when, from where and
to which object. Nothing a record says is stored twice. The fields that queries filter
and sort on (``action``, ``object_type``, ``object_id``, ``at`` ...) are read out of the
body by SQL (``json_extract`` on SQLite, ``->>`` on PostgreSQL) and indexed by expression
indexes, so an edited column can never disagree with the hashed bytes, and verifying the
log needs only to hash each body once.

Records are inserted in the same transaction as the action they describe, with no
position (``"seq": null`` in the body). The sealer (:func:`bodycam.audit.service.seal`)
later gives them consecutive positions, writes the position into the body, hashes it
into the Merkle tree and signs a checkpoint. Writers never take a shared lock; only the
sealer does.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, Index, Integer, LargeBinary, String, Text
from sqlalchemy.engine.interfaces import Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator, TypeEngine

from bodycam.audit.canonical import canonical_bytes
from bodycam.db import Base
from bodycam.ids import as_utc, new_id, rfc3339, utcnow


class RFC3339Text(TypeDecorator[datetime]):
    """An RFC 3339 UTC time held as text (``2026-11-23T23:30:00.123456Z``), as in bodies."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        return None if value is None else rfc3339(value)

    def process_result_value(self, value: str | None, dialect: Dialect) -> datetime | None:
        return None if value is None else as_utc(datetime.fromisoformat(value))


class _BodyField(FunctionElement[Any]):
    """One top-level member of the ``body`` column, extracted in SQL (see subclasses)."""

    inherit_cache = True
    member: ClassVar[str] = ""
    as_json: ClassVar[bool] = False


@compiles(_BodyField)
def _body_field_sqlite(element: _BodyField, compiler: SQLCompiler, **kw: Any) -> str:
    body = compiler.process(element.clauses, **kw)
    return f"json_extract({body}, '$.{element.member}')"


@compiles(_BodyField, "postgresql")
def _body_field_postgresql(element: _BodyField, compiler: SQLCompiler, **kw: Any) -> str:
    body = compiler.process(element.clauses, **kw)
    op = "->" if element.as_json else "->>"
    return f"({body}::json {op} '{element.member}')"


def _body_field_class(key: str, type_: TypeEngine[Any], as_json: bool = False) -> type[_BodyField]:
    """A SQL construct class extracting member ``key`` of a record body as ``type_``."""
    attrs = {"member": key, "as_json": as_json, "type": type_, "inherit_cache": True}
    return type(f"body_{key}", (_BodyField,), attrs)


# Members read out of the body, with the SQL type of the extracted value.
_MEMBERS: dict[str, type[_BodyField]] = {
    "id": _body_field_class("id", String(26)),
    "at": _body_field_class("at", RFC3339Text()),
    "actor_id": _body_field_class("actor_id", String()),
    "actor": _body_field_class("actor", String()),
    "role": _body_field_class("role", String()),
    "via": _body_field_class("via", String()),
    "ip": _body_field_class("ip", String()),
    "action": _body_field_class("action", String()),
    "object_type": _body_field_class("object_type", String()),
    "object_id": _body_field_class("object_id", String()),
    "details": _body_field_class("details", JSON(), as_json=True),
}


def _member(key: str) -> hybrid_property[Any]:
    """An attribute read from the parsed body on instances and from SQL in queries."""
    construct = _MEMBERS[key]

    def get(self: AuditRecord) -> Any:
        value = self.data[key]
        return as_utc(datetime.fromisoformat(value)) if key == "at" else value

    def expr(cls: type[AuditRecord]) -> ColumnElement[Any]:
        return construct(cls.body)

    return hybrid_property(get, expr=expr)


class AuditRecord(Base):
    """One audited action: its canonical body, its position and leaf hash once sealed."""

    __tablename__ = "audit_records"

    pk: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    seq: Mapped[int | None] = mapped_column(BigInteger, unique=True, default=None)
    body: Mapped[str] = mapped_column(Text)
    leaf_hash: Mapped[bytes | None] = mapped_column(LargeBinary(32), default=None)

    id = _member("id")
    at = _member("at")
    actor_id = _member("actor_id")
    actor = _member("actor")
    role = _member("role")
    via = _member("via")
    ip = _member("ip")
    action = _member("action")
    object_type = _member("object_type")
    object_id = _member("object_id")
    details = _member("details")

    @classmethod
    def new(
        cls,
        *,
        actor_id: str,
        actor: str,
        role: str,
        via: str,
        ip: str,
        action: str,
        object_type: str,
        object_id: str,
        details: dict[str, Any] | None = None,
        at: datetime | None = None,
        id_: str | None = None,
    ) -> AuditRecord:
        """A pending record (no position yet) with its canonical body."""
        fields = record_dict(
            id_ or new_id(), None, at or utcnow(), actor_id, actor, role, via, ip, action,
            object_type, object_id, details,
        )  # fmt: skip
        return cls(body=canonical_bytes(fields).decode("utf-8"))

    @property
    def data(self) -> dict[str, Any]:
        """The body parsed (cached until the body changes)."""
        cached = self.__dict__.get("_parsed")
        if cached is None or cached[0] is not self.body:
            cached = (self.body, json.loads(self.body))
            self.__dict__["_parsed"] = cached
        parsed: dict[str, Any] = cached[1]
        return parsed

    def as_hashed_dict(self) -> dict[str, Any]:
        """The exact mapping whose canonical bytes form this record's Merkle leaf."""
        return dict(self.data)


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
    """Assemble the hashed form of a record from its fields."""
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


_body = AuditRecord.__table__.c.body
Index("ix_audit_records_id", _MEMBERS["id"](_body), unique=True)
Index("ix_audit_records_at", _MEMBERS["at"](_body))
Index("ix_audit_records_action", _MEMBERS["action"](_body))
Index("ix_audit_records_object", _MEMBERS["object_type"](_body), _MEMBERS["object_id"](_body))


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


class AuditVerifiedState(Base):
    """A tree head that a full or incremental verification found intact, with its frontier.

    The next incremental verification (``verify_log(since=...)``) resumes the tree from
    here and re-hashes only the records after it. Nothing here is trusted on its own: the
    frontier must fold to the signed checkpoint's root at ``tree_size`` before it is used.
    """

    __tablename__ = "audit_verified_states"

    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    frontier: Mapped[list[str]] = mapped_column(JSON, default=list)
    verified_at: Mapped[datetime] = mapped_column(default=utcnow)
    records_checked: Mapped[int] = mapped_column(BigInteger, default=0)
    """How many records that run re-hashed (all of them for a full verification)."""
