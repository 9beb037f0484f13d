"""``bodycam users`` and ``bodycam tokens``."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer
from rich.table import Table

from bodycam.auth import login, mfa, service
from bodycam.auth.models import Squad
from bodycam.cli_support import current_actor, err, fail, guarded, open_context, out
from bodycam.db import transaction

users_app = typer.Typer(help="Users and roles.", no_args_is_help=True)
tokens_app = typer.Typer(help="API tokens for the API and scripts.", no_args_is_help=True)


def read_new_password(prompt_for: str) -> str | None:
    """A password from BODYCAM_NEW_PASSWORD, or a hidden prompt when interactive."""
    env = os.environ.get("BODYCAM_NEW_PASSWORD")
    if env:
        return env
    if os.isatty(0):
        return str(
            typer.prompt(f"Password for {prompt_for}", hide_input=True, confirmation_prompt=True)
        )
    return None


@users_app.command("add")
def users_add(
    name: str,
    role: Annotated[
        str,
        typer.Option(
            help="officer, supervisor, records_clerk, auditor, "
            "external, equipment, analyst, administrator"
        ),
    ],
    badge: Annotated[str | None, typer.Option(help="Badge number (officers).")] = None,
    squad: Annotated[str | None, typer.Option(help="Squad name (created if new).")] = None,
    precinct: Annotated[str, typer.Option(help="Precinct of a new squad.")] = "",
    display_name: Annotated[str, typer.Option(help="Full name shown on pages.")] = "",
) -> None:
    """Create a user (password from BODYCAM_NEW_PASSWORD or a prompt; none: no login)."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        password = read_new_password(name)

        def run() -> str:
            with transaction(ctx.sessions) as s:
                user = service.create_user(
                    s,
                    actor,
                    name,
                    role,
                    password=password,
                    badge=badge,
                    squad=squad,
                    display_name=display_name,
                    precinct=precinct,
                )
                return user.id

        uid = guarded(run)
        out.print(f"Created user {name} ({role}) id {uid}.", markup=False)


@users_app.command("list")
def users_list(as_json: Annotated[bool, typer.Option("--json")] = False) -> None:
    """List users with role, badge and squad."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        with ctx.sessions() as s:
            users = guarded(lambda: service.list_users(s, actor))
            squads = {q.id: q.name for q in s.query(Squad)}
            rows = [
                {
                    "username": u.username,
                    "role": u.role,
                    "badge": u.badge,
                    "squad": squads.get(u.squad_id or ""),
                    "active": u.active,
                }
                for u in users
            ]
        if as_json:
            for r in rows:
                print(json.dumps(r))
            return
        table = Table("user", "role", "badge", "squad", "active")
        for r in rows:
            table.add_row(
                str(r["username"]),
                str(r["role"]),
                str(r["badge"] or ""),
                str(r["squad"] or ""),
                "yes" if r["active"] else "no",
            )
        out.print(table)


def _update(name: str, **changes: object) -> None:
    with open_context() as ctx:
        actor = current_actor(ctx)

        def run() -> None:
            with transaction(ctx.sessions) as s:
                service.update_user(s, actor, name, **changes)  # type: ignore[arg-type]

        guarded(run)
        err.print(f"Updated {name}: {', '.join(f'{k}={v}' for k, v in changes.items())}.")


@users_app.command("disable")
def users_disable(name: str) -> None:
    """Disable a user; their sessions, API tokens and external shares are revoked at once."""
    _update(name, active=False)


@users_app.command("enable")
def users_enable(name: str) -> None:
    """Enable a disabled user again (old sessions and tokens stay revoked)."""
    _update(name, active=True)


@users_app.command("set-role")
def users_set_role(
    name: str,
    role: str,
    squad: Annotated[str | None, typer.Option(help="Also move to this squad.")] = None,
) -> None:
    """Change a user's role (and optionally squad)."""
    _update(name, role=role, **({"squad": squad} if squad is not None else {}))


@users_app.command("passwd")
def users_passwd(name: str) -> None:
    """Set a user's password (from BODYCAM_NEW_PASSWORD or a prompt)."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        password = read_new_password(name)
        if not password:
            fail("Give the new password in BODYCAM_NEW_PASSWORD or run interactively.")

        def run() -> None:
            with transaction(ctx.sessions) as s:
                service.set_password(s, actor, name, password)

        guarded(run)
        err.print(f"Password of {name} changed.")


@users_app.command("unlock")
def users_unlock(name: str) -> None:
    """Unlock a user name locked after too many failed sign-ins (administrators; audited)."""
    with open_context() as ctx:
        actor = current_actor(ctx)

        def run() -> int:
            with transaction(ctx.sessions) as s:
                return login.unlock(s, actor, name)

        failures = guarded(run)
        err.print(f"Unlocked {name} (it had {failures} failed sign-ins in a row).", markup=False)


@users_app.command("mfa-reset")
def users_mfa_reset(name: str) -> None:
    """Remove a user's authenticator and recovery codes (a lost phone); their sessions end and
    they enrol again at their next sign-in (administrators; audited)."""
    with open_context() as ctx:
        actor = current_actor(ctx)

        def run() -> int:
            with transaction(ctx.sessions) as s:
                return mfa.reset_mfa(s, actor, name)

        ended = guarded(run)
        err.print(f"Authenticator of {name} reset; {ended} sessions ended.", markup=False)


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="What the token is for.")],
    days: Annotated[int, typer.Option(help="Days until it expires (1 to token_max_days).")] = 90,
    scope: Annotated[
        list[str] | None,
        typer.Option(
            "--scope",
            help="A permission the token may use (repeat; none: all of the user's). A token "
            "never exceeds its user's role.",
        ),
    ] = None,
) -> None:
    """Issue an API token for the acting user; the secret is printed once."""
    with open_context() as ctx:
        actor = current_actor(ctx)

        def run() -> service.IssuedToken:
            with transaction(ctx.sessions) as s:
                return service.issue_token(
                    s, actor, name, days, scope or None, max_days=ctx.settings.token_max_days
                )

        tok = guarded(run)
        print(tok.secret)
        exp = tok.expires_at.isoformat() if tok.expires_at else "never"
        scopes = ", ".join(tok.scopes) if tok.scopes else "all of the user's permissions"
        err.print(
            f"Token {tok.id} for {actor.username}, expires {exp}, scopes: {scopes}.", markup=False
        )


@tokens_app.command("list")
def tokens_list(
    user: Annotated[
        str | None, typer.Option(help="Another user's tokens (administrators).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """List the acting user's API tokens (or another user's, for administrators)."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        with ctx.sessions() as s:
            toks = guarded(lambda: service.list_tokens(s, actor, user))
        rows = [
            {
                "id": t.id,
                "name": t.name,
                "scopes": t.scopes,
                "created_at": t.created_at.isoformat(),
                "expires_at": t.expires_at.isoformat() if t.expires_at else None,
                "last_used_at": t.last_used_at.isoformat() if t.last_used_at else None,
                "revoked_at": t.revoked_at.isoformat() if t.revoked_at else None,
            }
            for t in toks
        ]
        if as_json:
            for r in rows:
                print(json.dumps(r))
            return
        table = Table("id", "name", "scopes", "expires", "last used", "state")
        for r in rows:
            table.add_row(
                str(r["id"]),
                str(r["name"]),
                ", ".join(r["scopes"] or []) or "all",  # type: ignore[arg-type]
                str(r["expires_at"] or "never"),
                str(r["last_used_at"] or ""),
                "revoked" if r["revoked_at"] else "active",
            )
        out.print(table)


@tokens_app.command("revoke")
def tokens_revoke(token_id: str) -> None:
    """Revoke an API token: one's own, or anyone's for administrators (audited)."""
    with open_context() as ctx:
        actor = current_actor(ctx)

        def run() -> None:
            with transaction(ctx.sessions) as s:
                service.revoke_token(s, actor, token_id)

        guarded(run)
        err.print(f"Token {token_id} revoked.", markup=False)
