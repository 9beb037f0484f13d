"""``bodycam users`` and ``bodycam tokens``."""

from __future__ import annotations

import json
import os
from typing import Annotated

import typer
from rich.table import Table

from bodycam.auth import service
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
    """Disable a user; their sessions and API tokens are revoked at once."""
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


@tokens_app.command("create")
def tokens_create(
    name: Annotated[str, typer.Argument(help="What the token is for.")],
    days: Annotated[int, typer.Option(help="Days until it expires (0: never).")] = 90,
) -> None:
    """Issue an API token for the acting user; the secret is printed once."""
    with open_context() as ctx:
        actor = current_actor(ctx)
        with transaction(ctx.sessions) as s:
            tok = service.issue_token(s, actor, name, days or None)
        print(tok.secret)
        exp = tok.expires_at.isoformat() if tok.expires_at else "never"
        err.print(f"Token {tok.id} for {actor.username}, expires {exp}.")
