"""The ``bodycam`` command, assembled from each domain's CLI module."""

from __future__ import annotations

from typing import Annotated

import typer

from bodycam import cli_support
from bodycam.audit.cli import audit_app, verify_command
from bodycam.auth.cli import tokens_app, users_app
from bodycam.compliance.cli import compliance_app
from bodycam.evidence.cli import categories_app, ingest_command, recordings_app
from bodycam.jobs.cli import jobs_app
from bodycam.redaction import review_cli
from bodycam.redaction.cli import redact_app
from bodycam.retention.cli import retention_app
from bodycam.system_cli import demo_app, init_command, serve_command, worker_command

app = typer.Typer(
    help="bodycam: an open platform for body-worn camera programs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    as_user: Annotated[
        str | None, typer.Option("--as", help="Act as this user (default: BODYCAM_USER).")
    ] = None,
) -> None:
    cli_support.state["as"] = as_user


app.command("init")(init_command)
app.command("ingest")(ingest_command)
app.command("verify")(verify_command)
app.command("serve")(serve_command)
app.command("worker")(worker_command)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(recordings_app, name="recordings")
app.add_typer(categories_app, name="categories")
app.add_typer(audit_app, name="audit")
app.add_typer(demo_app, name="demo")
app.add_typer(jobs_app, name="jobs")
app.add_typer(retention_app, name="retention")
app.add_typer(compliance_app, name="compliance")
review_cli.register(redact_app)
app.add_typer(redact_app, name="redact")


def main() -> None:
    """Entry point of the ``bodycam`` console script."""
    app()


if __name__ == "__main__":
    main()
