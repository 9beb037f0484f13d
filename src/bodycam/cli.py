"""The ``bodycam`` command, assembled from each domain's CLI module."""

from __future__ import annotations

from typing import Annotated

import typer

from bodycam import cli_support
from bodycam.audit.cli import audit_app, verify_command
from bodycam.auth.cli import tokens_app, users_app
from bodycam.compliance.cli import compliance_app
from bodycam.disclosure.cli import disclosure_app
from bodycam.disclosure.release_cli import discovery_app, release_app
from bodycam.disclosure.share_cli import share_app
from bodycam.evaluation.cli import eval_app
from bodycam.evaluation.cost_cli import cost_app
from bodycam.evidence.cli import categories_app, ingest_command, recordings_app
from bodycam.fleet.cli import fleet_app
from bodycam.fleet.dock_agent import dock_agent_command
from bodycam.jobs.cli import jobs_app, scrub_app
from bodycam.jobs.worker import worker_command
from bodycam.policy.cli import policy_app
from bodycam.redaction import review_cli
from bodycam.redaction.cli import redact_app
from bodycam.retention.cli import retention_app
from bodycam.system_cli import demo_app, init_command, serve_command

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
app.command("dock-agent")(dock_agent_command)
app.add_typer(users_app, name="users")
app.add_typer(tokens_app, name="tokens")
app.add_typer(recordings_app, name="recordings")
app.add_typer(categories_app, name="categories")
app.add_typer(audit_app, name="audit")
app.add_typer(demo_app, name="demo")
app.add_typer(jobs_app, name="jobs")
app.add_typer(scrub_app, name="scrub")
app.add_typer(retention_app, name="retention")
app.add_typer(compliance_app, name="compliance")
app.add_typer(fleet_app, name="fleet")
app.add_typer(disclosure_app, name="disclosure")
app.add_typer(share_app, name="share")
app.add_typer(release_app, name="release")
app.add_typer(discovery_app, name="discovery")
app.add_typer(eval_app, name="eval")
app.add_typer(cost_app, name="cost")
app.add_typer(policy_app, name="policy")
review_cli.register(redact_app)
app.add_typer(redact_app, name="redact")


def main() -> None:
    """Entry point of the ``bodycam`` console script."""
    app()


if __name__ == "__main__":
    main()
