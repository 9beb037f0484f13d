"""``make cluster-test``: the cluster layout on loopback, driven end to end across processes.

One module fixture starts what docs/operations.md describes for a cluster, on 127.0.0.1:
a fresh PostgreSQL database (on BODYCAM_TEST_DATABASE_URL's server, or a throwaway one),
the suite's S3 server (SeaweedFS) with a fresh bucket, a queue of its own on the test Redis
(BODYCAM_TEST_REDIS_URL, default database 11), ``bodycam init``, two API servers
(``bodycam serve``) and two Celery workers (``bodycam worker --concurrency 1``). Every
process has a home of its own and shares only what the docs say to share: the
environment, the secret key and a copy of the keys folder that ``bodycam init`` made.
The scenario then ingests from four clients at once through both servers (plain and
resumable uploads), runs face detection, a render and a release build on the workers,
verifies the release offline and the whole deployment with ``bodycam verify``. Without
PostgreSQL, Redis or the S3 server binary the test is skipped with the reason (failed
under BODYCAM_REQUIRE_SERVICES=1).
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest
import redis
from PIL import Image
from sqlalchemy import select

from bodycam.auth.models import User
from bodycam.auth.service import actor_for, create_user, get_user, issue_token
from bodycam.config import Settings
from bodycam.context import Context
from bodycam.db import transaction
from bodycam.disclosure import footage, release_builder, requests, workflow
from bodycam.evidence.jobs import get_poster
from bodycam.evidence.models import Recording
from bodycam.evidence.service import Vault
from bodycam.jobs.dispatch import configure
from bodycam.jobs.models import Job, JobStatus
from bodycam.redaction import projects
from bodycam.redaction.faceclip import FaceClip, Walker
from bodycam.synth.video import make_clip
from tests.fixtures.postgres import drop_database, fresh_database, unavailable
from tests.fixtures.s3_server import S3Server, empty_bucket

DEFAULT_REDIS = "redis://127.0.0.1:6379/11"
BODYCAM = [sys.executable, "-m", "bodycam.cli"]
CLIENTS = 4  # concurrent uploaders, one officer each
PER_CLIENT = 2  # clips each: one plain upload, one resumable (tus) upload
STARTUP_S = 90.0
JOB_TIMEOUT_S = 120.0
EPOCH = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Proc:
    """A long-running process of the cluster, in a process group of its own."""

    name: str
    popen: subprocess.Popen[bytes]
    log: Path

    def text(self) -> str:
        """Everything it printed so far."""
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def tail(self, lines: int = 40) -> str:
        """The end of its output, for failure messages."""
        return f"--- {self.name} (exit {self.popen.poll()})\n" + "\n".join(
            self.text().splitlines()[-lines:]
        )


@dataclass
class Cluster:
    """The running cluster: its processes, how to reach them, and a context on its data."""

    root: Path
    env: dict[str, str]
    apis: list[str]
    procs: list[Proc]
    ctx: Context
    queue: str
    users: dict[str, User] = field(default_factory=dict)

    @property
    def workers(self) -> list[Proc]:
        """The two Celery workers."""
        return [p for p in self.procs if p.name.startswith("worker")]

    def cli(
        self, *args: str, user: str | None = None, check: int | None = 0
    ) -> subprocess.CompletedProcess[str]:
        """Run ``bodycam ARGS`` against the cluster's configuration (a home of its own)."""
        env = self.env | {"BODYCAM_HOME": str(_home(self.root, "cli"))}
        if user:
            env["BODYCAM_USER"] = user
        p = subprocess.run(
            [*BODYCAM, *args], capture_output=True, text=True, env=env, cwd=self.root, timeout=120
        )
        if check is not None:
            assert p.returncode == check, (args, p.returncode, p.stdout, p.stderr)
        return p

    def tails(self) -> str:
        """The end of every process's output."""
        return "\n".join(p.tail() for p in self.procs)

    def check_alive(self) -> None:
        """Fail, with their output, if any process of the cluster has exited."""
        dead = [p for p in self.procs if p.popen.poll() is not None]
        if dead:
            pytest.fail("cluster process(es) exited:\n" + "\n".join(p.tail() for p in dead))

    def job(self, job_id: str) -> Job:
        """A job's row as it is now."""
        with self.ctx.sessions() as s:
            job = s.get(Job, job_id)
            assert job is not None, f"no job {job_id}"
            s.expunge(job)
            return job

    def wait_jobs(self, job_ids: list[str], timeout: float = JOB_TIMEOUT_S) -> list[Job]:
        """Wait until every job is done; fail on a quarantined one or on the timeout."""
        deadline = time.monotonic() + timeout
        while True:
            jobs = [self.job(j) for j in job_ids]
            bad = [j for j in jobs if j.status == JobStatus.QUARANTINED]
            assert not bad, [(j.kind, j.error) for j in bad]
            if all(j.status == JobStatus.DONE for j in jobs):
                return jobs
            self.check_alive()
            if time.monotonic() > deadline:
                pending = [(j.id, j.kind, j.status, j.error) for j in jobs if j.status != "done"]
                pytest.fail(f"jobs not done after {timeout:.0f} s: {pending}\n{self.tails()}")
            time.sleep(0.2)

    def ran_by(self, job: Job) -> list[str]:
        """The workers whose log says they finished ``job``."""
        line = f"job {job.id} ({job.kind}): done"
        return [w.name for w in self.workers if line in w.text()]


def _redis_url() -> str:
    url = os.environ.get("BODYCAM_TEST_REDIS_URL", DEFAULT_REDIS)
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except (redis.RedisError, OSError) as exc:
        unavailable(f"Redis at {url}: {exc} (set BODYCAM_TEST_REDIS_URL or start redis-server)")
    return url


def _home(root: Path, name: str) -> Path:
    """A process's own home, with its copy of the keys folder ``bodycam init`` made."""
    home = root / name
    if not home.exists():
        shutil.copytree(root / "init" / "keys", home / "keys")
    return home


def _start(root: Path, name: str, args: list[str], env: dict[str, str]) -> Proc:
    home = _home(root, name)
    log = root / f"{name}.log"
    with log.open("wb") as out:
        popen = subprocess.Popen(
            [*BODYCAM, *args],
            env=env | {"BODYCAM_HOME": str(home)},
            cwd=home,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: prefork children die with it
        )
    return Proc(name, popen, log)


def _stop_all(procs: list[Proc]) -> None:
    """SIGTERM every process group, then SIGKILL whatever is left after a grace period."""
    for p in procs:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.popen.pid, signal.SIGTERM)
    deadline = time.monotonic() + 15
    for p in procs:
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.popen.wait(max(0.1, deadline - time.monotonic()))
    for p in procs:  # the group too: a prefork child outliving its parent
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.popen.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.popen.wait(10)


def _wait_ready(procs: list[Proc], apis: list[str]) -> None:
    deadline = time.monotonic() + STARTUP_S
    pending_api = set(apis)
    pending_workers = {p.name for p in procs if p.name.startswith("worker")}
    while pending_api or pending_workers:
        dead = [p for p in procs if p.popen.poll() is not None]
        if dead:
            pytest.fail("a cluster process exited at start:\n" + "\n".join(p.tail() for p in dead))
        if time.monotonic() > deadline:
            pytest.fail(
                f"the cluster did not start in {STARTUP_S:.0f} s (waiting for "
                f"{sorted(pending_api | pending_workers)}):\n" + "\n".join(p.tail() for p in procs)
            )
        for url in list(pending_api):
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/v1/health", timeout=2).json().get("status") == "ok":
                    pending_api.discard(url)
        for p in procs:
            if p.name in pending_workers and re.search(r"@\S+ ready\.", p.text()):
                pending_workers.discard(p.name)
        time.sleep(0.2)


@pytest.fixture(scope="module")
def cluster(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Cluster]:
    """PostgreSQL, S3, Redis, ``bodycam init``, two API servers and two Celery workers."""
    redis_url = _redis_url()
    pg_server: str = request.getfixturevalue("postgres_server_url")
    s3: S3Server = request.getfixturevalue("s3_server")
    root = tmp_path_factory.mktemp("cluster")
    db_name = f"bodycam_cluster_{os.getpid()}"
    bucket = f"bodycam-cluster-{uuid.uuid4().hex[:12]}"
    queue = f"bodycam-cluster-{uuid.uuid4().hex[:12]}"
    procs: list[Proc] = []
    with contextlib.ExitStack() as cleanup:
        database_url = fresh_database(pg_server, db_name)
        cleanup.callback(drop_database, pg_server, db_name)
        cleanup.callback(empty_bucket, s3.client(), bucket)
        broker = redis.Redis.from_url(redis_url)
        cleanup.callback(broker.close)

        def forget_queue() -> None:
            for key in broker.scan_iter(match=f"*{queue}*"):
                broker.delete(key)

        cleanup.callback(forget_queue)
        cleanup.callback(_stop_all, procs)

        # The keys travel in the AWS_* variables, as docs/operations.md recommends.
        storage_url = "s3://{}?{}".format(
            bucket, urlencode({"endpoint": s3.endpoint_url, "region": s3.region}, safe=":/")
        )
        secret_key = secrets.token_urlsafe(48)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BODYCAM_")} | {
            "BODYCAM_ENV": "production",
            "BODYCAM_MFA": "optional",  # API tokens of users who have not enrolled
            "BODYCAM_SECRET_KEY": secret_key,
            "BODYCAM_DATABASE_URL": database_url,
            "BODYCAM_STORAGE_URL": storage_url,
            "BODYCAM_JOBS": "celery",
            "BODYCAM_BROKER_URL": redis_url,
            "BODYCAM_JOBS_QUEUE": queue,
            "BODYCAM_JOB_RETRY_BASE_SECONDS": "0.5",
            "BODYCAM_AGENCY_NAME": "Cluster Test Police Department",
            "BODYCAM_ADMIN_PASSWORD": "correct-horse-battery",
            "AWS_ACCESS_KEY_ID": s3.access_key,
            "AWS_SECRET_ACCESS_KEY": s3.secret_key,
            "AWS_DEFAULT_REGION": s3.region,
            "PYTHONUNBUFFERED": "1",
        }
        init = subprocess.run(
            [*BODYCAM, "init", "--admin", "chief"],
            capture_output=True,
            text=True,
            env=env | {"BODYCAM_HOME": str(root / "init")},
            cwd=root,
            timeout=120,
        )
        assert init.returncode == 0, (init.stdout, init.stderr)
        assert "bodycam ready: database postgresql+psycopg://" in init.stdout, init.stdout
        keys = root / "init" / "keys"
        assert (keys / "audit-ed25519.pem").is_file()
        assert (keys / "c2pa" / "trust-anchor.pem").is_file()  # one release chain for all

        ports = [_free_port(), _free_port()]
        apis = [f"http://127.0.0.1:{p}" for p in ports]
        for n, port in enumerate(ports, 1):
            procs.append(_start(root, f"api{n}", ["serve", "--port", str(port)], env))
        for n in (1, 2):
            args = ["worker", "--concurrency", "1", "--interval", "2"]
            procs.append(_start(root, f"worker{n}", args, env))

        # This test process is one more client of the same database, store and broker.
        settings = Settings(
            env="production",
            mfa="optional",
            home=_home(root, "test"),
            secret_key=secret_key,
            database_url=database_url,
            storage_url=s3.url_for(bucket),
            jobs="celery",
            broker_url=redis_url,
            jobs_queue=queue,
            agency_name="Cluster Test Police Department",
        )
        ctx = Context.from_settings(settings)
        cleanup.callback(ctx.close)
        configure(ctx.sessions, settings)
        _wait_ready(procs, apis)
        started = Cluster(root, env, apis, procs, ctx, queue)
        yield started
        if any(p.popen.poll() is not None for p in procs):
            print(started.tails())


# --- the scenario ------------------------------------------------------------------------


@dataclass(frozen=True)
class Clip:
    """A clip on disk, its SHA-256, and who uploads it."""

    path: Path
    sha256: str
    client: int


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Clip]:
    """Eight small real clips (320x180); the first has two walking faces."""
    folder = tmp_path_factory.mktemp("cluster-clips")
    paths = [
        FaceClip(
            width=320,
            height=180,
            fps=10,
            seconds=1.5,
            walkers=[
                Walker(start=(0.1, 0.2), velocity=(0.02, 0.01), height=0.4),
                Walker(start=(0.8, 0.6), velocity=(-0.015, 0.02), height=0.3, mirror=True),
            ],
        ).write(folder / "faces.mp4")
    ]
    for n in range(1, CLIENTS * PER_CLIENT):
        paths.append(
            make_clip(
                folder / f"clip{n}.mp4",
                seconds=1.0,
                width=320,
                height=180,
                fps=10,
                seed=100 + n,
                creation_time=EPOCH + timedelta(minutes=n),
            )
        )
    return [
        Clip(p, hashlib.sha256(p.read_bytes()).hexdigest(), n // PER_CLIENT)
        for n, p in enumerate(paths)
    ]


def _people(c: Cluster) -> dict[str, str]:
    """Users made through the service layer as the administrator; API tokens by name."""
    with transaction(c.ctx.sessions) as s:
        chief = get_user(s, "chief")
        assert chief is not None and chief.role == "administrator"
        admin = actor_for(chief, "cli")
        c.users["clerk"] = create_user(s, admin, "clerk", "records_clerk")
        c.users["auditor"] = create_user(s, admin, "auditor", "auditor")
        for n in range(CLIENTS):
            c.users[f"o{n}"] = create_user(
                s, admin, f"o{n}", "officer", badge=f"{4100 + n}", squad="North-A"
            )
    tokens = {}
    for name in ["clerk", *(f"o{n}" for n in range(CLIENTS))]:
        with transaction(c.ctx.sessions) as s:
            tokens[name] = issue_token(s, actor_for(c.users[name], "cli"), "cluster", days=1).secret
    return tokens


def _upload_plain(api: str, token: str, clip: Clip, badge: str) -> tuple[str, str]:
    r = httpx.post(
        f"{api}/api/v1/recordings",
        params={"officer": badge, "filename": clip.path.name},
        headers={"Authorization": f"Bearer {token}", "X-Content-SHA256": clip.sha256},
        content=clip.path.read_bytes(),
        timeout=60,
    )
    assert r.status_code == 201, (api, r.status_code, r.text)
    body = r.json()
    assert body["duplicate"] is False
    return body["id"], body["sha256"]


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def _upload_tus(api: str, token: str, clip: Clip, badge: str) -> tuple[str, str]:
    data = clip.path.read_bytes()
    auth = {"Authorization": f"Bearer {token}", "Tus-Resumable": "1.0.0"}
    meta = f"filename {_b64(clip.path.name)},officer {_b64(badge)},sha256 {_b64(clip.sha256)}"
    with httpx.Client(timeout=60) as http:
        r = http.post(
            f"{api}/api/v1/uploads",
            headers=auth | {"Upload-Length": str(len(data)), "Upload-Metadata": meta},
        )
        assert r.status_code == 201, (api, r.status_code, r.text)
        location = r.headers["Location"]
        half = len(data) // 2
        offset = 0
        for chunk in (data[:half], data[half:]):  # two PATCHes, as a resumed upload sends
            r = http.patch(
                location,
                headers=auth
                | {
                    "Content-Type": "application/offset+octet-stream",
                    "Upload-Offset": str(offset),
                },
                content=chunk,
            )
            assert r.status_code == 204, (api, r.status_code, r.text)
            offset += len(chunk)
            assert r.headers["Upload-Offset"] == str(offset)
    assert r.headers["Bodycam-Duplicate"] == "false"
    return r.headers["Bodycam-Recording-Id"], r.headers["Bodycam-Sha256"]


def _ingest(c: Cluster, clips: list[Clip], tokens: dict[str, str]) -> dict[str, Clip]:
    """Every client uploads its clips at once: plain to one server, tus to the other."""

    def client(n: int) -> list[tuple[str, str, Clip]]:
        mine = [clip for clip in clips if clip.client == n]
        token, badge = tokens[f"o{n}"], f"{4100 + n}"
        done = []
        for k, clip in enumerate(mine):
            api = c.apis[(n + k) % 2]
            upload = _upload_plain if k % 2 == 0 else _upload_tus
            rid, sha = upload(api, token, clip, badge)
            done.append((rid, sha, clip))
        return done

    with ThreadPoolExecutor(CLIENTS) as pool:
        results = [row for rows in pool.map(client, range(CLIENTS)) for row in rows]
    for _, sha, clip in results:
        assert sha == clip.sha256  # the acknowledgement names the bytes sent
    return {rid: clip for rid, _, clip in results}


def _api(c: Cluster, n: int, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=c.apis[n], headers={"Authorization": f"Bearer {token}"}, timeout=60
    )


def _wait_api_job(
    http: httpx.Client, job_id: str, timeout: float = JOB_TIMEOUT_S
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        job = http.get(f"/api/v1/redaction/jobs/{job_id}")
        assert job.status_code == 200, job.text
        body: dict[str, Any] = job.json()
        assert body["status"] != "quarantined", body
        if body["status"] == "done":
            return body
        assert time.monotonic() < deadline, f"job {job_id} not done: {body}"
        time.sleep(0.3)


def test_cluster_end_to_end(cluster: Cluster, clips: list[Clip]) -> None:
    c = cluster
    started = time.monotonic()
    tokens = _people(c)

    # 1. Four officers upload at once, through both API servers, plain and resumable.
    uploaded = _ingest(c, clips, tokens)
    assert len(uploaded) == CLIENTS * PER_CLIENT
    with c.ctx.sessions() as s:
        rows = {r.id: r for r in s.scalars(select(Recording))}
        officers = {u.id: u.username for u in s.scalars(select(User))}
    assert set(rows) == set(uploaded)
    for rid, clip in uploaded.items():
        row = rows[rid]
        assert row.sha256 == clip.sha256 and row.size_bytes == clip.path.stat().st_size
        assert officers[row.officer_id] == f"o{clip.client}"
        assert (row.width, row.height) == (320, 180)
        assert c.ctx.store.rehash(row.sha256) == clip.sha256  # the bytes, read back from S3

    # 2. Each recording's probe and poster ran on a worker, never in an API server.
    with c.ctx.sessions() as s:
        ingest_jobs = [
            j.id
            for j in s.scalars(
                select(Job).where(Job.kind.in_(["evidence.probe", "evidence.thumbnail"]))
            )
        ]
    kinds = {(c.job(j).kind, c.job(j).params["recording_id"]) for j in ingest_jobs}
    assert kinds == {(k, rid) for rid in uploaded for k in ("evidence.probe", "evidence.thumbnail")}
    for job in c.wait_jobs(ingest_jobs):
        assert job.attempts == 1 and len(c.ran_by(job)) == 1, (job.kind, job.id, c.ran_by(job))
    for rid, clip in uploaded.items():
        poster = get_poster(c.ctx.store, clip.sha256)
        assert poster is not None, f"no poster for {rid}"
        image = Image.open(BytesIO(poster))
        assert image.format == "JPEG" and image.size == (320, 180)
        assert max(image.convert("L").getextrema()) > 0  # a decoded frame, not a blank

    # 3. Face detection, started through API server 1, runs on a worker; read through server 2.
    face_rid = next(rid for rid, clip in uploaded.items() if clip.path.name == "faces.mp4")
    with _api(c, 0, tokens["clerk"]) as one, _api(c, 1, tokens["clerk"]) as two:
        r = one.post("/api/v1/redaction/projects", json={"recording_id": face_rid})
        assert r.status_code == 201, r.text
        project = r.json()
        assert project["status"] == "detecting"
        detect = _wait_api_job(two, project["detection_job"]["id"])
        assert detect["kind"] == "redaction.detect" and detect["done"] == detect["total"] > 0
        assert len(c.ran_by(c.job(detect["id"]))) == 1
        view = two.get(f"/api/v1/redaction/projects/{project['id']}")
        assert view.status_code == 200, view.text
        assert view.json()["status"] == "review" and len(view.json()["tracks"]) >= 1

        # 4. A render of the plan (every track redacted), queued through server 2.
        r = two.post(f"/api/v1/redaction/projects/{project['id']}/render")
        assert r.status_code == 202, r.text
        render = _wait_api_job(one, r.json()["job"]["id"])
        copy_id = render["result"]["copy_id"]
        assert len(c.ran_by(c.job(render["id"]))) == 1

    # 5. The clerk approves the copy and builds a release, on a worker, as the release
    #    builder page does.
    vault = Vault.from_context(c.ctx)
    clerk = actor_for(c.users["clerk"], "cli")
    for finding in projects.copy_view(vault, clerk, copy_id).open_findings:
        projects.accept_finding(vault, clerk, copy_id, finding.number, "checked by hand")
    projects.approve(vault, clerk, copy_id, "for release")
    number = requests.create_request(
        c.ctx.sessions, clerk, requester_name="Pat", requester_type="media", description="stop"
    ).number
    footage.attach(vault, clerk, number, [face_rid])
    for step in ("acknowledged", "searching", "redacting", "review"):
        workflow.change_status(c.ctx.sessions, clerk, number, step)
    build = release_builder.queue_release(c.ctx, clerk, number, [copy_id])
    (built,) = c.wait_jobs([build.job.id])
    assert built.result["release_id"] == build.release_id and built.result["files"] == 1
    assert len(c.ran_by(built)) == 1

    # 6. The package, exported by the CLI, verifies offline against the agency's key as
    #    an API server publishes it.
    key = httpx.get(f"{c.apis[1]}/api/v1/audit/public-key", timeout=10)
    assert key.status_code == 200 and "BEGIN PUBLIC KEY" in key.text
    key_file = c.root / "agency-key.pem"
    key_file.write_text(key.text)
    package = c.root / "release"
    c.cli("release", "export", build.release_id, "--out", str(package))
    verified = c.cli("release", "verify", str(package), "--key", str(key_file))
    assert verified.stdout.startswith(f"OK: release of request {number}"), verified.stdout
    script = subprocess.run(
        [sys.executable, str(package / "verify_release.py"), str(package), "--key", str(key_file)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert script.returncode == 0, (script.stdout, script.stderr)
    # Signed under the C2PA chain that init made and every host holds a copy of.
    anchor = (c.root / "init" / "keys" / "c2pa" / "trust-anchor.pem").read_bytes()
    assert (package / "c2pa-trust-anchor.pem").read_bytes() == anchor

    # 7. Both workers took part; nothing was quarantined; the whole deployment verifies.
    with c.ctx.sessions() as s:
        done = list(s.scalars(select(Job).where(Job.status == JobStatus.DONE)))
        stuck = list(s.scalars(select(Job).where(Job.status == JobStatus.QUARANTINED)))
    assert not stuck, [(j.kind, j.error) for j in stuck]
    by_worker = {w.name: sum(1 for j in done if w.name in c.ran_by(j)) for w in c.workers}
    assert all(n >= 1 for n in by_worker.values()), by_worker
    for api in ("api1", "api2"):
        log = next(p for p in c.procs if p.name == api).text()
        assert "): done after" not in log, f"{api} ran a job itself:\n{log[-2000:]}"
    report = c.cli("verify", user="auditor")
    assert report.returncode == 0, (report.stdout, report.stderr)
    c.check_alive()
    print(
        f"\ncluster scenario: {len(uploaded)} uploads, {len(done)} jobs done "
        f"({by_worker}), {time.monotonic() - started:.1f} s"
    )
