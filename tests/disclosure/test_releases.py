"""Release packages: built from real redacted copies of a real clip with faces, signed,
C2PA-embedded, verified offline (in the package and by the standalone script), tampered
with, refused, and served on the public page. Both engines."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import select

from bodycam.audit.models import AuditRecord
from bodycam.auth.actor import PermissionDenied
from bodycam.disclosure import footage, releases, requests, verify_release, workflow
from bodycam.disclosure.errors import DisclosureError
from bodycam.evidence.service import ingest_file
from bodycam.redaction import projects
from bodycam.redaction.faceclip import FaceClip, Walker
from bodycam.web.app import create_app

VERIFIER = Path(verify_release.__file__)


@pytest.fixture(scope="session")
def face_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two moving faces, 2 s at 320x180 (H.264 + AAC)."""
    clip = FaceClip(
        width=320,
        height=180,
        fps=15,
        seconds=2.0,
        walkers=[
            Walker(start=(0.1, 0.2), velocity=(0.02, 0.01), height=0.4),
            Walker(start=(0.8, 0.6), velocity=(-0.015, 0.02), height=0.3, mirror=True),
        ],
    )
    return clip.write(tmp_path_factory.mktemp("release-faces") / "faces.mp4")


def approved_copy(
    vault, dept, path: Path, *, approve: bool = True, badge: str = "1001"
) -> tuple[str, str]:
    """Ingest ``path``, detect, render everything redacted, approve: (recording, copy)."""
    clerk = dept.actor("clerk")
    rec = ingest_file(vault, clerk, path, officer_badge=badge).id
    project = projects.detect(vault, clerk, rec)
    view = projects.render(vault, clerk, project.project.id)
    for f in view.open_findings:
        projects.accept_finding(vault, clerk, view.copy.id, f.number, "checked by hand")
    if approve:
        projects.approve(vault, clerk, view.copy.id, "for release")
    return rec, view.copy.id


def request_in_review(ctx, vault, dept, recordings: list[str]) -> str:
    clerk = dept.actor("clerk")
    number = requests.create_request(
        ctx.sessions, clerk, requester_name="Pat", requester_type="media", description="stop"
    ).number
    footage.attach(vault, clerk, number, recordings)
    for step in ("acknowledged", "searching", "redacting", "review"):
        workflow.change_status(ctx.sessions, clerk, number, step)
    return number


@pytest.fixture
def released(ctx, vault, dept, face_file):
    """A request in review with one approved copy, and its release built."""
    rec, copy = approved_copy(vault, dept, face_file)
    number = request_in_review(ctx, vault, dept, [rec])
    release = releases.build_release(ctx, dept.actor("clerk"), number)
    return rec, copy, number, release


def _pkg(ctx, release, tmp_path: Path, name: str = "pkg") -> Path:
    return releases.write_package(ctx.store, release, tmp_path / name)


def _check(folder: Path, key=None) -> verify_release.Report:
    report = verify_release.check_package(folder, trusted_key=key)
    if report.manifest is not None:
        releases.check_c2pa(folder, report)
    return report


def _flip(path: Path, offset: int) -> None:
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))


def test_build_sign_verify_and_the_audit_trail(ctx, vault, dept, released, tmp_path):
    rec, copy_id, number, release = released
    manifest = json.loads(release.manifest)
    (video,) = [f for f in manifest["files"] if f["kind"] == "footage"]
    copy = projects.copy_view(vault, dept.actor("clerk"), copy_id).copy
    assert manifest["format"] == "bodycam-release/1" and manifest["request"] == number
    assert manifest["agency"] == ctx.settings.agency_name and manifest["bodycam_version"]
    assert manifest["release_date"] and manifest["withheld_recordings"] == 0
    assert video["source_sha256"] == copy.source_sha256
    assert video["redaction_plan_sha256"] == copy.plan_hash
    assert video["redacted_copy_sha256"] == copy.sha256 != video["sha256"]  # C2PA embedded
    assert video["redaction"]["tracks_redacted"] >= 1 and video["redaction"]["reasons"]
    assert {f["name"] for f in manifest["files"]} >= {
        "verify_release.py",
        "c2pa-trust-anchor.pem",
        "README.txt",
    }
    # The signature is over the context prefix and the exact manifest bytes.
    ctx.signer.public_key.verify(
        base64.b64decode(release.signature), releases.RELEASE_CONTEXT + release.manifest.encode()
    )
    folder = _pkg(ctx, release, tmp_path)
    assert (folder / "manifest.json").read_text() == release.manifest
    report = _check(folder, ctx.signer.public_key)
    assert report.ok, report.problems
    assert report.files == len(manifest["files"])
    assert verify_release.summary(report).startswith(f"OK: release of request {number}")
    # Stored, listed, audited on the request and on the recording; the original untouched.
    assert [r.id for r, _ in releases.list_releases(ctx.sessions)] == [release.id]
    with ctx.sessions() as s:
        actions = {
            (r.action, r.object_id)
            for r in s.scalars(
                select(AuditRecord).where(AuditRecord.action.like("disclosure:%release%"))
            )
        }
    assert actions == {
        ("disclosure:release:build", number),
        ("disclosure:recording:release", rec),
    }
    assert ctx.store.rehash(copy.source_sha256) == copy.source_sha256
    # Exported again later: the same package, byte for byte.
    again = releases.write_package(ctx.store, release, tmp_path / "again")
    for f in manifest["files"]:
        assert (again / f["name"]).read_bytes() == (folder / f["name"]).read_bytes()


def test_c2pa_manifest_reads_back_and_breaks_on_a_byte_change(ctx, released, tmp_path):
    import c2pa

    _, _, number, release = released
    folder = _pkg(ctx, release, tmp_path)
    manifest = json.loads(release.manifest)
    (video,) = [f for f in manifest["files"] if f["kind"] == "footage"]
    anchor = (folder / "c2pa-trust-anchor.pem").read_bytes()
    path = folder / video["name"]
    state, active = releases.read_c2pa(path, anchor)
    assert state == "Trusted"
    (ingredient,) = active["ingredients"]
    assert ingredient["relationship"] == "parentOf"
    assert ingredient["instance_id"] == f"sha256:{video['source_sha256']}"
    by_label = {a["label"]: a["data"] for a in active["assertions"]}
    actions = [a["action"] for a in by_label["c2pa.actions.v2"]["actions"]]
    assert actions[:2] == ["c2pa.opened", "c2pa.edited"]
    ours = by_label["org.bodycam.redaction"]
    assert ours["plan_sha256"] == video["redaction_plan_sha256"]
    assert ours["source_sha256"] == video["source_sha256"] and ours["request"] == number
    assert ours["summary"] == video["redaction"]
    assert active["signature_info"]["issuer"] == ctx.settings.agency_name
    # Without the anchor the chain is valid but not trusted.
    with path.open("rb") as f, c2pa.Reader("video/mp4", f) as reader:
        assert reader.get_validation_state() == "Valid"
    # One flipped byte in the middle of the video: the C2PA hash no longer matches.
    _flip(path, path.stat().st_size // 2)
    state, _ = releases.read_c2pa(path, anchor)
    assert state == "Invalid"


def test_tampering_fails_naming_what_changed(ctx, released, tmp_path):
    _, _, _, release = released
    manifest = json.loads(release.manifest)
    (video,) = [f for f in manifest["files"] if f["kind"] == "footage"]
    key = ctx.signer.public_key

    def fresh(name: str) -> Path:
        return _pkg(ctx, release, tmp_path, name)

    # A changed byte in the video: named, with the byte range; its C2PA no longer validates.
    folder = fresh("byte")
    offset = video["size"] // 2
    _flip(folder / video["name"], offset)
    report = _check(folder, key)
    assert not report.ok
    text = "\n".join(report.problems)
    assert f"{video['name']}: its SHA-256 is" in text and "the file was changed" in text
    chunk = offset // releases.CHUNK_SIZE * releases.CHUNK_SIZE
    assert f"changed bytes lie in {chunk}-" in text
    assert "C2PA manifest does not validate" in text
    # An edited manifest: the signature fails.
    folder = fresh("manifest")
    edited = json.loads((folder / "manifest.json").read_text())
    edited["agency"] = "Someone Else"
    (folder / "manifest.json").write_text(json.dumps(edited, separators=(",", ":")))
    report = _check(folder, key)
    assert any("manifest.sig does not verify" in p for p in report.problems)
    # The right package checked against a key the verifier does not trust.
    folder = fresh("key")
    other = Ed25519PrivateKey.generate().public_key()
    report = _check(folder, other)
    assert any("not the key you trust" in p for p in report.problems)
    # A package re-signed with another key fails against the trusted key too.
    forger = Ed25519PrivateKey.generate()
    from bodycam.audit.signing import public_key_pem

    (folder / "public-key.pem").write_text(public_key_pem(forger))
    sig = forger.sign(releases.RELEASE_CONTEXT + (folder / "manifest.json").read_bytes())
    (folder / "manifest.sig").write_text(base64.b64encode(sig).decode())
    assert _check(folder).ok  # alone, a forgery is self-consistent (hence --key) ...
    assert not _check(folder, key).ok  # ... and fails against the agency's key
    # A removed file and an added one.
    folder = fresh("files")
    (folder / "README.txt").unlink()
    (folder / "files" / "extra.mp4").write_bytes(b"not released")
    problems = "\n".join(_check(folder, key).problems)
    assert "README.txt: missing from the package" in problems
    assert "files/extra.mp4: not part of the signed package" in problems


def _only_cryptography(tmp_path: Path) -> Path:
    """A folder holding only cryptography and what it imports (cffi)."""
    import _cffi_backend
    import cffi
    import cryptography

    folder = tmp_path / "site"
    folder.mkdir()
    for mod in (cryptography, cffi):
        src = Path(mod.__file__).parent
        (folder / src.name).symlink_to(src)
    backend = Path(_cffi_backend.__file__)
    (folder / backend.name).symlink_to(backend)
    return folder


def run_standalone(script: Path, folder: Path, site: Path, *args: str):
    """Run a verifier script with ``python -I -S``: no site-packages at all, only ``site``
    on sys.path; any bodycam import is blocked and checked for afterwards."""
    code = (
        "import sys, runpy\n"
        f"sys.path.insert(0, {str(site)!r})\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] == 'bodycam':\n"
        "            raise ImportError('bodycam is off limits')\n"
        "sys.meta_path.insert(0, Block())\n"
        f"sys.argv = [{script.name!r}, {str(folder)!r}, *{list(args)!r}]\n"
        "try:\n"
        f"    runpy.run_path({str(script)!r}, run_name='__main__')\n"
        "finally:\n"
        "    assert not [m for m in sys.modules if m.startswith('bodycam')]\n"
    )
    return subprocess.run(
        [sys.executable, "-I", "-S", "-c", code],
        cwd=folder.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_standalone_verifier_needs_only_cryptography(ctx, released, tmp_path):
    _, _, number, release = released
    folder = _pkg(ctx, release, tmp_path)
    script = folder / "verify_release.py"
    assert script.read_bytes() == VERIFIER.read_bytes()
    key = tmp_path / "agency.pem"
    key.write_text(release.public_key)
    site = _only_cryptography(tmp_path)
    ok = run_standalone(script, folder, site, "--key", str(key))
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.startswith(f"OK: release of request {number}")
    video = next(f for f in json.loads(release.manifest)["files"] if f["kind"] == "footage")
    _flip(folder / video["name"], 100)
    bad = run_standalone(script, folder, site, "--key", str(key))
    assert bad.returncode == 1
    assert f"PROBLEM: {video['name']}: its SHA-256 is" in bad.stderr
    assert "changed bytes lie in 0-" in bad.stderr
    assert "FAILED" in bad.stderr and "Traceback" not in bad.stderr


def test_refusals(ctx, vault, dept, face_file, clips, tmp_path):
    clerk = dept.actor("clerk")
    rec, copy = approved_copy(vault, dept, face_file, approve=False)
    number = request_in_review(ctx, vault, dept, [rec])
    with pytest.raises(DisclosureError, match="has an approved redacted copy"):
        releases.build_release(ctx, clerk, number)
    with pytest.raises(DisclosureError, match=f"copy {copy} is clean, not approved"):
        releases.build_release(ctx, clerk, number, copy_ids=[copy])
    projects.approve(vault, clerk, copy)
    # A copy of a recording not attached to the request.
    other = requests.create_request(
        ctx.sessions, clerk, requester_name="Q", requester_type="public", description="x"
    ).number
    unrelated = ingest_file(vault, clerk, clips(31), officer_badge="1002").id
    footage.attach(vault, clerk, other, [unrelated])
    for step in ("acknowledged", "searching", "redacting", "review"):
        workflow.change_status(ctx.sessions, clerk, other, step)
    with pytest.raises(DisclosureError, match=f"recording {rec}, which is not attached"):
        releases.build_release(ctx, clerk, other, copy_ids=[copy])
    with pytest.raises(DisclosureError, match="There is no redacted copy NOPE"):
        releases.build_release(ctx, clerk, number, copy_ids=["NOPE"])
    # Not in review yet.
    early = requests.create_request(
        ctx.sessions, clerk, requester_name="R", requester_type="public", description="x"
    ).number
    with pytest.raises(DisclosureError, match="is received; a release is built once"):
        releases.build_release(ctx, clerk, early)
    # Only records clerks build releases; the refusal is audited.
    for who in ("auditor", "o1", "admin"):
        with pytest.raises(PermissionDenied, match="disclosure:release:build"):
            releases.build_release(ctx, dept.actor(who), number)
    with ctx.sessions() as s:
        denied = s.scalars(
            select(AuditRecord).where(AuditRecord.action == "access:request:denied")
        ).all()
    assert {r.actor for r in denied} >= {"auditor", "o1", "admin"}
    assert releases.list_releases(ctx.sessions) == []
    # Built now, then the request is released by the workflow.
    built = releases.build_release(ctx, clerk, number)
    workflow.change_status(ctx.sessions, clerk, number, "released_full")
    assert releases.get_release(ctx.sessions, built.id).manifest_sha256 == built.manifest_sha256


def test_public_pages_need_no_sign_in(ctx, released):
    _, _, number, release = released
    client = TestClient(create_app(ctx.settings, ctx), follow_redirects=False)
    listing = client.get("/releases")
    assert listing.status_code == 200
    assert number in listing.text and release.manifest_sha256 in listing.text
    page = client.get(f"/releases/{release.id}")
    assert page.status_code == 200 and "verify_release.py" in page.text
    manifest = json.loads(release.manifest)
    video = next(f for f in manifest["files"] if f["kind"] == "footage")
    assert video["source_sha256"] in page.text
    got = client.get(f"/releases/{release.id}/manifest.json")
    assert got.content == release.manifest.encode()
    assert client.get(f"/releases/{release.id}/manifest.sig").text.strip() == release.signature
    assert client.get(f"/releases/{release.id}/public-key.pem").text == release.public_key
    before = _count(ctx, "disclosure:release:download")
    data = client.get(f"/releases/{release.id}/{video['name']}")
    assert data.status_code == 200 and data.headers["content-type"] == "video/mp4"
    assert releases.hashlib.sha256(data.content).hexdigest() == video["sha256"]
    assert _count(ctx, "disclosure:release:download") == before + 1
    script = client.get(f"/releases/{release.id}/verify_release.py")
    assert script.content == VERIFIER.read_bytes()
    assert client.get(f"/releases/{release.id}/files/nope.mp4").status_code == 404
    assert client.get("/releases/NOPE").status_code == 404
    client.close()


def _count(ctx, action: str) -> int:
    with ctx.sessions() as s:
        return len(s.scalars(select(AuditRecord.id).where(AuditRecord.action == action)).all())


class _Users:
    """The users the ``home`` fixture made, as actors."""

    def __init__(self, ctx) -> None:
        self.ctx = ctx

    def actor(self, name: str):
        from bodycam.auth.models import User
        from bodycam.auth.service import actor_for

        with self.ctx.sessions() as s:
            return actor_for(s.scalars(select(User).where(User.username == name)).one(), "cli")


def test_release_from_the_command_line(home, ctx, vault, face_file, tmp_path):
    users = _Users(ctx)
    rec, _ = approved_copy(vault, users, face_file, badge="501")
    number = request_in_review(ctx, vault, users, [rec])
    out = tmp_path / "package"
    p = home("release", "build", number, "--out", str(out), "--zip", "--json", user="clerk")
    built = json.loads(p.stdout)
    assert built["request"] == number and (tmp_path / "package.zip").is_file()
    listed = json.loads(home("release", "list", "--json").stdout)
    assert [r["id"] for r in listed] == [built["id"]]
    key = tmp_path / "agency.pem"
    key.write_text(home("audit", "public-key").stdout)
    ok = home("release", "verify", str(out), "--key", str(key))
    assert ok.stdout.startswith(f"OK: release of request {number}")
    assert "C2PA manifest(s) checked" in ok.stderr
    again = tmp_path / "again"
    home("release", "export", built["id"], "--out", str(again))
    shutil.copy(again / "README.txt", again / "files" / "README-copy.txt")
    bad = home("release", "verify", str(again), "--key", str(key), check=1)
    assert "files/README-copy.txt: not part of the signed package" in bad.stderr
    refused = home("release", "build", number, user="aud", check=3)
    assert "disclosure:release:build" in refused.stderr


def test_verify_rehashes_released_files(ctx, dept, released):
    from bodycam.verify import verify_all

    release = released[3]
    auditor = dept.actor("auditor")
    report = verify_all(ctx, auditor)
    assert report.ok, report.problems
    assert report.released == len(release.files) > 0
    assert not any("belong to no recording" in n for n in report.notes)
    video = next(f for f in release.files if f["name"].endswith(".mp4"))
    path = next(p for p in ctx.store.root.rglob(video["sha256"]) if p.is_file())
    path.chmod(0o644)
    _flip(path, 100)
    problems = verify_all(ctx, auditor).problems
    assert any(f"Release {release.id}" in p and video["name"] in p for p in problems), problems
