"""The published camera policy: the version in force, its history and differences.

Public pages, no sign-in: ``/policy`` (the policy in force, in plain language, and the
document itself), ``/policy/versions`` (every version, when each was in force),
``/policy/versions/N`` (one version) and ``/policy/diff?a=N&b=M`` (what changed).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from bodycam.disclosure.deadlines import clock_in_force
from bodycam.ids import utcnow
from bodycam.policy.service import (
    InForce,
    diff_documents,
    get_version,
    list_versions,
    policy_in_force,
    text_diff,
)
from bodycam.web.deps import CtxDep
from bodycam.web.pages import render

router = APIRouter(prefix="/policy", include_in_schema=False)


def _clock_days(ctx: CtxDep, found: InForce) -> int | None:
    with ctx.sessions() as s:
        _, clock = clock_in_force(s)
    try:
        return clock.get(found.doc.release.jurisdiction).critical_incident_days
    except ValueError:
        return None


@router.get("", response_class=HTMLResponse)
def policy_page(request: Request, ctx: CtxDep) -> HTMLResponse:
    """The policy in force now, in plain language, with the document itself."""
    with ctx.sessions() as s:
        found = policy_in_force(s, utcnow())
    versions = list_versions(ctx.sessions)
    sections = found.plain(_clock_days(ctx, found)) if found else []
    return render(
        request,
        "policy.html",
        None,
        policy=found,
        sections=sections,
        versions=versions,
        upcoming=[v for v in versions if found is None or v.effective_from > utcnow()],
    )


@router.get("/versions", response_class=HTMLResponse)
def versions_page(request: Request, ctx: CtxDep) -> HTMLResponse:
    """Every version of the policy, newest first, with when each was in force."""
    with ctx.sessions() as s:
        found = policy_in_force(s, utcnow())
    return render(
        request,
        "policy_versions.html",
        None,
        versions=list_versions(ctx.sessions),
        current=found.version if found else None,
    )


@router.get("/versions/{version}", response_class=HTMLResponse)
def version_page(request: Request, version: int, ctx: CtxDep) -> HTMLResponse:
    """One version in plain language, with its document and the rules it referenced."""
    found = get_version(ctx.sessions, version)
    return render(
        request,
        "policy_version.html",
        None,
        policy=found,
        sections=found.plain(_clock_days(ctx, found)),
    )


@router.get("/diff", response_class=HTMLResponse)
def diff_page(
    request: Request, ctx: CtxDep, a: int | None = None, b: int | None = None
) -> HTMLResponse:
    """What changed between two versions (default: the two most recent)."""
    versions = sorted(list_versions(ctx.sessions), key=lambda v: v.version)
    if a is None and b is None and len(versions) >= 2:
        a, b = versions[-2].version, versions[-1].version
    old = get_version(ctx.sessions, a) if a is not None else None
    new = get_version(ctx.sessions, b) if b is not None else None
    changes = diff_documents(old.doc, new.doc) if old and new else []
    lines = (
        text_diff(old.body, new.body, f"version {old.version}", f"version {new.version}")
        if old and new
        else []
    )
    return render(
        request,
        "policy_diff.html",
        None,
        old=old,
        new=new,
        changes=changes,
        lines=lines,
        versions=list(reversed(versions)),
    )
