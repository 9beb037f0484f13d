"""``bodycam fleet``: the camera fleet's inventory, docks, device events, reports, recalls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from bodycam.cli_support import current_actor, fail, open_context, out
from bodycam.fleet.cli_common import check_format, emit, problems, run, run_import, when
from bodycam.fleet.recall_cli import recall_app, rollout_app
from bodycam.fleet.report_cli import report_app

fleet_app = typer.Typer(
    help="Camera fleet: inventory, assignments, docks, device events, reports, recalls.",
    no_args_is_help=True,
)
import_app = typer.Typer(
    help="Import the inventory from CSV (all or nothing).", no_args_is_help=True
)
camera_app = typer.Typer(
    help="Cameras: list, show, edit, issue, check out, return.", no_args_is_help=True
)
dock_app = typer.Typer(help="Docking stations.", no_args_is_help=True)
events_app = typer.Typer(help="Device events from docks.", no_args_is_help=True)
fleet_app.add_typer(import_app, name="import")
fleet_app.add_typer(camera_app, name="camera")
fleet_app.add_typer(dock_app, name="dock")
fleet_app.add_typer(events_app, name="events")
fleet_app.add_typer(report_app, name="report")
fleet_app.add_typer(recall_app, name="recall")
fleet_app.add_typer(rollout_app, name="rollout")

JsonOpt = Annotated[bool, typer.Option("--json", help="Print the report as JSON.")]
FormatOpt = Annotated[str, typer.Option("--format", help="table, csv or json.")]


def _show_import(report: dict[str, Any]) -> None:
    out.print(
        f"{report['file']}: {report['rows']} rows, {report['valid']} valid, "
        f"{len(report['invalid'])} problem(s).",
        markup=False,
    )
    if report.get("imported"):
        out.print(
            f"Stored as import {report['import']}: {report['created']} new, "
            f"{report['updated']} updated, {report['unchanged']} unchanged.",
            markup=False,
        )
    problems(report)


def _import(kind: str, path: Path, as_json: bool) -> None:
    from bodycam.fleet import imports

    fn = {
        "cameras": imports.import_cameras,
        "docks": imports.import_docks,
        "assignments": imports.import_assignments,
    }[kind]
    if not path.is_file():
        fail(f"{path} is not a file.")
    with open_context() as ctx:
        actor = current_actor(ctx)
        outcome = run_import(lambda: fn(ctx.sessions, actor, path), as_json, _show_import)
    if as_json:
        print(json.dumps(outcome.report))
    else:
        _show_import(outcome.report)


@import_app.command("cameras")
def import_cameras_command(
    path: Annotated[Path, typer.Argument(help="CSV: serial, model, battery_lot, ...")],
    as_json: JsonOpt = False,
) -> None:
    """Create or update cameras (docs/fleet.md lists the columns)."""
    _import("cameras", path, as_json)


@import_app.command("docks")
def import_docks_command(
    path: Annotated[Path, typer.Argument(help="CSV: dock, precinct, ports, location.")],
    as_json: JsonOpt = False,
) -> None:
    """Create or update docks."""
    _import("docks", path, as_json)


@import_app.command("assignments")
def import_assignments_command(
    path: Annotated[Path, typer.Argument(help="CSV: serial, badge, kind, start, end, dock.")],
    as_json: JsonOpt = False,
) -> None:
    """Record who held which camera when (personal issues and pool checkouts)."""
    _import("assignments", path, as_json)


@camera_app.command("list")
def camera_list_command(
    status: Annotated[str | None, typer.Option(help="Only this status.")] = None,
    battery_lot: Annotated[str | None, typer.Option(help="Only this battery lot.")] = None,
    model: Annotated[str | None, typer.Option(help="Only this model.")] = None,
    firmware: Annotated[str | None, typer.Option(help="Only this firmware version.")] = None,
    dock: Annotated[str | None, typer.Option(help="Only cameras whose home is this dock.")] = None,
    fmt: FormatOpt = "table",
) -> None:
    """Every camera with its status, battery lot, firmware and holder now."""
    from bodycam.fleet.inventory import list_cameras

    check_format(fmt)
    with open_context() as ctx:
        actor = current_actor(ctx)
        rows = run(
            lambda: list_cameras(
                ctx.sessions,
                actor,
                status=status,
                battery_lot=battery_lot,
                model=model,
                firmware=firmware,
                dock=dock,
            )
        )
    columns = ["serial", "model", "hardware_revision", "battery_lot", "firmware", "status"]
    columns += ["dock", "warranty_end", "holder"]
    emit([r.as_dict() for r in rows], fmt, columns)


@camera_app.command("show")
def camera_show_command(
    serial: Annotated[str, typer.Argument(help="The camera's serial.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """One camera: fields, holder, every assignment, its history and last events."""
    from bodycam.fleet.inventory import camera_detail

    with open_context() as ctx:
        actor = current_actor(ctx)
        detail = run(lambda: camera_detail(ctx.sessions, actor, serial))
    if as_json:
        print(json.dumps(detail.as_dict()))
        return
    c = detail.camera.as_dict()
    for name in ("serial", "model", "hardware_revision", "battery_lot", "firmware", "status"):
        out.print(f"{name:18} {c[name]}", markup=False)
    for name in ("purchase_date", "warranty_end", "dock"):
        out.print(f"{name:18} {c[name] or '-'}", markup=False)
    out.print(f"{'holder':18} {c['holder']['text']}", markup=False)
    out.print("Assignments:", markup=False)
    emit(
        [a.as_dict() for a in detail.assignments],
        "table",
        ["badge", "username", "kind", "dock", "started_at", "ended_at"],
    )
    out.print("History:", markup=False)
    emit(detail.history, "table", ["at", "user", "change", "field", "old", "new", "source"])
    out.print("Last events:", markup=False)
    emit(detail.events, "table", ["at", "event", "dock", "battery", "firmware", "sha256"])


@camera_app.command("set")
def camera_set_command(
    serial: Annotated[str, typer.Argument(help="The camera's serial.")],
    status: Annotated[
        str | None, typer.Option(help="in_service, spare, in_repair or retired.")
    ] = None,
    model: Annotated[str | None, typer.Option()] = None,
    hardware_revision: Annotated[str | None, typer.Option()] = None,
    battery_lot: Annotated[str | None, typer.Option()] = None,
    firmware: Annotated[str | None, typer.Option()] = None,
    purchase_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD.")] = None,
    warranty_end: Annotated[str | None, typer.Option(help="YYYY-MM-DD.")] = None,
    dock: Annotated[str | None, typer.Option(help="Its home dock or pool.")] = None,
) -> None:
    """Change a camera's fields (history kept, audited)."""
    from bodycam.fleet.inventory import update_camera

    given = {
        "status": status,
        "model": model,
        "hardware_revision": hardware_revision,
        "battery_lot": battery_lot,
        "firmware": firmware,
        "purchase_date": purchase_date,
        "warranty_end": warranty_end,
        "dock": dock,
    }
    changes = {k: v for k, v in given.items() if v is not None}
    if not changes:
        fail("Nothing to change: give at least one option (see --help).")
    with open_context() as ctx:
        actor = current_actor(ctx)
        row = run(lambda: update_camera(ctx.sessions, actor, serial, changes))
    out.print(
        f"{row.serial}: {row.model}, lot {row.battery_lot or '-'}, firmware "
        f"{row.firmware or '-'}, {row.status}, {row.holder}",
        markup=False,
    )


def _assign(
    serial: str, officer: str, kind: str, dock: str | None, at: str | None, note: str
) -> None:
    from bodycam.fleet.inventory import assign_camera

    with open_context() as ctx:
        moment = when(at, "at", ctx.settings.timezone)
        actor = current_actor(ctx)
        row = run(
            lambda: assign_camera(
                ctx.sessions, actor, serial, officer, kind=kind, dock=dock, at=moment, note=note
            )
        )
    pool = f" from pool {row.dock}" if kind == "pool" else ""
    out.print(
        f"{row.serial} issued to officer {row.badge} ({row.username}){pool} at "
        f"{row.started_at.isoformat()}.",
        markup=False,
    )


@camera_app.command("issue")
def camera_issue_command(
    serial: Annotated[str, typer.Argument(help="The camera's serial.")],
    officer: Annotated[str, typer.Option(help="Badge of the officer it is issued to.")],
    at: Annotated[str | None, typer.Option(help="When (ISO; default now).")] = None,
    note: Annotated[str, typer.Option(help="A note kept with the assignment.")] = "",
) -> None:
    """Issue a camera to an officer personally."""
    _assign(serial, officer, "personal", None, at, note)


@camera_app.command("checkout")
def camera_checkout_command(
    serial: Annotated[str, typer.Argument(help="The camera's serial.")],
    officer: Annotated[str, typer.Option(help="Badge of the officer taking it.")],
    dock: Annotated[
        str | None, typer.Option(help="The pool (dock) it comes from; default its home dock.")
    ] = None,
    at: Annotated[str | None, typer.Option(help="When (ISO; default now).")] = None,
) -> None:
    """Check a shared-pool camera out to an officer for a shift."""
    _assign(serial, officer, "pool", dock, at, "")


@camera_app.command("return")
def camera_return_command(
    serial: Annotated[str, typer.Argument(help="The camera's serial.")],
    dock: Annotated[str | None, typer.Option(help="Make this dock its home.")] = None,
    at: Annotated[str | None, typer.Option(help="When (ISO; default now).")] = None,
) -> None:
    """End the camera's open assignment (returned to the unit or its pool)."""
    from bodycam.fleet.inventory import return_camera

    with open_context() as ctx:
        moment = when(at, "at", ctx.settings.timezone)
        actor = current_actor(ctx)
        row = run(lambda: return_camera(ctx.sessions, actor, serial, at=moment, dock=dock))
    assert row.ended_at is not None
    out.print(
        f"{row.serial} returned by officer {row.badge} ({row.username}) at "
        f"{row.ended_at.isoformat()}.",
        markup=False,
    )


@dock_app.command("list")
def dock_list_command(fmt: FormatOpt = "table") -> None:
    """Every dock: precinct, location, ports, and the cameras whose home it is."""
    from bodycam.fleet.inventory import list_docks

    check_format(fmt)
    with open_context() as ctx:
        actor = current_actor(ctx)
        rows = run(lambda: list_docks(ctx.sessions, actor))
    emit([r.as_dict() for r in rows], fmt, ["dock", "precinct", "location", "ports", "cameras"])


def _show_events(report: dict[str, Any]) -> None:
    out.print(
        f"{report['file'] or 'request'}: {report['rows']} events, {report['valid']} valid, "
        f"{len(report['invalid'])} problem(s).",
        markup=False,
    )
    if report.get("imported"):
        out.print(
            f"Stored as import {report['import']}: {report['stored']} new, "
            f"{report['duplicates']} already held; {report['firmware_updates']} firmware "
            "update(s).",
            markup=False,
        )
    problems(report)


@events_app.command("import")
def events_import_command(
    path: Annotated[Path, typer.Argument(help="A dock log (JSON lines, docs/fleet.md).")],
    as_json: JsonOpt = False,
) -> None:
    """Store a dock log's events: all or nothing; an event already held is not stored again."""
    from bodycam.fleet.events import import_dock_log

    if not path.is_file():
        fail(f"{path} is not a file.")
    with open_context() as ctx:
        actor = current_actor(ctx)
        outcome = run_import(
            lambda: import_dock_log(ctx.sessions, actor, path), as_json, _show_events
        )
    if as_json:
        print(json.dumps(outcome.report))
    else:
        _show_events(outcome.report)
