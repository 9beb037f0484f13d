"""Recording rules as configuration and the matcher's verdicts, with their evidence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.auth.actor import PermissionDenied
from bodycam.compliance.mapping import load_preset
from bodycam.compliance.matching import Clip, OfficerEvent, judge
from bodycam.compliance.matching_service import results, run_matching
from bodycam.compliance.rules import Rules, RulesError
from bodycam.compliance.service import import_cad
from bodycam.db import transaction
from bodycam.evidence.models import Recording
from bodycam.evidence.service import ingest_file
from tests.compliance.csvs import GENERIC_HEADER, write_csv

RULES = """
[[policy]]
version = "2025-01"
effective_from = 2025-01-01
exclude_call_types = ["ADMIN DETAIL"]
exclude_dispositions = ["CANCELLED"]
start_grace_minutes = 2
end_grace_minutes = 2
gap_grace_minutes = 1

[[policy]]
version = "2026-01"
effective_from = 2026-01-01
self_initiated = "only"
"""

T = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)


def _ev(key: str, **kw) -> OfficerEvent:
    base = dict(
        officer_id="o1",
        event_id=key,
        call_type="TRAFFIC STOP",
        priority="2",
        self_initiated=True,
        disposition="CITATION",
        created_at=T,
        dispatched_at=T,
        arrived_at=T,
        cleared_at=T + timedelta(minutes=30),
    )
    return OfficerEvent(key=key, **(base | kw))


def _clip(rid: str, start_min: float, end_min: float, officer: str = "o1") -> Clip:
    return Clip(rid, officer, T + timedelta(minutes=start_min), T + timedelta(minutes=end_min))


def test_policies_by_date_and_refusals():
    rules = Rules.from_toml(RULES)
    assert rules.in_force(datetime(2025, 6, 1, tzinfo=UTC)).version == "2025-01"
    assert rules.in_force(T).version == "2026-01"
    assert rules.in_force(datetime(2024, 1, 1, tzinfo=UTC)) is None
    with pytest.raises(RulesError, match="unknown key"):
        Rules.from_toml('[[policy]]\nversion = "x"\neffective_from = 2025-01-01\nwindow = 3\n')
    with pytest.raises(RulesError, match="self_initiated: 'sometimes'"):
        Rules.from_toml(
            '[[policy]]\nversion = "x"\neffective_from = 2025-01-01\nself_initiated = "sometimes"\n'
        )
    with pytest.raises(RulesError, match="effective_from"):
        Rules.from_toml('[[policy]]\nversion = "x"\neffective_from = "soon"\n')


def test_every_verdict_with_its_evidence():
    rules = Rules.from_toml(RULES)
    events = [
        _ev("ok"),
        _ev("late"),
        _ev("early"),
        _ev("gappy"),
        _ev("none"),
        _ev("dispatched", self_initiated=False),  # 2026 policy: self-initiated only
        _ev("noclear", cleared_at=None),
        _ev("other-officer", officer_id="o2"),
        _ev("buffered"),
    ]
    clips = [
        _clip("r-ok", -1, 31),
        _clip("r-late", 1000 + 5, 1000 + 31),
        _clip("r-gap1", 2000, 2010),
        _clip("r-gap2", 2015, 2031),
        _clip("r-o2", 0, 30, officer="o2"),
        _clip("r-buffer", 3000 - 4, 3000 + 31),
    ]
    shifted = {"late": 1000, "early": 4000, "gappy": 2000, "none": 5000, "buffered": 3000}
    events = [
        _ev(
            e.key,
            arrived_at=T + timedelta(minutes=shifted[e.key]),
            cleared_at=T + timedelta(minutes=shifted[e.key] + 30),
        )
        if e.key in shifted
        else e
        for e in events
    ]
    clips.append(_clip("r-early", 4000, 4020))
    got = {v.key: v for v in judge(events, clips, rules)}
    assert got["ok"].status == "recorded" and got["ok"].coverage == 1.0
    assert got["late"].status == "late_start" and got["late"].late_s == 300
    assert got["early"].status == "early_stop" and got["early"].early_s == 600
    assert got["gappy"].status == "gaps" and got["gappy"].gaps_s == 300
    assert got["none"].status == "not_recorded" and got["none"].recordings == ()
    assert got["dispatched"].status == "exempt" and "self-initiated" in got["dispatched"].reason
    assert got["noclear"].status == "unknown"
    assert got["other-officer"].status == "recorded"  # o2's own recording, not o1's
    assert got["buffered"].status == "recorded"  # started 4 min early, within the buffer
    assert got["ok"].policy == "2026-01"


def test_matching_in_the_vault_is_idempotent_and_audited(ctx, dept, vault, clips, tmp_path):
    admin = dept.actor("admin")
    rid = ingest_file(vault, dept.actor("clerk"), clips(81), officer_badge="1001").id
    with transaction(ctx.sessions) as s:
        rec = s.get(Recording, rid)
        rec.recorded_start, rec.recorded_end = T - timedelta(minutes=1), T + timedelta(minutes=31)
    rows = []
    for n, (badge, self_init) in enumerate([("1001", "Y"), ("1002", "Y"), ("1001", "N")]):
        rows.append(
            {
                "event_id": f"E-{n}",
                "call_type": "TRAFFIC STOP",
                "priority": "2",
                "self_initiated": self_init,
                "precinct": "North",
                "location": "x",
                "disposition": "CITATION",
                "created_at": "2026-03-01T08:00:00Z",
                "badge": badge,
                "dispatched_at": "2026-03-01T08:00:00Z",
                "arrived_at": "2026-03-01T08:00:00Z",
                "cleared_at": "2026-03-01T08:30:00Z",
            }
        )
    import_cad(
        ctx.sessions,
        admin,
        write_csv(tmp_path / "cad.csv", GENERIC_HEADER, rows),
        load_preset("generic"),
    )
    rules = Rules.from_toml(RULES)
    counts = run_matching(ctx.sessions, admin, rules)
    assert counts == {"recorded": 1, "not_recorded": 1, "exempt": 1}
    assert run_matching(ctx.sessions, admin, rules) == counts  # the same verdicts again
    mine = results(ctx.sessions, dept.actor("auditor"), badge="1001")
    by_event = {r.event_id: r for r, _ in mine}
    assert by_event["E-0"].recordings == [rid] and by_event["E-0"].status == "recorded"
    with pytest.raises(PermissionDenied):
        run_matching(ctx.sessions, dept.actor("clerk"), rules)
    with pytest.raises(PermissionDenied):
        results(ctx.sessions, dept.actor("clerk"))
    own = {b for _, b in results(ctx.sessions, dept.actor("o1"))}  # an officer: their own
    assert own <= {"1001"}
    with ctx.sessions() as s:
        runs = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "compliance:match:run")
        ).all()
        assert len(runs) == 2 and runs[0].details["by_status"]["recorded"] == 1


def test_report_rates_have_wilson_intervals_and_counts(ctx, dept, vault, clips, tmp_path):
    from bodycam.compliance.report import as_csv, compliance_report

    admin = dept.actor("admin")
    rid = ingest_file(vault, dept.actor("clerk"), clips(82), officer_badge="1001").id
    with transaction(ctx.sessions) as s:
        rec = s.get(Recording, rid)
        rec.recorded_start, rec.recorded_end = T - timedelta(minutes=1), T + timedelta(minutes=31)
    rows = []
    for n, badge in enumerate(["1001", "1001", "1002"]):
        created = (T + timedelta(hours=3 * n)).strftime("%Y-%m-%dT%H:%M:%SZ")
        cleared = (T + timedelta(hours=3 * n, minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ")
        rows.append(
            {
                "event_id": f"R-{n}",
                "call_type": "DISTURBANCE",
                "priority": "2",
                "self_initiated": "Y",
                "precinct": "North",
                "location": "x",
                "disposition": "REPORT",
                "created_at": created,
                "badge": badge,
                "dispatched_at": created,
                "arrived_at": created,
                "cleared_at": cleared,
            }
        )
    import_cad(
        ctx.sessions,
        admin,
        write_csv(tmp_path / "cad.csv", GENERIC_HEADER, rows),
        load_preset("generic"),
    )
    run_matching(ctx.sessions, admin, Rules.from_toml(RULES))
    by_officer = {
        r.group.split()[0]: r
        for r in compliance_report(ctx.sessions, dept.actor("analyst"), by="officer")
    }
    o1 = by_officer["1001"]
    assert (o1.required, o1.activated, o1.full) == (2, 1, 1)
    assert o1.activation_rate == 0.5 and 0 < o1.activation_low < 0.5 < o1.activation_high < 1
    assert by_officer["1002"].activation_rate == 0.0 and by_officer["1002"].activation_low == 0.0
    precinct = compliance_report(ctx.sessions, admin, by="precinct")
    assert [(r.group, r.required, r.activated) for r in precinct] == [("North", 3, 1)]
    assert as_csv(precinct).splitlines()[0].startswith("group,required,activated")
    with pytest.raises(PermissionDenied):
        compliance_report(ctx.sessions, dept.actor("clerk"), by="officer")


def _random_shifts(seed: int = 3):
    """Random events and clips of 40 officers: arrays for match_arrays, and judge's verdicts."""
    import numpy as np

    rng = np.random.default_rng(seed)
    rules = Rules.from_toml(
        '[[policy]]\nversion = "p"\neffective_from = 2020-01-01\nstart_grace_minutes = 2\n'
        "end_grace_minutes = 2\ngap_grace_minutes = 1\nself_initiated_buffer_minutes = 5\n"
    )
    events, clips = [], []
    for officer in range(40):
        t = 0.0
        for _ in range(30):
            t += float(rng.integers(600, 7200))
            length = float(rng.integers(300, 3600))
            si = bool(rng.integers(0, 2))
            events.append((officer, t, t + length, si))
            for _ in range(int(rng.integers(0, 3))):
                a = t + float(rng.integers(-600, int(length)))
                clips.append((officer, a, a + float(rng.integers(10, 2400))))
    to_dt = lambda x: T + timedelta(seconds=x)  # noqa: E731
    evs = [
        _ev(
            f"e{i}",
            officer_id=str(o),
            arrived_at=to_dt(s),
            dispatched_at=to_dt(s),
            created_at=to_dt(s),
            cleared_at=to_dt(e),
            self_initiated=si,
        )
        for i, (o, s, e, si) in enumerate(events)
    ]
    cls = [Clip(f"c{i}", str(o), to_dt(a), to_dt(b)) for i, (o, a, b) in enumerate(clips)]
    expected = list(judge(evs, cls, rules))
    ev = np.array(events, dtype=float)
    cl = np.array(clips, dtype=float)
    arrays = (
        ev[:, 0].astype(np.int64),
        ev[:, 1],
        ev[:, 2],
        np.where(ev[:, 3] > 0, 300.0, 0.0),
        cl[:, 0].astype(np.int64),
        cl[:, 1],
        cl[:, 2],
    )
    return arrays, expected


def _assert_agrees(got, expected) -> None:
    import numpy as np

    from bodycam.compliance.matching import STATUS_CODES

    statuses = [STATUS_CODES[c] for c in got.status]
    assert statuses == [v.status for v in expected]
    assert np.allclose(got.coverage, [v.coverage for v in expected])
    assert np.allclose(got.late, [v.late_s for v in expected])
    assert np.allclose(got.early, [v.early_s for v in expected])
    assert np.allclose(got.gaps, [v.gaps_s for v in expected])
    assert list(got.clips) == [len(v.recordings) for v in expected]
    assert set(statuses) == set(STATUS_CODES)  # every verdict occurs


def _pairs_by_brute_force(arrays) -> list[tuple[int, int]]:
    """Every (event, clip) overlap, by event, then by the clip's start (ties: input order)."""
    import numpy as np

    ev_off, ev_start, ev_end, ev_buf, c_off, c_start, c_end = arrays
    pairs = []
    for i in range(len(ev_start)):
        hit = np.nonzero(
            (c_off == ev_off[i]) & (c_start < ev_end[i]) & (c_end > ev_start[i] - ev_buf[i])
        )[0]
        pairs += [(i, int(j)) for j in hit[np.argsort(c_start[hit], kind="stable")]]
    return pairs


def test_the_array_matcher_agrees_with_judge_on_random_shifts():
    from bodycam.compliance.matching import match_arrays

    arrays, expected = _random_shifts()
    got = match_arrays(*arrays, start_grace=120, end_grace=120, gap_grace=60)
    _assert_agrees(got, expected)
    pairs = list(zip(got.pair_event.tolist(), got.pair_clip.tolist(), strict=True))
    assert pairs == _pairs_by_brute_force(arrays)


@pytest.mark.parametrize("variant", ["shuffled", "sparse-officer-ids", "sorted"])
def test_the_array_matcher_agrees_in_any_input_order(variant):
    """Events in any order, recordings sorted or not, officer ids compact or far apart."""
    import numpy as np

    from bodycam.compliance.matching import match_arrays

    arrays, expected = _random_shifts(seed=4)
    ev_off, ev_start, ev_end, ev_buf, c_off, c_start, c_end = arrays
    rng = np.random.default_rng(8)
    pe, pc = np.arange(len(ev_start)), np.arange(len(c_start))
    if variant == "shuffled":
        pe, pc = rng.permutation(len(ev_start)), rng.permutation(len(c_start))
    elif variant == "sparse-officer-ids":  # too far apart for a table: binary search
        ev_off, c_off = ev_off * 10**12 - 7, c_off * 10**12 - 7
        pe = rng.permutation(len(ev_start))
    else:
        pc = np.lexsort((c_start, c_off))
    arrays = (ev_off[pe], ev_start[pe], ev_end[pe], ev_buf[pe], c_off[pc], c_start[pc], c_end[pc])
    got = match_arrays(*arrays, start_grace=120, end_grace=120, gap_grace=60)
    _assert_agrees(got, [expected[i] for i in pe])
    pairs = list(zip(got.pair_event.tolist(), got.pair_clip.tolist(), strict=True))
    assert pairs == _pairs_by_brute_force(arrays)


def test_the_array_matcher_with_more_pairs_than_recordings_and_no_recordings():
    """One long recording over many events (a second pass for the pairs); none at all."""
    import numpy as np

    from bodycam.compliance.matching import STATUS_CODES, match_arrays

    n = 200
    starts = np.arange(n) * 1000.0
    ev = (np.zeros(n, dtype=np.int64), starts, starts + 600.0, np.zeros(n))
    clip = (np.array([0, 1]), np.array([-10.0, 0.0]), np.array([n * 1000.0, 50.0]))
    got = match_arrays(*ev, *clip, start_grace=120, end_grace=120, gap_grace=60)
    assert list(got.pair_event) == list(range(n)) and list(got.pair_clip) == [0] * n
    assert set(got.status) == {STATUS_CODES.index("recorded")} and (got.coverage == 1).all()
    empty = (np.empty(0, dtype=np.int64), np.empty(0), np.empty(0))
    got = match_arrays(*ev, *empty, start_grace=120, end_grace=120, gap_grace=60)
    assert set(got.status) == {STATUS_CODES.index("not_recorded")}
    assert (got.late == 600).all() and len(got.pair_event) == 0 and (got.clips == 0).all()
    got = match_arrays(*(a[:0] for a in ev), *clip, start_grace=120, end_grace=120, gap_grace=60)
    assert len(got.status) == 0 and len(got.pair_event) == 0


def test_matching_slice_by_slice_gives_the_verdicts_of_one_call():
    """Events near and on slice edges, recordings across them, buffers, 3+ pieces."""
    import numpy as np

    from bodycam.compliance.matching import (
        ClipArrays,
        EventArrays,
        match_arrays,
        match_windows,
    )

    rng = np.random.default_rng(21)
    step = 30000.0
    edges = [-2 * step + k * step for k in range(12)]  # slices [-60000, 270000)
    events, clips = [], []
    for officer in range(25):
        t = -step
        while t < 8 * step:
            t += float(rng.integers(300, 9000))
            length = float(rng.integers(300, 5400))
            events.append((officer, t, t + length, 300.0 if rng.random() < 0.5 else 0.0))
            for _ in range(int(rng.integers(0, 5))):
                a = t + float(rng.integers(-900, int(length)))
                long = rng.random() < 0.05  # across several slices
                clips.append((officer, a, a + float(rng.integers(10, 90000 if long else 2400))))
        for edge in edges[1:-1]:  # on, just before and just after each edge
            for at, buf in ((edge, 300.0), (edge - 1.0, 0.0), (edge + 100.0, 300.0)):
                events.append((officer, at, at + 1800.0, buf))
            clips.append((officer, edge - 250.0, edge + 50.0))  # in the buffer of edge + 100
            clips += [  # three pieces of the event at the edge, one before it
                (officer, edge - 100.0, edge + 600.0),
                (officer, edge + 700.0, edge + 1200.0),
                (officer, edge + 1300.0, edge + 3700.0),
            ]
    ev = np.array(events)
    cl = np.array(clips)
    pe, pc = rng.permutation(len(ev)), rng.permutation(len(cl))
    ev, cl = ev[pe], cl[pc]
    e_off, e_start, e_end, e_buf = ev[:, 0].astype(np.int64), ev[:, 1], ev[:, 2], ev[:, 3]
    c_off, c_start, c_end = cl[:, 0].astype(np.int64), cl[:, 1], cl[:, 2]
    grace = {"start_grace": 120.0, "end_grace": 120.0, "gap_grace": 60.0}
    whole = match_arrays(e_off, e_start, e_end, e_buf, c_off, c_start, c_end, **grace)
    assert (whole.clips >= 3).sum() >= 25 * 10  # events in three pieces, and more

    asked = []

    def events_starting(a: float, b: float) -> EventArrays:
        i = np.nonzero((e_start >= a) & (e_start < b))[0]
        return EventArrays(i, e_off[i], e_start[i], e_end[i], e_buf[i])

    def clips_overlapping(lo: float, hi: float) -> ClipArrays:
        asked.append((lo, hi))
        j = np.nonzero((c_start < hi) & (c_end > lo))[0]  # exactly those asked for
        return ClipArrays(j, c_off[j], c_start[j], c_end[j])

    parts = list(match_windows(edges, events_starting, clips_overlapping, **grace))
    assert len(parts) == len(edges) - 1 and len(asked) == len(parts)
    seen = np.concatenate([p.events.ids for p in parts])
    assert sorted(seen.tolist()) == list(range(len(ev)))  # every event once
    for name in ("status", "coverage", "late", "early", "gaps", "clips"):
        sliced = np.empty_like(getattr(whole, name))
        for p in parts:
            sliced[p.events.ids] = getattr(p.verdicts, name)
        assert np.array_equal(sliced, getattr(whole, name)), name
    by_event: dict[int, list[int]] = {}
    for p in parts:
        for e, c in zip(p.verdicts.pair_event, p.verdicts.pair_clip, strict=True):
            by_event.setdefault(int(p.events.ids[e]), []).append(int(p.clips.ids[c]))
    whole_by_event: dict[int, list[int]] = {}
    for e, c in zip(whole.pair_event.tolist(), whole.pair_clip.tolist(), strict=True):
        whole_by_event.setdefault(e, []).append(c)
    assert by_event == whole_by_event
    # Recordings that cross an edge were loaded for both slices.
    loaded = [set(p.clips.ids.tolist()) for p in parts]
    assert any(loaded[k] & loaded[k + 1] for k in range(len(loaded) - 1))

    with pytest.raises(ValueError, match="outside"):
        list(
            match_windows(
                [0.0, 10.0], lambda a, b: events_starting(-1e9, 1e9), clips_overlapping, **grace
            )
        )
    with pytest.raises(ValueError, match="increase"):
        list(match_windows([0.0, 0.0], events_starting, clips_overlapping, **grace))


def test_judge_fast_gives_the_same_verdicts_as_judge():
    import random

    from bodycam.compliance.matching import judge_fast

    rng = random.Random(9)
    rules = Rules.from_toml(RULES)
    events, clips = [], []
    for n in range(400):
        officer = f"o{n % 17}"
        start = T + timedelta(minutes=rng.randrange(0, 20000))
        end = start + timedelta(minutes=rng.randrange(5, 90))
        kw = {}
        if rng.random() < 0.05:
            kw["cleared_at"] = None
        if rng.random() < 0.05:
            kw["disposition"] = "CANCELLED"
        events.append(
            _ev(
                f"e{n}",
                officer_id=officer,
                arrived_at=start,
                dispatched_at=start,
                created_at=start - timedelta(days=rng.choice([0, 400])),
                self_initiated=rng.random() < 0.5,
                **({"cleared_at": end} | kw),
            )
        )
        for k in range(rng.randrange(0, 3)):
            a = start + timedelta(minutes=rng.randrange(-10, 60))
            clips.append(Clip(f"c{n}-{k}", officer, a, a + timedelta(minutes=rng.randrange(1, 60))))
    slow = list(judge(events, clips, rules))
    fast = list(judge_fast(events, clips, rules))
    assert [(v.key, v.status, v.policy, v.recordings, v.reason) for v in fast] == [
        (v.key, v.status, v.policy, v.recordings, v.reason) for v in slow
    ]
    for f, s in zip(fast, slow, strict=True):
        assert abs(f.coverage - s.coverage) < 1e-9 and abs(f.late_s - s.late_s) < 1e-6
        assert abs(f.early_s - s.early_s) < 1e-6 and abs(f.gaps_s - s.gaps_s) < 1e-6
    assert {v.status for v in slow} >= {"recorded", "exempt", "unknown", "not_recorded"}


def _import_one(ctx, admin, tmp_path, row: dict[str, str]) -> None:
    """Import a one-call generic CAD export."""
    path = write_csv(tmp_path / "cad.csv", GENERIC_HEADER, [row])
    import_cad(ctx.sessions, admin, path, load_preset("generic"))


def test_matching_tags_recordings_and_adds_the_call_types_category(
    ctx, dept, vault, clips, tmp_path
):
    from bodycam.compliance.matching_service import MatchError

    admin = dept.actor("admin")
    rid = ingest_file(vault, dept.actor("clerk"), clips(83), officer_badge="1001").id
    with transaction(ctx.sessions) as s:
        rec = s.get(Recording, rid)
        rec.recorded_start, rec.recorded_end = T - timedelta(minutes=1), T + timedelta(minutes=31)
    row = {
        "event_id": "DV-1",
        "call_type": "Domestic Disturbance",
        "priority": "1",
        "self_initiated": "Y",
        "precinct": "North",
        "location": "x",
        "disposition": "REPORT",
        "created_at": "2026-03-01T07:55:00Z",
        "badge": "1001",
        "dispatched_at": "2026-03-01T07:56:00Z",
        "arrived_at": "2026-03-01T08:00:00Z",
        "cleared_at": "2026-03-01T08:30:00Z",
    }
    _import_one(ctx, admin, tmp_path, row)
    bad = Rules.from_toml(RULES + '\n[categories]\n"DOMESTIC DISTURBANCE" = "Nope"\n')
    with pytest.raises(MatchError, match="vault does not have: Nope"):
        run_matching(ctx.sessions, admin, bad)
    rules = Rules.from_toml(
        RULES + '\n[categories]\n"DOMESTIC DISTURBANCE" = "Domestic Violence"\n'
    )
    counts = run_matching(ctx.sessions, admin, rules)
    assert counts["recorded"] == 1
    with ctx.sessions() as s:
        rec = s.get(Recording, rid)
        assert "cad:DV-1" in [t.tag for t in rec.tags]
        assert [e.name for e in rec.extra_categories] == ["Domestic Violence"]
        audits = s.scalars(
            select(AuditRecord).where(
                AuditRecord.object_id == rid, AuditRecord.action == "evidence:recording:edit"
            )
        ).all()
        assert len(audits) == 1 and audits[0].details["added_tags"] == ["cad:DV-1"]
    run_matching(ctx.sessions, admin, rules)  # nothing more to add the second time
    with ctx.sessions() as s:
        assert (
            len(
                s.scalars(
                    select(AuditRecord).where(
                        AuditRecord.object_id == rid,
                        AuditRecord.action == "evidence:recording:edit",
                    )
                ).all()
            )
            == 1
        )


def test_a_recording_tagged_with_the_event_number_counts_even_when_times_disagree(
    ctx, dept, vault, clips, tmp_path
):
    admin = dept.actor("admin")
    rid = ingest_file(vault, dept.actor("clerk"), clips(84), officer_badge="1001", tags=["E-7"]).id
    with transaction(ctx.sessions) as s:  # the camera's clock was a day off
        rec = s.get(Recording, rid)
        rec.recorded_start, rec.recorded_end = T - timedelta(days=1), T - timedelta(hours=23)
    row = {
        "event_id": "E-7",
        "call_type": "TRAFFIC STOP",
        "priority": "2",
        "self_initiated": "Y",
        "precinct": "North",
        "location": "x",
        "disposition": "CITATION",
        "created_at": "2026-03-01T08:00:00Z",
        "badge": "1001",
        "dispatched_at": "2026-03-01T08:00:00Z",
        "arrived_at": "2026-03-01T08:00:00Z",
        "cleared_at": "2026-03-01T08:30:00Z",
    }
    _import_one(ctx, admin, tmp_path, row)
    assert run_matching(ctx.sessions, admin, Rules.from_toml(RULES))["tagged"] == 1
    ((result, _),) = results(ctx.sessions, admin, badge="1001")
    assert result.status == "tagged" and result.recordings == [rid]
    assert "camera clock" in result.reason
