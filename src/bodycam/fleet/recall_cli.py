"""``bodycam fleet recall`` and ``bodycam fleet rollout``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from bodycam.cli_support import current_actor, err, fail, open_context, out
from bodycam.fleet.cli_common import emit, pct, run, when
from bodycam.fleet.recalls import CampaignView

recall_app = typer.Typer(
    help="Recalls: pull cameras of a lot, firmware or model, and track each.", no_args_is_help=True
)
rollout_app = typer.Typer(
    help="Firmware rollouts: track cameras until they run a version.", no_args_is_help=True
)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print as JSON.")]
ReasonOpt = Annotated[str, typer.Option(help="Why (kept with it and in the audit log).")]
CAMERA_COLUMNS = ["serial", "model", "battery_lot", "firmware", "status", "holder"]


def _progress(view: CampaignView) -> None:
    what = (
        f"{view.criterion.replace('_', ' ')} {view.value}"
        if view.kind == "recall"
        else f"firmware {view.value}" + (f" on model {view.model}" if view.model else "")
    )
    out.print(
        f"{view.kind.capitalize()} {view.id}: {what}, by {view.created_by} at "
        f"{view.created_at.isoformat()}: {view.reason}",
        markup=False,
    )
    parts = [f"{n} {status} ({pct(view.share(status))})" for status, n in view.counts.items()]
    out.print(
        f"{view.total} camera(s): "
        + ", ".join(parts)
        + f"; {pct(view.done / view.total if view.total else None)} done.",
        markup=False,
    )


def _show(view: CampaignView, as_json: bool, title: str) -> None:
    if as_json:
        print(json.dumps(view.as_dict()))
        return
    _progress(view)
    if view.items:
        out.print(title, markup=False)
        emit([i.as_dict() for i in view.items], "table", [*CAMERA_COLUMNS, "holder_at_start"])
    if view.uploads:
        err.print(
            f"warning: {len(view.uploads)} upload(s) by recalled cameras after the recall:",
            markup=False,
        )
        emit(
            [u.as_dict() for u in view.uploads],
            "table",
            ["serial", "source", "at", "sha256", "recording"],
        )
    if view.warnings:
        err.print(
            f"warning: {len(view.warnings)} recording(s) uploaded by cameras still outstanding "
            "under this recall (recorded at ingest):",
            markup=False,
        )
        emit(
            [w.as_dict() for w in view.warnings],
            "table",
            ["serial", "at", "via", "uploaded_by", "recording"],
        )


@recall_app.command("create")
def recall_create_command(
    reason: ReasonOpt,
    battery_lot: Annotated[str | None, typer.Option(help="Recall this battery lot.")] = None,
    firmware: Annotated[str | None, typer.Option(help="Recall this firmware version.")] = None,
    model: Annotated[str | None, typer.Option(help="Recall this model.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Recall every camera of a battery lot, firmware or model: listed with its holder."""
    from bodycam.fleet.recalls import create_recall

    if sum(v is not None for v in (battery_lot, firmware, model)) != 1:
        fail("Give exactly one of --battery-lot, --firmware or --model.")
    with open_context() as ctx:
        actor = current_actor(ctx)
        view = run(
            lambda: create_recall(
                ctx.sessions,
                actor,
                battery_lot=battery_lot,
                firmware=firmware,
                model=model,
                reason=reason,
            )
        )
    if as_json:
        print(json.dumps(view.as_dict()))
        return
    _show(view, False, "Recalled cameras and who holds them:")


@recall_app.command("list")
def recall_list_command(as_json: JsonOpt = False) -> None:
    """Every recall with its progress."""
    _list("recall", as_json)


def _list(kind: str, as_json: bool) -> None:
    from bodycam.fleet.recalls import list_campaigns

    with open_context() as ctx:
        actor = current_actor(ctx)
        views = run(lambda: list_campaigns(ctx.sessions, actor, kind))
    rows = [v.as_dict() | {"open": v.total - v.done} for v in views]
    if as_json:
        print(json.dumps(rows))
        return
    emit(
        rows,
        "table",
        ["id", "criterion", "value", "model", "created_at", "total", "done", "open", "reason"],
    )


@recall_app.command("show")
def recall_show_command(
    recall_id: Annotated[str, typer.Argument(help="The recall's id.")],
    show_all: Annotated[
        bool, typer.Option("--all", help="Every camera, not only outstanding.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Progress: counts and shares, outstanding cameras with holders, uploads after it,
    and the warnings recorded when a camera still outstanding uploaded."""
    from bodycam.fleet.recalls import show_campaign

    with open_context() as ctx:
        actor = current_actor(ctx)
        view = run(
            lambda: show_campaign(
                ctx.sessions, actor, recall_id, kind="recall", everything=show_all
            )
        )
    _show(view, as_json, "Cameras:" if show_all else "Outstanding cameras and who holds them now:")


@recall_app.command("resolve")
def recall_resolve_command(
    recall_id: Annotated[str, typer.Argument(help="The recall's id.")],
    serial: Annotated[str, typer.Argument(help="The recalled camera's serial.")],
    outcome: Annotated[str, typer.Option(help="returned, replaced or cleared.")],
    replacement: Annotated[
        str | None, typer.Option(help="With replaced: the serial of the camera given instead.")
    ] = None,
    note: Annotated[str, typer.Option(help="A note kept with the outcome.")] = "",
    at: Annotated[str | None, typer.Option(help="When (ISO; default now).")] = None,
) -> None:
    """Record what became of one recalled camera."""
    from bodycam.fleet.recalls import resolve_recall

    with open_context() as ctx:
        moment = when(at, "at", ctx.settings.timezone)
        actor = current_actor(ctx)
        item = run(
            lambda: resolve_recall(
                ctx.sessions,
                actor,
                recall_id,
                serial,
                outcome,
                replacement=replacement,
                note=note,
                at=moment,
            )
        )
    extra = f" by {item.replacement}" if item.replacement else ""
    out.print(
        f"{item.serial}: {item.status}{extra}; now {item.camera_status}, {item.holder}.",
        markup=False,
    )


@rollout_app.command("create")
def rollout_create_command(
    firmware: Annotated[str, typer.Option(help="The firmware version to reach.")],
    reason: ReasonOpt,
    model: Annotated[str | None, typer.Option(help="Only cameras of this model.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Track every camera (of a model) not yet on a firmware version."""
    from bodycam.fleet.recalls import create_rollout

    with open_context() as ctx:
        actor = current_actor(ctx)
        view = run(
            lambda: create_rollout(ctx.sessions, actor, firmware, model=model, reason=reason)
        )
    _show(view, as_json, "Cameras to update and who holds them:")


@rollout_app.command("list")
def rollout_list_command(as_json: JsonOpt = False) -> None:
    """Every firmware rollout with its progress."""
    _list("rollout", as_json)


@rollout_app.command("show")
def rollout_show_command(
    rollout_id: Annotated[str, typer.Argument(help="The rollout's id.")],
    show_all: Annotated[
        bool, typer.Option("--all", help="Every camera, not only pending.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Progress: counts and shares, and the cameras still pending with their holders."""
    from bodycam.fleet.recalls import show_campaign

    with open_context() as ctx:
        actor = current_actor(ctx)
        view = run(
            lambda: show_campaign(
                ctx.sessions, actor, rollout_id, kind="rollout", everything=show_all
            )
        )
    _show(view, as_json, "Cameras:" if show_all else "Cameras pending and who holds them now:")
