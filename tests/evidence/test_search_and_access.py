"""Search, scopes (own, squad, any), access classes, views, streams, edits and history."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.auth.actor import PermissionDenied
from bodycam.evidence import service as ev
from bodycam.evidence.models import RecordingEdit
from bodycam.evidence.service import EvidenceError, NotFound, SearchQuery, Vault, parse_range
from tests.conftest import CLIP_EPOCH


@pytest.fixture
def library(ctx, dept, vault, clips):
    """Five recordings across officers, squads and access classes."""
    plan = [  # seed, badge, category, tags, case
        (11, "1001", "Traffic Stop", ["dui"], "26-100"),
        (12, "1002", "Uncategorized", [], None),
        (13, "2001", "Traffic Stop", ["vehicle"], None),
        (14, "1001", "Domestic Violence", [], "26-200"),
        (15, "2001", "Sexual Assault", [], None),
    ]
    ids = {}
    for seed, badge, cat, tags, case in plan:
        r = ev.ingest_file(
            vault,
            dept.actor("clerk"),
            clips(seed),
            officer_badge=badge,
            category=cat,
            tags=tags,
            cases=[case] if case else [],
        )
        ids[seed] = r.id
    return ids


def visible(vault, actor, **q) -> set[str]:
    return {r.id for r in ev.search(vault, actor, SearchQuery(per_page=500, **q)).items}


def test_scopes_follow_roles_and_access_classes(ctx, dept, vault, library):
    L = library
    assert visible(vault, dept.actor("o1")) == {L[11]}  # own; DV is restricted
    assert visible(vault, dept.actor("o3")) == {L[13]}
    assert visible(vault, dept.actor("sgt_a")) == {L[11], L[12]}
    assert visible(vault, dept.actor("sgt_b")) == {L[13]}
    assert visible(vault, dept.actor("clerk")) == {L[11], L[12], L[13], L[14]}
    assert visible(vault, dept.actor("auditor")) == set(L.values())
    for name in ("equipment", "analyst", "external", "admin"):
        with pytest.raises(PermissionDenied):
            ev.search(vault, dept.actor(name), SearchQuery())


def test_officer_viewing_own_is_a_policy_setting(ctx, dept, library):
    strict = Vault(ctx.sessions, ctx.store, officer_sees_own=False)
    assert visible(strict, dept.actor("o1")) == set()


def test_filters_and_pagination(ctx, dept, vault, library):
    clerk = dept.actor("clerk")
    L = library
    assert visible(vault, clerk, officer="1001") == {L[11], L[14]}
    assert visible(vault, clerk, officer="o3") == {L[13]}
    assert visible(vault, clerk, category="Traffic Stop") == {L[11], L[13]}
    assert visible(vault, clerk, tag="dui") == {L[11]}
    assert visible(vault, clerk, text="26-200") == {L[14]}
    assert visible(vault, clerk, start_from=CLIP_EPOCH + timedelta(hours=13)) == {L[13], L[14]}
    assert visible(vault, clerk, start_to=CLIP_EPOCH + timedelta(hours=12)) == {L[11]}
    p1 = ev.search(vault, clerk, SearchQuery(per_page=3, page=1))
    p2 = ev.search(vault, clerk, SearchQuery(per_page=3, page=2))
    assert p1.total == 4 and p1.pages == 2 and len(p1.items) == 3 and len(p2.items) == 1
    assert not {r.id for r in p1.items} & {r.id for r in p2.items}
    with pytest.raises(EvidenceError):
        ev.search(vault, clerk, SearchQuery(per_page=0))


def test_out_of_scope_is_not_found_and_audited_as_denied(ctx, dept, vault, library):
    with pytest.raises(NotFound):
        ev.view(vault, dept.actor("o1"), library[13])
    with pytest.raises(NotFound):
        ev.open_stream(vault, dept.actor("clerk"), library[15], None)
    with ctx.sessions() as s:
        denied = list(
            s.scalars(select(AuditRecord).where(AuditRecord.action == "access:request:denied"))
        )
    assert {d.actor for d in denied} == {"o1", "clerk"}


def test_view_stream_download_are_audited_once_each(ctx, dept, vault, library):
    rid = library[11]
    ev.view(vault, dept.actor("o1"), rid)
    rec, rng, chunks = ev.open_stream(vault, dept.actor("o1"), rid, "bytes=0-99")
    assert rng is not None and sum(len(c) for c in chunks) == 100
    with pytest.raises(PermissionDenied):
        ev.open_stream(vault, dept.actor("o1"), rid, None, download=True)
    _, _, chunks = ev.open_stream(vault, dept.actor("clerk"), rid, None, download=True)
    data = b"".join(chunks)
    assert len(data) == rec.size_bytes
    with ctx.sessions() as s:
        rows = list(
            s.scalars(
                select(AuditRecord).where(AuditRecord.object_id == rid).order_by(AuditRecord.at)
            )
        )
    actions = [(r.actor, r.action) for r in rows]
    assert actions == [
        ("clerk", "evidence:recording:ingest"),
        ("o1", "evidence:recording:view"),
        ("o1", "evidence:recording:stream"),
        ("o1", "access:request:denied"),
        ("clerk", "evidence:recording:download"),
    ]
    assert rows[2].details["range_start"] == 0 and rows[2].details["range_end"] == 100


def test_edits_keep_history_and_never_touch_the_original(ctx, dept, vault, library):
    rid = library[12]
    before = ctx.store.rehash(ev.view(vault, dept.actor("clerk"), rid).recording.sha256)
    ev.edit(
        vault,
        dept.actor("sgt_a"),
        rid,
        {
            "title": "Stop on Main St",
            "tags": ["a", "b"],
            "category": "Traffic Stop",
            "cases": ["26-9"],
        },
    )
    ev.edit(vault, dept.actor("sgt_a"), rid, {"tags": ["b", "c"]})
    v = ev.view(vault, dept.actor("clerk"), rid)
    assert v.recording.title == "Stop on Main St" and v.category.name == "Traffic Stop"
    assert [t.tag for t in v.recording.tags] == ["b", "c"]
    assert [(e.field, e.old_value, e.new_value) for e in v.edits][-1] == (
        "tags",
        ["a", "b"],
        ["b", "c"],
    )
    assert ctx.store.rehash(v.recording.sha256) == before
    with ctx.sessions() as s:
        assert (
            len(list(s.scalars(select(RecordingEdit).where(RecordingEdit.recording_id == rid))))
            == 5
        )
        actions = list(s.scalars(select(AuditRecord.action).where(AuditRecord.object_id == rid)))
    assert actions.count("evidence:recording:category_change") == 1
    with pytest.raises(PermissionDenied):
        ev.edit(vault, dept.actor("o2"), rid, {"title": "mine"})
    with pytest.raises(NotFound):
        ev.edit(vault, dept.actor("sgt_b"), rid, {"title": "theirs"})
    with pytest.raises(EvidenceError, match="editable fields"):
        ev.edit(vault, dept.actor("sgt_a"), rid, {"sha256": "x"})


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("bytes=0-9", (0, 10)),
        ("bytes=10-", (10, 100)),
        ("bytes=-5", (95, 100)),
        ("bytes=90-200", (90, 100)),
        (None, None),
    ],
)
def test_parse_range(header, expected):
    r = parse_range(header, 100)
    assert (None if r is None else (r.start, r.end)) == expected


@pytest.mark.parametrize(
    "header", ["bytes=100-", "bytes=5-1", "items=0-1", "bytes=0-1,4-5", "bytes=x-"]
)
def test_parse_range_rejects(header):
    with pytest.raises(EvidenceError):
        parse_range(header, 100)
