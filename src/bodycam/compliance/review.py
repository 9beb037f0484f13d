"""Supervisor review: a reproducible random sample of each officer's recordings per cycle.

A cycle is a calendar month (``2026-11``) or an ISO week (``2026-W47``) in the agency's
time zone. For every officer with recordings starting in the cycle, ``sample_cycle``
draws ``per_officer`` of them without replacement, weighted toward the recordings that
compliance matching linked to an officer-event the policy requires recorded, and
assigns each to a supervisor of the officer's squad (never to the officer). The
supervisor answers a fixed checklist (``complete_review``) or skips with a reason
(``skip_review``); either is final. ``review_report.review_report`` shows, per supervisor and squad,
whether reviews happen and what they find. Sampling, completing and skipping each write
audit records in the same transaction.

How the draw is reproducible: each candidate recording gets the key ``ln(u) / weight``,
where ``u`` in (0, 1) comes from SHA-256 of the officer's seed and the recording id, and
the officer's seed is SHA-256 of the deployment's sampling seed, the cycle and the
officer id. The highest keys win: this is Efraimidis and Spirakis's weighted sampling
without replacement, with the random numbers fixed by the inputs. A recording's key
depends on nothing else, so the same inputs draw the same recordings, a recording
uploaded late does not reshuffle the others, and a re-run that tops a sample up takes
the next keys in line.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, record_denial, require
from bodycam.auth.actor import Actor, PermissionDenied
from bodycam.auth.models import Squad, User
from bodycam.auth.permissions import Permission, Role, permissions_for
from bodycam.compliance.models import ComplianceResult, DispatchEvent
from bodycam.compliance.review_models import CHECKLIST, ReviewStatus, SupervisorReview
from bodycam.config import Settings
from bodycam.db import transaction
from bodycam.evidence.access import allowed_access_classes, readable_recordings
from bodycam.evidence.models import Category, Recording
from bodycam.ids import utcnow

P = Permission
REQUIRED_LINKS = frozenset({"recorded", "late_start", "early_stop", "gaps", "tagged"})
"""Verdicts of required officer-events whose recordings weigh more in the draw."""
MAX_PER_OFFICER = 50
FINDINGS = (
    "late_activation",
    "early_deactivation",
    "muted",
    "obstructed",
    "wrong_category",
    "professionalism_concern",
    "training_need",
    "commendation",
)
"""What the report counts: each yes answer, and professionalism answered ``concern``."""
_YES = {"yes", "y", "true", "1"}
_NO = {"no", "n", "false", "0"}


class ReviewError(Exception):
    """A review action that cannot be done as asked; the message is a sentence."""


class ReviewNotFound(ReviewError, LookupError):
    """No review has that id."""


def sampling_seed(settings: Settings) -> str:
    """The deployment's sampling seed: derived from its secret key, so officers cannot
    foresee which recordings will be drawn, while the same deployment draws the same."""
    key = settings.resolved_secret_key().encode()
    return hmac.new(key, b"bodycam supervisor review sample v1", hashlib.sha256).hexdigest()


# --- cycles ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Cycle:
    """A named review period: local days [first_day, end_day), as UTC instants."""

    name: str
    first_day: date
    end_day: date
    starts_at: datetime
    ends_at: datetime

    @property
    def last_day(self) -> date:
        """The cycle's last local day."""
        return self.end_day - timedelta(days=1)


_MONTH = re.compile(r"(\d{4})-(\d{2})")
_WEEK = re.compile(r"(\d{4})-W(\d{2})")


def _zone(tz: str) -> ZoneInfo:
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        raise ReviewError(f"The agency time zone {tz!r} is not an IANA time zone name.") from None


def parse_cycle(name: str, tz: str) -> Cycle:
    """The cycle ``YYYY-MM`` (a month) or ``YYYY-Www`` (an ISO week) in time zone ``tz``."""
    text = name.strip().upper()
    if m := _MONTH.fullmatch(text):
        year, month = int(m[1]), int(m[2])
        if not 1 <= month <= 12:
            raise ReviewError(f"Cycle {name!r} names month {month}; months are 01 to 12.")
        try:
            first = date(year, month, 1)
            end = date(year + month // 12, month % 12 + 1, 1)
        except ValueError:
            raise ReviewError(f"Cycle {name!r} is outside the calendar bodycam knows.") from None
    elif m := _WEEK.fullmatch(text):
        try:
            first = date.fromisocalendar(int(m[1]), int(m[2]), 1)
        except ValueError:
            raise ReviewError(f"Cycle {name!r}: {m[1]} has no ISO week {m[2]}.") from None
        end = first + timedelta(days=7)
    else:
        raise ReviewError(
            f"A cycle is a month like 2026-11 or an ISO week like 2026-W47, not {name!r}."
        )
    zone = _zone(tz)
    return Cycle(
        text,
        first,
        end,
        datetime.combine(first, time(), zone).astimezone(UTC),
        datetime.combine(end, time(), zone).astimezone(UTC),
    )


def cycle_of(moment: datetime, tz: str, *, weekly: bool = False) -> Cycle:
    """The month (or ISO week) that contains ``moment`` in time zone ``tz``."""
    local = moment.astimezone(_zone(tz)).date()
    if weekly:
        year, week, _ = local.isocalendar()
        return parse_cycle(f"{year}-W{week:02d}", tz)
    return parse_cycle(f"{local.year}-{local.month:02d}", tz)


# --- the draw -------------------------------------------------------------------------


@dataclass(frozen=True)
class Weights:
    """Draw weights: recordings linked to a required officer-event, and the others."""

    required: float = 3.0
    other: float = 1.0


def officer_seed(seed: str, cycle: str, officer_id: str) -> bytes:
    """SHA-256 of the deployment seed, the cycle and the officer."""
    return hashlib.sha256(f"{seed}\n{cycle}\n{officer_id}".encode()).digest()


def rank(seed: bytes, candidates: Mapping[str, float]) -> list[str]:
    """Candidate ids (id -> weight) in draw order; the first N are a weighted sample of N."""

    def key(rid: str) -> tuple[float, str]:
        digest = hashlib.sha256(seed + rid.encode()).digest()
        u = (int.from_bytes(digest[:8], "big") + 0.5) / 2**64
        return -math.log(u) / candidates[rid], rid

    return sorted(candidates, key=key)


# --- sampling -------------------------------------------------------------------------


@dataclass(frozen=True)
class Drawn:
    """A review created or assigned by a sampling run."""

    review_id: str
    recording_id: str
    officer: str
    badge: str | None
    squad: str | None
    supervisor: str | None
    required_event: bool


@dataclass
class SampleOutcome:
    """What a sampling run did."""

    cycle: Cycle
    per_officer: int
    officers: int
    created: list[Drawn] = field(default_factory=list)
    assigned: list[Drawn] = field(default_factory=list)
    """Pending reviews from earlier runs given to a (new) supervisor of the squad, or left
    unassigned because their supervisor left and the squad has none."""
    held: int = 0
    """Reviews of the cycle from earlier runs."""
    unassigned: dict[str, int] = field(default_factory=dict)
    """Squads with no supervisor to review their officers -> reviews left unassigned."""


def _reviewer_for(officer: User, supervisors: list[User]) -> User | None:
    """A supervisor of the officer's squad other than the officer, stable per officer."""
    pool = sorted((u for u in supervisors if u.id != officer.id), key=lambda u: u.id)
    if not pool:
        return None
    pick = int.from_bytes(hashlib.sha256(officer.id.encode()).digest()[:4], "big")
    return pool[pick % len(pool)]


def _as_actor(user: User | None, squad_id: str | None) -> Actor:
    if user is not None:
        return Actor.for_user(
            user_id=user.id,
            username=user.username,
            role=user.role,
            badge=user.badge,
            squad_id=user.squad_id,
            via="job",
        )
    role = Role.SUPERVISOR  # whoever will supervise the squad: what a supervisor may see
    return Actor("", "", role, squad_id=squad_id, permissions=permissions_for(role))


def _required_links(s: Session, cycle: Cycle) -> dict[str, set[str]]:
    """Recording id -> required events that matching linked it to (events near the cycle)."""
    rows = s.execute(
        select(ComplianceResult.event_id, ComplianceResult.recordings)
        .join(DispatchEvent, DispatchEvent.event_id == ComplianceResult.event_id)
        .where(ComplianceResult.status.in_(REQUIRED_LINKS))
        .where(
            or_(
                DispatchEvent.created_at.is_(None),
                DispatchEvent.created_at.between(
                    cycle.starts_at - timedelta(days=2), cycle.ends_at + timedelta(days=1)
                ),
            )
        )
    )
    links: dict[str, set[str]] = defaultdict(set)
    for event_id, recordings in rows:
        for rid in recordings or ():
            links[rid].add(event_id)
    return links


def sample_cycle(
    factory: sessionmaker[Session],
    actor: Actor,
    cycle: str,
    *,
    seed: str,
    tz: str,
    per_officer: int = 2,
    weights: Weights = Weights(),
) -> SampleOutcome:
    """Draw and assign the cycle's reviews; a re-run adds only what is missing.

    Officers whose recordings arrived since the last run get theirs; an officer with
    fewer than ``per_officer`` reviews is topped up; pending reviews without a supervisor,
    or whose supervisor left the squad, go to a current supervisor of the squad. Only
    recordings the assigned supervisor may see (by their category's access class) are
    drawn.
    """
    require(factory, actor, P.COMPLIANCE_REVIEW_SAMPLE, "draw supervisor review samples")
    if not 1 <= per_officer <= MAX_PER_OFFICER:
        raise ReviewError(
            f"Reviews per officer must be between 1 and {MAX_PER_OFFICER}, not {per_officer}."
        )
    if not (weights.required > 0 and weights.other > 0):
        raise ReviewError("Draw weights must be greater than 0.")
    c = parse_cycle(cycle, tz)
    try:
        with transaction(factory) as s:
            return _sample(s, actor, c, seed, per_officer, weights)
    except IntegrityError:
        raise ReviewError(
            f"Another sampling run of cycle {c.name} committed first; run it again."
        ) from None


def _sample(
    s: Session, actor: Actor, c: Cycle, seed: str, per_officer: int, weights: Weights
) -> SampleOutcome:
    by_officer: dict[str, dict[str, str]] = defaultdict(dict)  # officer -> rid -> class
    for rid, officer_id, access in s.execute(
        select(Recording.id, Recording.officer_id, Category.access_class)
        .join(Category, Category.id == Recording.category_id)
        .where(Recording.purged_at.is_(None))
        .where(Recording.recorded_start >= c.starts_at, Recording.recorded_start < c.ends_at)
    ):
        by_officer[officer_id][rid] = access
    users = {u.id: u for u in s.scalars(select(User))}
    squads = {q.id: q.name for q in s.scalars(select(Squad))}
    supervisors: dict[str, list[User]] = defaultdict(list)
    for u in users.values():
        if u.role == Role.SUPERVISOR.value and u.active and u.squad_id:
            supervisors[u.squad_id].append(u)
    held: dict[str, set[str]] = defaultdict(set)
    existing = list(s.scalars(select(SupervisorReview).where(SupervisorReview.cycle == c.name)))
    for r in existing:
        held[r.officer_id].add(r.recording_id)
    links = _required_links(s, c)
    out = SampleOutcome(c, per_officer, len(by_officer), held=len(existing))

    def drawn(r: SupervisorReview) -> Drawn:
        officer, sup = users[r.officer_id], users.get(r.supervisor_id or "")
        return Drawn(
            r.id,
            r.recording_id,
            officer.username,
            officer.badge,
            squads.get(r.squad_id or ""),
            sup.username if sup else None,
            r.required_event,
        )

    def assigned(r: SupervisorReview, first: bool) -> None:
        record(
            s,
            actor,
            AuditAction.COMPLIANCE_REVIEW_ASSIGN,
            "recording",
            r.recording_id,
            {
                "review": r.id,
                "cycle": c.name,
                "officer_id": r.officer_id,
                "supervisor_id": r.supervisor_id,
                "required_event": r.required_event,
                "weight": r.weight,
                "drawn": first,
            },
        )

    for officer_id in sorted(by_officer):
        officer = users[officer_id]
        need = per_officer - len(held[officer_id])
        if need <= 0:
            continue
        sup = _reviewer_for(officer, supervisors.get(officer.squad_id or "", []))
        visible = set(allowed_access_classes(_as_actor(sup, officer.squad_id)))
        candidates = {
            rid: weights.required if rid in links else weights.other
            for rid, access in by_officer[officer_id].items()
            if access in visible and rid not in held[officer_id]
        }
        for rid in rank(officer_seed(seed, c.name, officer_id), candidates)[:need]:
            review = SupervisorReview(
                cycle=c.name,
                officer_id=officer_id,
                recording_id=rid,
                squad_id=officer.squad_id,
                supervisor_id=sup.id if sup else None,
                required_event=rid in links,
                events=sorted(links.get(rid, ())),
                weight=candidates[rid],
                status=ReviewStatus.PENDING.value,
                sampled_at=utcnow(),
                sampled_by=actor.user_id,
            )
            s.add(review)
            s.flush()
            assigned(review, True)
            out.created.append(drawn(review))
    for r in existing:
        # A pending review waits for a supervisor, or its supervisor left the squad (or the
        # role): it goes to a current supervisor of the squad, or waits unassigned.
        squad_sups = supervisors.get(r.squad_id or "", [])
        if r.status != ReviewStatus.PENDING.value or r.supervisor_id in {u.id for u in squad_sups}:
            continue
        sup = _reviewer_for(users[r.officer_id], squad_sups)
        if sup is None and r.supervisor_id is None:
            continue
        r.supervisor_id = sup.id if sup else None
        s.flush()
        assigned(r, False)
        out.assigned.append(drawn(r))
    waiting = [r for r in existing if r.supervisor_id is None and r.status == "pending"]
    for d in [*out.created, *map(drawn, waiting)]:
        if d.supervisor is None:
            name = d.squad or "(no squad)"
            out.unassigned[name] = out.unassigned.get(name, 0) + 1
    record(
        s,
        actor,
        AuditAction.COMPLIANCE_REVIEW_SAMPLE,
        "review_cycle",
        c.name,
        {
            "per_officer": per_officer,
            "weights": {"required": weights.required, "other": weights.other},
            "seed_sha256": hashlib.sha256(seed.encode()).hexdigest(),
            "officers": out.officers,
            "created": len(out.created),
            "created_required": sum(d.required_event for d in out.created),
            "assigned_late": len(out.assigned),
            "held_before": out.held,
            "unassigned": out.unassigned,
        },
    )
    return out


# --- performing reviews ---------------------------------------------------------------


def _may_perform(actor: Actor, r: SupervisorReview) -> bool:
    if r.officer_id == actor.user_id:
        return False
    if r.supervisor_id == actor.user_id:
        return True
    return actor.squad_id is not None and r.squad_id == actor.squad_id


def _may_read(actor: Actor, r: SupervisorReview) -> bool:
    return actor.can(P.COMPLIANCE_REVIEW_VIEW) or (
        actor.can(P.COMPLIANCE_REVIEW_PERFORM) and _may_perform(actor, r)
    )


def _refuse(
    factory: sessionmaker[Session], actor: Actor, what: str, oid: str, why: str
) -> PermissionDenied:
    record_denial(factory, actor, what, oid)
    denied = PermissionDenied(
        f"User {actor.username} ({actor.role.value}) may not {what}: {why}", actor, oid
    )
    denied.audited = True
    return denied


NOT_YOURS = (
    "it is assigned to another supervisor's squad (reviews are done by a supervisor of the "
    "officer's squad, never by the officer)."
)


def _open(
    factory: sessionmaker[Session], actor: Actor, review_id: str, what: str
) -> SupervisorReview:
    """The review, after the permission and the scope check (refusals audited)."""
    require(factory, actor, P.COMPLIANCE_REVIEW_PERFORM, what, review_id)
    with factory() as s:
        r = s.get(SupervisorReview, review_id)
        if r is None:
            raise ReviewNotFound(f"There is no review {review_id}.")
        s.expunge(r)
    if not _may_perform(actor, r):
        raise _refuse(factory, actor, what, review_id, NOT_YOURS)
    if r.status != ReviewStatus.PENDING.value:
        with factory() as s:
            by = s.get(User, r.reviewed_by or "")
        when = f"{r.reviewed_at:%Y-%m-%d %H:%M} UTC" if r.reviewed_at else "an earlier day"
        raise ReviewError(
            f"Review {r.id} was already {'completed' if r.status == 'done' else 'skipped'} "
            f"by {by.username if by else 'someone'} on {when}; a finished review cannot be "
            "changed."
        )
    return r


def parse_answers(answers: Mapping[str, str | bool]) -> tuple[dict[str, bool | str], str | None]:
    """Checklist answers from ``item -> yes/no`` (professionalism: ok/concern).

    ``wrong_category`` may name the category the recording should have had (meaning yes).
    Returns the answers and that category. Every item must be answered.
    """
    parsed: dict[str, bool | str] = {}
    expected: str | None = None
    unknown = []
    for raw_key, raw in answers.items():
        key = raw_key.strip().lower().replace("-", "_")
        if key not in CHECKLIST:
            unknown.append(raw_key)
            continue
        value = raw if isinstance(raw, bool) else raw.strip()
        text = str(value).lower()
        if key == "professionalism":
            if text not in ("ok", "concern"):
                raise ReviewError(f"professionalism is ok or concern, not {raw!r}.")
            parsed[key] = text
        elif isinstance(value, bool) or text in _YES | _NO:
            parsed[key] = value if isinstance(value, bool) else text in _YES
        elif key == "wrong_category" and text:
            parsed[key], expected = True, str(value)
        else:
            raise ReviewError(f"{key} is yes or no, not {raw!r}.")
    if unknown:
        raise ReviewError(
            f"Unknown checklist item(s) {', '.join(sorted(unknown))}; the items are "
            f"{', '.join(CHECKLIST)}."
        )
    missing = [k for k in CHECKLIST if k not in parsed]
    if missing:
        raise ReviewError(f"Answer every checklist item; missing: {', '.join(missing)}.")
    return parsed, expected


def complete_review(
    factory: sessionmaker[Session],
    actor: Actor,
    review_id: str,
    answers: Mapping[str, str | bool],
    *,
    notes: str = "",
    expected_category: str | None = None,
) -> SupervisorReview:
    """Record the checklist of a pending review (every item answered); final once done.

    The reviewer must be able to see the recording under the evidence access rules.
    """
    what = f"complete review {review_id}"
    r = _open(factory, actor, review_id, what)
    if len(notes) > 10_000:
        raise ReviewError("The notes are longer than 10000 characters; keep them shorter.")
    parsed, named = parse_answers(answers)
    if named and expected_category and named != expected_category:
        raise ReviewError(
            f"wrong_category names {named!r} but the category given is "
            f"{expected_category!r}; give one."
        )
    expected = (expected_category or named or "").strip() or None
    if expected and parsed["wrong_category"] is not True:
        raise ReviewError("A category it should have had goes with wrong_category=yes.")
    with factory() as s:
        if expected and not s.scalars(select(Category.id).where(Category.name == expected)).first():
            raise ReviewError(f"There is no category {expected!r}.")
        visible = s.scalars(
            readable_recordings(actor, False).where(Recording.id == r.recording_id)
        ).first()
    if visible is None:
        raise _refuse(
            factory,
            actor,
            what,
            review_id,
            f"they may not see recording {r.recording_id} (its category's access class, or "
            "a squad change, hides it from them), so they cannot review it; skip the review "
            "with that reason.",
        )
    with transaction(factory) as s:
        now = utcnow()
        done = s.execute(
            update(SupervisorReview)
            .where(SupervisorReview.id == r.id, SupervisorReview.status == "pending")
            .values(
                **parsed,
                expected_category=expected,
                notes=notes.strip(),
                status=ReviewStatus.DONE.value,
                reviewed_by=actor.user_id,
                reviewed_at=now,
            )
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise ReviewError(f"Review {r.id} was finished by someone else just now.")
        record(
            s,
            actor,
            AuditAction.COMPLIANCE_REVIEW_COMPLETE,
            "recording",
            r.recording_id,
            {
                "review": r.id,
                "cycle": r.cycle,
                "officer_id": r.officer_id,
                "answers": parsed,
                "expected_category": expected,
                "notes_sha256": hashlib.sha256(notes.strip().encode()).hexdigest(),
            },
        )
        result = s.get(SupervisorReview, r.id, populate_existing=True)
        assert result is not None
        return result


def skip_review(
    factory: sessionmaker[Session], actor: Actor, review_id: str, reason: str
) -> SupervisorReview:
    """Close a pending review without reviewing it; the reason is required and reported."""
    r = _open(factory, actor, review_id, f"skip review {review_id}")
    reason = reason.strip()
    if not reason:
        raise ReviewError("Skipping a review needs a reason (for example: the video is blank).")
    if len(reason) > 2000:
        raise ReviewError("The reason is longer than 2000 characters; keep it short.")
    with transaction(factory) as s:
        done = s.execute(
            update(SupervisorReview)
            .where(SupervisorReview.id == r.id, SupervisorReview.status == "pending")
            .values(
                status=ReviewStatus.SKIPPED.value,
                skip_reason=reason,
                reviewed_by=actor.user_id,
                reviewed_at=utcnow(),
            )
        )
        if done.rowcount != 1:  # type: ignore[attr-defined]
            raise ReviewError(f"Review {r.id} was finished by someone else just now.")
        record(
            s,
            actor,
            AuditAction.COMPLIANCE_REVIEW_SKIP,
            "recording",
            r.recording_id,
            {"review": r.id, "cycle": r.cycle, "officer_id": r.officer_id, "reason": reason},
        )
        result = s.get(SupervisorReview, r.id, populate_existing=True)
        assert result is not None
        return result


# --- reading reviews ------------------------------------------------------------------


@dataclass(frozen=True)
class ReviewRow:
    """A review with the names a reader needs."""

    review: SupervisorReview
    officer: str
    badge: str | None
    squad: str | None
    supervisor: str | None
    reviewed_by: str | None

    @property
    def findings(self) -> list[str]:
        """The checklist items found (yes; professionalism: concern), in checklist order."""
        return findings_of(self.review)


def findings_of(r: SupervisorReview) -> list[str]:
    """What a completed review found, by the report's names."""
    found = [k for k in CHECKLIST if k != "professionalism" and getattr(r, k) is True]
    if r.professionalism == "concern":
        found.insert(CHECKLIST.index("professionalism"), "professionalism_concern")
    return found


@dataclass(frozen=True)
class RecordingBrief:
    """What a reviewer sees of the recording (only when the evidence rules let them)."""

    id: str
    title: str
    category: str
    recorded_start: datetime
    recorded_end: datetime
    duration_s: float
    camera_serial: str | None


@dataclass(frozen=True)
class ReviewDetail:
    """One review, and its recording when the reader may see it."""

    row: ReviewRow
    recording: RecordingBrief | None


def _rows(s: Session, reviews: Iterable[SupervisorReview]) -> list[ReviewRow]:
    reviews = list(reviews)
    ids = {u for r in reviews for u in (r.officer_id, r.supervisor_id, r.reviewed_by) if u}
    users = {u.id: u for u in s.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    squads = {q.id: q.name for q in s.scalars(select(Squad))}

    def name(uid: str | None) -> str | None:
        return users[uid].username if uid in users else None

    return [
        ReviewRow(
            r,
            name(r.officer_id) or r.officer_id,
            users[r.officer_id].badge if r.officer_id in users else None,
            squads.get(r.squad_id or ""),
            name(r.supervisor_id),
            name(r.reviewed_by),
        )
        for r in reviews
    ]


def list_reviews(
    factory: sessionmaker[Session],
    actor: Actor,
    *,
    cycle: str | None = None,
    mine: bool = False,
    status: str | None = None,
) -> list[ReviewRow]:
    """Reviews the actor may read: all (``compliance:review:view``), or a supervisor's own
    and their squad's (never those of their own recordings). ``mine``: assigned to them."""
    if not actor.can(P.COMPLIANCE_REVIEW_VIEW):
        require(factory, actor, P.COMPLIANCE_REVIEW_PERFORM, "list supervisor reviews")
    stmt = select(SupervisorReview).order_by(
        SupervisorReview.cycle, SupervisorReview.officer_id, SupervisorReview.id
    )
    if cycle is not None:
        stmt = stmt.where(SupervisorReview.cycle == parse_cycle(cycle, "UTC").name)
    if status is not None:
        if status not in set(ReviewStatus):
            raise ReviewError(f"A review's status is pending, done or skipped, not {status!r}.")
        stmt = stmt.where(SupervisorReview.status == status)
    if mine:
        stmt = stmt.where(SupervisorReview.supervisor_id == actor.user_id)
    if not actor.can(P.COMPLIANCE_REVIEW_VIEW):
        scope = SupervisorReview.supervisor_id == actor.user_id
        if actor.squad_id:
            scope = or_(scope, SupervisorReview.squad_id == actor.squad_id)
        stmt = stmt.where(scope, SupervisorReview.officer_id != actor.user_id)
    with factory() as s:
        rows = _rows(s, s.scalars(stmt))
        s.expunge_all()
    return rows


def show_review(factory: sessionmaker[Session], actor: Actor, review_id: str) -> ReviewDetail:
    """One review; its recording's details only where the evidence rules show it to the
    actor (then audited as a view of the recording)."""
    what = f"read review {review_id}"
    if not actor.can(P.COMPLIANCE_REVIEW_VIEW):
        require(factory, actor, P.COMPLIANCE_REVIEW_PERFORM, what, review_id)
    with factory() as s:
        r = s.get(SupervisorReview, review_id)
        if r is None:
            raise ReviewNotFound(f"There is no review {review_id}.")
    if not _may_read(actor, r):
        raise _refuse(factory, actor, what, review_id, NOT_YOURS)
    with transaction(factory) as s:
        r = s.get(SupervisorReview, review_id)
        assert r is not None
        row = _rows(s, [r])[0]
        rec = s.scalars(
            readable_recordings(actor, False).where(Recording.id == r.recording_id)
        ).first()
        brief = None
        if rec is not None:
            cat = s.get(Category, rec.category_id)
            brief = RecordingBrief(
                rec.id,
                rec.title,
                cat.name if cat else "",
                rec.recorded_start,
                rec.recorded_end,
                rec.duration_s,
                rec.camera_serial,
            )
            record(
                s,
                actor,
                AuditAction.RECORDING_VIEW,
                "recording",
                rec.id,
                {"sha256": rec.sha256, "review": r.id},
            )
        s.expunge_all()
    return ReviewDetail(row, brief)
