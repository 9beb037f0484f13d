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
    factory: sessionmaker[Session], signer: AuditSigner, actor: Actor, record_id: str
) -> dict[str, Any]:
    """An inclusion proof of one record under the latest checkpoint (seals first; audited)."""
    try:
        actor.require(Permission.AUDIT_EXPORT, "issue audit proofs")
    except PermissionDenied:
        record_denial(factory, actor, f"proof of audit record {record_id}", record_id)
        raise
    with factory() as s:
        if s.get(AuditRecord, record_id) is None:
            raise LookupError(f"There is no audit record with id {record_id}.")
    with transaction(factory) as s:
        record(s, actor, AuditAction.AUDIT_PROOF, "audit_record", record_id)
    seal(factory, signer)
    with transaction(factory) as s:
        rec = s.get(AuditRecord, record_id)
        cp = latest_checkpoint(s)
        assert rec is not None and cp is not None and rec.seq is not None
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
_VERIFY_BATCH = 20000
_DETAILS_CACHE_SIZE = 65536

# One sealed record as the verifier consumes it: (seq, id, recomputed leaf, stored leaf).
_Leaf = tuple[Any, Any, bytes, Any]


# The leaf of bytes no canonical record can have (those start with "{"): never equal to
# a stored leaf, so the record is reported as changed.
_UNHASHABLE = leaf_hash(b"\xffnot a canonical record")


def _leaf_of(values: Any) -> bytes:
    """The reference leaf hash of a record from its columns as SQLAlchemy returns them.

    A value the application never writes (a float, a non-string key, a time that is not
    a time) cannot have been sealed: the record is reported as changed, not a crash.
    """
    try:
        return leaf_hash(canonical_bytes(record_dict(*values[:12])))
    except (TypeError, ValueError, AttributeError):
        return _UNHASHABLE


def _iter_sealed(session: Session) -> Iterator[_Leaf]:
    """Every sealed record in log order, hashed the reference way (any database)."""
    stmt = (
        select(*_COLUMNS)
        .where(AuditRecord.seq.is_not(None))
        .order_by(AuditRecord.seq)
        .execution_options(yield_per=_VERIFY_BATCH)
    )
    for row in session.execute(stmt):
        yield row.seq, row.id, _leaf_of(row), row.leaf_hash


class _NotFast(Exception):
    """A value the fast path does not handle: the record is hashed the reference way."""


def _reject_float(text: str) -> Any:
    raise _NotFast(text)


def _reject_other(value: Any) -> Any:
    raise _NotFast(type(value).__name__)


def _fast_json() -> tuple[Any, Any] | None:
    """(scan, encode) from the C accelerators of ``json``, or None when not usable.

    ``scan(text, 0)`` is :func:`json.loads` without whitespace handling, refusing floats,
    NaN and infinities; ``encode(obj, 0)`` yields the chunks of exactly the text that
    :func:`bodycam.audit.canonical.canonical_bytes` writes for a value.
    """
    import json
    import json.encoder as encoder

    make_encoder = getattr(encoder, "c_make_encoder", None)
    scan = getattr(
        json.JSONDecoder(parse_float=_reject_float, parse_constant=_reject_float), "scan_once", None
    )
    if make_encoder is None or scan is None:
        return None
    encode = make_encoder(
        None, _reject_other, encoder.encode_basestring, None, ":", ",", True, False, False
    )
    sample = {"z": [1, -2, True, None, 'é\n\x01"\\/\u2028'], "a": {"k": {}, "b": []}, "é": ""}
    expected = canonical_bytes({"x": sample})[5:-1].decode()
    if "".join(encode(sample, 0)) != expected:
        return None
    return scan, encode


def _iter_sealed_sqlite(session: Session) -> Iterator[_Leaf]:
    """:func:`_iter_sealed` for SQLite, reading raw rows on the session's own connection.

    Same rows, same transaction, same leaf hashes, several times faster. A record whose
    values have exactly the shapes the application writes (text columns, an integer
    position, a ``YYYY-MM-DD HH:MM:SS.ffffff`` time, JSON text holding no float) has its
    canonical bytes assembled directly, each value escaped or re-encoded by the same C code
    that ``json.dumps`` uses. Any other record, and any record whose recomputed leaf differs
    from the stored one, is hashed the reference way from its values processed exactly as
    SQLAlchemy processes them, so every problem is reported as :func:`_iter_sealed` would.
    """
    import hashlib
    import json.encoder
    import re
    from datetime import date as date_cls

    kit = _fast_json()
    if kit is None:
        yield from _iter_sealed(session)
        return
    scan, encode = kit
    quote = json.encoder.encode_basestring
    at_ok = re.compile(
        r"[1-9][0-9]{3}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12][0-9]|3[01]) "
        r"(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]\.[0-9]{6}"
    ).fullmatch
    sha256 = hashlib.sha256
    join = "".join
    days: set[str] = set()
    cache: dict[str, str] = {}
    conn = session.connection()
    dialect = conn.dialect
    processors = [
        col.type.dialect_impl(dialect).result_processor(dialect, None) for col in _COLUMNS
    ]
    names = ", ".join(col.expression.name for col in _COLUMNS)
    table = AuditRecord.__tablename__
    cursor = conn.connection.cursor()
    try:
        # Names from the model, no user input.
        cursor.execute(f"SELECT {names} FROM {table} WHERE seq IS NOT NULL ORDER BY seq")  # noqa: S608
        while rows := cursor.fetchmany(_VERIFY_BATCH):
            for row in rows:
                rid, seq, at, actor_id, actor, role, via, ip, action, otype, oid, det, stored = row
                lh = None
                if type(seq) is int and type(at) is str and type(det) is str:
                    try:
                        # join() accepts only str; quoting adds exactly 2 characters only
                        # when no character of any value needs an escape.
                        text = join((action, actor, actor_id, rid, ip, oid, otype, role, via))
                        if len(quote(text)) != len(text) + 2 or not at_ok(at):
                            raise _NotFast(rid)
                        day = at[:10]
                        if day not in days:
                            date_cls.fromisoformat(day)  # a real calendar day, or ValueError
                            days.add(day)
                        canon = cache.get(det)
                        if canon is None:
                            obj, end = scan(det, 0)
                            if end != len(det):
                                raise _NotFast(rid)
                            canon = join(encode(obj, 0)) if obj else "{}"
                            if len(cache) >= _DETAILS_CACHE_SIZE:
                                cache.clear()
                            cache[det] = canon
                        lh = sha256(
                            f'\0{{"action":"{action}","actor":"{actor}",'
                            f'"actor_id":"{actor_id}","at":"{day}T{at[11:]}Z",'
                            f'"details":{canon},"id":"{rid}","ip":"{ip}",'
                            f'"object_id":"{oid}","object_type":"{otype}","role":"{role}",'
                            f'"seq":{seq},"via":"{via}"}}'.encode()
                        ).digest()
                    except Exception:  # any other shape: the reference way below
                        lh = None
                if lh is None or stored.__class__ is not bytes or stored != lh:
                    lh = _leaf_of(
                        [v if p is None else p(v) for p, v in zip(processors, row, strict=True)]
                    )
                yield seq, rid, lh, stored
    finally:
        cursor.close()


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
        bind = s.connection()
        fast = bind.dialect.name == "sqlite" and bind.dialect.driver == "pysqlite"
        leaves = _iter_sealed_sqlite(s) if fast else _iter_sealed(s)
        builder = TreeBuilder()
        # Leaf hashes wait here until the tree reaches a checkpoint's size (or the end).
        waiting: list[bytes] = []
        expected = 0
        count = 0
        for seq, rid, lh, stored in leaves:
            if seq != expected:
                if seq > expected:
                    first, last = expected, seq - 1
                    gap = f"#{first}" if first == last else f"#{first} to #{last}"
                    problems.append(
                        f"Audit record {gap} is missing (deleted or renumbered) before "
                        f"record {rid}."
                    )
                else:
                    problems.append(f"Audit record {rid} repeats position #{seq}.")
                    continue
                # Keep hashing so later checkpoints are still compared; they will fail.
                expected = seq
            if stored is None or bytes(stored) != lh:
                problems.append(
                    f"Audit record #{seq} ({rid}) was changed after it was sealed: "
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
