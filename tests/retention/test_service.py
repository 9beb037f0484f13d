"""Retention in the vault: due dates from the schedule, holds, the deletion queue.

Both engines. The state-machine test drives random sequences of ingest, category change,
hold, release, schedule change, clock advance and approval, and checks the invariants
after every step.
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.auth.actor import PermissionDenied
from bodycam.db import transaction
from bodycam.evidence.models import (
    UNCATEGORIZED,
    Category,
    Recording,
    RecordingCase,
    RecordingEdit,
    RecordingExtraCategory,
)
from bodycam.evidence.service import NotFound, Vault, edit, ensure_category, ingest_file
from bodycam.retention import service
from bodycam.retention.cases import close_case, list_cases, open_case
from bodycam.retention.models import (
    Case,
    DeletionItem,
    DestructionCertificate,
    LegalHold,
    QueueStatus,
)
from bodycam.retention.purge import purge_due, verify_certificate
from bodycam.retention.schedule import Period
from bodycam.retention.service import RetentionError

T0 = datetime(2026, 6, 1, 12, tzinfo=UTC)


def _schedule(**periods: str) -> str:
    lines = []
    for name, retain in {UNCATEGORIZED: "180 days", **periods}.items():
        lines += [f'[categories."{name}"]', f'retain = "{retain}"', ""]
    return "\n".join(lines)


def _recording(ctx, dept, n: int, recorded: datetime, category: str, cases=()) -> str:
    """A recording row (retention needs no video bytes)."""
    with transaction(ctx.sessions) as s:
        cat = ensure_category(s, category)
        rec = Recording(
            sha256=hashlib.sha256(f"r{n}".encode()).hexdigest(),
            size_bytes=1,
            original_filename=f"r{n}.mp4",
            officer_id=dept.users["o1"].id,
            category_id=cat.id,
            recorded_start=recorded,
            recorded_end=recorded + timedelta(minutes=5),
            ingested_by=dept.users["clerk"].id,
            container="mp4",
            video_codec="h264",
            duration_s=300.0,
            width=640,
            height=360,
            fps=30.0,
            has_audio=True,
            frame_count=9000,
        )
        rec.cases = [RecordingCase(case_number=c) for c in cases]
        s.add(rec)
        s.flush()
        service.apply_to(s, rec)
        return rec.id


def _item(ctx, rid: str) -> DeletionItem | None:
    with ctx.sessions() as s:
        rows = s.scalars(
            select(DeletionItem)
            .where(DeletionItem.recording_id == rid)
            .order_by(DeletionItem.queued_at.desc(), DeletionItem.id.desc())
        ).all()
        return rows[0] if rows else None


def test_ingest_and_category_changes_follow_the_schedule(ctx, dept, vault, clips):
    admin, clerk = dept.actor("admin"), dept.actor("clerk")
    change = service.import_schedule(
        ctx.sessions, admin, _schedule(**{"Traffic Stop": "2 years"}), note="initial"
    )
    assert change.version == 1 and ("Traffic Stop", None, "2 years") in change.changed
    rid = ingest_file(vault, clerk, clips(31), officer_badge="1001").id
    with ctx.sessions() as s:
        rec = s.get(Recording, rid)
        assert rec.retain_until == Period.parse("180 days").due(rec.recorded_start)
        assert rec.retention_basis == "Uncategorized: 180 days"
    edit(vault, clerk, rid, {"category": "Traffic Stop"})
    with ctx.sessions() as s:
        rec = s.get(Recording, rid)
        assert rec.retain_until == Period.parse("2 years").due(rec.recorded_start)
    assert "Traffic Stop" in service.export_schedule(ctx.sessions, admin)
    with ctx.sessions() as s:
        audit = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "retention:schedule:import")
        ).one()
        assert audit.details["changed"] and audit.actor == "admin"


def test_the_longest_period_of_all_categories_wins(ctx, dept, vault, clips):
    admin, clerk = dept.actor("admin"), dept.actor("clerk")
    service.import_schedule(
        ctx.sessions, admin, _schedule(**{"Traffic Stop": "1 year", "Arrest": "5 years"})
    )
    rid = ingest_file(vault, clerk, clips(32), officer_badge="1001", category="Traffic Stop").id
    edit(vault, clerk, rid, {"extra_categories": ["Arrest"]})
    with ctx.sessions() as s:
        rec = s.get(Recording, rid)
        assert rec.retention_basis == "Arrest: 5 years"
        assert rec.retain_until == Period.parse("5 years").due(rec.recorded_start)
        assert [e.name for e in rec.extra_categories] == ["Arrest"]
    edit(vault, clerk, rid, {"extra_categories": ["Domestic Violence"]})  # unscheduled: kept
    with ctx.sessions() as s:
        rec = s.get(Recording, rid)
        assert rec.retain_until is None and "not scheduled" in rec.retention_basis
    edit(vault, clerk, rid, {"extra_categories": []})
    with ctx.sessions() as s:
        assert s.get(Recording, rid).retention_basis == "Traffic Stop: 1 year"
        changes = s.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "evidence:recording:category_change",
                AuditRecord.object_id == rid,
            )
        ).all()
        assert len(changes) == 3


def test_shortening_queues_for_review_and_holds_win(ctx, dept):
    admin, clerk = dept.actor("admin"), dept.actor("clerk")
    service.import_schedule(ctx.sessions, admin, _schedule(**{"Arrest": "5 years"}))
    old = T0 - timedelta(days=800)
    a = _recording(ctx, dept, 1, old, "Arrest")
    b = _recording(ctx, dept, 2, old, "Arrest", cases=["C-77"])
    c = _recording(ctx, dept, 3, T0, "Arrest")
    assert service.refresh_queue(ctx.sessions).queued == []
    hold = service.place_hold(
        ctx.sessions, clerk, case="C-77", reason_type="litigation", reason="Doe v. City"
    )
    change = service.import_schedule(ctx.sessions, admin, _schedule(**{"Arrest": "2 years"}))
    assert change.queue.queued == [a]  # b is held, c is recent
    assert _item(ctx, a).status == QueueStatus.PENDING
    assert _item(ctx, b) is None and _item(ctx, c) is None
    dry = [e for e in service.upcoming(ctx.sessions, clerk, days=0) if e.status == "pending"]
    assert [e.recording_id for e in dry] == [a] and dry[0].basis == "Arrest: 2 years"

    approved = service.approve_deletions(ctx.sessions, clerk)
    assert [i.recording_id for i in approved] == [a]
    item = _item(ctx, a)
    assert item.status == QueueStatus.RECOVERABLE
    assert item.purge_after - item.approved_at == service.RECOVERY_WINDOW
    # A hold placed after approval takes the recording out of the queue.
    service.place_hold(
        ctx.sessions, clerk, recording_id=a, reason_type="complaint", reason="IA-2026-14"
    )
    assert _item(ctx, a).status == QueueStatus.CANCELLED
    with pytest.raises(RetentionError, match="Not pending deletion"):
        service.approve_deletions(ctx.sessions, clerk, [a])

    service.release_hold(ctx.sessions, clerk, hold.id, "settled")
    assert _item(ctx, b).status == QueueStatus.PENDING
    service.approve_deletions(ctx.sessions, clerk, [b])
    service.undo_deletion(ctx.sessions, clerk, b, "the requester appealed")
    assert _item(ctx, b).status == QueueStatus.CANCELLED
    assert service.refresh_queue(ctx.sessions).queued == [b]  # due again: back for review

    # Lengthening takes recordings out of the queue.
    service.import_schedule(ctx.sessions, admin, _schedule(**{"Arrest": "10 years"}))
    assert _item(ctx, b).status == QueueStatus.CANCELLED


def test_who_may_do_what(ctx, dept):
    text = _schedule()
    for name in ("clerk", "o1", "sgt_a", "auditor"):
        with pytest.raises(PermissionDenied):
            service.import_schedule(ctx.sessions, dept.actor(name), text)
    service.import_schedule(ctx.sessions, dept.actor("admin"), text)
    rid = _recording(ctx, dept, 9, T0, UNCATEGORIZED)
    for name in ("o1", "sgt_a", "admin", "analyst"):
        with pytest.raises(PermissionDenied):
            service.place_hold(
                ctx.sessions, dept.actor(name), recording_id=rid, reason_type="case", reason="x"
            )
    service.place_hold(
        ctx.sessions,
        dept.actor("auditor"),
        recording_id=rid,
        reason_type="complaint",
        reason="IA-1",
    )
    for name in ("auditor", "admin", "o1"):
        with pytest.raises(PermissionDenied):
            service.approve_deletions(ctx.sessions, dept.actor(name))
    with pytest.raises(RetentionError, match="one recording, one case number or one query"):
        service.place_hold(ctx.sessions, dept.actor("clerk"), reason_type="case", reason="x")
    with pytest.raises(RetentionError, match="Unknown hold reason"):
        service.place_hold(
            ctx.sessions, dept.actor("clerk"), case="C1", reason_type="whim", reason="x"
        )
    with ctx.sessions() as s:
        denied = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "access:request:denied")
        ).all()
        assert len(denied) == 4 + 4 + 3


# --- the state machine ---------------------------------------------------------------------

CATEGORIES = [UNCATEGORIZED, "Traffic Stop", "Arrest"]
PERIODS = ["30 days", "90 days", "1 year", "2 years", "until deleted"]


def test_random_sequences_keep_the_retention_promises(ctx, dept):
    admin, clerk = dept.actor("admin"), dept.actor("clerk")
    vault = Vault.from_context(ctx)

    class Retention(RuleBasedStateMachine):
        def __init__(self) -> None:
            super().__init__()
            with transaction(ctx.sessions) as s:
                for table in (
                    DestructionCertificate,
                    DeletionItem,
                    RecordingCase,
                    RecordingExtraCategory,
                    RecordingEdit,
                    Recording,
                ):
                    s.query(table).delete()
                s.query(LegalHold).delete()
                s.query(Case).delete()
                for name in CATEGORIES:
                    ensure_category(s, name).retention = None
            self.now = T0
            self.recordings: list[str] = []
            self.purged_any = False
            self.n = 0
            service.import_schedule(ctx.sessions, admin, _schedule(), now=self.now)

        @rule(
            days_ago=st.integers(0, 900),
            category=st.sampled_from(CATEGORIES),
            case=st.sampled_from([None, "C-1", "C-2"]),
        )
        def ingest(self, days_ago: int, category: str, case: str | None) -> None:
            self.n += 1
            rid = _recording(
                ctx,
                dept,
                1000 + self.n + id(self) % 997 * 10_000,
                self.now - timedelta(days=days_ago),
                category,
                [case] if case else [],
            )
            self.recordings.append(rid)

        @rule(data=st.data())
        def schedule(self, data: st.DataObject) -> None:
            periods = {c: data.draw(st.sampled_from(PERIODS)) for c in CATEGORIES}
            lines = []
            for name, retain in periods.items():
                lines += [f'[categories."{name}"]', f'retain = "{retain}"', ""]
            service.import_schedule(ctx.sessions, admin, "\n".join(lines), now=self.now)

        @rule(data=st.data())
        def hold(self, data: st.DataObject) -> None:
            on = data.draw(st.sampled_from(["recording", "case", "query"]))
            if on == "query":
                query = data.draw(
                    st.sampled_from(
                        [
                            service.HoldQuery(category="Arrest"),
                            service.HoldQuery(start_to=self.now - timedelta(days=400)),
                            service.HoldQuery(
                                officer_badge="1001",
                                start_from=self.now - timedelta(days=600),
                                start_to=self.now,
                            ),
                        ]
                    )
                )
                service.place_hold(
                    ctx.sessions,
                    clerk,
                    query=query,
                    reason_type="litigation",
                    reason="z",
                    now=self.now,
                )
            elif on == "recording" and self.recordings:
                rid = data.draw(st.sampled_from(self.recordings))
                service.place_hold(
                    ctx.sessions,
                    clerk,
                    recording_id=rid,
                    reason_type="case",
                    reason="x",
                    now=self.now,
                )
            else:
                service.place_hold(
                    ctx.sessions,
                    clerk,
                    case=data.draw(st.sampled_from(["C-1", "C-2"])),
                    reason_type="litigation",
                    reason="y",
                    now=self.now,
                )

        @rule(case=st.sampled_from(["C-1", "C-2"]))
        def open_or_close_case(self, case: str) -> None:
            if case in {c.case_number for c in list_cases(ctx.sessions, clerk)}:
                close_case(ctx.sessions, clerk, case, "adjudicated", now=self.now)
            else:
                open_case(ctx.sessions, clerk, case, "burglary", now=self.now)

        @rule(data=st.data())
        def release(self, data: st.DataObject) -> None:
            holds = [h for h in service.list_holds(ctx.sessions, clerk) if h.source == "manual"]
            if holds:
                h = data.draw(st.sampled_from(holds))
                service.release_hold(ctx.sessions, clerk, h.id, "done", now=self.now)

        @rule(days=st.integers(1, 400))
        def advance(self, days: int) -> None:
            self.now += timedelta(days=days)

        @rule()
        def approve(self) -> None:
            service.approve_deletions(ctx.sessions, clerk, now=self.now)

        @rule(data=st.data())
        def recategorize(self, data: st.DataObject) -> None:
            if not self.recordings:
                return
            rid = data.draw(st.sampled_from(self.recordings))
            primary = data.draw(st.sampled_from(CATEGORIES))
            extras = data.draw(st.lists(st.sampled_from(CATEGORIES), unique=True, max_size=2))
            with contextlib.suppress(NotFound):  # purged meanwhile
                edit(vault, clerk, rid, {"category": primary, "extra_categories": extras})
            service.refresh_queue(ctx.sessions, self.now)

        @rule(days=st.integers(7, 30))
        def approve_wait_and_purge(self, days: int) -> None:
            approved = service.approve_deletions(ctx.sessions, clerk, now=self.now)
            self.now += timedelta(days=days, seconds=1)
            self.purge()
            self.purged_any = self.purged_any or bool(approved)

        @rule()
        def purge(self) -> None:
            with ctx.sessions() as s:
                held = {r.id for r in s.scalars(select(Recording)) if service._active_holds(s, r)}
            report = purge_due(ctx, now=self.now)
            assert not held & set(report.purged), "a held recording was purged"

        @invariant()
        def promises_hold(self) -> None:
            with ctx.sessions() as s:
                for item in s.scalars(
                    select(DeletionItem).where(DeletionItem.status.in_(["pending", "recoverable"]))
                ):
                    rec = s.get(Recording, item.recording_id)
                    assert rec is not None
                    # Nothing held stays queued; nothing is queued before it is due.
                    assert not service._active_holds(s, rec), "a held recording is queued"
                    assert rec.retain_until is not None
                    assert rec.retain_until <= self.now, "queued before it is due"
                    assert item.due_at == rec.retain_until
                    if item.status == "recoverable":
                        assert item.approved_at is not None
                        assert item.approved_at >= item.queued_at
                certs = {c.recording_id: c for c in s.scalars(select(DestructionCertificate))}
                for rec in s.scalars(select(Recording).where(Recording.purged_at.is_not(None))):
                    statement = verify_certificate(certs[rec.id], ctx.signer.public_key)
                    item = s.scalars(
                        select(DeletionItem).where(
                            DeletionItem.recording_id == rec.id, DeletionItem.status == "purged"
                        )
                    ).one()
                    assert rec.retain_until is not None and rec.retain_until <= rec.purged_at
                    assert item.purge_after is not None and item.purge_after <= rec.purged_at
                    assert statement["recording_id"] == rec.id
                for rec in s.scalars(select(Recording).where(Recording.purged_at.is_(None))):
                    ids = [rec.category_id, *(e.category_id for e in rec.extra_categories)]
                    periods = [s.get(Category, i).retention for i in ids]
                    if any(p is None for p in periods):
                        expected = None
                    else:
                        dues = [Period.parse(p).due(rec.recorded_start) for p in periods]
                        expected = None if None in dues else max(dues)
                    assert rec.retain_until == expected, "a due date does not follow the schedule"

    run_state_machine_as_test(
        Retention,
        settings=settings(
            max_examples=40,
            stateful_step_count=20,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture],
        ),
    )


# --- query holds and cases ----------------------------------------------------------------


def test_query_holds_cover_present_and_future_matches(ctx, dept):
    admin, clerk = dept.actor("admin"), dept.actor("clerk")
    service.import_schedule(ctx.sessions, admin, _schedule(**{"Arrest": "1 year"}))
    old = T0 - timedelta(days=800)
    inside = _recording(ctx, dept, 41, old, "Arrest")
    wrong_category = _recording(ctx, dept, 42, old, UNCATEGORIZED)
    too_early = _recording(ctx, dept, 43, old - timedelta(days=100), "Arrest")
    query = service.HoldQuery(
        officer_badge="1001",
        start_from=old - timedelta(days=10),
        start_to=old + timedelta(days=10),
        category="arrest",  # names match without regard to case
    )
    hold = service.place_hold(
        ctx.sessions, clerk, query=query, reason_type="litigation", reason="Roe v. City"
    )
    assert hold.kind == "query" and hold.source == "manual" and "badge 1001" in hold.target
    queued = {i.recording_id for i in service.upcoming(ctx.sessions, clerk, days=0)}
    assert queued == {inside, wrong_category, too_early}
    assert [h.id for h in service.holds_on(ctx.sessions, clerk, inside)] == [hold.id]
    assert service.holds_on(ctx.sessions, clerk, wrong_category) == []
    assert service.holds_on(ctx.sessions, clerk, too_early) == []
    assert _item(ctx, inside) is None  # held: never queued
    assert _item(ctx, wrong_category).status == QueueStatus.PENDING
    later = _recording(ctx, dept, 44, old + timedelta(days=1), "Arrest")  # a future match
    service.refresh_queue(ctx.sessions)
    assert _item(ctx, later) is None and service.holds_on(ctx.sessions, clerk, later)
    # An extra category counts, and so does a tag.
    tagged = service.place_hold(
        ctx.sessions,
        clerk,
        query=service.HoldQuery(tag="Protest-May"),
        reason_type="complaint",
        reason="IA-9",
    )
    with transaction(ctx.sessions) as s:
        from bodycam.evidence.models import RecordingTag

        s.add(RecordingTag(recording_id=wrong_category, tag="protest-may"))
    service.refresh_queue(ctx.sessions)
    assert _item(ctx, wrong_category).status == QueueStatus.CANCELLED
    assert [h.id for h in service.holds_on(ctx.sessions, clerk, wrong_category)] == [tagged.id]
    with ctx.sessions() as s:
        audit = s.scalars(
            select(AuditRecord).where(
                AuditRecord.action == "retention:hold:place", AuditRecord.object_id == hold.target
            )
        ).one()
        assert audit.details["query"]["officer_id"] == dept.users["o1"].id


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (service.HoldQuery(), "at least one criterion"),
        (service.HoldQuery(officer_badge="9999"), "No officer has badge 9999"),
        (service.HoldQuery(category="Nope"), "There is no category 'Nope'"),
        (service.HoldQuery(start_from=T0, start_to=T0), "start date must be before"),
    ],
)
def test_bad_queries_are_refused_with_a_sentence(ctx, dept, query, message):
    with pytest.raises(RetentionError, match=message):
        service.place_hold(
            ctx.sessions, dept.actor("clerk"), query=query, reason_type="other", reason="x"
        )
    assert service.list_holds(ctx.sessions, dept.actor("clerk")) == []


def test_an_open_case_holds_its_footage_until_it_closes(ctx, dept):
    admin, clerk = dept.actor("admin"), dept.actor("clerk")
    service.import_schedule(ctx.sessions, admin, _schedule(**{"Arrest": "1 year"}))
    old = T0 - timedelta(days=800)
    rid = _recording(ctx, dept, 51, old, "Arrest", cases=["24-001"])
    assert _item(ctx, rid) is None
    service.refresh_queue(ctx.sessions)
    assert _item(ctx, rid).status == QueueStatus.PENDING

    case = open_case(ctx.sessions, clerk, "24-001", "Burglary, 12 Elm St")
    assert case.status == "open"
    assert _item(ctx, rid).status == QueueStatus.CANCELLED
    (auto,) = service.holds_on(ctx.sessions, clerk, rid)
    assert auto.source == "open_case" and auto.kind == "case" and auto.target == "24-001"
    with pytest.raises(RetentionError, match="placed automatically"):
        service.release_hold(ctx.sessions, clerk, auto.id, "no")
    with pytest.raises(RetentionError, match="already open"):
        open_case(ctx.sessions, clerk, "24-001")
    # A recording linked later is covered too; a hand-placed hold outlives the case.
    later = _recording(ctx, dept, 52, old, "Arrest", cases=["24-001"])
    manual = service.place_hold(
        ctx.sessions, clerk, case="24-001", reason_type="litigation", reason="civil suit"
    )
    closed = close_case(ctx.sessions, clerk, "24-001", "conviction, appeal period over")
    assert closed.status == "closed" and closed.close_reason.startswith("conviction")
    assert [h.id for h in service.holds_on(ctx.sessions, clerk, later)] == [manual.id]
    service.release_hold(ctx.sessions, clerk, manual.id, "suit settled")
    assert _item(ctx, rid).status == QueueStatus.PENDING  # follows its schedule again
    assert _item(ctx, later).status == QueueStatus.PENDING
    with pytest.raises(RetentionError, match="already closed"):
        close_case(ctx.sessions, clerk, "24-001", "again")
    reopened = open_case(ctx.sessions, clerk, "24-001")
    assert reopened.title == "Burglary, 12 Elm St" and reopened.closed_at is None
    assert _item(ctx, rid).status == QueueStatus.CANCELLED
    assert [c.case_number for c in list_cases(ctx.sessions, clerk)] == ["24-001"]
    with ctx.sessions() as s:
        actions = [
            a
            for a in s.scalars(select(AuditRecord.action).where(AuditRecord.object_id == "24-001"))
        ]
        assert actions.count("retention:case:open") == 2
        assert actions.count("retention:case:close") == 1
        assert actions.count("retention:hold:release") == 2  # the automatic one, the manual one
    for name in ("o1", "sgt_a", "admin"):
        with pytest.raises(PermissionDenied):
            open_case(ctx.sessions, dept.actor(name), "24-002")
    with pytest.raises(RetentionError, match="needs a reason"):
        close_case(ctx.sessions, clerk, "24-001", " ")
    with pytest.raises(RetentionError, match="There is no case"):
        close_case(ctx.sessions, clerk, "nope", "x")
