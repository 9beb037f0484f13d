"""The dock agent: uploads finished recordings from a dock folder over resumable uploads.

``bodycam dock-agent WATCH_DIR --server URL --token T`` runs on the machine the docks
copy footage to. It never touches the deployment's database or blob store: it speaks
the tus protocol to ``/api/v1/uploads`` (:mod:`bodycam.evidence.upload_api`).

What it guarantees:

* A file is uploaded once it is finished: its size and modification time stayed the
  same for ``settle_s`` seconds. Hidden files (and the agent's own state files) are
  skipped.
* The agent hashes the file (SHA-256) and declares the hash when it creates the upload;
  the server checks every byte against it before ingesting.
* The upload's URL is kept in a state file beside the recording
  (``.NAME.bodycam-upload.json``) before any byte is sent, so a restarted agent resumes
  where the server's ``Upload-Offset`` says, instead of starting again.
* A connection error, a timeout, a 5xx or a 423 is retried with exponential back-off;
  each retry asks the server for its offset first (HEAD), so a chunk cut at any byte is
  resumed exactly after the last byte the server kept.
* The local file is deleted only after the server's acknowledgement names the same
  full-file SHA-256 the agent computed, and only if the file was not changed since it
  was hashed. When an acknowledgement is lost (the server committed, the connection
  died), the retry's HEAD finds the upload complete and returns the same
  acknowledgement; when the server's record of it is gone (restart, expiry), a new
  upload of the same bytes is acknowledged as a duplicate of the recording already held.
* A file the server refuses to ingest (not a video, for example) is kept and marked
  rejected in its state file; it is not tried again until it changes.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import random
import threading
import time
from base64 import b64encode
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from hashlib import sha256
from pathlib import Path
from typing import Annotated, Any, BinaryIO
from urllib.parse import urlsplit

import typer

TUS_VERSION = "1.0.0"
UPLOADS_PATH = "/api/v1/uploads"
STATE_SUFFIX = ".bodycam-upload.json"
VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".mkv", ".avi")
DEFAULT_CHUNK = 8 << 20
HASH_BLOCK = 1 << 20

ProgressFn = Callable[[Path, int, int], None]


class AgentError(Exception):
    """A problem the agent cannot retry away; the message is a sentence."""


class Refused(AgentError):
    """The server refused the token or the permission (401 or 403)."""


class Transport(Exception):
    """The connection failed, timed out or was cut: retried."""


@dataclass(frozen=True)
class AgentOptions:
    """How one agent talks to its server and how patient it is."""

    server: str
    token: str
    officer: str | None = None
    camera: str | None = None
    category: str | None = None
    chunk_size: int = DEFAULT_CHUNK
    settle_s: float = 5.0
    poll_s: float = 10.0
    attempts: int = 10  # consecutive failures on one file before it waits for the next pass
    backoff_s: float = 1.0
    max_backoff_s: float = 60.0
    timeout_s: float = 120.0
    chunk_checksum: bool = False  # send Upload-Checksum (sha256) with every chunk
    events_token: str | None = None  # a fleet:events:ingest token: report upload events
    suffixes: tuple[str, ...] = VIDEO_SUFFIXES


@dataclass
class FileOutcome:
    """What happened to one file (one ``--json`` line)."""

    file: str
    status: str  # uploaded, duplicate, rejected, failed, changed
    sha256: str | None = None
    recording: str | None = None
    bytes: int = 0
    sent: int = 0
    resumed_from: int = 0
    attempts: int = 0
    seconds: float = 0.0
    error: str = ""
    event: str = ""

    @property
    def acknowledged(self) -> bool:
        """Whether the server acknowledged the file (and the local copy was removed)."""
        return self.status in ("uploaded", "duplicate")

    def as_json(self) -> dict[str, Any]:
        """The JSON log line."""
        return {k: v for k, v in asdict(self).items() if v not in ("", None)}


@dataclass
class _State:
    """The state file beside a recording: its hash, and the upload that carries it."""

    sha256: str
    size: int
    mtime_ns: int
    inode: int
    server: str
    url: str | None = None
    status: str = "pending"  # pending, rejected
    error: str = ""

    def matches(self, st: os.stat_result, server: str) -> bool:
        return (self.size, self.mtime_ns, self.inode, self.server) == (
            st.st_size,
            st.st_mtime_ns,
            st.st_ino,
            server,
        )


@dataclass
class Reply:
    """A server answer: status, headers (lower-case names), body."""

    status: int
    headers: dict[str, str]
    body: bytes = b""

    def detail(self) -> str:
        """The server's sentence (JSON ``detail``), or the status."""
        with contextlib.suppress(ValueError, AttributeError):
            return str(json.loads(self.body)["detail"])
        return f"HTTP {self.status}"

    def ack(self) -> tuple[str, str, bool] | None:
        """(recording id, sha256, duplicate) when the answer carries the acknowledgement."""
        rec, sha = self.headers.get("bodycam-recording-id"), self.headers.get("bodycam-sha256")
        if rec and sha:
            return rec, sha, self.headers.get("bodycam-duplicate") == "true"
        return None


class TusClient:
    """A tus 1.0 client on one kept-alive HTTP connection (stdlib ``http.client``).

    Chunks go out with ``sendfile`` straight from the page cache. Any connection
    problem closes the connection and raises :class:`Transport`.
    """

    def __init__(self, server: str, token: str, timeout_s: float = 120.0) -> None:
        parts = urlsplit(server.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise AgentError(f"The server URL {server!r} must look like http(s)://host:port.")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.base = parts.path
        self.token = token
        self.timeout_s = timeout_s
        self._conn: http.client.HTTPConnection | None = None

    @property
    def endpoint(self) -> str:
        """The creation URL's path."""
        return self.base + UPLOADS_PATH

    def close(self) -> None:
        """Drop the connection (the next request opens a new one)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            cls = (
                http.client.HTTPSConnection
                if self.scheme == "https"
                else http.client.HTTPConnection
            )
            self._conn = cls(self.host, self.port, timeout=self.timeout_s)
        return self._conn

    def request(
        self,
        method: str,
        path: str,
        headers: dict[str, str] | None = None,
        body: tuple[BinaryIO, int, int] | None = None,
        token: str | None = None,
        payload: bytes = b"",
    ) -> Reply:
        """Send one request; ``body`` is (file, offset, count) sent with sendfile."""
        path = urlsplit(path).path or path  # a Location may be absolute
        count = body[2] if body else len(payload)
        try:
            conn = self._connection()
            conn.putrequest(method, path, skip_accept_encoding=True)
            conn.putheader("Authorization", f"Bearer {token or self.token}")
            conn.putheader("Tus-Resumable", TUS_VERSION)
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            if method != "HEAD":
                conn.putheader("Content-Length", str(count))
            conn.endheaders(payload or None)
            if body and count:
                assert conn.sock is not None
                sent = conn.sock.sendfile(body[0], body[1], count)
                if sent != count:
                    raise Transport(f"the file ended after {sent} of {count} bytes")
            resp = conn.getresponse()
            data = resp.read()
            reply = Reply(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)
            if resp.will_close:
                self.close()
            return reply
        except (OSError, http.client.HTTPException) as exc:
            self.close()
            raise Transport(f"{type(exc).__name__}: {exc}") from exc


def file_sha256(path: Path) -> str:
    """SHA-256 (hex) of a file, streamed."""
    digest = sha256()
    buf = bytearray(HASH_BLOCK)
    view = memoryview(buf)
    with path.open("rb", buffering=0) as f:
        while n := f.readinto(buf):
            digest.update(view[:n])
    return digest.hexdigest()


def _offset(reply: Reply, size: int) -> int | None:
    """The answer's Upload-Offset, when it is a number between 0 and ``size``."""
    value = reply.headers.get("upload-offset", "")
    return int(value) if value.isdigit() and int(value) <= size else None


def _metadata(values: dict[str, str | None]) -> str:
    return ",".join(
        f"{k} {b64encode(v.encode('utf-8')).decode('ascii')}" for k, v in values.items() if v
    )


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


class DockAgent:
    """Watches one dock folder and uploads what is finished in it."""

    def __init__(
        self,
        watch_dir: Path,
        options: AgentOptions,
        *,
        on_progress: ProgressFn | None = None,
        on_outcome: Callable[[FileOutcome], None] | None = None,
        stop: threading.Event | None = None,
    ) -> None:
        self.watch_dir = Path(watch_dir)
        self.options = options
        self.client = TusClient(options.server, options.token, options.timeout_s)
        self.on_progress = on_progress
        self.on_outcome = on_outcome
        self.stop = stop or threading.Event()
        self._seen: dict[Path, tuple[int, int, float]] = {}
        if not self.watch_dir.is_dir():
            raise AgentError(f"The dock folder {self.watch_dir} does not exist.")

    # -- the folder ---------------------------------------------------------------------------

    @staticmethod
    def state_path(path: Path) -> Path:
        """Where the agent keeps a recording's upload state."""
        return path.with_name(f".{path.name}{STATE_SUFFIX}")

    def candidates(self) -> Iterator[Path]:
        """Video files in the folder (and below), skipping hidden names."""
        for path in sorted(self.watch_dir.rglob("*")):
            rel = path.relative_to(self.watch_dir)
            if any(part.startswith(".") for part in rel.parts):
                continue
            if path.suffix.lower() in self.options.suffixes and path.is_file():
                yield path

    def ready(self) -> list[Path]:
        """Files whose size and modification time have not changed for ``settle_s``."""
        now = time.monotonic()
        seen: dict[Path, tuple[int, int, float]] = {}
        out: list[Path] = []
        for path in self.candidates():
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            before = self._seen.get(path)
            since = before[2] if before and before[:2] == (st.st_size, st.st_mtime_ns) else now
            seen[path] = (st.st_size, st.st_mtime_ns, since)
            if now - since >= self.options.settle_s and not self._rejected(path, st):
                out.append(path)
        self._seen = seen
        return out

    def _rejected(self, path: Path, st: os.stat_result) -> bool:
        state = self._load(path)
        return state is not None and state.status == "rejected" and state.matches(st, self._server)

    @property
    def _server(self) -> str:
        return self.options.server.rstrip("/")

    def _load(self, path: Path) -> _State | None:
        try:
            return _State(**json.loads(self.state_path(path).read_text(encoding="utf-8")))
        except (FileNotFoundError, ValueError, TypeError):
            return None

    def _save(self, path: Path, state: _State) -> None:
        target = self.state_path(path)
        tmp = target.with_name(target.name + ".tmp")
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(asdict(state), f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)

    # -- running ------------------------------------------------------------------------------

    def run_once(self) -> list[FileOutcome]:
        """Upload every file that is finished now; wait ``settle_s`` once to tell which."""
        files = self.ready()
        if self.options.settle_s > 0 and not self.stop.is_set():
            self.stop.wait(self.options.settle_s)
            files = self.ready()
        return [self.upload(p) for p in files if not self.stop.is_set()]

    def run_forever(self) -> None:
        """Watch the folder until ``stop`` is set (polling every ``poll_s`` seconds)."""
        while not self.stop.is_set():
            for path in self.ready():
                if self.stop.is_set():
                    break
                self.upload(path)
            self.stop.wait(self.options.poll_s)

    # -- one file -----------------------------------------------------------------------------

    def _sleep(self, failures: int) -> None:
        o = self.options
        delay = min(o.max_backoff_s, o.backoff_s * 2 ** max(0, failures - 1))
        self.stop.wait(delay * random.uniform(0.5, 1.0))  # noqa: S311 (jitter)  # nosec B311

    def _fresh_state(self, path: Path) -> _State:
        st = path.stat()
        digest = file_sha256(path)
        after = path.stat()
        if (st.st_size, st.st_mtime_ns) != (after.st_size, after.st_mtime_ns):
            raise _Changed()
        state = _State(digest, st.st_size, st.st_mtime_ns, st.st_ino, self._server)
        self._save(path, state)
        return state

    def upload(self, path: Path) -> FileOutcome:
        """Upload one file until it is acknowledged (then delete it) or the attempts run out."""
        started = time.monotonic()
        outcome = FileOutcome(str(path), "failed")
        try:
            self._upload(path, outcome)
        except _Changed:
            outcome.status, outcome.error = "changed", "the file changed; it waits to settle"
        except FileNotFoundError:
            outcome.status, outcome.error = "changed", "the file disappeared"
        except Refused:
            raise
        except AgentError as exc:
            outcome.status, outcome.error = "failed", str(exc)
        finally:
            outcome.seconds = round(time.monotonic() - started, 3)
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        return outcome

    def _upload(self, path: Path, out: FileOutcome) -> None:
        st = path.stat()
        state = self._load(path)
        if state is None or not state.matches(st, self._server) or state.status != "pending":
            state = self._fresh_state(path)
        out.sha256, out.bytes = state.sha256, state.size
        failures = 0
        first_offset: int | None = None
        while not self.stop.is_set():
            if failures >= self.options.attempts:
                out.error = f"gave up after {failures} failed attempts in a row: {out.error}"
                return
            if failures:
                self._sleep(failures)
            out.attempts += 1
            try:
                if state.url is None:
                    state.url = self._create(state, path)
                    self._save(path, state)
                    first_offset = out.resumed_from = 0
                    result = self._send_from(path, state, 0, out)  # a new upload holds 0 bytes
                    if result == "done":
                        return
                    failures = 0 if result == "progress" else failures + 1
                    continue
                head = self.client.request("HEAD", state.url)
                if head.status in (404, 410):  # expired, terminated, or refused: start again
                    state = self._restart(path, state)
                    failures += 1
                    out.error = f"upload ended on the server ({head.detail()})"
                    continue
                self._check(head)
                if head.status != 200:
                    failures += 1
                    out.error = head.detail()
                    continue
                if (ack := head.ack()) is not None:
                    self._acknowledged(path, state, ack, out)
                    return
                offset = _offset(head, state.size)
                if offset is None:
                    failures += 1
                    out.error = "the server sent no valid Upload-Offset"
                    continue
                if first_offset is None:
                    first_offset = out.resumed_from = offset
                result = self._send_from(path, state, offset, out)
                if result == "done":
                    return
                if result == "progress":
                    failures = 0
                else:
                    failures += 1
            except Transport as exc:
                failures += 1
                out.error = f"connection: {exc}"
        out.error = "stopped before the upload finished"

    def _restart(self, path: Path, state: _State) -> _State:
        """The upload is gone: hash again (the file may have changed) and create anew."""
        fresh = self._fresh_state(path)
        if fresh.sha256 != state.sha256:
            raise _Changed()
        return fresh

    def _check(self, reply: Reply) -> None:
        if reply.status in (401, 403):
            raise Refused(f"The server refused the agent: {reply.detail()}")

    def _create(self, state: _State, path: Path) -> str:
        o = self.options
        meta = _metadata(
            {
                "filename": path.name,
                "officer": o.officer,
                "camera": o.camera,
                "category": o.category,
                "sha256": state.sha256,
            }
        )
        reply = self.client.request(
            "POST",
            self.client.endpoint,
            {"Upload-Length": str(state.size), "Upload-Metadata": meta},
        )
        self._check(reply)
        if reply.status != 201 or "location" not in reply.headers:
            if 400 <= reply.status < 500 and reply.status not in (408, 429):
                raise AgentError(f"The server would not create an upload: {reply.detail()}")
            raise Transport(f"creating the upload answered {reply.status}: {reply.detail()}")
        return reply.headers["location"]

    def _send_from(self, path: Path, state: _State, offset: int, out: FileOutcome) -> str:
        """PATCH chunks from ``offset``; "done", "progress" (then cut) or "stuck"."""
        assert state.url is not None
        moved = False
        with path.open("rb") as f:
            while True:
                n = min(self.options.chunk_size, state.size - offset)
                headers = {
                    "Content-Type": "application/offset+octet-stream",
                    "Upload-Offset": str(offset),
                }
                if self.options.chunk_checksum:
                    f.seek(offset)
                    digest = sha256(f.read(n)).digest()
                    headers["Upload-Checksum"] = "sha256 " + b64encode(digest).decode("ascii")
                try:
                    reply = self.client.request("PATCH", state.url, headers, (f, offset, n))
                except Transport as exc:
                    out.error = f"connection: {exc}"
                    return "progress" if moved else "stuck"
                self._check(reply)
                if reply.status == 204:
                    new = _offset(reply, state.size)
                    if new is None or new < offset:
                        out.error = "the server sent no valid Upload-Offset"
                        return "progress" if moved else "stuck"
                    out.sent += new - offset
                    moved = moved or new > offset
                    offset = new
                    if self.on_progress is not None:
                        self.on_progress(path, offset, state.size)
                    if (ack := reply.ack()) is not None:
                        self._acknowledged(path, state, ack, out)
                        return "done"
                    if offset >= state.size or self.stop.is_set():
                        return "progress"  # complete but not acknowledged: ask again
                    continue
                out.error = reply.detail()
                if reply.status == 409 and (ack := reply.ack()) is not None:
                    self._acknowledged(path, state, ack, out)
                    return "done"
                if reply.status == 422:  # every byte arrived; ingest refused the file
                    state.status, state.error = "rejected", reply.detail()
                    self._save(path, state)
                    out.status, out.error = "rejected", reply.detail()
                    return "done"
                # 460 for the whole file ends the upload: the next HEAD answers 410 and
                # the file is hashed again before a new upload starts.
                return "progress" if moved else "stuck"

    def _acknowledged(
        self, path: Path, state: _State, ack: tuple[str, str, bool], out: FileOutcome
    ) -> None:
        recording, acked_sha, duplicate = ack
        out.recording = recording
        if acked_sha != state.sha256:
            out.status = "failed"
            out.error = (
                f"the server acknowledged SHA-256 {acked_sha}, not the file's {state.sha256}; "
                "the file is kept"
            )
            return
        st = path.stat()
        if not state.matches(st, self._server):
            raise _Changed()
        self._remove(path)
        out.status = "duplicate" if duplicate else "uploaded"
        out.error = ""
        if self.options.events_token and self.options.camera:
            out.event = self._report_event(state.sha256)

    def _remove(self, path: Path) -> None:
        """Delete an acknowledged recording and its state file."""
        path.unlink()
        self.state_path(path).unlink(missing_ok=True)
        _fsync_dir(path.parent)

    def _report_event(self, digest: str) -> str:
        """Post an ``upload`` device event for the camera (best effort)."""
        at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        event = [{"camera": self.options.camera, "event": "upload", "at": at, "sha256": digest}]
        try:
            reply = self.client.request(
                "POST",
                self.client.base + "/api/v1/fleet/events",
                {"Content-Type": "application/json"},
                token=self.options.events_token,
                payload=json.dumps(event).encode(),
            )
        except Transport as exc:
            return f"not reported: {exc}"
        return "reported" if reply.status == 200 else f"not reported: {reply.detail()}"


class _Changed(Exception):
    """The file changed while the agent worked on it."""


# --- the command ----------------------------------------------------------------------------


def dock_agent_command(
    watch_dir: Annotated[Path, typer.Argument(help="The dock folder to upload from.")],
    server: Annotated[str, typer.Option(help="bodycam server URL, e.g. https://bodycam.example")],
    token: Annotated[
        str,
        typer.Option(
            envvar="BODYCAM_DOCK_TOKEN",
            help="API token of a user who may ingest for the dock's officers "
            "(or set BODYCAM_DOCK_TOKEN).",
        ),
    ],
    once: Annotated[bool, typer.Option(help="Upload what is finished now, then exit.")] = False,
    officer: Annotated[
        str | None, typer.Option(help="Badge of the recording officer (default: the token's).")
    ] = None,
    camera: Annotated[str | None, typer.Option(help="Camera serial number.")] = None,
    category: Annotated[str | None, typer.Option(help="Category (default Uncategorized).")] = None,
    chunk_mib: Annotated[float, typer.Option(help="Chunk size in MiB.", min=0.0625)] = 8.0,
    settle: Annotated[
        float, typer.Option(help="Seconds a file must stay unchanged to count as finished.", min=0)
    ] = 5.0,
    poll: Annotated[float, typer.Option(help="Seconds between folder scans.", min=0.1)] = 10.0,
    attempts: Annotated[
        int, typer.Option(help="Failed attempts in a row before a file waits a scan.", min=1)
    ] = 10,
    chunk_checksum: Annotated[
        bool, typer.Option(help="Send a SHA-256 checksum with every chunk.")
    ] = False,
    events_token: Annotated[
        str | None,
        typer.Option(
            envvar="BODYCAM_DOCK_EVENTS_TOKEN",
            help="Token with fleet:events:ingest: report an upload event per file "
            "(needs --camera).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="One JSON line per file.")] = False,
) -> None:
    """Upload finished recordings from a dock folder; delete each only once acknowledged."""
    import signal

    from rich.console import Console
    from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

    err = Console(stderr=True)
    options = AgentOptions(
        server=server,
        token=token,
        officer=officer,
        camera=camera,
        category=category,
        chunk_size=int(chunk_mib * (1 << 20)),
        settle_s=settle,
        poll_s=poll,
        attempts=attempts,
        chunk_checksum=chunk_checksum,
        events_token=events_token,
    )
    stop = threading.Event()
    progress = Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        console=err,
        transient=True,
    )
    tasks: dict[Path, Any] = {}
    outcomes: list[FileOutcome] = []

    def on_progress(path: Path, done: int, total: int) -> None:
        if path not in tasks:
            tasks[path] = progress.add_task(path.name, total=total)
        progress.update(tasks[path], completed=done)

    def on_outcome(o: FileOutcome) -> None:
        outcomes.append(o)
        task = tasks.pop(Path(o.file), None)
        if task is not None:
            progress.remove_task(task)
        if as_json:
            print(json.dumps(o.as_json()), flush=True)
        elif o.acknowledged:
            held = "already held as" if o.status == "duplicate" else "stored as"
            progress.console.print(
                f"{o.file}: {held} {o.recording} sha256 {o.sha256}; removed from the dock",
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
        else:
            progress.console.print(
                f"{o.file}: {o.status}: {o.error}", markup=False, highlight=False, soft_wrap=True
            )

    def _stop(*_: object) -> None:
        stop.set()

    previous = {s: signal.signal(s, _stop) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        agent = DockAgent(
            watch_dir, options, on_progress=on_progress, on_outcome=on_outcome, stop=stop
        )
        with progress:
            if once:
                agent.run_once()
            else:
                err.print(f"dock-agent: watching {watch_dir}, uploading to {server}", markup=False)
                agent.run_forever()
    except Refused as exc:
        err.print(str(exc), markup=False, soft_wrap=True)
        raise typer.Exit(3) from None
    except AgentError as exc:
        err.print(str(exc), markup=False, soft_wrap=True)
        raise typer.Exit(1) from None
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if once and any(not o.acknowledged for o in outcomes):
        raise typer.Exit(1)
