"""The scrub: re-read and re-hash every stored original and redacted copy, once per cycle.

``bodycam verify`` re-hashes everything at once; on a department's store that is days of
reading. The scrub spreads the same per-blob check (:func:`bodycam.verify.check_blob`)
over ``BODYCAM_SCRUB_CYCLE_DAYS``: a periodic job (``integrity.scrub``, queued every
``BODYCAM_SCRUB_INTERVAL_MINUTES`` by :mod:`bodycam.jobs.schedule`) takes the next slice
of blobs in a fixed order, recordings by id then redacted copies by id, sized so that the
pass ends when the cycle does (a run that comes late takes a bigger slice), and reports
progress. A pass that ends starts the next one; blobs added during a pass sort after the
cursor (ids are time-ordered) and are checked in the same pass.

Where the pass stands is kept in the result of the last finished scrub job (pass id,
start, the kind and id of the last blob checked, counts): no extra table or column,
nothing under a worker's home folder. It is in the database, so it survives restarts and
every worker sees it; jobs are claimed atomically and the scheduler queues a scrub only
when none is queued or running, so passes do not interleave. A lost or failed run costs
nothing but a repeat: the next run starts from the last finished one (re-checking a blob
is harmless). Each blob's last check is therefore known without storing it: blobs before
the cursor were checked in this pass, the others in the previous one.

A blob that is missing, changed, of the wrong size or unreadable raises an alert: an
audit record on its recording (``audit:scrub:problem``), a log line at ERROR, and the
job's ``alert`` shown by ``bodycam jobs list`` and ``bodycam scrub status`` (which exits
1 while any problem from the current or previous pass stands). Each run also writes
``audit:scrub:run``, so the log shows that the checks happened.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record
from bodycam.auth.actor import SYSTEM, Actor
from bodycam.auth.permissions import Permission
from bodycam.db import transaction
from bodycam.evidence.models import Recording
from bodycam.ids import new_id, rfc3339, utcnow
from bodycam.jobs.models import JobStatus
from bodycam.jobs.runner import handler
from bodycam.jobs.service import finished_jobs, pending_job
from bodycam.redaction.models import RedactedCopy
from bodycam.verify import check_blob

if TYPE_CHECKING:
    from bodycam.context import Context

log = logging.getLogger(__name__)

SCRUB_JOB = "integrity.scrub"

RECORDINGS, COPIES = "recording", "copy"
PAGE = 200
"""Blobs fetched per query while a slice runs (bounded memory at any size)."""
KEPT_PROBLEMS = 100
"""Problems listed in one job's result (all are counted and audited)."""

Progress = Callable[[int, int], None]


@dataclass
class Position:
    """Where a pass stands: the last blob checked, in the scrub's fixed order."""

    pass_id: str
    started: datetime
    kind: str = RECORDINGS
    after: str = ""
    checked: int = 0
    problems: int = 0
    complete: bool = False
    previous_started: datetime | None = None

    def to_json(self) -> dict[str, Any]:
        """The JSON form kept in the job's result."""
        return {
            "pass": self.pass_id,
            "started": rfc3339(self.started),
            "kind": self.kind,
            "after": self.after,
            "checked": self.checked,
            "problems": self.problems,
            "complete": self.complete,
            "previous_started": rfc3339(self.previous_started) if self.previous_started else "",
        }

    @classmethod
    def from_json(cls, data: object) -> Position | None:
        """Read a position back; None when ``data`` is not one."""
        if not isinstance(data, dict):
            return None
        try:
            previous = str(data.get("previous_started") or "")
            return cls(
                pass_id=str(data["pass"]),
                started=datetime.fromisoformat(str(data["started"])),
                kind=COPIES if data.get("kind") == COPIES else RECORDINGS,
                after=str(data.get("after") or ""),
                checked=int(data.get("checked", 0)),
                problems=int(data.get("problems", 0)),
                complete=bool(data.get("complete")),
                previous_started=datetime.fromisoformat(previous) if previous else None,
            )
        except (KeyError, TypeError, ValueError):
            return None


@dataclass(frozen=True)
class _Ref:
    kind: str
    id: str
    recording_id: str
    what: str
    sha256: str
    size: int
    tier: str


def _next_refs(s: Session, kind: str, after: str, limit: int) -> list[_Ref]:
    if kind == RECORDINGS:
        rows = s.execute(
            select(
                Recording.id,
                Recording.sha256,
                Recording.size_bytes,
                Recording.tier,
                Recording.original_filename,
            )
            .where(Recording.purged_at.is_(None), Recording.id > after)
            .order_by(Recording.id)
            .limit(limit)
        )
        return [
            _Ref(RECORDINGS, rid, rid, f"Recording {rid} ({name})", sha, size, tier)
            for rid, sha, size, tier, name in rows
        ]
    copies = s.execute(
        select(
            RedactedCopy.id, RedactedCopy.recording_id, RedactedCopy.sha256, RedactedCopy.size_bytes
        )
        .join(Recording, Recording.id == RedactedCopy.recording_id)
        .where(Recording.purged_at.is_(None), RedactedCopy.id > after)
        .order_by(RedactedCopy.id)
        .limit(limit)
    )
    return [
        _Ref(COPIES, cid, rid, f"Redacted copy {cid} of recording {rid}", sha, size, "hot")
        for cid, rid, sha, size in copies
    ]


def _remaining(s: Session, pos: Position) -> int:
    """Blobs after the cursor: still to check in this pass."""
    copies = (
        select(func.count())
        .select_from(RedactedCopy)
        .join(Recording, Recording.id == RedactedCopy.recording_id)
        .where(Recording.purged_at.is_(None))
    )
    if pos.kind == COPIES:
        return int(s.scalar(copies.where(RedactedCopy.id > pos.after)) or 0)
    originals = (
        select(func.count())
        .select_from(Recording)
        .where(Recording.purged_at.is_(None), Recording.id > pos.after)
    )
    return int(s.scalar(originals) or 0) + int(s.scalar(copies) or 0)


def slice_size(
    remaining: int, started: datetime, now: datetime, cycle: timedelta, every: timedelta
) -> int:
    """How many blobs this run checks so that the pass ends when its cycle does."""
    if remaining <= 0:
        return 0
    runs_left = max(1, math.ceil((started + cycle - now) / every))
    return math.ceil(remaining / runs_left)


@dataclass
class ScrubRun:
    """What one scrub run did."""

    position: Position
    checked: int = 0
    bytes_read: int = 0
    problems: list[dict[str, Any]] = field(default_factory=list)
    problem_count: int = 0
    pass_total: int = 0

    @property
    def alert(self) -> str:
        """One sentence for the job list; empty when nothing was wrong."""
        if not self.problem_count:
            return ""
        first = self.problems[0]["problem"] if self.problems else ""
        return f"ALERT: the scrub found {self.problem_count} damaged or missing blob(s). {first}"

    def result(self) -> dict[str, Any]:
        """The job's result: the run's counts, its problems, and the position for the next."""
        return {
            "state": self.position.to_json(),
            "pass": self.position.pass_id,
            "checked": self.checked,
            "bytes": self.bytes_read,
            "problem_count": self.problem_count,
            "problems": self.problems,
            "pass_checked": self.position.checked,
            "pass_total": self.pass_total,
            "pass_complete": self.position.complete,
            "alert": self.alert,
        }


def last_position(ctx: Context) -> Position | None:
    """The position the last finished scrub run left."""
    for job in finished_jobs(ctx.sessions, SCRUB_JOB, limit=20):
        pos = Position.from_json((job.result or {}).get("state"))
        if pos is not None:
            return pos
    return None


def run_scrub(
    ctx: Context,
    actor: Actor,
    *,
    finish: bool = False,
    progress: Progress | None = None,
    now: datetime | None = None,
    position: Position | None = None,
) -> ScrubRun:
    """Check the next slice (with ``finish``: the rest of the pass); audit and log problems.

    The slice starts where ``position`` (default: the last finished scrub job's) ends.
    """
    now = now or utcnow()
    settings = ctx.settings
    pos = position if position is not None else last_position(ctx)
    if pos is None or pos.complete:
        pos = Position(new_id(), now, previous_started=pos.started if pos else None)
    else:
        pos = replace(pos)
    with ctx.sessions() as s:
        remaining = _remaining(s, pos)
    cycle = timedelta(days=settings.scrub_cycle_days)
    every = timedelta(minutes=settings.scrub_interval_minutes)
    todo = (
        remaining
        if finish or cycle <= timedelta(0)
        else slice_size(remaining, pos.started, now, cycle, every)
    )
    run = ScrubRun(pos)
    while run.checked < todo:
        with ctx.sessions() as s:
            page = _next_refs(s, pos.kind, pos.after, min(PAGE, todo - run.checked))
        if not page:
            if pos.kind == RECORDINGS:
                pos.kind, pos.after = COPIES, ""
                continue
            break
        for ref in page:
            check = check_blob(ctx, ref.what, ref.sha256, ref.size, ref.tier)
            run.checked += 1
            run.bytes_read += check.bytes_hashed
            pos.kind, pos.after, pos.checked = ref.kind, ref.id, pos.checked + 1
            if check.problem is not None:
                _problem(ctx, actor, run, ref, check.kind, check.problem)
            if progress:
                progress(run.checked, todo)
    with ctx.sessions() as s:
        left = _remaining(s, pos)
    pos.complete = left == 0
    run.pass_total = pos.checked + left
    with transaction(ctx.sessions) as s:
        record(
            s,
            actor,
            AuditAction.AUDIT_SCRUB,
            "scrub",
            pos.pass_id,
            {
                "pass": pos.pass_id,
                "checked": run.checked,
                "bytes": run.bytes_read,
                "problems": run.problem_count,
                "pass_checked": pos.checked,
                "pass_total": run.pass_total,
                "pass_complete": pos.complete,
            },
        )
    return run


def _problem(ctx: Context, actor: Actor, run: ScrubRun, ref: _Ref, kind: str, text: str) -> None:
    """An alert: the audit record (on the recording), the ERROR log line, the job's list."""
    run.problem_count += 1
    run.position.problems += 1
    details = {
        "blob": "original" if ref.kind == RECORDINGS else "redacted_copy",
        "copy": ref.id if ref.kind == COPIES else "",
        "sha256": ref.sha256,
        "tier": ref.tier,
        "kind": kind,
        "problem": text,
        "pass": run.position.pass_id,
    }
    with transaction(ctx.sessions) as s:
        record(s, actor, AuditAction.AUDIT_SCRUB_PROBLEM, "recording", ref.recording_id, details)
    log.error("scrub: %s", text)
    if len(run.problems) < KEPT_PROBLEMS:
        run.problems.append({"recording": ref.recording_id, **details})


def _actor(ctx: Context, params: dict[str, Any]) -> Actor:
    user_id = params.get("user_id")
    if not user_id:
        return SYSTEM
    from bodycam.auth.models import User
    from bodycam.auth.service import actor_for

    with ctx.sessions() as s:
        user = s.get(User, str(user_id))
        return actor_for(user, "job") if user is not None else SYSTEM


@handler(SCRUB_JOB)
def scrub_job(ctx: Context, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """The periodic scrub (or one asked for by ``bodycam scrub run``)."""
    run = run_scrub(ctx, _actor(ctx, params), finish=bool(params.get("finish")), progress=progress)
    return run.result()


@dataclass
class ScrubStatus:
    """Where the scrub stands and what it found."""

    enabled: bool
    cycle_days: float
    interval_minutes: float
    position: Position | None
    pass_total: int
    last_run: datetime | None
    pending: str = ""
    """Id and state of a queued or running scrub job."""
    alerts: list[dict[str, Any]] = field(default_factory=list)
    """Problems found in the current or the previous pass (newest first)."""
    failing: str = ""
    """The error of the newest scrub job, when it was quarantined after the last success."""

    @property
    def ok(self) -> bool:
        """Nothing found and the scrub is not failing."""
        return not self.alerts and not self.failing

    @property
    def deadline(self) -> datetime | None:
        """When the current pass should end."""
        if self.position is None or not self.enabled:
            return None
        return self.position.started + timedelta(days=self.cycle_days)


def scrub_status(ctx: Context, actor: Actor) -> ScrubStatus:
    """The scrub's progress and alerts (``audit:log:verify``)."""
    actor.require(Permission.AUDIT_VERIFY, "see the scrub status")
    settings = ctx.settings
    done = finished_jobs(ctx.sessions, SCRUB_JOB, limit=1)
    pos = last_position(ctx)
    status = ScrubStatus(
        enabled=settings.scrub_cycle_days > 0,
        cycle_days=settings.scrub_cycle_days,
        interval_minutes=settings.scrub_interval_minutes,
        position=pos,
        pass_total=int(done[0].result.get("pass_total", 0)) if done else 0,
        last_run=done[0].finished_at if done else None,
    )
    pending = pending_job(ctx.sessions, SCRUB_JOB)
    if pending is not None:
        status.pending = f"{pending.id} ({pending.status})"
    failed = finished_jobs(ctx.sessions, SCRUB_JOB, status=JobStatus.QUARANTINED.value, limit=1)
    failed_at = failed[0].finished_at if failed else None
    if failed_at is not None and (status.last_run is None or failed_at > status.last_run):
        status.failing = f"job {failed[0].id}: {failed[0].error}"
    if pos is not None:
        since = pos.previous_started or pos.started
        for job in finished_jobs(ctx.sessions, SCRUB_JOB, since=since):
            found = rfc3339(job.finished_at) if job.finished_at else ""
            for problem in (job.result or {}).get("problems") or []:
                status.alerts.append({"job": job.id, "found": found, **problem})
    return status
