"""Helpers shared by every domain's CLI: the context, the acting user, errors.

Errors a person can fix are one sentence on stderr with exit status 1; a command
the acting user may not run exits with status 3.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from bodycam.audit.service import seal
from bodycam.auth.actor import Actor, PermissionDenied
from bodycam.auth.service import AuthError, actor_for, get_user
from bodycam.config import Settings, get_settings
from bodycam.context import Context
from bodycam.disclosure.errors import DisclosureError
from bodycam.evidence.service import EvidenceError
from bodycam.retention.service import RetentionError
from bodycam.storage import BlobStoreError

err = Console(stderr=True)
out = Console()
EXIT_ERROR = 1
EXIT_DENIED = 3

state: dict[str, Any] = {"as": None}
T = TypeVar("T")


def fail(message: str, code: int = EXIT_ERROR) -> NoReturn:
    """Print one sentence to stderr and exit with ``code``."""
    err.print(message, markup=False, highlight=False, soft_wrap=True)
    raise typer.Exit(code)


@contextmanager
def open_context(
    settings: Settings | None = None, *, seal_on_exit: bool = True, create_key: bool = False
) -> Iterator[Context]:
    """The deployment's context; seals the audit log when the command ends."""
    try:
        ctx = Context.from_settings(settings or load_settings(), create_key=create_key)
    except (ValueError, BlobStoreError, OSError) as exc:
        fail(f"Cannot open bodycam: {exc}")
    _open.append(ctx)
    try:
        yield ctx
    finally:
        _open.remove(ctx)
        if seal_on_exit:
            try:
                seal(ctx.sessions, ctx.signer)
            except Exception as exc:
                err.print(f"warning: could not seal the audit log now: {exc}", markup=False)
        ctx.close()


def load_settings() -> Settings:
    """Settings from the environment; invalid ones end the command with a sentence."""
    from pydantic import ValidationError

    try:
        return get_settings()
    except ValidationError as exc:
        reasons = "; ".join(
            str(e.get("msg", "")).removeprefix("Value error, ") for e in exc.errors()
        )
        fail(f"The settings are not valid: {reasons}")


def redact(url: str) -> str:
    """A URL with passwords and secret keys replaced by ***, safe to print."""
    import re

    url = re.sub(r"(secret_key=)[^&]*", r"\1***", url)
    return re.sub(r"(://[^:/@]+:)[^@]*@", r"\1***@", url)


def current_actor(ctx: Context) -> Actor:
    """The user the CLI acts as (``--as`` or ``BODYCAM_USER``)."""
    name = state["as"] or ctx.settings.user or os.environ.get("BODYCAM_USER")
    if not name:
        fail("Name the acting user with --as NAME or BODYCAM_USER.", EXIT_DENIED)
    with ctx.sessions() as s:
        user = get_user(s, str(name))
        if user is None or not user.active:
            fail(f"There is no active user named {name}.", EXIT_DENIED)
        return actor_for(user, "cli")


_open: list[Context] = []


def audit_denial(exc: PermissionDenied) -> None:
    """Record a refusal that no service recorded yet (every denial is audited)."""
    if exc.audited or exc.actor is None or not _open:
        return
    from bodycam.audit.service import record_denial

    record_denial(_open[-1].sessions, exc.actor, str(exc), exc.object_id)
    exc.audited = True


def guarded(fn: Callable[[], T]) -> T:
    """Run ``fn``, turning domain errors into one-sentence exits."""
    try:
        return fn()
    except PermissionDenied as exc:
        audit_denial(exc)
        fail(str(exc), EXIT_DENIED)
    except (EvidenceError, AuthError, BlobStoreError, RetentionError, DisclosureError) as exc:
        fail(str(exc))
    except LookupError as exc:
        fail(str(exc.args[0]) if exc.args else str(exc))
