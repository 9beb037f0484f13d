"""``bodycam jobs``: see, run and retry background jobs; ``bodycam scrub``: the scrub."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from bodycam.cli_support import current_actor, err, fail, guarded, open_context, out
from bodycam.ids import rfc3339
from bodycam.jobs.models import Job, JobStatus

jobs_app = typer.Typer(help="Background jobs: list, show, run, retry.", no_args_is_help=True)
scrub_app = typer.Typer(
    help="The scrub: every stored file re-hashed once per cycle.", no_args_is_help=True
)


def job_json(job: Job) -> dict[str, Any]:
    """The JSON form of a job."""
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "params": job.params,
        "done": job.done,
        "total": job.total,
        "attempts": job.attempts,
        "max_attempts": job.max_attempts,
        "result": job.result,
        "error": job.error or None,
        "created_by": job.created_by,
        "created_at": rfc3339(job.created_at),
        "started_at": rfc3339(job.started_at) if job.started_at else None,
        "finished_at": rfc3339(job.finished_at) if job.finished_at else None,
    }


def _progress(job: Job) -> str:
    return f"{job.done}/{job.total}" if job.total else ""


def _error_or_alert(job: Job) -> str:
    """The job's error, or the alert a finished job raised (the scrub's damaged files)."""
    alert = (job.result or {}).get("alert") if job.status == JobStatus.DONE.value else None
    return job.error or str(alert or "")


@jobs_app.command("list")
def list_command(
    status: Annotated[JobStatus | None, typer.Option(help="Only jobs in this state.")] = None,
    everyone: Annotated[
        bool, typer.Option("--all", help="Every user's jobs (system:jobs:view).")
    ] = False,
    limit: Annotated[int, typer.Option(help="At most this many, newest first.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """List your jobs (or everyone's with --all), newest first."""
    from bodycam.jobs.service import list_jobs

    with open_context() as ctx:
        actor = current_actor(ctx)
        rows = guarded(
            lambda: list_jobs(
                ctx.sessions,
                actor,
                status=status.value if status else None,
                everyone=everyone,
                limit=limit,
            )
        )
    if as_json:
        for job in rows:
            print(json.dumps(job_json(job)))
        return
    table = Table("id", "kind", "status", "progress", "attempts", "created", "error or alert")
    for job in rows:
        note = _error_or_alert(job)
        table.add_row(
            job.id,
            job.kind,
            job.status,
            _progress(job),
            str(job.attempts),
            rfc3339(job.created_at),
            f"[red]{escape(note[:80])}[/red]" if note.startswith("ALERT") else escape(note[:60]),
        )
    out.print(table)


@jobs_app.command("show")
def show_command(
    job_id: Annotated[str, typer.Argument(help="Job id.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show one job: state, progress, result or error."""
    from bodycam.jobs.service import get_job

    with open_context() as ctx:
        actor = current_actor(ctx)
        job = guarded(lambda: get_job(ctx.sessions, actor, job_id))
    data = job_json(job)
    if as_json:
        print(json.dumps(data))
        return
    for key, value in data.items():
        out.print(f"{key}: {value}", markup=False)


@jobs_app.command("run")
def run_command(
    limit: Annotated[int, typer.Option(help="Run at most this many due jobs.")] = 100,
) -> None:
    """Run due jobs now, in this process, then exit (for deployments without a worker)."""
    from bodycam.jobs.runner import load_handlers, run_next

    load_handlers()
    with open_context() as ctx:
        current_actor(ctx)  # acting as someone, like every command
        ran = 0
        while ran < limit and (job := run_next(ctx)) is not None:
            ran += 1
            err.print(f"job {job.id} ({job.kind}): {job.status}", markup=False)
    out.print(f"{ran} job(s) run.", markup=False)


@jobs_app.command("retry")
def retry_command(
    job_id: Annotated[str, typer.Argument(help="Id of a quarantined job.")],
) -> None:
    """Queue a quarantined job again, with a fresh set of attempts."""
    from bodycam.jobs.service import retry_job

    with open_context() as ctx:
        actor = current_actor(ctx)
        job = guarded(lambda: retry_job(ctx.sessions, actor, job_id))
    out.print(f"job {job.id} ({job.kind}) queued again.", markup=False)


def _scrub_json(status: Any) -> dict[str, Any]:
    pos = status.position
    return {
        "ok": status.ok,
        "enabled": status.enabled,
        "cycle_days": status.cycle_days,
        "interval_minutes": status.interval_minutes,
        "pass": pos.pass_id if pos else None,
        "pass_started": rfc3339(pos.started) if pos else None,
        "pass_deadline": rfc3339(status.deadline) if status.deadline else None,
        "pass_checked": pos.checked if pos else 0,
        "pass_total": status.pass_total,
        "pass_complete": pos.complete if pos else False,
        "last_run": rfc3339(status.last_run) if status.last_run else None,
        "pending": status.pending or None,
        "failing": status.failing or None,
        "alerts": status.alerts,
    }


@scrub_app.command("status")
def scrub_status_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Where the scrub stands and every problem it found; exit 1 while any stands."""
    from bodycam.verify_scrub import scrub_status

    with open_context() as ctx:
        actor = current_actor(ctx)
        status = guarded(lambda: scrub_status(ctx, actor))
    data = _scrub_json(status)
    if as_json:
        print(json.dumps(data))
    else:
        state = "on" if status.enabled else "off (BODYCAM_SCRUB_CYCLE_DAYS=0)"
        out.print(
            f"scrub: {state}; every file re-hashed within {status.cycle_days:g} days, "
            f"a slice every {status.interval_minutes:g} minutes",
            markup=False,
        )
        if status.position is None:
            out.print("no scrub has run yet", markup=False)
        else:
            out.print(
                f"pass {data['pass']} started {data['pass_started']}: "
                f"{data['pass_checked']} of {data['pass_total']} checked"
                + (" (complete)" if data["pass_complete"] else "")
                + (f", due by {data['pass_deadline']}" if data["pass_deadline"] else ""),
                markup=False,
            )
            out.print(f"last run: {data['last_run']}", markup=False)
        if status.pending:
            out.print(f"next: job {status.pending}", markup=False)
        if status.failing:
            err.print(f"ALERT: the scrub itself is failing: {status.failing}", markup=False)
        for alert in status.alerts:
            err.print(f"ALERT {alert['found']}: {alert['problem']}", markup=False)
        if status.ok:
            out.print("OK: no damaged or missing file found", markup=False)
    if not status.ok:
        raise typer.Exit(1)


@scrub_app.command("run")
def scrub_run_command(
    finish: Annotated[
        bool, typer.Option("--finish", help="Check everything left in the current pass.")
    ] = False,
) -> None:
    """Run the next scrub slice here, now (audit:log:verify); exit 1 if it finds a problem."""
    from bodycam.auth.permissions import Permission
    from bodycam.db import transaction
    from bodycam.jobs.runner import load_handlers, run_job, submit
    from bodycam.verify_scrub import SCRUB_JOB

    load_handlers()
    with open_context() as ctx:
        actor = current_actor(ctx)
        guarded(lambda: actor.require(Permission.AUDIT_VERIFY, "run the scrub"))
        with transaction(ctx.sessions) as s:
            params: dict[str, Any] = {"user_id": actor.user_id, "finish": finish}
            job_id = submit(s, SCRUB_JOB, params, created_by=actor.user_id, dispatch=False).id
        bar = Progress(
            TextColumn("scrub"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total} files"),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        )
        task = bar.add_task("scrub", total=None)
        with bar:
            job = run_job(
                ctx, job_id, lambda done, total: bar.update(task, completed=done, total=total)
            )
    if job.status != JobStatus.DONE.value:
        fail(f"The scrub job {job.id} is {job.status}: {job.error}")
    result = job.result
    complete = " (complete)" if result.get("pass_complete") else ""
    out.print(
        f"scrub job {job.id}: {result.get('checked', 0)} file(s) re-hashed, "
        f"{result.get('problem_count', 0)} problem(s); pass {result.get('pass_checked', 0)} "
        f"of {result.get('pass_total', 0)}{complete}",
        markup=False,
    )
    for problem in result.get("problems") or []:
        err.print(f"ALERT: {problem['problem']}", markup=False)
    if result.get("problem_count"):
        raise typer.Exit(1)
