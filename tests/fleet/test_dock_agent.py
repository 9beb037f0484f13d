"""The dock agent against a real server on loopback, through a proxy that cuts connections.

The server is uvicorn serving the app on the test deployment (both engines); one test
runs it as a separate ``bodycam serve`` process that SIGKILLs itself right after the
ingest commits. Between the agent and the server sits :class:`FaultProxy`, which cuts the
connection after a chosen number of request bytes, or instead of relaying an answer.

In every case each file must arrive exactly once, byte for byte (same SHA-256, one
recording), and nothing may leave the dock unacknowledged: :class:`CheckedAgent` checks,
at the moment the agent deletes a file, that the recording is committed and its blob holds
exactly the file's bytes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import random
import socket
import struct
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import func, select
from typer.testing import CliRunner

from bodycam.cli import app as cli_app
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.evidence.models import Recording
from bodycam.fleet.dock_agent import AgentOptions, DockAgent, FileOutcome
from bodycam.fleet.models import Camera, DeviceEvent
from bodycam.synth.video import make_clip
from bodycam.web.app import create_app

RANDOM_TRIALS = 100  # files, each with 1 to 3 cuts at random byte offsets (per engine)
CHUNK = 64 * 1024


# --- the world: clips, a live server, a faulty network --------------------------------------


@pytest.fixture(scope="module")
def base_clip(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    """A real 6-second 320x240 H.264 + AAC clip (a few hundred KB)."""
    path = tmp_path_factory.mktemp("dock-clips") / "base.mp4"
    make_clip(path, seconds=6.0, width=320, height=240, fps=15, seed=41)
    return path.read_bytes()


def variant(base: bytes, folder: Path, n: int, name: str | None = None) -> Path:
    """A distinct valid MP4: the base clip plus a unique top-level 'free' box."""
    payload = f"dock-trial-{n:06d}".encode() * (1 + n % 7)
    path = folder / (name or f"CAM_{n:05d}.mp4")
    path.write_bytes(base + struct.pack(">I", 8 + len(payload)) + b"free" + payload)
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def server(ctx: Context) -> Iterator[str]:
    """The app on the test deployment, served by uvicorn on loopback (no lifespan: the
    background sealer is not what these tests are about)."""
    port = free_port()
    config = uvicorn.Config(
        create_app(ctx.settings, ctx),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="off",
    )
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert srv.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(10)


class _Pair:
    def __init__(self, client: socket.socket, upstream: socket.socket) -> None:
        self.client, self.upstream = client, upstream
        self._lock = threading.Lock()
        self.closed = False

    def cut(self) -> None:
        with self._lock:
            if self.closed:
                return
            self.closed = True
        for sock in (self.client, self.upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class FaultProxy:
    """A TCP proxy that cuts connections: after the request byte numbered in ``cuts``
    (counted over all connections), at random instead of relaying an answer
    (``drop_rate``), or instead of relaying the answer that carries ``drop_marker``."""

    def __init__(self, upstream_port: int, seed: int = 0) -> None:
        self.upstream = ("127.0.0.1", upstream_port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.url = f"http://127.0.0.1:{self.listener.getsockname()[1]}"
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.forwarded = 0
        self.cuts: list[int] = []
        self.drop_rate = 0.0
        self.drop_marker: bytes | None = None
        self.cut_count = 0
        self.dropped_answers = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self) -> None:
        self.listener.close()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream)
            except OSError:
                client.close()
                continue
            pair = _Pair(client, upstream)
            threading.Thread(target=self._requests, args=(pair,), daemon=True).start()
            threading.Thread(target=self._answers, args=(pair,), daemon=True).start()

    def _requests(self, pair: _Pair) -> None:
        while True:
            try:
                data = pair.client.recv(65536)
            except OSError:
                break
            if not data:
                break
            with self.lock:
                start = self.forwarded
                cut = next((c for c in self.cuts if start <= c < start + len(data)), None)
                keep = len(data) if cut is None else cut - start
                self.forwarded += keep
                if cut is not None:
                    self.cuts.remove(cut)
                    self.cut_count += 1
            try:
                pair.upstream.sendall(data[:keep])
            except OSError:
                break
            if cut is not None:
                break
        pair.cut()

    def _answers(self, pair: _Pair) -> None:
        while True:
            try:
                data = pair.upstream.recv(65536)
            except OSError:
                break
            if not data:
                break
            with self.lock:
                marked = self.drop_marker is not None and self.drop_marker in data.lower()
                drop = marked or self.rng.random() < self.drop_rate
                if marked:
                    self.drop_marker = None
                if drop:
                    self.dropped_answers += 1
            if drop:
                break
            try:
                pair.client.sendall(data)
            except OSError:
                break
        pair.cut()


@pytest.fixture
def proxy(server: str) -> Iterator[FaultProxy]:
    p = FaultProxy(int(server.rsplit(":", 1)[1]), seed=20260301)
    yield p
    p.close()


class CheckedAgent(DockAgent):
    """A dock agent that proves, at each deletion, that the file is held byte for byte."""

    def __init__(self, *args: object, ctx: Context, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.ctx = ctx
        self.deleted: list[str] = []

    def _remove(self, path: Path) -> None:
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        with self.ctx.sessions() as s:
            rec = s.scalars(select(Recording).where(Recording.sha256 == sha)).one_or_none()
        assert rec is not None, f"{path.name} is being deleted, but no recording holds it"
        assert b"".join(self.ctx.store.iter_bytes(sha)) == data, f"{path.name}: blob differs"
        self.deleted.append(sha)
        super()._remove(path)


def token(creds, who: str = "o1") -> str:
    return creds.token(who)["Authorization"].removeprefix("Bearer ")


def options(url: str, tok: str, **kw: object) -> AgentOptions:
    defaults: dict[str, object] = {
        "settle_s": 0.0,
        "chunk_size": CHUNK,
        "attempts": 60,
        "backoff_s": 0.005,
        "max_backoff_s": 0.1,
        "timeout_s": 20.0,
    }
    return AgentOptions(server=url, token=tok, **(defaults | kw))  # type: ignore[arg-type]


def held(ctx: Context) -> list[str]:
    with ctx.sessions() as s:
        return list(s.scalars(select(Recording.sha256)))


def sha_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dock_files(dock: Path) -> list[Path]:
    return sorted(p for p in dock.rglob("*") if p.is_file())


# --- the plain case ------------------------------------------------------------------------


def test_uploads_each_finished_file_and_empties_the_dock(ctx, creds, server, base_clip, tmp_path):
    dock = tmp_path / "dock"
    (dock / "sub").mkdir(parents=True)
    files = [variant(base_clip, dock, n) for n in range(3)]
    files.append(variant(base_clip, dock / "sub", 3))
    (dock / "notes.txt").write_text("not a video")
    (dock / ".hidden.mp4").write_bytes(b"skipped")
    want = {sha_of(p): p.stat().st_size for p in files}
    agent = CheckedAgent(dock, options(server, token(creds), camera="CAM-7"), ctx=ctx)
    outcomes = agent.run_once()
    assert [o.status for o in outcomes] == ["uploaded"] * 4
    assert {o.sha256: o.bytes for o in outcomes} == want
    assert all(o.sent == o.bytes and o.resumed_from == 0 for o in outcomes)
    assert sorted(held(ctx)) == sorted(want)
    assert sorted(agent.deleted) == sorted(want)
    assert dock_files(dock) == [dock / ".hidden.mp4", dock / "notes.txt"]
    with ctx.sessions() as s:
        assert {r.camera_serial for r in s.scalars(select(Recording))} == {"CAM-7"}
    assert list((ctx.settings.resolved_home / "uploads").glob("*.part")) == []
    assert agent.run_once() == []


# --- faults --------------------------------------------------------------------------------


def test_connections_cut_at_random_offsets(ctx, creds, server, proxy, base_clip, tmp_path):
    """RANDOM_TRIALS files; each upload is cut 1 to 3 times at random request bytes, and
    about one answer in eight (the acknowledgement among them) is dropped."""
    rng = random.Random(7)
    dock = tmp_path / "dock"
    dock.mkdir()
    agent = CheckedAgent(dock, options(proxy.url, token(creds)), ctx=ctx)
    proxy.drop_rate = 0.12
    expected: list[str] = []
    resumed = 0
    for n in range(RANDOM_TRIALS):
        path = variant(base_clip, dock, n)
        data = path.read_bytes()
        expected.append(hashlib.sha256(data).hexdigest())
        with proxy.lock:
            start = proxy.forwarded
            proxy.cuts = sorted(
                start + rng.randrange(len(data) + 1500) for _ in range(rng.randint(1, 3))
            )
            if rng.random() < 0.25:
                proxy.drop_marker = b"bodycam-recording-id"
        outcome = agent.upload(path)
        assert outcome.status == "uploaded", (n, outcome)
        assert outcome.sha256 == expected[-1]
        assert not path.exists() and not agent.state_path(path).exists()
        resumed += outcome.sent < outcome.bytes or outcome.attempts > 1
        with proxy.lock:
            proxy.cuts.clear()
            proxy.drop_marker = None
    assert sorted(held(ctx)) == sorted(expected)  # each exactly once, no extra recording
    assert agent.deleted == expected  # and each deleted only once it was held
    assert dock_files(dock) == []
    assert proxy.cut_count >= RANDOM_TRIALS  # the faults really happened
    assert proxy.dropped_answers >= RANDOM_TRIALS // 8
    assert resumed >= RANDOM_TRIALS // 2


def test_a_lost_acknowledgement_is_asked_for_again(ctx, creds, server, proxy, base_clip, tmp_path):
    dock = tmp_path / "dock"
    dock.mkdir()
    path = variant(base_clip, dock, 1)
    proxy.drop_marker = b"bodycam-recording-id"  # the last PATCH's answer never arrives
    agent = CheckedAgent(dock, options(proxy.url, token(creds)), ctx=ctx)
    (outcome,) = agent.run_once()
    assert proxy.dropped_answers == 1
    assert outcome.status == "uploaded" and outcome.attempts == 2
    assert held(ctx) == [outcome.sha256] == agent.deleted
    assert not path.exists()


def serve(settings, port: int, log: Path, fault: str | None = None) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "BODYCAM_HOME": str(settings.resolved_home),
        "BODYCAM_DATABASE_URL": settings.resolved_database_url,
        "BODYCAM_STORAGE_URL": settings.resolved_storage_url,
    }
    env.pop("BODYCAM_FAULT_KILL_AT", None)
    if fault:
        env["BODYCAM_FAULT_KILL_AT"] = f"{fault}:1"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bodycam.cli", "serve", "--port", str(port)],
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/v1/health", timeout=1):
                return proc
        except OSError:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.1)
    proc.kill()
    pytest.fail("bodycam serve did not start")


@pytest.mark.slow
@pytest.mark.parametrize("point", ["ingest.committed", "store.done"])
def test_server_killed_before_the_acknowledgement(ctx, settings, creds, base_clip, tmp_path, point):
    """The server dies by SIGKILL after the commit (or after the blob, before the row):
    the file stays in the dock; once a server is back, the same upload is finished and
    acknowledged, and the recording is held once."""
    dock = tmp_path / "dock"
    dock.mkdir()
    path = variant(base_clip, dock, 5)
    data, sha = path.read_bytes(), sha_of(path)
    port = free_port()
    log = tmp_path / "server.log"
    first = serve(settings, port, log, fault=point)
    agent = CheckedAgent(
        dock, options(f"http://127.0.0.1:{port}", token(creds), attempts=400), ctx=ctx
    )
    outcomes: list[FileOutcome] = []
    worker = threading.Thread(target=lambda: outcomes.extend(agent.run_once()), daemon=True)
    worker.start()
    assert first.wait(60) == -9, log.read_text()  # killed itself at the fault point
    assert path.read_bytes() == data  # nothing was acknowledged, nothing deleted
    committed = held(ctx)
    assert committed == ([sha] if point == "ingest.committed" else [])
    second = serve(settings, port, log)
    try:
        worker.join(60)
        assert not worker.is_alive()
    finally:
        second.terminate()
        second.wait(30)
    (outcome,) = outcomes
    assert outcome.status == ("duplicate" if point == "ingest.committed" else "uploaded")
    assert outcome.sha256 == sha and outcome.attempts > 1
    assert held(ctx) == [sha] == agent.deleted
    assert not path.exists()
    assert b"".join(ctx.store.iter_bytes(sha)) == data


def test_a_restarted_agent_resumes_where_the_server_is(ctx, creds, server, base_clip, tmp_path):
    dock = tmp_path / "dock"
    dock.mkdir()
    path = variant(base_clip, dock, 9)
    size = path.stat().st_size
    stop = threading.Event()

    def halfway(_path: Path, done: int, total: int) -> None:
        if done >= total // 2:
            stop.set()  # the agent is stopped (killed) mid-file

    first = CheckedAgent(
        dock, options(server, token(creds)), on_progress=halfway, stop=stop, ctx=ctx
    )
    (cut,) = first.run_once()
    assert cut.status == "failed" and path.exists()
    state = json.loads(first.state_path(path).read_text())
    assert state["url"] and state["sha256"] == sha_of(path)
    assert held(ctx) == []
    second = CheckedAgent(dock, options(server, token(creds)), ctx=ctx)
    (done,) = second.run_once()
    assert done.status == "uploaded"
    assert size // 2 <= done.resumed_from < size
    assert done.sent == size - done.resumed_from
    assert held(ctx) == [done.sha256] == second.deleted


def test_a_file_changed_under_the_agent_is_kept(ctx, creds, server, base_clip, tmp_path):
    dock = tmp_path / "dock"
    dock.mkdir()
    path = variant(base_clip, dock, 11)
    original = path.read_bytes()

    def rewrite(_path: Path, done: int, total: int) -> None:
        if done == CHUNK:  # the camera rewrites the file's end after the first chunk
            with path.open("r+b") as f:
                f.seek(len(original) - 10)
                f.write(b"0123456789")

    agent = CheckedAgent(dock, options(server, token(creds)), on_progress=rewrite, ctx=ctx)
    (outcome,) = agent.run_once()
    assert outcome.status == "changed"
    assert path.exists() and held(ctx) == [] and agent.deleted == []
    agent.on_progress = None
    (again,) = agent.run_once()  # the new content is a new file: hashed again, uploaded
    assert again.status == "uploaded" and again.sha256 != hashlib.sha256(original).hexdigest()
    assert held(ctx) == [again.sha256]


def test_a_file_the_server_refuses_is_kept_and_not_retried(ctx, creds, server, tmp_path):
    dock = tmp_path / "dock"
    dock.mkdir()
    path = dock / "broken.mp4"
    path.write_bytes(b"this is a text file, not a video\n" * 100)
    agent = DockAgent(dock, options(server, token(creds)))
    (outcome,) = agent.run_once()
    assert outcome.status == "rejected" and "not stored" in outcome.error
    assert path.exists() and held(ctx) == []
    assert json.loads(agent.state_path(path).read_text())["status"] == "rejected"
    assert agent.run_once() == []


def test_a_file_still_being_written_waits(ctx, creds, server, base_clip, tmp_path):
    dock = tmp_path / "dock"
    dock.mkdir()
    whole = variant(base_clip, tmp_path, 13)
    data = whole.read_bytes()
    growing = dock / "GROWING.mp4"
    growing.write_bytes(data[:5000])
    stop = threading.Event()
    outcomes: list[FileOutcome] = []
    agent = DockAgent(
        dock,
        options(server, token(creds), settle_s=0.6, poll_s=0.05),
        on_outcome=outcomes.append,
        stop=stop,
    )
    watcher = threading.Thread(target=agent.run_forever, daemon=True)
    watcher.start()
    try:
        for k in range(5000, len(data), len(data) // 6):
            time.sleep(0.15)
            with growing.open("ab") as f:
                f.write(data[k : k + len(data) // 6])
        assert outcomes == []  # never while it grows
        deadline = time.monotonic() + 20
        while not outcomes and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        watcher.join(10)
    assert [o.status for o in outcomes] == ["uploaded"]
    assert held(ctx) == [hashlib.sha256(data).hexdigest()]


def test_upload_events_are_reported_for_the_camera(ctx, creds, server, base_clip, tmp_path):
    with transaction(ctx.sessions) as s:
        s.add(Camera(serial="CAM-EV", model="AX-3"))
    dock = tmp_path / "dock"
    dock.mkdir()
    path = variant(base_clip, dock, 17)
    sha = sha_of(path)
    opts = options(server, token(creds), camera="CAM-EV", events_token=token(creds, "equipment"))
    (outcome,) = DockAgent(dock, opts).run_once()
    assert outcome.status == "uploaded" and outcome.event == "reported"
    with ctx.sessions() as s:
        events = list(s.scalars(select(DeviceEvent)))
    assert [(e.kind, e.sha256) for e in events] == [("upload", sha)]


def test_the_command(ctx, creds, server, base_clip, tmp_path):
    dock = tmp_path / "dock"
    dock.mkdir()
    paths = [variant(base_clip, dock, n) for n in (21, 22)]
    shas = sorted(sha_of(p) for p in paths)
    args = ["dock-agent", str(dock), "--server", server, "--once", "--settle", "0", "--json"]
    result = CliRunner().invoke(cli_app, [*args, "--token", token(creds), "--chunk-mib", "0.1"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert sorted(line["sha256"] for line in lines) == shas
    assert {line["status"] for line in lines} == {"uploaded"}
    assert all(line["recording"] for line in lines)
    assert dock_files(dock) == []
    variant(base_clip, dock, 23)
    refused = CliRunner().invoke(cli_app, [*args, "--token", "bcm_not-a-token"])
    assert refused.exit_code == 3
    assert [p.name for p in dock_files(dock) if not p.name.startswith(".")] == ["CAM_00023.mp4"]
    with ctx.sessions() as s:
        assert s.scalar(select(func.count()).select_from(Recording)) == 2
