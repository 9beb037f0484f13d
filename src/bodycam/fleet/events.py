"""Device events from docks: the dock-log format, its validation, and storing them once.

A dock log is JSON lines: one object per line, blank lines ignored (``docs/fleet.md``
has the format and an example). Each object has ``camera`` (serial), ``event``
(dock, undock, power_on, power_off, battery, record_start, record_stop, upload) and
``at`` (ISO 8601 with a UTC offset); optionally ``dock`` (a known dock id),
``battery`` (0 to 100, required for a battery event), ``firmware`` (the version the
camera reports) and, for an upload, ``sha256`` (the recording's hash, when known).
Any other key is a problem (a misspelt field must not pass silently).

The API (``POST /api/v1/fleet/events``) takes a list of the same objects and applies
the same rules; its ``line`` is the position in the list, from 1.

All or nothing: a file (or list) with any problem stores nothing, and the report lists
each as line, field and reason. An event is identified by the SHA-256 of its canonical
form (every field, the time in UTC): one repeated exactly, in the same batch or a later
one, is counted as a duplicate and stored once. A reported firmware version updates the
camera's inventory record (unless an event seen before reported a later one) and its
rollouts; an upload by a camera under recall is stored and warned about.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.permissions import Permission
from bodycam.compliance.records import Problem
from bodycam.db import transaction
from bodycam.fleet.common import FleetImportError, History, parse_instant
from bodycam.fleet.importing import in_chunks
from bodycam.fleet.models import Camera, DeviceEvent, Dock, EventKind, FleetImport
from bodycam.fleet.recall_uploads import recall_windows
from bodycam.fleet.recalls import sync_rollouts
from bodycam.ids import new_id, rfc3339
from bodycam.storage.interface import file_sha256

__all__ = [
    "FIELDS",
    "MAX_API_EVENTS",
    "EventIn",
    "EventOutcome",
    "import_dock_log",
    "ingest_events",
    "parse_dock_log",
    "parse_item",
]

FIELDS: Final = ("camera", "event", "at", "dock", "battery", "firmware", "sha256")
MAX_API_EVENTS: Final = 10_000
"""The most events one API request may carry."""
_KINDS: Final = tuple(k.value for k in EventKind)
_HEX64: Final = re.compile(r"^[0-9a-f]{64}$")
_MAX_LINE: Final = 1 << 16


@dataclass(frozen=True, slots=True)
class EventIn:
    """One valid event as received (``line``: its file line or list position)."""

    line: int
    serial: str
    kind: str
    at: datetime
    dock: str | None = None
    battery: int | None = None
    firmware: str | None = None
    sha256: str | None = None

    @property
    def key(self) -> str:
        """SHA-256 of the canonical form: equal for the same event, whoever sends it."""
        body = {
            "camera": self.serial,
            "event": self.kind,
            "at": rfc3339(self.at),
            "dock": self.dock,
            "battery": self.battery,
            "firmware": self.firmware,
            "sha256": self.sha256,
        }
        canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class EventOutcome:
    """What was stored, and the report (the JSON ``--json`` prints and the API answers)."""

    import_id: str | None
    report: dict[str, Any]


def _text(item: dict[str, Any], name: str, line: int, limit: int, out: list[Problem]) -> str | None:
    value = item.get(name)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        out.append(Problem(line, name, f"must be a non-empty string, not {json.dumps(value)}"))
        return None
    if len(value.strip()) > limit:
        out.append(Problem(line, name, f"is longer than {limit} characters"))
        return None
    return value.strip()


def parse_item(item: Any, line: int) -> tuple[EventIn | None, list[Problem]]:
    """Check one event object; the event, or None and every problem it has."""
    if not isinstance(item, dict):
        return None, [Problem(line, "line", "is not a JSON object")]
    out: list[Problem] = []
    for name in sorted(set(item) - set(FIELDS)):
        out.append(
            Problem(line, str(name), f"is not a field of a device event ({', '.join(FIELDS)})")
        )
    serial = _text(item, "camera", line, 64, out)
    if serial is None and "camera" not in item:
        out.append(Problem(line, "camera", "is missing"))
    kind = item.get("event")
    if kind is None:
        out.append(Problem(line, "event", f"is missing (one of {', '.join(_KINDS)})"))
    elif kind not in _KINDS:
        out.append(Problem(line, "event", f"{json.dumps(kind)} is not one of {', '.join(_KINDS)}"))
    at: datetime | None = None
    if "at" not in item:
        out.append(Problem(line, "at", "is missing"))
    elif not isinstance(item["at"], str):
        out.append(Problem(line, "at", f"must be a string, not {json.dumps(item['at'])}"))
    else:
        try:
            at = parse_instant(item["at"])
        except ValueError as exc:
            out.append(Problem(line, "at", str(exc)))
    dock = _text(item, "dock", line, 64, out)
    firmware = _text(item, "firmware", line, 40, out)
    battery = item.get("battery")
    if battery is not None and (
        isinstance(battery, bool) or not isinstance(battery, int) or not 0 <= battery <= 100
    ):
        out.append(
            Problem(line, "battery", f"{json.dumps(battery)} is not a whole number 0 to 100")
        )
        battery = None
    if kind == EventKind.BATTERY.value and "battery" not in item:
        out.append(Problem(line, "battery", "is missing; a battery event carries the level"))
    sha = item.get("sha256")
    if sha is not None:
        if kind != EventKind.UPLOAD.value:
            out.append(Problem(line, "sha256", "belongs to upload events only"))
        elif not isinstance(sha, str) or not _HEX64.match(sha.strip().lower()):
            out.append(Problem(line, "sha256", "is not 64 hexadecimal characters"))
        else:
            sha = sha.strip().lower()
    if out or serial is None or at is None:
        return None, out
    return EventIn(line, serial, str(kind), at, dock, battery, firmware, sha), []


def parse_dock_log(path: Path) -> tuple[list[EventIn], list[Problem], int]:
    """The events of a dock log, the problems found, and the number of (non-blank) lines.

    `FleetImportError` when the file cannot be read or is not UTF-8 text.
    """
    events: list[EventIn] = []
    problems: list[Problem] = []
    rows = 0
    try:
        with path.open("r", encoding="utf-8-sig", newline="") as f:
            for number, text in enumerate(f, start=1):
                if not text.strip():
                    continue
                rows += 1
                if len(text) > _MAX_LINE:
                    problems.append(
                        Problem(number, "line", f"is longer than {_MAX_LINE} characters")
                    )
                    continue
                try:
                    item = json.loads(text)
                except json.JSONDecodeError as exc:
                    problems.append(
                        Problem(number, "line", f"is not JSON ({exc.msg} at column {exc.colno})")
                    )
                    continue
                event, found = parse_item(item, number)
                problems.extend(found)
                if event is not None:
                    events.append(event)
    except UnicodeDecodeError as exc:
        raise FleetImportError(
            f"{path.name} is not UTF-8 text (byte {exc.start} of a line cannot be read)."
        ) from None
    except OSError as exc:
        raise FleetImportError(f"{path} cannot be read: {exc.strerror or exc}.") from None
    return events, problems, rows


def import_dock_log(factory: sessionmaker[Session], actor: Actor, path: Path) -> EventOutcome:
    """Store a dock log's events (``fleet:events:ingest``): all or nothing, each once."""
    require(factory, actor, Permission.FLEET_EVENTS_INGEST, "import device events")
    events, problems, rows = parse_dock_log(path)
    return _store(factory, actor, events, problems, rows, "events", path.name, file_sha256(path))


def ingest_events(factory: sessionmaker[Session], actor: Actor, items: list[Any]) -> EventOutcome:
    """Store a list of events sent to the API, under the dock log's rules."""
    require(factory, actor, Permission.FLEET_EVENTS_INGEST, "send device events")
    if len(items) > MAX_API_EVENTS:
        raise FleetImportError(
            f"{len(items)} events in one request; send at most {MAX_API_EVENTS} at a time."
        )
    events: list[EventIn] = []
    problems: list[Problem] = []
    for n, item in enumerate(items, start=1):
        event, found = parse_item(item, n)
        problems.extend(found)
        if event is not None:
            events.append(event)
    digest = hashlib.sha256(json.dumps(items, sort_keys=True, default=str).encode()).hexdigest()
    return _store(factory, actor, events, problems, len(items), "api", "", digest)


def _references(s: Session, events: list[EventIn], problems: list[Problem]) -> dict[str, Camera]:
    serials = sorted({e.serial for e in events})
    cameras = {c.serial: c for c in in_chunks(s, Camera.serial, serials, Camera)}
    docks = set(s.scalars(select(Dock.id)))
    for e in events:
        if e.serial not in cameras:
            problems.append(
                Problem(e.line, "camera", f"there is no camera {e.serial} in the inventory")
            )
        if e.dock is not None and e.dock not in docks:
            problems.append(Problem(e.line, "dock", f"there is no dock {e.dock}"))
    return cameras


def _new_only(s: Session, events: list[EventIn]) -> tuple[list[tuple[EventIn, str]], int]:
    """The events not stored before (first of a repeated one), and how many repeat."""
    keyed: dict[str, EventIn] = {}
    for e in events:
        keyed.setdefault(e.key, e)
    keys = list(keyed)
    stored: set[str] = set()
    for start in range(0, len(keys), 500):
        stored.update(
            s.scalars(select(DeviceEvent.key).where(DeviceEvent.key.in_(keys[start : start + 500])))
        )
    fresh = [(e, k) for k, e in keyed.items() if k not in stored]
    return fresh, len(events) - len(fresh)


def _report(
    source: str, file: str, digest: str, rows: int, problems: list[Problem]
) -> dict[str, Any]:
    return {
        "source": "file" if source == "events" else "api",
        "file": file,
        "sha256": digest,
        "rows": rows,
        "valid": rows - len({p.line for p in problems}),
        "invalid": [p.to_dict() for p in sorted(problems, key=lambda p: p.line)],
        "stored": 0,
        "duplicates": 0,
        "firmware_updates": 0,
        "recalled_uploads": [],
        "warnings": [],
    }


def _store(
    factory: sessionmaker[Session],
    actor: Actor,
    events: list[EventIn],
    problems: list[Problem],
    rows: int,
    kind: str,
    file: str,
    digest: str,
) -> EventOutcome:
    for attempt in range(2):
        try:
            return _store_once(factory, actor, events, list(problems), rows, kind, file, digest)
        except IntegrityError:
            # Another batch stored one of these events between our look-up and our
            # insert (PostgreSQL; SQLite writers take turns). Once more: the look-up
            # now finds it, and it is counted as a duplicate.
            if attempt:
                raise
    raise AssertionError("unreachable")


def _store_once(
    factory: sessionmaker[Session],
    actor: Actor,
    events: list[EventIn],
    problems: list[Problem],
    rows: int,
    kind: str,
    file: str,
    digest: str,
) -> EventOutcome:
    with transaction(factory) as s:
        cameras = _references(s, events, problems)
        report = _report(kind, file, digest, rows, problems)
        if problems:
            n = len({p.line for p in problems})
            what = file or "The request"
            raise FleetImportError(
                f"{what}: {n} invalid event line(s); nothing was stored. Fix them and send "
                "the events again.",
                report | {"imported": False, "import": None},
            )
        batch = FleetImport(id=new_id(), kind=kind, file_name=file[:255], sha256=digest)
        batch.imported_by = actor.user_id
        s.add(batch)
        s.flush()
        fresh, repeated = _new_only(s, events)
        for e, key in fresh:
            s.add(
                DeviceEvent(
                    key=key,
                    camera_id=cameras[e.serial].id,
                    kind=e.kind,
                    at=e.at,
                    dock_id=e.dock,
                    battery_pct=e.battery,
                    firmware=e.firmware,
                    sha256=e.sha256,
                    batch_id=batch.id,
                )
            )
        log = History(s, actor, f"events:{batch.id}")
        report["firmware_updates"] = _firmware(log, cameras, [e for e, _ in fresh])
        flagged = _recalled_uploads(s, cameras, [e for e, _ in fresh])
        report |= {
            "stored": len(fresh),
            "duplicates": repeated,
            "recalled_uploads": flagged,
            "warnings": [
                f"line {f['line']}: camera {f['camera']} is under recall {f['recall']} and "
                f"uploaded at {f['at']}"
                for f in flagged
            ],
            "imported": True,
            "import": batch.id,
        }
        batch.report = report
        s.flush()
        details = {
            k: report[k] for k in ("source", "file", "sha256", "rows", "stored", "duplicates")
        }
        details["warnings"] = len(report["warnings"])
        record(s, actor, AuditAction.FLEET_EVENTS_INGEST, "fleet_import", batch.id, details)
        return EventOutcome(batch.id, report)


def _firmware(log: History, cameras: dict[str, Camera], fresh: list[EventIn]) -> int:
    """Apply the latest firmware each camera reported; how many cameras changed."""
    latest: dict[str, EventIn] = {}
    for e in fresh:
        if e.firmware is not None and (e.serial not in latest or e.at >= latest[e.serial].at):
            latest[e.serial] = e
    changed = 0
    for serial, e in latest.items():
        cam = cameras[serial]
        if cam.firmware_seen_at is not None and e.at < cam.firmware_seen_at:
            continue  # a later report was seen before
        cam.firmware_seen_at = e.at
        if e.firmware != cam.firmware_version:
            log(cam.id, "reported", "firmware_version", cam.firmware_version, e.firmware)
            cam.firmware_version = e.firmware or ""
            sync_rollouts(log, cam)
            changed += 1
    return changed


def _recalled_uploads(
    s: Session, cameras: dict[str, Camera], fresh: list[EventIn]
) -> list[dict[str, Any]]:
    uploads = [e for e in fresh if e.kind == EventKind.UPLOAD.value]
    if not uploads:
        return []
    windows = recall_windows(s, sorted({cameras[e.serial].id for e in uploads}))
    flagged = []
    for e in uploads:
        for recall_id, since, until in windows.get(cameras[e.serial].id, []):
            if e.at >= since and (until is None or e.at < until):
                flagged.append(
                    {
                        "line": e.line,
                        "camera": e.serial,
                        "recall": recall_id,
                        "at": e.at.isoformat(),
                        "sha256": e.sha256,
                    }
                )
    return flagged
