"""The content destination of the Axis Body Worn Integration API: registries and recordings.

An Axis Body Worn System (BWS) speaks a subset of the OpenStack Swift API to its content
destination (https://github.com/AxisCommunications/body-worn-integration-api). This module
is that destination's logic; :mod:`bodycam.fleet.axis_api` only translates HTTP.

* **Account and token.** The BWS account is a bodycam user holding ``fleet:axis:upload``
  (the equipment role); its ``BlobAPIUserName`` is the user name and its ``BlobAPIKey`` an
  API token of that user. ``GET /auth/v1.0`` checks the pair and hands the token back as
  ``X-Auth-Token``, with the storage URL of the account ``AUTH_<user name>``.
* **Registries.** ``Users/<UserUUID>``, ``Devices/<BWCSerialNumber>`` and
  ``System/<SystemID>`` are metadata-only objects, kept as rows. A user is linked to the
  officer whose badge is its ``UserID`` (capability ``StoreUserIDKey``); a device to the
  fleet camera of the same serial.
* **Recordings.** Each recording is a container named ``<UserID>_<BWCSerialNumber>_<Time>``
  whose clip objects (``.mp4`` or ``.mkv``) are staged on disk, hashed while they arrive.
  Setting the container's ``Status`` metadata to ``Complete`` ingests every clip through
  :func:`bodycam.evidence.service.ingest_file` (probe, blob fsync, commit, audit) as the
  officer's recording with the camera's serial. Each clip's recording id is kept, so a
  retried completion, or a retried upload of the same bytes, never stores anything twice.
* **Errors** follow the specification: 400 when the recording can never be stored (unknown
  user or device, no clip, a clip that is not a whole video, a change after completion),
  401 bad or missing credentials, 403 not allowed, 404 no such container or object, 503
  busy (another request holds the object or container; retry), 507 disk full.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import hashlib
import json
import os
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from bodycam.audit.actions import AuditAction
from bodycam.audit.service import record, require
from bodycam.auth.actor import Actor
from bodycam.auth.models import User
from bodycam.auth.permissions import Permission
from bodycam.auth.service import actor_for, user_for_token
from bodycam.db import transaction
from bodycam.evidence import service as evidence
from bodycam.evidence.probe import ProbeError, probe
from bodycam.fleet.axis_models import (
    AxisContainer,
    AxisDevice,
    AxisObject,
    AxisSystem,
    AxisUser,
    ContainerStatus,
)
from bodycam.fleet.models import Camera
from bodycam.ids import new_id, utcnow

if TYPE_CHECKING:
    from bodycam.context import Context

__all__ = [
    "CAPABILITIES",
    "AxisError",
    "AxisStore",
    "BodyWriter",
    "ContainerInfo",
    "ObjectInfo",
    "authenticate",
    "capabilities_json",
    "check_put",
    "complete_container",
    "container_info",
    "etag",
    "list_containers",
    "object_info",
    "post_container",
    "post_object",
    "put_container",
    "put_object",
    "token_actor",
]

P = Permission
REGISTRIES = ("System", "Users", "Devices")
CAPABILITY_NAMES = ("Capability.json", "Capabilities.json")
"""The specification names the object both ways; both are served."""
CAPABILITIES: dict[str, dict[str, bool]] = {
    "StoreAndRead": {
        "StoreReadSystemID": True,
        "StoreUserIDKey": True,
        "StoreBookmarks": False,
        "StoreSignedVideo": False,
        "StoreGNSSTrackRecording": False,
    }
}
CLIP_TYPES = (".mp4", ".mkv")
REGISTRY_BODY_MAX = 64 * 1024
_NAME = re.compile(r"^[^\x00-\x1f\x7f/]{1,255}$")
_OBJECT = re.compile(r"^[^\x00-\x1f\x7f]{1,512}$")


class AxisError(Exception):
    """A request the destination refuses; ``status`` is the specification's HTTP status."""

    status = 400
    title = "Bad Request"

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        if status is not None:
            self.status = status
            self.title = _TITLES.get(status, "Error")


_TITLES = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    422: "Unprocessable Entity",
    503: "Service Unavailable",
    507: "Insufficient Storage",
}


@dataclass(frozen=True)
class AxisStore:
    """The collaborators: the vault (sessions, blob store) and the staging folder."""

    vault: evidence.Vault
    folder: Path
    max_bytes: int

    @classmethod
    def from_context(cls, ctx: Context) -> AxisStore:
        """The destination of a deployment: staging under ``<home>/axis``."""
        return cls(
            evidence.Vault.from_context(ctx),
            ctx.settings.resolved_home / "axis",
            ctx.settings.max_upload_bytes,
        )

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The database sessions."""
        return self.vault.sessions

    def incoming(self) -> Path:
        """A fresh path for an arriving body (same disk as the staged objects)."""
        folder = self.folder / "incoming"
        folder.mkdir(parents=True, exist_ok=True)
        return folder / new_id()

    def staged(self, container_id: str, object_id: str) -> Path:
        """Where an object's bytes wait for completion."""
        return self.folder / container_id / object_id


@dataclass(frozen=True)
class ObjectInfo:
    """An object as Swift describes it: name, bytes, ETag (MD5), metadata, when."""

    name: str
    size: int
    md5: str
    sha256: str
    meta: dict[str, str]
    at: datetime
    created: bool = True
    recording_id: str | None = None

    def as_listing(self) -> dict[str, Any]:
        """One entry of a JSON container listing."""
        return {
            "name": self.name,
            "bytes": self.size,
            "hash": self.md5,
            "last_modified": self.at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f"),
            "content_type": _content_type(self.name),
        }


@dataclass(frozen=True)
class ContainerInfo:
    """A container with its metadata, status and objects."""

    name: str
    kind: str
    status: str
    meta: dict[str, str]
    objects: list[ObjectInfo] = field(default_factory=list)
    created: bool = False
    recordings: list[str] = field(default_factory=list)

    @property
    def bytes_used(self) -> int:
        """Bytes of every object."""
        return sum(o.size for o in self.objects)


# --- metadata and names -------------------------------------------------------------------


def canonical_key(key: str) -> str:
    """A metadata key as Swift writes it: each hyphen-separated part capitalised."""
    return "-".join(p[:1].upper() + p[1:].lower() for p in key.split("-"))


def parse_meta(headers: Mapping[str, str], prefix: str) -> dict[str, str]:
    """The ``X-Container-Meta-*`` or ``X-Object-Meta-*`` headers, keys canonical, values
    URL-decoded (the specification sends UTF-8 values %-encoded)."""
    plen = len(prefix)
    out: dict[str, str] = {}
    for key, value in headers.items():
        if key.lower().startswith(prefix.lower()) and len(key) > plen:
            out[canonical_key(key[plen:])] = unquote(value)
    return out


def _meta(meta: Mapping[str, str], key: str) -> str:
    return meta.get(canonical_key(key), "").strip()


def _content_type(name: str) -> str:
    low = name.lower()
    if low.endswith(".mp4"):
        return "video/mp4"
    if low.endswith(".mkv"):
        return "video/x-matroska"
    if low.endswith(".json"):
        return "application/json"
    return "application/octet-stream"


def _split_recording_name(name: str) -> tuple[str, str]:
    """``<UserID>_<BWCSerialNumber>_<TriggerOnTime>``: the user and the serial."""
    parts = name.split("_")
    if len(parts) < 3 or not parts[0] or not parts[-1]:
        raise AxisError(
            f"Container {name!r} is not a registry (System, Users, Devices) nor a recording "
            "named <UserID>_<BWCSerialNumber>_<TriggerOnTime>."
        )
    return parts[0], "_".join(parts[1:-1])


def _check_name(name: str) -> str:
    if not _NAME.match(name):
        raise AxisError(f"Container name {name[:80]!r} must be 1 to 255 characters, no '/'.")
    return name


def _clip_kind(name: str) -> str:
    low = name.lower()
    if low.endswith(CLIP_TYPES):
        return "clip"
    if low.endswith(".key"):
        raise AxisError(
            f"{name}: bodycam does not take end-to-end encrypted clips; set WantEncryption "
            "to false in the connection file."
        )
    what = "bookmarks" if low.startswith("bookmark_") else "GNSS tracks"
    if not (low.startswith("bookmark_") or low.endswith("_gpstrail.json")):
        what = "objects other than clips (.mp4, .mkv)"
    raise AxisError(f"{name}: bodycam does not store {what} (see System/Capability.json).")


# --- authentication --------------------------------------------------------------------------


def account_of(username: str) -> str:
    """The Swift account of a bodycam user."""
    return f"AUTH_{username}"


def authenticate(
    factory: sessionmaker[Session], username: str, key: str, ip: str = ""
) -> tuple[Actor, str]:
    """Check ``X-Auth-User`` and ``X-Auth-Key`` (a user name and one of its API tokens):
    the actor and its account. 401 on bad credentials; 403 (audited) without the right."""
    if not username or not key:
        raise AxisError("Send X-Auth-User and X-Auth-Key.", 401)
    with transaction(factory) as s:
        user = user_for_token(s, key)
        if user is None or user.username != username:
            raise AxisError("The user name and key do not match an active API token.", 401)
        actor = actor_for(user, "axis", ip)
    require(factory, actor, P.FLEET_AXIS_UPLOAD, "connect an Axis Body Worn System")
    return actor, account_of(actor.username)


def token_actor(factory: sessionmaker[Session], token: str, account: str, ip: str = "") -> Actor:
    """The actor of an ``X-Auth-Token`` on ``account``: 401 when invalid, 403 elsewhere."""
    if not token:
        raise AxisError("Send X-Auth-Token (GET /auth/v1.0 hands one out).", 401)
    with transaction(factory) as s:
        user = user_for_token(s, token)
        if user is None:
            raise AxisError("The auth token is not valid (expired or revoked?).", 401)
        actor = actor_for(user, "axis", ip)
    if account != account_of(actor.username):
        raise AxisError(f"This token belongs to the account {account_of(actor.username)}.", 403)
    return actor


def etag(data: bytes) -> str:
    """Swift's ETag of some bytes: their MD5 (a checksum, not a security measure)."""
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def capabilities_json() -> bytes:
    """The ``System/Capability.json`` object (its ETag is the MD5 of these bytes)."""
    return json.dumps(CAPABILITIES, indent=2, sort_keys=True).encode()


# --- locks -----------------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(folder: Path, what: str, name: str) -> Iterator[None]:
    """An exclusive lock on one object or container; busy (503) when another holds it."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (".lock-" + hashlib.sha256(name.encode()).hexdigest()[:32])
    with path.open("a") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise AxisError(f"Another request is writing {what} {name}; retry soon.", 503) from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


# --- containers ------------------------------------------------------------------------------


def _container(s: Session, name: str) -> AxisContainer:
    found = s.scalars(select(AxisContainer).where(AxisContainer.name == name)).first()
    if found is None:
        raise AxisError(f"There is no container {name}.", 404)
    return found


def _registered_user(s: Session, uuid: str) -> AxisUser:
    user = s.scalars(select(AxisUser).where(AxisUser.uuid == uuid)).first()
    if user is None:
        raise AxisError(f"User {uuid} is not registered (Users/{uuid}).")
    return user


def _registered_device(s: Session, serial: str) -> AxisDevice:
    dev = s.scalars(select(AxisDevice).where(AxisDevice.serial == serial)).first()
    if dev is None:
        raise AxisError(f"Camera {serial} is not registered (Devices/{serial}).")
    return dev


def _officer_of(s: Session, user: AxisUser) -> User:
    officer = s.get(User, user.officer_id) if user.officer_id else None
    if officer is None and user.user_key:
        officer = s.scalars(select(User).where(User.badge == user.user_key)).first()
    if officer is None:
        raise AxisError(
            f"User {user.uuid} ({user.name or 'no name'}) has no UserID matching an officer's "
            f"badge (UserID {user.user_key or 'empty'}); set it to the badge in the manager."
        )
    return officer


def _recording_parties(s: Session, name: str, meta: Mapping[str, str]) -> tuple[str, str]:
    uuid, serial = _split_recording_name(name)
    uuid = _meta(meta, "UserID") or uuid
    serial = _meta(meta, "BWCSerialNumber") or serial
    _registered_user(s, uuid)
    _registered_device(s, serial)
    return uuid, serial


def put_container(axis: AxisStore, actor: Actor, name: str, meta: Mapping[str, str]) -> bool:
    """Create a container (True) or update its metadata (False: it existed; Swift's 202).

    A recording container's user and camera must be registered (400 otherwise)."""
    require(axis.sessions, actor, P.FLEET_AXIS_UPLOAD, "create Axis containers", name)
    _check_name(name)
    with transaction(axis.sessions) as s:
        found = s.scalars(select(AxisContainer).where(AxisContainer.name == name)).first()
        if found is not None:
            _merge_meta(found, meta)
            return False
        kind = "registry" if name in REGISTRIES else "recording"
        uuid = serial = ""
        if kind == "recording":
            uuid, serial = _recording_parties(s, name, meta)
        cont = AxisContainer(
            name=name,
            kind=kind,
            user_uuid=uuid,
            serial=serial,
            meta={k: v for k, v in meta.items() if v != ""},
            created_by=actor.user_id,
        )
        s.add(cont)
        try:
            s.flush()
        except IntegrityError:
            raise AxisError(f"Container {name} is being created by another request.", 503) from None
        if kind == "recording":
            details = {"name": name, "user": uuid, "serial": serial}
            record(s, actor, AuditAction.FLEET_AXIS_CONTAINER, "axis_container", cont.id, details)
        return True


def _merge_meta(cont: AxisContainer, meta: Mapping[str, str]) -> None:
    """Swift container metadata: keys sent are set, keys sent empty are removed."""
    if cont.status != ContainerStatus.TRANSFERRING.value and cont.kind == "recording":
        changed = {k: v for k, v in meta.items() if cont.meta.get(k, "") != v}
        if set(changed) - {"Status"}:
            raise AxisError(
                f"Recording {cont.name} is {cont.status}: its metadata cannot change any more."
            )
        return
    merged = dict(cont.meta)
    for k, v in meta.items():
        if v == "":
            merged.pop(k, None)
        else:
            merged[k] = v
    cont.meta, cont.updated_at = merged, utcnow()


def post_container(
    axis: AxisStore, actor: Actor, name: str, meta: Mapping[str, str]
) -> ContainerInfo:
    """Update a container's metadata (404 when missing); ``Status: Complete`` completes it."""
    require(axis.sessions, actor, P.FLEET_AXIS_UPLOAD, "update Axis containers", name)
    complete = _meta(meta, "Status").lower() == "complete"
    with transaction(axis.sessions) as s:
        cont = _container(s, name)
        if cont.kind == "recording" and cont.status == ContainerStatus.REJECTED.value:
            raise AxisError(f"Recording {name} was refused: {cont.error}")
        _merge_meta(cont, meta)
        kind = cont.kind
    if complete and kind == "recording":
        return complete_container(axis, actor, name)
    return container_info(axis, actor, name)


def container_info(axis: AxisStore, actor: Actor, name: str) -> ContainerInfo:
    """A container's metadata, status and objects (HEAD and GET of a container)."""
    require(axis.sessions, actor, P.FLEET_AXIS_UPLOAD, "read Axis containers", name)
    with axis.sessions() as s:
        if name in REGISTRIES:
            return _registry_info(s, name)
        cont = _container(s, name)
        return _info(s, cont)


def _info(s: Session, cont: AxisContainer) -> ContainerInfo:
    objs = list(
        s.scalars(
            select(AxisObject).where(AxisObject.container_id == cont.id).order_by(AxisObject.name)
        )
    )
    return ContainerInfo(
        cont.name,
        cont.kind,
        cont.status,
        dict(cont.meta),
        [_object_info(o) for o in objs],
        recordings=[o.recording_id for o in objs if o.recording_id],
    )


def _object_info(o: AxisObject, created: bool = True) -> ObjectInfo:
    return ObjectInfo(
        o.name, o.size_bytes, o.md5, o.sha256, dict(o.meta), o.uploaded_at, created, o.recording_id
    )


def _registry_info(s: Session, name: str) -> ContainerInfo:
    cont = s.scalars(select(AxisContainer).where(AxisContainer.name == name)).first()
    meta = dict(cont.meta) if cont else {}
    rows: list[tuple[str, dict[str, Any], datetime]]
    if name == "Users":
        rows = [(u.uuid, u.meta, u.updated_at) for u in s.scalars(select(AxisUser))]
    elif name == "Devices":
        rows = [(d.serial, d.meta, d.updated_at) for d in s.scalars(select(AxisDevice))]
    else:
        rows = [(x.system_id, x.meta, x.updated_at) for x in s.scalars(select(AxisSystem))]
        rows.append((CAPABILITY_NAMES[0], {}, datetime(2020, 1, 1, tzinfo=UTC)))
    objs = [ObjectInfo(key, 0, etag(b""), "", dict(m), at) for key, m, at in sorted(rows)]
    return ContainerInfo(name, "registry", ContainerStatus.TRANSFERRING.value, meta, objs)


def list_containers(axis: AxisStore, actor: Actor, limit: int = 10_000) -> list[ContainerInfo]:
    """The account's containers (registries first), without their objects."""
    require(axis.sessions, actor, P.FLEET_AXIS_UPLOAD, "list Axis containers")
    with axis.sessions() as s:
        rows = s.execute(
            select(
                AxisContainer.name,
                AxisContainer.kind,
                AxisContainer.status,
                func.count(AxisObject.id),
            )
            .outerjoin(AxisObject, AxisObject.container_id == AxisContainer.id)
            .group_by(AxisContainer.id, AxisContainer.name, AxisContainer.kind)
            .group_by(AxisContainer.status)
            .order_by(AxisContainer.name)
            .limit(limit)
        )
        return [ContainerInfo(n, k, st, {}) for n, k, st, _ in rows]


# --- objects -------------------------------------------------------------------------------


def check_put(axis: AxisStore, actor: Actor, container: str, name: str, length: int | None) -> None:
    """Refuse early, before a body is read: the right, the container, the name, the size."""
    require(axis.sessions, actor, P.FLEET_AXIS_UPLOAD, "upload to Axis containers", container)
    if not _OBJECT.match(name):
        raise AxisError(f"Object name {name[:80]!r} must be 1 to 512 characters.")
    if container in REGISTRIES:
        if container == "System" and name in CAPABILITY_NAMES:
            raise AxisError("System/Capability.json is published by bodycam itself.", 403)
        if length is not None and length > REGISTRY_BODY_MAX:
            raise AxisError(f"A {container} entry carries metadata only, not {length} bytes.")
        return
    if length is not None and length > axis.max_bytes:
        raise AxisError(f"{name} is {length} bytes; the largest accepted is {axis.max_bytes}.")
    _clip_kind(name)
    with axis.sessions() as s:
        cont = _container(s, container)
        if cont.status == ContainerStatus.REJECTED.value:
            raise AxisError(f"Recording {container} was refused: {cont.error}")


@dataclass(frozen=True)
class Body:
    """An arrived request body: where it lies, its size and its MD5 and SHA-256."""

    path: Path
    size: int
    md5: str
    sha256: str


class BodyWriter:
    """A body written piece by piece (the HTTP adapter streams into it)."""

    def __init__(self, axis: AxisStore) -> None:
        self.path = axis.incoming()
        self.limit = axis.max_bytes
        self._f = self.path.open("wb")
        self._md5, self._sha = hashlib.md5(usedforsecurity=False), hashlib.sha256()
        self.size = 0

    def write(self, pieces: list[bytes]) -> None:
        """Append pieces (507 when the disk is full, 400 past the size limit)."""
        try:
            for piece in pieces:
                self._f.write(piece)
                self._md5.update(piece)
                self._sha.update(piece)
                self.size += len(piece)
        except OSError as exc:
            self.discard()
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise AxisError("The content destination's disk is full.", 507) from None
            raise
        if self.size > self.limit:
            self.discard()
            raise AxisError(f"The body is larger than {self.limit} bytes.")

    def finish(self) -> Body:
        """Fsync and close: the arrived body."""
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()
        return Body(self.path, self.size, self._md5.hexdigest(), self._sha.hexdigest())

    def discard(self) -> None:
        """Drop what arrived."""
        if not self._f.closed:
            self._f.close()
        self.path.unlink(missing_ok=True)


def put_object(
    axis: AxisStore,
    actor: Actor,
    container: str,
    name: str,
    body: Body,
    meta: Mapping[str, str],
    etag: str | None = None,
) -> ObjectInfo:
    """Store an object: a registry entry, or a clip of a recording (staged until complete).

    The same bytes again are a no-op (also after completion); other bytes replace a clip
    while the recording transfers and are refused (400) once it is complete. An ``ETag``
    that is not the body's MD5 is refused (422) and nothing is kept."""
    try:
        check_put(axis, actor, container, name, body.size)
        if etag and etag.strip('"').lower() != body.md5:
            raise AxisError(f"{name}: the body's MD5 is {body.md5}, not the ETag sent.", 422)
        if container in REGISTRIES:
            return _put_registry(axis, actor, container, name, meta)
        with _locked(axis.folder / "locks", "object", f"{container}/{name}"):
            return _put_clip(axis, actor, container, name, body, meta)
    finally:
        body.path.unlink(missing_ok=True)


def _put_clip(
    axis: AxisStore, actor: Actor, container: str, name: str, body: Body, meta: Mapping[str, str]
) -> ObjectInfo:
    with transaction(axis.sessions) as s:
        cont = _container(s, container)
        obj = s.scalars(
            select(AxisObject).where(AxisObject.container_id == cont.id, AxisObject.name == name)
        ).first()
        if obj is not None and obj.sha256 == body.sha256:
            if cont.status == ContainerStatus.TRANSFERRING.value and meta:
                obj.meta = dict(meta)
            return _object_info(obj, created=False)
        if cont.status != ContainerStatus.TRANSFERRING.value:
            raise AxisError(
                f"Recording {container} is {cont.status}; {name} cannot be "
                + ("replaced by other bytes." if obj is not None else "added to it.")
            )
        if obj is None:
            obj = AxisObject(
                id=new_id(), container_id=cont.id, name=name, kind="clip", uploaded_by=actor.user_id
            )
            s.add(obj)
        obj.size_bytes, obj.md5, obj.sha256 = body.size, body.md5, body.sha256
        obj.meta, obj.uploaded_at, obj.uploaded_by = dict(meta), utcnow(), actor.user_id
        target = axis.staged(cont.id, obj.id)
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(body.path, target)
        _fsync_dir(target.parent)
        s.flush()
        return _object_info(obj)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _put_registry(
    axis: AxisStore, actor: Actor, container: str, key: str, meta: Mapping[str, str]
) -> ObjectInfo:
    with transaction(axis.sessions) as s:
        created, details, obj_type, obj_id = _register(s, actor, container, key, dict(meta))
        details = {"registry": container, "key": key, **details}
        record(s, actor, AuditAction.FLEET_AXIS_REGISTER, obj_type, obj_id, details)
        return ObjectInfo(key, 0, etag(b""), "", dict(meta), utcnow(), created)


def _active(meta: Mapping[str, str]) -> bool:
    return _meta(meta, "Active").lower() not in ("false", "0", "no")


def _register(
    s: Session, actor: Actor, container: str, key: str, meta: dict[str, str]
) -> tuple[bool, dict[str, Any], str, str]:
    """Create or replace one registry entry; (created, audit details, object type, id)."""
    now = utcnow()
    if container == "Users":
        user = s.scalars(select(AxisUser).where(AxisUser.uuid == key)).first()
        created = user is None
        if user is None:
            user = AxisUser(id=new_id(), uuid=key, registered_by=actor.user_id)
            s.add(user)
        user.name, user.user_key = _meta(meta, "Name")[:100], _meta(meta, "UserID")[:100]
        user.active, user.meta, user.updated_at = _active(meta), meta, now
        officer = None
        if user.user_key:
            officer = s.scalars(select(User).where(User.badge == user.user_key)).first()
        user.officer_id = officer.id if officer else None
        s.flush()
        details = {"name": user.name, "active": user.active, "badge": user.user_key or None}
        details["officer_linked"] = officer is not None
        return created, details, "axis_user", user.id
    if container == "Devices":
        dev = s.scalars(select(AxisDevice).where(AxisDevice.serial == key)).first()
        created = dev is None
        if dev is None:
            dev = AxisDevice(id=new_id(), serial=key[:64], registered_by=actor.user_id)
            s.add(dev)
        dev.name, dev.model = _meta(meta, "Name")[:100], _meta(meta, "Model")[:100]
        dev.active, dev.meta, dev.updated_at = _active(meta), meta, now
        cam = s.scalars(select(Camera).where(Camera.serial == key)).first()
        dev.camera_id = cam.id if cam else None
        s.flush()
        details = {"name": dev.name, "model": dev.model, "active": dev.active}
        details["fleet_camera"] = cam is not None
        return created, details, "axis_device", dev.id
    system = s.scalars(select(AxisSystem).where(AxisSystem.system_id == key)).first()
    created = system is None
    if system is None:
        system = AxisSystem(id=new_id(), system_id=key[:100], registered_by=actor.user_id)
        system.connection_id = _meta(meta, "ConnectionId")[:100]
        s.add(system)
    # The connection id is set at creation and never changes (the specification).
    meta[canonical_key("ConnectionId")] = system.connection_id
    system.name, system.meta, system.updated_at = _meta(meta, "SystemName")[:100], meta, now
    s.flush()
    return (
        created,
        {"name": system.name, "connection": system.connection_id},
        "axis_system",
        system.id,
    )


def post_object(
    axis: AxisStore, actor: Actor, container: str, name: str, meta: Mapping[str, str]
) -> ObjectInfo:
    """Replace an object's metadata (Swift: the old metadata goes); 404 when missing."""
    require(axis.sessions, actor, P.FLEET_AXIS_UPLOAD, "update Axis objects", container)
    if container in REGISTRIES:
        object_info(axis, actor, container, name)  # 404 unless registered
        if container == "System" and name in CAPABILITY_NAMES:
            raise AxisError("System/Capability.json is published by bodycam itself.", 403)
        return _put_registry(axis, actor, container, name, meta)
    with transaction(axis.sessions) as s:
        cont = _container(s, container)
        obj = s.scalars(
            select(AxisObject).where(AxisObject.container_id == cont.id, AxisObject.name == name)
        ).first()
        if obj is None:
            raise AxisError(f"There is no object {container}/{name}.", 404)
        if cont.status != ContainerStatus.TRANSFERRING.value and dict(meta) != obj.meta:
            raise AxisError(f"Recording {container} is {cont.status}: metadata cannot change.")
        obj.meta = dict(meta)
        return _object_info(obj)


def object_info(axis: AxisStore, actor: Actor, container: str, name: str) -> ObjectInfo:
    """An object's size, ETag and metadata (HEAD; GET of registry entries). Clips are never
    read back through this API: footage is read through the audited evidence API."""
    require(axis.sessions, actor, P.FLEET_AXIS_UPLOAD, "read Axis objects", container)
    with axis.sessions() as s:
        if container == "System" and name in CAPABILITY_NAMES:
            body = capabilities_json()
            return ObjectInfo(name, len(body), etag(body), "", {}, datetime(2020, 1, 1, tzinfo=UTC))
        if container in REGISTRIES:
            for entry in _registry_info(s, container).objects:
                if entry.name == name:
                    return entry
            raise AxisError(f"There is no object {container}/{name}.", 404)
        cont = _container(s, container)
        obj = s.scalars(
            select(AxisObject).where(AxisObject.container_id == cont.id, AxisObject.name == name)
        ).first()
        if obj is None:
            raise AxisError(f"There is no object {container}/{name}.", 404)
        return _object_info(obj)


# --- completion ----------------------------------------------------------------------------


def _delegate(actor: Actor) -> Actor:
    """The BWS account as it ingests: for any officer, this one call only.

    ``ingest_file`` lets a caller ingest for another officer when it may view any recording;
    the BWS account may not view footage, so it gets exactly those two rights for the
    ingest it asks for and nothing else (its audit records name the account, via ``axis``).
    """
    return Actor(
        actor.user_id,
        actor.username,
        actor.role,
        actor.badge,
        actor.squad_id,
        "axis",
        actor.ip,
        frozenset({P.RECORDING_INGEST, P.RECORDING_VIEW_ANY}),
    )


def _instant(meta: Mapping[str, str], iso_key: str, epoch_key: str) -> datetime | None:
    iso = _meta(meta, iso_key)
    if iso:
        with contextlib.suppress(ValueError):
            when = datetime.fromisoformat(iso.replace("Z", "+00:00"))
            return when if when.tzinfo else when.replace(tzinfo=UTC)
    epoch = _meta(meta, epoch_key)
    if epoch:
        with contextlib.suppress(ValueError, OverflowError, OSError):
            return datetime.fromtimestamp(float(epoch), UTC)
    return None


def complete_container(axis: AxisStore, actor: Actor, name: str) -> ContainerInfo:
    """Ingest every clip of a recording container, then mark it complete (exactly once).

    A retry after completion answers the same recordings. Every clip is probed before the
    first is ingested, so a recording that cannot be stored is refused (400) whole."""
    require(axis.sessions, actor, P.FLEET_AXIS_UPLOAD, "complete Axis recordings", name)
    with _locked(axis.folder / "locks", "container", name):
        with axis.sessions() as s:
            cont = _container(s, name)
            if cont.kind != "recording":
                raise AxisError(f"{name} is a registry, not a recording.")
            if cont.status == ContainerStatus.COMPLETE.value:
                return _info(s, cont)
            if cont.status == ContainerStatus.REJECTED.value:
                raise AxisError(f"Recording {name} was refused: {cont.error}")
            clips = list(
                s.scalars(
                    select(AxisObject)
                    .where(AxisObject.container_id == cont.id, AxisObject.kind == "clip")
                    .order_by(AxisObject.name)
                )
            )
            try:
                badge, serial = _parties_at_completion(s, cont)
                if not clips:
                    raise AxisError(f"Recording {name} has no clip; nothing can be stored.")
                for obj in clips:
                    if obj.recording_id is None:
                        _probe_clip(axis, cont, obj)
            except AxisError as exc:
                if exc.status == 400:
                    _reject(axis, actor, cont.id, name, str(exc))
                raise
            cont_id, meta = cont.id, dict(cont.meta)
            todo = [(o.id, o.name, o.sha256, dict(o.meta), o.recording_id) for o in clips]
        ingester = _delegate(actor)
        done: list[dict[str, Any]] = []
        for obj_id, obj_name, sha, obj_meta, rec_id in todo:
            if rec_id is None:
                start = _instant(obj_meta, "StartTimeISO", "StartTime") or _instant(
                    meta, "TriggerOnTimeISO", "TriggerOnTime"
                )
                try:
                    result = evidence.ingest_file(
                        axis.vault,
                        ingester,
                        axis.staged(cont_id, obj_id),
                        officer_badge=badge,
                        camera_serial=serial,
                        expected_sha256=sha,
                        display_name=obj_name,
                        title=f"{name} {obj_name}",
                        recorded_start=start,
                    )
                except evidence.EvidenceError as exc:
                    _reject(axis, actor, cont_id, name, str(exc))
                    raise AxisError(str(exc)) from None
                rec_id = result.id
                with transaction(axis.sessions) as s:
                    row = s.get(AxisObject, obj_id)
                    assert row is not None
                    row.recording_id = rec_id
            done.append({"clip": obj_name, "sha256": sha, "recording": rec_id})
        with transaction(axis.sessions) as s:
            cont = _container(s, name)
            cont.status, cont.completed_at = ContainerStatus.COMPLETE.value, utcnow()
            cont.meta = {**cont.meta, "Status": "Complete"}
            details = {"name": name, "badge": badge, "serial": serial, "clips": done}
            record(s, actor, AuditAction.FLEET_AXIS_COMPLETE, "axis_container", cont.id, details)
            info = _info(s, cont)
        for obj_id, *_ in todo:  # the bytes are in the vault now
            axis.staged(cont_id, obj_id).unlink(missing_ok=True)
        return info


def _parties_at_completion(s: Session, cont: AxisContainer) -> tuple[str, str]:
    uuid = _meta(cont.meta, "UserID") or cont.user_uuid
    serial = _meta(cont.meta, "BWCSerialNumber") or cont.serial
    officer = _officer_of(s, _registered_user(s, uuid))
    _registered_device(s, serial)
    if not officer.badge:
        raise AxisError(f"The officer {officer.username} of user {uuid} has no badge.")
    return officer.badge, serial


def _probe_clip(axis: AxisStore, cont: AxisContainer, obj: AxisObject) -> None:
    path = axis.staged(cont.id, obj.id)
    try:
        probe(path, display_name=obj.name, keyframes_only=True)
    except ProbeError as exc:
        raise AxisError(f"{obj.name} cannot be stored: {exc}") from None
    except OSError:
        raise AxisError(f"{obj.name} was lost before completion; upload it again.", 404) from None


def _reject(axis: AxisStore, actor: Actor, cont_id: str, name: str, reason: str) -> None:
    """Mark a recording refused for good (400) and audit why; its staged bytes go."""
    with transaction(axis.sessions) as s:
        cont = s.get(AxisContainer, cont_id)
        if cont is None or cont.status == ContainerStatus.COMPLETE.value:
            return
        cont.status, cont.error, cont.updated_at = ContainerStatus.REJECTED.value, reason, utcnow()
        ids = list(s.scalars(select(AxisObject.id).where(AxisObject.container_id == cont_id)))
        details = {"name": name, "reason": reason}
        record(s, actor, AuditAction.FLEET_AXIS_REJECT, "axis_container", cont_id, details)
    for obj_id in ids:
        axis.staged(cont_id, obj_id).unlink(missing_ok=True)
