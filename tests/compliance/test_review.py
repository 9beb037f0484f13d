"""Supervisor review: reproducible weighted samples, the checklist, permissions, the report."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bodycam.audit.models import AuditRecord
from bodycam.auth.actor import PermissionDenied
from bodycam.auth.models import User
from bodycam.auth.service import create_user
from bodycam.compliance.models import (
    CadImportBatch,
    ComplianceResult,
    DispatchAssignment,
    DispatchEvent,
)
from bodycam.compliance.review import (
    ReviewError,
    ReviewNotFound,
    complete_review,
    cycle_of,
    list_reviews,
    officer_seed,
    parse_cycle,
    rank,
    sample_cycle,
    show_review,
    skip_review,
)
from bodycam.compliance.review_models import SupervisorReview
from bodycam.compliance.review_report import review_report
from bodycam.db import transaction
from bodycam.evidence.models import Category, Recording
from bodycam.evidence.service import ensure_category

TZ = "America/New_York"
SEED = "test-deployment-seed"
NOV = datetime(2026, 11, 10, 15, 0, tzinfo=UTC)
ALL_CLEAR = {
    "late_activation": "no",
    "early_deactivation": "no",
    "muted": "no",
    "obstructed": "no",
    "wrong_category": "no",
    "professionalism": "ok",
    "training_need": "no",
    "commendation": "no",
}
_n = iter(range(100_000))


def _recording(ctx, officer: User, start: datetime, category: str = "Traffic Stop") -> str:
    """A recording row (reviews need no video bytes)."""
    n = next(_n)
    with transaction(ctx.sessions) as s:
        cat = ensure_category(s, category)
        rec = Recording(
            sha256=hashlib.sha256(f"review-{n}".encode()).hexdigest(),
            size_bytes=1,
            original_filename=f"r{n}.mp4",
            officer_id=officer.id,
            category_id=cat.id,
            title=f"Stop {n}",
            recorded_start=start,
            recorded_end=start + timedelta(minutes=5),
            ingested_by=officer.id,
            container="mp4",
            video_codec="h264",
            duration_s=300.0,
            width=640,
            height=360,
            fps=30.0,
            has_audio=True,
            frame_count=9000,
        )
        s.add(rec)
        s.flush()
        return rec.id


def _link_required(ctx, officer: User, recordings: list[str], status: str = "recorded") -> None:
    """Verdicts of required officer-events that matching linked to ``recordings``."""
    with transaction(ctx.sessions) as s:
        batch = CadImportBatch(
            file_name="cad.csv", sha256="0" * 64, mapping="generic", rows=1, report={},
            imported_by=officer.id,
        )  # fmt: skip
        s.add(batch)
        s.flush()
        for rid in recordings:
            event = f"E-{next(_n)}"
            s.add(DispatchEvent(event_id=event, created_at=NOV, batch_id=batch.id))
            s.flush()
            a = DispatchAssignment(event_id=event, badge=officer.badge or "", officer_id=officer.id)
            s.add(a)
            s.flush()
            s.add(
                ComplianceResult(
                    assignment_id=a.id,
                    event_id=event,
                    officer_id=officer.id,
                    status=status,
                    recordings=[rid],
                )
            )


def _reviews(ctx, **where) -> list[SupervisorReview]:
    with ctx.sessions() as s:
        stmt = select(SupervisorReview).order_by(SupervisorReview.id)
        for k, v in where.items():
            stmt = stmt.where(getattr(SupervisorReview, k) == v)
        return list(s.scalars(stmt))


def _audit(ctx, action: str) -> list[AuditRecord]:
    with ctx.sessions() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.action == action)))


def _sample(ctx, dept, cycle: str = "2026-11", **kw):
    return sample_cycle(ctx.sessions, dept.actor("admin"), cycle, seed=SEED, tz=TZ, **kw)


def test_cycles_are_months_or_iso_weeks_in_the_agency_time_zone():
    nov = parse_cycle("2026-11", TZ)
    assert nov.starts_at == datetime(2026, 11, 1, 4, tzinfo=UTC)  # EDT
    assert nov.ends_at == datetime(2026, 12, 1, 5, tzinfo=UTC)  # EST
    assert nov.last_day.isoformat() == "2026-11-30"
    dec = parse_cycle("2026-12", TZ)
    assert dec.end_day.isoformat() == "2027-01-01"
    week = parse_cycle("2026-w47", TZ)
    assert week.name == "2026-W47" and week.first_day.isoformat() == "2026-11-16"
    assert week.last_day.isoformat() == "2026-11-22"
    assert parse_cycle("2026-W53", TZ).first_day.isoformat() == "2026-12-28"
    assert cycle_of(datetime(2026, 12, 1, 3, tzinfo=UTC), TZ).name == "2026-11"  # local Nov 30
    assert cycle_of(NOV, TZ, weekly=True).name == "2026-W46"
    for bad, says in [
        ("2026-13", "months are 01 to 12"),
        ("2027-W53", "2027 has no ISO week 53"),
        ("November", "a month like 2026-11"),
        ("0000-05", "outside the calendar"),
    ]:
        with pytest.raises(ReviewError, match=says):
            parse_cycle(bad, TZ)
    with pytest.raises(ReviewError, match="not an IANA time zone"):
        parse_cycle("2026-11", "Mars/Olympus")


def test_the_draw_is_reproducible_and_weighted_toward_required_events():
    candidates = {f"rec-{i:02d}": (3.0 if i < 10 else 1.0) for i in range(20)}
    seed = officer_seed(SEED, "2026-11", "officer-1")
    assert rank(seed, candidates) == rank(officer_seed(SEED, "2026-11", "officer-1"), candidates)
    assert rank(seed, candidates) != rank(officer_seed(SEED, "2026-12", "officer-1"), candidates)
    assert rank(seed, candidates) != rank(officer_seed("other", "2026-11", "officer-1"), candidates)
    # A late recording does not reshuffle the others: each key depends on its own id only.
    more = candidates | {"rec-late": 1.0}
    assert [r for r in rank(seed, more) if r != "rec-late"] == rank(seed, candidates)

    def required_share(weights: dict[str, float]) -> float:
        picks = [
            rid
            for officer in range(500)
            for rid in rank(officer_seed(SEED, "2026-11", f"o{officer}"), weights)[:2]
        ]
        return sum(weights[r] > 1 or r < "rec-10" for r in picks) / len(picks)

    # 10 required (weight 3) among 20: about 73% of picks; unweighted, about half.
    assert 0.66 < required_share(candidates) < 0.80
    assert 0.43 < required_share(dict.fromkeys(candidates, 1.0)) < 0.57


def test_sample_assigns_squad_supervisors_never_self_and_is_idempotent(ctx, dept):
    with transaction(ctx.sessions) as s:
        o4 = create_user(s, None, "o4", "officer", badge="3001", squad="East-C")
    u = dept.users
    o1 = [_recording(ctx, u["o1"], NOV + timedelta(hours=h)) for h in range(5)]
    hidden = _recording(ctx, u["o1"], NOV, "Domestic Violence")  # restricted: sgt cannot see
    _recording(ctx, u["o1"], datetime(2026, 10, 20, tzinfo=UTC))  # another cycle
    _recording(ctx, u["o2"], NOV)
    for h in range(3):
        _recording(ctx, u["o3"], NOV + timedelta(hours=h))
    _recording(ctx, u["sgt_a"], NOV)
    _recording(ctx, o4, NOV)
    _link_required(ctx, u["o1"], o1[3:])

    first = _sample(ctx, dept)
    assert first.officers == 5 and first.held == 0
    reviews = _reviews(ctx)
    by_officer: dict[str, list[SupervisorReview]] = {}
    for r in reviews:
        by_officer.setdefault(r.officer_id, []).append(r)
    assert {k: len(v) for k, v in by_officer.items()} == {
        u["o1"].id: 2,
        u["o2"].id: 1,
        u["o3"].id: 2,
        u["sgt_a"].id: 1,
        o4.id: 1,
    }
    assert all(r.supervisor_id != r.officer_id for r in reviews)
    assert {r.supervisor_id for r in by_officer[u["o1"].id]} == {u["sgt_a"].id}
    assert {r.supervisor_id for r in by_officer[u["o3"].id]} == {u["sgt_b"].id}
    # sgt_a is North-A's only supervisor, so their own recording waits unassigned.
    assert by_officer[u["sgt_a"].id][0].supervisor_id is None
    assert first.unassigned == {"North-A": 1, "East-C": 1}
    assert hidden not in {r.recording_id for r in reviews}
    # Reproducible: the picks are the first of the seeded, weighted ranking.
    weights = {rid: 3.0 if rid in o1[3:] else 1.0 for rid in o1}
    expected = rank(officer_seed(SEED, "2026-11", u["o1"].id), weights)[:2]
    picked = by_officer[u["o1"].id]
    assert sorted(r.recording_id for r in picked) == sorted(expected)
    for r in picked:
        assert (
            r.required_event == (r.recording_id in o1[3:]) and r.weight == weights[r.recording_id]
        )
        assert len(r.events) == (1 if r.required_event else 0)

    again = _sample(ctx, dept)
    assert again.created == [] and again.held == len(reviews) and len(_reviews(ctx)) == 7

    late = _recording(ctx, u["o2"], NOV + timedelta(days=3))  # uploaded after the first run
    with transaction(ctx.sessions) as s:
        sgt_c = create_user(s, None, "sgt_c", "supervisor", badge="9003", squad="East-C")
    third = _sample(ctx, dept)
    assert [d.recording_id for d in third.created] == [late]
    assert [d.officer for d in third.assigned] == ["o4"]
    assert _reviews(ctx, officer_id=o4.id)[0].supervisor_id == sgt_c.id
    assert third.unassigned == {"North-A": 1}
    with transaction(ctx.sessions) as s:  # sgt_b leaves South-B: o3's reviews wait
        s.get(User, u["sgt_b"].id).squad_id = None
    fourth = _sample(ctx, dept)
    assert [(d.officer, d.supervisor) for d in fourth.assigned] == [("o3", None)] * 2
    assert fourth.unassigned == {"North-A": 1, "South-B": 2}

    runs = _audit(ctx, "compliance:review:sample")
    assert len(runs) == 4 and runs[0].details["created"] == 7
    assert runs[0].details["seed_sha256"] == hashlib.sha256(SEED.encode()).hexdigest()
    assign = _audit(ctx, "compliance:review:assign")
    assert len(assign) == 11 and {a.object_type for a in assign} == {"recording"}


def test_only_permitted_roles_sample_and_review_their_squad(ctx, dept):
    u = dept.users
    _recording(ctx, u["o1"], NOV)
    _recording(ctx, u["o3"], NOV)
    for who in ("o1", "sgt_a", "auditor", "clerk"):
        with pytest.raises(PermissionDenied, match="may not draw supervisor review samples"):
            sample_cycle(ctx.sessions, dept.actor(who), "2026-11", seed=SEED, tz=TZ)
    _sample(ctx, dept)
    mine = _reviews(ctx, officer_id=u["o1"].id)[0]
    theirs = _reviews(ctx, officer_id=u["o3"].id)[0]
    denied_before = len(_audit(ctx, "access:request:denied"))
    with pytest.raises(PermissionDenied, match="another supervisor's squad"):
        complete_review(ctx.sessions, dept.actor("sgt_a"), theirs.id, ALL_CLEAR)
    with pytest.raises(PermissionDenied, match="another supervisor's squad"):
        skip_review(ctx.sessions, dept.actor("sgt_a"), theirs.id, "busy")
    with pytest.raises(PermissionDenied, match="another supervisor's squad"):
        show_review(ctx.sessions, dept.actor("sgt_a"), theirs.id)
    for who in ("o1", "o2", "auditor", "admin"):
        with pytest.raises(PermissionDenied):
            complete_review(ctx.sessions, dept.actor(who), mine.id, ALL_CLEAR)
    assert len(_audit(ctx, "access:request:denied")) == denied_before + 7
    with pytest.raises(ReviewNotFound):
        skip_review(ctx.sessions, dept.actor("sgt_a"), "no-such-review", "x")
    # Supervisors list their own and their squad's; auditors every review; officers none.
    assert [r.review.id for r in list_reviews(ctx.sessions, dept.actor("sgt_a"))] == [mine.id]
    assert list_reviews(ctx.sessions, dept.actor("sgt_a"), mine=True)[0].officer == "o1"
    assert len(list_reviews(ctx.sessions, dept.actor("auditor"))) == 2
    with pytest.raises(PermissionDenied):
        list_reviews(ctx.sessions, dept.actor("o1"))
    assert show_review(ctx.sessions, dept.actor("auditor"), theirs.id).recording is not None


def test_complete_needs_every_answer_skip_a_reason_and_both_are_final(ctx, dept):
    u = dept.users
    rids = [_recording(ctx, u["o1"], NOV + timedelta(hours=h)) for h in range(3)]
    with transaction(ctx.sessions) as s:
        ensure_category(s, "Arrest")
    _sample(ctx, dept, per_officer=3)
    a, b, c = (r.id for r in _reviews(ctx))
    sgt = dept.actor("sgt_a")
    with pytest.raises(ReviewError, match="missing: muted, obstructed"):
        complete_review(
            ctx.sessions,
            sgt,
            a,
            {k: v for k, v in ALL_CLEAR.items() if k not in ("muted", "obstructed")},
        )
    with pytest.raises(ReviewError, match="professionalism is ok or concern"):
        complete_review(ctx.sessions, sgt, a, ALL_CLEAR | {"professionalism": "fine"})
    with pytest.raises(ReviewError, match="Unknown checklist item"):
        complete_review(ctx.sessions, sgt, a, ALL_CLEAR | {"haircut": "no"})
    with pytest.raises(ReviewError, match="no category 'Parade'"):
        complete_review(ctx.sessions, sgt, a, ALL_CLEAR | {"wrong_category": "Parade"})
    with pytest.raises(ReviewError, match="needs a reason"):
        skip_review(ctx.sessions, sgt, b, "   ")
    assert {r.status for r in _reviews(ctx)} == {"pending"}  # nothing half-written

    done = complete_review(
        ctx.sessions,
        sgt,
        a,
        ALL_CLEAR | {"late-activation": "yes", "wrong_category": "Arrest", "commendation": True},
        notes="Calm de-escalation.",
    )
    assert done.status == "done" and done.reviewed_by == u["sgt_a"].id
    assert (done.late_activation, done.wrong_category, done.expected_category) == (
        True,
        True,
        "Arrest",
    )
    skipped = skip_review(ctx.sessions, sgt, b, "Video is blank (lens covered).")
    assert skipped.status == "skipped" and skipped.skip_reason == "Video is blank (lens covered)."
    with pytest.raises(ReviewError, match=r"already completed by sgt_a .* cannot be changed"):
        complete_review(ctx.sessions, sgt, a, ALL_CLEAR)
    with pytest.raises(ReviewError, match="already skipped"):
        skip_review(ctx.sessions, sgt, b, "again")

    [completed] = _audit(ctx, "compliance:review:complete")
    assert completed.object_id in rids and completed.details["review"] == a
    assert completed.details["answers"]["late_activation"] is True
    assert completed.details["notes_sha256"] == hashlib.sha256(b"Calm de-escalation.").hexdigest()
    [skip] = _audit(ctx, "compliance:review:skip")
    assert skip.details["reason"] == "Video is blank (lens covered)."

    # Opening a review shows the video only under the evidence rules, and audits the view.
    views = len(_audit(ctx, "evidence:recording:view"))
    shown = show_review(ctx.sessions, sgt, c)
    assert shown.recording is not None and shown.recording.category == "Traffic Stop"
    assert len(_audit(ctx, "evidence:recording:view")) == views + 1
    with transaction(ctx.sessions) as s:
        restricted = s.scalars(select(Category).where(Category.name == "Domestic Violence")).one()
        rec = s.get(Recording, shown.row.review.recording_id)
        rec.category_id = restricted.id
    assert show_review(ctx.sessions, sgt, c).recording is None
    assert len(_audit(ctx, "evidence:recording:view")) == views + 1
    with pytest.raises(PermissionDenied, match="may not see recording"):
        complete_review(ctx.sessions, sgt, c, ALL_CLEAR)
    skip_review(ctx.sessions, sgt, c, "Recategorized as restricted; records unit to review.")


def test_report_counts_per_supervisor_and_squad_with_overdue_and_findings(ctx, dept):
    u = dept.users
    for who in ("o1", "o2", "o3"):
        for h in range(2):
            _recording(ctx, u[who], NOV + timedelta(hours=h))
    _sample(ctx, dept)
    sgt_a, sgt_b = dept.actor("sgt_a"), dept.actor("sgt_b")
    north = [r.id for r in _reviews(ctx, supervisor_id=u["sgt_a"].id)]
    south = [r.id for r in _reviews(ctx, supervisor_id=u["sgt_b"].id)]
    assert len(north) == 4 and len(south) == 2
    complete_review(ctx.sessions, sgt_a, north[0], ALL_CLEAR | {"training_need": "yes"})
    complete_review(
        ctx.sessions,
        sgt_a,
        north[1],
        ALL_CLEAR | {"professionalism": "concern", "training_need": "yes", "muted": "yes"},
    )
    skip_review(ctx.sessions, sgt_a, north[2], "Camera malfunction, no picture.")
    complete_review(ctx.sessions, sgt_b, south[0], ALL_CLEAR | {"commendation": "yes"})

    in_time = datetime(2026, 12, 5, tzinfo=UTC)
    report = review_report(ctx.sessions, dept.actor("auditor"), "2026-11", tz=TZ, now=in_time)
    lines = {(line.by, line.group): line for line in report.lines}
    a = lines[("supervisor", "sgt_a")]
    assert (a.assigned, a.completed, a.skipped, a.pending, a.overdue) == (4, 2, 1, 1, 0)
    assert (a.training_need, a.professionalism_concern, a.muted, a.commendation) == (2, 1, 1, 0)
    assert a.skip_reasons == ["Camera malfunction, no picture."]
    assert lines[("squad", "North-A")].assigned == 4
    total = lines[("all", "2026-11")]
    assert (total.assigned, total.completed, total.pending, total.commendation) == (6, 3, 2, 1)
    assert report.lines[-1] is total and report.lines[0].by == "supervisor"

    late = review_report(
        ctx.sessions, dept.actor("analyst"), "2026-11", tz=TZ, grace_days=3, now=in_time
    )
    assert report.overdue_after == datetime(2026, 12, 15, 5, tzinfo=UTC)
    assert {(x.by, x.group): x.overdue for x in late.lines}[("all", "2026-11")] == 2
    for who in ("o1", "clerk"):
        with pytest.raises(PermissionDenied):
            review_report(ctx.sessions, dept.actor(who), "2026-11", tz=TZ)
    assert review_report(ctx.sessions, sgt_b, "2026-W47", tz=TZ).lines[-1].assigned == 0


def test_cli_end_to_end(home, ctx):
    with transaction(ctx.sessions) as s:
        sgt = create_user(s, None, "sgt", "supervisor", badge="900", squad="A")
        ofc = s.scalars(select(User).where(User.username == "ofc")).one()
        s.expunge_all()
    for h in range(3):
        _recording(ctx, ofc, NOV + timedelta(hours=h))
    _recording(ctx, sgt, NOV)  # the squad's only supervisor: left unassigned

    p = home("compliance", "review", "sample", "--cycle", "2026-11", "--json", user="chief")
    drawn = json.loads(p.stdout)
    assert drawn["first_day"] == "2026-11-01" and drawn["last_day"] == "2026-11-30"
    assert len(drawn["created"]) == 3 and drawn["unassigned"] == {"A": 1}
    p = home("compliance", "review", "sample", "--cycle", "2026-11", user="chief")
    assert "0 review(s) drawn" in p.stdout and "A has no supervisor" in p.stderr
    p = home("compliance", "review", "sample", "--cycle", "2026-11", user="ofc", check=3)
    assert "may not draw supervisor review samples" in p.stderr
    p = home("compliance", "review", "sample", "--cycle", "2026-13", user="chief", check=1)
    assert "months are 01 to 12" in p.stderr and "Traceback" not in p.stderr

    p = home("compliance", "review", "list", "--mine", "--status", "pending", "--json", user="sgt")
    mine = [json.loads(line) for line in p.stdout.splitlines()]
    assert len(mine) == 2 and {r["officer"] for r in mine} == {"ofc"}
    first, second = mine[0]["id"], mine[1]["id"]
    p = home("compliance", "review", "show", first, user="sgt")
    assert "Stop " in p.stdout and "Traffic Stop" in p.stdout

    p = home("compliance", "review", "complete", first, "-a", "muted=yes", user="sgt", check=1)
    assert "Answer every checklist item; missing: late_activation" in p.stderr
    p = home(
        "compliance", "review", "complete", first, "-a", "muted=yes", "--answer",
        "training-need=yes", "--no-other-findings", "--notes", "Audio off for 2 min.", user="sgt",
    )  # fmt: skip
    assert "completed: muted, training_need." in p.stdout
    p = home("compliance", "review", "complete", first, "--no-other-findings", user="sgt", check=1)
    assert "cannot be changed" in p.stderr
    home("compliance", "review", "skip", second, "--reason", " ", user="sgt", check=1)
    p = home("compliance", "review", "skip", second, "--reason", "Blank video.", user="sgt")
    assert "skipped: Blank video." in p.stdout

    p = home("compliance", "review", "report", "--cycle", "2026-11", "--format", "json", user="aud")
    report = json.loads(p.stdout)
    total = report["lines"][-1]
    counts = [total[k] for k in ("assigned", "completed", "skipped", "pending")]
    assert counts == [3, 1, 1, 1]
    assert total["training_need"] == 1 and total["skip_reasons"] == ["Blank video."]
    p = home("compliance", "review", "report", "--cycle", "2026-11", "--format", "csv", user="aud")
    assert p.stdout.splitlines()[0].startswith("cycle,by,group,assigned,completed,skipped")
    p = home("compliance", "review", "report", "--cycle", "2026-11", user="sgt")
    assert "Blank video." in p.stdout and "(unassigned)" in p.stdout
    with ctx.sessions() as s:
        actions = dict(
            s.execute(select(AuditRecord.action, func.count()).group_by(AuditRecord.action)).all()
        )
    assert actions["compliance:review:sample"] == 2 and actions["compliance:review:assign"] == 3
    assert actions["compliance:review:complete"] == 1 and actions["compliance:review:skip"] == 1
