"""The HTTP API over real clips, a real database and a real blob store (no mocks)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import av
import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.audit.service import verify_log
from bodycam.evidence import service as ev
from bodycam.evidence.models import Recording
from bodycam.synth.video import frame_at
from tests.conftest import CLIP_EPOCH
from tests.web.conftest import count_audit, sha256_of

ROOT = Path(__file__).resolve().parents[2]
UPLOAD = "/api/v1/recordings"
STREAM = "evidence:recording:stream"
DENIED = "access:request:denied"


def rec_url(rid: str, tail: str = "") -> str:
    return f"/api/v1/recordings/{rid}{tail}"


def nothing_stored(ctx) -> bool:
    with ctx.sessions() as s:
        rows = s.scalars(select(Recording.id)).all()
    spool = ctx.settings.resolved_home / "spool"
    leftovers = list(spool.iterdir()) if spool.exists() else []
    return rows == [] and list(ctx.store.iter_hashes()) == [] and leftovers == []


# --- upload -----------------------------------------------------------------------------------


def test_streamed_upload_stores_once_and_answers_duplicates(client, ctx, creds, clips):
    clip = clips(1)
    body = clip.read_bytes()
    params = {"officer": "1001", "filename": "x.mp4", "category": "Traffic Stop"}
    first = client.post(UPLOAD, params=params, content=body, headers=creds.token("o1"))
    assert first.status_code == 201, first.text
    out = first.json()
    assert out["sha256"] == hashlib.sha256(body).hexdigest() and out["duplicate"] is False
    assert ctx.store.rehash(out["sha256"]) == out["sha256"]

    again = client.post(UPLOAD, params=params, content=body, headers=creds.token("o1"))
    assert again.status_code == 200
    assert again.json() == {"id": out["id"], "sha256": out["sha256"], "duplicate": True}

    got = client.get(rec_url(out["id"]), headers=creds.token("o1")).json()
    assert got["title"] == "x" and got["category"] == "Traffic Stop"
    assert got["size_bytes"] == len(body) and (got["width"], got["height"]) == (160, 96)
    assert count_audit(ctx, "evidence:recording:ingest", object_id=out["id"], via="api") == 1
    assert count_audit(ctx, "evidence:recording:ingest_duplicate", object_id=out["id"]) == 1


def test_declared_sha256_is_checked(client, ctx, creds, clips):
    clip = clips(2)
    headers = creds.token("o1")
    wrong = client.post(
        UPLOAD,
        params={"officer": "1001", "filename": "cam7.mp4"},
        content=clip.read_bytes(),
        headers=headers | {"X-Content-SHA256": "0" * 64},
    )
    assert wrong.status_code == 422, wrong.text
    assert wrong.json()["detail"] == (
        f"cam7.mp4 has SHA-256 {sha256_of(clip)}, not the {'0' * 64} declared in "
        "X-Content-SHA256; nothing was stored."
    )
    assert nothing_stored(ctx)

    malformed = client.post(
        UPLOAD,
        params={"officer": "1001"},
        content=clip.read_bytes(),
        headers=headers | {"X-Content-SHA256": "not-a-hash"},
    )
    assert malformed.status_code == 422
    assert malformed.json()["detail"] == "X-Content-SHA256 must be 64 hexadecimal characters."
    assert nothing_stored(ctx)

    right = client.post(
        UPLOAD,
        params={"officer": "1001"},
        content=clip.read_bytes(),
        headers=headers | {"X-Content-SHA256": sha256_of(clip).upper()},
    )
    assert right.status_code == 201, right.text
    assert right.json()["sha256"] == sha256_of(clip)


def test_corrupt_upload_is_refused_with_a_sentence_naming_the_file(client, ctx, creds):
    resp = client.post(
        UPLOAD,
        params={"officer": "1001", "filename": "../shift notes.mp4"},
        content=b"this is a text file, not a video\n" * 50,
        headers=creds.token("o1"),
    )
    assert resp.status_code == 422
    detail = resp.json()["detail"]
    assert "shift notes.mp4" in detail and ".." not in detail
    assert detail.endswith(".") and "\n" not in detail and "Traceback" not in detail
    assert nothing_stored(ctx)
    empty = client.post(
        UPLOAD,
        params={"officer": "1001", "filename": "empty.mp4"},
        content=b"",
        headers=creds.token("o1"),
    )
    assert empty.status_code == 422 and "empty.mp4" in empty.json()["detail"]
    assert nothing_stored(ctx)


def test_upload_needs_a_token_and_the_right_badge(client, ctx, creds, clips):
    body = clips(3).read_bytes()
    anonymous = client.post(UPLOAD, params={"officer": "1001"}, content=body)
    assert anonymous.status_code == 401
    assert anonymous.headers["www-authenticate"] == "Bearer"
    forged = client.post(
        UPLOAD,
        params={"officer": "1001"},
        content=body,
        headers={"Authorization": "Bearer bcm_not-a-real-token"},
    )
    assert forged.status_code == 401

    other = client.post(UPLOAD, params={"officer": "2001"}, content=body, headers=creds.token("o1"))
    assert other.status_code == 403
    assert "badge 2001" in other.json()["detail"]
    unknown = client.post(
        UPLOAD, params={"officer": "7777"}, content=body, headers=creds.token("clerk")
    )
    assert unknown.status_code == 422 and unknown.json()["detail"] == "No officer has badge 7777."
    for role in ("equipment", "analyst", "admin", "auditor", "external"):
        refused = client.post(
            UPLOAD, params={"officer": "1001"}, content=body, headers=creds.token(role)
        )
        assert refused.status_code == 403, role
    assert nothing_stored(ctx)


# --- list, get, edit --------------------------------------------------------------------------


def test_list_filters_and_pages(client, ingest, creds):
    a = ingest(11, "1001", category="Traffic Stop", title="Stop on Main", tags=["dui"])
    b = ingest(12, "1002", title="Noise complaint", cases=["26-00042"])
    c = ingest(13, "2001", category="Traffic Stop", title="Crash on Elm", tags=["dui", "crash"])
    d = ingest(14, "1001", category="Domestic Violence", title="Kitchen")

    def ids(headers=None, **params):
        resp = client.get(UPLOAD, params=params, headers=headers or creds.token("clerk"))
        assert resp.status_code == 200, resp.text
        return [item["id"] for item in resp.json()["items"]]

    assert ids() == [d.id, c.id, b.id, a.id]  # newest first
    assert ids(officer="1001") == [d.id, a.id]
    assert ids(officer="o2") == [b.id]  # user names work too
    assert ids(category="Traffic Stop") == [c.id, a.id]
    assert ids(tag="dui") == [c.id, a.id]
    assert ids(tag="crash") == [c.id]
    assert ids(q="ON MAIN") == [a.id]
    assert ids(q="00042") == [b.id]  # case numbers
    start = CLIP_EPOCH + timedelta(hours=12)
    assert ids(**{"from": start.isoformat(), "to": (start + timedelta(hours=2)).isoformat()}) == [
        c.id,
        b.id,
    ]
    assert ids(officer="1001", category="Traffic Stop", tag="dui", q="main") == [a.id]

    page = client.get(UPLOAD, params={"per_page": 3, "page": 2}, headers=creds.token("clerk"))
    assert page.json()["total"] == 4 and page.json()["page"] == 2
    assert [i["id"] for i in page.json()["items"]] == [a.id]
    assert ids(per_page=3, page=3) == []
    for bad in ({"per_page": 0}, {"per_page": 501}, {"page": 0}, {"from": "yesterday"}):
        resp = client.get(UPLOAD, params=bad, headers=creds.token("clerk"))
        assert resp.status_code == 422 and resp.json()["detail"].startswith("Invalid request:")

    # Scope: an officer sees their own (not the restricted one), a sergeant the squad's.
    assert ids(creds.token("o1")) == [a.id]
    assert ids(creds.token("sgt_a")) == [b.id, a.id]
    assert ids(creds.token("sgt_b")) == [c.id]


def test_get_and_patch_keep_history(client, ctx, vault, dept, ingest, creds):
    rec = ingest(21, "1001", title="Original")
    got = client.get(rec_url(rec.id), headers=creds.token("sgt_a"))
    assert got.status_code == 200 and got.json()["title"] == "Original"
    assert got.json()["sha256"] == rec.sha256 and got.json()["category"] == "Uncategorized"

    patch = {
        "title": "Stop at 5th and Main",
        "tags": ["dui", " dui ", "arrest"],
        "cases": ["26-7"],
        "category": "Traffic Stop",
        "notes": "Reviewed.",
    }
    resp = client.patch(rec_url(rec.id), json=patch, headers=creds.token("sgt_a"))
    assert resp.status_code == 200, resp.text
    out = resp.json()
    assert out["title"] == "Stop at 5th and Main" and out["tags"] == ["arrest", "dui"]
    assert out["cases"] == ["26-7"] and out["category"] == "Traffic Stop"
    assert out["notes"] == "Reviewed."

    history = ev.view(vault, dept.actor("auditor"), rec.id).edits
    fields = {e.field: (e.old_value, e.new_value) for e in history}
    assert fields["title"] == ("Original", "Stop at 5th and Main")
    assert fields["category"] == ("Uncategorized", "Traffic Stop")
    assert fields["tags"] == ([], ["arrest", "dui"])
    assert count_audit(ctx, "evidence:recording:edit", object_id=rec.id) == 4
    assert count_audit(ctx, "evidence:recording:category_change", object_id=rec.id) == 1

    for body, message in [
        ({}, "Nothing to change."),
        ({"title": "  "}, "The title cannot be empty."),
        ({"category": "Nope"}, "Unknown category 'Nope'"),
    ]:
        bad = client.patch(rec_url(rec.id), json=body, headers=creds.token("sgt_a"))
        assert bad.status_code == 422 and bad.json()["detail"].startswith(message), body
    too_long = client.patch(
        rec_url(rec.id), json={"title": "x" * 201}, headers=creds.token("sgt_a")
    )
    assert too_long.status_code == 422 and "title" in too_long.json()["detail"]

    # The officer may see but not edit; nothing changes and the refusal is audited.
    before = count_audit(ctx, DENIED, actor="o1")
    refused = client.patch(rec_url(rec.id), json={"title": "Mine"}, headers=creds.token("o1"))
    assert refused.status_code == 403 and "evidence:recording:edit" in refused.json()["detail"]
    assert count_audit(ctx, DENIED, actor="o1") == before + 1
    assert client.get(rec_url(rec.id), headers=creds.token("o1")).json()["title"] == (
        "Stop at 5th and Main"
    )
    assert (
        client.get(rec_url("01NOSUCHRECORDING000000000"), headers=creds.token("clerk")).status_code
        == 404
    )


def test_patch_refuses_moving_a_recording_out_of_the_editors_sight(client, ctx, ingest, creds):
    rec = ingest(22, "1001", title="Interview")
    # A clerk may not see confidential footage, so may not reclassify footage as confidential:
    # the change would lock the clerk out of what they just edited (and nobody could move it back).
    resp = client.patch(
        rec_url(rec.id), json={"category": "Sexual Assault"}, headers=creds.token("clerk")
    )
    assert resp.status_code == 403, resp.text
    assert "would hide it" in resp.json()["detail"]
    assert count_audit(ctx, "evidence:recording:category_change", object_id=rec.id) == 0
    assert count_audit(ctx, DENIED, actor="clerk") == 1
    got = client.get(rec_url(rec.id), headers=creds.token("clerk"))
    assert got.status_code == 200 and got.json()["category"] == "Uncategorized"


# --- streaming and download -------------------------------------------------------------------


def test_range_requests_and_one_audit_record_per_stream(client, ctx, ingest, creds):
    rec = ingest(31, "1001")
    data = rec.path.read_bytes()
    size = len(data)
    url = rec_url(rec.id, "/content")
    headers = creds.token("o1")
    served = 0

    def get(range_header: str | None = None):
        nonlocal served
        before = count_audit(ctx, STREAM, object_id=rec.id)
        extra = {"Range": range_header} if range_header else {}
        resp = client.get(url, headers=headers | extra)
        if resp.status_code in (200, 206):
            served += 1
            assert count_audit(ctx, STREAM, object_id=rec.id) == before + 1
        else:
            assert count_audit(ctx, STREAM, object_id=rec.id) == before
        return resp

    first = get("bytes=0-99")
    assert first.status_code == 206
    assert first.headers["content-range"] == f"bytes 0-99/{size}"
    assert first.headers["content-length"] == "100" and first.content == data[:100]
    assert first.headers["accept-ranges"] == "bytes"
    assert first.headers["content-type"] == "video/mp4"
    assert "no-store" in first.headers["cache-control"]

    tail = get("bytes=100-")
    assert tail.status_code == 206 and tail.content == data[100:]
    assert tail.headers["content-range"] == f"bytes 100-{size - 1}/{size}"
    suffix = get("bytes=-50")
    assert suffix.status_code == 206 and suffix.content == data[-50:]
    assert suffix.headers["content-range"] == f"bytes {size - 50}-{size - 1}/{size}"
    clipped = get(f"bytes={size - 10}-{size + 1000}")
    assert clipped.status_code == 206 and clipped.content == data[-10:]

    for unsatisfiable in (f"bytes={size}-", f"bytes={size + 5}-{size + 10}"):
        resp = get(unsatisfiable)
        assert resp.status_code == 416, unsatisfiable
        assert str(size) in resp.json()["detail"]

    full = get()
    assert full.status_code == 200 and full.content == data
    assert full.headers["content-length"] == str(size)
    assert full.headers["etag"] == f'"{rec.sha256}"'
    assert count_audit(ctx, STREAM, object_id=rec.id) == served == 5

    with ctx.sessions() as s:
        details = s.scalars(
            select(AuditRecord.details).where(
                AuditRecord.action == STREAM, AuditRecord.object_id == rec.id
            )
        ).all()
    ranges = sorted(
        (d.get("range_start"), d.get("range_end"))
        for d in details
        if d.get("range_start") is not None
    )
    assert ranges == sorted([(0, 100), (100, size), (size - 50, size), (size - 10, size)])


def test_streamed_bytes_decode_to_the_synthetic_picture(client, ingest, creds, tmp_path):
    rec = ingest(32, "1001")
    out = tmp_path / "played.mp4"
    with client.stream("GET", rec_url(rec.id, "/content"), headers=creds.token("o1")) as resp:
        assert resp.status_code == 200
        with out.open("wb") as f:
            for chunk in resp.iter_bytes():
                f.write(chunk)
    assert sha256_of(out) == rec.sha256
    with av.open(str(out)) as container:
        frame = next(container.decode(video=0)).to_ndarray(format="rgb24")
    expected = frame_at(32, 0, 160, 96)
    assert np.abs(frame.astype(int) - expected.astype(int)).mean() < 12


def test_download_needs_the_download_permission(client, ctx, ingest, creds):
    rec = ingest(33, "1001")
    resp = client.get(rec_url(rec.id, "/download"), headers=creds.token("clerk"))
    assert resp.status_code == 200 and resp.content == rec.path.read_bytes()
    assert resp.headers["content-disposition"].startswith("attachment;")
    assert rec.id in resp.headers["content-disposition"]
    assert count_audit(ctx, "evidence:recording:download", object_id=rec.id, actor="clerk") == 1

    before = count_audit(ctx, DENIED, actor="o1", object_id=rec.id)
    own = client.get(rec_url(rec.id, "/download"), headers=creds.token("o1"))
    assert own.status_code == 403
    assert own.json()["detail"] == (
        "User o1 (officer) may not download recording "
        f"{rec.id}: the role lacks the permission evidence:recording:download."
    )
    assert count_audit(ctx, DENIED, actor="o1", object_id=rec.id) == before + 1
    assert count_audit(ctx, "evidence:recording:download", object_id=rec.id) == 1


# --- audit ------------------------------------------------------------------------------------


def test_audit_trail_for_auditors_only(client, ctx, ingest, creds):
    rec = ingest(41, "1001")
    client.get(rec_url(rec.id), headers=creds.token("o1"))
    trail = client.get(rec_url(rec.id, "/audit"), headers=creds.token("auditor"))
    assert trail.status_code == 200
    rows = trail.json()
    assert [r["action"] for r in rows] == ["evidence:recording:ingest", "evidence:recording:view"]
    assert [r["actor"] for r in rows] == ["clerk", "o1"]
    assert rows[1]["via"] == "api" and rows[1]["role"] == "officer"
    assert count_audit(ctx, "audit:trail:view", object_id=rec.id, actor="auditor") == 1

    refused = client.get(rec_url(rec.id, "/audit"), headers=creds.token("clerk"))
    assert refused.status_code == 403
    assert refused.json()["detail"].endswith("the role lacks the permission audit:log:view.")
    assert count_audit(ctx, DENIED, actor="clerk", object_id=rec.id) == 1
    missing = client.get(
        rec_url("01NOSUCHRECORDING000000000", "/audit"), headers=creds.token("auditor")
    )
    assert missing.status_code == 404


def test_proof_is_accepted_by_the_outsider_tool(client, ctx, ingest, creds, tmp_path):
    rec = ingest(42, "1001")
    with ctx.sessions() as s:
        record_id = s.scalars(select(AuditRecord.id).where(AuditRecord.object_id == rec.id)).one()
    resp = client.get(f"/api/v1/audit/records/{record_id}/proof", headers=creds.token("auditor"))
    assert resp.status_code == 200, resp.text
    doc = resp.json()
    assert doc["record"]["id"] == record_id and doc["record"]["object_id"] == rec.id
    key = client.get("/api/v1/audit/public-key")  # public: an outsider fetches it
    assert key.status_code == 200 and key.text.startswith("-----BEGIN PUBLIC KEY-----")
    (tmp_path / "proof.json").write_text(json.dumps(doc))
    (tmp_path / "agency.pem").write_text(key.text)
    run = subprocess.run(
        [
            sys.executable,
            "-I",
            str(ROOT / "tools" / "verify_proof.py"),
            "proof.json",
            "--public-key",
            "agency.pem",
            "--key-name",
            ctx.settings.audit_origin,
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1].startswith(f"OK: record {record_id} is entry ")

    checkpoint = client.get("/api/v1/audit/checkpoint")
    assert checkpoint.status_code == 200 and checkpoint.text.startswith(ctx.settings.audit_origin)
    assert (
        client.get(
            f"/api/v1/audit/records/{record_id}/proof", headers=creds.token("clerk")
        ).status_code
        == 403
    )
    assert (
        client.get("/api/v1/audit/records/nope/proof", headers=creds.token("auditor")).status_code
        == 404
    )


# --- sessions on the API, identity, health ----------------------------------------------------


def test_session_cookie_writes_need_the_csrf_header(client, ingest, creds):
    rec = ingest(51, "1001", title="Before")
    cookie = creds.cookie("sgt_a")
    assert client.get(rec_url(rec.id), headers=cookie).status_code == 200  # reads need no token
    for extra in ({}, {"X-CSRF-Token": "wrong"}):
        resp = client.patch(rec_url(rec.id), json={"title": "After"}, headers=cookie | extra)
        assert resp.status_code == 403
        assert (
            resp.json()["detail"] == "Missing or wrong X-CSRF-Token header for a session request."
        )
    assert client.get(rec_url(rec.id), headers=cookie).json()["title"] == "Before"
    ok = client.patch(
        rec_url(rec.id),
        json={"title": "After"},
        headers=cookie | {"X-CSRF-Token": creds.csrf("sgt_a")},
    )
    assert ok.status_code == 200 and ok.json()["title"] == "After"


def test_me_and_health(client, creds):
    me = client.get("/api/v1/me", headers=creds.token("clerk")).json()
    assert me["username"] == "clerk" and me["role"] == "records_clerk"
    assert "evidence:recording:download" in me["permissions"]
    assert client.get("/api/v1/me").status_code == 401
    health = client.get("/api/v1/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert health.headers["x-content-type-options"] == "nosniff"


def test_lifespan_seals_what_was_recorded(app, ctx, creds, ingest):
    """With the lifespan (context manager), shutdown seals every pending audit record."""
    rec = ingest(52, "1001")
    with TestClient(app) as c:
        assert c.get(rec_url(rec.id), headers=creds.token("o1")).status_code == 200
    with ctx.sessions() as s:
        assert s.scalars(select(AuditRecord.id).where(AuditRecord.seq.is_(None))).all() == []
    report = verify_log(ctx.sessions, ctx.signer.public_key, ctx.signer.key_name)
    assert report.problems == [] and report.pending == 0 and report.records >= 3
