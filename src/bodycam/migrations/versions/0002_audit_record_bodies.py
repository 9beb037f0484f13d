"""audit records are their canonical bodies; query fields are expression indexes

Each audit record used to keep its fields in columns, from which verification had to
rebuild the hashed bytes. Now a record is one ``body`` column holding exactly the
canonical bytes that are hashed (with its position once sealed), and the fields that
queries use are indexed expressions over the body, so no column can disagree with it.

Existing rows are carried over: each body is built from the old columns the same way
the sealer hashed them, so every stored leaf hash and signed checkpoint stays valid.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 02:40:00
"""

import json
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_BATCH = 5000

# (index name, members, unique)
_INDEXES = [
    ("ix_audit_records_id", ["id"], True),
    ("ix_audit_records_at", ["at"], False),
    ("ix_audit_records_action", ["action"], False),
    ("ix_audit_records_object", ["object_type", "object_id"], False),
]


def _canonical(record: dict[str, Any]) -> str:
    # The frozen canonical form (bodycam.audit.canonical): sorted keys, no whitespace,
    # UTF-8 text, no floats. Old rows only ever held values of that form.
    return json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _rfc3339(value: Any) -> str:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return str(value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"))


def _member(dialect: str, key: str) -> str:
    if dialect == "postgresql":
        return f"(body::json ->> '{key}')"
    return f"json_extract(body, '$.{key}')"


def upgrade() -> None:
    bind = op.get_bind()
    dialect = bind.dialect.name
    pk_type = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    # PostgreSQL names constraints per schema: the new table's take their final names
    # once the old table is gone. SQLite names them per table and cannot rename them.
    suffix = "_new" if dialect == "postgresql" else ""
    op.create_table(
        "audit_records_new",
        sa.Column("pk", pk_type, autoincrement=True, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=True),
        sa.PrimaryKeyConstraint("pk", name=f"pk_audit_records{suffix}"),
        sa.UniqueConstraint("seq", name=f"uq_audit_records_seq{suffix}"),
    )
    old = sa.table(
        "audit_records",
        *(
            sa.column(name)
            for name in (
                "id",
                "seq",
                "at",
                "actor_id",
                "actor",
                "role",
                "via",
                "ip",
                "action",
                "object_type",
                "object_id",
                "details",
                "leaf_hash",
            )
        ),
    )
    new = sa.table("audit_records_new", sa.column("seq"), sa.column("body"), sa.column("leaf_hash"))
    # Sealed records in log order, then pending ones in the order the sealer takes them.
    query = sa.select(old).order_by(old.c.seq.is_(None), old.c.seq, old.c.at, old.c.id)
    rows = bind.execute(query).mappings()
    batch: list[dict[str, Any]] = []
    for row in rows:
        details = row["details"]
        if isinstance(details, str):
            details = json.loads(details)
        record = {
            "id": row["id"], "seq": row["seq"], "at": _rfc3339(row["at"]),
            "actor_id": row["actor_id"], "actor": row["actor"], "role": row["role"],
            "via": row["via"], "ip": row["ip"], "action": row["action"],
            "object_type": row["object_type"], "object_id": row["object_id"],
            "details": details or {},
        }  # fmt: skip
        batch.append({"seq": row["seq"], "body": _canonical(record), "leaf_hash": row["leaf_hash"]})
        if len(batch) >= _BATCH:
            bind.execute(sa.insert(new), batch)
            batch.clear()
    if batch:
        bind.execute(sa.insert(new), batch)
    op.drop_table("audit_records")
    op.rename_table("audit_records_new", "audit_records")
    if dialect == "postgresql":
        for kind in ("pk_audit_records", "uq_audit_records_seq"):
            op.execute(f"ALTER TABLE audit_records RENAME CONSTRAINT {kind}_new TO {kind}")
        op.execute("ALTER SEQUENCE audit_records_new_pk_seq RENAME TO audit_records_pk_seq")
    for name, members, unique in _INDEXES:
        expressions = ", ".join(_member(dialect, key) for key in members)
        kind = "UNIQUE INDEX" if unique else "INDEX"
        op.execute(f"CREATE {kind} {name} ON audit_records ({expressions})")


def downgrade() -> None:
    raise NotImplementedError(
        "Audit records cannot be moved back to per-field columns; restore a backup instead."
    )
