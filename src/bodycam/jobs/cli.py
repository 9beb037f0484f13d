"""``bodycam jobs``: see background jobs and run due ones here."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from bodycam.cli_support import current_actor, err, guarded, open_context, out
from bodycam.ids import rfc3339
from bodycam.jobs.models import Job, JobStatus

jobs_app = typer.Typer(help="Background jobs: list, show, run.", no_args_is_help=True)


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
    table = Table("id", "kind", "status", "progress", "attempts", "created", "error")
    for job in rows:
        table.add_row(
            job.id,
            job.kind,
            job.status,
            _progress(job),
            str(job.attempts),
            rfc3339(job.created_at),
            (job.error or "")[:60],
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
