"""A synthetic department for ``make demo``: people, cameras, clips and activity.

Same seed, same department: two precincts, four squads, about 40 officers with
cameras, a few hundred short real H.264/AAC clips spread over the last 30 days,
ingested as if uploaded from each officer's dock, then a little realistic
activity (views, an edit, a download) so audit trails have content. Running it
again reuses what exists.
"""

from __future__ import annotations

import csv
import os
import random
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy import func, select

from bodycam.audit.service import seal
from bodycam.auth import service as auth_service
from bodycam.auth.actor import Actor
from bodycam.auth.models import User
from bodycam.auth.service import actor_for
from bodycam.config import Settings
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.evidence import service as ev
from bodycam.evidence.models import Recording, RecordingCase
from bodycam.evidence.service import EvidenceError, SearchQuery, Vault
from bodycam.synth.video import make_clip
from bodycam.system_cli import initialise
from bodycam.verify import verify_all

DEMO_PASSWORD = "bodycam-demo-2026"  # the documented demo sign-in  # nosec B105
DEMO_AGENCY = "Demo City Police Department"
DEMO_TZ = ZoneInfo("America/New_York")
console = Console(stderr=True)

PRECINCTS = ("North", "South")
CATEGORIES = [
    ("Traffic Stop", "normal"),
    ("Arrest", "normal"),
    ("Call for Service", "normal"),
    ("Use of Force", "normal"),
    ("Domestic Violence", "restricted"),
    ("Sexual Assault", "confidential"),
]
CATEGORY_WEIGHTS = [35, 15, 35, 5, 7, 3]
TAGS = ["felony", "misdemeanor", "dui", "juvenile", "vehicle", "interview", "search", "k9"]
FIRST = [
    "Alex",
    "Sam",
    "Jordan",
    "Taylor",
    "Morgan",
    "Casey",
    "Riley",
    "Jamie",
    "Avery",
    "Quinn",
    "Drew",
    "Rowan",
    "Harper",
    "Logan",
    "Kendall",
    "Reese",
    "Dakota",
    "Emerson",
    "Parker",
    "Skyler",
]
LAST = [
    "Garcia",
    "Smith",
    "Nguyen",
    "Johnson",
    "Okafor",
    "Brown",
    "Kowalski",
    "Davis",
    "Rossi",
    "Martinez",
    "Kim",
    "Patel",
    "Walker",
    "Lopez",
    "Hughes",
    "Moreno",
    "Clark",
    "Ali",
]


@dataclass(frozen=True)
class ClipSpec:
    """One clip to record."""

    index: int
    badge: str
    camera: str
    category: str
    start: datetime
    seconds: float
    tags: tuple[str, ...]
    case: str | None


def _make(spec_path: tuple[ClipSpec, Path]) -> Path:
    spec, path = spec_path
    if not path.exists():
        make_clip(
            path,
            seconds=spec.seconds,
            width=320,
            height=180,
            fps=15,
            seed=spec.index,
            creation_time=spec.start,
            label=f"{spec.badge} {spec.camera}",
        )
    return path


def plan(officers: int, clips: int, seed: int) -> tuple[list[dict[str, str]], list[ClipSpec]]:
    """Deterministic people and clip plan for ``seed``."""
    rnd = random.Random(seed)  # noqa: S311 - a reproducible plan, not a secret  # nosec B311
    people: list[dict[str, str]] = []
    squads = [f"{p}-{n}" for p in PRECINCTS for n in ("A", "B")]
    for i in range(officers):
        squad = squads[i % len(squads)]
        name = f"{rnd.choice(FIRST)} {rnd.choice(LAST)}"
        people.append(
            {
                "username": f"officer{i + 1:02d}",
                "badge": f"{4100 + i}",
                "squad": squad,
                "precinct": squad.split("-")[0],
                "name": name,
                "camera": f"BWC-{rnd.randrange(10**6, 10**7)}",
            }
        )
    end = datetime(2026, 11, 20, tzinfo=UTC)
    specs = []
    for i in range(clips):
        p = people[rnd.randrange(len(people))]
        day = end - timedelta(days=rnd.randrange(30))
        start = day.replace(
            hour=rnd.choice([7, 9, 11, 14, 16, 19, 22]),
            minute=rnd.randrange(60),
            second=rnd.randrange(60),
        )
        cat = rnd.choices([c for c, _ in CATEGORIES], CATEGORY_WEIGHTS)[0]
        tags = tuple(sorted(set(rnd.sample(TAGS, rnd.randrange(3)))))
        case = f"26-{rnd.randrange(10000, 99999)}" if rnd.random() < 0.4 else None
        specs.append(
            ClipSpec(
                i, p["badge"], p["camera"], cat, start, rnd.choice([2.0, 3.0, 4.0]), tags, case
            )
        )
    return people, specs


def build_demo(home: Path, *, officers: int = 40, clips: int = 300, seed: int = 7) -> None:
    """Build (or reuse) the demo department under ``home`` and print the logins."""
    home = home.resolve()
    settings = Settings(home=home, agency_name=DEMO_AGENCY)
    initialise(settings)
    ctx = Context.from_settings(settings)
    try:
        _populate(ctx, home, officers, clips, seed)
        _activity(ctx)
        _redaction_example(ctx, home)
        _retention(ctx)
        _dispatch(ctx, home, officers, clips, seed)
        _supervisor_reviews(ctx)
        _disclosure_requests(ctx)
        _fleet(ctx, home, seed)
        _evaluation(ctx, home, seed)
        _policy(ctx)
        seal(ctx.sessions, ctx.signer)
        admin = _user(ctx, "admin")
        auditor = _user(ctx, "auditor")
        checker = auditor or admin
        assert checker is not None
        report = verify_all(ctx, actor_for(checker, "job"))
        seal(ctx.sessions, ctx.signer)
        log = report.log
        assert log is not None
        console.print(
            f"verify: {'OK' if report.ok else 'FAILED'}; {report.recordings} recordings and "
            f"{report.copies} redacted copies re-hashed, {log.records} audit records under "
            f"{log.checkpoints} checkpoints"
        )
    finally:
        ctx.close()
    _print_logins(home)


def _user(ctx: Context, name: str) -> User | None:
    with ctx.sessions() as s:
        return auth_service.get_user(s, name)


def _populate(ctx: Context, home: Path, officers: int, clips: int, seed: int) -> None:
    people, specs = plan(officers, clips, seed)
    with transaction(ctx.sessions) as s:
        if auth_service.get_user(s, "admin") is None:
            admin = auth_service.create_user(
                s, None, "admin", "administrator", password=DEMO_PASSWORD, display_name="Ada Admin"
            )
            by = actor_for(admin, "demo")
            staff: list[tuple[str, str, str, str | None]] = [
                ("clerk", "records_clerk", "Rita Records", None),
                ("auditor", "auditor", "Ian Inspector", None),
                ("equipment", "equipment", "Eli Equipment", None),
                ("analyst", "analyst", "Ana Analyst", None),
                ("defense", "external", "Dee Defense", None),
            ]
            for squad_name in sorted({p["squad"] for p in people}):
                staff.append(
                    (f"sgt-{squad_name.lower()}", "supervisor", f"Sgt. {squad_name}", squad_name)
                )
            for username, role, name, squad in staff:
                auth_service.create_user(
                    s,
                    by,
                    username,
                    role,
                    password=DEMO_PASSWORD,
                    display_name=name,
                    squad=squad,
                    precinct=squad.split("-")[0] if squad else "",
                )
            for p in people:
                auth_service.create_user(
                    s,
                    by,
                    p["username"],
                    "officer",
                    password=DEMO_PASSWORD,
                    badge=p["badge"],
                    squad=p["squad"],
                    display_name=p["name"],
                    precinct=p["precinct"],
                )
            for name, access in CATEGORIES:
                ev.ensure_category(s, name, access)
        held = s.scalar(select(func.count()).select_from(Recording)) or 0
    if held >= clips:
        console.print(f"demo: reusing {held} recordings in {home}")
        return
    clip_dir = home / "clips"
    clip_dir.mkdir(parents=True, exist_ok=True)
    vault = Vault.from_context(ctx)
    with ctx.sessions() as s:
        by_badge = {u.badge: u for u in s.scalars(select(User).where(User.badge.is_not(None)))}
    jobs = [(sp, clip_dir / f"clip-{sp.index:04d}.mp4") for sp in specs]
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeRemainingColumn(),
    )
    with (
        Progress(*columns, console=console) as bar,
        ProcessPoolExecutor(os.cpu_count() or 2) as pool,
    ):
        t = bar.add_task("recording and uploading clips", total=len(jobs))
        for (sp, _), path in zip(jobs, pool.map(_make, jobs, chunksize=4), strict=True):
            officer = by_badge[sp.badge]
            ev.ingest_file(
                vault,
                actor_for(officer, "dock"),
                path,
                officer_badge=sp.badge,
                camera_serial=sp.camera,
                category=sp.category,
                tags=sp.tags,
                cases=[sp.case] if sp.case else (),
                recorded_start=sp.start,
                title=f"{sp.category} {sp.start.astimezone(DEMO_TZ):%Y-%m-%d %H:%M}",
            )
            bar.advance(t)


def _activity(ctx: Context) -> None:
    """A little realistic access so trails and the audit log have content."""
    vault = Vault.from_context(ctx)
    sgt, clerk = _user(ctx, "sgt-north-a"), _user(ctx, "clerk")
    if sgt is None or clerk is None:
        return
    with ctx.sessions() as s:
        if s.scalar(select(func.count()).select_from(Recording)) == 0:
            return
    sgt_a, clerk_a = actor_for(sgt, "web", "10.20.0.14"), actor_for(clerk, "web", "10.20.0.31")
    page = ev.search(vault, sgt_a, SearchQuery(per_page=5))
    for r in page.items[:3]:
        ev.view(vault, sgt_a, r.id)
    if page.items:
        first = page.items[0]
        if first.notes == "":
            ev.edit(
                vault,
                sgt_a,
                first.id,
                {
                    "notes": "Reviewed at squad briefing.",
                    "tags": [t.tag for t in first.tags] + ["reviewed"],
                },
            )
        _, _, chunks = ev.open_stream(vault, clerk_a, first.id, None, download=True)
        for _ in chunks:
            pass


def _redaction_example(ctx: Context, home: Path) -> None:
    """A clip with two moving faces: redacted automatically, and reviewed in the vault."""
    folder = home / "redaction"
    before, after = folder / "faces.mp4", folder / "faces-redacted.mp4"
    try:  # the face image ships in scikit-image, a development dependency
        from bodycam.redaction.faceclip import FaceClip, Walker
    except ImportError as exc:
        console.print(f"demo: skipping the redaction example ({exc})")
        return
    from bodycam.redaction.engine import RedactionError, redact_video

    folder.mkdir(parents=True, exist_ok=True)
    clip = FaceClip(
        width=640,
        height=360,
        fps=15,
        seconds=4.0,
        walkers=[
            Walker(start=(0.15, 0.3), velocity=(0.015, 0.0), height=0.45),
            Walker(start=(0.75, 0.55), velocity=(-0.01, 0.01), height=0.35, mirror=True),
        ],
        shake=2.0,
        occluder=True,
    )
    try:
        if not before.exists():
            clip.write(before)
        if not after.exists():
            report = redact_video(before, after)
            console.print(
                f"demo: redaction example {after} ({report.frames} frames, "
                f"{len(report.tracks)} face tracks, audio {report.audio}); original {before}"
            )
        _reviewed_redaction(ctx, before)
    except (RedactionError, EvidenceError, ImportError, OSError) as exc:
        console.print(f"demo: the redaction example failed: {exc}")


def _reviewed_redaction(ctx: Context, clip: Path) -> None:
    """The clerk's workflow on the clip as a recording: keep one face, QC, accept, approve."""
    from bodycam.redaction import projects

    clerk = _user(ctx, "clerk")
    with ctx.sessions() as s:
        officer = s.scalars(
            select(User).where(User.badge.is_not(None)).order_by(User.badge)
        ).first()
    if clerk is None or officer is None or officer.badge is None:
        return
    vault = Vault.from_context(ctx)
    actor = actor_for(clerk, "web", "10.20.0.31")
    rec = ev.ingest_file(vault, actor, clip, officer_badge=officer.badge, title="Redaction demo")
    if projects.projects_of(vault, actor, rec.id):
        return
    view = projects.detect(vault, actor, rec.id)
    if not view.tracks:
        return
    kept = view.tracks[0].track_id
    projects.decide_track(
        vault,
        actor,
        view.project.id,
        kept,
        include=False,
        reason="officer",
        note="the officer on the left, kept visible",
    )
    copy = projects.render(vault, actor, view.project.id)
    for finding in copy.open_findings:
        projects.accept_finding(vault, actor, copy.copy.id, finding.number, "officer kept visible")
    projects.approve(vault, actor, copy.copy.id, "demo release")
    console.print(
        f"demo: redaction project {view.project.id} on recording {rec.id}: "
        f"{len(view.tracks)} tracks, track {kept} kept visible; copy {copy.copy.id} "
        f"({len(copy.findings)} QC finding(s) accepted) approved"
    )


DEMO_SCHEDULE = """\
# Demo schedule: short periods so that the 30 days of demo footage show a queue.
[categories."Uncategorized"]
retain = "14 days"

[categories."Call for Service"]
retain = "21 days"

[categories."Traffic Stop"]
retain = "90 days"

[categories."Arrest"]
retain = "3 years"

[categories."Use of Force"]
retain = "until deleted"

[categories."Domestic Violence"]
retain = "10 years"
access_class = "restricted"

[categories."Sexual Assault"]
retain = "until deleted"
access_class = "confidential"
"""


def _retention(ctx: Context) -> None:
    """The schedule in force, one case on legal hold, and the deletion queue it gives."""
    from bodycam.retention import cases
    from bodycam.retention import service as retention

    admin, clerk = _user(ctx, "admin"), _user(ctx, "clerk")
    if admin is None or clerk is None or retention.current_schedule(ctx.sessions) is not None:
        return
    change = retention.import_schedule(
        ctx.sessions, actor_for(admin, "cli"), DEMO_SCHEDULE, note="demo schedule"
    )
    with ctx.sessions() as s:
        numbers = list(
            s.scalars(
                select(RecordingCase.case_number)
                .distinct()
                .order_by(RecordingCase.case_number)
                .limit(2)
            )
        )
        first = s.scalars(
            select(Recording).order_by(Recording.recorded_start, Recording.id).limit(1)
        ).first()
        officer = s.get(User, first.officer_id) if first else None
    by_clerk = actor_for(clerk, "web", "10.20.0.31")
    case = numbers[0] if numbers else None
    if case is not None:
        retention.place_hold(
            ctx.sessions,
            by_clerk,
            case=case,
            reason_type="litigation",
            reason="Notice of claim, demo",
        )
    if len(numbers) > 1:  # an open investigation holds its footage by itself
        cases.open_case(ctx.sessions, by_clerk, numbers[1], "Robbery investigation (demo)")
    if first is not None and officer is not None and officer.badge:
        day = first.recorded_start
        retention.place_hold(
            ctx.sessions,
            by_clerk,
            query=retention.HoldQuery(
                officer_badge=officer.badge, start_from=day, start_to=day + timedelta(days=7)
            ),
            reason_type="complaint",
            reason="Complaint IA-2026-031 (demo): the officer's first week",
        )
    queue = retention.refresh_queue(ctx.sessions)
    console.print(
        f"demo: retention schedule v{change.version} in force; case {case} on legal hold, "
        f"case {numbers[1] if len(numbers) > 1 else '-'} open (held while open), one query "
        f"hold; {len(change.queue.queued) + len(queue.queued)} recording(s) in the deletion "
        "queue for review (bodycam --as clerk retention run)"
    )


DEMO_RULES = """\
# Demo recording rules: every call requires recording, from arrival until clear.
[[policy]]
version = "demo-2026"
effective_from = 2020-01-01
exclude_dispositions = ["GONE ON ARRIVAL"]
start_grace_minutes = 2
end_grace_minutes = 2
gap_grace_minutes = 1
self_initiated_buffer_minutes = 5
"""

CALL_TYPES = {
    "Traffic Stop": "TRAFFIC STOP",
    "Arrest": "WARRANT ARREST",
    "Call for Service": "DISTURBANCE",
    "Use of Force": "FIGHT IN PROGRESS",
    "Domestic Violence": "DOMESTIC DISTURBANCE",
    "Sexual Assault": "SEXUAL ASSAULT REPORT",
}


def _dispatch(ctx: Context, home: Path, officers: int, clips: int, seed: int) -> None:
    """Dispatch data for the department: one event per clip, and some never recorded."""
    from bodycam.compliance.cad import detect_preset
    from bodycam.compliance.mapping import GENERIC_COLUMNS
    from bodycam.compliance.matching_service import run_matching
    from bodycam.compliance.models import CadImportBatch
    from bodycam.compliance.rules import Rules
    from bodycam.compliance.service import import_cad

    admin = _user(ctx, "admin")
    with ctx.sessions() as s:
        done = s.scalar(select(func.count()).select_from(CadImportBatch))
    if admin is None or done:
        return
    people, specs = plan(officers, clips, seed)
    rnd = random.Random(seed + 1)  # noqa: S311 - reproducible demo data  # nosec B311
    header = list(GENERIC_COLUMNS)
    rows = []

    def stamp(t: datetime) -> str:
        return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")

    precinct_of = {p["badge"]: p.get("precinct", "") for p in people}
    for n, spec in enumerate(specs):
        # The demo's clips last seconds, so the calls are short too: most recorded from
        # arrival to clear within the two-minute graces, some started late or cut short.
        late = rnd.random() < 0.15
        arrive = spec.start - timedelta(
            seconds=rnd.randrange(240, 600) if late else rnd.randrange(0, 60)
        )
        cut_short = rnd.random() < 0.1
        clear = spec.start + timedelta(
            seconds=spec.seconds + (rnd.randrange(300, 900) if cut_short else rnd.randrange(0, 60))
        )
        self_init = spec.category == "Traffic Stop"
        created = arrive - timedelta(minutes=0 if self_init else rnd.randrange(4, 15))
        rows.append(
            [
                f"D26-{10000 + n}",
                CALL_TYPES[spec.category],
                rnd.choice("1234"),
                "Y" if self_init else "N",
                precinct_of.get(spec.badge, ""),
                f"{rnd.randrange(1, 999)} Main St",
                "REPORT",
                stamp(created),
                spec.badge,
                stamp(created + timedelta(minutes=0 if self_init else 1)),
                stamp(arrive),
                stamp(clear),
            ]
        )
    for n in range(len(specs) // 5):  # events no recording covers
        spec = rnd.choice(specs)
        created = spec.start + timedelta(hours=rnd.randrange(2, 8))
        rows.append(
            [
                f"D26-{20000 + n}",
                "SUSPICIOUS PERSON",
                "3",
                "N",
                precinct_of.get(spec.badge, ""),
                f"{rnd.randrange(1, 999)} Oak Ave",
                "GONE ON ARRIVAL" if n % 2 else "REPORT",
                stamp(created),
                spec.badge,
                stamp(created + timedelta(minutes=2)),
                stamp(created + timedelta(minutes=9)),
                stamp(created + timedelta(minutes=25)),
            ]
        )
    folder = home / "dispatch"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "cad-export.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    outcome = import_cad(ctx.sessions, actor_for(admin, "cli"), path, detect_preset(path))
    r = outcome.report
    console.print(
        f"demo: dispatch data {path}: {r['events']} events, {r['assignments']} officer "
        f"assignments ({r['matched']} matched to officers)"
    )
    rules_path = folder / "recording-rules.toml"
    rules_path.write_text(DEMO_RULES, encoding="utf-8")
    counts = run_matching(ctx.sessions, actor_for(admin, "cli"), Rules.from_toml(DEMO_RULES))
    verdicts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    console.print(f"demo: compliance under {rules_path.name}: {verdicts}")


def _supervisor_reviews(ctx: Context) -> None:
    """This month's review sample, with a few reviews completed and one skipped."""
    from collections import Counter

    from bodycam.compliance import review, review_report
    from bodycam.compliance.review_models import CHECKLIST

    admin, north, south = (_user(ctx, n) for n in ("admin", "sgt-north-a", "sgt-south-a"))
    tz = ctx.settings.timezone
    with ctx.sessions() as s:
        months = Counter(
            review.cycle_of(start, tz).name for start in s.scalars(select(Recording.recorded_start))
        )
    if admin is None or north is None or south is None or not months:
        return
    cycle = months.most_common(1)[0][0]  # the demo's "current" month: most footage is in it
    outcome = review.sample_cycle(
        ctx.sessions,
        actor_for(admin, "cli"),
        cycle,
        seed=review.sampling_seed(ctx.settings),
        tz=tz,
    )
    clear = dict.fromkeys(CHECKLIST, "no") | {"professionalism": "ok"}
    plans: list[tuple[User, list[dict[str, str] | str]]] = [
        (
            north,
            [
                clear | {"late_activation": "yes", "training_need": "yes"},
                clear,
                "Camera pointed at the dashboard throughout; nothing of the contact is visible.",
            ],
        ),
        (south, [clear | {"commendation": "yes"}]),
    ]
    for sgt, answers in plans:
        actor = actor_for(sgt, "web", "10.20.0.14")
        pending = review.list_reviews(ctx.sessions, actor, cycle=cycle, mine=True)
        if any(r.review.status != "pending" for r in pending):
            continue  # reviewed in an earlier build
        for row, answer in zip(pending, answers, strict=False):
            if isinstance(answer, str):
                review.skip_review(ctx.sessions, actor, row.review.id, answer)
            else:
                notes = "Good rapport; explained the stop clearly." if answer is clear else ""
                review.complete_review(ctx.sessions, actor, row.review.id, answer, notes=notes)
    by_admin = actor_for(admin, "cli")
    total = review_report.review_report(ctx.sessions, by_admin, cycle, tz=tz).lines[-1]
    console.print(
        f"demo: supervisor review {cycle}: {len(outcome.created)} recording(s) drawn now, "
        f"{total.assigned} in all; {total.completed} completed, {total.skipped} skipped, "
        f"{total.pending} pending (bodycam --as sgt-north-a compliance review list --mine)"
    )


def _disclosure_requests(ctx: Context) -> None:
    """Four public-records requests on the New York clock: one late, one on the
    critical-incident track, one released in part, one denied with its appeal pending."""
    from typing import Any

    from bodycam.compliance.models import DispatchEvent
    from bodycam.disclosure import appeals, footage, requests, workflow
    from bodycam.disclosure.models import DisclosureRequest
    from bodycam.disclosure.search import search_footage
    from bodycam.evidence.models import Category

    clerk = _user(ctx, "clerk")
    with ctx.sessions() as s:
        done = s.scalar(select(func.count()).select_from(DisclosureRequest))
        recs = list(  # what the records clerk may see (not the confidential categories)
            s.scalars(
                select(Recording)
                .join(Category, Category.id == Recording.category_id)
                .where(Category.access_class != "confidential")
                .order_by(Recording.recorded_start, Recording.id)
            )
        )
        force = s.scalars(
            select(Recording)
            .join(Category, Category.id == Recording.category_id)
            .where(Category.name == "Use of Force")
            .order_by(Recording.recorded_start.desc())
            .limit(1)
        ).first()
        badges = {u.id: u.badge for u in s.scalars(select(User).where(User.badge.is_not(None)))}
        events = list(
            s.scalars(
                select(DispatchEvent.event_id)
                .where(DispatchEvent.event_id.like("D26-1%"))
                .order_by(DispatchEvent.created_at)
                .limit(2)
            )
        )
    if recs:  # the department's month of footage (not the redaction example's clip)
        recs = [r for r in recs if r.recorded_start >= recs[-1].recorded_start - timedelta(31)]
    if clerk is None or done or len(recs) < 6:
        return
    by = actor_for(clerk, "web", "10.20.0.31")
    vault = Vault.from_context(ctx)
    day = timedelta(days=1)

    def new(received: datetime, **kw: Any) -> str:
        view = requests.create_request(
            ctx.sessions,
            by,
            jurisdiction="US-NY",
            received=received,
            now=received,
            **kw,
        )
        return view.number

    def steps(number: str, start: datetime, *names: str, **kw: str) -> None:
        for i, name in enumerate(names, 1):
            workflow.change_status(ctx.sessions, by, number, name, now=start + i * day, **kw)

    # Late: a request for the first days' footage, searched but never acknowledged.
    first = recs[0]
    got = first.recorded_start + day
    late = new(
        got,
        requester_name="Jordan Avery",
        requester_type="public",
        requester_contact="jordan.avery@example.org",
        description="All body-camera video of the call on the first evening of the month",
        events=events[:1],
        range_start=first.recorded_start - timedelta(hours=1),
        range_end=first.recorded_start + timedelta(hours=2),
    )
    found = search_footage(vault, by, late)
    if found.candidates:
        footage.attach(vault, by, late, [c.recording_id for c in found.candidates[:3]], now=got)
    # Critical incident: a use of force, released within 30 calendar days by policy.
    critical = ""
    if force is not None:
        got = force.recorded_start + 2 * day
        critical = new(
            got,
            requester_name="Metro Daily News",
            requester_type="media",
            requester_contact="newsdesk@example.com",
            description="Video of the use of force reported in the news",
            range_start=force.recorded_start,
            range_end=force.recorded_end + timedelta(minutes=30),
            officers=[b for b in [badges.get(force.officer_id)] if b],
            critical_incident=True,
            incident_at=force.recorded_start,
        )
        footage.attach(vault, by, critical, [force.id], now=got)
        steps(critical, got, "acknowledged", "searching", "redacting")
    # Released in part: one officer's footage of one morning, faces of bystanders blurred.
    pick = recs[len(recs) // 5]
    same = [
        r
        for r in recs
        if r.officer_id == pick.officer_id
        and abs((r.recorded_start - pick.recorded_start).total_seconds()) < 86400
    ][:3]
    got = pick.recorded_start + 3 * day
    released = new(
        got,
        requester_name="Sam Rivera",
        requester_type="subject",
        requester_contact="+1 555 0142",
        description="My traffic stop and the search of my car",
        officers=[b for b in [badges.get(pick.officer_id)] if b],
        range_start=pick.recorded_start - timedelta(hours=2),
        range_end=pick.recorded_start + timedelta(hours=2),
    )
    footage.attach(vault, by, released, [r.id for r in same], now=got)
    steps(released, got, "acknowledged", "searching", "redacting", "review")
    _demo_release(ctx, by, released, got + 9 * day)
    steps(
        released,
        got + 9 * day,
        "released_partial",
        exemption="N.Y. Pub. Off. Law 87(2)(b): bystanders' faces and a licence plate blurred",
    )
    # Denied, appealed: footage of an open investigation.
    pick = recs[len(recs) // 2]
    got = pick.recorded_start + day
    denied = new(
        got,
        requester_name="Lee Counsel, Esq.",
        requester_type="attorney",
        description="Footage of my client's arrest",
        events=events[1:2],
        location="Main St",
    )
    footage.attach(vault, by, denied, [pick.id], now=got)
    steps(denied, got, "acknowledged", "searching")
    steps(
        denied,
        got + 2 * day,
        "denied",
        exemption="N.Y. Pub. Off. Law 87(2)(e)(i): would interfere with an open investigation",
    )
    appeals.file_appeal(
        ctx.sessions, by, denied, "The investigation is closed; the arrest was public."
    )
    late_now = [v.number for v in requests.list_requests(ctx.sessions, by, late=True)]
    console.print(
        f"demo: public-records requests {late} (late: {', '.join(late_now) or 'none'}), "
        f"{critical or '-'} (critical incident), {released} (released in part), {denied} "
        "(denied, appeal pending) (bodycam --as clerk disclosure request list)"
    )


def _demo_release(ctx: Context, by: Actor, number: str, when: datetime) -> None:
    """A signed release package of the request in review: the demo's approved redacted copy
    (the redaction example), attached to it first; the request's other footage is withheld."""
    from bodycam.disclosure import footage, releases
    from bodycam.disclosure.errors import DisclosureError
    from bodycam.redaction.models import CopyStatus, RedactedCopy

    with ctx.sessions() as s:
        copy = s.scalars(
            select(RedactedCopy)
            .where(RedactedCopy.status == CopyStatus.APPROVED.value)
            .order_by(RedactedCopy.approved_at.desc())
            .limit(1)
        ).first()
    if copy is None:
        return
    try:
        footage.attach(Vault.from_context(ctx), by, number, [copy.recording_id], now=when)
        release = releases.build_release(ctx, by, number, copy_ids=[copy.id], now=when)
    except DisclosureError as exc:
        console.print(f"demo: no release package for {number}: {exc}")
        return
    console.print(
        f"demo: release package {release.id} of {number} (public page /releases; "
        f"bodycam release export {release.id} --out DIR)"
    )


def _fleet(ctx: Context, home: Path, seed: int) -> None:
    """The officers' cameras (two battery lots), a dock per precinct, a month of dock
    logs from the recordings' times, and a battery-lot recall partly worked through."""
    from bodycam.fleet.demo import build_fleet

    equipment = _user(ctx, "equipment")
    if equipment is None:
        return
    built = build_fleet(ctx.sessions, actor_for(equipment, "cli"), home / "fleet", seed)
    if built is not None:
        console.print(
            f"demo: fleet of {built.cameras} cameras and {built.docks} docks, {built.events} "
            f"device events; recall {built.recall_id}: {built.outstanding} camera(s) "
            f"outstanding (bodycam --as equipment fleet recall show {built.recall_id})"
        )


def _policy(ctx: Context) -> None:
    """The example camera policy (bodycam/policy/default.toml) applied as version 1."""
    from bodycam.policy.cli import DEFAULT_POLICY
    from bodycam.policy.service import apply_policy, list_versions

    admin = _user(ctx, "admin")
    if admin is None or list_versions(ctx.sessions):
        return
    applied = apply_policy(
        ctx.sessions,
        actor_for(admin, "cli"),
        DEFAULT_POLICY.read_text(encoding="utf-8"),
        file=str(DEFAULT_POLICY),
        base_dir=DEFAULT_POLICY.parent,
        officer_sees_own=ctx.settings.officer_sees_own,
        note="the example policy shipped with bodycam",
    )
    console.print(
        f"demo: camera policy version {applied.version} ({applied.label}) in force, published "
        "at /policy (bodycam policy show)"
    )


def _evaluation(ctx: Context, home: Path, seed: int) -> None:
    """A finished program evaluation for the analyst: a synthetic randomized pilot."""
    from bodycam.evaluation.demo import build_evaluation

    analyst = _user(ctx, "analyst")
    if analyst is None:
        return
    view = build_evaluation(ctx, actor_for(analyst, "cli"), home / "evaluation-demo", seed)
    if view is not None:
        console.print(
            f"demo: program evaluation {view.id} ({view.status}) of a synthetic pilot, at "
            f"/evaluation/{view.id} (files in {home / 'evaluation-demo'})"
        )


def _print_logins(home: Path) -> None:
    rows = [
        ("administrator", "admin"),
        ("records clerk", "clerk"),
        ("auditor / internal affairs", "auditor"),
        ("supervisor (North-A)", "sgt-north-a"),
        ("officer", "officer01"),
        ("equipment unit", "equipment"),
        ("analyst", "analyst"),
        ("external (defense)", "defense"),
    ]
    print(f"\nDemo department ready in {home}. Sign in at http://127.0.0.1:8000 with:")
    for role, user in rows:
        print(f"  {role:28} {user:14} password {DEMO_PASSWORD}")
    print(f"CLI: BODYCAM_HOME={home} .venv/bin/bodycam --as clerk recordings list\n")
