"""System health for administrators: the audit log's integrity, background jobs by state,
storage used per tier, and the database with its migration revision.

Each part comes from its own domain's service (with that domain's permission check);
this module only gathers them behind ``system:health:view``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import func, select, text
from sqlalchemy.exc import SQLAlchemyError

from bodycam.audit.overview import VerificationStatus, verification_status
from bodycam.audit.service import require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.jobs.models import Job, JobStatus

if TYPE_CHECKING:
    from bodycam.context import Context
    from bodycam.retention.tiers import TierUsage


@dataclass(frozen=True)
class DatabaseInfo:
    """Which database this is and whether its schema is the one this code expects."""

    engine: str
    server_version: str
    revision: str | None
    head: str | None

    @property
    def current(self) -> bool:
        """The schema is at the newest migration this code ships."""
        return self.revision is not None and self.revision == self.head


@dataclass(frozen=True)
class SystemHealth:
    """Everything the health page shows."""

    database: DatabaseInfo
    jobs: dict[str, int]
    """Jobs per state (every state listed, zero included)."""
    audit: VerificationStatus
    storage: list[TierUsage] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """What needs a person now, as sentences (empty: all well)."""
        out = []
        if not self.database.current:
            out.append(
                f"The database schema is at {self.database.revision or 'no revision'}, not at "
                f"{self.database.head}: run `bodycam init` (it applies the migrations)."
            )
        if self.jobs.get(JobStatus.QUARANTINED.value):
            n = self.jobs[JobStatus.QUARANTINED.value]
            out.append(f"{n} background job{'s' if n != 1 else ''} failed every attempt.")
        if self.audit.last_verify_ok is False:
            out.append("The last verification of the audit log and the stored files failed.")
        if self.audit.scrub is not None and not self.audit.scrub.ok:
            out.append("The scrub of stored files reports a problem (see below).")
        return out


def database_info(ctx: Context) -> DatabaseInfo:
    """The engine, its server version, the schema's migration revision and the newest one."""
    from alembic.script import ScriptDirectory

    from bodycam.db import alembic_config

    engine = ctx.engine
    version = engine.dialect.server_version_info
    revision = None
    try:
        with engine.connect() as conn:
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError:
        revision = None  # no alembic_version table: the schema was never migrated
    script = ScriptDirectory.from_config(alembic_config(ctx.settings.resolved_database_url))
    return DatabaseInfo(
        engine.dialect.name,
        ".".join(str(v) for v in version) if version else "",
        revision,
        script.get_current_head(),
    )


def job_counts(ctx: Context) -> dict[str, int]:
    """How many jobs are in each state."""
    counts = dict.fromkeys((st.value for st in JobStatus), 0)
    with ctx.sessions() as s:
        for status, n in s.execute(select(Job.status, func.count()).group_by(Job.status)):
            counts[status] = int(n)
    return counts


def system_health(ctx: Context, actor: Actor) -> SystemHealth:
    """The health page's figures (``system:health:view``; storage per tier also needs
    ``retention:queue:view``, the scrub ``audit:log:verify``)."""
    require(ctx.sessions, actor, Permission.SYSTEM_HEALTH_VIEW, "see the system health")
    storage: list[TierUsage] = []
    if actor.can(Permission.RETENTION_VIEW):
        from bodycam.retention.tiers import usage

        storage = usage(ctx, actor)
    return SystemHealth(
        database=database_info(ctx),
        jobs=job_counts(ctx),
        audit=verification_status(ctx, actor),
        storage=storage,
    )
