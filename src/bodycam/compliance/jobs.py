"""Job handlers of the compliance domain: matching runs as a background job.

A ``compliance.match`` job carries the id of the user it runs as and the text of the
recording rules it applies (a few kilobytes of TOML: the rules are not stored anywhere
else). It is queued on demand (``bodycam compliance match --background``) and after
every CAD import that an administrator makes once matching has run at least once,
with the rules of the last run. Matching replaces every verdict, so running a job twice
gives the verdicts of running it once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bodycam.auth.actor import Actor, PermissionDenied
from bodycam.auth.models import User
from bodycam.auth.service import actor_for
from bodycam.compliance.matching_service import MatchError, run_matching
from bodycam.compliance.rules import Rules, RulesError
from bodycam.jobs.models import Job, JobStatus
from bodycam.jobs.runner import PermanentJobError, Progress, handler, submit

if TYPE_CHECKING:
    from bodycam.context import Context

MATCH_JOB = "compliance.match"


def submit_match(
    session: Session, actor: Actor, rules_text: str, *, reason: str, key: str | None = None
) -> str:
    """Queue a matching job in ``session``'s transaction; its id."""
    params = {"user_id": actor.user_id, "rules": rules_text, "reason": reason}
    job_key = f"{MATCH_JOB}:{key}" if key else None
    return submit(session, MATCH_JOB, params, key=job_key, created_by=actor.user_id).id


def last_rules(session: Session) -> str | None:
    """The rules of the newest matching job that finished, if any."""
    params = session.scalar(
        select(Job.params)
        .where(Job.kind == MATCH_JOB, Job.status == JobStatus.DONE.value)
        .order_by(Job.finished_at.desc())
        .limit(1)
    )
    rules = (params or {}).get("rules")
    return rules if isinstance(rules, str) else None


@handler(MATCH_JOB)
def match_job(ctx: Context, params: dict[str, Any], progress: Progress) -> dict[str, Any]:
    """Run matching as the user who asked for it (checked and audited as them)."""
    with ctx.sessions() as s:
        user = s.get(User, params["user_id"])
        if user is None or not user.active:
            raise PermanentJobError("The user who asked for this matching run is no longer active.")
        actor = actor_for(user, "job")
    try:
        rules = Rules.from_toml(params["rules"])
    except RulesError as exc:
        raise PermanentJobError(f"The rules of this matching run are invalid: {exc}") from None
    progress(0, 1)
    try:
        counts = run_matching(ctx.sessions, actor, rules)
    except (MatchError, PermissionDenied) as exc:
        raise PermanentJobError(str(exc)) from None
    return {"judged": sum(counts.values()), "by_status": dict(sorted(counts.items()))}
