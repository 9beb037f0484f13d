"""``bodycam share``: time-limited, audited shares of footage with outside recipients."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Column, Table

from bodycam.cli_support import current_actor, guarded, open_context, out
from bodycam.disclosure import shares
from bodycam.disclosure.shares import DEFAULT_DAYS, ShareView, Sharing
from bodycam.ids import rfc3339

share_app = typer.Typer(
    help="Share footage with a prosecutor, defense or other recipient: link, code, audit.",
    no_args_is_help=True,
)

AsJson = Annotated[bool, typer.Option("--json", help="Print JSON.")]
ShareId = Annotated[str, typer.Argument(help="The share's id.")]


def _say(text: str) -> None:
    out.print(text, markup=False, highlight=False, soft_wrap=True)


def _share_json(v: ShareView) -> dict[str, Any]:
    sh = v.share
    return {
        "id": sh.id,
        "state": v.state.value,
        "recipient": {
            "name": sh.recipient_name,
            "organisation": sh.recipient_org,
            "email": sh.recipient_email,
            "role": sh.recipient_role,
        },
        "case": sh.case_number or None,
        "request": v.request_number,
        "allow_download": sh.allow_download,
        "created_by": v.creator,
        "created_at": rfc3339(sh.created_at),
        "expires_at": rfc3339(sh.expires_at),
        "revoked_at": rfc3339(sh.revoked_at) if sh.revoked_at else None,
        "revoke_reason": sh.revoke_reason or None,
        "wrong_codes": sh.failed_codes,
        "items": [
            {
                "item": it.position,
                "kind": it.kind,
                "recording_id": it.recording_id,
                "copy_id": it.copy_id,
                "sha256": it.sha256,
                "label": it.label,
                "watermark_sha256": it.watermark_sha256,
            }
            for it in v.items
        ],
        "counts": v.counts,
        "history": [
            {
                "at": rfc3339(a.at),
                "what": a.kind,
                "by": a.by,
                "item": a.position,
                "ip": a.ip,
                "detail": a.detail,
            }
            for a in v.history
        ],
    }


def _print_share(v: ShareView) -> None:
    sh = v.share
    _say(f"Share {sh.id}: {v.state.value}")
    org = f", {sh.recipient_org}" if sh.recipient_org else ""
    _say(f"  recipient: {sh.recipient_name}{org} <{sh.recipient_email}> ({sh.recipient_role})")
    if sh.case_number:
        _say(f"  case: {sh.case_number}")
    if v.request_number:
        _say(f"  request: {v.request_number}")
    _say(f"  made by {v.creator} at {rfc3339(sh.created_at)}; expires {rfc3339(sh.expires_at)}")
    _say(f"  {'view and download' if sh.allow_download else 'view only'}")
    if sh.revoked_at:
        _say(f"  revoked at {rfc3339(sh.revoked_at)}: {sh.revoke_reason}")
    if sh.failed_codes:
        _say(f"  wrong codes since the code was issued: {sh.failed_codes}")
    _say(f"  items: {len(v.items)}")
    for it in v.items:
        what = f"copy {it.copy_id} of {it.recording_id}" if it.copy_id else it.recording_id
        mark = f"  watermarked sha256 {it.watermark_sha256}" if it.watermark_sha256 else ""
        _say(f"    {it.position}. {it.kind} {what}: {it.label}{mark}")
    if v.history:
        _say("  history:")
        for a in v.history:
            item = f" item {a.position}" if a.position else ""
            ip = f" from {a.ip}" if a.ip else ""
            detail = f": {a.detail}" if a.detail else ""
            _say(f"    {rfc3339(a.at)}  {a.by}  {a.kind}{item}{ip}{detail}")


@share_app.command("create")
def share_create(
    recipient: Annotated[str, typer.Option(help="The recipient's name.")],
    email: Annotated[str, typer.Option(help="The recipient's email address.")],
    role: Annotated[str, typer.Option(help="prosecutor, defense or other.")],
    recording: Annotated[
        list[str] | None, typer.Option(help="An original recording's id (repeatable).")
    ] = None,
    copy: Annotated[
        list[str] | None, typer.Option(help="An approved redacted copy's id (repeatable).")
    ] = None,
    org: Annotated[str, typer.Option(help="The recipient's organisation.")] = "",
    days: Annotated[int, typer.Option(help="Days until the link expires.")] = DEFAULT_DAYS,
    allow_download: Annotated[
        bool, typer.Option("--allow-download", help="Let the recipient download (watermarked).")
    ] = False,
    case: Annotated[str, typer.Option(help="The case number it is shared for.")] = "",
    request: Annotated[str, typer.Option(help="A public-records request number.")] = "",
    base_url: Annotated[
        str, typer.Option(help="The agency's web address, to print a whole link.")
    ] = "",
    as_json: AsJson = False,
) -> None:
    """Share footage with one recipient; prints the link and the code ONCE."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        sharing = Sharing.from_context(ctx)
        issued = guarded(
            lambda: shares.create_share(
                sharing,
                actor,
                recipient_name=recipient,
                recipient_email=email,
                recipient_role=role,
                recipient_org=org,
                recordings=recording or [],
                copies=copy or [],
                days=days,
                allow_download=allow_download,
                case_number=case,
                request_number=request,
            )
        )
    link = base_url.rstrip("/") + issued.path
    if as_json:
        print(json.dumps(_share_json(issued.view) | {"link": link, "code": issued.code}))
        return
    sh = issued.view.share
    _say(
        f"Share {sh.id} for {sh.recipient_name} ({sh.recipient_role}): {len(issued.view.items)} "
        f"item(s), {'view and download' if sh.allow_download else 'view only'}, "
        f"expires {rfc3339(sh.expires_at)}."
    )
    _say(f"Link: {link}")
    _say(f"Code: {issued.code}")
    _say(
        "Both are shown only now. Send the link by email and the code another way "
        "(phone, text message): the link opens nothing without the code."
    )


@share_app.command("list")
def share_list(
    state: Annotated[
        str | None, typer.Option(help="Only active, locked, expired or revoked shares.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """List shares, newest first, with their recipient, state and use."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        sharing = Sharing.from_context(ctx)
        rows = guarded(lambda: shares.list_shares(sharing, actor, state=state))
    if as_json:
        for v in rows:
            print(json.dumps(_share_json(v)))
        return
    table = Table(
        Column("id", no_wrap=True),
        "state",
        "recipient",
        "items",
        Column("expires", no_wrap=True),
        "views",
        "plays",
        "downloads",
    )
    for v in rows:
        sh = v.share
        table.add_row(
            sh.id,
            v.state.value,
            f"{sh.recipient_name} ({sh.recipient_role})",
            str(len(v.items)),
            rfc3339(sh.expires_at)[:10],
            str(v.counts.get("viewed", 0)),
            str(v.counts.get("streamed", 0)),
            str(v.counts.get("downloaded", 0)),
        )
    out.print(table)


@share_app.command("show")
def share_show(share_id: ShareId, as_json: AsJson = False) -> None:
    """Show a share: its recipient, items, and every opening, view, play and download."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        sharing = Sharing.from_context(ctx)
        view = guarded(lambda: shares.get_share(sharing, actor, share_id))
    if as_json:
        print(json.dumps(_share_json(view)))
    else:
        _print_share(view)


@share_app.command("revoke")
def share_revoke(
    share_id: ShareId,
    reason: Annotated[str, typer.Option(help="Why (kept in the history and audit log).")],
) -> None:
    """Revoke a share now: its link answers 403 from then on."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        sharing = Sharing.from_context(ctx)
        view = guarded(lambda: shares.revoke_share(sharing, actor, share_id, reason))
    _say(f"Share {view.id} for {view.share.recipient_name} is revoked.")


@share_app.command("new-code")
def share_new_code(share_id: ShareId) -> None:
    """Issue a new code (shown ONCE): the old one stops working and a lockout ends."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        sharing = Sharing.from_context(ctx)
        issued = guarded(lambda: shares.new_code(sharing, actor, share_id))
    _say(f"New code for share {issued.share_id}: {issued.code}")
    _say("It is shown only now; the old code no longer opens the link.")
