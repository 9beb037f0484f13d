"""``bodycam init``, ``serve``, ``worker`` and ``demo``."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from bodycam.auth import service as auth_service
from bodycam.cli_support import err, fail, guarded, load_settings, open_context, redact
from bodycam.config import Settings
from bodycam.db import transaction, upgrade
from bodycam.evidence.models import UNCATEGORIZED
from bodycam.evidence.service import ensure_category
from bodycam.storage import BlobStoreError

demo_app = typer.Typer(help="The synthetic demo department.", no_args_is_help=True)


def initialise(settings: Settings) -> None:
    """Create or upgrade the database and storage; create built-in rows and keys."""
    settings.resolved_home.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url)
    with open_context(settings, seal_on_exit=False, create_key=True) as ctx:
        ensure = getattr(ctx.store, "ensure_bucket", None)
        if callable(ensure):
            ensure()
        # The release-signing (C2PA) chain is made here, beside the signing key, so that
        # the keys folder copied to every host carries one chain: made on first use by
        # each worker, every host would sign releases under a trust anchor of its own.
        from bodycam.disclosure.releases import c2pa_credentials

        c2pa_credentials(ctx)
        with transaction(ctx.sessions) as s:
            ensure_category(s, UNCATEGORIZED)


def init_command(
    admin: Annotated[
        str | None, typer.Option(help="Create this first administrator if missing.")
    ] = None,
) -> None:
    """Create or upgrade the database and storage, and the first administrator."""
    settings = load_settings()
    try:
        initialise(settings)
    except BlobStoreError as exc:
        fail(f"Cannot prepare storage {redact(settings.resolved_storage_url)}: {exc}")
    with open_context(settings) as ctx:
        if admin:
            with ctx.sessions() as s:
                exists = auth_service.get_user(s, admin) is not None
            if exists:
                err.print(f"Administrator {admin} already exists.")
            else:
                password = os.environ.get("BODYCAM_ADMIN_PASSWORD")
                if not password:
                    if not os.isatty(0):
                        fail(
                            "Set BODYCAM_ADMIN_PASSWORD or run interactively to give the "
                            "administrator's password."
                        )
                    password = str(
                        typer.prompt(
                            f"Password for {admin}", hide_input=True, confirmation_prompt=True
                        )
                    )

                def create() -> None:
                    with transaction(ctx.sessions) as s:
                        auth_service.create_user(s, None, admin, "administrator", password=password)

                guarded(create)
                err.print(f"Created administrator {admin}.")
    print(
        f"bodycam ready: database {redact(settings.resolved_database_url)}, "
        f"storage {redact(settings.resolved_storage_url)}"
    )


def serve_command(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
) -> None:
    """Serve the web UI and the API."""
    import uvicorn

    from bodycam.web.app import create_app

    uvicorn.run(
        create_app(load_settings()), host=host, port=port, proxy_headers=True, log_level="info"
    )


@demo_app.command("build")
def demo_build(
    home: Annotated[Path, typer.Option(help="Folder for the demo department.")] = Path("var/demo"),
    officers: Annotated[int, typer.Option(help="Number of officers.")] = 40,
    clips: Annotated[int, typer.Option(help="Number of clips to record.")] = 300,
    seed: Annotated[int, typer.Option(help="Random seed (same seed, same department).")] = 7,
) -> None:
    """Build the synthetic department (idempotent: reuses what exists) and print logins."""
    from bodycam.demo import build_demo

    build_demo(home, officers=officers, clips=clips, seed=seed)
