"""Writing, sealing, proving and verifying the audit log.

``record`` adds one row in the caller's transaction: if it cannot be written the
whole action rolls back, so no audited action happens unrecorded. ``seal`` is
the only place that orders records: under a lock on the single tree-state row it
numbers pending records, appends their leaf hashes to the Merkle tree and signs
a checkpoint. ``verify_log`` recomputes every leaf and every checkpoint root.
"""

from __future__ import annotations

import base64
import json
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
from bodycam.audit import fastverify
from bodycam.audit.actions import AuditAction
from bodycam.audit.canonical import canonical_bytes
from bodycam.audit.merkle import TreeBuilder, inclusion_proof, leaf_hash
from bodycam.audit.models import (
    AuditCheckpoint,
    AuditRecord,
    AuditTreeState,
    AuditVerifiedState,
)
from bodycam.audit.proofdoc import build_proof_document
from bodycam.audit.signing import Checkpoint, SignatureError, sign_checkpoint, verify_checkpoint
from bodycam.auth.actor import Actor, PermissionDenied
from bodycam.auth.permissions import Permission
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
    rec = AuditRecord.new(
        actor_id=actor.user_id,
        actor=actor.username,
        role=actor.role.value,
        via=actor.via,
        ip=actor.ip,
        action=action.value,
        object_type=object_type,
        object_id=object_id,
        details=_clean(dict(details or {})),
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


def require(
    factory: sessionmaker[Session], actor: Actor, perm: Permission, what: str, object_id: str = ""
) -> None:
    """Check ``perm``; a refusal is audited (in its own transaction) and re-raised."""
    try:
        actor.require(perm, what)
    except PermissionDenied as exc:
        record_denial(factory, actor, what, object_id)
        exc.audited = True
        raise


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
                fields = rec.as_hashed_dict()
                fields["seq"] = builder.size
                body = canonical_bytes(fields)
                rec.seq = builder.size
                rec.body = body.decode("utf-8")
                rec.leaf_hash = leaf_hash(body)
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
    factory: sessionmaker[Session], signer: AuditSigner, actor: Actor, record_id: str
) -> dict[str, Any]:
    """An inclusion proof of one record under the latest checkpoint (seals first; audited)."""
    try:
        actor.require(Permission.AUDIT_EXPORT, "issue audit proofs")
    except PermissionDenied:
        record_denial(factory, actor, f"proof of audit record {record_id}", record_id)
        raise
    by_id = select(AuditRecord).where(AuditRecord.id == record_id)
    with factory() as s:
        if s.scalars(by_id).first() is None:
            raise LookupError(f"There is no audit record with id {record_id}.")
    with transaction(factory) as s:
        record(s, actor, AuditAction.AUDIT_PROOF, "audit_record", record_id)
    seal(factory, signer)
    with transaction(factory) as s:
        rec = s.scalars(by_id).first()
        cp = latest_checkpoint(s)
        assert rec is not None and cp is not None and rec.seq is not None
        leaves = _leaf_hashes(s, cp.tree_size)
        path = inclusion_proof(rec.seq, leaves)
        return build_proof_document(
            rec.as_hashed_dict(), rec.seq, cp.tree_size, path, cp.signed_note
        )


@dataclass(frozen=True)
class LogReport:
    """What verification of the audit log found.

    ``records`` and ``checkpoints`` count what was checked: all of them, or with
    ``since`` (an incremental verification) those after the tree size ``since``.
    """

    records: int
    checkpoints: int
    pending: int
    problems: list[str]
    since: int = 0
    tree_size: int = 0
    """The size of the last checkpoint checked (0: none)."""


_VERIFY_BATCH = 20000

# One sealed record as the verifier consumes it: (seq, body, recomputed leaf, stored leaf).
_Leaf = tuple[Any, Any, bytes, Any]


# The leaf of bytes no canonical record can have (those start with "{"): never equal to
# a stored leaf, so the record is reported as changed.
_UNHASHABLE = leaf_hash(b"\xffnot a canonical record")


def _body_bytes(body: Any) -> bytes | None:
    """A stored body as bytes; None for a value no sealer writes (not text)."""
    if isinstance(body, str):
        try:
            return body.encode("utf-8")
        except UnicodeEncodeError:
            return None
    if isinstance(body, bytes | bytearray | memoryview):
        return bytes(body)
    return None


def _record_id(body: Any) -> str:
    """The id a stored body names, for messages (``?`` when it names none)."""
    try:
        rid = json.loads(body)["id"]
    except (TypeError, ValueError, KeyError):
        return "?"
    return rid if isinstance(rid, str) else "?"


def _iter_sealed(session: Session, upto: int | None = None, since: int = 0) -> Iterator[_Leaf]:
    """Every sealed record (from position ``since``, below ``upto``) in log order, with its
    leaf hash."""
    stmt = select(AuditRecord.seq, AuditRecord.body, AuditRecord.leaf_hash).where(
        AuditRecord.seq.is_not(None)
    )
    if since:
        stmt = stmt.where(AuditRecord.seq >= since)
    if upto is not None:
        stmt = stmt.where(AuditRecord.seq < upto)
    stmt = stmt.order_by(AuditRecord.seq).execution_options(yield_per=_VERIFY_BATCH)
    for seq, body, stored in session.execute(stmt):
        data = _body_bytes(body)
        yield seq, body, _UNHASHABLE if data is None else leaf_hash(data), stored


def _sqlite_file(session: Session) -> str | None:
    """The database file when the session is on a file-backed SQLite database."""
    bind = session.get_bind()
    url = bind.engine.url if hasattr(bind, "engine") else None
    if url is None or url.get_backend_name() != "sqlite":
        return None
    database = url.database or ""
    if database in ("", ":memory:") or database.startswith("file:"):
        return None
    return database


def _parallel_ok(
    session: Session, roots: dict[int, bytes], workers: int | None, chunk_bits: int
) -> int | None:
    """Check the whole sealed log on several cores; its size when everything holds.

    Used only on a file-backed SQLite database whose sealed records number exactly the
    last checkpoint's size at positions 0 to size - 1 and fill at least two chunks. Any
    other case, and any difference found, returns None: the sequential check then runs
    and names each problem.
    """
    database = _sqlite_file(session)
    if database is None or not roots:
        return None
    count, low, high = session.execute(
        select(func.count(), func.min(AuditRecord.seq), func.max(AuditRecord.seq)).where(
            AuditRecord.seq.is_not(None)
        )
    ).one()
    size = max(roots)
    if count != size or low != 0 or high != size - 1 or count < 2 << chunk_bits:
        return None
    workers = workers if workers is not None else fastverify.usable_cores()
    if workers < 2:
        return None
    found = fastverify.parallel_roots(
        database, size, sorted(roots), workers=workers, chunk_bits=chunk_bits
    )
    if found is None or any(found.get(n) != root for n, root in roots.items()):
        return None
    return size


class VerifyStartError(ValueError):
    """An incremental verification cannot start at the tree size asked for."""


def latest_verified(session: Session) -> AuditVerifiedState | None:
    """The largest tree head a verification found intact (None before any)."""
    return session.scalars(
        select(AuditVerifiedState).order_by(AuditVerifiedState.tree_size.desc()).limit(1)
    ).first()


def _start_builder(s: Session, since: int, root: bytes) -> TreeBuilder:
    """The tree of the first ``since`` records, checked against the signed ``root``.

    From the frontier a verification stored at that size; failing that, from the stored
    leaf hashes below it (read, not re-hashed from the bodies). Either must fold to the
    signed root, so neither is trusted on its own.
    """
    state = s.get(AuditVerifiedState, since)
    if state is not None:
        try:
            builder = TreeBuilder.from_state(since, [bytes.fromhex(h) for h in state.frontier])
        except ValueError:
            builder = None
        if builder is not None and builder.root() == root:
            return builder
    builder = TreeBuilder()
    rows = s.execute(
        select(AuditRecord.seq, AuditRecord.leaf_hash)
        .where(AuditRecord.seq < since)
        .order_by(AuditRecord.seq)
        .execution_options(yield_per=_VERIFY_BATCH)
    )
    for seq, stored in rows:  # streamed: a log of millions is never held in memory
        if seq != builder.size or stored is None or len(stored) != 32:
            break  # a missing position or leaf: the size or root below cannot match
        builder.append(bytes(stored))
    if builder.size != since or builder.root() != root:
        raise VerifyStartError(
            f"The stored audit log below position {since} does not match the signed "
            f"checkpoint of size {since}; run a full verification."
        )
    return builder


def _signed_roots(
    checkpoints: list[AuditCheckpoint],
    public_key: Ed25519PublicKey,
    key_name: str,
    problems: list[str],
) -> dict[int, bytes]:
    """The signed root of each checkpoint whose signature holds; appends each problem."""
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
    return roots


def verify_log(
    factory: sessionmaker[Session],
    public_key: Ed25519PublicKey,
    key_name: str,
    *,
    since: int | None = None,
    workers: int | None = None,
    chunk_bits: int = 14,
) -> LogReport:
    """Recompute sealed leaves and checkpoint roots; list each problem found.

    ``since`` (the tree size of a signed checkpoint, e.g. the last one verified:
    :func:`latest_verified`) makes the check incremental: only records at positions
    ``since`` and later are re-hashed, and every later checkpoint must extend the tree of
    checkpoint ``since``, which proves it consistent with it. Without it every record is
    checked; on a large SQLite log over ``workers`` processes (default: one per usable
    core) in chunks of ``2**chunk_bits`` records; everywhere else, and whenever that fast
    path finds anything wrong, one sequential pass names each problem. When nothing is
    wrong the last checkpoint's tree head is stored, for the next incremental check.
    """
    problems: list[str] = []
    start = since or 0
    with factory() as s:
        if start < 0:
            raise VerifyStartError("The tree size to verify from must be 0 or more.")
        first = TreeBuilder()
        if start:
            base = s.get(AuditCheckpoint, start)
            if base is None:
                raise VerifyStartError(
                    f"There is no signed checkpoint of tree size {start} to verify from."
                )
            base_roots = _signed_roots([base], public_key, key_name, [])
            if start not in base_roots:
                raise VerifyStartError(
                    f"The checkpoint of tree size {start} does not verify; run a full verification."
                )
            first = _start_builder(s, start, base_roots[start])
        checkpoints = list(
            s.scalars(
                select(AuditCheckpoint)
                .where(AuditCheckpoint.tree_size > start)
                .order_by(AuditCheckpoint.tree_size)
            )
        )
        roots = _signed_roots(checkpoints, public_key, key_name, problems)
        pending_count = (
            s.scalar(select(func.count()).select_from(AuditRecord).where(AuditRecord.seq.is_(None)))
            or 0
        )
        last = checkpoints[-1].tree_size if checkpoints else start
        root = roots.get(last)
        fast = None
        if not start and not problems and len(roots) == len(checkpoints):
            fast = _parallel_ok(s, roots, workers, chunk_bits)
        if fast is not None:
            count, frontier = fast, _sealer_frontier(s, last, root)
        else:
            count, builder = _check_sequentially(
                s, roots, checkpoints, problems, first, last if checkpoints or start else None
            )
            frontier = builder.state()[1]
    if not problems and checkpoints:
        # In its own transaction: the reads above may hold a snapshot older than a seal.
        _remember(factory, last, root, frontier, count)
    return LogReport(count, len(checkpoints), pending_count, problems, start, last)


def _sealer_frontier(s: Session, size: int, root: bytes | None) -> list[bytes] | None:
    """The sealer's frontier when it stands at ``size`` and folds to ``root``."""
    state = s.get(AuditTreeState, 1)
    if state is None or state.tree_size != size or root is None:
        return None
    try:
        builder = TreeBuilder.from_state(size, _frontier_in(state))
    except ValueError:
        return None
    return builder.state()[1] if builder.root() == root else None


def _remember(
    factory: sessionmaker[Session],
    size: int,
    root: bytes | None,
    frontier: list[bytes] | None,
    checked: int,
) -> None:
    """Store a verified tree head (once per size), for the next incremental check."""
    if root is None or frontier is None:
        return
    try:
        with transaction(factory) as s:
            if s.get(AuditVerifiedState, size) is None:
                s.add(
                    AuditVerifiedState(
                        tree_size=size,
                        root_hash=root,
                        frontier=[h.hex() for h in frontier],
                        verified_at=utcnow(),
                        records_checked=checked,
                    )
                )
    except IntegrityError:  # a concurrent verification stored the same head
        pass


def _check_sequentially(
    s: Session,
    roots: dict[int, bytes],
    checkpoints: list[AuditCheckpoint],
    problems: list[str],
    builder: TreeBuilder | None = None,
    upto: int | None = None,
) -> tuple[int, TreeBuilder]:
    """One pass over the sealed records in log order from ``builder``'s size (default 0)
    to ``upto`` (the last checkpoint's size; records sealed past it while this runs are
    another round's); appends each problem; returns how many records it read and the
    extended tree. Sealed records beyond the newest checkpoint are found by one query, so
    a sealer committing during the pass is not mistaken for an insertion."""
    builder = builder if builder is not None else TreeBuilder()
    start = builder.size
    # Leaf hashes wait here until the tree reaches a checkpoint's size (or the end).
    waiting: list[bytes] = []
    expected = start
    count = start
    for seq, body, lh, stored in _iter_sealed(s, upto, since=start):
        if seq != expected:
            if seq > expected:
                first, last = expected, seq - 1
                gap = f"#{first}" if first == last else f"#{first} to #{last}"
                problems.append(
                    f"Audit record {gap} is missing (deleted or renumbered) before "
                    f"record {_record_id(body)}."
                )
            else:
                problems.append(f"Audit record {_record_id(body)} repeats position #{seq}.")
                continue
            # Keep hashing so later checkpoints are still compared; they will fail.
            expected = seq
        if stored is None or bytes(stored) != lh:
            problems.append(
                f"Audit record #{seq} ({_record_id(body)}) was changed after it was sealed: "
                "its contents no longer match its leaf hash."
            )
        waiting.append(lh)
        expected += 1
        count += 1
        if count in roots:
            builder.extend(waiting)
            waiting.clear()
            if builder.root() != roots[count]:
                problems.append(
                    f"The audit log up to #{count - 1} does not match the signed "
                    f"checkpoint of size {count}: records were changed, removed, "
                    "reordered or inserted."
                )
    builder.extend(waiting)
    if checkpoints or start:
        last = checkpoints[-1].tree_size if checkpoints else start
        if builder.size < last:
            problems.append(
                f"The signed checkpoint covers {last} records but only {builder.size} "
                "sealed records remain: records were deleted."
            )
        # The newest checkpoint and the records past it, in one statement: a seal commits
        # its records and its checkpoint together, so this never sees half a round.
        newest = select(func.coalesce(func.max(AuditCheckpoint.tree_size), 0)).scalar_subquery()
        beyond = (
            select(func.count()).select_from(AuditRecord).where(AuditRecord.seq >= newest)
        ).scalar_subquery()
        size_now, extra = s.execute(select(newest, beyond)).one()
        if extra:
            problems.append(
                f"{extra} sealed records lie beyond the last signed "
                f"checkpoint (size {size_now}): records were inserted."
            )
    elif builder.size:
        problems.append(f"{builder.size} sealed records exist but no signed checkpoint does.")
    return count - start, builder


def public_key_b64(key: Ed25519PublicKey) -> str:
    """Raw public key bytes in base64 (shown in reports)."""
    from cryptography.hazmat.primitives import serialization

    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()
