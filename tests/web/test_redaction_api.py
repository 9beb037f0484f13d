"""The redaction API and editor pages, end to end on a real clip with a real face.

Start a project (its detection is a job, run here), decide on the track, add a drawn
box, a whole-picture range and audio ranges, preview a segment (its decoded pixels are
checked), render through the job, play the copy; refusals for an officer, and the CSRF
header a page session must send.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

import av
import numpy as np
import pytest
from sqlalchemy import func, select

from bodycam.evidence import service as ev
from bodycam.jobs.runner import load_handlers, run_job
from bodycam.redaction import projects
from bodycam.redaction.faceclip import REDACTED_CORRELATION, FaceClip, Walker, correlation
from bodycam.redaction.models import RedactedCopy
from tests.web.conftest import count_audit
from tests.web.test_pages import text_of, use_session

API = "/api/v1/redaction"
DENIED = "access:request:denied"
CSRF_REFUSED = "Missing or wrong X-CSRF-Token header for a session request."


@pytest.fixture(scope="module")
def face_clip() -> FaceClip:
    """One face walking slowly right: 320x180, 15 fps, 2 s (30 frames), with audio."""
    return FaceClip(
        width=320,
        height=180,
        fps=15,
        seconds=2.0,
        walkers=[Walker(start=(0.35, 0.25), velocity=(0.004, 0.0), height=0.5)],
    )


@pytest.fixture(scope="module")
def face_file(face_clip: FaceClip, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return face_clip.write(tmp_path_factory.mktemp("redaction-api") / "face.mp4")


@pytest.fixture
def recording(vault, dept, face_file: Path) -> str:
    """The clip, recorded by o1 (badge 1001), in the vault."""
    return ev.ingest_file(vault, dept.actor("clerk"), face_file, officer_badge="1001").id


@pytest.fixture
def reviewed(vault, dept, recording: str) -> str:
    """A project on the recording whose detection ran: ready for review."""
    return projects.detect(vault, dept.actor("clerk"), recording).project.id


def decoded(data: bytes, folder: Path) -> list[np.ndarray]:
    path = folder / f"{hashlib.sha256(data).hexdigest()[:12]}.mp4"
    path.write_bytes(data)
    with av.open(str(path)) as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def region_corr(shown: np.ndarray, clip: FaceClip, frame: int, box) -> float:
    """How much of the clip's own detail is left in ``box`` (x1, y1, x2, y2) of a frame."""
    x1, y1, x2, y2 = (max(0, box[0]), max(0, box[1]), min(clip.width, box[2]), box[3])
    y2 = min(clip.height, y2)
    truth = clip.frame(frame)[0]
    return correlation(shown[y1:y2, x1:x2], truth[y1:y2, x1:x2])


def iou(a, b) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    area = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / area if area else 0.0


def test_a_review_through_the_api(client, ctx, creds, recording, face_clip, tmp_path):
    headers = {"X-CSRF-Token": use_session(client, creds, "clerk")}  # as the editor calls it

    # Start: the project waits for its detection job.
    started = client.post(f"{API}/projects", json={"recording_id": recording}, headers=headers)
    assert started.status_code == 201, started.text
    project = started.json()
    pid, job = project["id"], project["detection_job"]
    assert project["status"] == "detecting" and project["tracks"] == []
    assert job["kind"] == "redaction.detect" and job["status"] == "queued"
    assert [p["id"] for p in client.get(f"{API}/projects", params={"recording": recording}).json()]
    load_handlers()
    assert run_job(ctx, job["id"]).status == "done"
    job = client.get(f"{API}/jobs/{job['id']}").json()
    assert job["status"] == "done" and job["progress"] == 1.0 and job["result"]["tracks"] == 1

    # The project as the editor draws it.
    views = count_audit(ctx, "redaction:project:view")
    project = client.get(f"{API}/projects/{pid}").json()
    assert count_audit(ctx, "redaction:project:view") == views + 1
    assert project["status"] == "review" and project["style"] == "blur"
    assert project["video"] == {"width": 320, "height": 180, "frames": 30, "fps": [15, 1]}
    assert {r["code"] for r in project["reasons"]} >= {"victim", "officer", "bystander"}
    (track,) = project["tracks"]
    assert track["include"] and not track["decided"] and track["note"] == ""
    assert track["thumbnail"].startswith("data:image/jpeg;base64,")
    rows = {row[0]: row[1:] for row in track["boxes"]}
    assert set(rows) == set(range(30))
    x, y, w, h = rows[10]
    assert iou((x, y, x + w, y + h), face_clip.frame(10)[1][0]) > 0.5
    tid = track["id"]

    # Decide: keep visible, then redact; answers carry no boxes (they are unchanged).
    kept = client.put(
        f"{API}/projects/{pid}/tracks/{tid}",
        json={"include": False, "reason": "officer"},
        headers=headers,
    )
    assert kept.status_code == 200, kept.text
    (t,) = kept.json()["tracks"]
    assert (t["include"], t["reason"], t["decided"], t["boxes"]) == (False, "officer", True, None)
    redacted = client.put(
        f"{API}/projects/{pid}/tracks/{tid}",
        json={"include": True, "reason": "bystander", "note": "passer-by"},
        headers=headers,
    ).json()
    assert redacted["tracks"][0]["include"] and redacted["tracks"][0]["note"] == "passer-by"

    # A drawn box (keyframes [frame, x, y, w, h]), a whole-picture range, audio ranges.
    box = client.post(
        f"{API}/projects/{pid}/boxes",
        json={"keyframes": [[20, 260, 120, 40, 30], [0, 200, 120, 40, 30]], "reason": "minor"},
        headers=headers,
    )
    assert box.status_code == 201, box.text
    (manual,) = box.json()["manual_boxes"]
    assert manual["keyframes"] == [[0, 200, 120, 40, 30], [20, 260, 120, 40, 30]]
    assert (manual["number"], manual["first_frame"], manual["last_frame"]) == (1, 0, 20)
    full = client.post(
        f"{API}/projects/{pid}/full-frame",
        json={"start_s": 1.0, "end_s": 1.2, "reason": "home_interior"},
        headers=headers,
    ).json()["full_frame"]
    assert [(r["start_frame"], r["end_frame"], r["reason"]) for r in full] == [
        (15, 18, "home_interior")
    ]
    audio = client.post(
        f"{API}/projects/{pid}/audio",
        json={"start_s": 0.2, "end_s": 0.6, "mode": "bleep", "reason": "personal_data"},
        headers=headers,
    ).json()["audio"]
    assert [(a["start_ms"], a["end_ms"], a["mode"]) for a in audio] == [(200, 600, "bleep")]
    removed = client.delete(f"{API}/projects/{pid}/items/audio/1", headers=headers)
    assert removed.status_code == 200 and removed.json()["audio"] == []
    client.post(
        f"{API}/projects/{pid}/audio",
        json={"start_s": 0.4, "end_s": 0.8, "reason": "personal_data"},
        headers=headers,
    )
    styled = client.put(f"{API}/projects/{pid}/style", json={"style": "box"}, headers=headers)
    assert styled.json()["style"] == "box"  # a solid black fill
    assert styled.json()["summary"] == {
        "tracks": 1,
        "tracks_redacted": 1,
        "manual_boxes": 1,
        "full_frame_ranges": 1,
        "audio_ranges": 1,
        "style": "box",
    }

    # Bad requests are refused with a sentence, and change nothing.
    revision = client.get(f"{API}/projects/{pid}").json()["revision"]
    for method, path, body, status, says in (
        ("PUT", f"tracks/{tid}", {"include": True, "reason": "nope"}, 422, "Unknown reason code"),
        ("PUT", "tracks/99", {"include": True, "reason": "victim"}, 422, "has no track 99"),
        ("POST", "boxes", {"keyframes": [[3, 10, 10, 0, 5]], "reason": "victim"}, 422, "box"),
        ("POST", "full-frame", {"start_s": 1.0, "end_s": 0.5, "reason": "victim"}, 422, "empty"),
        ("DELETE", "items/box/7", None, 422, "has no box number 7"),
        ("PUT", "style", {"style": "sparkles"}, 422, "Unknown style"),
    ):
        answer = client.request(method, f"{API}/projects/{pid}/{path}", json=body, headers=headers)
        assert answer.status_code == status, (path, answer.text)
        assert says in answer.json()["detail"], answer.json()
    assert client.get(f"{API}/projects/{pid}").json()["revision"] == revision
    missing = client.get(f"{API}/projects/NOPE")
    assert missing.status_code == 404
    assert missing.json() == {"detail": "There is no redaction project NOPE."}

    # A preview of 1 s around 1.0 s: frames 8 to 22, rendered from the plan, not a copy.
    views = count_audit(ctx, "redaction:project:view")
    shown = client.get(f"{API}/projects/{pid}/preview", params={"at": 1.0, "seconds": 1})
    assert shown.status_code == 200, shown.text
    assert shown.headers["content-type"] == "video/mp4"
    assert shown.headers["x-preview-frames"] == "8-23"
    assert count_audit(ctx, "redaction:project:view") == views + 1
    part = client.get(
        f"{API}/projects/{pid}/preview",
        params={"at": 1.0, "seconds": 1},
        headers={"Range": "bytes=0-99"},
    )
    assert part.status_code == 206 and part.content == shown.content[:100]
    frames = decoded(shown.content, tmp_path)
    assert len(frames) == 15
    for j, picture in enumerate(frames):
        f = 8 + j
        face = face_clip.frame(f)[1][0]
        assert region_corr(picture, face_clip, f, face) < REDACTED_CORRELATION, f
        corner = (0, 130, 70, 180)  # no face, no box: visible unless the whole picture is
        left = region_corr(picture, face_clip, f, corner)
        if 15 <= f < 18:
            assert left < REDACTED_CORRELATION, f
        else:
            assert left > 0.8, f
    mx = round(200 + 60 * 10 / 20)  # the drawn box at frame 10, between its keyframes
    assert frames[2][122:148, mx + 2 : mx + 38].mean() < 20  # filled black
    assert face_clip.frame(10)[0][122:148, mx + 2 : mx + 38].mean() > 60  # not black before
    assert frames[2][122:148, mx + 44 : mx + 60].mean() > 60  # beside it: not filled
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(RedactedCopy)) == 0

    # Render through the job; the copy plays (ranges honoured) and names its plan.
    queued = client.post(f"{API}/projects/{pid}/render", headers=headers)
    assert queued.status_code == 202, queued.text
    job = queued.json()["job"]
    assert job["kind"] == "redaction.render" and job["status"] == "queued"
    assert run_job(ctx, job["id"]).status == "done"
    job = client.get(f"{API}/jobs/{job['id']}").json()
    assert job["status"] == "done" and job["progress"] == 1.0
    copy = client.get(f"{API}/copies/{job['result']['copy_id']}").json()
    assert copy["project_id"] == pid and copy["status"] in ("clean", "needs_review")
    assert copy["render"]["frames"] == 30 and copy["render"]["full_frames"] == 3
    body = client.get(copy["content"])
    assert body.status_code == 200 and hashlib.sha256(body.content).hexdigest() == copy["sha256"]
    ranged = client.get(copy["content"], headers={"Range": "bytes=10-19"})
    assert ranged.status_code == 206 and ranged.content == body.content[10:20]
    rendered = decoded(body.content, tmp_path)
    face = face_clip.frame(5)[1][0]
    assert region_corr(rendered[5], face_clip, 5, face) < REDACTED_CORRELATION
    listed = client.get(f"{API}/projects/{pid}").json()["copies"]
    assert [c["id"] for c in listed] == [copy["id"]]


def test_an_officer_is_refused_everything_and_each_refusal_is_audited(
    client, ctx, creds, dept, vault, reviewed, recording
):
    clerk_job = projects.queue_render(vault, dept.actor("clerk"), reviewed)
    officer = creds.token("o1")  # the recording's own officer: may watch it, not redact it
    assert client.get(f"/api/v1/recordings/{recording}", headers=officer).status_code == 200
    calls = [
        ("POST", f"{API}/projects", {"recording_id": recording}),
        ("GET", f"{API}/projects?recording={recording}", None),
        ("GET", f"{API}/projects/{reviewed}", None),
        ("PUT", f"{API}/projects/{reviewed}/tracks/1", {"include": False, "reason": "officer"}),
        (
            "POST",
            f"{API}/projects/{reviewed}/boxes",
            {"keyframes": [[0, 1, 1, 9, 9]], "reason": "minor"},
        ),
        ("POST", f"{API}/projects/{reviewed}/full-frame", {"start_s": 0, "reason": "victim"}),
        (
            "POST",
            f"{API}/projects/{reviewed}/audio",
            {"start_s": 0, "end_s": 1, "reason": "victim"},
        ),
        ("DELETE", f"{API}/projects/{reviewed}/items/box/1", None),
        ("PUT", f"{API}/projects/{reviewed}/style", {"style": "box"}),
        ("GET", f"{API}/projects/{reviewed}/preview?at=0.5", None),
        ("POST", f"{API}/projects/{reviewed}/render", None),
        ("GET", f"{API}/jobs/{clerk_job}", None),
    ]
    for method, url, body in calls:
        before = count_audit(ctx, DENIED, actor="o1")
        answer = client.request(method, url, json=body, headers=officer)
        assert answer.status_code == 403, (method, url, answer.text)
        assert "o1" in answer.json()["detail"]
        assert count_audit(ctx, DENIED, actor="o1") == before + 1, (method, url)
    plan = projects.show(vault, dept.actor("clerk"), reviewed, audit=False).plan
    assert plan is not None and not plan.manual and plan.tracks[0].include  # nothing changed
    anonymous = client.get(f"{API}/projects/{reviewed}")
    assert anonymous.status_code == 401


def test_a_page_session_must_send_the_csrf_header_to_change_anything(
    client, creds, reviewed, recording
):
    csrf = use_session(client, creds, "clerk")
    assert client.get(f"{API}/projects/{reviewed}").status_code == 200  # reading needs none
    for method, path, body in (
        ("POST", "/projects", {"recording_id": recording}),
        ("PUT", f"/projects/{reviewed}/tracks/1", {"include": False, "reason": "officer"}),
        ("POST", f"/projects/{reviewed}/render", None),
    ):
        refused = client.request(method, API + path, json=body)
        assert refused.status_code == 403 and refused.json() == {"detail": CSRF_REFUSED}
        wrong = client.request(method, API + path, json=body, headers={"X-CSRF-Token": "x" + csrf})
        assert wrong.status_code == 403
    kept = client.put(
        f"{API}/projects/{reviewed}/tracks/1",
        json={"include": False, "reason": "officer"},
        headers={"X-CSRF-Token": csrf},
    )
    assert kept.status_code == 200 and not kept.json()["tracks"][0]["include"]


def test_the_editor_pages(client, ctx, creds, recording):
    # The recording page links to the editor for those who may redact, only.
    use_session(client, creds, "o1")
    assert "Redact for release" not in client.get(f"/recordings/{recording}").text
    assert client.get(f"/recordings/{recording}/redaction").status_code == 403
    csrf = use_session(client, creds, "clerk")
    page = client.get(f"/recordings/{recording}")
    assert f'href="/recordings/{recording}/redaction"' in page.text
    # No project yet: a page to start one; starting opens the editor on it.
    start = client.get(f"/recordings/{recording}/redaction")
    assert start.status_code == 200 and "Find faces and start the redaction" in start.text
    expired = client.post(f"/recordings/{recording}/redaction", data={"csrf": "stale"})
    assert expired.status_code == 422 and "The form expired" in text_of(expired.text)
    started = client.post(f"/recordings/{recording}/redaction", data={"csrf": csrf})
    assert started.status_code == 303
    assert started.headers["location"] == f"/recordings/{recording}/redaction"
    editor = client.get(started.headers["location"])
    assert editor.status_code == 200
    data = json.loads(re.search(r'id="rx-data">(.*?)</script>', editor.text, re.S).group(1))
    assert data["recording_id"] == recording and data["status"] == "detecting"
    assert data["detection_job"]["status"] == "queued"
    for control in ("rx-video", "rx-canvas", "rx-timeline", "rx-reason", "rx-render", "rx-help"):
        assert f'id="{control}"' in editor.text
    for label in ("rx-reason", "rx-note", "rx-box-reason", "rx-range-kind", "rx-style", "rx-seek"):
        assert f'<label for="{label}">' in editor.text
    assert "/static/redaction-editor.js" in editor.text
    assert client.get("/static/redaction-editor.js").status_code == 200
    by_id = client.get(f"/redaction/{data['id']}")
    assert by_id.status_code == 200 and data["id"] in by_id.text
    assert client.get("/redaction/NOPE").status_code == 404
