"""``bodycam policy``: validate, apply, show and compare the camera policy; statements,
complainant sessions and the scorecard."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from bodycam.cli_support import current_actor, err, fail, guarded, open_context, out

policy_app = typer.Typer(
    help="The agency's camera policy: one versioned document, enforced, published, scored.",
    no_args_is_help=True,
)
statement_app = typer.Typer(help="Officers' initial statements (statement-first rule).")
complainant_app = typer.Typer(help="Complainants' supervised viewing sessions.")
policy_app.add_typer(statement_app, name="statement", no_args_is_help=True)
policy_app.add_typer(complainant_app, name="complainant", no_args_is_help=True)

T = TypeVar("T")
DEFAULT_POLICY = Path(__file__).with_name("default.toml")
"""The example policy shipped with bodycam (``bodycam policy show --example``)."""


def _policy_errors(fn: Callable[[], T]) -> T:
    """Run ``fn`` under ``guarded``; a policy error is one sentence and exit 1."""
    from bodycam.disclosure.errors import DisclosureError
    from bodycam.policy.document import PolicyError

    try:
        return guarded(fn)
    except (PolicyError, DisclosureError) as exc:
        fail(str(exc))


def _read(path: Path) -> str:
    from bodycam.policy.document import read

    return _policy_errors(lambda: read(path))[0]


def _print_sections(sections: list, heading: str) -> None:  # type: ignore[type-arg]
    out.print(heading, markup=False, soft_wrap=True)
    for section in sections:
        out.print(f"\n{section.heading}", markup=False, soft_wrap=True, style="bold")
        for sentence in section.sentences:
            out.print(f"  - {sentence}", markup=False, soft_wrap=True)


@policy_app.command("validate")
def validate_command(
    path: Annotated[Path, typer.Argument(help="A policy document (TOML).")],
) -> None:
    """Check a policy document and what it references; nothing is stored."""
    from bodycam.policy.service import check_document

    text = _read(path)
    with open_context(seal_on_exit=False) as ctx, ctx.sessions() as s:
        checked = _policy_errors(
            lambda: check_document(
                s,
                text,
                str(path),
                path.resolve().parent,
                officer_sees_own=ctx.settings.officer_sees_own,
            )
        )
    for warning in checked.warnings:
        err.print(f"warning: {warning}", markup=False, soft_wrap=True)
    doc = checked.doc
    out.print(
        f"{path}: valid. Version {doc.version!r}, effective {doc.effective_from:%Y-%m-%d}; "
        f"recording rules {doc.recording.rules_file} ({len(checked.rules.policies)} rule "
        f"version(s)); retention schedule version {checked.retention_version}; disclosure "
        f"clock version {checked.clock_version}, {checked.jurisdiction} "
        f"({checked.clock_days} days on the critical-incident track).",
        markup=False,
        soft_wrap=True,
    )


@policy_app.command("apply")
def apply_command(
    path: Annotated[Path, typer.Argument(help="A policy document (TOML).")],
    note: Annotated[str, typer.Option(help="Why this version (kept with it).")] = "",
) -> None:
    """Make a policy document a new version (audited); nothing is stored when it is wrong."""
    from bodycam.policy.service import apply_policy

    text = _read(path)
    with open_context() as ctx:
        actor = current_actor(ctx)
        applied = _policy_errors(
            lambda: apply_policy(
                ctx.sessions,
                actor,
                text,
                file=str(path),
                base_dir=path.resolve().parent,
                officer_sees_own=ctx.settings.officer_sees_own,
                note=note,
            )
        )
    for warning in applied.warnings:
        err.print(f"warning: {warning}", markup=False, soft_wrap=True)
    out.print(
        f"Applied as policy version {applied.version} ({applied.label!r}), in force from "
        f"{applied.effective_from:%Y-%m-%d}; sha256 {applied.sha256}.",
        markup=False,
        soft_wrap=True,
    )


@policy_app.command("show")
def show_command(
    path: Annotated[
        Path | None, typer.Argument(help="A policy file; default: the policy in force.")
    ] = None,
    version: Annotated[int | None, typer.Option(help="A stored version instead.")] = None,
    at: Annotated[
        datetime | None, typer.Option(help="The version in force at this time (UTC).")
    ] = None,
    as_toml: Annotated[bool, typer.Option("--toml", help="Print the document itself.")] = False,
) -> None:
    """The policy in plain language (the one in force, a stored version, or a file)."""
    from bodycam.ids import as_utc
    from bodycam.policy.document import parse, plain_language
    from bodycam.policy.service import get_version, policy_in_force

    if path is not None:
        text = _read(path)
        if as_toml:
            print(text, end="")
            return
        doc = _policy_errors(lambda: parse(text, str(path)))
        _print_sections(plain_language(doc), f"{doc.title} ({doc.version}), from {path}")
        return
    with open_context(seal_on_exit=False) as ctx:
        if version is not None:
            found = _policy_errors(lambda: get_version(ctx.sessions, version))
        else:
            with ctx.sessions() as s:
                found = policy_in_force(s, as_utc(at) if at else None)  # type: ignore[assignment]
            if found is None:
                fail("No camera policy is in force" + (f" at {at}." if at else " yet."))
    if as_toml:
        print(found.body, end="")
        return
    _print_sections(
        found.plain(),
        f"{found.title}: version {found.version} ({found.label!r}), in force from "
        f"{found.effective_from:%Y-%m-%d}"
        + (f" until {found.until:%Y-%m-%d}" if found.until else "")
        + f"; applied by {found.applied_by} on {found.applied_at:%Y-%m-%d}.",
    )


@policy_app.command("versions")
def versions_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Every applied version, newest first."""
    from bodycam.policy.service import list_versions

    with open_context(seal_on_exit=False) as ctx:
        versions = list_versions(ctx.sessions)
    if as_json:
        rows = [
            {
                "version": v.version,
                "label": v.label,
                "effective_from": v.effective_from.isoformat(),
                "until": v.until.isoformat() if v.until else None,
                "applied_at": v.applied_at.isoformat(),
                "applied_by": v.applied_by,
                "sha256": v.sha256,
                "note": v.note,
            }
            for v in versions
        ]
        print(json.dumps(rows))
        return
    if not versions:
        out.print("No camera policy has been applied yet.", markup=False, soft_wrap=True)
    for v in versions:
        out.print(
            f"{v.version}  {v.label}  from {v.effective_from:%Y-%m-%d}"
            + (f" until {v.until:%Y-%m-%d}" if v.until else "")
            + f"  applied {v.applied_at:%Y-%m-%d} by {v.applied_by}"
            + (f"  ({v.note})" if v.note else ""),
            markup=False,
            soft_wrap=True,
        )


@policy_app.command("diff")
def diff_command(
    path: Annotated[Path, typer.Argument(help="A policy document (TOML).")],
    against: Annotated[
        int | None, typer.Option(help="A stored version (default: the one in force now).")
    ] = None,
    text: Annotated[bool, typer.Option("--text", help="Also print a line diff.")] = False,
) -> None:
    """What a policy file changes against the policy in force (or a stored version)."""
    from bodycam.policy.document import parse
    from bodycam.policy.service import diff_documents, get_version, policy_in_force, text_diff

    body = _read(path)
    new = _policy_errors(lambda: parse(body, str(path)))
    with open_context(seal_on_exit=False) as ctx:
        if against is not None:
            old = _policy_errors(lambda: get_version(ctx.sessions, against))
        else:
            with ctx.sessions() as s:
                found = policy_in_force(s)
            if found is None:
                fail("No camera policy is in force yet: everything in the file would be new.")
            old = found
    changes = diff_documents(old.doc, new)
    out.print(
        f"{path} against version {old.version} ({old.label!r}): {len(changes)} setting(s) differ.",
        markup=False,
        soft_wrap=True,
    )
    for change in changes:
        out.print(f"  - {change.sentence}", markup=False, soft_wrap=True)
    if text:
        for line in text_diff(old.body, body, f"version {old.version}", str(path)):
            print(line)


# --- statements -------------------------------------------------------------------------------


@statement_app.command("record")
def statement_record_command(
    officer: Annotated[str, typer.Option(help="The officer's badge.")],
    recording: Annotated[str | None, typer.Option(help="The recording it covers.")] = None,
    event: Annotated[
        str | None, typer.Option(help="Or the case or dispatch event number it covers.")
    ] = None,
    given_at: Annotated[
        datetime | None, typer.Option(help="When it was given (UTC; default now).")
    ] = None,
    note: Annotated[str, typer.Option(help="A note (e.g. where the statement is filed).")] = "",
) -> None:
    """Record that an officer gave their initial statement (audited)."""
    from bodycam.policy.enforce import record_statement

    with open_context() as ctx:
        actor = current_actor(ctx)
        view = _policy_errors(
            lambda: record_statement(
                ctx.sessions,
                actor,
                officer_badge=officer,
                recording_id=recording,
                event=event,
                given_at=given_at,
                note=note,
            )
        )
    out.print(
        f"Statement {view.id} recorded: officer {view.badge} ({view.officer}), "
        + (f"recording {view.recording_id}" if view.recording_id else f"event {view.event}")
        + f", given {view.given_at:%Y-%m-%d %H:%M} UTC.",
        markup=False,
        soft_wrap=True,
    )


@statement_app.command("list")
def statement_list_command(
    officer: Annotated[str | None, typer.Option(help="Only this badge.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Recorded statements, newest first (a supervisor sees their squad's)."""
    from bodycam.policy.enforce import list_statements

    with open_context() as ctx:
        actor = current_actor(ctx)
        rows = _policy_errors(lambda: list_statements(ctx.sessions, actor, officer_badge=officer))
    for r in rows:
        if as_json:
            print(json.dumps(r.as_dict()))
        else:
            out.print(
                f"{r.id}  {r.badge}  "
                + (f"recording {r.recording_id}" if r.recording_id else f"event {r.event}")
                + f"  given {r.given_at:%Y-%m-%d %H:%M}  recorded by {r.recorded_by}",
                markup=False,
                soft_wrap=True,
            )


# --- complainant sessions ---------------------------------------------------------------------


@complainant_app.command("arrange")
def complainant_arrange_command(
    complaint: Annotated[str, typer.Option(help="The complaint number.")],
    name: Annotated[str, typer.Option(help="The complainant's name (burned into the video).")],
    email: Annotated[str, typer.Option(help="The complainant's email address.")],
    supervisor: Annotated[str, typer.Option(help="User name of the supervisor who runs it.")],
    recording: Annotated[
        list[str] | None, typer.Option(help="A recording to show (repeat).")
    ] = None,
    copy: Annotated[
        list[str] | None, typer.Option(help="An approved redacted copy to show (repeat).")
    ] = None,
    minutes: Annotated[
        int | None, typer.Option(help="Session length (default and maximum: the policy's).")
    ] = None,
) -> None:
    """Arrange a complainant's supervised, watermarked, time-limited viewing session."""
    from bodycam.disclosure.shares import Sharing
    from bodycam.policy.complainant import arrange_session

    with open_context() as ctx:
        actor = current_actor(ctx)
        done = _policy_errors(
            lambda: arrange_session(
                Sharing.from_context(ctx),
                actor,
                complaint_number=complaint,
                complainant_name=name,
                complainant_email=email,
                supervisor=supervisor,
                recordings=recording or [],
                copies=copy or [],
                minutes=minutes,
            )
        )
    v = done.session
    out.print(
        f"Complainant session {v.id} for complaint {v.complaint_number}, run by {v.supervisor}, "
        f"until {v.ends_at:%Y-%m-%d %H:%M} UTC (share {v.share_id}).",
        markup=False,
        soft_wrap=True,
    )
    out.print(f"Link (give it to the supervisor): {done.path}", markup=False, soft_wrap=True)
    out.print(
        f"Code (shown once; the supervisor enters it): {done.code}", markup=False, soft_wrap=True
    )


@complainant_app.command("end")
def complainant_end_command(
    session_id: Annotated[str, typer.Argument(help="The session's id.")],
    reason: Annotated[str, typer.Option(help="Why it ends now.")],
) -> None:
    """End a complainant session now: its share is revoked."""
    from bodycam.disclosure.shares import Sharing
    from bodycam.policy.complainant import end_session

    with open_context() as ctx:
        actor = current_actor(ctx)
        v = _policy_errors(
            lambda: end_session(Sharing.from_context(ctx), actor, session_id, reason)
        )
    out.print(f"Complainant session {v.id} ended: {v.end_reason}.", markup=False, soft_wrap=True)


@complainant_app.command("list")
def complainant_list_command(
    as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
) -> None:
    """Every complainant session, newest first, with its state."""
    from bodycam.disclosure.shares import Sharing
    from bodycam.ids import utcnow
    from bodycam.policy.complainant import list_sessions

    with open_context() as ctx:
        actor = current_actor(ctx)
        rows = _policy_errors(lambda: list_sessions(Sharing.from_context(ctx), actor))
    now = utcnow()
    for v in rows:
        if as_json:
            print(json.dumps(v.as_dict(now)))
        else:
            out.print(
                f"{v.id}  complaint {v.complaint_number}  {v.complainant_name}  run by "
                f"{v.supervisor}  until {v.ends_at:%Y-%m-%d %H:%M}  {v.state(now)}",
                markup=False,
                soft_wrap=True,
            )


# --- scorecard --------------------------------------------------------------------------------


@policy_app.command("scorecard")
def scorecard_command(
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for scorecard.html and .pdf.")],
) -> None:
    """Score the policy in force and the system's measured behaviour (HTML and PDF)."""
    from bodycam.policy.scorecard import write_scorecard

    with open_context() as ctx:
        actor = current_actor(ctx)
        card = _policy_errors(lambda: write_scorecard(ctx, actor, out_dir))
    counts = card.counts()
    out.print(
        f"Scorecard of policy version {card.policy_version}: {counts['met']} met, "
        f"{counts['partly']} partly met, {counts['not met']} not met, {counts['unknown']} "
        f"not measurable. Wrote {out_dir / 'scorecard.html'} and {out_dir / 'scorecard.pdf'}.",
        markup=False,
        soft_wrap=True,
    )
