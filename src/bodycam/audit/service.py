"""Writing, sealing, proving and verifying the audit log.

``record`` adds one row in the caller's transaction: if it cannot be written the
whole action rolls back, so no audited action happens unrecorded. ``seal`` is
the only place that orders records: under a lock on the single tree-state row it
numbers pending records, appends their leaf hashes to the Merkle tree and signs
a checkpoint. ``verify_log`` recomputes every leaf and every checkpoint root.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bodycam import faults
from bodycam.audit.actions import AuditAction
from bodycam.audit.canonical import canonical_bytes
from bodycam.audit.merkle import TreeBuilder, inclusion_proof, leaf_hash
from bodycam.audit.models import AuditCheckpoint, AuditRecord, AuditTreeState, record_dict
from bodycam.audit.proofdoc import build_proof_document
from bodycam.audit.signing import Checkpoint, SignatureError, sign_checkpoint, verify_checkpoint
from bodycam.auth.actor import Actor
from bodycam.db import transaction
from bodycam.ids import rfc3339, utcnow

SEAL_BATCH = 5000


@dataclass(frozen=True)
class AuditSigner:
    """The key that signs checkpoints, its name and the log's origin line."""

    private_key: Ed25519PrivateKey
    key_name: str
    origin: str

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public half, for verification."""
        return self.private_key.public_key()


def _clean(value: Any) -> Any:
    """Make a details value hashable by the canonical form (no floats, plain types)."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [_clean(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, bool) or value is None or isinstance(value, int | str):
        return value
    if isinstance(value, Enum):
        return _clean(value.value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else str(value)
    if isinstance(value, datetime):
        return rfc3339(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def record(
    session: Session,
    actor: Actor,
    action: AuditAction,
    object_type: str,
    object_id: str,
    details: Mapping[str, Any] | None = None,
) -> AuditRecord:
    """Write one audit record in ``session``'s transaction (flushed now, so errors surface)."""
    rec = AuditRecord(
        actor_id=actor.user_id,
        actor=actor.username,
        role=actor.role.value,
        via=actor.via,
        ip=actor.ip,
        action=action.value,
        object_type=object_type,
        object_id=object_id,
        details=_clean(dict(details or {})),
        at=utcnow(),
    )
    session.add(rec)
    session.flush()
    return rec


def record_denial(
    factory: sessionmaker[Session], actor: Actor, attempted: str, object_id: str = ""
) -> None:
    """Record a refused action in its own transaction (the action itself rolled back)."""
    with transaction(factory) as s:
        record(
            s,
            actor,
            AuditAction.ACCESS_DENIED,
            "request",
            object_id or "-",
            {"attempted": attempted},
        )


def _frontier_in(state: AuditTreeState) -> list[bytes]:
    return [bytes.fromhex(h) for h in state.frontier]


def _ensure_tree_state(factory: sessionmaker[Session]) -> None:
    """Create the sealer's single row once; a concurrent creator winning is fine."""
    with factory() as s:
        if s.get(AuditTreeState, 1) is not None:
            return
    try:
        with transaction(factory) as s:
            s.add(AuditTreeState(id=1, tree_size=0, frontier=[], updated_at=utcnow()))
    except IntegrityError:
        pass


def seal(factory: sessionmaker[Session], signer: AuditSigner) -> AuditCheckpoint | None:
    """Number, hash and sign every pending record; return the new checkpoint (None if none)."""
    _ensure_tree_state(factory)
    with transaction(factory) as s:
        # Take the sealer's lock first with a write, so SQLite's deferred
        # transaction becomes a write transaction before anything is read,
        # and PostgreSQL holds the row lock until commit.
        now = utcnow()
        s.execute(update(AuditTreeState).where(AuditTreeState.id == 1).values(updated_at=now))
        state = s.get(AuditTreeState, 1, populate_existing=True)
        assert state is not None
        builder = TreeBuilder.from_state(state.tree_size, _frontier_in(state))
        sealed_any = False
        while True:
            pending = list(
                s.scalars(
                    select(AuditRecord)
                    .where(AuditRecord.seq.is_(None))
                    .order_by(AuditRecord.at, AuditRecord.id)
                    .limit(SEAL_BATCH)
                )
            )
            if not pending:
                break
            for rec in pending:
                rec.seq = builder.size
                rec.leaf_hash = leaf_hash(canonical_bytes(rec.as_hashed_dict()))
                builder.append(rec.leaf_hash)
            s.flush()
            sealed_any = True
        if not sealed_any:
            return None
        size, frontier = builder.state()
        root = builder.root()
        cp = Checkpoint(origin=signer.origin, tree_size=size, root=root, timestamp=now)
        note = sign_checkpoint(cp, signer.private_key, signer.key_name)
        checkpoint = AuditCheckpoint(tree_size=size, root_hash=root, at=now, signed_note=note)
        s.add(checkpoint)
        state.tree_size = size
        state.frontier = [h.hex() for h in frontier]
        s.flush()
        faults.point("audit.seal_flushed")
        return checkpoint


def latest_checkpoint(session: Session) -> AuditCheckpoint | None:
    """The newest signed checkpoint."""
    return session.scalars(
        select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size.desc()).limit(1)
    ).first()


def _leaf_hashes(session: Session, upto: int) -> list[bytes]:
    rows = session.execute(
        select(AuditRecord.leaf_hash).where(AuditRecord.seq < upto).order_by(AuditRecord.seq)
    )
    return [bytes(r[0] or b"") for r in rows]


def proof_document(
    factory: sessionmaker[Session], signer: AuditSigner, record_id: str
) -> dict[str, Any]:
    """An inclusion proof of one record under the latest checkpoint (seals first)."""
    seal(factory, signer)
    with transaction(factory) as s:
        rec = s.get(AuditRecord, record_id)
        if rec is None:
            raise LookupError(f"There is no audit record with id {record_id}.")
        cp = latest_checkpoint(s)
        assert cp is not None and rec.seq is not None
        leaves = _leaf_hashes(s, cp.tree_size)
        path = inclusion_proof(rec.seq, leaves)
        return build_proof_document(
            rec.as_hashed_dict(), rec.seq, cp.tree_size, path, cp.signed_note
        )


@dataclass(frozen=True)
class LogReport:
    """What verification of the audit log found."""

    records: int
    checkpoints: int
    pending: int
    problems: list[str]


_COLUMNS = (
    AuditRecord.id,
    AuditRecord.seq,
    AuditRecord.at,
    AuditRecord.actor_id,
    AuditRecord.actor,
    AuditRecord.role,
    AuditRecord.via,
    AuditRecord.ip,
    AuditRecord.action,
    AuditRecord.object_type,
    AuditRecord.object_id,
    AuditRecord.details,
    AuditRecord.leaf_hash,
)


def _iter_sealed(session: Session) -> Iterator[Any]:
    stmt = (
        select(*_COLUMNS)
        .where(AuditRecord.seq.is_not(None))
        .order_by(AuditRecord.seq)
        .execution_options(yield_per=20000)
    )
    yield from session.execute(stmt)


def verify_log(
    factory: sessionmaker[Session], public_key: Ed25519PublicKey, key_name: str
) -> LogReport:
    """Recompute every sealed leaf and every checkpoint root; list each problem found."""
    problems: list[str] = []
    with factory() as s:
        checkpoints = list(s.scalars(select(AuditCheckpoint).order_by(AuditCheckpoint.tree_size)))
        roots: dict[int, bytes] = {}
        for cp in checkpoints:
            try:
                signed = verify_checkpoint(cp.signed_note, public_key, key_name)
            except SignatureError as exc:
                problems.append(f"Checkpoint at size {cp.tree_size}: {exc}")
                continue
            if signed.tree_size != cp.tree_size or signed.root != bytes(cp.root_hash):
                problems.append(
                    f"Checkpoint at size {cp.tree_size}: its columns differ from its signed note."
                )
            roots[signed.tree_size] = signed.root
        builder = TreeBuilder()
        expected = 0
        count = 0
        for row in _iter_sealed(s):
            seq = row.seq
            if seq != expected:
                if seq > expected:
                    first, last = expected, seq - 1
                    gap = f"#{first}" if first == last else f"#{first} to #{last}"
                    problems.append(
                        f"Audit record {gap} is missing (deleted or renumbered) before "
                        f"record {row.id}."
                    )
                else:
                    problems.append(f"Audit record {row.id} repeats position #{seq}.")
                    continue
                # Keep hashing so later checkpoints are still compared; they will fail.
                expected = seq
            data = canonical_bytes(
                record_dict(
                    row.id,
                    row.seq,
                    row.at,
                    row.actor_id,
                    row.actor,
                    row.role,
                    row.via,
                    row.ip,
                    row.action,
                    row.object_type,
                    row.object_id,
                    row.details,
                )
            )
            lh = leaf_hash(data)
            if row.leaf_hash is None or bytes(row.leaf_hash) != lh:
                problems.append(
                    f"Audit record #{seq} ({row.id}) was changed after it was sealed: "
                    "its contents no longer match its leaf hash."
                )
            builder.append(lh)
            expected += 1
            count += 1
            if builder.size in roots and builder.root() != roots[builder.size]:
                problems.append(
                    f"The audit log up to #{builder.size - 1} does not match the signed "
                    f"checkpoint of size {builder.size}: records were changed, removed, "
                    "reordered or inserted."
                )
        if checkpoints:
            last = checkpoints[-1].tree_size
            if builder.size < last:
                problems.append(
                    f"The signed checkpoint covers {last} records but only {builder.size} "
                    "sealed records remain: records were deleted."
                )
            elif builder.size > last:
                problems.append(
                    f"{builder.size - last} sealed records lie beyond the last signed "
                    f"checkpoint (size {last}): records were inserted."
                )
        elif builder.size:
            problems.append(f"{builder.size} sealed records exist but no signed checkpoint does.")
        pending_count = (
            s.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.seq.is_(None)))
            or 0
        )
    return LogReport(count, len(checkpoints), pending_count, problems)


def public_key_b64(key: Ed25519PublicKey) -> str:
    """Raw public key bytes in base64 (shown in reports)."""
    from cryptography.hazmat.primitives import serialization

    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()
