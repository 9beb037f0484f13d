"""Resumable uploads: the tus 1.0 protocol at /api/v1/uploads, on both engines.

Core protocol (OPTIONS, HEAD, PATCH and its offset rule), creation, termination,
expiration and the sha256 checksum extension; then what bodycam adds: the full file's
SHA-256 is checked against the declared one before anything is stored, the last PATCH
answers with the acknowledgement (recording id and hash) only after the commit, HEAD
repeats it, a complete-but-unacknowledged upload is finished by an empty PATCH, and an
upload belongs to the user who created it.
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from bodycam.evidence import service as ev
from bodycam.evidence.models import Recording
from bodycam.evidence.uploads import (
    TooLarge,
    UploadLocked,
    Uploads,
    encode_metadata,
    parse_metadata,
)
from bodycam.storage import BlobStoreError
from tests.web.conftest import count_audit

URL = "/api/v1/uploads"
OCTET = "application/offset+octet-stream"


def tus(creds, who: str = "o1") -> dict[str, str]:
    return creds.token(who) | {"Tus-Resumable": "1.0.0"}


def create(client, creds, data: bytes, who: str = "o1", **meta: str) -> str:
    meta.setdefault("filename", "clip.mp4")
    meta.setdefault("sha256", hashlib.sha256(data).hexdigest())
    resp = client.post(
        URL,
        headers=tus(creds, who)
        | {"Upload-Length": str(len(data)), "Upload-Metadata": encode_metadata(meta)},
    )
    assert resp.status_code == 201, resp.text
    assert resp.headers["tus-resumable"] == "1.0.0"
    assert resp.headers["upload-expires"].endswith("GMT")
    return resp.headers["location"]


def patch(client, creds, url: str, offset: int, body: bytes, who: str = "o1", **headers: str):
    h = tus(creds, who) | {"Content-Type": OCTET, "Upload-Offset": str(offset)}
    return client.patch(url, headers=h | headers, content=body)


def recordings(ctx) -> int:
    with ctx.sessions() as s:
        return s.scalar(select(func.count()).select_from(Recording)) or 0


def part_file(ctx, url: str) -> Path:
    return ctx.settings.resolved_home / "uploads" / f"{url.rsplit('/', 1)[1]}.part"


def test_options_advertise_the_protocol_to_anyone(client, ctx):
    resp = client.options(URL)
    assert resp.status_code == 204
    assert resp.headers["tus-resumable"] == "1.0.0"
    assert resp.headers["tus-version"] == "1.0.0"
    assert set(resp.headers["tus-extension"].split(",")) == {
        "creation",
        "expiration",
        "checksum",
        "termination",
    }
    assert resp.headers["tus-max-size"] == str(ctx.settings.max_upload_bytes)
    assert resp.headers["tus-checksum-algorithm"] == "sha256"


def test_every_other_request_must_name_the_version(client, creds, clips):
    resp = client.post(URL, headers=creds.token("o1") | {"Upload-Length": "10"})
    assert resp.status_code == 412
    assert resp.headers["tus-version"] == "1.0.0"
    resp = client.post(URL, headers=tus(creds) | {"Tus-Resumable": "0.2.2", "Upload-Length": "9"})
    assert resp.status_code == 412


def test_create_head_patch_in_chunks_then_acknowledge(client, ctx, creds, clips):
    data = clips(81).read_bytes()
    sha = hashlib.sha256(data).hexdigest()
    url = create(client, creds, data, camera="CAM-9")
    head = client.head(url, headers=tus(creds))
    assert head.status_code == 200
    assert head.headers["upload-offset"] == "0"
    assert head.headers["upload-length"] == str(len(data))
    assert head.headers["cache-control"] == "no-store"
    assert parse_metadata(head.headers["upload-metadata"])["camera"] == "CAM-9"
    offset = 0
    for size in (1000, 20_000, 7):
        resp = patch(client, creds, url, offset, data[offset : offset + size])
        assert resp.status_code == 204, resp.text
        offset += size
        assert resp.headers["upload-offset"] == str(offset)
        assert "bodycam-recording-id" not in resp.headers
        assert client.head(url, headers=tus(creds)).headers["upload-offset"] == str(offset)
    assert recordings(ctx) == 0  # nothing is a recording before the last byte
    resp = patch(client, creds, url, offset, data[offset:])
    assert resp.status_code == 204, resp.text
    assert resp.headers["upload-offset"] == str(len(data))
    assert resp.headers["bodycam-sha256"] == sha
    assert resp.headers["bodycam-duplicate"] == "false"
    rid = resp.headers["bodycam-recording-id"]
    with ctx.sessions() as s:
        rec = s.get(Recording, rid)
        assert rec is not None and rec.sha256 == sha and rec.camera_serial == "CAM-9"
        assert rec.original_filename == "clip.mp4"
    assert ctx.store.rehash(sha) == sha
    assert count_audit(ctx, "evidence:recording:ingest", object_id=rid) == 1
    assert not part_file(ctx, url).exists()  # the bytes live in the blob store now
    again = client.head(url, headers=tus(creds))  # the acknowledgement, repeated
    assert again.headers["upload-offset"] == str(len(data))
    assert again.headers["bodycam-recording-id"] == rid
    assert again.headers["bodycam-sha256"] == sha


def test_offset_mismatch_is_409_and_writes_nothing(client, creds, ctx, clips):
    data = clips(82).read_bytes()
    url = create(client, creds, data)
    assert patch(client, creds, url, 0, data[:500]).status_code == 204
    for wrong in (0, 499, 501, len(data)):
        resp = patch(client, creds, url, wrong, data[wrong : wrong + 100])
        assert resp.status_code == 409
        assert resp.headers["upload-offset"] == "500"
        assert resp.headers["tus-resumable"] == "1.0.0"
    assert part_file(ctx, url).stat().st_size == 500


def test_patch_after_completion_is_409_with_the_acknowledgement(client, creds, clips):
    data = clips(83).read_bytes()
    url = create(client, creds, data)
    done = patch(client, creds, url, 0, data)
    assert done.status_code == 204
    for offset, body in ((len(data), b""), (len(data), b"x"), (0, data)):
        resp = patch(client, creds, url, offset, body)
        assert resp.status_code == 409
        assert resp.headers["bodycam-recording-id"] == done.headers["bodycam-recording-id"]
        assert resp.headers["upload-offset"] == str(len(data))


def test_patch_needs_the_offset_content_type(client, creds, clips):
    data = clips(84).read_bytes()
    url = create(client, creds, data)
    resp = client.patch(
        url,
        headers=tus(creds) | {"Upload-Offset": "0", "Content-Type": "video/mp4"},
        content=data[:10],
    )
    assert resp.status_code == 415
    resp = client.patch(url, headers=tus(creds) | {"Content-Type": OCTET}, content=b"x")
    assert resp.status_code == 400  # no Upload-Offset


def test_bytes_past_the_declared_length_are_refused(client, creds, ctx, clips):
    data = clips(85).read_bytes()
    url = create(client, creds, data)
    assert patch(client, creds, url, 0, data[:100]).status_code == 204
    resp = patch(client, creds, url, 100, data[100:] + b"extra")
    assert resp.status_code == 413
    assert part_file(ctx, url).stat().st_size == 100
    assert recordings(ctx) == 0


def test_terminate_frees_the_bytes_and_the_upload_is_gone(client, creds, ctx, clips):
    data = clips(86).read_bytes()
    url = create(client, creds, data)
    assert patch(client, creds, url, 0, data[:300]).status_code == 204
    assert client.delete(url, headers=tus(creds)).status_code == 204
    assert not part_file(ctx, url).exists()
    assert client.head(url, headers=tus(creds)).status_code == 410
    assert patch(client, creds, url, 300, data[300:]).status_code == 410
    assert client.delete(url, headers=tus(creds)).status_code == 410
    assert recordings(ctx) == 0


def test_unknown_uploads_are_404(client, creds):
    for upload_id in ("01M85CEGGY8KM3XNPR3HG2G4PN", "../../etc/passwd", "x" * 80):
        assert client.head(f"{URL}/{upload_id}", headers=tus(creds)).status_code == 404
        resp = patch(client, creds, f"{URL}/{upload_id}", 0, b"x")
        assert resp.status_code == 404


def age(path: Path, hours: float) -> None:
    when = time.time() - hours * 3600
    os.utime(path, (when, when))


def test_stale_uploads_expire_then_are_forgotten(client, creds, ctx, clips):
    data = clips(87).read_bytes()
    url = create(client, creds, data)
    assert patch(client, creds, url, 0, data[:100]).status_code == 204
    fresh = create(client, creds, data)
    hours = ctx.settings.upload_expiry_hours
    age(part_file(ctx, url), hours + 1)
    assert client.head(url, headers=tus(creds)).status_code == 410
    assert not part_file(ctx, url).exists()
    resp = patch(client, creds, url, 100, data[100:])
    assert resp.status_code == 410 and "expired" in resp.json()["detail"]
    uploads = Uploads.from_context(ctx)
    record = part_file(ctx, url).with_suffix(".json")
    age(record, hours + 1)  # the tombstone, too, goes after a while
    age(part_file(ctx, fresh), hours + 1)
    orphan = ctx.settings.resolved_home / "uploads" / "01M85CEGGY8KM3XNPR3HG2G4PN.part"
    orphan.write_bytes(b"bytes whose record was never written (a crash)")
    age(orphan, hours + 1)
    assert uploads.sweep() == 3
    assert client.head(url, headers=tus(creds)).status_code == 404
    assert client.head(fresh, headers=tus(creds)).status_code == 410
    assert list((ctx.settings.resolved_home / "uploads").glob("*.part")) == []


def test_chunk_checksums(client, creds, ctx, clips):
    data = clips(88).read_bytes()
    url = create(client, creds, data)

    def digest(b: bytes) -> str:
        return "sha256 " + base64.b64encode(hashlib.sha256(b).digest()).decode()

    ok = patch(client, creds, url, 0, data[:1000], **{"Upload-Checksum": digest(data[:1000])})
    assert ok.status_code == 204 and ok.headers["upload-offset"] == "1000"
    bad = patch(client, creds, url, 1000, data[1000:2000], **{"Upload-Checksum": digest(b"no")})
    assert bad.status_code == 460
    assert client.head(url, headers=tus(creds)).headers["upload-offset"] == "1000"
    odd = patch(client, creds, url, 1000, data[1000:2000], **{"Upload-Checksum": "md5 AAAA"})
    assert odd.status_code == 400
    rest = data[1000:]
    done = patch(client, creds, url, 1000, rest, **{"Upload-Checksum": digest(rest)})
    assert done.status_code == 204 and done.headers["bodycam-sha256"]


def test_a_file_whose_bytes_differ_from_the_declared_hash_is_not_stored(client, creds, ctx, clips):
    data = clips(89).read_bytes()
    url = create(client, creds, data, sha256=hashlib.sha256(b"other").hexdigest())
    resp = patch(client, creds, url, 0, data)
    assert resp.status_code == 460
    assert "declared" in resp.json()["detail"]
    assert recordings(ctx) == 0
    assert not ctx.store.exists(hashlib.sha256(data).hexdigest())
    assert client.head(url, headers=tus(creds)).status_code == 410  # upload again


def test_a_file_that_is_not_a_video_is_refused_whole(client, creds, ctx):
    data = b"this is a text file, not a video\n" * 150
    url = create(client, creds, data)
    resp = patch(client, creds, url, 0, data)
    assert resp.status_code == 422
    assert recordings(ctx) == 0
    assert client.head(url, headers=tus(creds)).status_code == 410
    gone = patch(client, creds, url, len(data), b"")
    assert gone.status_code == 410 and "refused" in gone.json()["detail"]


def test_the_same_bytes_again_are_acknowledged_as_the_recording_held(client, creds, ingest):
    held = ingest(90, "1001")
    data = held.path.read_bytes()
    url = create(client, creds, data)
    resp = patch(client, creds, url, 0, data)
    assert resp.status_code == 204
    assert resp.headers["bodycam-recording-id"] == held.id
    assert resp.headers["bodycam-sha256"] == held.sha256
    assert resp.headers["bodycam-duplicate"] == "true"


def test_complete_but_unacknowledged_is_finished_by_an_empty_patch(
    client, creds, ctx, clips, monkeypatch
):
    data = clips(91).read_bytes()
    url = create(client, creds, data)

    def storage_down(*args, **kwargs):
        raise BlobStoreError("The blob store is unreachable.")

    with monkeypatch.context() as m:
        m.setattr(ev, "ingest_file", storage_down)
        resp = patch(client, creds, url, 0, data)
    assert resp.status_code == 503
    head = client.head(url, headers=tus(creds))
    assert head.headers["upload-offset"] == str(len(data))
    assert "bodycam-recording-id" not in head.headers  # every byte, no acknowledgement
    assert recordings(ctx) == 0
    resp = patch(client, creds, url, len(data), b"")
    assert resp.status_code == 204
    assert resp.headers["bodycam-sha256"] == hashlib.sha256(data).hexdigest()
    assert recordings(ctx) == 1


def test_one_request_at_a_time(client, creds, ctx, clips, dept):
    data = clips(92).read_bytes()
    url = create(client, creds, data)
    uploads = Uploads.from_context(ctx)
    holder = uploads.open_append(dept.actor("o1", "api"), url.rsplit("/", 1)[1], 0)
    try:
        assert patch(client, creds, url, 0, data[:10]).status_code == 423
        assert client.delete(url, headers=tus(creds)).status_code == 423
        with pytest.raises(UploadLocked):
            uploads.open_append(dept.actor("o1", "api"), url.rsplit("/", 1)[1], 0)
    finally:
        holder.close()
    assert patch(client, creds, url, 0, data[:10]).status_code == 204


def test_an_upload_belongs_to_its_creator(client, creds, ctx, clips):
    data = clips(93).read_bytes()
    url = create(client, creds, data, who="o1")
    for who in ("o2", "sgt_a", "clerk", "auditor"):
        before = count_audit(ctx, "access:request:denied", actor=who)
        assert client.head(url, headers=tus(creds, who)).status_code == 403
        assert patch(client, creds, url, 0, data, who=who).status_code == 403
        assert client.delete(url, headers=tus(creds, who)).status_code == 403
        assert count_audit(ctx, "access:request:denied", actor=who) == before + 3
    assert client.head(url, headers={"Tus-Resumable": "1.0.0"}).status_code == 401
    assert part_file(ctx, url).stat().st_size == 0


def test_creation_checks_who_may_ingest_for_whom(client, creds, ctx, clips):
    data = clips(94).read_bytes()
    sha = hashlib.sha256(data).hexdigest()

    def post(who: str, **meta: str):
        return client.post(
            URL,
            headers=tus(creds, who)
            | {"Upload-Length": str(len(data)), "Upload-Metadata": encode_metadata(meta)},
        )

    before = count_audit(ctx, "access:request:denied", actor="o1")
    assert post("o1", officer="2001", sha256=sha).status_code == 403
    assert count_audit(ctx, "access:request:denied", actor="o1") == before + 1
    assert post("auditor", officer="1001").status_code == 403
    assert post("clerk", sha256=sha).status_code == 400  # no badge, no officer named
    assert post("clerk", officer="2001", sha256=sha).status_code == 201
    assert post("sgt_a", officer="1002").status_code == 201  # the squad's
    assert post("o1", sha256="xyz").status_code == 400
    assert post("o1", officer="9999").status_code == 422  # no such badge
    bad = client.post(
        URL,
        headers=tus(creds) | {"Upload-Length": "10", "Upload-Metadata": "filename !!!"},
    )
    assert bad.status_code == 400
    for length in ("-1", "0", "ten", ""):
        resp = client.post(URL, headers=tus(creds) | {"Upload-Length": length})
        assert resp.status_code == 400, length
    deferred = client.post(URL, headers=tus(creds) | {"Upload-Defer-Length": "1"})
    assert deferred.status_code == 400


def test_the_size_limit_applies(ctx, dept, vault):
    from datetime import timedelta

    uploads = Uploads(vault, ctx.settings.resolved_home / "uploads", 1000, timedelta(hours=1))
    with pytest.raises(TooLarge):
        uploads.create(dept.actor("o1", "api"), 1001, None)
    st = uploads.create(dept.actor("o1", "api"), 1000, None)
    assert st.upload.officer == "1001" and st.offset == 0


def test_metadata_header_codec():
    values = {"filename": "Körper cam, 1.mp4", "officer": "1001", "empty": ""}
    assert parse_metadata(encode_metadata(values)) == values
    assert parse_metadata("flag,name bmFtZQ==") == {"flag": "", "name": "name"}
    for bad in ("a x", "a eA==,a eA==", "a !!!", "k,k", "ke y eA=="):
        with pytest.raises(Exception, match="Upload-Metadata"):
            parse_metadata(bad)
