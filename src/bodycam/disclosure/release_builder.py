"""The release builder: choose a request's approved redacted copies, build them as a job.

:func:`release_choices` lists each recording attached to a request with its approved
redacted copies (SHA-256, the original's SHA-256, the plan's hash and what was redacted
and why) and the copies not approved yet. :func:`queue_release` checks a choice exactly as
:func:`bodycam.disclosure.releases.build_release` will (the request in review, at least
one copy, each approved, of an attached recording the clerk may see, one per recording)
and queues a ``release.build`` job in one transaction: a refused choice queues nothing.
The job (:mod:`bodycam.disclosure.jobs`) builds the package as the clerk who asked, so the
permission check and the audit records are theirs; its id names the release it makes, so
running it twice makes one release. Jobs are keyed ``release.build:<number>:<release id>``,
which finds a request's builds and refuses a second one while one is under way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bodycam.audit.service import require
from bodycam.auth.actor import Actor
from bodycam.auth.models import User
from bodycam.auth.permissions import Permission
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.disclosure.errors import DisclosureError
from bodycam.disclosure.models import DisclosureRecording, RequestStatus
from bodycam.disclosure.release_models import DisclosureRelease
from bodycam.disclosure.releases import BUILDABLE, _choose, _describe, redaction_summary
from bodycam.disclosure.requests import clean_list, load
from bodycam.evidence.access import readable_recordings
from bodycam.evidence.models import Recording
from bodycam.ids import new_id
from bodycam.jobs.models import Job, JobStatus
from bodycam.jobs.runner import submit
from bodycam.redaction.models import CopyStatus, RedactedCopy, RedactionProject
from bodycam.redaction.plan import RedactionPlan

BUILD_JOB = "release.build"
PENDING = (JobStatus.QUEUED.value, JobStatus.RUNNING.value)
RECENT_BUILDS = 10


@dataclass(frozen=True)
class CopyChoice:
    """One redacted copy of an attached recording."""

    id: str
    status: str
    sha256: str
    source_sha256: str
    plan_sha256: str
    size_bytes: int
    created_at: datetime
    approved_at: datetime | None
    summary: dict[str, Any]
    """What the plan redacts and why (:func:`~bodycam.disclosure.releases.redaction_summary`)."""
    description: str

    @property
    def approved(self) -> bool:
        """Approved for release."""
        return self.status == CopyStatus.APPROVED.value


@dataclass(frozen=True)
class RecordingChoice:
    """A recording attached to the request, with its redacted copies."""

    recording_id: str
    title: str
    officer_badge: str | None
    recorded_start: datetime
    sha256: str
    visible: bool
    """The clerk may see it (only then can its copies be released by them)."""
    project_status: str | None
    """The newest redaction project's status; None when no redaction was started."""
    approved: list[CopyChoice] = field(default_factory=list)
    """Approved copies, newest first."""
    pending: list[CopyChoice] = field(default_factory=list)
    """Copies rendered but not approved (quality-check findings open, or awaiting approval)."""

    @property
    def state(self) -> str:
        """Where its redaction stands, in words."""
        if self.approved:
            n = len(self.approved)
            return f"{n} approved cop{'y' if n == 1 else 'ies'}"
        if self.pending:
            return "rendered, not approved yet"
        return {
            None: "redaction not started",
            "detecting": "detecting faces",
            "review": "in review, not rendered yet",
            "failed": "detection failed",
        }.get(self.project_status, self.project_status or "")


@dataclass(frozen=True)
class BuildJob:
    """A release build of the request: queued, running, done (its release) or failed."""

    job: Job
    release_id: str
    copies: list[str]

    @property
    def number(self) -> str:
        """The request's number."""
        return str((self.job.params or {}).get("number", ""))

    @property
    def status(self) -> str:
        """queued, running, done or quarantined (failed)."""
        return self.job.status

    @property
    def finished(self) -> bool:
        """Done or failed: nothing more will happen."""
        return self.job.status not in PENDING

    @property
    def built(self) -> bool:
        """The release exists."""
        return self.job.status == JobStatus.DONE.value

    @property
    def percent(self) -> int:
        """How far the build is (files embedded and signed, of all)."""
        if self.built:
            return 100
        total = self.job.total
        return min(99, int(100 * self.job.done / total)) if total else 0

    @property
    def error(self) -> str:
        """Why it failed, or why its last attempt failed (it is tried again)."""
        return self.job.error


@dataclass(frozen=True)
class ReleaseChoices:
    """What the builder page shows for one request."""

    number: str
    status: str
    buildable: bool
    recordings: list[RecordingChoice]
    builds: list[BuildJob]
    releases: list[DisclosureRelease]

    @property
    def building(self) -> BuildJob | None:
        """The build under way, if there is one."""
        return next((b for b in self.builds if not b.finished), None)


def _key(number: str, release_id: str) -> str:
    return f"{BUILD_JOB}:{number}:{release_id}"


def _builds(s: Session, number: str, limit: int = RECENT_BUILDS) -> list[BuildJob]:
    rows = s.scalars(
        select(Job)
        .where(Job.kind == BUILD_JOB, Job.key.like(f"{BUILD_JOB}:{number}:%"))
        .order_by(Job.created_at.desc(), Job.id.desc())
        .limit(limit)
    ).all()
    out = []
    for job in rows:
        s.expunge(job)
        params = job.params or {}
        out.append(BuildJob(job, str(params.get("release_id", "")), list(params.get("copies", []))))
    return out


def _copy_choice(c: RedactedCopy) -> CopyChoice:
    summary = redaction_summary(RedactionPlan.from_json(c.plan))
    return CopyChoice(
        c.id,
        c.status,
        c.sha256,
        c.source_sha256,
        c.plan_hash,
        c.size_bytes,
        c.created_at,
        c.approved_at,
        summary,
        _describe(summary),
    )


def release_choices(ctx: Context, actor: Actor, number: str) -> ReleaseChoices:
    """The request's attached recordings with their redacted copies, its builds and its
    releases (``disclosure:release:build``); reads no footage."""
    require(
        ctx.sessions, actor, Permission.DISCLOSURE_RELEASE_BUILD, "build release packages", number
    )
    with ctx.sessions() as s:
        req = load(s, number)
        rows = s.execute(
            select(Recording, User.badge)
            .join(DisclosureRecording, DisclosureRecording.recording_id == Recording.id)
            .join(User, User.id == Recording.officer_id)
            .where(DisclosureRecording.request_id == req.id)
            .order_by(Recording.recorded_start, Recording.id)
        ).all()
        ids = [rec.id for rec, _ in rows]
        visible = {
            r.id
            for r in s.scalars(
                readable_recordings(actor, ctx.settings.officer_sees_own).where(
                    Recording.id.in_(ids)
                )
            )
        }
        newest: dict[str, str] = {}
        for p in s.scalars(
            select(RedactionProject)
            .where(RedactionProject.recording_id.in_(ids))
            .order_by(RedactionProject.created_at, RedactionProject.id)
        ):
            newest[p.recording_id] = p.status
        copies: dict[str, list[RedactedCopy]] = {i: [] for i in ids}
        for c in s.scalars(
            select(RedactedCopy)
            .where(RedactedCopy.recording_id.in_(ids))
            .order_by(RedactedCopy.created_at.desc(), RedactedCopy.id.desc())
        ):
            copies[c.recording_id].append(c)
        recordings = []
        for rec, badge in rows:
            seen = rec.id in visible
            mine = [_copy_choice(c) for c in copies[rec.id]] if seen else []
            recordings.append(
                RecordingChoice(
                    rec.id,
                    rec.title if seen else "",
                    badge,
                    rec.recorded_start,
                    rec.sha256 if seen else "",
                    seen,
                    newest.get(rec.id),
                    sorted(
                        (c for c in mine if c.approved),
                        key=lambda c: (c.approved_at or c.created_at, c.id),
                        reverse=True,
                    ),
                    [c for c in mine if not c.approved],
                )
            )
        released = list(
            s.scalars(
                select(DisclosureRelease)
                .where(DisclosureRelease.request_id == req.id)
                .order_by(DisclosureRelease.created_at.desc(), DisclosureRelease.id.desc())
            )
        )
        s.expunge_all()
        builds = _builds(s, req.number)
        return ReleaseChoices(
            req.number,
            req.status,
            RequestStatus(req.status) in BUILDABLE,
            recordings,
            builds,
            released,
        )


def queue_release(ctx: Context, actor: Actor, number: str, copy_ids: Sequence[str]) -> BuildJob:
    """Check the ticked copies and queue a ``release.build`` job of them (sent to the
    runners once this commits); a refused choice is a sentence and queues nothing."""
    require(
        ctx.sessions, actor, Permission.DISCLOSURE_RELEASE_BUILD, "build release packages", number
    )
    wanted = clean_list(copy_ids, "Redacted copy id")
    with transaction(ctx.sessions) as s:
        req = load(s, number, lock=True)  # one build queued at a time per request
        if not wanted:
            raise DisclosureError(
                f"Tick at least one approved redacted copy to release in request {req.number}."
            )
        status = RequestStatus(req.status)
        if status not in BUILDABLE:
            raise DisclosureError(
                f"Request {req.number} is {status.value.replace('_', ' ')}; a release is built "
                "once it is in review (or released, to issue another package)."
            )
        _choose(s, ctx, actor, req.id, req.number, wanted)
        busy = next((b for b in _builds(s, req.number) if not b.finished), None)
        if busy is not None:
            raise DisclosureError(
                f"A release of request {req.number} is being built already (job "
                f"{busy.job.id}); wait for it to finish."
            )
        release_id = new_id()
        params = {
            "number": req.number,
            "copies": wanted,
            "release_id": release_id,
            "user_id": actor.user_id,
        }
        job = submit(
            s, BUILD_JOB, params, key=_key(req.number, release_id), created_by=actor.user_id
        )
        s.flush()
        s.expunge(job)
    return BuildJob(job, release_id, wanted)


def release_build(ctx: Context, actor: Actor, number: str, job_id: str) -> BuildJob:
    """One build of the request, by its job id (``disclosure:release:build``)."""
    require(
        ctx.sessions, actor, Permission.DISCLOSURE_RELEASE_BUILD, "build release packages", number
    )
    with ctx.sessions() as s:
        req = load(s, number)
        job = s.get(Job, job_id.strip())
        params = job.params if job is not None else {}
        if job is None or job.kind != BUILD_JOB or params.get("number") != req.number:
            raise DisclosureError(f"Request {req.number} has no release build {job_id.strip()}.")
        s.expunge(job)
    return BuildJob(job, str(params.get("release_id", "")), list(params.get("copies", [])))
