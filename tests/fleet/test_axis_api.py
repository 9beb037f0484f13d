"""The Axis Body Worn Integration API, driven by a client written from its specification.

The specification (github.com/AxisCommunications/body-worn-integration-api, README) says
what a Body Worn System does against its content destination: ``GET /auth/v1.0`` with
``X-Auth-User`` and ``X-Auth-Key`` for a token and storage URL; ``GET
System/Capability.json`` (ETag: the MD5 of the JSON); objects in ``Users``, ``Devices``
and ``System`` for registrations, metadata in ``X-Object-Meta-*`` headers (URL-encoded
UTF-8); one container ``<UserID>_<BWCSerialNumber>_<TriggerOnTime>`` per recording, one
object ``<StartTime>_<RecordingID>.<mp4|mkv>`` per clip, and the container's ``Status``
metadata set to ``Complete`` when everything is sent. :class:`BodyWornSystem` below does
exactly that over HTTP; the tests then look in the vault.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bodycam.audit.models import AuditRecord
from bodycam.auth.models import User
from bodycam.evidence.models import Recording
from bodycam.fleet import axis_service
from bodycam.fleet.axis_models import AxisContainer, AxisDevice, AxisUser
from bodycam.synth.video import make_clip
from tests.fleet.conftest import Fleet

TRIGGER = datetime(2026, 5, 4, 21, 15, 7, tzinfo=UTC)


def md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class BodyWornSystem:
    """The client side of the specification, as a Body Worn System speaks it."""

    def __init__(self, http: TestClient, root: str = "/axis") -> None:
        self.http = http
        self.root = root
        self.token = ""
        self.storage = ""

    def authenticate(self, user: str, key: str) -> httpx.Response:
        """``GET /auth/v1.0``; keeps the token and the storage URL's path."""
        resp = self.http.get(
            f"{self.root}/auth/v1.0", headers={"X-Auth-User": user, "X-Auth-Key": key}
        )
        if resp.status_code == 200:
            self.token = resp.headers["X-Auth-Token"]
            self.storage = urlsplit(resp.headers["X-Storage-Url"]).path
        return resp

    def _headers(self, kind: str, meta: dict[str, str]) -> dict[str, str]:
        headers = {"X-Auth-Token": self.token}
        for key, value in meta.items():
            headers[f"X-{kind}-Meta-{key}"] = quote(value, safe="")
        return headers

    def url(self, *parts: str) -> str:
        return "/".join([self.storage, *(quote(p, safe="") for p in parts)])

    def get(self, *parts: str, **params: str) -> httpx.Response:
        return self.http.get(self.url(*parts), params=params, headers={"X-Auth-Token": self.token})

    def head(self, *parts: str) -> httpx.Response:
        return self.http.head(self.url(*parts), headers={"X-Auth-Token": self.token})

    def put_container(self, name: str, meta: dict[str, str] | None = None) -> httpx.Response:
        return self.http.put(self.url(name), headers=self._headers("Container", meta or {}))

    def post_container(self, name: str, meta: dict[str, str]) -> httpx.Response:
        return self.http.post(self.url(name), headers=self._headers("Container", meta))

    def put_object(
        self,
        container: str,
        name: str,
        data: bytes = b"",
        meta: dict[str, str] | None = None,
        *,
        chunk: int | None = None,
        etag: str | None = None,
    ) -> httpx.Response:
        """PUT an object; with ``chunk`` the body goes in pieces (chunked transfer)."""
        headers = self._headers("Object", meta or {})
        if etag is not None:
            headers["ETag"] = etag
        body: bytes | Iterator[bytes] = data
        if chunk is not None:
            body = (data[i : i + chunk] for i in range(0, len(data), chunk))
        return self.http.put(self.url(container, name), headers=headers, content=body)

    def post_object(self, container: str, name: str, meta: dict[str, str]) -> httpx.Response:
        return self.http.post(self.url(container, name), headers=self._headers("Object", meta))

    # --- what a BWS does, per the specification's chapters --------------------------------

    def register_user(self, user_uuid: str, name: str, user_id: str) -> httpx.Response:
        meta = {"Active": "True", "Name": name, "UserID": user_id}
        return self.put_object("Users", user_uuid, meta=meta)

    def register_device(self, serial: str, name: str, model: str = "W110") -> httpx.Response:
        return self.put_object(
            "Devices", serial, meta={"Active": "True", "Name": name, "Model": model}
        )

    def open_recording(
        self, user_uuid: str, serial: str, when: datetime
    ) -> tuple[str, httpx.Response]:
        epoch = str(int(when.timestamp()))
        name = f"{user_uuid}_{serial}_{epoch}"
        meta = {
            "BWCSerialNumber": serial,
            "SCUSerialNumber": "SCU-0001",
            "FirmwareVersion": "11.2.4",
            "UserID": user_uuid,
            "TriggerOn": "Button",
            "TriggerOnTime": epoch,
            "TriggerOnTimeISO": when.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "BWCModel": "W110",
            "Status": "Transferring",
        }
        return name, self.put_container(name, meta)

    def clip_meta(self, start: datetime, seconds: float, kind: str = "mp4") -> dict[str, str]:
        stop = datetime.fromtimestamp(start.timestamp() + seconds, UTC)
        return {
            "StartTime": str(int(start.timestamp())),
            "StartTimeISO": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "StopTime": str(int(stop.timestamp())),
            "StopTimeISO": stop.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "ContainerType": kind,
        }

    def finish(self, container: str) -> httpx.Response:
        return self.post_container(container, {"Status": "Complete"})


@pytest.fixture(scope="module")
def mp4s(tmp_path_factory: pytest.TempPathFactory) -> list[bytes]:
    """Two real clips of one recording, made with PyAV (H.264 + AAC MP4)."""
    folder = tmp_path_factory.mktemp("axis-clips")
    out = []
    for n in range(2):
        path = make_clip(
            folder / f"clip{n}.mp4", seconds=1.5, width=160, height=96, fps=10, seed=80 + n
        )
        out.append(path.read_bytes())
    return out


def _key(creds, who: str) -> str:
    return creds.token(who)["Authorization"].removeprefix("Bearer ")


@pytest.fixture
def bws(client: TestClient, creds, fleet: Fleet) -> BodyWornSystem:
    """A Body Worn System signed in as the equipment unit's BWS account."""
    system = BodyWornSystem(client)
    resp = system.authenticate("equipment", _key(creds, "equipment"))
    assert resp.status_code == 200, resp.text
    return system


def _recordings(fleet: Fleet) -> list[Recording]:
    with fleet.ctx.sessions() as s:
        return list(s.scalars(select(Recording).order_by(Recording.recorded_start)))


def _audits(fleet: Fleet, action: str) -> list[AuditRecord]:
    with fleet.ctx.sessions() as s:
        return list(s.scalars(select(AuditRecord).where(AuditRecord.action == action)))


def test_a_recording_arrives_in_the_vault_identical_with_officer_and_camera(
    bws: BodyWornSystem, fleet: Fleet, mp4s: list[bytes]
):
    assert bws.storage == "/axis/v1/AUTH_equipment"
    cap = bws.get("System", "Capability.json")
    assert cap.status_code == 200 and cap.headers["ETag"] == md5(cap.content)
    assert json.loads(cap.content)["StoreAndRead"]["StoreUserIDKey"] is True
    assert bws.get("System", "Capabilities.json").content == cap.content

    for registry in ("System", "Users", "Devices"):
        assert bws.put_container(registry).status_code == 201
        assert bws.put_container(registry).status_code == 202  # exists: Swift's Accepted
    system_id = str(uuid.uuid4())
    meta = {"ConnectionId": "conn-1", "SystemName": "North precinct BWS"}
    assert bws.put_object("System", system_id, meta=meta).status_code == 201
    assert bws.head("System", system_id).headers["X-Object-Meta-Systemname"] == quote(
        "North precinct BWS", safe=""
    )
    officer = str(uuid.uuid4())
    assert bws.register_user(officer, "Ålund, Ann", "1001").status_code == 201
    assert bws.register_device("CAM-1", "Camera one").status_code == 201
    with fleet.ctx.sessions() as s:
        user = s.scalars(select(AxisUser).where(AxisUser.uuid == officer)).one()
        assert user.name == "Ålund, Ann"  # URL-encoded UTF-8 decoded
        assert user.officer_id == fleet.dept.users["o1"].id
        dev = s.scalars(select(AxisDevice).where(AxisDevice.serial == "CAM-1")).one()
        assert dev.camera_id is not None and dev.model == "W110"

    name, resp = bws.open_recording(officer, "CAM-1", TRIGGER)
    assert resp.status_code == 201, resp.text
    starts = [TRIGGER, datetime.fromtimestamp(TRIGGER.timestamp() + 2, UTC)]
    clip_names = [f"{int(t.timestamp())}_4711.mp4" for t in starts]
    # The first clip goes in 64 KiB pieces (chunked transfer), with its ETag checked.
    first = bws.put_object(
        name, clip_names[0], mp4s[0], bws.clip_meta(starts[0], 1.5), chunk=65536, etag=md5(mp4s[0])
    )
    assert first.status_code == 201, first.text
    assert first.headers["ETag"] == md5(mp4s[0])
    second = bws.put_object(name, clip_names[1], mp4s[1], bws.clip_meta(starts[1], 1.5))
    assert second.status_code == 201 and second.headers["ETag"] == md5(mp4s[1])

    listing = bws.get(name, format="json")
    assert listing.status_code == 200
    assert [(o["name"], o["bytes"], o["hash"]) for o in listing.json()] == [
        (clip_names[0], len(mp4s[0]), md5(mp4s[0])),
        (clip_names[1], len(mp4s[1]), md5(mp4s[1])),
    ]
    assert bws.get(name).text.splitlines() == clip_names
    head = bws.head(name)
    assert head.headers["X-Container-Object-Count"] == "2"
    assert head.headers["X-Container-Meta-Status"] == "Transferring"
    assert _recordings(fleet) == []  # nothing is evidence before Complete

    done = bws.finish(name)
    assert done.status_code == 204, done.text
    recs = _recordings(fleet)
    assert [r.sha256 for r in recs] == [sha256(mp4s[0]), sha256(mp4s[1])]
    assert done.headers["X-Bodycam-Recordings"].split(",") == [r.id for r in recs]
    for rec, start, clip, data in zip(recs, starts, clip_names, mp4s, strict=True):
        assert rec.officer_id == fleet.dept.users["o1"].id
        assert rec.camera_serial == "CAM-1"
        assert rec.recorded_start == start
        assert rec.original_filename == clip
        assert rec.size_bytes == len(data)
        stored = b"".join(fleet.ctx.store.iter_bytes(rec.sha256))
        assert stored == data  # the vault holds exactly the bytes sent
    assert bws.head(name).headers["X-Container-Meta-Status"] == "Complete"
    ingests = _audits(fleet, "evidence:recording:ingest")
    assert sorted(a.object_id for a in ingests) == sorted(r.id for r in recs)
    assert {a.via for a in ingests} == {"axis"} and {a.actor for a in ingests} == {"equipment"}
    complete = _audits(fleet, "fleet:axis:complete")
    assert len(complete) == 1
    assert [c["recording"] for c in complete[0].details["clips"]] == [r.id for r in recs]
    staged = fleet.ctx.settings.resolved_home / "axis"
    assert not [p for p in staged.rglob("*") if p.is_file() and not p.name.startswith(".lock")]

    # Retries after completion: same answer, nothing stored twice.
    again = bws.finish(name)
    assert again.status_code == 204
    assert again.headers["X-Bodycam-Recordings"] == done.headers["X-Bodycam-Recordings"]
    assert bws.put_object(name, clip_names[0], mp4s[0]).status_code == 201
    assert len(_recordings(fleet)) == 2
    assert len(_audits(fleet, "evidence:recording:ingest")) == 2
    assert len(_audits(fleet, "fleet:axis:complete")) == 1
    # Other bytes for a completed recording: it can never be stored (400), nothing changes.
    changed = bws.put_object(name, clip_names[0], mp4s[1])
    assert changed.status_code == 400 and "complete" in changed.text
    assert bws.put_object(name, "9999_1.mp4", mp4s[1]).status_code == 400
    assert len(_recordings(fleet)) == 2
    # Footage is not read back through this API.
    assert bws.get(name, clip_names[0]).status_code == 403


def test_authentication_maps_onto_api_tokens(client: TestClient, creds, fleet: Fleet):
    bws = BodyWornSystem(client)
    key = _key(creds, "equipment")
    assert bws.authenticate("equipment", "bcm_wrong").status_code == 401
    assert bws.authenticate("o1", key).status_code == 401  # the key is not o1's
    assert client.get("/axis/auth/v1.0").status_code == 401
    refused = bws.authenticate("o1", _key(creds, "o1"))  # valid, but no fleet:axis:upload
    assert refused.status_code == 403
    assert [a.actor for a in _audits(fleet, "access:request:denied")] == ["o1"]
    assert bws.authenticate("equipment", key).status_code == 200
    # The storage URL needs the token, and only for its own account.
    assert client.get(bws.storage).status_code == 401
    assert client.get(bws.storage, headers={"X-Auth-Token": "bcm_nope"}).status_code == 401
    assert bws.get().status_code in (200, 204)
    other = client.get("/axis/v1/AUTH_o1", headers={"X-Auth-Token": bws.token})
    assert other.status_code == 403
    assert other.headers["content-type"].startswith("text/plain")
    o1 = client.get("/axis/v1/AUTH_o1", headers={"X-Auth-Token": _key(creds, "o1")})
    assert o1.status_code == 403  # o1's own account, but o1 holds no fleet:axis:upload


def test_unknown_user_or_device_is_a_bad_request(bws: BodyWornSystem, fleet: Fleet, mp4s):
    officer = str(uuid.uuid4())
    assert bws.register_user(officer, "Ann", "1001").status_code == 201
    _, resp = bws.open_recording(officer, "CAM-NOT-REGISTERED", TRIGGER)
    assert resp.status_code == 400 and "CAM-NOT-REGISTERED is not registered" in resp.text
    assert bws.register_device("CAM-2", "two").status_code == 201
    _, resp = bws.open_recording(str(uuid.uuid4()), "CAM-2", TRIGGER)
    assert resp.status_code == 400 and "is not registered" in resp.text
    # A user whose UserID is no officer's badge: registered, but its recordings are refused.
    stranger = str(uuid.uuid4())
    assert bws.register_user(stranger, "Visitor", "no-such-badge").status_code == 201
    name, resp = bws.open_recording(stranger, "CAM-2", TRIGGER)
    assert resp.status_code == 201
    assert bws.put_object(name, "1_1.mp4", mp4s[0]).status_code == 201
    refused = bws.finish(name)
    assert refused.status_code == 400 and "badge" in refused.text
    assert bws.finish(name).status_code == 400  # refused for good
    assert _recordings(fleet) == []
    assert [a.details["name"] for a in _audits(fleet, "fleet:axis:reject")] == [name]
    # Objects of unknown containers are not found.
    assert bws.put_object("nobody_CAM-2_1", "1_1.mp4", mp4s[0]).status_code == 404
    assert bws.post_object("Users", str(uuid.uuid4()), {"Name": "x"}).status_code == 404


def test_bad_clips_and_conflicting_uploads(bws: BodyWornSystem, fleet: Fleet, mp4s, tmp_path: Path):
    officer = str(uuid.uuid4())
    bws.register_user(officer, "Ann", "1001")
    bws.register_device("CAM-3", "three")
    name, _ = bws.open_recording(officer, "CAM-3", TRIGGER)
    assert bws.finish(name).status_code == 400  # no clip: nothing to store
    name, _ = bws.open_recording(officer, "CAM-3", datetime(2026, 5, 5, tzinfo=UTC))
    # An ETag that is not the body's MD5: refused (Swift's 422), nothing kept.
    bad_etag = bws.put_object(name, "1_1.mp4", mp4s[0], etag=md5(b"other"))
    assert bad_etag.status_code == 422
    assert bws.get(name, format="json").json() == []
    # Encrypted clips and capabilities bodycam does not declare are refused.
    assert bws.put_object(name, "1_1.key", b"{}").status_code == 400
    assert bws.put_object(name, "bookmark_1_1", b"note").status_code == 400
    # A clip being written by another request: busy, try again soon (503).
    store = axis_service.AxisStore.from_context(fleet.ctx)
    with axis_service._locked(store.folder / "locks", "object", f"{name}/1_1.mp4"):
        busy = bws.put_object(name, "1_1.mp4", mp4s[0])
    assert busy.status_code == 503
    assert bws.put_object(name, "1_1.mp4", mp4s[0]).status_code == 201
    # While transferring, a clip may be replaced; the last bytes count.
    assert bws.put_object(name, "1_1.mp4", mp4s[1]).status_code == 201
    assert bws.get(name, format="json").json()[0]["hash"] == md5(mp4s[1])
    # Two completions at once: one ingests, the other is told to retry; then both agree.
    answers: list[int] = []

    def finish() -> None:
        answers.append(bws.finish(name).status_code)

    threads = [threading.Thread(target=finish) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(answers) in ([204, 204], [204, 503])
    assert bws.finish(name).status_code == 204
    assert [r.sha256 for r in _recordings(fleet)] == [sha256(mp4s[1])]
    # A clip that is not a whole video: the recording is refused whole (400).
    name, _ = bws.open_recording(officer, "CAM-3", datetime(2026, 5, 6, tzinfo=UTC))
    assert bws.put_object(name, "1_1.mp4", mp4s[0]).status_code == 201
    assert bws.put_object(name, "2_1.mp4", mp4s[0][: len(mp4s[0]) // 3]).status_code == 201
    refused = bws.finish(name)
    assert refused.status_code == 400 and "2_1.mp4" in refused.text
    assert len(_recordings(fleet)) == 1  # the good clip of the refused recording was not kept
    with fleet.ctx.sessions() as s:
        cont = s.scalars(select(AxisContainer).where(AxisContainer.name == name)).one()
        assert cont.status == "rejected" and "2_1.mp4" in cont.error
    assert bws.put_object(name, "1_1.mp4", mp4s[0]).status_code == 400


def test_registrations_are_audited_and_metadata_follows_swift(bws: BodyWornSystem, fleet: Fleet):
    officer = str(uuid.uuid4())
    bws.register_user(officer, "Ann", "1001")
    assert (
        bws.post_object("Users", officer, {"Name": "Ann B.", "Active": "False"}).status_code == 202
    )
    with fleet.ctx.sessions() as s:
        user = s.scalars(select(AxisUser).where(AxisUser.uuid == officer)).one()
        assert (user.name, user.active, user.user_key) == ("Ann B.", False, "")  # POST replaces
        assert s.scalar(select(func.count()).select_from(User)) == len(fleet.dept.users)
    regs = _audits(fleet, "fleet:axis:register")
    assert [(a.details["registry"], a.details["name"]) for a in regs] == [
        ("Users", "Ann"),
        ("Users", "Ann B."),
    ]
    assert bws.put_object("System", "Capability.json", b"{}").status_code == 403
    assert bws.head("Users", officer).headers["X-Object-Meta-Name"] == quote("Ann B.", safe="")
    assert bws.get("Users", format="json").json()[0]["name"] == officer
